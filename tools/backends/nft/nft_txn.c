// SPDX-License-Identifier: GPL-2.0
/* Building one transaction on table inet portredir; see nft_txn.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "backends/nft/nft_elems.h"
#include "backends/nft/nft_txn.h"

/*
 * Elements per message: the element list is one attribute, whose length
 * is 16 bits; our largest element takes about 120 bytes.
 */
#define NFT_ELEM_MAX_BYTES	128
#define NFT_ELEMS_PER_MSG	256

int nft_txn_begin(struct nft_txn *txn, const struct nft_state *state)
{
	unsigned int map;

	memset(txn, 0, sizeof(*txn));
	txn->batch = nft_batch_new(state->genid);
	if (!txn->batch)
		return -ENOMEM;
	txn->genid = state->genid;
	txn->table = state->table;
	memcpy(txn->chain, state->chain, sizeof(txn->chain));
	memcpy(txn->map, state->map, sizeof(txn->map));
	memcpy(txn->map_id, state->map_id, sizeof(txn->map_id));
	memcpy(txn->spare, state->spare, sizeof(txn->spare));
	memcpy(txn->spare_id, state->spare_id, sizeof(txn->spare_id));
	memcpy(txn->handle, state->handle, sizeof(txn->handle));
	for (map = 0; map < NFT_MAP_COUNT; map++)
		if (!txn->map[map])
			txn->map_id[map] = map;
	return 0;
}

void nft_txn_end(struct nft_txn *txn)
{
	if (txn->pending)	/* libnftnl's free functions take no NULL */
		nftnl_set_free(txn->pending);
	nft_batch_free(txn->batch);
	memset(txn, 0, sizeof(*txn));
}

static void send_pending(struct nft_txn *txn)
{
	char what[64], name[NFT_MAP_NAME_MAX];
	struct nlmsghdr *nlh;

	if (!txn->pending)
		return;
	nft_map_name(txn->pending_map, name);
	snprintf(what, sizeof(what), "%s elements %s map %s",
		 txn->pending_del ? "delete" : "add",
		 txn->pending_del ? "from" : "to", name);
	/* EXCL: an element already there is an error, not a no-op. */
	nlh = nft_batch_put(txn->batch,
			    txn->pending_del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
			    txn->pending_del ? 0 : NLM_F_CREATE | NLM_F_EXCL, what);
	nftnl_set_elems_nlmsg_build_payload(nlh, txn->pending);
	nft_batch_next(txn->batch);
	nftnl_set_free(txn->pending);
	txn->pending = NULL;
	txn->pending_count = 0;
}

