// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the nft element codec (nft_elems.c): every shape of rule
 * written as map elements and read back into the same rule. TAP output;
 * needs no privileges and no kernel support.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <linux/portredir.h>

#include "backends/nft/nft_elems.h"
#include "backends/nft/nft_layout.h"
#include "nft_round_trip.h"
#include "rules/rule.h"
#include "tap.h"

static struct redir_rule make_rule(uint8_t proto, uint16_t lo, uint16_t hi,
				   uint16_t to_lo, uint16_t to_hi,
				   uint8_t family, uint8_t direction,
				   const char *ifname)
{
	struct redir_rule rule = {
		.proto = proto, .port = { lo, hi }, .to = { to_lo, to_hi },
		.family = family, .direction = direction,
	};

	snprintf(rule.ifname, sizeof(rule.ifname), "%s", ifname);
	return rule;
}

static void expect_round_trip(struct tally *t, const char *name,
			      const struct redir_rule *rules, size_t count)
{
	struct rule_list in = { 0 }, out = { 0 };
	char why[256] = "";
	size_t i;
	bool ok = true;

	for (i = 0; i < count && ok; i++)
		ok = !rule_list_append(&in, &rules[i]);
	ok = ok && !nft_round_trip(&in, &out, why, sizeof(why)) &&
	     rule_lists_equal(&in, &out);
	report(t, ok, "round trip: %s%s%s", name, ok || !why[0] ? "" : ": ",
	       ok ? "" : why[0] ? why : " (different rules came back)");
	rule_list_free(&in);
	rule_list_free(&out);
}

#define ALL_FAMILIES	PORTREDIR_FAMILY_ALL
#define BOTH_WAYS	PORTREDIR_DIR_ALL
#define INBOUND		PORTREDIR_DIR_INBOUND

