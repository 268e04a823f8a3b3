// SPDX-License-Identifier: GPL-2.0
/*
 * Rules <-> map elements. A rule is one element of its map: ports lo-hi
 * (and an interface name in the _dev maps) -> target port. nft can only
 * map to a fixed port, so an offset range (80-89 to 8080-8089) becomes one
 * element per port, each tagged with a comment naming the whole range:
 * that comment is what tells ten such elements from ten one-port rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#include "backends/nft/nft_elems.h"
#include "backends/nft/nft_layout.h"
#include "util/array.h"

#define TAG_FORMAT		"part of %hu-%hu to %hu-%hu"

void nft_raw_free(struct nft_raw_list *raw)
{
	free(raw->elems);
	memset(raw, 0, sizeof(*raw));
}

static struct nft_raw_elem *raw_new(struct nft_raw_list *raw)
{
	struct nft_raw_elem *elems;

	elems = array_grow(raw->elems, &raw->cap, raw->len, sizeof(*elems));
	if (!elems)
		return NULL;
	raw->elems = elems;
	memset(&raw->elems[raw->len], 0, sizeof(raw->elems[0]));
	return &raw->elems[raw->len++];
}

int nft_raw_append(struct nft_raw_list *to, const struct nft_raw_list *from)
{
	struct nft_raw_elem *elem;
	size_t i;

	for (i = 0; i < from->len; i++) {
		elem = raw_new(to);
		if (!elem)
			return -ENOMEM;
		*elem = from->elems[i];
	}
	return 0;
}

static int udata_cb(const struct nftnl_udata *attr, void *arg)
{
	const struct nftnl_udata **tb = arg;

	if (nftnl_udata_type(attr) <= NFTNL_UDATA_SET_ELEM_MAX)
		tb[nftnl_udata_type(attr)] = attr;
	return 0;
}

static void read_tag(struct nftnl_set_elem *e, struct nft_raw_elem *r)
{
	const struct nftnl_udata *tb[NFTNL_UDATA_SET_ELEM_MAX + 1] = {};
	const void *data;
	uint32_t len;
	const char *comment;
	int end = 0;

	if (!nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA))
		return;
	data = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
	if (nftnl_udata_parse(data, len, udata_cb, tb) < 0 ||
	    !tb[NFTNL_UDATA_SET_ELEM_COMMENT])
		return;
	comment = nftnl_udata_get(tb[NFTNL_UDATA_SET_ELEM_COMMENT]);
	if (!memchr(comment, '\0', nftnl_udata_len(tb[NFTNL_UDATA_SET_ELEM_COMMENT])))
		return;
	/* Other comments are people's notes on a rule: keep the rule. */
	if (sscanf(comment, TAG_FORMAT "%n", &r->tag_port.min, &r->tag_port.max,
		   &r->tag_to.min, &r->tag_to.max, &end) == 4 && !comment[end])
		r->tagged = true;
}

static int counter_cb(struct nftnl_expr *e, void *arg)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (name && !strcmp(name, "counter"))
		*(uint64_t *)arg += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
	return 0;
}

static uint16_t port_at(const uint8_t *data)
{
	return (uint16_t)(data[0] << 8 | data[1]);
}

/* Reads a key: a port, or an interface name then a port. */
static bool read_key(struct nftnl_set_elem *e, uint16_t attr, bool dev,
		     char ifname[IF_NAMESIZE], uint16_t *port)
{
	const uint8_t *key;
	uint32_t len;

	key = nftnl_set_elem_get(e, attr, &len);
	if (!key || len != (dev ? NFT_DEV_KEY_LEN : NFT_PORT_LEN))
		return false;
	if (!dev) {
		*port = port_at(key);
		return true;
	}
	/* An interface name leaves room for its terminating NUL. */
	if (key[IF_NAMESIZE - 1])
		return false;
	memcpy(ifname, key, IF_NAMESIZE);
	*port = port_at(key + IF_NAMESIZE);
	return true;
}

