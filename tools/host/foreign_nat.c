// SPDX-License-Identifier: GPL-2.0
/*
 * Other tables' destination NAT: the whole ruleset's chains and rules are
 * dumped once, each rule reduced to what it translates or where it jumps,
 * then walked from every nat base chain at prerouting or output. A jump
 * passes its own protocol and port conditions on to the chain it enters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/portredir.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "backends/nft/nft_layout.h"
#include "host/foreign_nat.h"
#include "netlink/nft_netlink.h"
#include "util/array.h"

/* nftables itself refuses deeper jump stacks. */
#define JUMP_DEPTH_MAX	16

struct chain_info {
	uint32_t family;
	char table[NFT_TABLE_MAXNAMELEN];
	char name[NFT_CHAIN_MAXNAMELEN];
	bool nat_base;		/* type nat, hook prerouting or output */
	uint32_t hook;
	int32_t priority;
};

/* What a rule matches, and whether it translates or jumps. */
struct rule_info {
	uint32_t family;
	char table[NFT_TABLE_MAXNAMELEN];
	char chain[NFT_CHAIN_MAXNAMELEN];
	char jump[NFT_CHAIN_MAXNAMELEN];	/* jump or goto target, or "" */
	bool translates;
	uint8_t proto;				/* 0: any */
	struct port_range ports;
};

struct ruleset {
	struct chain_info *chains;
	size_t chains_len, chains_cap;
	struct rule_info *rules;
	size_t rules_len, rules_cap;
	bool failed;
};

/* ip, ip6 and inet tables other than ours. */
static bool foreign(uint32_t family, const char *table)
{
	if (family != NFPROTO_IPV4 && family != NFPROTO_IPV6 &&
	    family != NFPROTO_INET)
		return false;
	return table && !(family == NFPROTO_INET &&
			  !strcmp(table, NFT_TABLE_NAME));
}

static void copy_name(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void keep_chain(struct ruleset *rs, const struct nftnl_chain *c)
{
	const char *type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);
	struct chain_info *info;

	info = array_grow(rs->chains, &rs->chains_cap, rs->chains_len,
			  sizeof(*info));
	if (!info) {
		rs->failed = true;
		return;
	}
	rs->chains = info;
	info = &rs->chains[rs->chains_len++];
	memset(info, 0, sizeof(*info));
	info->family = nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
	copy_name(info->table, sizeof(info->table),
		  nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE));
	copy_name(info->name, sizeof(info->name),
		  nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
	if (!type || strcmp(type, "nat") ||
	    !nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
		return;
	info->hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
	info->priority = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
	info->nat_base = info->hook == NF_INET_PRE_ROUTING ||
			 info->hook == NF_INET_LOCAL_OUT;
}

static int chain_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ruleset *rs = arg;
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c) {
		rs->failed = true;
		return MNL_CB_OK;
	}
	if (!rs->failed && nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	    foreign(nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY),
		    nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE)))
		keep_chain(rs, c);
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

/* Reading one rule's expressions in order, registers as 32-bit indexes. */
struct scan {
	struct rule_info *rule;
	int port_reg;		/* holds the destination port, or -1 */
	int proto_reg;		/* holds the layer 4 protocol, or -1 */
	bool unreadable;	/* ports decided where we cannot read them */
	bool no_port;		/* conditions no port meets */
	bool done;		/* a verdict or a NAT statement was reached */
};

static int reg_index(uint32_t reg)
{
	if (reg <= NFT_REG_4)
		return (int)reg * 4;
	return (int)(reg - NFT_REG32_00) + 4;
}

static void forget(struct scan *s)
{
	s->port_reg = s->proto_reg = -1;
}

static void limit_ports(struct scan *s, int low, int high)
{
	struct port_range *ports = &s->rule->ports;

	if (low < ports->min)
		low = ports->min;
	if (high > ports->max)
		high = ports->max;
	if (low > high) {
		s->no_port = true;
		return;
	}
	ports->min = (uint16_t)low;
	ports->max = (uint16_t)high;
}

static void scan_payload(struct scan *s, struct nftnl_expr *e)
{
	uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
	uint32_t offset = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
	uint32_t len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
	int dreg = reg_index(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG));
	uint32_t family = s->rule->family;

	forget(s);
	if (!nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG))
		return;		/* a payload write */
	if (base == NFT_PAYLOAD_TRANSPORT_HEADER && offset == 2 && len == 2)
		s->port_reg = dreg;
	/* ip protocol, ip6 nexthdr */
	else if (base == NFT_PAYLOAD_NETWORK_HEADER && len == 1 &&
		 ((offset == 9 && family != NFPROTO_IPV6) ||
		  (offset == 6 && family != NFPROTO_IPV4)))
		s->proto_reg = dreg;
}

