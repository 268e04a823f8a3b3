/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NFT_LAYOUT_H
#define NFT_LAYOUT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rule.h"

struct nftnl_chain;
struct nftnl_rule;
struct nftnl_set;
struct nftnl_table;

/* What the nft backend builds; backend_nft.c describes the layout. */
#define NFT_TABLE_NAME		"portredir"

/* Whether an object of @table, in @family, is of our table. */
bool nft_table_ours(const char *table, uint32_t family);

enum nft_chain_id {
	NFT_CHAIN_PREROUTING,
	NFT_CHAIN_OUTPUT,
	NFT_CHAIN_COUNT
};

/*
 * The packets one map applies to. Each rule lives in exactly one map,
 * chosen by its protocol, family mask, direction mask and whether it names
 * an input interface; maps are numbered 0..NFT_MAP_COUNT-1.
 */
struct nft_map_class {
	uint8_t proto;
	uint8_t family;
	uint8_t direction;
	bool dev;
};

/* protocols x family masks x directions, 3 x 3 x 4: nft_layout.c checks it */
#define NFT_MAP_COUNT		36
#define NFT_MAP_NAME_MAX	32

/*
 * A map's key is a port, or in the _dev maps an interface name and a port;
 * its value is a port. A concatenation puts every field in its own 32-bit
 * register, so the port of a _dev key takes 4 bytes.
 */
#define NFT_PORT_LEN		2
#define NFT_DEV_KEY_LEN		(IFNAMSIZ + 4)

/*
 * Each map goes by one of two names (redir_tcp, redir_tcp_alt): restore
 * builds the new maps under the names the old ones do not use, so that no
 * element of a live map ever changes under a packet. A map id names one
 * map under one name, 0..NFT_MAP_IDS-1; id % NFT_MAP_COUNT is the map.
 */
#define NFT_MAP_IDS		(2 * NFT_MAP_COUNT)

/* Functions taking a map take a map id as well. */
void nft_map_class(unsigned int map, struct nft_map_class *class);
unsigned int nft_map_of_rule(const struct redir_rule *rule);
const char *nft_map_name(unsigned int map, char buf[NFT_MAP_NAME_MAX]);
/* The map id called @name, or -1. */
int nft_map_by_name(const char *name);
bool nft_map_in_chain(unsigned int map, enum nft_chain_id chain);
const char *nft_chain_name(enum nft_chain_id chain);

/* Builders for the objects as they are created. */
struct nftnl_table *nft_table_build(void);
struct nftnl_chain *nft_chain_build(enum nft_chain_id chain);
struct nftnl_set *nft_map_build(unsigned int map);
/* The id @map has under its other name. */
unsigned int nft_map_other_id(unsigned int map);
/* The rule in @chain that sends new connections through @map. */
struct nftnl_rule *nft_map_rule_build(unsigned int map,
				      enum nft_chain_id chain);

/*
 * The first rule of chain prerouting, created with it and never removed:
 * IPv4 packets for 127.0.0.0/8 leave the chain before any map is looked up.
 */
struct nftnl_rule *nft_guard_rule_build(void);

/*
 * Shape checks for objects read back from the kernel: 0 and what the
 * object is, or -1 and @why it is not something this tool made.
 */
int nft_table_check(const struct nftnl_table *table, char *why, size_t len);
int nft_chain_check(const struct nftnl_chain *chain, enum nft_chain_id *id,
		    char *why, size_t len);
int nft_map_check(const struct nftnl_set *set, unsigned int *map,
		  char *why, size_t len);
int nft_rule_check(const struct nftnl_rule *rule, unsigned int *map,
		   enum nft_chain_id *chain, char *why, size_t len);
/* 1 if @rule is the guard of chain prerouting, 0 if not, -1 on ENOMEM. */
int nft_guard_check(const struct nftnl_rule *rule);

#endif
