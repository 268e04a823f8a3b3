// SPDX-License-Identifier: GPL-2.0
/* The lines of `ports`: listeners and rules, sorted and linked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/portredir.h>

#include "host/port_map.h"
#include "util/array.h"

/* The classes in port order, named as port_class() names them. */
static int class_rank(const char *class)
{
	static const char *const classes[] = {
		"well-known", "registered", "dynamic",
	};
	int rank;

	for (rank = 0; rank < 3 && strcmp(class, classes[rank]); rank++)
		;
	return rank;
}

static bool class_matches(const char *class, const struct port_range *ports)
{
	int rank;

	if (!class)
		return true;
	rank = class_rank(class);
	return class_rank(port_class(ports->min)) <= rank &&
	       rank <= class_rank(port_class(ports->max));
}

static bool entry_passes(const struct port_entry *entry,
			 const struct port_filter *filter)
{
	return (!filter->proto || entry->proto == filter->proto) &&
	       (!filter->family || (entry->family & filter->family)) &&
	       class_matches(filter->class, &entry->ports);
}

struct builder {
	struct port_map *map;
	size_t entry_cap;
	size_t link_cap;
	const struct port_filter *filter;
};

static int add_entry(struct builder *b, const struct port_entry *entry)
{
	struct port_map *map = b->map;
	struct port_entry *entries;

	if (!entry_passes(entry, b->filter))
		return 0;
	entries = array_append(map->entries, &b->entry_cap, &map->len, entry,
			       sizeof(*entry));
	if (!entries)
		return -ENOMEM;
	map->entries = entries;
	return 0;
}

static int add_listener(struct builder *b, const struct listener *listener)
{
	struct port_entry entry = {
		.proto = listener->proto,
		.ports = { listener->port, listener->port },
		.listener = listener,
	};

	if (listener->accepts_ipv4)
		entry.family |= PORTREDIR_FAMILY_IPV4;
	if (listener->accepts_ipv6)
		entry.family |= PORTREDIR_FAMILY_IPV6;
	if (!strcmp(port_class(listener->port), "dynamic"))
		entry.flags |= PORT_FLAG_DYNAMIC;
	if (!strcmp(port_class(listener->port), "well-known") &&
	    listener->wildcard)
		entry.flags |= PORT_FLAG_WELL_KNOWN_WILDCARD;
	return add_entry(b, &entry);
}

static bool anything_listens(const struct listener_table *table, uint8_t proto,
			     const struct port_range *ports)
{
	struct redir_rule probe = { .proto = proto, .to = *ports };
	struct target_listeners found;

	listener_find_targets(table, &probe, &found);
	return found.count || !found.known;
}

/* A rule's ports where nothing listens still get a line. */
static int add_rule(struct builder *b, const struct listener_table *table,
		    const struct redir_rule *rule)
{
	struct port_entry entry = {
		.proto = rule->proto,
		.family = rule->family,
	};
	int err = 0;

	if (!anything_listens(table, rule->proto, &rule->port)) {
		entry.ports = rule->port;
		err = add_entry(b, &entry);
	}
	if (!err && !anything_listens(table, rule->proto, &rule->to)) {
		entry.ports = rule->to;
		entry.flags = PORT_FLAG_TARGET_WITHOUT_LISTENER;
		err = add_entry(b, &entry);
	}
	return err;
}

static int compare_listeners(const struct listener *x,
			     const struct listener *y)
{
	int order;

	if (!x || !y)
		return !!x - !!y;
	if (x->accepts_ipv6 != y->accepts_ipv6)
		return x->accepts_ipv6 - y->accepts_ipv6;
	order = strcmp(x->address, y->address);
	if (order)
		return order;
	return (x->inode > y->inode) - (x->inode < y->inode);
}

static int compare_entries(const void *a, const void *b)
{
	const struct port_entry *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->ports.min != y->ports.min)
		return x->ports.min - y->ports.min;
	if (x->ports.max != y->ports.max)
		return x->ports.max - y->ports.max;
	return compare_listeners(x->listener, y->listener);
}

/* Two rules with the same target without a listener make one line. */
static void merge_rule_entries(struct port_map *map)
{
	size_t kept = 0, i;

	for (i = 0; i < map->len; i++) {
		struct port_entry *last = kept ? &map->entries[kept - 1] : NULL;
		const struct port_entry *entry = &map->entries[i];

		if (last && !last->listener && !entry->listener &&
		    !compare_entries(last, entry)) {
			last->family |= entry->family;
			last->flags |= entry->flags;
			continue;
		}
		map->entries[kept++] = *entry;
	}
	map->len = kept;
}

