/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CONNTRACK_H
#define CONNTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "rules/rule.h"

/* UDP destination ports, one bit each. */
struct udp_ports {
	uint8_t bits[65536 / 8];
	bool any;
};

/* Adds the ports of @rule when it is a UDP rule. */
void udp_ports_add_rule(struct udp_ports *ports, const struct redir_rule *rule);

/*
 * Deletes, over ctnetlink, the conntrack entries of this network namespace
 * whose protocol is UDP and whose original destination port is in @ports,
 * so that the next datagram of each flow meets the rules as they are now.
 * Other protocols are never touched. Returns 0 or a negative errno.
 */
int conntrack_delete_udp(const struct udp_ports *ports);

#endif
