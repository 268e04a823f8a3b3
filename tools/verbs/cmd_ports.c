// SPDX-License-Identifier: GPL-2.0
/*
 * ports: the port map of this network namespace, what a port scanner would
 * find without sending a packet. One line per listening socket (TCP LISTEN,
 * UDP bound without a peer, SCTP listening), sorted by protocol and port,
 * then one line for the ports of a rule where nothing listens at all (its
 * source, or its target); fields separated by two spaces:
 *
 *   PROTO PORTS (NOTE)  ADDRESS (BIND)  FAMILIES  OWNER[  -> TO][  <- FROM][  flags: FLAG,...]
 *   PROTO PORTS (NOTE)  no listener[  -> TO][  <- FROM][  flags: FLAG,...]
 *
 *   NOTE      service name (single ports, not with -n) and port class, as
 *             list shows them
 *   BIND      "wildcard" (0.0.0.0 or ::), "loopback" (127.0.0.0/8, ::1)
 *             or "specific"
 *   FAMILIES  the families the socket takes: an IPv6 socket on :: takes
 *             IPv4 too unless IPV6_V6ONLY
 *   OWNER     "python3[123]", or "uid 1000 (process not visible)" when no
 *             /proc/PID/fd we may read holds the socket (another user's
 *             process, for an unprivileged caller)
 *   TO, FROM  the ports a rule sends this one to, or sends here from, each
 *             followed by the rule's restrictions in add syntax when it has
 *             any ("8080 (-4 --local)"); several rules separated by ", "
 *   FLAG      dynamic-port (a listener in 49152-65535, where outgoing
 *             connections take ports), well-known-on-wildcard,
 *             target-without-listener
 *
 * With -j, a JSON array of objects:
 *   {"protocol":"tcp",
 *    "port":{"min":8080,"max":8080,"service":"http-alt","class":"registered"},
 *    "listening":true,
 *    "address":"::","bind":"wildcard","family":["ipv4","ipv6"],
 *    "uid":1000,"process":"python3","pid":123,
 *    "redirected_away":[RULE...],"target_of":[RULE...],"flags":[FLAG...]}
 * where RULE is a rule as list prints it, without "connections"; "address"
 * to "pid" only for a listener, "process" and "pid" only when found.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/portredir.h>

#include "host/port_map.h"
#include "output/message.h"
#include "output/print.h"
#include "rules/parse.h"
#include "verbs/command.h"

#define PORTS_GRAMMAR \
	"[tcp|udp|sctp] [-4|-6] [--class well-known|registered|dynamic]"

static bool valid_class(const char *word)
{
	return !strcmp(word, "well-known") || !strcmp(word, "registered") ||
	       !strcmp(word, "dynamic");
}

static int parse_class(int argc, char **argv, int *i,
		       struct port_filter *filter)
{
	if (*i + 1 == argc)
		return usage_error("\"--class\" needs a class (expected --class well-known|registered|dynamic)");
	if (filter->class)
		return usage_error("\"--class\" given twice");
	filter->class = argv[++*i];
	if (!valid_class(filter->class))
		return usage_error("unknown port class \"%s\" (expected well-known, registered or dynamic)",
				   filter->class);
	return STATUS_OK;
}

static int parse_filter(int argc, char **argv, struct port_filter *filter)
{
	int i, status = STATUS_OK;
	uint8_t proto;

	memset(filter, 0, sizeof(*filter));
	for (i = 0; i < argc && !status; i++) {
		const char *word = argv[i];
		bool ipv4 = !strcmp(word, "-4");

		if (!parse_proto(word, &proto)) {
			if (filter->proto)
				return usage_error("protocol given twice (\"%s\")",
						   word);
			filter->proto = proto;
		} else if (ipv4 || !strcmp(word, "-6")) {
			if (filter->family)
				return usage_error("-4 and -6 given together (give neither for both)");
			filter->family = ipv4 ? PORTREDIR_FAMILY_IPV4 :
						PORTREDIR_FAMILY_IPV6;
		} else if (!strcmp(word, "--class")) {
			status = parse_class(argc, argv, &i, filter);
		} else {
			return usage_error("unexpected \"%s\" (expected ports %s)",
					   word, PORTS_GRAMMAR);
		}
	}
	return status;
}

/* The rules, or none with a warning: ports shows sockets whatever happens. */
static void load_rules(const struct options *options, struct rule_list *rules)
{
	struct backend b;
	int err;

	if (backend_open(&b, options->backend)) {
		warning("rules not shown: %s", b.error);
		return;
	}
	err = backend_list(&b, rules);
	if (err) {
		warning("rules not shown: cannot list them: %s",
			b.error[0] ? b.error : strerror(-err));
		rule_list_free(rules);
	}
	rule_list_sort(rules);
	backend_close(&b);
}

