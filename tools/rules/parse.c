// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/portredir.h>

#include "rules/parse.h"

static int parse_fail(struct parse_error *error, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int parse_fail(struct parse_error *error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error->message, sizeof(error->message), fmt, ap);
	va_end(ap);
	return -1;
}

int parse_proto(const char *word, uint8_t *proto)
{
	if (!strcmp(word, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(word, "udp"))
		*proto = IPPROTO_UDP;
	else if (!strcmp(word, "sctp"))
		*proto = IPPROTO_SCTP;
	else
		return -1;
	return 0;
}

static bool is_number(const char *word)
{
	if (!*word)
		return false;
	for (; *word; word++)
		if (!isdigit((unsigned char)*word))
			return false;
	return true;
}

static int parse_port_number(const char *word, uint16_t *port,
			     struct parse_error *error)
{
	unsigned long value = 0;
	const char *digit;

	for (digit = word; *digit && value <= 65535; digit++)
		value = value * 10 + (unsigned long)(*digit - '0');
	if (value < 1 || value > 65535)
		return parse_fail(error, "port %s out of range (expected 1..65535)",
				  word);
	*port = (uint16_t)value;
	return 0;
}

int parse_port(const char *word, uint8_t proto, uint16_t *port,
	       struct parse_error *error)
{
	const char *proto_name = rule_proto_name(proto);
	struct servent *service;

	if (is_number(word))
		return parse_port_number(word, port, error);

	service = getservbyname(word, proto_name);
	endservent();
	if (!service || !ntohs((uint16_t)service->s_port))
		return parse_fail(error,
				  "unknown %s service \"%s\" (expected a port 1..65535 or a name from /etc/services)",
				  proto_name, word);
	*port = ntohs((uint16_t)service->s_port);
	return 0;
}

static bool is_numeric_range(const char *word)
{
	for (; *word; word++)
		if (!isdigit((unsigned char)*word) && *word != '-')
			return false;
	return true;
}

/* Splits at the dash before @dash and parses both ends. */
static int parse_range_at(const char *word, const char *dash, uint8_t proto,
			  struct port_range *range, struct parse_error *error)
{
	char low[64];
	size_t low_len = (size_t)(dash - word);

	if (low_len >= sizeof(low))
		return parse_fail(error, "port \"%s\" too long", word);
	memcpy(low, word, low_len);
	low[low_len] = '\0';
	if (parse_port(low, proto, &range->min, error) ||
	    parse_port(dash + 1, proto, &range->max, error))
		return -1;
	return 0;
}

/*
 * Service names may hold dashes themselves ("http-alt"), so a word is first
 * tried whole and then split at each dash in turn.
 */
static int parse_range_words(const char *word, uint8_t proto,
			     struct port_range *range, struct parse_error *error)
{
	struct parse_error ignored;
	const char *dash;

	if (!parse_port(word, proto, &range->min, &ignored)) {
		range->max = range->min;
		return 0;
	}
	for (dash = strchr(word, '-'); dash; dash = strchr(dash + 1, '-'))
		if (!parse_range_at(word, dash, proto, range, &ignored))
			return 0;

	dash = strchr(word, '-');
	if (dash && is_numeric_range(word) && strchr(dash + 1, '-'))
		return parse_fail(error,
				  "bad port range \"%s\" (expected PORT or PORT-PORT)",
				  word);
	if (dash && is_numeric_range(word))
		return parse_range_at(word, dash, proto, range, error);
	return parse_port(word, proto, &range->min, error);
}

int parse_port_range(const char *word, uint8_t proto,
		     struct port_range *range, struct parse_error *error)
{
	if (parse_range_words(word, proto, range, error))
		return -1;
	if (range->min > range->max)
		return parse_fail(error,
				  "reversed port range %s (%u > %u; expected LOW-HIGH)",
				  word, range->min, range->max);
	return 0;
}

int split_words(char *line, char **words, int max)
{
	char *comment = strchr(line, '#');
	char *save = NULL, *word;
	int count = 0;

	if (comment)
		*comment = '\0';
	for (word = strtok_r(line, " \t\r\n", &save); word;
	     word = strtok_r(NULL, " \t\r\n", &save)) {
		if (count == max)
			return -1;
		words[count++] = word;
	}
	return count;
}

/* A rule's words sorted into flags and positional words. */
struct rule_words {
	const char *positional[3];
	int positional_count;
	int positionals_before_to;	/* -1: no "to" */
	const char *dev;
	bool ipv4, ipv6, inbound, local, steer;
};

static const char *grammar_of(enum rule_syntax syntax)
{
	return syntax == RULE_WITH_TARGET ? RULE_GRAMMAR_WITH_TARGET :
					    RULE_GRAMMAR_SELECTOR;
}

static int ports_expected(enum rule_syntax syntax)
{
	return syntax == RULE_WITH_TARGET ? 2 : 1;
}

static bool collect_flag(const char *word, struct rule_words *out)
{
	if (!strcmp(word, "-4"))
		out->ipv4 = true;
	else if (!strcmp(word, "-6"))
		out->ipv6 = true;
	else if (!strcmp(word, "--inbound"))
		out->inbound = true;
	else if (!strcmp(word, "--local"))
		out->local = true;
	else if (!strcmp(word, "--steer"))
		out->steer = true;
	else
		return false;
	return true;
}

static int collect_positional(const char *word, enum rule_syntax syntax,
			      struct rule_words *out, struct parse_error *error)
{
	if (word[0] == '-' && word[1])
		return parse_fail(error,
				  "unknown option \"%s\" (expected -4, -6, --inbound, --local, dev IFNAME or --steer)",
				  word);
	if (out->positional_count > ports_expected(syntax))
		return parse_fail(error, "unexpected \"%s\" (expected %s)",
				  word, grammar_of(syntax));
	out->positional[out->positional_count++] = word;
	return 0;
}

static int collect_words(int count, char *const *words,
			 enum rule_syntax syntax, struct rule_words *out,
			 struct parse_error *error)
{
	int i;

	memset(out, 0, sizeof(*out));
	out->positionals_before_to = -1;
	for (i = 0; i < count; i++) {
		const char *word = words[i];

		if (collect_flag(word, out))
			continue;
		if (!strcmp(word, "dev")) {
			if (i + 1 == count)
				return parse_fail(error,
						  "\"dev\" needs an interface name (expected dev IFNAME)");
			if (out->dev)
				return parse_fail(error, "\"dev\" given twice");
			out->dev = words[++i];
		} else if (!strcmp(word, "to")) {
			if (syntax == RULE_SELECTOR)
				return parse_fail(error,
						  "unexpected \"to\": no target here (expected %s)",
						  grammar_of(syntax));
			if (out->positionals_before_to >= 0)
				return parse_fail(error, "\"to\" given twice");
			out->positionals_before_to = out->positional_count;
		} else if (collect_positional(word, syntax, out, error)) {
			return -1;
		}
	}
	return 0;
}

/* Decides whether the first positional word is a protocol. */
static int parse_proto_word(const struct rule_words *words,
			    enum rule_syntax syntax, struct redir_rule *rule,
			    int *first_port, struct parse_error *error)
{
	int expected = ports_expected(syntax);
	struct port_range ignored;
	struct parse_error unused;

	rule->proto = IPPROTO_TCP;
	*first_port = 0;
	if (words->positional_count &&
	    !parse_proto(words->positional[0], &rule->proto)) {
		*first_port = 1;
		return 0;
	}
	if (words->positional_count <= expected)
		return 0;
	if (!parse_port_range(words->positional[0], IPPROTO_TCP, &ignored,
			      &unused))
		return parse_fail(error, "unexpected \"%s\" (expected %s)",
				  words->positional[expected],
				  grammar_of(syntax));
	return parse_fail(error,
			  "unknown protocol \"%s\" (expected tcp, udp or sctp)",
			  words->positional[0]);
}

static int check_port_count(const struct rule_words *words,
			    enum rule_syntax syntax, int first_port,
			    struct parse_error *error)
{
	int ports = words->positional_count - first_port;

	if (ports == 0)
		return parse_fail(error, "missing port (expected %s)",
				  grammar_of(syntax));
	if (ports < ports_expected(syntax))
		return parse_fail(error, "missing target port (expected %s)",
				  grammar_of(syntax));
	if (words->positionals_before_to >= 0 &&
	    words->positionals_before_to != first_port + 1)
		return parse_fail(error,
				  "misplaced \"to\" (expected PORT[-PORT] to PORT[-PORT])");
	return 0;
}

static int parse_ports(const struct rule_words *words,
		       enum rule_syntax syntax, struct redir_rule *rule,
		       struct parse_error *error)
{
	int first_port;

	if (parse_proto_word(words, syntax, rule, &first_port, error) ||
	    check_port_count(words, syntax, first_port, error))
		return -1;
	if (parse_port_range(words->positional[first_port], rule->proto,
			     &rule->port, error))
		return -1;
	if (syntax == RULE_SELECTOR)
		return 0;
	if (parse_port_range(words->positional[first_port + 1], rule->proto,
			     &rule->to, error))
		return -1;
	return rule_check_target(rule, error->message, sizeof(error->message));
}

static int parse_family(const struct rule_words *words,
			struct redir_rule *rule, struct parse_error *error)
{
	if (words->ipv4 && words->ipv6)
		return parse_fail(error,
				  "-4 and -6 exclude each other (leave both out for IPv4 and IPv6)");
	if (words->ipv4)
		rule->family = PORTREDIR_FAMILY_IPV4;
	else if (words->ipv6)
		rule->family = PORTREDIR_FAMILY_IPV6;
	else
		rule->family = PORTREDIR_FAMILY_ALL;
	return 0;
}

static int parse_direction(const struct rule_words *words,
			   struct redir_rule *rule, struct parse_error *error)
{
	if (words->inbound && words->local)
		return parse_fail(error,
				  "--inbound and --local exclude each other (leave both out for both directions)");
	if (words->dev && words->local)
		return parse_fail(error,
				  "\"dev %s\" matches inbound traffic only and cannot be combined with --local",
				  words->dev);
	if (words->inbound || words->dev)
		rule->direction = PORTREDIR_DIR_INBOUND;
	else if (words->local)
		rule->direction = PORTREDIR_DIR_LOCAL;
	else
		rule->direction = PORTREDIR_DIR_ALL;
	return 0;
}

static int parse_mode(const struct rule_words *words, enum rule_syntax syntax,
		      struct redir_rule *rule, struct parse_error *error)
{
	if (!words->steer)
		return 0;
	if (syntax == RULE_SELECTOR)
		return parse_fail(error,
				  "unexpected \"--steer\": the mode belongs to the rule, not to its selector (expected %s)",
				  RULE_GRAMMAR_SELECTOR);
	rule->mode = PORTREDIR_MODE_STEER;
	return rule_check_mode(rule, error->message, sizeof(error->message));
}

static int parse_interface(const char *name, struct redir_rule *rule,
			   struct parse_error *error)
{
	if (!name)
		return 0;
	if (!*name || strlen(name) >= sizeof(rule->ifname))
		return parse_fail(error,
				  "bad interface name \"%s\" (expected 1 to %zu characters)",
				  name, sizeof(rule->ifname) - 1);
	rule->ifindex = if_nametoindex(name);
	if (!rule->ifindex)
		return parse_fail(error,
				  "unknown interface \"%s\" (expected an interface of this network namespace, see ip link)",
				  name);
	strcpy(rule->ifname, name);
	return 0;
}

int parse_rule(int count, char *const *words, enum rule_syntax syntax,
	       struct redir_rule *rule, struct parse_error *error)
{
	struct rule_words sorted;

	memset(rule, 0, sizeof(*rule));
	if (collect_words(count, words, syntax, &sorted, error) ||
	    parse_ports(&sorted, syntax, rule, error) ||
	    parse_family(&sorted, rule, error) ||
	    parse_direction(&sorted, rule, error) ||
	    parse_mode(&sorted, syntax, rule, error) ||
	    parse_interface(sorted.dev, rule, error) ||
	    rule_check_selector(rule, error->message, sizeof(error->message)))
		return -1;
	return 0;
}
