/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_RULES_H
#define _PORTREDIR_RULES_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/netlink.h>
#include <linux/rhashtable.h>
#include <linux/types.h>

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

struct portredir_rule;

/* One per port a rule covers, so that a lookup is one hash probe. */
struct portredir_port_entry {
	struct rhlist_head node;
	u32 key;
	struct portredir_rule *rule;
};

/**
 * struct portredir_rule - a redirect rule
 * @list: in portredir_ruleset.rules, writers only
 * @rcu: frees the rule after readers are gone
 * @sel: what the rule matches
 * @to_min: target port, or first port of a target range
 * @to_max: last target port; equal to @to_min for a single port
 * @mode: enum portredir_mode
 * @connections: connections redirected so far
 * @entries: one per port from @sel.port_min to @sel.port_max
 */
struct portredir_rule {
	struct list_head list;
	struct rcu_head rcu;
	struct portredir_selector sel;
	u16 to_min;
	u16 to_max;
	u8 mode;
	atomic64_t connections;
	struct portredir_port_entry entries[];
};

/**
 * struct portredir_ruleset - the rule table of one namespace
 * @table: port entries keyed by protocol and port, read under RCU
 * @rules: every rule, in insertion order
 * @count: number of rules in @rules
 * @modes: bit (1 << mode) set for each enum portredir_mode of a rule added
 */
struct portredir_ruleset {
	struct rhltable table;
	struct list_head rules;
	unsigned int count;
	unsigned int modes;
};

struct portredir_ruleset *portredir_ruleset_create(void);
void portredir_ruleset_destroy(struct portredir_ruleset *rs);

struct portredir_rule *portredir_rule_insert(struct portredir_ruleset *rs,
					     const struct portredir_selector *sel,
					     u16 to_min, u16 to_max, u8 mode,
					     struct netlink_ext_ack *extack);
struct portredir_rule *portredir_rule_find(struct portredir_ruleset *rs,
					   const struct portredir_selector *sel);
void portredir_rule_remove(struct portredir_ruleset *rs,
			   struct portredir_rule *rule);

struct portredir_rule *portredir_rule_lookup(struct portredir_ruleset *rs,
					     u8 proto, u16 port, u8 family,
					     u8 direction, int ifindex);
u16 portredir_rule_target(const struct portredir_rule *rule, u16 port);

#endif /* _PORTREDIR_RULES_H */
