/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NFT_ELEMS_H
#define NFT_ELEMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rule.h"

struct nlmsghdr;
struct nftnl_set_elem;

/* One map element as the kernel reports it, before intervals are paired. */
struct nft_raw_elem {
	bool malformed;		/* a key or value of the wrong size */
	char ifname[IF_NAMESIZE];
	uint16_t key;
	uint16_t key_end;
	bool has_key_end;
	bool interval_end;
	bool has_to;
	uint16_t to;
	/* "part of 80-89 to 8080-8089": one port of an offset range rule */
	bool tagged;
	struct port_range tag_port;
	struct port_range tag_to;
	uint64_t packets;
};

struct nft_raw_list {
	struct nft_raw_elem *elems;
	size_t len;
	size_t cap;
};

void nft_raw_free(struct nft_raw_list *raw);
/* Copies the elements of @from to the end of @to: 0 or -ENOMEM. */
int nft_raw_append(struct nft_raw_list *to, const struct nft_raw_list *from);

/*
 * Appends the elements of one NEWSETELEM or DELSETELEM message, a dump
 * reply or a notification, to @raw. Returns the map they belong to, or
 * NFT_RAW_NOT_OURS (another table's set) or NFT_RAW_NOMEM.
 */
int nft_raw_parse(const struct nlmsghdr *nlh, struct nft_raw_list *raw);
#define NFT_RAW_NOT_OURS	(-1)
#define NFT_RAW_NOMEM		(-2)

/*
 * Turns the raw elements of @map back into rules, appended to @rules.
 * Returns 0, -ENOMEM, or -EPROTO with @why when the elements are not what
 * this tool writes (the map was edited by hand).
 */
int nft_raw_to_rules(unsigned int map, struct nft_raw_list *raw,
		     struct rule_list *rules, char *why, size_t len);

/*
 * The rule that @e, an element of @map as GETSETELEM returns it, is part
 * of. In a port map such an element is an interval's start alone: @last
 * is where the caller found the interval to end.
 */
void nft_raw_elem_rule(unsigned int map, const struct nft_raw_elem *e,
		       uint16_t last, struct redir_rule *rule);

/* An element of key @port, or @ifname . @port in a _dev map: a lookup. */
struct nftnl_set_elem *nft_key_elem(const char *ifname, uint16_t port);

/*
 * Calls @fn with each element @rule is made of in its map, for adding or,
 * with @del, for deleting. @fn takes the element; a negative return stops.
 */
typedef int (*nft_elem_fn)(struct nftnl_set_elem *elem, void *arg);
int nft_rule_elems(const struct redir_rule *rule, bool del, nft_elem_fn fn,
		   void *arg);

#endif
