/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_NETLINK_H
#define _PORTREDIR_NETLINK_H

#include <linux/types.h>

struct net;
struct portredir_rule;

int portredir_netlink_init(void);
void portredir_netlink_uninit(void);
void portredir_netlink_notify(struct net *net, u8 cmd,
			      const struct portredir_rule *rule);

#endif /* _PORTREDIR_NETLINK_H */