static void print_port_note(struct printer *p, const struct port_entry *entry,
			    struct service_table *services)
{
	struct rule_style style = {
		.numeric = !services,
		.services = services,
	};

	print_text(p, " ");
	print_port_range(p, "port", &entry->ports, entry->proto, &style);
}

static const char *bind_kind(const struct listener *listener)
{
	if (listener->wildcard)
		return "wildcard";
	return listener->loopback ? "loopback" : "specific";
}

static void print_families(struct printer *p, uint8_t family)
{
	print_open_array(p, "family");
	if (family & PORTREDIR_FAMILY_IPV4)
		print_string(p, NULL, "  %s", "ipv4");
	if (family & PORTREDIR_FAMILY_IPV6)
		print_string(p, NULL, family & PORTREDIR_FAMILY_IPV4 ?
				      ",%s" : "  %s", "ipv6");
	print_close_array(p);
}

static void print_socket(struct printer *p, const struct port_entry *entry)
{
	const struct listener *listener = entry->listener;

	print_bool(p, "listening", NULL, listener != NULL);
	if (!listener) {
		print_text(p, "  no listener");
		return;
	}
	print_string(p, "address", "  %s", listener->address);
	print_string(p, "bind", " (%s)", bind_kind(listener));
	print_families(p, entry->family);
	print_uint(p, "uid", listener->pid ? NULL :
		   "  uid %s (process not visible)", listener->uid);
	if (listener->pid) {
		print_string(p, "process", "  %s", listener->process);
		print_uint(p, "pid", "[%s]", (uint64_t)listener->pid);
	}
}

static void format_ports(const struct port_range *ports, char *buf, size_t len)
{
	if (ports->min == ports->max)
		snprintf(buf, len, "%u", ports->min);
	else
		snprintf(buf, len, "%u-%u", ports->min, ports->max);
}

/* "8080", or "8080 (-4 --local)": the rule's restrictions in add syntax. */
static void format_link(const struct port_link *link,
			const struct port_range *entry_ports, char *buf,
			size_t len)
{
	const struct redir_rule *rule = link->rule;
	struct port_range ports = link->target ?
		rule_sources_of(rule, entry_ports) :
		rule_target_of(rule, entry_ports);
	char selector[RULE_FORMAT_MAX], number[16];
	const char *restrictions;

	format_ports(&ports, number, sizeof(number));
	rule_format(rule, RULE_SELECTOR, selector, sizeof(selector));
	/* past "tcp 80": what is left are the restrictions */
	restrictions = strchr(selector, ' ');
	restrictions = restrictions ? strchr(restrictions + 1, ' ') : NULL;
	if (restrictions)
		snprintf(buf, len, "%s (%s)", number, restrictions + 1);
	else
		snprintf(buf, len, "%s", number);
}

static bool link_belongs(const struct port_map *map, size_t index,
			 size_t entry, bool target)
{
	return index < map->link_count && map->links[index].entry == entry &&
	       map->links[index].target == target;
}

