// SPDX-License-Identifier: GPL-2.0
/*
 * `monitor` on the nft backend. nf_tables announces every element added or
 * deleted, then the new generation once the transaction is committed. A
 * rule may be several elements (an interval's start and end, or one per
 * port of an offset range), so elements are gathered per map until the
 * generation arrives and only then turned back into rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/portredir.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "backends/nft/nft_elems.h"
#include "backends/nft/nft_layout.h"
#include "backends/nft/nft_monitor.h"
#include "netlink/netlink.h"

enum { ADDED, DELETED };

struct monitor {
	struct nft_raw_list pending[NFT_MAP_COUNT][2];
	/*
	 * Elements of a map no chain rule looks up yet, which restore fills
	 * in one transaction and swaps in with the next (nft_txn.h): held
	 * until a rule looks the map up, dropped if it goes first.
	 */
	struct nft_raw_list held[NFT_MAP_IDS];
	bool staged[NFT_MAP_IDS];
	struct nft_raw_list scratch;
	/* the table or a chain rule went, elements unannounced: all rules went */
	bool flushed;
	monitor_fn fn;
	void *arg;
	int err;
};

static void forget(struct monitor *m)
{
	unsigned int map;

	for (map = 0; map < NFT_MAP_COUNT; map++) {
		m->pending[map][ADDED].len = 0;
		m->pending[map][DELETED].len = 0;
	}
	m->flushed = false;
}

static void forget_held(struct monitor *m)
{
	unsigned int map;

	for (map = 0; map < NFT_MAP_IDS; map++) {
		m->held[map].len = 0;
		m->staged[map] = false;
	}
}

static void append(struct monitor *m, struct nft_raw_list *to,
		   const struct nft_raw_list *from)
{
	if (nft_raw_append(to, from))
		m->err = -ENOMEM;
}

static void gather(struct monitor *m, const struct nlmsghdr *nlh, int op)
{
	int map;

	m->scratch.len = 0;
	map = nft_raw_parse(nlh, &m->scratch);
	if (map == NFT_RAW_NOMEM)
		m->err = -ENOMEM;
	if (map < 0)
		return;
	if (op == ADDED && m->staged[map])
		append(m, &m->held[map], &m->scratch);
	else
		append(m, &m->pending[map % NFT_MAP_COUNT][op], &m->scratch);
}

static void deliver_map(struct monitor *m, unsigned int map, int op)
{
	struct rule_list rules = { 0 };
	char why[160];
	size_t i;

	if (!m->pending[map][op].len)
		return;
	/* Elements we cannot read as rules were not written by us: skip. */
	if (!nft_raw_to_rules(map, &m->pending[map][op], &rules, why, sizeof(why)))
		for (i = 0; i < rules.len; i++)
			m->fn(op == ADDED ? PORTREDIR_CMD_ADD : PORTREDIR_CMD_DEL,
			      &rules.rules[i], m->arg);
	rule_list_free(&rules);
}

/* The transaction is committed: what it removed first, then what it added. */
static void deliver(struct monitor *m)
{
	unsigned int map;

	if (m->flushed)
		m->fn(PORTREDIR_CMD_FLUSH, NULL, m->arg);
	for (map = 0; map < NFT_MAP_COUNT; map++)
		deliver_map(m, map, DELETED);
	for (map = 0; map < NFT_MAP_COUNT; map++)
		deliver_map(m, map, ADDED);
	forget(m);
}

static bool our_table(const struct nlmsghdr *nlh)
{
	struct nftnl_table *t = nftnl_table_alloc();
	const char *name;
	bool ours = false;

	if (t && nftnl_table_nlmsg_parse(nlh, t) == 0) {
		name = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
		ours = nft_table_ours(name,
				      nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY));
	}
	if (t)
		nftnl_table_free(t);
	return ours;
}

