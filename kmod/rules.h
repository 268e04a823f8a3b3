/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_RULES_H
#define _PORTREDIR_RULES_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/gfp.h>
#include <linux/hashtable.h>
#include <linux/netlink.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

/* TCP, UDP and SCTP, in the order of their protocol numbers. */
#define PORTREDIR_PROTOS	3
#define PORTREDIR_PAGE_SHIFT	8
#define PORTREDIR_PAGE_SLOTS	BIT(PORTREDIR_PAGE_SHIFT)
#define PORTREDIR_PAGES		(65536 / PORTREDIR_PAGE_SLOTS)

/*
 * What a change allocates is charged to the caller's memory cgroup; at the
 * cgroup's limit the change fails with ENOMEM instead of waking the OOM
 * killer on the caller.
 */
#define PORTREDIR_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/**
 * struct portredir_selector - what a rule matches
 * @proto: IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP
 * @family: mask of enum portredir_family
 * @direction: mask of enum portredir_direction
 * @port_min: first destination port, host byte order
 * @port_max: last destination port, host byte order
 * @ifindex: input interface, 0 for any
 */
struct portredir_selector {
	u8 proto;
	u8 family;
	u8 direction;
	u16 port_min;
	u16 port_max;
	int ifindex;
};

/**
 * struct portredir_rule - a redirect rule
 * @dev_node: in portredir_ruleset.by_ifindex when bound to an interface;
 *	writers only, unused once the rule is unlinked
 * @rcu: frees the rule after readers are gone
 * @sel: what the rule matches
 * @to_min: target port, or first port of a target range
 * @to_max: last target port; equal to @to_min for a single port
 * @mode: enum portredir_mode
 * @connections: connections redirected so far
 *
 * The rule sits in the port index slot of every port it covers.
 */
struct portredir_rule {
	union {
		struct hlist_node dev_node;
		struct rcu_head rcu;
	};
	struct portredir_selector sel;
	u16 to_min;
	u16 to_max;
	u8 mode;
	atomic64_t connections;
};

/*
 * One page of the port index: a slot per port, holding NULL, a rule, or
 * (low bit set) a struct portredir_rule_vec of the rules sharing the port.
 */
struct portredir_port_page {
	void __rcu *slots[PORTREDIR_PAGE_SLOTS];
};

/**
 * struct portredir_ruleset - the rule table of one namespace
 * @pages: the port index per protocol, read under RCU; a page exists while
 *	one of its slots is in use
 * @page_used: slots in use in each page of @pages
 * @by_ifindex: rules bound to an interface, by interface index
 * @rules: number of rules
 * @ports: ports covered by the rules, the sum of their range lengths
 * @modes: bit (1 << mode) set for each enum portredir_mode of a rule added
 */
struct portredir_ruleset {
	struct portredir_port_page __rcu *pages[PORTREDIR_PROTOS][PORTREDIR_PAGES];
	u16 page_used[PORTREDIR_PROTOS][PORTREDIR_PAGES];
	DECLARE_HASHTABLE(by_ifindex, 5);
	unsigned int rules;
	unsigned int ports;
	unsigned int modes;
};

/**
 * struct portredir_position - where a walk of a rule set stands
 * @proto: index of the protocol, 0 to PORTREDIR_PROTOS
 * @port: port whose slot is being read
 * @index: next rule to look at in that slot
 *
 * Zeroed, it is the start of the set.
 */
struct portredir_position {
	unsigned int proto;
	unsigned int port;
	unsigned int index;
};

int portredir_rule_cache_init(void);
void portredir_rule_cache_uninit(void);

struct portredir_ruleset *portredir_ruleset_create(void);
void portredir_ruleset_destroy(struct portredir_ruleset *rs);
struct portredir_rule *portredir_ruleset_next(const struct portredir_ruleset *rs,
					      struct portredir_position *pos);

struct portredir_rule *portredir_rule_alloc(const struct portredir_selector *sel,
					    u16 to_min, u16 to_max, u8 mode);
void portredir_rule_free(struct portredir_rule *rule);
int portredir_rule_insert(struct portredir_ruleset *rs,
			  struct portredir_rule *rule,
			  struct netlink_ext_ack *extack);
struct portredir_rule *portredir_rule_find(const struct portredir_ruleset *rs,
					   const struct portredir_selector *sel);
void portredir_rule_remove(struct portredir_ruleset *rs,
			   struct portredir_rule *rule);

struct portredir_rule *portredir_rule_lookup(const struct portredir_ruleset *rs,
					     u8 proto, u16 port, u8 family,
					     u8 direction, int ifindex);
u16 portredir_rule_target(const struct portredir_rule *rule, u16 port);

#endif /* _PORTREDIR_RULES_H */
