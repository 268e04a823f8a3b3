// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the rule parser, the save syntax and the port arithmetic.
 * TAP output; needs no privileges and no kernel support.
 */
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <linux/portredir.h>

#include "rules/parse.h"
#include "tap.h"

/* Parses @line as the words of a rule (what follows "add" or "del"). */
static int parse_line(const char *line, enum rule_syntax syntax,
		      struct redir_rule *rule, struct parse_error *error)
{
	char copy[256], *words[32];
	int count;

	snprintf(copy, sizeof(copy), "%s", line);
	count = split_words(copy, words, 32);
	error->message[0] = '\0';
	return parse_rule(count, words, syntax, rule, error);
}

static bool rule_is(const struct redir_rule *rule, uint8_t proto,
		    unsigned int port_min, unsigned int port_max,
		    unsigned int to_min, unsigned int to_max,
		    uint8_t family, uint8_t direction)
{
	return rule->proto == proto && rule->port.min == port_min &&
	       rule->port.max == port_max && rule->to.min == to_min &&
	       rule->to.max == to_max && rule->family == family &&
	       rule->direction == direction;
}

static void expect_rule(struct tally *t, const char *line, uint8_t proto,
			unsigned int port_min, unsigned int port_max,
			unsigned int to_min, unsigned int to_max,
			uint8_t family, uint8_t direction)
{
	struct parse_error error;
	struct redir_rule rule;
	bool ok;

	ok = !parse_line(line, RULE_WITH_TARGET, &rule, &error) &&
	     rule_is(&rule, proto, port_min, port_max, to_min, to_max, family,
		     direction) && !rule.ifindex;
	report(t, ok, "add %s%s%s", line, ok ? "" : ": ",
	       ok ? "" : error.message);
}

static void expect_error(struct tally *t, const char *line,
			 enum rule_syntax syntax, const char *expected)
{
	struct parse_error error;
	struct redir_rule rule;
	bool ok;

	ok = parse_line(line, syntax, &rule, &error) &&
	     strstr(error.message, expected);
	report(t, ok, "%s %s fails with \"%s\"%s%s",
	       syntax == RULE_WITH_TARGET ? "add" : "del", line, expected,
	       ok ? "" : ", got: ", ok ? "" : error.message);
}

static void test_numbers_and_defaults(struct tally *t)
{
	const uint8_t all = PORTREDIR_FAMILY_ALL, both = PORTREDIR_DIR_ALL;

	expect_rule(t, "80 8080", IPPROTO_TCP, 80, 80, 8080, 8080, all, both);
	expect_rule(t, "tcp 80 to 8080", IPPROTO_TCP, 80, 80, 8080, 8080,
		    all, both);
	expect_rule(t, "udp 53 to 5353 -6 --local", IPPROTO_UDP, 53, 53,
		    5353, 5353, PORTREDIR_FAMILY_IPV6, PORTREDIR_DIR_LOCAL);
	expect_rule(t, "sctp 1 65535 -4 --inbound", IPPROTO_SCTP, 1, 1,
		    65535, 65535, PORTREDIR_FAMILY_IPV4, PORTREDIR_DIR_INBOUND);
	expect_rule(t, "8000-8010 to 9000-9010", IPPROTO_TCP, 8000, 8010,
		    9000, 9010, all, both);
	expect_rule(t, "8000-8010 9000", IPPROTO_TCP, 8000, 8010, 9000, 9000,
		    all, both);
	expect_rule(t, "1-65535 1-65535", IPPROTO_TCP, 1, 65535, 1, 65535,
		    all, both);
	expect_rule(t, "--local 80 -4 8080", IPPROTO_TCP, 80, 80, 8080, 8080,
		    PORTREDIR_FAMILY_IPV4, PORTREDIR_DIR_LOCAL);
}

