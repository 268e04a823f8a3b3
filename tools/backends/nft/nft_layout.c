// SPDX-License-Identifier: GPL-2.0
/*
 * The objects of table inet portredir: how they are built, and how what the
 * kernel returns is recognised as ours. One builder serves both, so the
 * check cannot drift from what we create.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/portredir.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "backends/nft/nft_layout.h"

/* nft(8)'s data type numbers, so that `nft list` prints our maps. */
#define NFT_TYPE_INET_SERVICE	13
#define NFT_TYPE_IFNAME		41
#define NFT_TYPE_BITS		6

static const struct {
	uint8_t proto;
	const char *name;
} protos[] = {
	{ IPPROTO_TCP, "tcp" },
	{ IPPROTO_UDP, "udp" },
	{ IPPROTO_SCTP, "sctp" },
};

static const struct {
	uint8_t family;
	const char *suffix;
	const char *text;
} families[] = {
	{ PORTREDIR_FAMILY_ALL, "", "IPv4 and IPv6" },
	{ PORTREDIR_FAMILY_IPV4, "_ip", "IPv4" },
	{ PORTREDIR_FAMILY_IPV6, "_ip6", "IPv6" },
};

static const struct {
	uint8_t direction;
	bool dev;
	const char *suffix;
	const char *text;
} directions[] = {
	{ PORTREDIR_DIR_ALL, false, "", "inbound and local" },
	{ PORTREDIR_DIR_INBOUND, false, "_inbound", "inbound" },
	{ PORTREDIR_DIR_LOCAL, false, "_local", "local" },
	{ PORTREDIR_DIR_INBOUND, true, "_inbound_dev", "inbound by interface" },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One map for each protocol, family and direction: map_split() below. */
static_assert(NFT_MAP_COUNT ==
	      COUNT(protos) * COUNT(families) * COUNT(directions),
	      "NFT_MAP_COUNT counts the maps the tables above make");

static const struct {
	const char *name;
	uint32_t hook;
} chains[NFT_CHAIN_COUNT] = {
	[NFT_CHAIN_PREROUTING] = { "prerouting", NF_INET_PRE_ROUTING },
	[NFT_CHAIN_OUTPUT] = { "output", NF_INET_LOCAL_OUT },
};

/* map = (proto * families + family) * directions + direction */
static void map_split(unsigned int map, unsigned int *p, unsigned int *f,
		      unsigned int *d)
{
	map %= NFT_MAP_COUNT;
	*d = map % COUNT(directions);
	map /= COUNT(directions);
	*f = map % COUNT(families);
	*p = map / COUNT(families);
}

void nft_map_class(unsigned int map, struct nft_map_class *class)
{
	unsigned int p, f, d;

	map_split(map, &p, &f, &d);
	class->proto = protos[p].proto;
	class->family = families[f].family;
	class->direction = directions[d].direction;
	class->dev = directions[d].dev;
}

unsigned int nft_map_of_rule(const struct redir_rule *rule)
{
	unsigned int map;
	struct nft_map_class c;

	for (map = 0; map < NFT_MAP_COUNT; map++) {
		nft_map_class(map, &c);
		if (c.proto == rule->proto && c.family == rule->family &&
		    c.direction == rule->direction &&
		    c.dev == !!rule->ifname[0])
			return map;
	}
	return NFT_MAP_COUNT;	/* callers validate rules first */
}

const char *nft_map_name(unsigned int map, char buf[NFT_MAP_NAME_MAX])
{
	unsigned int p, f, d;

	map_split(map, &p, &f, &d);
	/* "tcp" alone is an nft keyword: nft -f could not read it back. */
	snprintf(buf, NFT_MAP_NAME_MAX, "redir_%s%s%s%s", protos[p].name,
		 families[f].suffix, directions[d].suffix,
		 map < NFT_MAP_COUNT ? "" : "_alt");
	return buf;
}

unsigned int nft_map_other_id(unsigned int map)
{
	return (map + NFT_MAP_COUNT) % NFT_MAP_IDS;
}

int nft_map_by_name(const char *name)
{
	char buf[NFT_MAP_NAME_MAX];
	unsigned int map;

	for (map = 0; map < NFT_MAP_IDS; map++)
		if (!strcmp(name, nft_map_name(map, buf)))
			return map;
	return -1;
}

bool nft_table_ours(const char *table, uint32_t family)
{
	return table && !strcmp(table, NFT_TABLE_NAME) &&
	       family == NFPROTO_INET;
}

bool nft_map_in_chain(unsigned int map, enum nft_chain_id chain)
{
	struct nft_map_class c;

	nft_map_class(map, &c);
	if (chain == NFT_CHAIN_PREROUTING)
		return c.direction & PORTREDIR_DIR_INBOUND;
	return c.direction & PORTREDIR_DIR_LOCAL;
}

const char *nft_chain_name(enum nft_chain_id chain)
{
	return chains[chain].name;
}

static void put_comment(void *object, int udata_type,
			void (*set)(void *, const void *, uint32_t),
			const char *text)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

	/* A comment only helps people reading `nft list`: skip it on ENOMEM. */
	if (!ud)
		return;
	if (nftnl_udata_put_strz(ud, udata_type, text))
		set(object, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
}

static void set_table_udata(void *t, const void *data, uint32_t len)
{
	nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, data, len);
}

