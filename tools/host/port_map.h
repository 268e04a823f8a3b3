/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PORT_MAP_H
#define PORT_MAP_H

#include "host/listener.h"
#include "rules/rule.h"

/* What an administrator wants to see at a glance on a line of `ports`. */
enum port_flag {
	/* a listener in 49152-65535, where outgoing connections take ports */
	PORT_FLAG_DYNAMIC = 1 << 0,
	/* a well-known port open on a wildcard address */
	PORT_FLAG_WELL_KNOWN_WILDCARD = 1 << 1,
	/* a rule's target where nothing listens */
	PORT_FLAG_TARGET_WITHOUT_LISTENER = 1 << 2,
};

/*
 * One line of `ports`: a listening socket, or the ports of a rule (its
 * source or its target) where nothing listens at all.
 */
struct port_entry {
	uint8_t proto;
	struct port_range ports;	/* a single port for a listener */
	uint8_t family;			/* PORTREDIR_FAMILY_* it takes */
	unsigned int flags;		/* enum port_flag */
	const struct listener *listener;	/* NULL: nothing listens */
	uint16_t reach;		/* highest port of this and earlier entries */
};

/* A rule that redirects an entry's ports away, or onto them. */
struct port_link {
	size_t entry;
	bool target;		/* the entry's ports are the rule's target */
	const struct redir_rule *rule;
};

/* Which lines to show: 0 or NULL means any. */
struct port_filter {
	uint8_t proto;
	uint8_t family;
	const char *class;	/* "well-known", "registered" or "dynamic" */
};

struct port_map {
	struct port_entry *entries;
	size_t len;
	struct port_link *links;	/* sorted by entry, sources first */
	size_t link_count;
};

/*
 * Builds the lines of @listeners and @rules that pass @filter, sorted by
 * protocol and port, with each rule linked to the lines it redirects away
 * and onto. The map points into both; returns 0 or -ENOMEM.
 */
int port_map_build(struct port_map *map,
		   const struct listener_table *listeners,
		   const struct rule_list *rules,
		   const struct port_filter *filter);
void port_map_free(struct port_map *map);

/* The port a rule sends @port to, or the ports it sends there from. */
struct port_range rule_target_of(const struct redir_rule *rule,
				 const struct port_range *ports);
struct port_range rule_sources_of(const struct redir_rule *rule,
				  const struct port_range *ports);

#endif
