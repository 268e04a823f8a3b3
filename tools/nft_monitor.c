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
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nft_elems.h"
#include "nft_layout.h"
#include "nft_monitor.h"
#include "nft_netlink.h"

enum { ADDED, DELETED };

struct monitor {
	struct nft_raw_list pending[NFT_MAP_COUNT][2];
	struct nft_raw_list scratch;
	/* the table or a map went, elements unannounced: every old rule went */
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

static void gather(struct monitor *m, const struct nlmsghdr *nlh, int op)
{
	struct nft_raw_list *to;
	int map;
	size_t i;

	m->scratch.len = 0;
	map = nft_raw_parse(nlh, &m->scratch);
	if (map == NFT_RAW_NOMEM)
		m->err = -ENOMEM;
	if (map < 0)
		return;
	to = &m->pending[map % NFT_MAP_COUNT][op];
	for (i = 0; i < m->scratch.len; i++) {
		if (to->len == to->cap) {
			size_t cap = to->cap ? to->cap * 2 : 64;
			void *grown = realloc(to->elems, cap * sizeof(*to->elems));

			if (!grown) {
				m->err = -ENOMEM;
				return;
			}
			to->elems = grown;
			to->cap = cap;
		}
		to->elems[to->len++] = m->scratch.elems[i];
	}
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
		ours = name && !strcmp(name, NFT_TABLE_NAME) &&
		       nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) == NFPROTO_INET;
	}
	if (t)
		nftnl_table_free(t);
	return ours;
}

/* A map of ours is deleted when restore swaps in a new one. */
static bool our_map(const struct nlmsghdr *nlh)
{
	struct nftnl_set *s = nftnl_set_alloc();
	const char *table, *name;
	bool ours = false;

	if (s && nftnl_set_nlmsg_parse(nlh, s) == 0) {
		table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
		name = nftnl_set_get_str(s, NFTNL_SET_NAME);
		ours = table && !strcmp(table, NFT_TABLE_NAME) &&
		       nftnl_set_get_u32(s, NFTNL_SET_FAMILY) == NFPROTO_INET &&
		       name && nft_map_by_name(name) >= 0;
	}
	if (s)
		nftnl_set_free(s);
	return ours;
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
	case NFT_MSG_DELSET:
		if (our_map(nlh))
			m->flushed = true;
		break;
	case NFT_MSG_NEWGEN:
		deliver(m);
		break;
	}
	return m->err ? MNL_CB_ERROR : MNL_CB_OK;
}

static int listen_loop(struct nft_sock *s, struct monitor *m, char *error,
		       size_t len)
{
	ssize_t got;

	for (;;) {
		got = mnl_socket_recvfrom(s->nl, s->buf, s->buflen);
		if (got < 0 && errno == EINTR)
			return 0;
		if (got < 0 && errno == ENOBUFS) {
			/* The kernel dropped events: say so, and go on. */
			forget(m);
			m->fn(PORTREDIR_CMD_UNSPEC, NULL, m->arg);
			continue;
		}
		if (got < 0) {
			snprintf(error, len, "cannot read nftables events: %s",
				 strerror(errno));
			return -errno;
		}
		if (mnl_cb_run(s->buf, got, 0, 0, event_cb, m) < 0 && m->err) {
			snprintf(error, len, "cannot follow nftables events: %s",
				 strerror(-m->err));
			return m->err;
		}
	}
}

int nft_monitor_run(monitor_fn fn, void *arg, char *error, size_t len)
{
	struct monitor *m = calloc(1, sizeof(*m));
	struct nft_sock s;
	unsigned int map;
	int ret;

	if (!m)
		return -ENOMEM;
	m->fn = fn;
	m->arg = arg;
	ret = nft_sock_open(&s, NFNLGRP_NFTABLES);
	if (ret)
		snprintf(error, len, "cannot listen to nftables events: %s",
			 strerror(-ret));
	else
		ret = listen_loop(&s, m, error, len);
	nft_sock_close(&s);
	for (map = 0; map < NFT_MAP_COUNT; map++) {
		nft_raw_free(&m->pending[map][ADDED]);
		nft_raw_free(&m->pending[map][DELETED]);
	}
	nft_raw_free(&m->scratch);
	free(m);
	return ret;
}