static void test_service_names(struct tally *t)
{
	const uint8_t all = PORTREDIR_FAMILY_ALL, both = PORTREDIR_DIR_ALL;
	struct servent *http = getservbyname("http", "tcp");

	endservent();
	if (!http) {
		skip(t, "service names", "/etc/services is missing (install netbase)");
		return;
	}
	expect_rule(t, "http 8080", IPPROTO_TCP, 80, 80, 8080, 8080, all, both);
	expect_rule(t, "https to http-alt", IPPROTO_TCP, 443, 443, 8080, 8080,
		    all, both);
	expect_rule(t, "udp domain 5353", IPPROTO_UDP, 53, 53, 5353, 5353,
		    all, both);
	expect_rule(t, "http-https 8000", IPPROTO_TCP, 80, 443, 8000, 8000,
		    all, both);
	expect_error(t, "htp 8080", RULE_WITH_TARGET,
		     "unknown tcp service \"htp\" (expected a port 1..65535 or a name from /etc/services)");
	expect_error(t, "udp 53 htp", RULE_WITH_TARGET,
		     "unknown udp service \"htp\"");
}

static void test_bad_ports(struct tally *t)
{
	expect_error(t, "0 8080", RULE_WITH_TARGET, "port 0 out of range");
	expect_error(t, "80 65536", RULE_WITH_TARGET, "port 65536 out of range");
	expect_error(t, "99999999999999999999999 80", RULE_WITH_TARGET,
		     "out of range (expected 1..65535)");
	expect_error(t, "0-80 8080", RULE_WITH_TARGET, "port 0 out of range");
	expect_error(t, "90-80 8080", RULE_WITH_TARGET,
		     "reversed port range 90-80");
	expect_error(t, "80 9090-9080", RULE_WITH_TARGET,
		     "reversed port range 9090-9080");
	expect_error(t, "1-2-3 80", RULE_WITH_TARGET, "bad port range \"1-2-3\"");
	expect_error(t, "8000-8010 9000-9005", RULE_WITH_TARGET,
		     "target range 9000-9005 has 6 ports but 8000-8010 has 11");
}

static void test_bad_grammar(struct tally *t)
{
	expect_error(t, "icmp 80 8080", RULE_WITH_TARGET,
		     "unknown protocol \"icmp\" (expected tcp, udp or sctp)");
	expect_error(t, "80", RULE_WITH_TARGET, "missing target port");
	expect_error(t, "tcp", RULE_WITH_TARGET, "missing port");
	expect_error(t, "80 8080 9090", RULE_WITH_TARGET, "unexpected \"9090\"");
	expect_error(t, "to 80 8080", RULE_WITH_TARGET, "misplaced \"to\"");
	expect_error(t, "80 8080 -4 -6", RULE_WITH_TARGET,
		     "-4 and -6 exclude each other");
	expect_error(t, "80 8080 --inbound --local", RULE_WITH_TARGET,
		     "--inbound and --local exclude each other");
	expect_error(t, "80 8080 --foo", RULE_WITH_TARGET,
		     "unknown option \"--foo\"");
	expect_error(t, "80 8080 dev", RULE_WITH_TARGET, "\"dev\" needs");
	expect_error(t, "80 8080 dev lo --local", RULE_WITH_TARGET,
		     "cannot be combined with --local");
	expect_error(t, "80 8080 dev no-such-if0", RULE_WITH_TARGET,
		     "unknown interface \"no-such-if0\"");
	expect_error(t, "80 8080", RULE_SELECTOR, "unexpected \"8080\"");
	expect_error(t, "80 to 8080", RULE_SELECTOR, "unexpected \"to\"");
}

