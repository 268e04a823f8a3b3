/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_NETNS_H
#define _PORTREDIR_NETNS_H

#include <linux/mutex.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

struct portredir_ruleset;

/**
 * struct portredir_txn - a replace transaction
 * @portid: the netlink socket that owns it
 * @rs: the table it builds, private to it; NULL when there is none
 */
struct portredir_txn {
	u32 portid;
	struct portredir_ruleset *rs;
};

/**
 * struct portredir_net - per network namespace state
 * @ruleset: the rule table; NULL until the first rule, read under RCU
 * @lock: serialises every writer of @ruleset and the hooks
 * @txn_lock: serialises the commands of @txn; taken before @lock
 * @txn: the namespace's replace transaction, at most one
 * @hooks_registered: NAT functions and conntrack are held for this netns
 * @steer_registered: the steering functions are hooked in this netns
 * @generation: bumped before every change, for dump consistency checks
 */
struct portredir_net {
	struct portredir_ruleset __rcu *ruleset;
	struct mutex lock; /* serialises writers */
	struct mutex txn_lock; /* serialises transaction commands */
	struct portredir_txn txn;
	bool hooks_registered;
	bool steer_registered;
	unsigned int generation;
};

extern unsigned int portredir_net_id;

static inline struct portredir_net *portredir_pernet(const struct net *net)
{
	return net_generic(net, portredir_net_id);
}

/* Dumps read the generation without the lock. */
static inline void portredir_bump_generation(struct portredir_net *pn)
{
	WRITE_ONCE(pn->generation, pn->generation + 1);
}

#endif /* _PORTREDIR_NETNS_H */
