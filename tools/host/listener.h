/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LISTENER_H
#define LISTENER_H

#include <netinet/in.h>

#include "rules/rule.h"

/* A socket of this network namespace that accepts connections on a port. */
struct listener {
	uint8_t proto;
	uint16_t port;
	char address[INET6_ADDRSTRLEN];
	bool loopback;		/* bound to 127.0.0.0/8 or ::1 */
	bool wildcard;		/* bound to 0.0.0.0 or :: */
	bool accepts_ipv4;	/* an IPv6 socket may, unless IPV6_V6ONLY */
	bool accepts_ipv6;
	uint32_t inode;
	uint32_t uid;
	int pid;		/* 0: not found, another user's process say */
	char process[16];
};

struct listener_table {
	struct listener *items;
	size_t len;
	size_t cap;
	unsigned int loaded;	/* bit per protocol whose dump succeeded */
};

/*
 * Asks sock_diag for the listening TCP and SCTP sockets and the bound,
 * unconnected UDP sockets of every protocol @rules use, both families, and
 * finds the process owning each through /proc/PID/fd. A protocol whose dump
 * fails (no sctp_diag, say) is left unknown, not an error.
 */
void listener_table_load(struct listener_table *table,
			 const struct rule_list *rules);
/*
 * The same for every protocol whose listener_proto_bit() is in @wanted. An
 * SCTP dump is made only when the SCTP module is there: without it no SCTP
 * socket exists, and the protocol counts as loaded, with none.
 */
void listener_table_load_protocols(struct listener_table *table,
				   unsigned int wanted);
void listener_table_free(struct listener_table *table);

/* The bit of IPPROTO_TCP, _UDP or _SCTP in listener_table.loaded. */
unsigned int listener_proto_bit(uint8_t proto);

/* "python3[123]", or "uid 33" when the process could not be found. */
void listener_owner(const struct listener *listener, char *buf, size_t len);

/* What listens on a rule's target ports. */
struct target_listeners {
	bool known;			/* false: no sock_diag answer */
	unsigned int ports_listened;	/* target ports with a listener */
	const struct listener *first;	/* every listener on the targets */
	size_t count;
	bool loopback_only;		/* each of them bound to loopback */
	bool accepts_ipv4;		/* some of them take IPv4 */
	bool accepts_ipv6;
};

void listener_find_targets(const struct listener_table *table,
			   const struct redir_rule *rule,
			   struct target_listeners *out);

#endif
