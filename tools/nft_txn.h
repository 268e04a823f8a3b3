/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NFT_TXN_H
#define NFT_TXN_H

#include "nft_layout.h"
#include "nft_netlink.h"
#include "nft_state.h"

struct nftnl_set;

/*
 * One change to table inet portredir as one nftables transaction. It
 * creates what a rule needs and is missing (table, chains, the rule's map
 * and the chain rules that look it up) in the same transaction, and is
 * refused by the kernel if the ruleset moved past the state it was built on.
 */
struct nft_txn {
	struct nft_batch *batch;
	bool table;
	bool chain[NFT_CHAIN_COUNT];
	bool map[NFT_MAP_COUNT];
	unsigned int map_id[NFT_MAP_COUNT];
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
 * Swaps every map for an empty one under its other name, with the chain
 * rules that look it up: the old maps stay whole until the commit drops
 * them, so a packet meets either all the old rules or all the new ones.
 */
int nft_txn_renew(struct nft_txn *txn);
/* 0 also when there was nothing to send. */
int nft_txn_commit(struct nft_txn *txn, struct nft_sock *s,
		   struct nft_batch_error *error);
void nft_txn_end(struct nft_txn *txn);

#endif