static void read_elem(struct nftnl_set_elem *e, bool dev,
		      struct nft_raw_elem *r)
{
	char ifname_end[IF_NAMESIZE];
	const void *data;
	uint32_t len;

	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
		r->interval_end = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
				  NFT_SET_ELEM_INTERVAL_END;
	r->malformed = !read_key(e, NFTNL_SET_ELEM_KEY, dev, r->ifname, &r->key);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END)) {
		r->has_key_end = true;
		if (!read_key(e, NFTNL_SET_ELEM_KEY_END, dev, ifname_end,
			      &r->key_end) ||
		    (dev && strcmp(ifname_end, r->ifname)))
			r->malformed = true;
	}
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA)) {
		data = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len);
		r->has_to = true;
		if (len == NFT_PORT_LEN)
			r->to = port_at(data);
		else
			r->malformed = true;
	}
	read_tag(e, r);
	nftnl_set_elem_expr_foreach(e, counter_cb, &r->packets);
}

struct parse_walk {
	struct nft_raw_list *raw;
	bool dev;
	bool nomem;
};

static int parse_elem_cb(struct nftnl_set_elem *e, void *arg)
{
	struct parse_walk *walk = arg;
	struct nft_raw_elem *r = raw_new(walk->raw);

	if (!r) {
		walk->nomem = true;
		return -1;
	}
	read_elem(e, walk->dev, r);
	return 0;
}

int nft_raw_parse(const struct nlmsghdr *nlh, struct nft_raw_list *raw)
{
	struct nftnl_set *set = nftnl_set_alloc();
	struct parse_walk walk = { .raw = raw };
	struct nft_map_class class;
	const char *table, *name;
	int map = NFT_RAW_NOT_OURS;

	if (!set)
		return NFT_RAW_NOMEM;
	if (nftnl_set_elems_nlmsg_parse(nlh, set) < 0)
		goto out;
	table = nftnl_set_get_str(set, NFTNL_SET_TABLE);
	name = nftnl_set_get_str(set, NFTNL_SET_NAME);
	if (nftnl_set_get_u32(set, NFTNL_SET_FAMILY) != NFPROTO_INET ||
	    !table || strcmp(table, NFT_TABLE_NAME) || !name)
		goto out;
	map = nft_map_by_name(name);
	if (map < 0) {
		map = NFT_RAW_NOT_OURS;
		goto out;
	}
	nft_map_class(map, &class);
	walk.dev = class.dev;
	nftnl_set_elem_foreach(set, parse_elem_cb, &walk);
	if (walk.nomem)
		map = NFT_RAW_NOMEM;
out:
	nftnl_set_free(set);
	return map;
}

static int compare_interval_order(const void *pa, const void *pb)
{
	const struct nft_raw_elem *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	/* An interval's end sorts before the next one's start at its key. */
	return (int)b->interval_end - (int)a->interval_end;
}

/*
 * An rbtree map holds an interval as a start element and an end element
 * one past its last port; a start without an end runs to the next start
 * or to 65535. Rewrites @raw as starts with key_end set, ends dropped.
 */
static void pair_intervals(struct nft_raw_list *raw)
{
	struct nft_raw_elem *e = raw->elems;
	size_t i, out = 0;

	if (raw->len > 1)	/* qsort's base must not be NULL, even for 0 */
		qsort(e, raw->len, sizeof(*e), compare_interval_order);
	for (i = 0; i < raw->len; i++) {
		if (e[i].interval_end)
			continue;
		if (e[i].has_key_end)
			e[i].malformed = true;
		e[i].has_key_end = true;
		e[i].key_end = i + 1 < raw->len ? e[i + 1].key - 1 : 65535;
		e[out++] = e[i];
	}
	raw->len = out;
}

static int compare_dev_order(const void *pa, const void *pb)
{
	const struct nft_raw_elem *a = pa, *b = pb;
	int diff = strcmp(a->ifname, b->ifname);

	if (diff)
		return diff;
	return (a->key > b->key) - (a->key < b->key);
}

