/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_HOOK_H
#define _PORTREDIR_HOOK_H

struct net;

int portredir_hooks_register(struct net *net);
void portredir_hooks_unregister(struct net *net);

#endif /* _PORTREDIR_HOOK_H */
