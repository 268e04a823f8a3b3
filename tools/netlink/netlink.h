/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NETLINK_H
#define NETLINK_H

#include <stdint.h>

#include <libmnl/libmnl.h>

/*
 * One netlink socket and the request/reply loop every user of netlink in
 * the CLI shares: extended acks turned on and read back, acks capped so a
 * refused large request does not come back whole, interrupted dumps
 * drained so the socket stays usable.
 */
struct netlink {
	struct mnl_socket *socket;
	uint32_t portid;
	uint32_t seq;
	char *buffer;
	/* Of the last refusal: the extack message and NLMSGERR_ATTR_OFFS. */
	char error[256];
	uint32_t error_offset;
};

/* Big enough for any dump message the kernel builds (it caps them at 32 KiB). */
#define NETLINK_RECEIVE_SIZE (64 * 1024)

int netlink_open(struct netlink *nl, int bus);
void netlink_close(struct netlink *nl);

/* A request header of @type with the next sequence number. */
struct nlmsghdr *netlink_put_request(struct netlink *nl, void *buffer,
				     uint16_t type, uint16_t flags);

/*
 * Sends @nlh and hands each reply message to @on_reply until the ack or
 * the end of the dump. Returns 0 or a negative errno, the kernel's reason
 * then in nl->error; -EINTR means a dump was interrupted by a change.
 */
int netlink_transact(struct netlink *nl, struct nlmsghdr *nlh,
		     mnl_cb_t on_reply, void *arg);

/*
 * Raises the send buffer towards @len bytes, as far as net.core.wmem_max
 * lets an unprivileged socket: requests beyond it fail with EMSGSIZE.
 */
void netlink_grow_send_buffer(struct netlink *nl, size_t len);

#endif
