// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/portredir.h>

#include "rules/rule.h"
#include "util/array.h"

int rule_list_append(struct rule_list *list, const struct redir_rule *rule)
{
	struct redir_rule *rules = array_append(list->rules, &list->cap,
						&list->len, rule, sizeof(*rule));

	if (!rules)
		return -ENOMEM;
	list->rules = rules;
	return 0;
}

void rule_list_free(struct rule_list *list)
{
	free(list->rules);
	list->rules = NULL;
	list->len = 0;
	list->cap = 0;
}

static int compare_rules(const void *a, const void *b)
{
	return rule_compare(a, b);
}

void rule_list_sort(struct rule_list *list)
{
	if (list->len > 1)
		qsort(list->rules, list->len, sizeof(*list->rules), compare_rules);
}

unsigned int port_range_size(const struct port_range *range)
{
	return (unsigned int)range->max - range->min + 1;
}

bool port_ranges_intersect(const struct port_range *a,
			   const struct port_range *b)
{
	return a->min <= b->max && b->min <= a->max;
}

const char *port_class(uint16_t port)
{
	if (port <= 1023)
		return "well-known";
	if (port <= 49151)
		return "registered";
	return "dynamic";
}

const char *rule_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	}
	return "unknown";
}

bool rule_has_interface(const struct redir_rule *rule)
{
	return rule->ifindex || rule->ifname[0];
}

static bool same_interface(const struct redir_rule *a,
			   const struct redir_rule *b)
{
	if (a->ifindex && b->ifindex)
		return a->ifindex == b->ifindex;
	return !strncmp(a->ifname, b->ifname, sizeof(a->ifname));
}

bool rules_overlap(const struct redir_rule *a, const struct redir_rule *b)
{
	if (a->proto != b->proto || !(a->family & b->family) ||
	    !(a->direction & b->direction) ||
	    !port_ranges_intersect(&a->port, &b->port))
		return false;
	if (!rule_has_interface(a) || !rule_has_interface(b))
		return true;
	return same_interface(a, b);
}

bool rule_list_explain_overlap(const struct rule_list *list,
			       const struct redir_rule *rule, char *why,
			       size_t len)
{
	char existing[RULE_FORMAT_MAX];
	size_t i;

	for (i = 0; i < list->len; i++) {
		if (!rules_overlap(&list->rules[i], rule))
			continue;
		rule_format(&list->rules[i], RULE_WITH_TARGET, existing,
			    sizeof(existing));
		snprintf(why, len, "overlaps existing rule \"%s\"", existing);
		return true;
	}
	return false;
}

/* Equal selectors keep their order in the list: one answer, every time. */
static int compare_rule_pointers(const void *a, const void *b)
{
	const struct redir_rule *const *x = a, *const *y = b;
	int diff = rule_compare(*x, *y);

	return diff ? diff : (*x > *y) - (*x < *y);
}

/*
 * Sorted by protocol and first port, each rule need only be compared with
 * those after it that start inside its range.
 */
static bool sweep(const struct redir_rule **sorted, size_t n,
		  const struct redir_rule **one,
		  const struct redir_rule **other)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n && sorted[j]->proto == sorted[i]->proto &&
		     sorted[j]->port.min <= sorted[i]->port.max; j++) {
			if (rules_overlap(sorted[i], sorted[j])) {
				*one = sorted[i];
				*other = sorted[j];
				return true;
			}
		}
	}
	return false;
}