static void compute_reach(struct port_map *map)
{
	size_t i;

	for (i = 0; i < map->len; i++) {
		struct port_entry *entry = &map->entries[i];
		const struct port_entry *previous = i ? entry - 1 : NULL;

		entry->reach = entry->ports.max;
		if (previous && previous->proto == entry->proto &&
		    previous->reach > entry->reach)
			entry->reach = previous->reach;
	}
}

/* The first entry past @ports: of a later protocol or starting above. */
static size_t entries_end(const struct port_map *map, uint8_t proto,
			  const struct port_range *ports)
{
	size_t low = 0, high = map->len;

	while (low < high) {
		size_t middle = low + (high - low) / 2;
		const struct port_entry *entry = &map->entries[middle];

		if (entry->proto < proto ||
		    (entry->proto == proto && entry->ports.min <= ports->max))
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

static int link_rule(struct builder *b, const struct redir_rule *rule,
		     bool target)
{
	const struct port_range *ports = target ? &rule->to : &rule->port;
	struct port_map *map = b->map;
	size_t i = entries_end(map, rule->proto, ports);
	struct port_link *links;

	while (i-- > 0) {
		const struct port_entry *entry = &map->entries[i];

		if (entry->proto != rule->proto || entry->reach < ports->min)
			break;
		if (entry->ports.max < ports->min)
			continue;
		links = array_grow(map->links, &b->link_cap, map->link_count,
				   sizeof(*links));
		if (!links)
			return -ENOMEM;
		map->links = links;
		map->links[map->link_count++] = (struct port_link){
			.entry = i, .target = target, .rule = rule,
		};
	}
	return 0;
}

static int compare_links(const void *a, const void *b)
{
	const struct port_link *x = a, *y = b;

	if (x->entry != y->entry)
		return (x->entry > y->entry) - (x->entry < y->entry);
	if (x->target != y->target)
		return x->target - y->target;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

static int link_rules(struct builder *b, const struct rule_list *rules)
{
	const struct port_filter *filter = b->filter;
	size_t i;

	for (i = 0; i < rules->len; i++) {
		const struct redir_rule *rule = &rules->rules[i];

		if (filter->family && !(rule->family & filter->family))
			continue;
		if (link_rule(b, rule, false) || link_rule(b, rule, true))
			return -ENOMEM;
	}
	if (b->map->link_count > 1)
		qsort(b->map->links, b->map->link_count,
		      sizeof(*b->map->links), compare_links);
	return 0;
}

static int collect_entries(struct builder *b,
			   const struct listener_table *listeners,
			   const struct rule_list *rules)
{
	size_t i;

	for (i = 0; i < listeners->len; i++)
		if (add_listener(b, &listeners->items[i]))
			return -ENOMEM;
	for (i = 0; i < rules->len; i++)
		if (add_rule(b, listeners, &rules->rules[i]))
			return -ENOMEM;
	return 0;
}

int port_map_build(struct port_map *map,
		   const struct listener_table *listeners,
		   const struct rule_list *rules,
		   const struct port_filter *filter)
{
	struct builder b = { .map = map, .filter = filter };

	memset(map, 0, sizeof(*map));
	if (collect_entries(&b, listeners, rules)) {
		port_map_free(map);
		return -ENOMEM;
	}
	if (map->len > 1)
		qsort(map->entries, map->len, sizeof(*map->entries),
		      compare_entries);
	merge_rule_entries(map);
	compute_reach(map);
	if (link_rules(&b, rules)) {
		port_map_free(map);
		return -ENOMEM;
	}
	return 0;
}

void port_map_free(struct port_map *map)
{
	free(map->entries);
	free(map->links);
	memset(map, 0, sizeof(*map));
}

static bool same_size(const struct port_range *a, const struct port_range *b)
{
	return port_range_size(a) == port_range_size(b);
}

/*
 * @onto, or, for one port @ports of @from where the rule maps a range onto
 * a range of its size, the one port of @onto at the same offset.
 */
static struct port_range across(const struct redir_rule *rule,
				const struct port_range *from,
				const struct port_range *onto,
				const struct port_range *ports)
{
	struct port_range result = *onto;

	if (same_size(&rule->port, &rule->to) && ports->min == ports->max &&
	    rule->to.min != rule->to.max) {
		result.min = onto->min + (ports->min - from->min);
		result.max = result.min;
	}
	return result;
}

struct port_range rule_target_of(const struct redir_rule *rule,
				 const struct port_range *ports)
{
	return across(rule, &rule->port, &rule->to, ports);
}

struct port_range rule_sources_of(const struct redir_rule *rule,
				  const struct port_range *ports)
{
	return across(rule, &rule->to, &rule->port, ports);
}
