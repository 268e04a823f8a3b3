/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NFT_NETLINK_H
#define NFT_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlink/netlink.h"

/*
 * nf_tables on the common transport: a NETLINK_NETFILTER socket from
 * netlink_open() answers requests through netlink_transact() and events
 * through netlink_listen(); what is nf_tables' own is here.
 */

/* The ruleset generation: it changes with every committed transaction. */
int nft_genid(struct netlink *nl, uint32_t *genid);

/*
 * The largest batch the socket can send, its send buffer raised as far as
 * it may be: the kernel takes a batch as one message, and only the initial
 * namespace's CAP_NET_ADMIN raises the buffer past net.core.wmem_max.
 */
size_t nft_batch_max(struct netlink *nl);

/* Why a batch failed: the errno, what the failing message did, extack. */
struct nft_batch_error {
	int err;
	char what[64];
	char msg[128];
};

struct nft_batch;

/*
 * Starts a transaction that the kernel refuses with -ERESTART when the
 * ruleset is no longer at generation @genid: what we checked is then stale.
 */
struct nft_batch *nft_batch_new(uint32_t genid);
void nft_batch_free(struct nft_batch *b);

/*
 * Room for the next message: fill it with nftnl_*_nlmsg_build_payload()
 * and call nft_batch_next(). @what names the message in errors.
 */
struct nlmsghdr *nft_batch_put(struct nft_batch *b, uint16_t type,
			       uint16_t flags, const char *what);
void nft_batch_next(struct nft_batch *b);
/* Has the batch any message besides begin and end? */
bool nft_batch_empty(const struct nft_batch *b);
/* About how many bytes the batch takes so far. */
size_t nft_batch_bytes(struct nft_batch *b);

/* Sends the batch; 0, or a negative errno with @error filled in. */
int nft_batch_commit(struct netlink *nl, struct nft_batch *b,
		     struct nft_batch_error *error);

#endif
