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

#include "backends/nft/nft_elems.h"
#include "backends/nft/nft_state.h"

struct read_ctx {
	struct nft_state *state;
	/* map ids in the table, and their chain rules */
	bool maps[NFT_MAP_IDS];
	unsigned int rules[NFT_MAP_IDS][NFT_CHAIN_COUNT];
	/* rules seen in chain prerouting, and whether the first was the guard */
	unsigned int prerouting_rules;
	bool guard;
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

static int chain_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct read_ctx *ctx = arg;
	struct nftnl_chain *c = nftnl_chain_alloc();
	enum nft_chain_id id;

	if (!c)
		return fail(ctx, -ENOMEM);
	if (!ctx->err && nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	    nft_table_ours(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE),
		 nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY))) {
		if (nft_chain_check(c, &id, ctx->why, ctx->len))
			fail(ctx, -EPROTO);
		else
			ctx->state->chain[id] = true;
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct read_ctx *ctx = arg;
	struct nftnl_set *s = nftnl_set_alloc();
	unsigned int map;

	if (!s)
		return fail(ctx, -ENOMEM);
	if (!ctx->err && nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    nft_table_ours(nftnl_set_get_str(s, NFTNL_SET_TABLE),
		 nftnl_set_get_u32(s, NFTNL_SET_FAMILY))) {
		if (nft_map_check(s, &map, ctx->why, ctx->len))
			fail(ctx, -EPROTO);
		else
			ctx->maps[map] = true;
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* The guard must be the first rule of prerouting, and come once. */
static void check_order(struct read_ctx *ctx, const struct nftnl_rule *r,
			bool guard)
{
	const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);

	if (!chain || strcmp(chain, nft_chain_name(NFT_CHAIN_PREROUTING)))
		return;
	if (guard && ctx->prerouting_rules) {
		snprintf(ctx->why, ctx->len,
			 "chain prerouting has its loopback guard (handle %llu) after other rules",
			 (unsigned long long)nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE));
		fail(ctx, -EPROTO);
	}
	ctx->guard = ctx->guard || guard;
	ctx->prerouting_rules++;
}

static void check_rule(struct read_ctx *ctx, const struct nftnl_rule *r)
{
	int guard = nft_guard_check(r);
	enum nft_chain_id chain;
	unsigned int map;

	if (guard < 0) {
		fail(ctx, -ENOMEM);
		return;
	}
	check_order(ctx, r, guard);
	if (guard)
		return;
	if (nft_rule_check(r, &map, &chain, ctx->why, ctx->len)) {
		fail(ctx, -EPROTO);
		return;
	}
	ctx->rules[map][chain]++;
	ctx->state->handle[map % NFT_MAP_COUNT][chain] =
		nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
}

