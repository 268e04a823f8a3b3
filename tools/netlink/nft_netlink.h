/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NFT_NETLINK_H
#define NFT_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

/* One NETLINK_NETFILTER socket and its receive buffer. */
struct nft_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char *buf;
	size_t buflen;
};

/* Opens the socket, subscribed to multicast @group when it is not 0. */
int nft_sock_open(struct nft_sock *s, unsigned int group);
void nft_sock_close(struct nft_sock *s);

/*
 * Sends @nlh (a dump, or a get with NLM_F_ACK) and runs @cb on every reply
 * until the kernel is done. A failing @cb (MNL_CB_ERROR with errno set)
 * stops the callbacks but not the reading, so the socket is left clean.
 */
int nft_sock_request(struct nft_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb,
		     void *arg);

/* The ruleset generation: it changes with every committed transaction. */
int nft_sock_genid(struct nft_sock *s, uint32_t *genid);

/*
 * The largest batch the socket can send, its send buffer raised as far as
 * it may be: the kernel takes a batch as one message, and only the initial
 * namespace's CAP_NET_ADMIN raises the buffer past net.core.wmem_max.
 */
size_t nft_sock_batch_max(struct nft_sock *s);

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
int nft_batch_commit(struct nft_sock *s, struct nft_batch *b,
		     struct nft_batch_error *error);

#endif