static int open_pending(struct nft_txn *txn)
{
	char name[NFT_MAP_NAME_MAX];

	if (txn->pending)
		return 0;
	txn->pending = nftnl_set_alloc();
	if (!txn->pending)
		return -ENOMEM;
	nftnl_set_set_str(txn->pending, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(txn->pending, NFTNL_SET_NAME,
			  nft_map_name(txn->pending_map, name));
	txn->pending_count = 0;
	return 0;
}

static int take_elem(struct nftnl_set_elem *elem, void *arg)
{
	struct nft_txn *txn = arg;

	if (open_pending(txn)) {
		nftnl_set_elem_free(elem);
		return -ENOMEM;
	}
	nftnl_set_elem_add(txn->pending, elem);
	if (++txn->pending_count == NFT_ELEMS_PER_MSG)
		send_pending(txn);
	return 0;
}

static int put_elems(struct nft_txn *txn, const struct redir_rule *rule,
		     bool del)
{
	unsigned int map = txn->map_id[nft_map_of_rule(rule)];
	int ret;

	if (txn->pending && (txn->pending_map != map || txn->pending_del != del))
		send_pending(txn);
	txn->pending_map = map;
	txn->pending_del = del;
	ret = nft_rule_elems(rule, del, take_elem, txn);
	return ret < 0 ? ret : 0;
}

static void put_table(struct nft_txn *txn)
{
	struct nftnl_table *t = nft_table_build();
	struct nlmsghdr *nlh;

	if (!t)
		return;
	nlh = nft_batch_put(txn->batch, NFT_MSG_NEWTABLE, NLM_F_CREATE,
			    "create table inet " NFT_TABLE_NAME);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nft_batch_next(txn->batch);
	nftnl_table_free(t);
	txn->table = true;
}

/* The guard goes in right after its chain: no map rule ever precedes it. */
static bool put_guard(struct nft_txn *txn)
{
	struct nftnl_rule *r = nft_guard_rule_build();
	struct nlmsghdr *nlh;

	if (!r)
		return false;
	nlh = nft_batch_put(txn->batch, NFT_MSG_NEWRULE,
			    NLM_F_CREATE | NLM_F_APPEND,
			    "add the loopback guard to chain prerouting");
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nft_batch_next(txn->batch);
	nftnl_rule_free(r);
	return true;
}

static void put_chain(struct nft_txn *txn, enum nft_chain_id chain)
{
	struct nftnl_chain *c = nft_chain_build(chain);
	struct nlmsghdr *nlh;
	char what[64];

	if (!c)
		return;
	snprintf(what, sizeof(what), "create nat chain %s",
		 nft_chain_name(chain));
	nlh = nft_batch_put(txn->batch, NFT_MSG_NEWCHAIN, NLM_F_CREATE, what);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nft_batch_next(txn->batch);
	nftnl_chain_free(c);
	txn->chain[chain] = chain != NFT_CHAIN_PREROUTING || put_guard(txn);
}

static void put_map_rule(struct nft_txn *txn, unsigned int map,
			 enum nft_chain_id chain)
{
	struct nftnl_rule *r = nft_map_rule_build(map, chain);
	char what[64], name[NFT_MAP_NAME_MAX];
	struct nlmsghdr *nlh;

	if (!r)
		return;
	snprintf(what, sizeof(what), "add a redirect rule for map %s to chain %s",
		 nft_map_name(map, name), nft_chain_name(chain));
	nlh = nft_batch_put(txn->batch, NFT_MSG_NEWRULE,
			    NLM_F_CREATE | NLM_F_APPEND, what);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nft_batch_next(txn->batch);
	nftnl_rule_free(r);
}

static void put_map_rules(struct nft_txn *txn, unsigned int map)
{
	int chain;

	for (chain = 0; chain < NFT_CHAIN_COUNT; chain++)
		if (nft_map_in_chain(map, chain))
			put_map_rule(txn, map, chain);
}

/* Creates map id @map and, unless staging, the chain rules that look it up. */
static void put_map(struct nft_txn *txn, unsigned int map)
{
	struct nftnl_set *s = nft_map_build(map);
	char what[64], name[NFT_MAP_NAME_MAX];
	struct nlmsghdr *nlh;

	if (!s)
		return;
	snprintf(what, sizeof(what), "create map %s", nft_map_name(map, name));
	nlh = nft_batch_put(txn->batch, NFT_MSG_NEWSET,
			    NLM_F_CREATE | NLM_F_EXCL, what);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nft_batch_next(txn->batch);
	nftnl_set_free(s);
	if (!txn->staging)
		put_map_rules(txn, map);
	txn->map[map % NFT_MAP_COUNT] = true;
	txn->map_id[map % NFT_MAP_COUNT] = map;
}

/* Creates what @map needs that does not exist yet; false on ENOMEM. */
static bool ensure_map(struct nft_txn *txn, unsigned int map)
{
	int chain;

	if (txn->map[map])
		return true;
	send_pending(txn);
	if (!txn->table)
		put_table(txn);
	for (chain = 0; chain < NFT_CHAIN_COUNT && txn->table; chain++)
		if (!txn->chain[chain])
			put_chain(txn, chain);
	if (txn->table && txn->chain[0] && txn->chain[1])
		put_map(txn, txn->map_id[map]);
	return txn->map[map];
}

int nft_txn_add(struct nft_txn *txn, const struct redir_rule *rule)
{
	if (!ensure_map(txn, nft_map_of_rule(rule)))
		return -ENOMEM;
	return put_elems(txn, rule, false);
}

int nft_txn_del(struct nft_txn *txn, const struct redir_rule *rule)
{
	return put_elems(txn, rule, true);
}

int nft_txn_flush(struct nft_txn *txn)
{
	char what[64], name[NFT_MAP_NAME_MAX];
	struct nlmsghdr *nlh;
	unsigned int map;

	send_pending(txn);
	for (map = 0; map < NFT_MAP_COUNT; map++) {
		if (!txn->map[map])
			continue;
		nft_map_name(txn->map_id[map], name);
		snprintf(what, sizeof(what), "flush map %s", name);
		/* A DELSETELEM without elements empties the whole set. */
		nlh = nft_batch_put(txn->batch, NFT_MSG_DELSETELEM, 0, what);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE_NAME);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
		nft_batch_next(txn->batch);
	}
	return 0;
}

