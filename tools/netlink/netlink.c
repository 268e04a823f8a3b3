// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netlink.h>

#include "netlink/netlink.h"

/* Most dump datagrams fit; larger ones grow the buffer. */
#define RECEIVE_SIZE_FIRST	(32 * 1024)
/* A monitor must absorb the events of a whole-table replace. */
#define MONITOR_RECEIVE_SIZE	(32 * 1024 * 1024)
/* Beyond what a message takes, room for the kernel's skb overhead. */
#define SEND_SLACK		(64 * 1024)

/* What one request's replies are handed to. */
struct reply {
	struct netlink *nl;
	mnl_cb_t on_message;
	void *arg;
};

static int read_extack_attr(const struct nlattr *attr, void *data)
{
	struct netlink *nl = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(nl->error, sizeof(nl->error), "%s",
				 mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			nl->error_offset = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

/* The extack TLVs follow the error code and the (possibly capped) request. */
static void read_extack(struct netlink *nl, const struct nlmsghdr *nlh,
			size_t offset)
{
	size_t payload_len = nlh->nlmsg_len - NLMSG_HDRLEN;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || offset >= payload_len)
		return;
	mnl_attr_parse_payload((const char *)mnl_nlmsg_get_payload(nlh) + offset,
			       payload_len - offset, read_extack_attr, nl);
}

int netlink_read_error(struct netlink *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t offset = sizeof(*err);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err)))
		return EBADMSG;
	if (!err->error)
		return 0;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += err->msg.nlmsg_len - sizeof(err->msg);
	read_extack(nl, nlh, offset);
	return err->error < 0 ? -err->error : err->error;
}

static int on_error(const struct nlmsghdr *nlh, void *data)
{
	struct reply *reply = data;
	int err = netlink_read_error(reply->nl, nlh);

	if (!err)
		return MNL_CB_STOP;
	errno = err;
	return MNL_CB_ERROR;
}

/* A dump ends with NLMSG_DONE: an int error, then extack TLVs. */
static int on_done(const struct nlmsghdr *nlh, void *data)
{
	struct reply *reply = data;
	int error;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(error)))
		return MNL_CB_STOP;
	memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	if (!error)
		return MNL_CB_STOP;
	read_extack(reply->nl, nlh, sizeof(error));
	errno = error < 0 ? -error : error;
	return MNL_CB_ERROR;
}

static int on_message(const struct nlmsghdr *nlh, void *data)
{
	struct reply *reply = data;

	return reply->on_message ? reply->on_message(nlh, reply->arg) :
				   MNL_CB_OK;
}

static int run_replies(struct reply *reply, ssize_t len, uint32_t seq)
{
	mnl_cb_t control[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = on_error,
		[NLMSG_DONE] = on_done,
	};
	struct netlink *nl = reply->nl;

	return mnl_cb_run2(nl->buffer, (size_t)len, seq, nl->portid,
			   on_message, reply, control, NLMSG_MIN_TYPE);
}

static bool holds_last_reply(const void *buffer, ssize_t len, uint32_t seq)
{
	const struct nlmsghdr *nlh = buffer;
	int remaining = (int)len;

	for (; mnl_nlmsg_ok(nlh, remaining);
	     nlh = mnl_nlmsg_next(nlh, &remaining))
		if (nlh->nlmsg_seq == seq && (nlh->nlmsg_type == NLMSG_DONE ||
					      nlh->nlmsg_type == NLMSG_ERROR))
			return true;
	return false;
}

/*
 * Reads what is left of an abandoned request (a dump interrupted by a
 * change, or a reply its callback refused), so the next one starts clean;
 * @len bytes of it are in the buffer already.
 */
static void drain_replies(struct netlink *nl, uint32_t seq, ssize_t len)
{
	while (len > 0 && !holds_last_reply(nl->buffer, len, seq))
		len = netlink_receive(nl, 0);
}

