// SPDX-License-Identifier: GPL-2.0
/*
 * The nft backend: the rules of portredir.ko built as nftables objects, for
 * kernels without the module. Everything lives in table inet portredir;
 * no other table is ever read for change or written.
 *
 * Layout
 *
 *   chain prerouting { type nat hook prerouting priority dstnat + 1; }  inbound
 *   chain output     { type nat hook output priority -99; }             local
 *
 *   One map per kind of rule: protocol x family (both, ip, ip6) x direction
 *   (both, inbound, local, inbound on one interface), named after it:
 *   redir_tcp, redir_udp_ip6, redir_tcp_ip_local, redir_sctp_inbound_dev...
 *   A rule is one element of the map of its kind, so the map says the
 *   rule's family and direction:
 *
 *     map redir_tcp { type inet_service : inet_service; flags interval;
 *                     counter; elements = { 80 : 8080, 1000-1999 : 9000 } }
 *     map redir_tcp_inbound_dev { type ifname . inet_service : ... }
 *
 *   Chain prerouting starts with `ip daddr 127.0.0.0/8 return`, created
 *   with it and never removed: 127.0.0.0/8 arriving from the wire is not
 *   redirected. Each map is looked up by one rule in each chain its
 *   direction covers:
 *
 *     meta nfproto ipv4 meta l4proto tcp fib daddr type local
 *         dnat to :tcp dport map @redir_tcp_ip
 *     meta l4proto tcp fib daddr type local
 *         dnat to :iifname . tcp dport map @redir_tcp_inbound_dev
 *
 *   so a packet meets a fixed number of lookups however many rules there
 *   are: O(log n) rbtree lookups in port maps (interface maps are pipapo).
 *   A NAT chain sees only the first packet of a connection, so the counter
 *   of an element counts the connections its rule redirected. fib keeps
 *   rules to connections for this host's own addresses; a dnat that names
 *   no address changes the port alone (nft_layout.c).
 *
 *   nft maps a key to a fixed port, not to an offset, so a range mapped to
 *   a range (80-89 to 8080-8089) becomes one element per port, each with
 *   the comment "part of 80-89 to 8080-8089" that keeps them one rule.
 *
 * Lifetime
 *
 *   The table, its chains, a map and the rules looking it up are created
 *   by the first change that needs them, in that change's transaction, and
 *   then stay: rules come and go as map elements, and flush empties the
 *   maps. restore alone replaces maps: it builds each one afresh under its
 *   other name (redir_tcp <-> redir_tcp_alt), then swaps the chain rules
 *   over to it, then deletes the old map, in three transactions, because
 *   refilling a live map is not atomic on every kernel (nft_txn.h). The NAT
 *   expressions hold the namespace's conntrack reference; when the last of
 *   them goes (or the table), replies of established redirected
 *   connections are no longer translated back. Keeping them for the
 *   table's lifetime is what lets those connections survive del, flush and
 *   restore.
 *
 * Consistency
 *
 *   The kernel is the only state. Every command reads the table back,
 *   checks that it holds only what this tool makes, and sends its change as
 *   one batch tagged with the ruleset generation it read: if anything
 *   changed in between, the kernel refuses the batch (ERESTART) and the
 *   command starts over from a fresh read. A change reads the table's
 *   objects but only the rules it needs (enum nft_scope): add looks up
 *   its ports in the maps it could overlap, del its selector's first and
 *   last ports, flush and restore none, so that one change costs the same
 *   at a full table as at an empty one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/portredir.h>

#include "backends/backend.h"
#include "backends/nft/nft_monitor.h"
#include "backends/nft/nft_state.h"
#include "backends/nft/nft_txn.h"
#include "netlink/nft_netlink.h"

/* Commands racing ours restart a command at most this many times. */
#define NFT_ATTEMPTS	8

struct nft_backend {
	struct netlink sock;
};

static struct netlink *sock_of(struct backend *b)
{
	return &((struct nft_backend *)b->priv)->sock;
}