static void print_links(struct printer *p, const struct port_map *map,
			size_t *cursor, size_t entry, bool target,
			const struct rule_style *style)
{
	const char *before = target ? "  <- " : "  -> ";
	char text[RULE_FORMAT_MAX + 32];

	print_open_array(p, target ? "target_of" : "redirected_away");
	for (; link_belongs(map, *cursor, entry, target); ++*cursor) {
		const struct port_link *link = &map->links[*cursor];

		if (p->json) {
			print_open_object(p, NULL);
			print_rule(p, link->rule, style);
			print_close_object(p);
			continue;
		}
		format_link(link, &map->entries[entry].ports, text,
			    sizeof(text));
		print_text(p, before);
		print_text(p, text);
		before = ", ";
	}
	print_close_array(p);
}

static void print_flags(struct printer *p, unsigned int flags)
{
	static const struct {
		unsigned int flag;
		const char *name;
	} names[] = {
		{ PORT_FLAG_DYNAMIC, "dynamic-port" },
		{ PORT_FLAG_WELL_KNOWN_WILDCARD, "well-known-on-wildcard" },
		{ PORT_FLAG_TARGET_WITHOUT_LISTENER, "target-without-listener" },
	};
	const char *format = "  flags: %s";
	size_t i;

	print_open_array(p, "flags");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].flag))
			continue;
		print_string(p, NULL, format, names[i].name);
		format = ",%s";
	}
	print_close_array(p);
}

/* The entries in order: each takes the links that follow the last one's. */
struct printed_map {
	const struct port_map *map;
	size_t cursor;
	struct service_table *services;
	const struct rule_style *style;
};

static void print_entry(struct printer *p, size_t index, void *arg)
{
	struct printed_map *printed = arg;
	const struct port_entry *entry = &printed->map->entries[index];

	print_string(p, "protocol", "%s", rule_proto_name(entry->proto));
	print_port_note(p, entry, printed->services);
	print_socket(p, entry);
	print_links(p, printed->map, &printed->cursor, index, false,
		    printed->style);
	print_links(p, printed->map, &printed->cursor, index, true,
		    printed->style);
	print_flags(p, entry->flags);
}

static void print_map(const struct options *options,
		      const struct port_map *map)
{
	struct service_table services = { 0 };
	struct rule_style style = {
		.syntax = true,
		.with_target = true,
		.numeric = options->numeric,
		.services = &services,
	};
	struct printed_map printed = {
		.map = map,
		.services = options->numeric ? NULL : &services,
		.style = &style,
	};

	print_items(options, map->len, print_entry, &printed);
	service_table_free(&services);
}

/* Says which protocols sock_diag could not list, rather than showing none. */
static void warn_unknown(const struct listener_table *listeners,
			 unsigned int wanted)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
	size_t i;

	for (i = 0; i < sizeof(protos); i++) {
		unsigned int bit = listener_proto_bit(protos[i]);

		if ((wanted & bit) && !(listeners->loaded & bit))
			warning("%s sockets not shown: sock_diag could not list them",
				rule_proto_name(protos[i]));
	}
}

int cmd_ports(const struct options *options, int argc, char **argv)
{
	struct listener_table listeners;
	struct rule_list rules = { 0 };
	struct port_filter filter;
	struct port_map map;
	unsigned int wanted;
	int status;

	status = parse_filter(argc, argv, &filter);
	if (status)
		return status;
	load_rules(options, &rules);
	wanted = filter.proto ? listener_proto_bit(filter.proto) :
		 listener_proto_bit(IPPROTO_TCP) |
		 listener_proto_bit(IPPROTO_UDP) |
		 listener_proto_bit(IPPROTO_SCTP);
	listener_table_load_protocols(&listeners, wanted);
	warn_unknown(&listeners, wanted);
	if (port_map_build(&map, &listeners, &rules, &filter)) {
		status = failure("ports: out of memory");
	} else {
		print_map(options, &map);
		port_map_free(&map);
	}
	listener_table_free(&listeners);
	rule_list_free(&rules);
	return status;
}
