/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_COMPAT_H
#define _PORTREDIR_COMPAT_H

#include <net/netlink.h>

/* Formatted extack messages arrived in 6.2; older kernels get @fallback. */
#ifdef NL_SET_ERR_MSG_FMT
#define PORTREDIR_ERR_FMT(extack, fallback, fmt, ...) \
	NL_SET_ERR_MSG_FMT(extack, fmt, ##__VA_ARGS__)
#else
#define PORTREDIR_ERR_FMT(extack, fallback, fmt, ...) \
	NL_SET_ERR_MSG(extack, fallback)
#endif

#endif /* _PORTREDIR_COMPAT_H */
