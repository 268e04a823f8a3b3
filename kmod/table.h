/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_TABLE_H
#define _PORTREDIR_TABLE_H

#include <linux/types.h>

struct net;
struct netlink_ext_ack;
struct portredir_rule;
struct portredir_ruleset;
struct portredir_selector;

/*
 * The write side of a namespace's rule table. Each change takes the
 * namespace's lock, bumps its generation, tells the monitor group and then
 * deletes the UDP conntrack entries of @ports (NULL keeps them); @ports is
 * consumed in every case.
 */
int portredir_table_add(struct net *net, struct portredir_rule *rule,
			unsigned long *ports, struct netlink_ext_ack *extack);
int portredir_table_del(struct net *net, const struct portredir_selector *sel,
			unsigned long *ports, struct netlink_ext_ack *extack);
int portredir_table_replace(struct net *net, struct portredir_ruleset *rs,
			    unsigned long *ports, struct netlink_ext_ack *extack);

bool portredir_dev_exists(struct net *net, int ifindex);

int portredir_table_init(void);
void portredir_table_quiesce(void);
void portredir_table_uninit(void);

#endif /* _PORTREDIR_TABLE_H */
