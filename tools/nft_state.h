/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NFT_STATE_H
#define NFT_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "nft_layout.h"
#include "nft_netlink.h"
#include "rule.h"

/* Table inet portredir as read from the kernel, the only source of truth. */
struct nft_state {
	uint32_t genid;		/* the generation the rest was read at */
	bool table;
	bool chain[NFT_CHAIN_COUNT];
	bool map[NFT_MAP_COUNT];	/* the map and its chain rules */
	unsigned int map_id[NFT_MAP_COUNT];	/* the name it goes by */
	/* the handles of the chain rules that look each map up */
	uint64_t handle[NFT_MAP_COUNT][NFT_CHAIN_COUNT];
	struct rule_list rules;		/* sorted */
};

/*
 * Reads and checks the whole table. Returns 0; -EAGAIN when the ruleset
 * changed while it was read (read again); -EPROTO with @why when the
 * table holds something this tool did not make; or another -errno.
 */
int nft_state_read(struct nft_sock *s, struct nft_state *state, char *why,
		   size_t len);
void nft_state_free(struct nft_state *state);

#endif