static void scan_meta(struct scan *s, struct nftnl_expr *e)
{
	uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG);

	forget(s);
	if (nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG) &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == NFT_META_L4PROTO)
		s->proto_reg = reg_index(dreg);
}

static void scan_cmp(struct scan *s, struct nftnl_expr *e)
{
	int sreg = reg_index(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), len = 0;
	const uint8_t *data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
	int port;

	if (!data || !len)
		return;
	if (sreg == s->proto_reg && op == NFT_CMP_EQ) {
		if (s->rule->proto && s->rule->proto != data[0])
			s->no_port = true;
		s->rule->proto = data[0];
	}
	if (sreg != s->port_reg || len != 2)
		return;
	port = data[0] << 8 | data[1];
	if (op == NFT_CMP_EQ)
		limit_ports(s, port, port);
	else if (op == NFT_CMP_LT || op == NFT_CMP_LTE)
		limit_ports(s, 0, op == NFT_CMP_LT ? port - 1 : port);
	else if (op == NFT_CMP_GT || op == NFT_CMP_GTE)
		limit_ports(s, op == NFT_CMP_GT ? port + 1 : port, 65535);
}

static void scan_range(struct scan *s, struct nftnl_expr *e)
{
	int sreg = reg_index(nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG));
	uint32_t from_len = 0, to_len = 0;
	const uint8_t *from = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA,
					     &from_len);
	const uint8_t *to = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA,
					   &to_len);

	if (sreg != s->port_reg || from_len != 2 || to_len != 2 ||
	    nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) != NFT_RANGE_EQ)
		return;
	limit_ports(s, from[0] << 8 | from[1], to[0] << 8 | to[1]);
}

static void scan_lookup(struct scan *s, struct nftnl_expr *e)
{
	(void)e;
	/* The port, alone or in a concatenation, is looked up in a set. */
	if (s->port_reg >= 0)
		s->unreadable = true;
	forget(s);
}

static void scan_immediate(struct scan *s, struct nftnl_expr *e)
{
	uint32_t verdict;

	if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) != NFT_REG_VERDICT) {
		forget(s);
		return;
	}
	verdict = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
	if (verdict == (uint32_t)NFT_JUMP || verdict == (uint32_t)NFT_GOTO)
		copy_name(s->rule->jump, sizeof(s->rule->jump),
			  nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
	s->done = true;
}

static void scan_nat(struct scan *s, struct nftnl_expr *e)
{
	s->rule->translates =
		nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_DNAT;
	s->done = true;
}

static void scan_redir(struct scan *s, struct nftnl_expr *e)
{
	(void)e;
	s->rule->translates = true;
	s->done = true;
}

static bool name_in(const char *name, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(name, *names))
			return true;
	return false;
}

/* iptables-nft's targets and matches, run through the xt compatibility. */
static void scan_target(struct scan *s, struct nftnl_expr *e)
{
	static const char *const dnat[] = {
		"DNAT", "REDIRECT", "NETMAP", NULL
	};
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);

	if (name && name_in(name, dnat)) {
		s->rule->translates = true;
		s->done = true;
	}
}

static void scan_match(struct scan *s, struct nftnl_expr *e)
{
	static const char *const ports[] = {
		"tcp", "udp", "sctp", "dccp", "multiport", NULL
	};
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);

	if (!name || name_in(name, ports))
		s->unreadable = true;
}

/* Expressions not listed may write registers: they end what we track. */
static const struct {
	const char *name;
	void (*scan)(struct scan *s, struct nftnl_expr *e);
} scanners[] = {
	{ "payload", scan_payload }, { "meta", scan_meta },
	{ "cmp", scan_cmp }, { "range", scan_range },
	{ "lookup", scan_lookup }, { "immediate", scan_immediate },
	{ "nat", scan_nat }, { "redir", scan_redir },
	{ "target", scan_target }, { "match", scan_match },
	{ "counter", NULL }, { "log", NULL }, { "limit", NULL },
	{ "quota", NULL },
};

static void scan_expr(struct scan *s, struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	size_t i;

	for (i = 0; name && i < sizeof(scanners) / sizeof(scanners[0]); i++) {
		if (strcmp(name, scanners[i].name))
			continue;
		if (scanners[i].scan)
			scanners[i].scan(s, e);
		return;
	}
	forget(s);
}

/* Is the rule worth keeping: it translates or jumps, on ports we know? */
static bool scan_rule(const struct nftnl_rule *r, struct rule_info *info)
{
	struct scan s = { .rule = info };
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;

	forget(&s);
	info->ports.min = 0;
	info->ports.max = 65535;
	while (it && !s.done && (e = nftnl_expr_iter_next(it)))
		scan_expr(&s, e);
	if (it)
		nftnl_expr_iter_destroy(it);
	return (info->translates || info->jump[0]) && !s.unreadable &&
	       !s.no_port;
}

