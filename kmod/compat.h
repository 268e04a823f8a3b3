/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_COMPAT_H
#define _PORTREDIR_COMPAT_H

#include <net/genetlink.h>
#include <net/netlink.h>

/* The attributes of a dump request, validated by the op's policy. */
static inline struct nlattr **portredir_dump_attrs(struct netlink_callback *cb)
{
#ifdef PORTREDIR_GENL_INFO_DUMP
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/* Formatted extack messages arrived in 6.2; older kernels get @fallback. */
#ifdef NL_SET_ERR_MSG_FMT
#define PORTREDIR_ERR_FMT(extack, fallback, fmt, ...) \
	NL_SET_ERR_MSG_FMT(extack, fmt, ##__VA_ARGS__)
#else
#define PORTREDIR_ERR_FMT(extack, fallback, fmt, ...) \
	NL_SET_ERR_MSG(extack, fallback)
#endif

#endif /* _PORTREDIR_COMPAT_H */