/* The map id named by a set message of our table, or -1. */
static int our_map(const struct nlmsghdr *nlh)
{
	struct nftnl_set *s = nftnl_set_alloc();
	const char *table, *name;
	int map = -1;

	if (s && nftnl_set_nlmsg_parse(nlh, s) == 0) {
		table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
		name = nftnl_set_get_str(s, NFTNL_SET_NAME);
		if (nft_table_ours(table,
				   nftnl_set_get_u32(s, NFTNL_SET_FAMILY)) && name)
			map = nft_map_by_name(name);
	}
	if (s)
		nftnl_set_free(s);
	return map;
}

/*
 * A rule of our table: 1, with the map id it looks up in @map (-1 for the
 * loopback guard or a rule we did not write); 0 for any other rule.
 */
static int our_rule(const struct nlmsghdr *nlh, int *map)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	enum nft_chain_id chain;
	unsigned int id;
	const char *table;
	char why[160];
	int ours = 0;

	*map = -1;
	if (r && nftnl_rule_nlmsg_parse(nlh, r) == 0) {
		table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
		ours = nft_table_ours(table,
				      nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY));
		if (ours && !nft_rule_check(r, &id, &chain, why, sizeof(why)))
			*map = (int)id;
	}
	if (r)
		nftnl_rule_free(r);
	return ours;
}

static void set_event(struct monitor *m, const struct nlmsghdr *nlh, bool add)
{
	int map = our_map(nlh);

	if (map < 0)
		return;
	m->staged[map] = add;
	m->held[map].len = 0;
}

static void rule_event(struct monitor *m, const struct nlmsghdr *nlh, bool add)
{
	int map;

	if (!our_rule(nlh, &map))
		return;
	if (!add) {
		m->flushed = true;
	} else if (map >= 0 && m->staged[map]) {
		append(m, &m->pending[map % NFT_MAP_COUNT][ADDED], &m->held[map]);
		m->held[map].len = 0;
		m->staged[map] = false;
	}
}

static int event_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct monitor *m = arg;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return MNL_CB_OK;
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case NFT_MSG_NEWSETELEM:
		gather(m, nlh, ADDED);
		break;
	case NFT_MSG_DELSETELEM:
		gather(m, nlh, DELETED);
		break;
	case NFT_MSG_DELTABLE:
		/* Deleting a table announces no element: all rules went. */
		if (our_table(nlh))
			m->flushed = true;
		break;
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
		set_event(m, nlh, NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWSET);
		break;
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		rule_event(m, nlh, NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWRULE);
		break;
	case NFT_MSG_NEWGEN:
		deliver(m);
		break;
	}
	if (!m->err)
		return MNL_CB_OK;
	errno = -m->err;
	return MNL_CB_ERROR;
}

/* The kernel dropped events: what was gathered is incomplete. */
static void events_lost(void *arg)
{
	struct monitor *m = arg;

	forget(m);
	forget_held(m);
	m->fn(PORTREDIR_CMD_UNSPEC, NULL, m->arg);
}

static int listen_events(struct monitor *m, char *error, size_t len)
{
	const char *failed = "listen to";
	struct netlink nl;
	int ret = netlink_open(&nl, NETLINK_NETFILTER);

	if (!ret)
		ret = netlink_subscribe(&nl, NFNLGRP_NFTABLES);
	if (!ret) {
		ret = netlink_listen(&nl, event_cb, events_lost, m);
		failed = m->err ? "follow" : "read";
	}
	if (ret)
		snprintf(error, len, "cannot %s nftables events: %s", failed,
			 strerror(-ret));
	netlink_close(&nl);
	return ret;
}

int nft_monitor_run(monitor_fn fn, void *arg, char *error, size_t len)
{
	struct monitor *m = calloc(1, sizeof(*m));
	unsigned int map;
	int ret;

	if (!m)
		return -ENOMEM;
	m->fn = fn;
	m->arg = arg;
	ret = listen_events(m, error, len);
	for (map = 0; map < NFT_MAP_COUNT; map++) {
		nft_raw_free(&m->pending[map][ADDED]);
		nft_raw_free(&m->pending[map][DELETED]);
	}
	for (map = 0; map < NFT_MAP_IDS; map++)
		nft_raw_free(&m->held[map]);
	nft_raw_free(&m->scratch);
	free(m);
	return ret;
}
