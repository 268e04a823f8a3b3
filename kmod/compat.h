/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_COMPAT_H
#define _PORTREDIR_COMPAT_H

#include <net/netfilter/nf_nat_redirect.h>
#include <net/netlink.h>

#ifdef PORTREDIR_REDIRECT_IPV4_COMPAT
static inline unsigned int
portredir_redirect_ipv4(struct sk_buff *skb, const struct nf_nat_range2 *range,
			unsigned int hooknum)
{
	struct nf_nat_ipv4_multi_range_compat mr = {
		.rangesize = 1,
		.range[0] = {
			.flags = range->flags,
			.min = range->min_proto,
			.max = range->max_proto,
		},
	};

	return nf_nat_redirect_ipv4(skb, &mr, hooknum);
}
#else
#define portredir_redirect_ipv4 nf_nat_redirect_ipv4
#endif

/* Formatted extack messages arrived in 6.2; older kernels get @fallback. */
#ifdef NL_SET_ERR_MSG_FMT_MOD
#define PORTREDIR_ERR_FMT(extack, fallback, fmt, ...) \
	NL_SET_ERR_MSG_FMT_MOD(extack, fmt, ##__VA_ARGS__)
#else
#define PORTREDIR_ERR_FMT(extack, fallback, fmt, ...) \
	NL_SET_ERR_MSG_MOD(extack, fallback)
#endif

#endif /* _PORTREDIR_COMPAT_H */
