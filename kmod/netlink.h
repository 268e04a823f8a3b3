/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_NETLINK_H
#define _PORTREDIR_NETLINK_H

#include <linux/types.h>

struct genl_info;
struct net;
struct netlink_ext_ack;
struct portredir_rule;
struct portredir_ruleset;

int portredir_netlink_init(void);
void portredir_netlink_uninit(void);
void portredir_netlink_notify(struct net *net, u8 cmd,
			      const struct portredir_rule *rule);

unsigned long *portredir_ct_ports_for(const struct genl_info *info);
int portredir_build_ruleset(struct net *net, const struct genl_info *info,
			    struct portredir_ruleset *rs,
			    struct netlink_ext_ack *extack);

#endif /* _PORTREDIR_NETLINK_H */
