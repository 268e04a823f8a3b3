/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NFT_TXN_H
#define NFT_TXN_H

#include "backends/nft/nft_layout.h"
#include "backends/nft/nft_state.h"
#include "netlink/nft_netlink.h"

struct nftnl_set;

/*
 * One change to table inet portredir as one nftables transaction. It
 * creates what a rule needs and is missing (table, chains, the rule's map
 * and the chain rules that look it up) in the same transaction, and is
 * refused by the kernel if the ruleset moved past the state it was built on.
 */
struct nft_txn {
	struct nft_batch *batch;
	uint32_t genid;		/* the generation it was built on */
	bool table;
	bool chain[NFT_CHAIN_COUNT];
	bool map[NFT_MAP_COUNT];
	unsigned int map_id[NFT_MAP_COUNT];
	bool spare[NFT_MAP_COUNT];
	unsigned int spare_id[NFT_MAP_COUNT];
	bool staging;		/* new maps get no chain rules */
	bool retiring;		/* the commit must wait for chain walks first */
	uint64_t handle[NFT_MAP_COUNT][NFT_CHAIN_COUNT];
	/* elements gathered into the next NEWSETELEM/DELSETELEM message */
	struct nftnl_set *pending;
	unsigned int pending_map;
	bool pending_del;
	unsigned int pending_count;
};

int nft_txn_begin(struct nft_txn *txn, const struct nft_state *state);
int nft_txn_add(struct nft_txn *txn, const struct redir_rule *rule);
int nft_txn_del(struct nft_txn *txn, const struct redir_rule *rule);
/* Empties every map; tables, chains and maps stay (see backend_nft.c). */
int nft_txn_flush(struct nft_txn *txn);
/*
 * restore in three transactions. A map whose elements change in a
 * transaction may miss keys it holds before and after, between the
 * generation's start and the end of the commit (nft_txn.c), so:
 *  1. nft_txn_stage(), then nft_txn_add() of the rules: a spare copy of
 *     each map, filled, that no chain rule looks up yet; nft_txn_fill()
 *     and more nft_txn_add() go on filling them in further transactions,
 *     when the rules take more than one socket can send at once;
 *  2. nft_txn_swap(): the chain rules move to the spares, all at once; no
 *     element changes;
 *  3. nft_txn_retire(): the old maps, spares now, go.
 */
void nft_txn_stage(struct nft_txn *txn);
void nft_txn_fill(struct nft_txn *txn);
void nft_txn_swap(struct nft_txn *txn);
/*
 * Deletes the spare maps. Its commit first waits until no packet can still
 * be walking the chains as they were when a spare was last looked up.
 */
void nft_txn_retire(struct nft_txn *txn);
/* About how many bytes the transaction takes so far. */
size_t nft_txn_bytes(struct nft_txn *txn);
/* The ruleset's generation once the transaction is committed. */
uint32_t nft_txn_genid_after(struct nft_txn *txn);
/* 0 also when there was nothing to send. */
int nft_txn_commit(struct nft_txn *txn, struct netlink *s,
		   struct nft_batch_error *error);
void nft_txn_end(struct nft_txn *txn);

#endif