static void set_set_udata(void *s, const void *data, uint32_t len)
{
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, data, len);
}

struct nftnl_table *nft_table_build(void)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return NULL;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	put_comment(t, NFTNL_UDATA_TABLE_COMMENT, set_table_udata,
		    "managed by portredir: change it with the portredir tool");
	return t;
}

struct nftnl_chain *nft_chain_build(enum nft_chain_id chain)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		return NULL;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chains[chain].name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, chains[chain].hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, RULE_NAT_PRIORITY);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	return c;
}

static uint32_t map_flags(bool dev)
{
	/* An interval map of one field is an rbtree: O(log n) lookups. */
	return NFT_SET_MAP | NFT_SET_INTERVAL | (dev ? NFT_SET_CONCAT : 0);
}

static void map_describe(unsigned int map, char *buf, size_t len)
{
	unsigned int p, f, d;

	map_split(map, &p, &f, &d);
	snprintf(buf, len, "portredir %s rules, %s, %s", protos[p].name,
		 families[f].text, directions[d].text);
}

static void map_set_key(struct nftnl_set *s, bool dev)
{
	static const uint8_t fields[] = { IFNAMSIZ, NFT_PORT_LEN };

	if (!dev) {
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_TYPE_INET_SERVICE);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, NFT_PORT_LEN);
		return;
	}
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
			  NFT_TYPE_IFNAME << NFT_TYPE_BITS |
			  NFT_TYPE_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, NFT_DEV_KEY_LEN);
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
}

struct nftnl_set *nft_map_build(unsigned int map)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_expr *counter = nftnl_expr_alloc("counter");
	char name[NFT_MAP_NAME_MAX], text[96];
	struct nft_map_class c;

	if (!s || !counter) {
		if (s)	/* libnftnl's free functions take no NULL */
			nftnl_set_free(s);
		if (counter)
			nftnl_expr_free(counter);
		return NULL;
	}
	nft_map_class(map, &c);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, nft_map_name(map, name));
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, map + 1);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, map_flags(c.dev));
	map_set_key(s, c.dev);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_TYPE_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, NFT_PORT_LEN);
	/* Every element gets a counter: the connections its rule redirected. */
	nftnl_set_add_expr(s, counter);
	map_describe(map, text, sizeof(text));
	put_comment(s, NFTNL_UDATA_SET_COMMENT, set_set_udata, text);
	return s;
}

static bool add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return false;
	nftnl_rule_add_expr(r, e);
	return true;
}

static bool add_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	}
	return add_expr(r, e);
}

static bool add_cmp(struct nftnl_rule *r, const void *value, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, value, len);
	}
	return add_expr(r, e);
}

static bool add_cmp_u8(struct nftnl_rule *r, uint8_t value)
{
	return add_cmp(r, &value, sizeof(value));
}

/*
 * ct status ! confirmed: the NAT chains also see the first packet of a
 * connection older than our table (its retransmitted SYN, say), which NAT
 * can no longer bind; looking it up would count it as redirected.
 */