static int nft_open(struct backend *b)
{
	struct nft_backend *nft = calloc(1, sizeof(*nft));
	uint32_t genid;
	int ret;

	if (!nft)
		return -ENOMEM;
	ret = netlink_open(&nft->sock, NETLINK_NETFILTER);
	if (ret) {
		snprintf(b->error, sizeof(b->error),
			 "cannot open a netfilter netlink socket: %s",
			 strerror(-ret));
		free(nft);
		return -ENOENT;
	}
	/* The cheapest question nf_tables answers, even unprivileged. */
	ret = nft_genid(&nft->sock, &genid);
	if (ret == -EPERM) {
		/* nfnetlink answers nothing, not even reads, without it. */
		snprintf(b->error, sizeof(b->error),
			 "no permission: nftables needs CAP_NET_ADMIN over this network namespace, even to read");
		netlink_close(&nft->sock);
		free(nft);
		return -EPERM;
	}
	if (ret) {
		snprintf(b->error, sizeof(b->error),
			 "nf_tables is not available in this kernel (CONFIG_NF_TABLES): %s",
			 strerror(-ret));
		netlink_close(&nft->sock);
		free(nft);
		return -ENOENT;
	}
	b->priv = nft;
	return 0;
}

static void nft_close(struct backend *b)
{
	if (!b->priv)
		return;
	netlink_close(sock_of(b));
	free(b->priv);
	b->priv = NULL;
}

static int refuse(struct backend *b, int err, const char *why)
{
	snprintf(b->error, sizeof(b->error), "%s", why);
	return err;
}

/*
 * The kernel module checks rules on its side; here nothing does but us.
 * @exists: the interface must be there now (add), or may be gone (del).
 */
static int check_selector(struct backend *b, struct redir_rule *r, bool exists)
{
	char name[IF_NAMESIZE];

	if (rule_check_selector(r, b->error, sizeof(b->error)))
		return -EINVAL;
	if (r->ifindex && !r->ifname[0]) {
		if (!if_indextoname(r->ifindex, name))
			return refuse(b, -ENODEV, "no interface has that index");
		memcpy(r->ifname, name, sizeof(name));
	}
	if (r->ifname[0] && exists) {
		r->ifindex = if_nametoindex(r->ifname);
		if (!r->ifindex)
			return refuse(b, -ENODEV, "no such interface in this network namespace");
	}
	return 0;
}

static int check_rule(struct backend *b, struct redir_rule *r)
{
	int ret = check_selector(b, r, true);

	if (ret)
		return ret;
	if (r->mode != PORTREDIR_MODE_NAT)
		return refuse(b, -EOPNOTSUPP,
			      "the nftables backend cannot steer: --steer needs the portredir kernel module (load it, or leave --steer out)");
	ret = rule_check_target(r, b->error, sizeof(b->error));
	if (ret)
		return ret;
	r->connections = 0;
	return 0;
}

static int read_state(struct backend *b, struct nft_state *state,
		      enum nft_scope scope, const struct redir_rule *rule)
{
	char why[128] = "";
	int attempt, ret = -EAGAIN;

	for (attempt = 0; attempt < NFT_ATTEMPTS && ret == -EAGAIN; attempt++)
		ret = nft_state_read(sock_of(b), state, scope, rule, why,
				     sizeof(why));
	if (ret == -EPROTO)
		snprintf(b->error, sizeof(b->error),
			 "table inet portredir was made or changed outside portredir: %s; `nft delete table inet portredir` starts over",
			 why);
	else if (ret == -EAGAIN)
		snprintf(b->error, sizeof(b->error),
			 "the nftables ruleset kept changing while it was read");
	else if (ret)
		snprintf(b->error, sizeof(b->error),
			 "cannot read table inet portredir: %s", strerror(-ret));
	return ret;
}

static bool nat_step(const char *what)
{
	return !strncmp(what, "create nat chain", 16) ||
	       !strncmp(what, "add a redirect rule", 19);
}

static void report(struct backend *b, const struct nft_batch_error *e)
{
	const char *sep = e->msg[0] ? ": " : "";

	if (e->err == EPERM)
		snprintf(b->error, sizeof(b->error),
			 "no permission to %s: nftables needs CAP_NET_ADMIN",
			 e->what);
	else if ((e->err == ENOENT || e->err == EOPNOTSUPP) && nat_step(e->what))
		snprintf(b->error, sizeof(b->error),
			 "this kernel lacks nftables NAT support (nft_chain_nat, nft_redir): could not %s: %s",
			 e->what, strerror(e->err));
	else
		snprintf(b->error, sizeof(b->error),
			 "nftables refused to %s: %s%s%s", e->what,
			 strerror(e->err), sep, e->msg);
}

