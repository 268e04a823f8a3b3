/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_STEER_H
#define _PORTREDIR_STEER_H

#include <linux/types.h>

struct net;

bool portredir_steer_supported(void);
int portredir_steer_register(struct net *net);
void portredir_steer_unregister(struct net *net);

#endif /* _PORTREDIR_STEER_H */