static bool add_unconfirmed(struct nftnl_rule *r)
{
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");
	struct nftnl_expr *mask = nftnl_expr_alloc("bitwise");
	uint32_t confirmed = IPS_CONFIRMED, zero = 0;

	if (ct) {
		nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
		nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	if (mask) {
		nftnl_expr_set_u32(mask, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(mask, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(mask, NFTNL_EXPR_BITWISE_LEN, sizeof(zero));
		nftnl_expr_set(mask, NFTNL_EXPR_BITWISE_MASK, &confirmed,
			       sizeof(confirmed));
		nftnl_expr_set(mask, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	}
	if (!add_expr(r, ct)) {
		nftnl_expr_free(mask);
		return false;
	}
	return add_expr(r, mask) && add_cmp(r, &zero, sizeof(zero));
}

/* fib daddr type local: the packet is for one of this host's addresses. */
static bool add_daddr_local(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("fib");
	uint32_t local = RTN_LOCAL;

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT,
				   NFT_FIB_RESULT_ADDRTYPE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	}
	return add_expr(r, e) && add_cmp(r, &local, sizeof(local));
}

static bool add_dport(struct nftnl_rule *r, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE,
				   NFT_PAYLOAD_TRANSPORT_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, NFT_PORT_LEN);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	}
	return add_expr(r, e);
}

static bool add_lookup(struct nftnl_rule *r, unsigned int map)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");
	char name[NFT_MAP_NAME_MAX];

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET,
				   nft_map_name(map, name));
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, map + 1);
		/* Explicit, as the kernel reports it: checks compare both. */
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, 0);
	}
	return add_expr(r, e);
}

static bool add_network_load(struct nftnl_rule *r, uint32_t offset,
			     uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE,
				   NFT_PAYLOAD_NETWORK_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	}
	return add_expr(r, e);
}

/*
 * dnat to :<port in reg 1>, for IPv4 and IPv6 alike: a destination NAT
 * that names no address keeps the one the connection was sent to (the NAT
 * core maps addresses only when given a range of them), so only the port
 * changes. nft's `redirect` would rewrite the address to the input
 * interface's primary one (127.0.0.1 or ::1 for local traffic). The flag is
 * the one the kernel adds, and reports back.
 */
static bool add_port_dnat(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("nat");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_INET);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS,
				   NF_NAT_RANGE_PROTO_SPECIFIED);
	}
	return add_expr(r, e);
}

/*
 * [meta nfproto == F] meta l4proto == P fib daddr type local
 * [iifname . ] th dport lookup @map -> dnat to the port found.
 * Both chains also carry connections to other hosts (routed traffic
 * in prerouting, outgoing in output), which rules leave alone: a rule
 * is about ports of this host. The key is built where the map's key type
 * expects it: iifname fills reg 1, the port starts reg 2. This is the order
 * nft(8) writes the same rule in, so `nft list` output reads back.
 */
static bool add_map_exprs(struct nftnl_rule *r, unsigned int map)
{
	struct nft_map_class c;
	bool ok = true;

	nft_map_class(map, &c);
	if (c.family != PORTREDIR_FAMILY_ALL) {
		ok = ok && add_meta(r, NFT_META_NFPROTO, NFT_REG_1);
		ok = ok && add_cmp_u8(r, c.family == PORTREDIR_FAMILY_IPV4 ?
				      NFPROTO_IPV4 : NFPROTO_IPV6);
	}
	ok = ok && add_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	ok = ok && add_cmp_u8(r, c.proto);
	ok = ok && add_unconfirmed(r);
	ok = ok && add_daddr_local(r);
	if (c.dev)
		ok = ok && add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	ok = ok && add_dport(r, c.dev ? NFT_REG_2 : NFT_REG_1);
	ok = ok && add_lookup(r, map);
	return ok && add_port_dnat(r);
}

struct nftnl_rule *nft_map_rule_build(unsigned int map,
				      enum nft_chain_id chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chains[chain].name);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if (!add_map_exprs(r, map)) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

static bool add_return(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_RETURN);
	}
	return add_expr(r, e);
}

