/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_NETNS_H
#define _PORTREDIR_NETNS_H

#include <linux/mutex.h>
#include <net/net_namespace.h>

struct portredir_ruleset;

/**
 * struct portredir_net - per network namespace state
 * @ruleset: the rule table; NULL until the first rule, read under RCU
 * @lock: serialises every writer of @ruleset and the hooks
 * @hooks_registered: NAT functions and conntrack are held for this netns
 * @steer_registered: the steering functions are hooked in this netns
 * @generation: bumped on every change, for dump consistency checks
 */
struct portredir_net {
	struct portredir_ruleset __rcu *ruleset;
	struct mutex lock; /* serialises writers */
	bool hooks_registered;
	bool steer_registered;
	unsigned int generation;
};

struct portredir_net *portredir_pernet(const struct net *net);

#endif /* _PORTREDIR_NETNS_H */