int rule_list_find_overlap(const struct rule_list *list, size_t *one,
			   size_t *other)
{
	const struct redir_rule **sorted, *a, *b;
	size_t i;
	int found;

	if (list->len < 2)
		return 0;
	sorted = malloc(list->len * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	for (i = 0; i < list->len; i++)
		sorted[i] = &list->rules[i];
	qsort(sorted, list->len, sizeof(*sorted), compare_rule_pointers);
	found = sweep(sorted, list->len, &a, &b);
	if (found) {
		*one = (size_t)(a - list->rules);
		*other = (size_t)(b - list->rules);
	}
	free(sorted);
	return found;
}

static int compare_numbers(unsigned long a, unsigned long b)
{
	return (a > b) - (a < b);
}

int rule_compare(const struct redir_rule *a, const struct redir_rule *b)
{
	int diff;

	diff = compare_numbers(a->proto, b->proto);
	if (!diff)
		diff = compare_numbers(a->port.min, b->port.min);
	if (!diff)
		diff = compare_numbers(a->port.max, b->port.max);
	if (!diff)
		diff = compare_numbers(a->family, b->family);
	if (!diff)
		diff = compare_numbers(a->direction, b->direction);
	if (!diff)
		diff = strncmp(a->ifname, b->ifname, sizeof(a->ifname));
	return diff;
}

static int refuse(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool port_range_valid(const struct port_range *range)
{
	return range->min && range->min <= range->max;
}

int rule_check_selector(const struct redir_rule *rule, char *why, size_t len)
{
	if (rule->proto != IPPROTO_TCP && rule->proto != IPPROTO_UDP &&
	    rule->proto != IPPROTO_SCTP)
		return refuse(why, len,
			      "unsupported protocol: expected tcp, udp or sctp");
	if (!port_range_valid(&rule->port))
		return refuse(why, len,
			      "bad port range: expected 1-65535, low end first");
	if (!rule->family || rule->family & ~PORTREDIR_FAMILY_ALL ||
	    !rule->direction || rule->direction & ~PORTREDIR_DIR_ALL)
		return refuse(why, len, "bad family or direction mask");
	if (rule_has_interface(rule) &&
	    rule->direction != PORTREDIR_DIR_INBOUND)
		return refuse(why, len,
			      "an interface only selects inbound traffic: use --inbound");
	return 0;
}

int rule_check_target(const struct redir_rule *rule, char *why, size_t len)
{
	unsigned int size = port_range_size(&rule->port);
	unsigned int to_size = port_range_size(&rule->to);

	if (!port_range_valid(&rule->to))
		return refuse(why, len,
			      "bad target port range: expected 1-65535, low end first");
	if (to_size == 1 || to_size == size)
		return 0;
	return refuse(why, len,
		      "target range %u-%u has %u ports but %u-%u has %u (expected a single target port or a range of %u)",
		      rule->to.min, rule->to.max, to_size, rule->port.min,
		      rule->port.max, size, size);
}

/* Steering hands a TCP connection to a listener: no other protocol has one. */
int rule_check_mode(const struct redir_rule *rule, char *why, size_t len)
{
	if (rule->mode == PORTREDIR_MODE_NAT)
		return 0;
	if (rule->mode != PORTREDIR_MODE_STEER)
		return refuse(why, len, "unknown mode %u", rule->mode);
	if (rule->proto != IPPROTO_TCP)
		return refuse(why, len,
			      "--steer works for TCP only: %s keeps NAT (leave --steer out)",
			      rule_proto_name(rule->proto));
	return 0;
}

static int format_range(char *buf, size_t len, const struct port_range *r)
{
	if (r->min == r->max)
		return snprintf(buf, len, "%u", r->min);
	return snprintf(buf, len, "%u-%u", r->min, r->max);
}

int rule_format(const struct redir_rule *rule, enum rule_syntax syntax,
		char *buf, size_t len)
{
	char port[16], to[16];
	const char *family = "", *direction = "";

	format_range(port, sizeof(port), &rule->port);
	format_range(to, sizeof(to), &rule->to);
	if (rule->family == PORTREDIR_FAMILY_IPV4)
		family = " -4";
	else if (rule->family == PORTREDIR_FAMILY_IPV6)
		family = " -6";
	/* "dev" alone already means inbound only. */
	if (rule->direction == PORTREDIR_DIR_LOCAL)
		direction = " --local";
	else if (rule->direction == PORTREDIR_DIR_INBOUND && !rule->ifname[0])
		direction = " --inbound";

	return snprintf(buf, len, "%s %s%s%s%s%s%s%.*s%s",
			rule_proto_name(rule->proto), port,
			syntax == RULE_WITH_TARGET ? " to " : "",
			syntax == RULE_WITH_TARGET ? to : "",
			family, direction,
			rule->ifname[0] ? " dev " : "",
			(int)sizeof(rule->ifname), rule->ifname,
			syntax == RULE_WITH_TARGET &&
			rule->mode == PORTREDIR_MODE_STEER ? " --steer" : "");
}