static void test_selector_and_dev(struct tally *t)
{
	struct parse_error error;
	struct redir_rule rule;
	bool ok;

	ok = !parse_line("udp 53 -4", RULE_SELECTOR, &rule, &error) &&
	     rule_is(&rule, IPPROTO_UDP, 53, 53, 0, 0, PORTREDIR_FAMILY_IPV4,
		     PORTREDIR_DIR_ALL);
	report(t, ok, "del udp 53 -4%s%s", ok ? "" : ": ",
	       ok ? "" : error.message);

	ok = !parse_line("80 8080 dev lo", RULE_WITH_TARGET, &rule, &error) &&
	     rule.direction == PORTREDIR_DIR_INBOUND &&
	     rule.ifindex == if_nametoindex("lo") && !strcmp(rule.ifname, "lo");
	report(t, ok, "dev without a direction means inbound only%s%s",
	       ok ? "" : ": ", ok ? "" : error.message);
}

static void test_round_trip(struct tally *t)
{
	static const char *const lines[] = {
		"tcp 80 to 8080",
		"udp 53 to 5353 -6 --local",
		"sctp 1000-2000 to 3000-4000 -4 --inbound",
		"tcp 1-65535 to 1",
		"tcp 443 to 8443 dev lo",
		"udp 5000-5010 to 6000 -4 --inbound dev lo",
	};
	char text[RULE_FORMAT_MAX];
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct redir_rule rule, again;
		struct parse_error error = { "" };
		bool ok;

		ok = !parse_line(lines[i], RULE_WITH_TARGET, &rule, &error);
		rule_format(&rule, RULE_WITH_TARGET, text, sizeof(text));
		ok = ok && !parse_line(text, RULE_WITH_TARGET, &again, &error) &&
		     !memcmp(&rule, &again, sizeof(rule));
		report(t, ok, "round trip \"%s\" -> \"%s\"%s%s", lines[i], text,
		       ok ? "" : ": ", ok ? "" : error.message);
	}
}

static void test_arithmetic(struct tally *t)
{
	struct port_range all = { 1, 65535 }, low = { 80, 90 }, high = { 91, 95 };
	struct redir_rule a = { .proto = IPPROTO_TCP, .port = { 80, 90 },
				.family = PORTREDIR_FAMILY_ALL,
				.direction = PORTREDIR_DIR_ALL };
	struct redir_rule b = a;

	report(t, port_range_size(&all) == 65535 && port_range_size(&low) == 11,
	       "range sizes");
	report(t, port_ranges_intersect(&all, &low) &&
		  !port_ranges_intersect(&low, &high), "range intersection");
	report(t, !strcmp(port_class(1023), "well-known") &&
		  !strcmp(port_class(1024), "registered") &&
		  !strcmp(port_class(49151), "registered") &&
		  !strcmp(port_class(49152), "dynamic"), "port classes");

	b.port = (struct port_range){ 90, 100 };
	report(t, rules_overlap(&a, &b), "rules sharing port 90 overlap");
	b.family = PORTREDIR_FAMILY_IPV6;
	a.family = PORTREDIR_FAMILY_IPV4;
	report(t, !rules_overlap(&a, &b), "rules of disjoint families do not");
	b.family = a.family;
	a.direction = b.direction = PORTREDIR_DIR_INBOUND;
	strcpy(a.ifname, "eth0");
	strcpy(b.ifname, "eth1");
	report(t, !rules_overlap(&a, &b), "rules on different interfaces do not");
	b.ifname[0] = '\0';
	report(t, rules_overlap(&a, &b), "a rule on any interface overlaps");
}

static void test_split_words(struct tally *t)
{
	char line[] = "  tcp 80\tto 8080  # a comment\n";
	char blank[] = "   # only a comment", *words[8];
	int count = split_words(line, words, 8);

	report(t, count == 4 && !strcmp(words[3], "8080") &&
		  split_words(blank, words, 8) == 0,
	       "split words, comments and blank lines");
}

int main(void)
{
	struct tally tally = { 0 };

	test_numbers_and_defaults(&tally);
	test_service_names(&tally);
	test_bad_ports(&tally);
	test_bad_grammar(&tally);
	test_selector_and_dev(&tally);
	test_round_trip(&tally);
	test_arithmetic(&tally);
	test_split_words(&tally);

	return tally_finish(&tally);
}
