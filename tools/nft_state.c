// SPDX-License-Identifier: GPL-2.0
/*
 * Reading table inet portredir back. Every command starts here: rules are
 * never cached, and a table edited into something we did not make stops
 * the command before it changes anything.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nft_elems.h"
#include "nft_state.h"

struct read_ctx {
	struct nft_state *state;
	/* chain rules per map id: one map must not be looked up by two names */
	unsigned int rules[NFT_MAP_IDS][NFT_CHAIN_COUNT];
	struct nft_raw_list raw;
	int err;
	char *why;
	size_t len;
};

static int fail(struct read_ctx *ctx, int err)
{
	if (!ctx->err)
		ctx->err = err;
	return MNL_CB_OK;
}

static bool ours(const char *table, uint32_t family)
{
	return table && !strcmp(table, NFT_TABLE_NAME) &&
	       family == NFPROTO_INET;
}

static int chain_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct read_ctx *ctx = arg;
	struct nftnl_chain *c = nftnl_chain_alloc();
	enum nft_chain_id id;

	if (!c)
		return fail(ctx, -ENOMEM);
	if (!ctx->err && nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	    ours(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE),
		 nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY))) {
		if (nft_chain_check(c, &id, ctx->why, ctx->len))
			fail(ctx, -EPROTO);
		else
			ctx->state->chain[id] = true;
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static void add_map(struct read_ctx *ctx, unsigned int id)
{
	unsigned int map = id % NFT_MAP_COUNT;
	char name[NFT_MAP_NAME_MAX];

	if (ctx->state->map[map]) {
		snprintf(ctx->why, ctx->len, "it has map %s under two names",
			 nft_map_name(map, name));
		fail(ctx, -EPROTO);
		return;
	}
	ctx->state->map[map] = true;
	ctx->state->map_id[map] = id;
}

static int set_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct read_ctx *ctx = arg;
	struct nftnl_set *s = nftnl_set_alloc();
	unsigned int map;

	if (!s)
		return fail(ctx, -ENOMEM);
	if (!ctx->err && nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    ours(nftnl_set_get_str(s, NFTNL_SET_TABLE),
		 nftnl_set_get_u32(s, NFTNL_SET_FAMILY))) {
		if (nft_map_check(s, &map, ctx->why, ctx->len))
			fail(ctx, -EPROTO);
		else
			add_map(ctx, map);
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct read_ctx *ctx = arg;
	struct nftnl_rule *r = nftnl_rule_alloc();
	enum nft_chain_id chain;
	unsigned int map;

	if (!r)
		return fail(ctx, -ENOMEM);
	if (!ctx->err && nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    ours(nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
		 nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY))) {
		if (nft_rule_check(r, &map, &chain, ctx->why, ctx->len)) {
			fail(ctx, -EPROTO);
		} else {
			ctx->rules[map][chain]++;
			ctx->state->handle[map % NFT_MAP_COUNT][chain] =
				nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
		}
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static int elem_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct read_ctx *ctx = arg;

	if (!ctx->err && nft_raw_parse(nlh, &ctx->raw) == NFT_RAW_NOMEM)
		fail(ctx, -ENOMEM);
	return MNL_CB_OK;
}

/* Sends a request for our table's objects of one kind. */
static int request(struct nft_sock *s, uint16_t type, uint16_t flags,
		   uint16_t table_attr, const char *set, mnl_cb_t cb,
		   struct read_ctx *ctx)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags, 0);
	/* Kernels filter dumps by table; the callbacks check it anyway. */
	mnl_attr_put_strz(nlh, table_attr, NFT_TABLE_NAME);
	if (set)
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	ret = nft_sock_request(s, nlh, cb, ctx);
	return ret ? ret : ctx->err;
}

static int table_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct read_ctx *ctx = arg;
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return fail(ctx, -ENOMEM);
	if (nftnl_table_nlmsg_parse(nlh, t) < 0)
		fail(ctx, -EINVAL);
	else if (nft_table_check(t, ctx->why, ctx->len))
		fail(ctx, -EPROTO);
	else
		ctx->state->table = true;
	nftnl_table_free(t);
	return MNL_CB_OK;
}

/* Every map needs its rule in each chain it serves, and no second one. */
static int check_rules(struct read_ctx *ctx)
{
	char name[NFT_MAP_NAME_MAX];
	unsigned int map, want;
	int chain;

	for (map = 0; map < NFT_MAP_IDS; map++) {
		for (chain = 0; chain < NFT_CHAIN_COUNT; chain++) {
			want = nft_map_in_chain(map, chain) &&
			       ctx->state->map[map % NFT_MAP_COUNT] &&
			       ctx->state->map_id[map % NFT_MAP_COUNT] == map;
			if (ctx->rules[map][chain] == want)
				continue;
			snprintf(ctx->why, ctx->len,
				 "chain %s has %u rules looking up map %s, not %u",
				 nft_chain_name(chain), ctx->rules[map][chain],
				 nft_map_name(map, name), want);
			return -EPROTO;
		}
	}
	return 0;
}

static int read_map(struct nft_sock *s, struct read_ctx *ctx, unsigned int map)
{
	char name[NFT_MAP_NAME_MAX];
	int ret;

	ctx->raw.len = 0;
	ret = request(s, NFT_MSG_GETSETELEM, NLM_F_DUMP,
		      NFTA_SET_ELEM_LIST_TABLE, nft_map_name(map, name),
		      elem_cb, ctx);
	if (!ret)
		ret = nft_raw_to_rules(map, &ctx->raw, &ctx->state->rules,
				       ctx->why, ctx->len);
	return ret;
}

static int read_objects(struct nft_sock *s, struct read_ctx *ctx)
{
	unsigned int map;
	int ret;

	ret = request(s, NFT_MSG_GETTABLE, NLM_F_ACK, NFTA_TABLE_NAME, NULL,
		      table_cb, ctx);
	if (ret == -ENOENT)
		return 0;	/* no table yet: no rules */
	if (!ret)
		ret = request(s, NFT_MSG_GETCHAIN, NLM_F_DUMP, NFTA_CHAIN_TABLE,
			      NULL, chain_cb, ctx);
	if (!ret)
		ret = request(s, NFT_MSG_GETSET, NLM_F_DUMP, NFTA_SET_TABLE,
			      NULL, set_cb, ctx);
	if (!ret)
		ret = request(s, NFT_MSG_GETRULE, NLM_F_DUMP, NFTA_RULE_TABLE,
			      NULL, rule_cb, ctx);
	if (!ret)
		ret = check_rules(ctx);
	for (map = 0; !ret && map < NFT_MAP_COUNT; map++)
		if (ctx->state->map[map])
			ret = read_map(s, ctx, ctx->state->map_id[map]);
	return ret;
}

int nft_state_read(struct nft_sock *s, struct nft_state *state, char *why,
		   size_t len)
{
	struct read_ctx ctx = { .state = state, .why = why, .len = len };
	uint32_t genid;
	int ret;

	memset(state, 0, sizeof(*state));
	ret = nft_sock_genid(s, &state->genid);
	if (!ret)
		ret = read_objects(s, &ctx);
	nft_raw_free(&ctx.raw);
	/* Several dumps are one snapshot only if no commit came between. */
	if (!ret)
		ret = nft_sock_genid(s, &genid);
	if (!ret && genid != state->genid)
		ret = -EAGAIN;
	if (ret) {
		nft_state_free(state);
		return ret;
	}
	rule_list_sort(&state->rules);
	return 0;
}

void nft_state_free(struct nft_state *state)
{
	rule_list_free(&state->rules);
}
