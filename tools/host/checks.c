// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/portredir.h>

#include "host/checks.h"

#define EPHEMERAL_RANGE_PATH "/proc/sys/net/ipv4/ip_local_port_range"

static void read_ephemeral_range(struct port_range *range)
{
	FILE *file = fopen(EPHEMERAL_RANGE_PATH, "r");
	unsigned int low, high;

	range->min = range->max = 0;
	if (!file)
		return;
	if (fscanf(file, "%u %u", &low, &high) == 2 && low <= high &&
	    high <= 65535) {
		range->min = (uint16_t)low;
		range->max = (uint16_t)high;
	}
	fclose(file);
}

void host_facts_load(struct host_facts *facts, const struct rule_list *rules)
{
	read_ephemeral_range(&facts->ephemeral);
	listener_table_load(&facts->listeners, rules);
	foreign_nat_load(&facts->foreign_nat);
}

void host_facts_free(struct host_facts *facts)
{
	listener_table_free(&facts->listeners);
	foreign_nat_free(&facts->foreign_nat);
}

/* "tcp 80" (@noun false), "tcp port 80", "ports 80-89" (@what ""). */
static void format_ports(char *buf, size_t len, const char *what, bool noun,
			 const struct port_range *range)
{
	bool one = range->min == range->max;
	const char *word = !noun ? "" : one ? "port " : "ports ";
	const char *space = what[0] ? " " : "";

	if (one)
		snprintf(buf, len, "%s%s%s%u", what, space, word, range->min);
	else
		snprintf(buf, len, "%s%s%s%u-%u", what, space, word,
			 range->min, range->max);
}

/* What a warning says about the rule and its target ports. */
struct subject {
	char rule[RULE_FORMAT_MAX];
	char selector[24];	/* "tcp 80" or "tcp 8000-8099" */
	char ports[32];		/* "tcp port 8080" or "tcp ports 9000-9010" */
	warn_fn warn;
	void *arg;
};

static void say(const struct subject *subject, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const struct subject *subject, const char *fmt, ...)
{
	char sentence[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sentence, sizeof(sentence), fmt, ap);
	va_end(ap);
	subject->warn(subject->arg, sentence);
}

static void check_ephemeral(const struct host_facts *facts,
			    const struct redir_rule *rule,
			    const struct subject *subject)
{
	if (!facts->ephemeral.max ||
	    !port_ranges_intersect(&rule->to, &facts->ephemeral))
		return;
	say(subject,
	    "the target of \"%s\" lies in the ephemeral port range %u-%u (net.ipv4.ip_local_port_range), where outgoing connections may take it",
	    subject->rule, facts->ephemeral.min, facts->ephemeral.max);
}

static void check_family(const struct target_listeners *targets,
			 const struct redir_rule *rule,
			 const struct subject *subject)
{
	if ((rule->family & PORTREDIR_FAMILY_IPV4) && !targets->accepts_ipv4)
		say(subject,
		    "nothing listens on %s over IPv4, but \"%s\" redirects IPv4 there",
		    subject->ports, subject->rule);
	if ((rule->family & PORTREDIR_FAMILY_IPV6) && !targets->accepts_ipv6)
		say(subject,
		    "nothing listens on %s over IPv6, but \"%s\" redirects IPv6 there",
		    subject->ports, subject->rule);
}

static void check_listeners(const struct host_facts *facts,
			    const struct redir_rule *rule,
			    const struct subject *subject)
{
	struct target_listeners targets;
	char owner[48];

	listener_find_targets(&facts->listeners, rule, &targets);
	if (!targets.known)
		return;
	if (!targets.count) {
		say(subject, "nothing listens on %s, the target of \"%s\"",
		    subject->ports, subject->rule);
		return;
	}
	listener_owner(targets.first, owner, sizeof(owner));
	/* Inbound connections keep their address, never a loopback one. */
	if (targets.loopback_only && (rule->direction & PORTREDIR_DIR_INBOUND))
		say(subject,
		    "%s listens on %s at %s only, but \"%s\" keeps the address inbound connections were sent to, where they will be refused (listen on 0.0.0.0 or :: instead)",
		    owner, subject->ports, targets.first->address, subject->rule);
	check_family(&targets, rule, subject);
}

static const char *nat_order(const struct foreign_nat *nat)
{
	if (nat->priority < RULE_NAT_PRIORITY)
		return "and runs first";
	if (nat->priority > RULE_NAT_PRIORITY)
		return "but runs after portredir, which takes those connections";
	/* Of hooks at one priority, the one registered last runs first. */
	return "at portredir's priority, where the one loaded last runs first";
}

/*
 * "tcp 80: table ip nat chain PREROUTING also translates port 80 and runs
 * first"
 */
static void check_foreign_nat(const struct host_facts *facts,
			      const struct redir_rule *rule,
			      const struct subject *subject)
{
	const struct foreign_nat *nat;
	struct port_range both;
	char ports[40];
	size_t i;

	for (i = 0; i < facts->foreign_nat.len; i++) {
		nat = &facts->foreign_nat.items[i];
		if (!(nat->family & rule->family) ||
		    !(nat->direction & rule->direction) ||
		    (nat->proto && nat->proto != rule->proto) ||
		    !port_ranges_intersect(&nat->ports, &rule->port))
			continue;
		both.min = nat->ports.min > rule->port.min ? nat->ports.min :
							       rule->port.min;
		both.max = nat->ports.max < rule->port.max ? nat->ports.max :
							       rule->port.max;
		if (!nat->ports.min && nat->ports.max == 65535)
			snprintf(ports, sizeof(ports), "every port");
		else
			format_ports(ports, sizeof(ports), "", true, &both);
		say(subject, "%s: table %s %s chain %s also translates %s %s",
		    subject->selector, nat->family_name, nat->table, nat->chain,
		    ports, nat_order(nat));
	}
}

void check_rule(const struct host_facts *facts, const struct redir_rule *rule,
		warn_fn warn, void *arg)
{
	struct subject subject = { .warn = warn, .arg = arg };
	const char *proto = rule_proto_name(rule->proto);

	rule_format(rule, RULE_WITH_TARGET, subject.rule, sizeof(subject.rule));
	format_ports(subject.selector, sizeof(subject.selector), proto, false,
		     &rule->port);
	format_ports(subject.ports, sizeof(subject.ports), proto, true,
		     &rule->to);

	check_ephemeral(facts, rule, &subject);
	check_listeners(facts, rule, &subject);
	check_foreign_nat(facts, rule, &subject);
}
