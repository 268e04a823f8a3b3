/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RULE_H
#define RULE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct port_range {
	uint16_t min;
	uint16_t max;
};

/*
 * One redirect rule as both backends see it. family and direction are masks
 * of the uapi enums portredir_family and portredir_direction, never 0 once
 * parsed; ifindex 0 means any interface.
 */
struct redir_rule {
	uint8_t proto;
	struct port_range port;
	struct port_range to;
	uint8_t family;
	uint8_t direction;
	unsigned int ifindex;
	char ifname[IF_NAMESIZE];
	uint64_t connections;
};

struct rule_list {
	struct redir_rule *rules;
	size_t len;
	size_t cap;
};

int rule_list_append(struct rule_list *list, const struct redir_rule *rule);
void rule_list_free(struct rule_list *list);

#endif