static int rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct read_ctx *ctx = arg;
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return fail(ctx, -ENOMEM);
	if (!ctx->err && nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    nft_table_ours(nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
		 nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY)))
		check_rule(ctx, r);
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
static int request(struct netlink *s, uint16_t type, uint16_t flags,
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
	ret = netlink_transact(s, nlh, cb, ctx);
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

static bool looked_up(const struct read_ctx *ctx, unsigned int id)
{
	int chain;

	for (chain = 0; chain < NFT_CHAIN_COUNT; chain++)
		if (ctx->rules[id][chain])
			return true;
	return false;
}

/*
 * A map goes by the name its chain rules look up; a copy that no rule
 * looks up, under either name, is its spare (see nft_txn.h).
 */
static int resolve_maps(struct read_ctx *ctx)
{
	char name[NFT_MAP_NAME_MAX];
	unsigned int map, id, other;

	for (map = 0; map < NFT_MAP_COUNT; map++) {
		id = map;
		other = nft_map_other_id(map);
		if (ctx->maps[id] && ctx->maps[other] &&
		    looked_up(ctx, id) == looked_up(ctx, other)) {
			snprintf(ctx->why, ctx->len,
				 "it has map %s under two names",
				 nft_map_name(map, name));
			return -EPROTO;
		}
		if (!ctx->maps[id] || looked_up(ctx, other)) {
			id = other;
			other = map;
		}
		if (!ctx->maps[id])
			continue;
		if (looked_up(ctx, id)) {
			ctx->state->map[map] = true;
			ctx->state->map_id[map] = id;
			id = other;
		}
		ctx->state->spare[map] = ctx->maps[id];
		ctx->state->spare_id[map] = id;
	}
	return 0;
}

/*
 * Chain prerouting starts with the guard, which a table of an older layout
 * lacks; every map needs its rule in each chain it serves, and no second one.
 */
static int check_rules(struct read_ctx *ctx)
{
	char name[NFT_MAP_NAME_MAX];
	unsigned int map, want;
	int chain, ret;

	ret = resolve_maps(ctx);
	if (ret)
		return ret;
	if (ctx->state->chain[NFT_CHAIN_PREROUTING] && !ctx->guard) {
		snprintf(ctx->why, ctx->len,
			 "chain prerouting does not start with `ip daddr 127.0.0.0/8 return`");
		return -EPROTO;
	}
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

static int read_map(struct netlink *s, struct read_ctx *ctx, unsigned int map)
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

/*
 * GETSETELEM of one key in map id @id: 0 and the element holding it (an
 * interval's start, in a port map), -ENOENT when none does.
 */
static int get_elem(struct netlink *s, struct read_ctx *ctx, unsigned int id,
		    const char *ifname, uint16_t port, struct nft_raw_elem *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], name[NFT_MAP_NAME_MAX];
	struct nftnl_set *set = nftnl_set_alloc();
	struct nftnl_set_elem *elem = nft_key_elem(ifname, port);
	struct nlmsghdr *nlh;
	int ret;

	if (!set || !elem) {
		if (set)	/* libnftnl's free functions take no NULL */
			nftnl_set_free(set);
		if (elem)
			nftnl_set_elem_free(elem);
		return -ENOMEM;
	}
	nftnl_set_set_str(set, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(set, NFTNL_SET_NAME, nft_map_name(id, name));
	nftnl_set_elem_add(set, elem);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
				    NLM_F_ACK, 0);
	nftnl_set_elems_nlmsg_build_payload(nlh, set);
	nftnl_set_free(set);
	ctx->raw.len = 0;
	ret = netlink_transact(s, nlh, elem_cb, ctx);
	if (!ret)
		ret = ctx->err;
	if (!ret && (ctx->raw.len != 1 || ctx->raw.elems[0].malformed)) {
		snprintf(ctx->why, ctx->len, "map %s answers port %u with %zu elements",
			 name, port, ctx->raw.len);
		ret = -EPROTO;
	}
	if (!ret)
		*e = ctx->raw.elems[0];
	return ret;
}

/*
 * The last port of the interval that @start opens in port map @id: the
 * ports it holds are contiguous, so a bisection finds it in 16 lookups.
 */
static int interval_last(struct netlink *s, struct read_ctx *ctx,
			 unsigned int id, uint16_t start, uint16_t *last)
{
	unsigned int lo = start, hi = 65535, mid;
	struct nft_raw_elem e;
	int ret;

	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		ret = get_elem(s, ctx, id, "", mid, &e);
		if (ret && ret != -ENOENT)
			return ret;
		if (!ret && e.key == start)
			lo = mid;
		else
			hi = mid - 1;
	}
	*last = lo;
	return 0;
}

/* The rule of map id @id that holds @port (on @ifname, in a _dev map). */
static int find_rule(struct netlink *s, struct read_ctx *ctx, unsigned int id,
		     const char *ifname, uint16_t port, struct redir_rule *rule)
{
	struct nft_raw_elem e;
	uint16_t last = 0;
	int ret = get_elem(s, ctx, id, ifname, port, &e);

	/* Only an untagged element of a port map does not say its end. */
	if (!ret && !e.tagged && !e.has_key_end)
		ret = interval_last(s, ctx, id, e.key, &last);
	if (!ret)
		nft_raw_elem_rule(id, &e, last, rule);
	return ret;
}

/* Widest range whose ports are looked up one by one, not by a dump. */
#define NFT_LOOKUP_PORTS	64

