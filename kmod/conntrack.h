/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_CONNTRACK_H
#define _PORTREDIR_CONNTRACK_H

#include <linux/types.h>

#include "rules.h"

struct net;

unsigned long *portredir_ct_ports_alloc(void);
void portredir_ct_ports_mark(unsigned long *ports,
			     const struct portredir_selector *sel);
void portredir_ct_ports_mark_all(unsigned long *ports,
				 const struct portredir_ruleset *rs);
void portredir_ct_flush_ports(struct net *net, const unsigned long *ports);
void portredir_ct_ports_free(unsigned long *ports);

#endif /* _PORTREDIR_CONNTRACK_H */
