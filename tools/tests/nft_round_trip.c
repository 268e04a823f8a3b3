// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/set.h>
#include <libmnl/libmnl.h>

#include "backends/nft/nft_elems.h"
#include "backends/nft/nft_layout.h"
#include "nft_round_trip.h"

/*
 * Like a kernel dump, the elements come in several messages: a nest holds
 * at most 64 KiB, and one element takes less than 256 bytes.
 */
#define ELEMS_PER_MESSAGE	128
#define MESSAGE_SIZE		65536

struct collected {
	struct nftnl_set_elem **elems;
	size_t count;
	size_t cap;
};

static int collect(struct nftnl_set_elem *elem, void *arg)
{
	struct collected *c = arg;

	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		void *grown = realloc(c->elems, cap * sizeof(*c->elems));

		if (!grown) {
			nftnl_set_elem_free(elem);
			return -ENOMEM;
		}
		c->elems = grown;
		c->cap = cap;
	}
	c->elems[c->count++] = elem;
	return 0;
}

/* One NEWSETELEM message of map @map, as the kernel writes it. */
static struct nlmsghdr *build_message(char *buf, unsigned int map,
				      struct nftnl_set_elem **elems,
				      size_t count)
{
	char name[NFT_MAP_NAME_MAX];
	struct nlattr *list, *nest;
	struct nlmsghdr *nlh;
	size_t i;

	memset(buf, 0, MESSAGE_SIZE);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, NFPROTO_INET, 0, 1);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, nft_map_name(map, name));
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	for (i = 0; i < count; i++) {
		nest = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		nftnl_set_elem_nlmsg_build_payload(nlh, elems[i]);
		mnl_attr_nest_end(nlh, nest);
	}
	mnl_attr_nest_end(nlh, list);
	return nlh;
}

/* The messages and their parse, for the elements of @map in @c. */
static int read_back(unsigned int map, const struct collected *c,
		     struct rule_list *out, char *why, size_t len)
{
	struct nft_raw_list raw = { 0 };
	char *buf = malloc(MESSAGE_SIZE);
	size_t i, n;
	int got = (int)map, err = -ENOMEM;

	for (i = 0; buf && i < c->count && got == (int)map; i += n) {
		n = c->count - i < ELEMS_PER_MESSAGE ? c->count - i :
						       ELEMS_PER_MESSAGE;
		got = nft_raw_parse(build_message(buf, map, c->elems + i, n),
				    &raw);
	}
	if (buf && got == (int)map) {
		err = nft_raw_to_rules(map, &raw, out, why, len);
	} else if (buf && got != NFT_RAW_NOMEM) {
		snprintf(why, len, "map %u read back as %d", map, got);
		err = -EPROTO;
	}
	nft_raw_free(&raw);
	free(buf);
	return err;
}

static void collected_free(struct collected *c)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		nftnl_set_elem_free(c->elems[i]);
	free(c->elems);
}

int nft_round_trip(const struct rule_list *rules, struct rule_list *out,
		   char *why, size_t len)
{
	unsigned int map;
	size_t i;
	int err = 0;

	for (map = 0; map < NFT_MAP_COUNT && !err; map++) {
		struct collected c = { 0 };

		for (i = 0; i < rules->len && !err; i++)
			if (nft_map_of_rule(&rules->rules[i]) == map)
				err = nft_rule_elems(&rules->rules[i], false,
						     collect, &c);
		if (!err && c.count)
			err = read_back(map, &c, out, why, len);
		collected_free(&c);
	}
	if (err && err != -EPROTO)
		snprintf(why, len, "%s", strerror(-err));
	return err;
}

static bool same_rule(const struct redir_rule *a, const struct redir_rule *b)
{
	return a->proto == b->proto && a->port.min == b->port.min &&
	       a->port.max == b->port.max && a->to.min == b->to.min &&
	       a->to.max == b->to.max && a->family == b->family &&
	       a->direction == b->direction && !strcmp(a->ifname, b->ifname);
}

bool rule_lists_equal(struct rule_list *a, struct rule_list *b)
{
	size_t i;

	if (a->len != b->len)
		return false;
	rule_list_sort(a);
	rule_list_sort(b);
	for (i = 0; i < a->len; i++)
		if (!same_rule(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}
