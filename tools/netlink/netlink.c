// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netlink.h>

#include "netlink/netlink.h"

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

static int on_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct reply *reply = data;
	size_t offset = sizeof(*err);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!err->error)
		return MNL_CB_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += err->msg.nlmsg_len - sizeof(err->msg);
	read_extack(reply->nl, nlh, offset);
	errno = -err->error;
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
 * Reads what is left of an abandoned dump, so the next request starts
 * clean; @len bytes of it are in the buffer already.
 */
static void drain_replies(struct netlink *nl, uint32_t seq, ssize_t len)
{
	while (len > 0 && !holds_last_reply(nl->buffer, len, seq))
		len = mnl_socket_recvfrom(nl->socket, nl->buffer,
					  NETLINK_RECEIVE_SIZE);
}

int netlink_transact(struct netlink *nl, struct nlmsghdr *nlh,
		     mnl_cb_t on_reply, void *arg)
{
	struct reply reply = { nl, on_reply, arg };
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t len;
	int ret;

	nl->error[0] = '\0';
	nl->error_offset = 0;
	if (mnl_socket_sendto(nl->socket, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		len = mnl_socket_recvfrom(nl->socket, nl->buffer,
					  NETLINK_RECEIVE_SIZE);
		if (len < 0)
			return -errno;
		errno = EIO;
		ret = run_replies(&reply, len, seq);
	} while (ret > MNL_CB_STOP);

	if (ret == MNL_CB_STOP)
		return 0;
	ret = errno ? -errno : -EIO;
	/* libmnl stops at a message flagged NLM_F_DUMP_INTR. */
	if (ret == -EINTR && (nlh->nlmsg_flags & NLM_F_DUMP))
		drain_replies(nl, seq, len);
	return ret;
}

struct nlmsghdr *netlink_put_request(struct netlink *nl, void *buffer,
				     uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buffer);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

void netlink_grow_send_buffer(struct netlink *nl, size_t len)
{
	int fd = mnl_socket_get_fd(nl->socket);
	int size = len > INT32_MAX / 2 ? INT32_MAX / 2 : (int)len;

	/* Capped at net.core.wmem_max: no privilege beyond that is asked. */
	size += 64 * 1024;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
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
	nl->buffer = malloc(NETLINK_RECEIVE_SIZE);
	if (!nl->buffer)
		return -ENOMEM;
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
}
