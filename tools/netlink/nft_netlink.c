// SPDX-License-Identifier: GPL-2.0
/*
 * What nf_tables adds to the netlink transport: the ruleset generation, and
 * transactions (batches) that apply whole or not at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>

#include "netlink/nft_netlink.h"
#include "util/array.h"

/* Batch pages; one message may overrun a page by at most this much. */
#define NFT_BATCH_PAGE		(256 * 1024)
#define NFT_BATCH_OVERRUN	(128 * 1024)

struct genid_reply {
	uint32_t genid;
	int err;
};

static int genid_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct genid_reply *reply = arg;
	struct nftnl_gen *gen = nftnl_gen_alloc();

	if (!gen) {
		reply->err = -ENOMEM;
		return MNL_CB_OK;
	}
	if (nftnl_gen_nlmsg_parse(nlh, gen) < 0 ||
	    !nftnl_gen_is_set(gen, NFTNL_GEN_ID))
		reply->err = -EPROTO;
	else
		reply->genid = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
	nftnl_gen_free(gen);
	return MNL_CB_OK;
}

int nft_genid(struct netlink *nl, uint32_t *genid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct genid_reply reply = { .err = -ENODATA };
	struct nlmsghdr *nlh;
	int ret;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC,
				    NLM_F_ACK, 0);
	ret = netlink_transact(nl, nlh, genid_cb, &reply);
	if (ret)
		return ret;
	if (reply.err == -ENODATA)
		reply.err = 0;
	*genid = reply.genid;
	return reply.err;
}

struct nft_batch {
	struct nftnl_batch *pages;
	uint32_t seq;
	/* what[i] describes the message with sequence number i + 1 */
	char (*what)[64];
	size_t len;
	size_t cap;
	unsigned int messages;
	bool nomem;
};

static bool note(struct nft_batch *b, const char *what)
{
	char (*whats)[64] = array_grow(b->what, &b->cap, b->len,
				       sizeof(*b->what));

	if (!whats) {
		b->nomem = true;
		return false;
	}
	b->what = whats;
	strncpy(b->what[b->len], what, sizeof(b->what[0]) - 1);
	b->what[b->len][sizeof(b->what[0]) - 1] = '\0';
	b->len++;
	return true;
}

static void put_control(struct nft_batch *b, uint16_t type, bool genid,
			uint32_t id)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nftnl_batch_buffer(b->pages));
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++b->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	if (genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(id));
	if (nftnl_batch_update(b->pages) < 0)
		b->nomem = true;
}

struct nft_batch *nft_batch_new(uint32_t genid)
{
	struct nft_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->pages = nftnl_batch_alloc(NFT_BATCH_PAGE, NFT_BATCH_OVERRUN);
	if (!b->pages) {
		free(b);
		return NULL;
	}
	note(b, "start the transaction");
	put_control(b, NFNL_MSG_BATCH_BEGIN, true, genid);
	return b;
}

void nft_batch_free(struct nft_batch *b)
{
	if (!b)
		return;
	nftnl_batch_free(b->pages);
	free(b->what);
	free(b);
}

struct nlmsghdr *nft_batch_put(struct nft_batch *b, uint16_t type,
			       uint16_t flags, const char *what)
{
	note(b, what);
	b->messages++;
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->pages), type,
				     NFPROTO_INET, flags, ++b->seq);
}

void nft_batch_next(struct nft_batch *b)
{
	if (nftnl_batch_update(b->pages) < 0)
		b->nomem = true;
}

bool nft_batch_empty(const struct nft_batch *b)
{
	return !b->messages;
}

size_t nft_batch_bytes(struct nft_batch *b)
{
	size_t len = nftnl_batch_buffer_len(b->pages);
	int full = nftnl_batch_iovec_len(b->pages) - (len ? 1 : 0);

	/* A full page holds a little more than NFT_BATCH_PAGE. */
	return (size_t)full * NFT_BATCH_PAGE + len;
}

size_t nft_batch_max(struct netlink *nl)
{
	/* Half: the pages of a batch may run over their size a little. */
	return netlink_grow_send_buffer(nl, SIZE_MAX, true) / 2;
}

static void record_error(struct netlink *nl, const struct nft_batch *b,
			 const struct nlmsghdr *nlh,
			 struct nft_batch_error *error)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	/* The first error explains the failure; later ones echo it. */
	if (error->err)
		return;
	nl->error[0] = '\0';
	error->err = netlink_read_error(nl, nlh);
	if (!error->err)
		return;
	if (e->msg.nlmsg_seq >= 1 && e->msg.nlmsg_seq <= b->len)
		strcpy(error->what, b->what[e->msg.nlmsg_seq - 1]);
	/* Room for it beside what failed, in the backend's one-line reason. */
	snprintf(error->msg, sizeof(error->msg), "%.*s",
		 (int)sizeof(error->msg) - 1, nl->error);
}

/*
 * nfnetlink handles a batch inside sendmsg() and, as we ask for no acks,
 * answers only failures: whatever is queued once sendmsg() returns is the
 * whole answer, and silence means the transaction was committed.
 */
static int read_errors(struct netlink *nl, const struct nft_batch *b,
		       struct nft_batch_error *error)
{
	const struct nlmsghdr *nlh;
	ssize_t len;
	int left;

	for (;;) {
		len = netlink_receive(nl, MSG_DONTWAIT);
		if (len == -EINTR)
			continue;
		if (len < 0)
			break;
		nlh = (const struct nlmsghdr *)nl->buffer;
		left = (int)len;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			if (nlh->nlmsg_type == NLMSG_ERROR)
				record_error(nl, b, nlh, error);
	}
	if (len != -EAGAIN && !error->err) {
		error->err = (int)-len;
		strcpy(error->what, "read the kernel's answer");
	}
	return -error->err;
}

static int send_batch(struct netlink *nl, struct nft_batch *b)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct msghdr msg = { .msg_name = &kernel,
			      .msg_namelen = sizeof(kernel) };
	int count = nftnl_batch_iovec_len(b->pages);
	struct iovec *iov = calloc(count, sizeof(*iov));
	size_t total = 0;
	int i, ret = 0;

	if (!iov)
		return -ENOMEM;
	nftnl_batch_iovec(b->pages, iov, count);
	for (i = 0; i < count; i++)
		total += iov[i].iov_len;
	/* The kernel takes a batch as one skb: the send buffer must hold it. */
	netlink_grow_send_buffer(nl, total, true);
	msg.msg_iov = iov;
	msg.msg_iovlen = count;
	if (sendmsg(mnl_socket_get_fd(nl->socket), &msg, 0) < 0)
		ret = -errno;
	free(iov);
	return ret;
}

int nft_batch_commit(struct netlink *nl, struct nft_batch *b,
		     struct nft_batch_error *error)
{
	int ret;

	memset(error, 0, sizeof(*error));
	note(b, "commit the transaction");
	put_control(b, NFNL_MSG_BATCH_END, false, 0);
	if (b->nomem) {
		error->err = ENOMEM;
		strcpy(error->what, "build the transaction");
		return -ENOMEM;
	}
	ret = send_batch(nl, b);
	if (ret) {
		error->err = -ret;
		strcpy(error->what, "send the transaction");
		return ret;
	}
	return read_errors(nl, b, error);
}
