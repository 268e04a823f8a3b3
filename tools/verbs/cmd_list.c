// SPDX-License-Identifier: GPL-2.0
/*
 * list: one line per rule, sorted by protocol and port, fields separated by
 * two spaces:
 *
 *   PROTO PORTS (NOTE) -> PORTS (NOTE)  FAMILIES  DIRECTIONS[ dev IFNAME]  connections N  LISTENER
 *
 *   PORTS      80 or 8000-8010
 *   NOTE       "http, well-known": the service name (single ports only,
 *              not with -n) and the port class, "well-known", "registered",
 *              "dynamic", or "LOW..HIGH" for a range spanning two classes
 *   FAMILIES   ipv4,ipv6 | ipv4 | ipv6
 *   DIRECTIONS inbound,local | inbound | local
 *   LISTENER   "listener: python3[123]" (up to three owners, "uid N" when
 *              the process is hidden, ",..." when there are more), then
 *              " on 127.0.0.1 only" when every listener is bound to
 *              loopback; "listeners on 3 of 11 target ports" for a target
 *              range; "no listener"; "listener: unknown" when sock_diag
 *              gave no answer for the protocol
 *
 * e.g. "tcp 80 (http, well-known) -> 8080 (http-alt, registered)  ipv4,ipv6
 * inbound,local  connections 3  listener: python3[123]" on one line.
 *
 * With -j, a JSON array of objects:
 *   {"protocol":"tcp",
 *    "port":{"min":80,"max":80,"service":"http","class":"well-known"},
 *    "to":{"min":8080,"max":8080,"service":"http-alt","class":"registered"},
 *    "family":["ipv4","ipv6"],"direction":["inbound","local"],
 *    "dev":"eth0",			(only for a rule bound to an interface)
 *    "connections":3,
 *    "listeners":[{"port":8080,"address":"0.0.0.0","loopback":false,
 *                  "uid":1000,"process":"python3","pid":123}]}
 * "service" is left out with -n or when /etc/services has no name,
 * "process" and "pid" when the owner was not found, "listeners" when
 * sock_diag gave no answer.
 */
#include <stdio.h>
#include <string.h>

#include "host/listener.h"
#include "output/message.h"
#include "output/print.h"
#include "verbs/command.h"

#define OWNERS_SHOWN 3

static void print_listener(struct printer *p, const struct listener *listener)
{
	print_open_object(p, NULL);
	print_uint(p, "port", NULL, listener->port);
	print_string(p, "address", NULL, listener->address);
	print_bool(p, "loopback", NULL, listener->loopback);
	print_uint(p, "uid", NULL, listener->uid);
	if (listener->pid) {
		print_string(p, "process", NULL, listener->process);
		print_uint(p, "pid", NULL, (uint64_t)listener->pid);
	}
	print_close_object(p);
}

/* "python3[123],nginx[7]": distinct owners, in the order found. */
static void format_owners(const struct target_listeners *targets, char *buf,
			  size_t len)
{
	char owners[OWNERS_SHOWN][48];
	size_t shown = 0, i, j, used = 0;

	buf[0] = '\0';
	for (i = 0; i < targets->count; i++) {
		char owner[48];

		listener_owner(&targets->first[i], owner, sizeof(owner));
		for (j = 0; j < shown && strcmp(owners[j], owner); j++)
			;
		if (j < shown)
			continue;
		if (shown == OWNERS_SHOWN) {
			snprintf(buf + used, len - used, ",...");
			return;
		}
		memcpy(owners[shown++], owner, sizeof(owner));
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 shown > 1 ? "," : "", owner);
		if (used >= len)
			return;
	}
}

static void print_listener_summary(struct printer *p,
				   const struct redir_rule *rule,
				   const struct target_listeners *targets)
{
	char owners[200], text[sizeof(owners) + INET6_ADDRSTRLEN + 32];

	if (!targets->known) {
		print_text(p, "  listener: unknown");
		return;
	}
	if (!targets->count) {
		print_text(p, "  no listener");
		return;
	}
	if (rule->to.min != rule->to.max) {
		snprintf(text, sizeof(text), "  listeners on %u of %u target ports",
			 targets->ports_listened, port_range_size(&rule->to));
		print_text(p, text);
		return;
	}
	format_owners(targets, owners, sizeof(owners));
	snprintf(text, sizeof(text), "  listener: %s%s%s%s", owners,
		 targets->loopback_only ? " on " : "",
		 !targets->loopback_only ? "" :
		 targets->count == 1 ? targets->first->address : "loopback",
		 targets->loopback_only ? " only" : "");
	print_text(p, text);
}

static void print_listeners(struct printer *p, const struct redir_rule *rule,
			    const struct listener_table *table)
{
	struct target_listeners targets;
	size_t i;

	listener_find_targets(table, rule, &targets);
	print_listener_summary(p, rule, &targets);
	if (!targets.known)
		return;
	print_open_array(p, "listeners");
	for (i = 0; i < targets.count; i++)
		print_listener(p, &targets.first[i]);
	print_close_array(p);
}

struct listed_rules {
	const struct rule_list *rules;
	const struct listener_table *listeners;
	const struct rule_style *style;
};

static void print_listed_rule(struct printer *p, size_t index, void *arg)
{
	const struct listed_rules *listed = arg;
	const struct redir_rule *rule = &listed->rules->rules[index];

	print_rule(p, rule, listed->style);
	print_listeners(p, rule, listed->listeners);
}

static void print_rules(const struct options *options,
			const struct rule_list *rules,
			const struct listener_table *listeners)
{
	struct service_table services = { 0 };
	struct rule_style style = {
		.with_target = true,
		.numeric = options->numeric,
		.services = &services,
	};
	struct listed_rules listed = { rules, listeners, &style };

	print_items(options, rules->len, print_listed_rule, &listed);
	service_table_free(&services);
}

static void show_list(const struct options *options,
		      const struct backend *b, const struct rule_list *rules)
{
	struct listener_table listeners;

	(void)b;
	listener_table_load(&listeners, rules);
	print_rules(options, rules, &listeners);
	listener_table_free(&listeners);
}

int cmd_list(const struct options *options, int argc, char **argv)
{
	return show_rules(options, "list", "list", argc, argv, show_list);
}