static void keep_rule(struct ruleset *rs, const struct nftnl_rule *r)
{
	struct rule_info *info;

	info = array_grow(rs->rules, &rs->rules_cap, rs->rules_len,
			  sizeof(*info));
	if (!info) {
		rs->failed = true;
		return;
	}
	rs->rules = info;
	info = &rs->rules[rs->rules_len];
	memset(info, 0, sizeof(*info));
	info->family = nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
	copy_name(info->table, sizeof(info->table),
		  nftnl_rule_get_str(r, NFTNL_RULE_TABLE));
	copy_name(info->chain, sizeof(info->chain),
		  nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	if (scan_rule(r, info))
		rs->rules_len++;
}

static int rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ruleset *rs = arg;
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r) {
		rs->failed = true;
		return MNL_CB_OK;
	}
	if (!rs->failed && nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    foreign(nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY),
		    nftnl_rule_get_str(r, NFTNL_RULE_TABLE)))
		keep_rule(rs, r);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static int dump(struct netlink *s, uint16_t type, mnl_cb_t cb,
		struct ruleset *rs)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_UNSPEC, NLM_F_DUMP, 0);
	return netlink_transact(s, nlh, cb, rs);
}

/* The conditions a walk has gathered so far. */
struct match {
	uint8_t proto;
	struct port_range ports;
};

static bool narrow(struct match *m, const struct rule_info *r)
{
	if (r->proto && m->proto && r->proto != m->proto)
		return false;
	if (r->proto)
		m->proto = r->proto;
	if (!port_ranges_intersect(&m->ports, &r->ports))
		return false;
	if (r->ports.min > m->ports.min)
		m->ports.min = r->ports.min;
	if (r->ports.max < m->ports.max)
		m->ports.max = r->ports.max;
	return true;
}

static const char *family_name(uint32_t family)
{
	if (family == NFPROTO_IPV4)
		return "ip";
	return family == NFPROTO_IPV6 ? "ip6" : "inet";
}

static void emit(struct foreign_nat_list *list, const struct chain_info *base,
		 const struct rule_info *r, const struct match *m)
{
	struct foreign_nat *f;

	/* Short of memory, a warning is left out. */
	f = array_grow(list->items, &list->cap, list->len, sizeof(*f));
	if (!f)
		return;
	list->items = f;
	f = &list->items[list->len++];
	f->family = base->family == NFPROTO_IPV4 ? PORTREDIR_FAMILY_IPV4 :
		    base->family == NFPROTO_IPV6 ? PORTREDIR_FAMILY_IPV6 :
						   PORTREDIR_FAMILY_ALL;
	f->direction = base->hook == NF_INET_PRE_ROUTING ?
		       PORTREDIR_DIR_INBOUND : PORTREDIR_DIR_LOCAL;
	f->proto = m->proto;
	f->ports = m->ports;
	f->priority = base->priority;
	copy_name(f->family_name, sizeof(f->family_name),
		  family_name(base->family));
	copy_name(f->table, sizeof(f->table), base->table);
	copy_name(f->chain, sizeof(f->chain), r->chain);
}

static void walk(const struct ruleset *rs, const struct chain_info *base,
		 const char *chain, const struct match *in, int depth,
		 struct foreign_nat_list *list)
{
	const struct rule_info *r;
	struct match m;
	size_t i;

	for (i = 0; i < rs->rules_len; i++) {
		r = &rs->rules[i];
		m = *in;
		if (r->family != base->family ||
		    strcmp(r->table, base->table) ||
		    strcmp(r->chain, chain) || !narrow(&m, r))
			continue;
		if (r->translates)
			emit(list, base, r, &m);
		else if (depth < JUMP_DEPTH_MAX)
			walk(rs, base, r->jump, &m, depth + 1, list);
	}
}

void foreign_nat_load(struct foreign_nat_list *list)
{
	const struct match every = { 0, { 0, 65535 } };
	struct ruleset rs = { 0 };
	struct netlink s;
	size_t i;

	memset(list, 0, sizeof(*list));
	if (netlink_open(&s, NETLINK_NETFILTER))
		return;
	if (!dump(&s, NFT_MSG_GETCHAIN, chain_cb, &rs) &&
	    !dump(&s, NFT_MSG_GETRULE, rule_cb, &rs) && !rs.failed)
		for (i = 0; i < rs.chains_len; i++)
			if (rs.chains[i].nat_base)
				walk(&rs, &rs.chains[i], rs.chains[i].name,
				     &every, 0, list);
	netlink_close(&s);
	free(rs.chains);
	free(rs.rules);
}

void foreign_nat_free(struct foreign_nat_list *list)
{
	free(list->items);
	memset(list, 0, sizeof(*list));
}