static void test_shapes(struct tally *t)
{
	static const struct {
		const char *name;
		struct redir_rule rule;
	} cases[] = {
		{ "single port", { IPPROTO_TCP, { 80, 80 }, { 8080, 8080 }, ALL_FAMILIES, BOTH_WAYS, 0, "", PORTREDIR_MODE_NAT, 0 } },
		{ "range to one port", { IPPROTO_TCP, { 8000, 8099 }, { 9000, 9000 }, ALL_FAMILIES, BOTH_WAYS, 0, "", PORTREDIR_MODE_NAT, 0 } },
		{ "range to range, with offset", { IPPROTO_UDP, { 8000, 8009 }, { 9000, 9009 }, ALL_FAMILIES, BOTH_WAYS, 0, "", PORTREDIR_MODE_NAT, 0 } },
		{ "range onto itself", { IPPROTO_SCTP, { 10, 19 }, { 10, 19 }, ALL_FAMILIES, BOTH_WAYS, 0, "", PORTREDIR_MODE_NAT, 0 } },
		{ "every port to one", { IPPROTO_TCP, { 1, 65535 }, { 1, 1 }, ALL_FAMILIES, BOTH_WAYS, 0, "", PORTREDIR_MODE_NAT, 0 } },
		{ "range up to 65535 (open end)", { IPPROTO_TCP, { 65000, 65535 }, { 80, 80 }, ALL_FAMILIES, BOTH_WAYS, 0, "", PORTREDIR_MODE_NAT, 0 } },
		{ "port 65535", { IPPROTO_UDP, { 65535, 65535 }, { 1, 1 }, ALL_FAMILIES, BOTH_WAYS, 0, "", PORTREDIR_MODE_NAT, 0 } },
		{ "offset range up to 65535", { IPPROTO_TCP, { 65530, 65535 }, { 100, 105 }, ALL_FAMILIES, BOTH_WAYS, 0, "", PORTREDIR_MODE_NAT, 0 } },
		{ "every port onto itself, in many messages", { IPPROTO_UDP, { 1, 65535 }, { 1, 65535 }, ALL_FAMILIES, BOTH_WAYS, 0, "", PORTREDIR_MODE_NAT, 0 } },
		{ "dev-bound port", { IPPROTO_TCP, { 443, 443 }, { 8443, 8443 }, ALL_FAMILIES, INBOUND, 0, "eth0", PORTREDIR_MODE_NAT, 0 } },
		{ "dev-bound range to one port", { IPPROTO_UDP, { 1000, 2000 }, { 3000, 3000 }, PORTREDIR_FAMILY_IPV4, INBOUND, 0, "lo", PORTREDIR_MODE_NAT, 0 } },
		{ "dev-bound offset range", { IPPROTO_SCTP, { 10, 12 }, { 20, 22 }, PORTREDIR_FAMILY_IPV6, INBOUND, 0, "wlan0", PORTREDIR_MODE_NAT, 0 } },
		{ "dev of 15 characters", { IPPROTO_TCP, { 1, 65535 }, { 9, 9 }, ALL_FAMILIES, INBOUND, 0, "abcdefghijklmno", PORTREDIR_MODE_NAT, 0 } },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_round_trip(t, cases[i].name, &cases[i].rule, 1);
}

/* Neighbours in one map: an interval's end shares its key with the next start. */
static void test_neighbours(struct tally *t)
{
	const struct redir_rule rules[] = {
		make_rule(IPPROTO_TCP, 80, 89, 8080, 8080, ALL_FAMILIES, BOTH_WAYS, ""),
		make_rule(IPPROTO_TCP, 90, 90, 9090, 9090, ALL_FAMILIES, BOTH_WAYS, ""),
		make_rule(IPPROTO_TCP, 91, 99, 9100, 9108, ALL_FAMILIES, BOTH_WAYS, ""),
		make_rule(IPPROTO_TCP, 100, 200, 1, 1, ALL_FAMILIES, BOTH_WAYS, ""),
		make_rule(IPPROTO_TCP, 1000, 1000, 1, 1, ALL_FAMILIES, INBOUND, "eth0"),
		make_rule(IPPROTO_TCP, 1000, 1000, 2, 2, ALL_FAMILIES, INBOUND, "eth1"),
		make_rule(IPPROTO_TCP, 1001, 1002, 3, 4, ALL_FAMILIES, INBOUND, "eth0"),
	};

	expect_round_trip(t, "adjacent rules in one map",
			  rules, sizeof(rules) / sizeof(rules[0]));
}

/* Every map: each protocol, family and direction, with and without dev. */
static void test_every_map(struct tally *t)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
	struct redir_rule rules[3 * 3 * 4];
	unsigned int p, f, d, n = 0;
	char name[64];

	for (p = 0; p < 3; p++) {
		n = 0;
		for (f = 1; f <= 3; f++) {
			for (d = 1; d <= 3; d++, n++)
				rules[n] = make_rule(protos[p], 10 * n + 1, 10 * n + 5,
						     1000 + n, 1000 + n, f, d, "");
			rules[n++] = make_rule(protos[p], 500, 600, 2000, 2100,
					       f, INBOUND, "eth0");
		}
		snprintf(name, sizeof(name), "%s, every family and direction",
			 rule_proto_name(protos[p]));
		expect_round_trip(t, name, rules, n);
	}
}

/* After a flush, or the del of a map's last rule, a dump has no element. */
static void test_empty_maps(struct tally *t)
{
	struct nft_raw_list raw = { 0 };
	struct rule_list rules = { 0 };
	unsigned int map, bad = 0;
	char why[256];

	for (map = 0; map < NFT_MAP_COUNT; map++)
		if (nft_raw_to_rules(map, &raw, &rules, why, sizeof(why)) ||
		    rules.len)
			bad++;
	report(t, !bad, "an empty map reads as no rule (%u maps wrong)", bad);
}

int main(void)
{
	struct tally tally = { 0 };

	test_shapes(&tally);
	test_neighbours(&tally);
	test_every_map(&tally);
	test_empty_maps(&tally);
	return tally_finish(&tally);
}