static void describe(const struct nft_raw_elem *e, unsigned int map,
		     const char *problem, char *why, size_t len)
{
	char name[NFT_MAP_NAME_MAX];

	snprintf(why, len, "map %s: element %s%s%u-%u %s",
		 nft_map_name(map, name), e->ifname, e->ifname[0] ? " . " : "",
		 e->key, e->key_end, problem);
}

static void rule_base(unsigned int map, const struct nft_raw_elem *e,
		      struct redir_rule *rule)
{
	struct nft_map_class class;

	nft_map_class(map, &class);
	memset(rule, 0, sizeof(*rule));
	rule->proto = class.proto;
	rule->family = class.family;
	rule->direction = class.direction;
	memcpy(rule->ifname, e->ifname, sizeof(rule->ifname));
	if (rule->ifname[0])
		rule->ifindex = if_nametoindex(rule->ifname);
}

static bool valid_elem(const struct nft_raw_elem *e)
{
	return !e->malformed && e->has_key_end && e->has_to &&
	       !e->interval_end && e->key >= 1 && e->key <= e->key_end &&
	       e->to >= 1;
}

/* Is e[0..] the complete expansion of the offset range e[0] is tagged with? */
static bool read_range(const struct nft_raw_elem *e, size_t left,
		       struct redir_rule *rule)
{
	const struct port_range *port = &e->tag_port, *to = &e->tag_to;
	unsigned int size = port_range_size(port), k;

	if (port->min < 1 || port->min >= port->max || to->min < 1 ||
	    to->min > to->max || port_range_size(to) != size || size > left)
		return false;
	for (k = 0; k < size; k++, e++) {
		if (!valid_elem(e) || !e->tagged || strcmp(e->ifname, rule->ifname) ||
		    e->tag_port.min != port->min || e->tag_port.max != port->max ||
		    e->tag_to.min != to->min || e->tag_to.max != to->max ||
		    e->key != port->min + k || e->key_end != e->key ||
		    e->to != to->min + k)
			return false;
		rule->connections += e->packets;
	}
	rule->port = *port;
	rule->to = *to;
	return true;
}

int nft_raw_to_rules(unsigned int map, struct nft_raw_list *raw,
		     struct rule_list *rules, char *why, size_t len)
{
	struct nft_map_class class;
	struct redir_rule rule;
	const struct nft_raw_elem *e;
	size_t i = 0;

	nft_map_class(map, &class);
	if (!class.dev)
		pair_intervals(raw);
	else if (raw->len > 1)
		qsort(raw->elems, raw->len, sizeof(*raw->elems), compare_dev_order);
	while (i < raw->len) {
		e = &raw->elems[i];
		rule_base(map, e, &rule);
		if (!valid_elem(e)) {
			describe(e, map, "is not a port range mapped to a port", why, len);
			return -EPROTO;
		}
		if (e->tagged) {
			if (!read_range(e, raw->len - i, &rule)) {
				describe(e, map, "breaks the offset range its comment names",
					 why, len);
				return -EPROTO;
			}
		} else {
			rule.port.min = e->key;
			rule.port.max = e->key_end;
			rule.to.min = rule.to.max = e->to;
			rule.connections = e->packets;
		}
		/* A tagged rule used one element per port. */
		i += e->tagged ? port_range_size(&rule.port) : 1;
		if (rule_list_append(rules, &rule))
			return -ENOMEM;
	}
	return 0;
}

void nft_raw_elem_rule(unsigned int map, const struct nft_raw_elem *e,
		       uint16_t last, struct redir_rule *rule)
{
	rule_base(map, e, rule);
	if (e->tagged) {
		rule->port = e->tag_port;
		rule->to = e->tag_to;
	} else {
		rule->port.min = e->key;
		rule->port.max = e->has_key_end ? e->key_end : last;
		rule->to.min = rule->to.max = e->to;
	}
	rule->connections = e->packets;
}

static void put_port(uint8_t *data, uint16_t port)
{
	data[0] = port >> 8;
	data[1] = port & 0xff;
}

