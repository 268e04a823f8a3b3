/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NFT_STATE_H
#define NFT_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/nft/nft_layout.h"
#include "netlink/nft_netlink.h"
#include "rules/rule.h"

/* Table inet portredir as read from the kernel, the only source of truth. */
struct nft_state {
	uint32_t genid;		/* the generation the rest was read at */
	bool table;
	bool chain[NFT_CHAIN_COUNT];
	bool map[NFT_MAP_COUNT];	/* the map and its chain rules */
	unsigned int map_id[NFT_MAP_COUNT];	/* the name it goes by */
	/*
	 * A copy of the map that no chain rule looks up: restore fills one,
	 * swaps the rules over to it, then deletes the old one (nft_txn.h).
	 */
	bool spare[NFT_MAP_COUNT];
	unsigned int spare_id[NFT_MAP_COUNT];
	/* the handles of the chain rules that look each map up */
	uint64_t handle[NFT_MAP_COUNT][NFT_CHAIN_COUNT];
	struct rule_list rules;		/* sorted */
};

/*
 * Which rules nft_state_read() reads. A change reads no more than it needs:
 * at a full table (131070 rules) reading every rule costs seconds.
 */
enum nft_scope {
	NFT_SCOPE_ALL,		/* every rule */
	NFT_SCOPE_NONE,		/* none: the change replaces them all */
	NFT_SCOPE_OVERLAPS,	/* every rule that overlaps @rule, maybe more */
	NFT_SCOPE_SAME,		/* the rule of @rule's selector, if there is one */
};

/*
 * Reads and checks the table's objects, and of its rules those of @scope.
 * Returns 0; -EAGAIN when the ruleset changed while it was read (read
 * again); -EPROTO with @why when the table holds something this tool did
 * not make; or another -errno.
 */
int nft_state_read(struct netlink *s, struct nft_state *state,
		   enum nft_scope scope, const struct redir_rule *rule,
		   char *why, size_t len);
void nft_state_free(struct nft_state *state);

#endif
