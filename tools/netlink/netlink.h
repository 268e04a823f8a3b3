/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NETLINK_H
#define NETLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libmnl/libmnl.h>

/*
 * The one netlink transport of the CLI, on every bus it speaks (generic
 * netlink, sock_diag, ctnetlink, nf_tables): a socket with extended acks
 * turned on and acks capped, so a refused large request does not come back
 * whole; a request/reply loop that turns the kernel's refusals and their
 * extack into an errno and a sentence; and a loop that follows multicast
 * events and says when the kernel dropped some. nft batches sit on top of
 * it, in nft_netlink.h.
 */
struct netlink {
	struct mnl_socket *socket;
	uint32_t portid;
	uint32_t seq;
	/* Receive buffer, grown to the largest datagram read so far. */
	char *buffer;
	size_t buffer_size;
	/* Of the last refusal: the extack message and NLMSGERR_ATTR_OFFS. */
	char error[256];
	uint32_t error_offset;
};

int netlink_open(struct netlink *nl, int bus);
void netlink_close(struct netlink *nl);

/* A request header of @type; netlink_transact() numbers it. */
struct nlmsghdr *netlink_put_request(void *buffer, uint16_t type,
				     uint16_t flags);

/*
 * Sends @nlh, which asks for NLM_F_ACK or NLM_F_DUMP, and hands each reply
 * message to @on_reply until the ack or the end of the dump. Returns 0 or
 * a negative errno, the kernel's reason then in nl->error; -EINTR means a
 * dump was interrupted by a change. @on_reply stops the request by
 * returning MNL_CB_ERROR with errno set; the replies left are read and
 * dropped either way, so the socket stays usable.
 */
int netlink_transact(struct netlink *nl, struct nlmsghdr *nlh,
		     mnl_cb_t on_reply, void *arg);

/*
 * Reads the next datagram into nl->buffer, grown to fit it. @flags are
 * recv()'s, such as MSG_DONTWAIT. Returns its length or a negative errno;
 * -ENOBUFS means the socket overran and the kernel dropped messages.
 */
ssize_t netlink_receive(struct netlink *nl, int flags);

/*
 * The errno an NLMSG_ERROR message carries, 0 for an ack. For a refusal,
 * the kernel's extack message and offset are left in nl->error and
 * nl->error_offset.
 */
int netlink_read_error(struct netlink *nl, const struct nlmsghdr *nlh);

/*
 * Raises the send buffer to take @len bytes in one message, as far as
 * net.core.wmem_max allows, or with @force as far as the initial
 * namespace's CAP_NET_ADMIN allows. Returns the bytes one message may now
 * take: larger requests fail with EMSGSIZE.
 */
size_t netlink_grow_send_buffer(struct netlink *nl, size_t len, bool force);

/*
 * Joins multicast @group, with a receive buffer big enough for the burst
 * of events a whole-table replace announces.
 */
int netlink_subscribe(struct netlink *nl, unsigned int group);

/*
 * Hands every event to @on_event until a signal interrupts the wait (then
 * 0) or @on_event returns MNL_CB_ERROR with errno set (then -errno). When
 * the kernel dropped events, calls @on_lost and goes on listening.
 */
int netlink_listen(struct netlink *nl, mnl_cb_t on_event,
		   void (*on_lost)(void *arg), void *arg);

#endif