/* Deletes the rule in @chain that looks up map id @map. */
static void put_rule_del(struct nft_txn *txn, unsigned int map,
			 enum nft_chain_id chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	char what[64], name[NFT_MAP_NAME_MAX];
	struct nlmsghdr *nlh;

	if (!r)
		return;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, nft_chain_name(chain));
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE,
			   txn->handle[map % NFT_MAP_COUNT][chain]);
	snprintf(what, sizeof(what), "delete the rule for map %s from chain %s",
		 nft_map_name(map, name), nft_chain_name(chain));
	nlh = nft_batch_put(txn->batch, NFT_MSG_DELRULE, 0, what);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nft_batch_next(txn->batch);
	nftnl_rule_free(r);
}

/* Deletes map id @map, which no rule looks up. */
static void put_map_del(struct nft_txn *txn, unsigned int map)
{
	char what[64], name[NFT_MAP_NAME_MAX];
	struct nlmsghdr *nlh;

	nft_map_name(map, name);
	snprintf(what, sizeof(what), "delete map %s", name);
	nlh = nft_batch_put(txn->batch, NFT_MSG_DELSET, 0, what);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, NFT_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
	nft_batch_next(txn->batch);
}

/*
 * Why restore takes three transactions. Flushing a live interval map and
 * adding the new elements in one transaction is not atomic on every
 * kernel: 6.1's rbtree lookup, meeting an element equal to the key that is
 * inactive in the current generation (the new one before the commit, the
 * flushed one after), descends left only and can miss the active element
 * with that key. Nor is filling a fresh map and looking it up in one
 * transaction: a pipapo set (our _dev maps) swaps in its new lookup data
 * at the end of the commit, after the new generation has begun, and on
 * 6.18 plain interval maps behaved the same way: one restore of 1,001
 * elements in 12 to 25 sent a connection under way to no rule. Nor may
 * the old map go with the swap: a chain walk keeps the generation it
 * began in, but a lookup checks elements against the current one, and
 * deleting a map deactivates its elements.
 */
void nft_txn_stage(struct nft_txn *txn)
{
	unsigned int map;

	send_pending(txn);
	txn->staging = true;
	for (map = 0; map < NFT_MAP_COUNT; map++)
		if (txn->map[map])
			put_map(txn, nft_map_other_id(txn->map_id[map]));
}

void nft_txn_fill(struct nft_txn *txn)
{
	unsigned int map;

	send_pending(txn);
	txn->staging = true;
	for (map = 0; map < NFT_MAP_COUNT; map++) {
		txn->map[map] = txn->spare[map];
		txn->map_id[map] = txn->spare[map] ? txn->spare_id[map] : map;
	}
}

void nft_txn_swap(struct nft_txn *txn)
{
	unsigned int map, old;
	int chain;

	send_pending(txn);
	for (map = 0; map < NFT_MAP_COUNT; map++) {
		if (!txn->spare[map])
			continue;
		put_map_rules(txn, txn->spare_id[map]);
		old = txn->map_id[map];
		for (chain = 0; txn->map[map] && chain < NFT_CHAIN_COUNT; chain++)
			if (nft_map_in_chain(old, chain))
				put_rule_del(txn, old, chain);
	}
}

void nft_txn_retire(struct nft_txn *txn)
{
	unsigned int map;

	send_pending(txn);
	for (map = 0; map < NFT_MAP_COUNT; map++) {
		if (!txn->spare[map])
			continue;
		put_map_del(txn, txn->spare_id[map]);
		txn->spare[map] = false;
		txn->retiring = true;
	}
}

/*
 * Chain walks are RCU readers, and MEMBARRIER_CMD_GLOBAL returns after an
 * RCU grace period. Where it is refused (nohz_full), a pause far longer
 * than a grace period usually takes.
 */
static void wait_for_chain_walks(void)
{
	struct timespec pause = { .tv_nsec = 200 * 1000 * 1000 };

	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		nanosleep(&pause, NULL);
}

size_t nft_txn_bytes(struct nft_txn *txn)
{
	return nft_batch_bytes(txn->batch) +
	       txn->pending_count * NFT_ELEM_MAX_BYTES;
}

uint32_t nft_txn_genid_after(struct nft_txn *txn)
{
	send_pending(txn);
	if (nft_batch_empty(txn->batch))
		return txn->genid;
	/* The kernel counts commits, skipping 0. */
	return txn->genid + 1 ? txn->genid + 1 : 1;
}

int nft_txn_commit(struct nft_txn *txn, struct netlink *s,
		   struct nft_batch_error *error)
{
	send_pending(txn);
	memset(error, 0, sizeof(*error));
	if (nft_batch_empty(txn->batch))
		return 0;
	if (txn->retiring)
		wait_for_chain_walks();
	return nft_batch_commit(s, txn->batch, error);
}