/*
 * ip daddr 127.0.0.0/8 return, the head of chain prerouting: an IPv4
 * packet for 127.0.0.0/8 arriving from the wire is not redirected. Only
 * prerouting needs it: loopback traffic is NATed in output, and its
 * packets reach prerouting with their conntrack entry already bound. IPv6
 * needs nothing: the stack drops ::1 arriving on a non-loopback device
 * before prerouting (RFC 4291). The nfproto test keeps IPv6 packets, whose
 * byte 16 belongs to the source address, out. These are the expressions
 * nft(8) makes of that text in an inet chain, so a listing reads back.
 */
struct nftnl_rule *nft_guard_rule_build(void)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	bool ok;

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN,
			   chains[NFT_CHAIN_PREROUTING].name);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	ok = add_meta(r, NFT_META_NFPROTO, NFT_REG_1) &&
	     add_cmp_u8(r, NFPROTO_IPV4) &&
	     add_network_load(r, 16, 1, NFT_REG_1) &&
	     add_cmp_u8(r, 127) &&
	     add_return(r);
	if (!ok) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

static void describe_table_flags(uint32_t flags, char *why, size_t len)
{
	if (flags == NFT_TABLE_F_DORMANT)
		snprintf(why, len, "it has flag dormant, so its chains see no packet");
	else if (flags == NFT_TABLE_F_OWNER)
		snprintf(why, len, "it has flag owner, so it goes away with the process that owns it");
	else
		snprintf(why, len, "it has flags 0x%x, where portredir sets none", flags);
}

/* Our table has no flags, and our comment or (on ENOMEM) none. */
int nft_table_check(const struct nftnl_table *table, char *why, size_t len)
{
	struct nftnl_table *want = nft_table_build();
	uint32_t flags = nftnl_table_get_u32(table, NFTNL_TABLE_FLAGS);
	const void *data, *want_data;
	uint32_t size = 0, want_size = 0;
	bool same;

	if (!want) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	data = nftnl_table_get_data(table, NFTNL_TABLE_USERDATA, &size);
	want_data = nftnl_table_get_data(want, NFTNL_TABLE_USERDATA, &want_size);
	same = !data || (want_data && size == want_size &&
			 !memcmp(data, want_data, size));
	nftnl_table_free(want);
	if (flags) {
		describe_table_flags(flags, why, len);
		return -1;
	}
	if (!same) {
		snprintf(why, len, "it has a comment or user data other than portredir gives it");
		return -1;
	}
	return 0;
}

static int chain_by_name(const char *name)
{
	int i;

	for (i = 0; i < NFT_CHAIN_COUNT; i++)
		if (!strcmp(name, chains[i].name))
			return i;
	return -1;
}

int nft_chain_check(const struct nftnl_chain *chain, enum nft_chain_id *id,
		    char *why, size_t len)
{
	const char *name = nftnl_chain_get_str(chain, NFTNL_CHAIN_NAME);
	const char *type = nftnl_chain_get_str(chain, NFTNL_CHAIN_TYPE);
	int i = chain_by_name(name ? name : "");

	if (i < 0) {
		snprintf(why, len, "it has a chain %s", name ? name : "?");
		return -1;
	}
	if (!type || strcmp(type, "nat") ||
	    !nftnl_chain_is_set(chain, NFTNL_CHAIN_HOOKNUM) ||
	    nftnl_chain_get_u32(chain, NFTNL_CHAIN_HOOKNUM) != chains[i].hook ||
	    nftnl_chain_get_s32(chain, NFTNL_CHAIN_PRIO) != RULE_NAT_PRIORITY ||
	    nftnl_chain_get_u32(chain, NFTNL_CHAIN_POLICY) != NF_ACCEPT) {
		snprintf(why, len, "chain %s is not a nat chain at %s priority dstnat + 1 with policy accept",
			 name, name);
		return -1;
	}
	*id = i;
	return 0;
}

static int count_counters(struct nftnl_expr *e, void *arg)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	*(int *)arg += name && !strcmp(name, "counter") ? 1 : 1000;
	return 0;
}