int netlink_transact(struct netlink *nl, struct nlmsghdr *nlh,
		     mnl_cb_t on_reply, void *arg)
{
	struct reply reply = { nl, on_reply, arg };
	uint32_t seq = ++nl->seq;
	ssize_t len;
	int ret;

	nlh->nlmsg_seq = seq;
	nl->error[0] = '\0';
	nl->error_offset = 0;
	if (mnl_socket_sendto(nl->socket, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		len = netlink_receive(nl, 0);
		if (len < 0)
			return (int)len;
		errno = 0;
		ret = run_replies(&reply, len, seq);
	} while (ret > MNL_CB_STOP);

	if (ret == MNL_CB_STOP)
		return 0;
	ret = errno ? -errno : -EIO;
	if (nlh->nlmsg_flags & (NLM_F_ACK | NLM_F_DUMP))
		drain_replies(nl, seq, len);
	return ret;
}

struct nlmsghdr *netlink_put_request(void *buffer, uint16_t type,
				     uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buffer);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

/* Makes room in the receive buffer for a datagram of @len bytes. */
static int fit_buffer(struct netlink *nl, size_t len)
{
	char *grown;

	if (len <= nl->buffer_size)
		return 0;
	grown = realloc(nl->buffer, len);
	if (!grown)
		return -ENOMEM;
	nl->buffer = grown;
	nl->buffer_size = len;
	return 0;
}

ssize_t netlink_receive(struct netlink *nl, int flags)
{
	int fd = mnl_socket_get_fd(nl->socket);
	ssize_t len;
	int err;

	/* With MSG_TRUNC, a peek tells the datagram's whole length. */
	len = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | flags);
	if (len < 0)
		return -errno;
	err = fit_buffer(nl, (size_t)len);
	if (err)
		return err;
	len = recv(fd, nl->buffer, nl->buffer_size, flags);
	return len < 0 ? -errno : len;
}

/* FORCE needs CAP_NET_ADMIN in the initial namespace; else the sysctl caps. */
static void set_buffer_size(struct netlink *nl, int force, int plain, int size)
{
	int fd = mnl_socket_get_fd(nl->socket);

	if (force && !setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)))
		return;
	setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size));
}

size_t netlink_grow_send_buffer(struct netlink *nl, size_t len, bool force)
{
	int size = len > INT32_MAX / 2 ? INT32_MAX / 2 : (int)len;
	socklen_t optlen = sizeof(size);

	set_buffer_size(nl, force ? SO_SNDBUFFORCE : 0, SO_SNDBUF,
			size + SEND_SLACK);
	if (getsockopt(mnl_socket_get_fd(nl->socket), SOL_SOCKET, SO_SNDBUF,
		       &size, &optlen) < 0 || size < 0)
		return 0;
	return (size_t)size;
}

int netlink_subscribe(struct netlink *nl, unsigned int group)
{
	if (mnl_socket_setsockopt(nl->socket, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0)
		return -errno;
	set_buffer_size(nl, SO_RCVBUFFORCE, SO_RCVBUF, MONITOR_RECEIVE_SIZE);
	return 0;
}

/* What the events of a netlink_listen() are handed to. */
struct listener {
	mnl_cb_t on_event;
	void *arg;
	int err;
};

static int pass_event(const struct nlmsghdr *nlh, void *data)
{
	struct listener *listener = data;

	if (listener->on_event(nlh, listener->arg) != MNL_CB_ERROR)
		return MNL_CB_OK;
	listener->err = errno ? -errno : -EIO;
	return MNL_CB_ERROR;
}

int netlink_listen(struct netlink *nl, mnl_cb_t on_event,
		   void (*on_lost)(void *arg), void *arg)
{
	struct listener listener = { on_event, arg, 0 };
	ssize_t len;

	for (;;) {
		len = netlink_receive(nl, 0);
		/* The socket overran: say so and keep listening. */
		if (len == -ENOBUFS) {
			on_lost(arg);
			continue;
		}
		if (len < 0)
			return len == -EINTR ? 0 : (int)len;
		/* Malformed events are skipped: only ours stop the loop. */
		errno = 0;
		mnl_cb_run(nl->buffer, (size_t)len, 0, 0, pass_event, &listener);
		if (listener.err)
			return listener.err;
	}
}

static void enable_socket_option(struct mnl_socket *socket, int option)
{
	int one = 1;

	/* Older kernels lack these; errors then come without a message. */
	mnl_socket_setsockopt(socket, option, &one, sizeof(one));
}

int netlink_open(struct netlink *nl, int bus)
{
	int err;

	memset(nl, 0, sizeof(*nl));
	nl->buffer = malloc(RECEIVE_SIZE_FIRST);
	if (!nl->buffer)
		return -ENOMEM;
	nl->buffer_size = RECEIVE_SIZE_FIRST;
	nl->socket = mnl_socket_open(bus);
	if (!nl->socket || mnl_socket_bind(nl->socket, 0, MNL_SOCKET_AUTOPID)) {
		err = -errno;
		netlink_close(nl);
		return err;
	}
	enable_socket_option(nl->socket, NETLINK_EXT_ACK);
	enable_socket_option(nl->socket, NETLINK_CAP_ACK);
	nl->portid = mnl_socket_get_portid(nl->socket);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void netlink_close(struct netlink *nl)
{
	if (nl->socket)
		mnl_socket_close(nl->socket);
	free(nl->buffer);
	nl->socket = NULL;
	nl->buffer = NULL;
	nl->buffer_size = 0;
}