/* Comment and flags that the element carries for us and for `nft list`. */
static bool set_udata(struct nftnl_set_elem *e, const struct redir_rule *rule,
		      bool tagged, bool open_end)
{
	struct nftnl_udata_buf *ud;
	char tag[64];

	if (!tagged && !open_end)
		return true;
	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud)
		return false;
	if (tagged) {
		snprintf(tag, sizeof(tag), TAG_FORMAT, rule->port.min,
			 rule->port.max, rule->to.min, rule->to.max);
		nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, tag);
	}
	/* nft prints a start without an end as "N-65535" given this flag. */
	if (open_end)
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_ELEM_FLAGS,
				    NFTNL_SET_ELEM_F_INTERVAL_OPEN);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(ud),
			   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	return true;
}

struct elem_spec {
	const struct redir_rule *rule;
	bool del;
	bool tagged;
	uint16_t lo;
	uint16_t hi;
	uint16_t to;
};

static void set_key(struct nftnl_set_elem *e, uint16_t attr,
		    const char *ifname, uint16_t port)
{
	uint8_t key[IFNAMSIZ + 4] = { 0 };

	if (!ifname[0]) {
		put_port(key, port);
		nftnl_set_elem_set(e, attr, key, NFT_PORT_LEN);
		return;
	}
	memcpy(key, ifname, strnlen(ifname, IFNAMSIZ - 1));
	put_port(key + IFNAMSIZ, port);
	nftnl_set_elem_set(e, attr, key, sizeof(key));
}

struct nftnl_set_elem *nft_key_elem(const char *ifname, uint16_t port)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (e)
		set_key(e, NFTNL_SET_ELEM_KEY, ifname, port);
	return e;
}

/* The start element, or the only one: key(s), target, comment. */
static struct nftnl_set_elem *elem_start(const struct elem_spec *s)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	const char *ifname = s->rule->ifname;
	uint8_t to[NFT_PORT_LEN];

	if (!e)
		return NULL;
	set_key(e, NFTNL_SET_ELEM_KEY, ifname, s->lo);
	if (ifname[0])
		set_key(e, NFTNL_SET_ELEM_KEY_END, ifname, s->hi);
	if (s->del)
		return e;
	put_port(to, s->to);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, to, sizeof(to));
	if (!set_udata(e, s->rule, s->tagged, !ifname[0] && s->hi == 65535)) {
		nftnl_set_elem_free(e);
		return NULL;
	}
	return e;
}

/* The end of an rbtree interval: one past its last port. */
static struct nftnl_set_elem *elem_end(const struct elem_spec *s)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (!e)
		return NULL;
	set_key(e, NFTNL_SET_ELEM_KEY, "", s->hi + 1);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS,
			       NFT_SET_ELEM_INTERVAL_END);
	return e;
}

static int emit(const struct elem_spec *s, nft_elem_fn fn, void *arg)
{
	struct nftnl_set_elem *e = elem_start(s);
	int ret;

	if (!e)
		return -ENOMEM;
	ret = fn(e, arg);
	if (ret < 0 || s->rule->ifname[0] || s->hi == 65535)
		return ret;
	e = elem_end(s);
	if (!e)
		return -ENOMEM;
	return fn(e, arg);
}

int nft_rule_elems(const struct redir_rule *rule, bool del, nft_elem_fn fn,
		   void *arg)
{
	struct elem_spec s = { .rule = rule, .del = del };
	unsigned int k, size = port_range_size(&rule->port);
	int ret = 0;

	if (size == 1 || rule->to.min == rule->to.max) {
		s.lo = rule->port.min;
		s.hi = rule->port.max;
		s.to = rule->to.min;
		return emit(&s, fn, arg);
	}
	s.tagged = true;
	for (k = 0; k < size && ret >= 0; k++) {
		s.lo = s.hi = rule->port.min + k;
		s.to = rule->to.min + k;
		ret = emit(&s, fn, arg);
	}
	return ret;
}