int nft_map_check(const struct nftnl_set *set, unsigned int *map,
		  char *why, size_t len)
{
	const char *name = nftnl_set_get_str(set, NFTNL_SET_NAME);
	struct nftnl_set *want;
	int m = nft_map_by_name(name ? name : ""), counters = 0;
	bool same;

	if (m < 0) {
		snprintf(why, len, "it has a set %s", name ? name : "?");
		return -1;
	}
	want = nft_map_build(m);
	if (!want) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	nftnl_set_expr_foreach(set, count_counters, &counters);
	same = counters == 1;
	same = same && nftnl_set_get_u32(set, NFTNL_SET_FLAGS) ==
		nftnl_set_get_u32(want, NFTNL_SET_FLAGS);
	same = same && nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN) ==
		nftnl_set_get_u32(want, NFTNL_SET_KEY_LEN);
	same = same && nftnl_set_get_u32(set, NFTNL_SET_DATA_LEN) ==
		nftnl_set_get_u32(want, NFTNL_SET_DATA_LEN);
	nftnl_set_free(want);
	if (!same) {
		snprintf(why, len, "map %s has a type, flags or counter other than portredir gives it",
			 name);
		return -1;
	}
	*map = m;
	return 0;
}

static bool expr_same(struct nftnl_expr *a, struct nftnl_expr *b)
{
	char text_a[256], text_b[256];

	if (strcmp(nftnl_expr_get_str(a, NFTNL_EXPR_NAME),
		   nftnl_expr_get_str(b, NFTNL_EXPR_NAME)))
		return false;
	nftnl_expr_snprintf(text_a, sizeof(text_a), a, NFTNL_OUTPUT_DEFAULT, 0);
	nftnl_expr_snprintf(text_b, sizeof(text_b), b, NFTNL_OUTPUT_DEFAULT, 0);
	return !strcmp(text_a, text_b);
}

/* Do both rules hold the same expressions, as libnftnl prints them? */
static bool exprs_same(const struct nftnl_rule *a, const struct nftnl_rule *b)
{
	struct nftnl_expr_iter *ia = nftnl_expr_iter_create(a);
	struct nftnl_expr_iter *ib = nftnl_expr_iter_create(b);
	struct nftnl_expr *ea, *eb;
	bool same = ia && ib;

	while (same) {
		ea = nftnl_expr_iter_next(ia);
		eb = nftnl_expr_iter_next(ib);
		if (!ea || !eb) {
			same = !ea && !eb;
			break;
		}
		same = expr_same(ea, eb);
	}
	if (ia)
		nftnl_expr_iter_destroy(ia);
	if (ib)
		nftnl_expr_iter_destroy(ib);
	return same;
}

/* The map a rule looks up, or "" when it looks none up. */
static const char *rule_map_name(const struct nftnl_rule *rule)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(rule);
	const char *set = "", *name;
	struct nftnl_expr *e;

	while (it && (e = nftnl_expr_iter_next(it))) {
		name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		if (name && !strcmp(name, "lookup") &&
		    nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_SET))
			set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	}
	if (it)
		nftnl_expr_iter_destroy(it);
	return set;
}

int nft_rule_check(const struct nftnl_rule *rule, unsigned int *map,
		   enum nft_chain_id *chain, char *why, size_t len)
{
	const char *chain_name = nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN);
	struct nftnl_rule *want = NULL;
	int c = chain_by_name(chain_name ? chain_name : "");
	int m = nft_map_by_name(rule_map_name(rule));

	if (c >= 0 && m >= 0 && nft_map_in_chain(m, c))
		want = nft_map_rule_build(m, c);
	if (!want || !exprs_same(rule, want)) {
		snprintf(why, len, "chain %s has a rule (handle %llu) other than portredir's",
			 chain_name ? chain_name : "?",
			 (unsigned long long)nftnl_rule_get_u64(rule, NFTNL_RULE_HANDLE));
		if (want)
			nftnl_rule_free(want);
		return -1;
	}
	nftnl_rule_free(want);
	*map = m;
	*chain = c;
	return 0;
}

int nft_guard_check(const struct nftnl_rule *rule)
{
	const char *chain = nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN);
	struct nftnl_rule *want;
	bool same;

	if (!chain || strcmp(chain, chains[NFT_CHAIN_PREROUTING].name))
		return 0;
	want = nft_guard_rule_build();
	if (!want)
		return -1;
	same = exprs_same(rule, want);
	nftnl_rule_free(want);
	return same;
}