typedef int (*build_fn)(struct backend *b, struct nft_txn *txn,
			const struct nft_state *state, const void *arg);

/*
 * Read (the rules of @scope around @rule), check and build, commit; start
 * over if the ruleset moved meanwhile.
 */
static int change(struct backend *b, build_fn build, const void *arg,
		  enum nft_scope scope, const struct redir_rule *rule)
{
	struct nft_batch_error error;
	struct nft_state state;
	struct nft_txn txn;
	int attempt, ret;

	for (attempt = 0; attempt < NFT_ATTEMPTS; attempt++) {
		ret = read_state(b, &state, scope, rule);
		if (ret)
			return ret;
		ret = nft_txn_begin(&txn, &state);
		if (!ret)
			ret = build(b, &txn, &state, arg);
		if (!ret) {
			ret = nft_txn_commit(&txn, sock_of(b), &error);
			if (ret && ret != -ERESTART)
				report(b, &error);
		}
		nft_txn_end(&txn);
		nft_state_free(&state);
		if (ret != -ERESTART)
			return ret;
	}
	return refuse(b, -EBUSY, "the nftables ruleset kept changing; try again");
}

static int build_add(struct backend *b, struct nft_txn *txn,
		     const struct nft_state *state, const void *arg)
{
	const struct redir_rule *rule = arg;

	nft_txn_retire(txn);	/* what an interrupted restore left */
	if (rule_list_explain_overlap(&state->rules, rule, b->error,
				      sizeof(b->error)))
		return -EEXIST;
	return nft_txn_add(txn, rule);
}

static int nft_add(struct backend *b, const struct redir_rule *rule)
{
	struct redir_rule r = *rule;
	int ret = check_rule(b, &r);

	return ret ? ret : change(b, build_add, &r, NFT_SCOPE_OVERLAPS, &r);
}

static int build_del(struct backend *b, struct nft_txn *txn,
		     const struct nft_state *state, const void *arg)
{
	const struct redir_rule *selector = arg;
	size_t i;

	nft_txn_retire(txn);
	/* rule_compare() looks at the selector only, not at the target. */
	for (i = 0; i < state->rules.len; i++)
		if (!rule_compare(selector, &state->rules.rules[i]))
			return nft_txn_del(txn, &state->rules.rules[i]);
	return refuse(b, -ENOENT, "no such rule");
}

static int nft_del(struct backend *b, const struct redir_rule *rule)
{
	struct redir_rule r = *rule;
	int ret = check_selector(b, &r, false);

	return ret ? ret : change(b, build_del, &r, NFT_SCOPE_SAME, &r);
}

static int nft_list(struct backend *b, struct rule_list *out)
{
	struct nft_state state;
	size_t i;
	int ret = read_state(b, &state, NFT_SCOPE_ALL, NULL);

	for (i = 0; !ret && i < state.rules.len; i++)
		ret = rule_list_append(out, &state.rules.rules[i]);
	nft_state_free(&state);
	return ret;
}

/*
 * Deletes the spare maps: restore's last step, and what an interrupted
 * restore left.
 */
static int build_retire(struct backend *b, struct nft_txn *txn,
			const struct nft_state *state, const void *arg)
{
	(void)b;
	(void)state;
	(void)arg;
	nft_txn_retire(txn);
	return 0;
}

static int build_flush(struct backend *b, struct nft_txn *txn,
		       const struct nft_state *state, const void *arg)
{
	build_retire(b, txn, state, arg);
	return nft_txn_flush(txn);
}

static int nft_flush(struct backend *b)
{
	return change(b, build_flush, NULL, NFT_SCOPE_NONE, NULL);
}

static int refuse_overlaps(struct backend *b, const struct rule_list *list)
{
	char one[RULE_FORMAT_MAX], other[RULE_FORMAT_MAX];
	size_t i, j;
	int found = rule_list_find_overlap(list, &i, &j);

	if (found <= 0)
		return found;
	rule_format(&list->rules[i], RULE_WITH_TARGET, one, sizeof(one));
	rule_format(&list->rules[j], RULE_WITH_TARGET, other, sizeof(other));
	snprintf(b->error, sizeof(b->error), "rules %s and %s overlap", one,
		 other);
	return -EEXIST;
}