static bool may_overlap(unsigned int map, const struct redir_rule *rule)
{
	struct nft_map_class c;

	nft_map_class(map, &c);
	return c.proto == rule->proto && (c.family & rule->family) &&
	       (c.direction & rule->direction);
}

/* The rules of map id @id that hold a port of @rule, found by lookups. */
static int look_up_overlaps(struct netlink *s, struct read_ctx *ctx,
			    unsigned int id, const char *ifname,
			    const struct redir_rule *rule)
{
	unsigned int port = rule->port.min;
	struct redir_rule found;
	int ret = 0;

	while (!ret && port <= rule->port.max) {
		ret = find_rule(s, ctx, id, ifname, port, &found);
		if (ret == -ENOENT) {
			ret = 0;
			port++;
		} else if (!ret) {
			ret = rule_list_append(&ctx->state->rules, &found);
			/* A hand-made element may name ports below @port. */
			port = found.port.max >= port ? found.port.max + 1U
						      : port + 1;
		}
	}
	return ret;
}

/*
 * A map is read whole where that is cheaper than looking up the rule's
 * ports one by one: for a wide range, or for a _dev map against a rule for
 * any interface (its keys would be every interface name).
 */
static int read_overlaps(struct netlink *s, struct read_ctx *ctx,
			 const struct redir_rule *rule)
{
	struct nft_map_class c;
	unsigned int map, id;
	int ret = 0;

	for (map = 0; !ret && map < NFT_MAP_COUNT; map++) {
		if (!ctx->state->map[map] || !may_overlap(map, rule))
			continue;
		id = ctx->state->map_id[map];
		nft_map_class(map, &c);
		if ((c.dev && !rule->ifname[0]) ||
		    port_range_size(&rule->port) > NFT_LOOKUP_PORTS)
			ret = read_map(s, ctx, id);
		else
			ret = look_up_overlaps(s, ctx, id, c.dev ? rule->ifname : "",
					       rule);
	}
	return ret;
}

/* The rule @selector names, if any, is the one that holds its first port. */
static int read_same(struct netlink *s, struct read_ctx *ctx,
		     const struct redir_rule *selector)
{
	unsigned int map = nft_map_of_rule(selector);
	struct redir_rule rule;
	int ret;

	if (map >= NFT_MAP_COUNT || !ctx->state->map[map])
		return 0;
	ret = find_rule(s, ctx, ctx->state->map_id[map], selector->ifname,
			selector->port.min, &rule);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	if (rule_compare(selector, &rule))
		return 0;
	return rule_list_append(&ctx->state->rules, &rule);
}

static int read_rules(struct netlink *s, struct read_ctx *ctx,
		      enum nft_scope scope, const struct redir_rule *rule)
{
	unsigned int map;
	int ret = 0;

	switch (scope) {
	case NFT_SCOPE_ALL:
		for (map = 0; !ret && map < NFT_MAP_COUNT; map++)
			if (ctx->state->map[map])
				ret = read_map(s, ctx, ctx->state->map_id[map]);
		return ret;
	case NFT_SCOPE_OVERLAPS:
		return read_overlaps(s, ctx, rule);
	case NFT_SCOPE_SAME:
		return read_same(s, ctx, rule);
	default:
		return 0;
	}
}

static int read_objects(struct netlink *s, struct read_ctx *ctx,
			enum nft_scope scope, const struct redir_rule *rule)
{
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
	return ret ? ret : read_rules(s, ctx, scope, rule);
}

int nft_state_read(struct netlink *s, struct nft_state *state,
		   enum nft_scope scope, const struct redir_rule *rule,
		   char *why, size_t len)
{
	struct read_ctx ctx = { .state = state, .why = why, .len = len };
	uint32_t genid;
	int ret;

	memset(state, 0, sizeof(*state));
	ret = nft_genid(s, &state->genid);
	if (!ret)
		ret = read_objects(s, &ctx, scope, rule);
	nft_raw_free(&ctx.raw);
	/* Several dumps are one snapshot only if no commit came between. */
	if (!ret)
		ret = nft_genid(s, &genid);
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
