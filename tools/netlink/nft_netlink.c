// SPDX-License-Identifier: GPL-2.0
/*
 * The NETLINK_NETFILTER transport of the nft backend: requests and dumps,
 * and transactions (batches) that apply whole or not at all.
 */
#include <errno.h>
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

/* Big enough for any dump or notification skb the kernel builds. */
#define NFT_RECV_BUFFER		(128 * 1024)
/* A monitor must absorb the notifications of a whole-table replace. */
#define NFT_MONITOR_RCVBUF	(32 * 1024 * 1024)
/* Batch pages; one message may overrun a page by at most this much. */
#define NFT_BATCH_PAGE		(256 * 1024)
#define NFT_BATCH_OVERRUN	(128 * 1024)

static void enlarge_buffer(struct nft_sock *s, int force, int plain, int size)
{
	int fd = mnl_socket_get_fd(s->nl);

	/* FORCE needs CAP_NET_ADMIN, which changes need anyway. */
	if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size));
}

int nft_sock_open(struct nft_sock *s, unsigned int group)
{
	int one = 1;

	memset(s, 0, sizeof(*s));
	s->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!s->nl)
		return -errno;
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* Kernel explanations with errors, without our message echoed back. */
	mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (group) {
		if (mnl_socket_setsockopt(s->nl, NETLINK_ADD_MEMBERSHIP,
					  &group, sizeof(group)) < 0)
			goto fail;
		enlarge_buffer(s, SO_RCVBUFFORCE, SO_RCVBUF,
			       NFT_MONITOR_RCVBUF);
	}
	s->portid = mnl_socket_get_portid(s->nl);
	s->buflen = NFT_RECV_BUFFER;
	s->buf = malloc(s->buflen);
	if (!s->buf) {
		errno = ENOMEM;
		goto fail;
	}
	return 0;
fail:
	one = -errno;
	mnl_socket_close(s->nl);
	s->nl = NULL;
	return one;
}

void nft_sock_close(struct nft_sock *s)
{
	if (s->nl)
		mnl_socket_close(s->nl);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

int nft_sock_request(struct nft_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb,
		     void *arg)
{
	ssize_t len;
	int ret;

	nlh->nlmsg_seq = ++s->seq;
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/*
	 * Callbacks record their own failures in @arg and keep returning
	 * MNL_CB_OK, so an error here is the kernel's and ends the request.
	 */
	for (;;) {
		len = mnl_socket_recvfrom(s->nl, s->buf, s->buflen);
		if (len < 0)
			return -errno;
		ret = mnl_cb_run(s->buf, len, s->seq, s->portid, cb, arg);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

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

int nft_sock_genid(struct nft_sock *s, uint32_t *genid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct genid_reply reply = { .err = -ENODATA };
	struct nlmsghdr *nlh;
	int ret;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC,
				    NLM_F_ACK, 0);
	ret = nft_sock_request(s, nlh, genid_cb, &reply);
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
	if (b->len == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		void *grown = realloc(b->what, cap * sizeof(*b->what));

		if (!grown) {
			b->nomem = true;
			return false;
		}
		b->what = grown;
		b->cap = cap;
	}
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

size_t nft_sock_batch_max(struct nft_sock *s)
{
	int size = INT32_MAX / 2;
	socklen_t len = sizeof(size);

	enlarge_buffer(s, SO_SNDBUFFORCE, SO_SNDBUF, size);
	if (getsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_SNDBUF, &size,
		       &len) < 0 || size < 0)
		return 0;
	/* Half: the pages of a batch may run over their size a little. */
	return (size_t)size / 2;
}

/* The kernel's explanation (extack), when it gave one. */
static void read_extack(const struct nlmsghdr *nlh, char *msg, size_t len)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t offset = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	mnl_attr_for_each(attr, nlh, offset) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
			strncpy(msg, mnl_attr_get_str(attr), len - 1);
			msg[len - 1] = '\0';
		}
	}
}

static void record_error(const struct nft_batch *b, const struct nlmsghdr *nlh,
			 struct nft_batch_error *error)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	uint32_t seq = e->msg.nlmsg_seq;

	/* The first error explains the failure; later ones echo it. */
	if (!e->error || error->err)
		return;
	error->err = -e->error;
	if (seq >= 1 && seq <= b->len)
		strcpy(error->what, b->what[seq - 1]);
	read_extack(nlh, error->msg, sizeof(error->msg));
}

/*
 * nfnetlink handles a batch inside sendmsg() and, as we ask for no acks,
 * answers only failures: whatever is queued once sendmsg() returns is the
 * whole answer, and silence means the transaction was committed.
 */
static int read_errors(struct nft_sock *s, const struct nft_batch *b,
		       struct nft_batch_error *error)
{
	int fd = mnl_socket_get_fd(s->nl);
	const struct nlmsghdr *nlh;
	int len;

	for (;;) {
		len = recv(fd, s->buf, s->buflen, MSG_DONTWAIT);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			break;
		nlh = (const struct nlmsghdr *)s->buf;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (nlh->nlmsg_type == NLMSG_ERROR)
				record_error(b, nlh, error);
	}
	if (errno != EAGAIN && !error->err) {
		error->err = errno;
		strcpy(error->what, "read the kernel's answer");
	}
	return -error->err;
}

static int send_batch(struct nft_sock *s, struct nft_batch *b)
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
	enlarge_buffer(s, SO_SNDBUFFORCE, SO_SNDBUF,
		       total > INT32_MAX / 2 ? INT32_MAX : (int)total * 2);
	msg.msg_iov = iov;
	msg.msg_iovlen = count;
	if (sendmsg(mnl_socket_get_fd(s->nl), &msg, 0) < 0)
		ret = -errno;
	free(iov);
	return ret;
}

int nft_batch_commit(struct nft_sock *s, struct nft_batch *b,
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
	ret = send_batch(s, b);
	if (ret) {
		error->err = -ret;
		strcpy(error->what, "send the transaction");
		return ret;
	}
	return read_errors(s, b, error);
}