static int compare_by_map(const void *pa, const void *pb)
{
	const struct redir_rule *a = pa, *b = pb;
	unsigned int ma = nft_map_of_rule(a), mb = nft_map_of_rule(b);

	if (ma != mb)
		return ma < mb ? -1 : 1;
	return rule_compare(a, b);
}

/* restore's steps (nft_txn.h). */
struct restore_step {
	const struct rule_list *rules;
	size_t batch_max;	/* bytes one transaction may take */
	size_t *next;		/* the first rule not sent yet */
	uint32_t *staged_at;	/* the generation the last step made */
};

/* Adds rules from the next one on, as many as one transaction can take. */
static int put_rules(struct nft_txn *txn, const struct restore_step *step)
{
	size_t i = *step->next;
	int ret = 0;

	for (; !ret && i < step->rules->len; i++) {
		if (i > *step->next && nft_txn_bytes(txn) >= step->batch_max)
			break;
		ret = nft_txn_add(txn, &step->rules->rules[i]);
	}
	*step->next = i;
	*step->staged_at = nft_txn_genid_after(txn);
	return ret;
}

static int build_stage(struct backend *b, struct nft_txn *txn,
		       const struct nft_state *state, const void *arg)
{
	const struct restore_step *step = arg;

	(void)b;
	(void)state;
	nft_txn_retire(txn);	/* spares hold the names the new maps take */
	nft_txn_stage(txn);
	*step->next = 0;
	return put_rules(txn, step);
}

/*
 * After step 1: the next part of the rules while some are left, then the
 * swap. The spares are ours only if nothing was committed since our last
 * step.
 */
static int build_next(struct backend *b, struct nft_txn *txn,
		      const struct nft_state *state, const void *arg)
{
	const struct restore_step *step = arg;

	(void)b;
	if (state->genid != *step->staged_at)
		return -ESTALE;
	if (*step->next < step->rules->len) {
		nft_txn_fill(txn);
		return put_rules(txn, step);
	}
	nft_txn_swap(txn);
	return 0;
}

static int restore_steps(struct backend *b, const struct rule_list *rules)
{
	size_t next = 0;
	uint32_t staged_at = 0;
	struct restore_step step = { rules, nft_batch_max(sock_of(b)),
				     &next, &staged_at };
	int attempt, ret = -ESTALE;

	for (attempt = 0; attempt < NFT_ATTEMPTS && ret == -ESTALE; attempt++) {
		ret = change(b, build_stage, &step, NFT_SCOPE_NONE, NULL);
		while (!ret && next < rules->len)
			ret = change(b, build_next, &step, NFT_SCOPE_NONE, NULL);
		if (!ret)	/* all sent: the swap */
			ret = change(b, build_next, &step, NFT_SCOPE_NONE, NULL);
	}
	if (ret == -ESTALE)
		return refuse(b, -EBUSY, "the nftables ruleset kept changing; try again");
	return ret ? ret : change(b, build_retire, NULL, NFT_SCOPE_NONE, NULL);
}

static int nft_replace(struct backend *b, const struct rule_list *rules)
{
	struct rule_list checked = { 0 };
	struct redir_rule r;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < rules->len; i++) {
		r = rules->rules[i];
		ret = check_rule(b, &r);
		if (!ret)
			ret = rule_list_append(&checked, &r);
	}
	if (!ret)
		ret = refuse_overlaps(b, &checked);
	/* Rules of one map together make few, full element messages. */
	if (!ret && checked.len > 1)
		qsort(checked.rules, checked.len, sizeof(*checked.rules),
		      compare_by_map);
	if (!ret)
		ret = restore_steps(b, &checked);
	rule_list_free(&checked);
	return ret;
}

static int nft_monitor(struct backend *b, monitor_fn fn, void *arg)
{
	return nft_monitor_run(fn, arg, b->error, sizeof(b->error));
}

const struct backend_ops backend_nft = {
	.name = "nft",
	.open = nft_open,
	.close = nft_close,
	.add = nft_add,
	.del = nft_del,
	.list = nft_list,
	.flush = nft_flush,
	.replace = nft_replace,
	.monitor = nft_monitor,
};
