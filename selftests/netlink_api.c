// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink API of portredir.ko, spoken raw: what a client that
 * is not our CLI may send, malformed and hostile messages included.
 *
 * Most cases are rows of a table (see "Rows" below): a message written in a
 * compact description, the errno, the exact extack text, the offset the
 * extack must blame (or the missing attribute and its nest), and what the
 * table must look like afterwards: unchanged, unless the row says what the
 * message changes. Each row is a variant of the fixture "hostile" and is
 * reported by the harness as a test of its own. The rest are tests that
 * need several sockets, namespaces, privileges or limits.
 *
 * Each test runs in a network namespace of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/portredir.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define BUF_SIZE 65536
/* room for a REPLACE of every TCP and UDP port */
#define MSG_SIZE (8 << 20)

/* Kernel release as major * 100 + minor, set once by main(). */
static int kernel_release;

struct msg {
	char buf[MSG_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *nest[4];
	int depth;
};

/* A socket, and what the kernel answered to its last request. */
struct nl {
	int fd;
	uint16_t family;
	uint32_t mcgrp;
	uint32_t seq;
	char extack[256];
	/* NLMSGERR_ATTR_OFFS, MISS_TYPE and MISS_NEST, when present */
	int has_offs, has_miss_nest;
	uint32_t bad_attr, miss_type, miss_nest;
	/* the answer ended with NLMSG_DONE (a dump), not NLMSG_ERROR */
	int done;
	/* nlmsg_flags of every answer, or'ed */
	uint16_t flags_seen;
};

static void *msg_tail(struct msg *m)
{
	return (char *)m->nlh + NLMSG_ALIGN(m->nlh->nlmsg_len);
}

static void msg_put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = msg_tail(m);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	m->nlh->nlmsg_len = NLMSG_ALIGN(m->nlh->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void msg_u8(struct msg *m, uint16_t type, uint8_t v)
{
	msg_put(m, type, &v, sizeof(v));
}

static void msg_u16(struct msg *m, uint16_t type, uint16_t v)
{
	msg_put(m, type, &v, sizeof(v));
}

static void msg_u32(struct msg *m, uint16_t type, uint32_t v)
{
	msg_put(m, type, &v, sizeof(v));
}

static void msg_nest(struct msg *m, uint16_t type)
{
	m->nest[m->depth++] = msg_tail(m);
	msg_put(m, type | NLA_F_NESTED, NULL, 0);
}

/* The nest ends where the message ends, unaligned trailing bytes included. */
static void msg_nest_end(struct msg *m)
{
	struct nlattr *a = m->nest[--m->depth];

	a->nla_len = (char *)m->nlh + m->nlh->nlmsg_len - (char *)a;
}

static void msg_start(struct msg *m, uint16_t type, uint16_t flags, size_t hdrlen)
{
	memset(m->buf, 0, NLMSG_HDRLEN + hdrlen);
	m->nlh = (struct nlmsghdr *)m->buf;
	m->nlh->nlmsg_type = type;
	m->nlh->nlmsg_flags = flags;
	m->nlh->nlmsg_len = NLMSG_HDRLEN + hdrlen;
	m->depth = 0;
}

static void msg_init(struct msg *m, uint16_t type, uint16_t flags, uint8_t cmd)
{
	struct genlmsghdr *g;

	msg_start(m, type, NLM_F_REQUEST | NLM_F_ACK | flags, GENL_HDRLEN);
	g = NLMSG_DATA(m->nlh);
	g->cmd = cmd;
	g->version = PORTREDIR_GENL_VERSION;
}

static void extack_attr(struct nl *nl, const struct nlattr *a)
{
	const void *data = (const char *)a + NLA_HDRLEN;

	switch (a->nla_type & NLA_TYPE_MASK) {
	case NLMSGERR_ATTR_MSG:
		snprintf(nl->extack, sizeof(nl->extack), "%s", (const char *)data);
		break;
	case NLMSGERR_ATTR_OFFS:
		nl->has_offs = 1;
		memcpy(&nl->bad_attr, data, sizeof(nl->bad_attr));
		break;
	case NLMSGERR_ATTR_MISS_TYPE:
		memcpy(&nl->miss_type, data, sizeof(nl->miss_type));
		break;
	case NLMSGERR_ATTR_MISS_NEST:
		nl->has_miss_nest = 1;
		memcpy(&nl->miss_nest, data, sizeof(nl->miss_nest));
		break;
	}
}

/*
 * The extack TLVs of an NLMSG_ERROR follow the error and the (capped)
 * request; those of an NLMSG_DONE follow its int error.
 */
static void extack_copy(struct nl *nl, const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	const struct nlattr *a;
	int off = NLMSG_HDRLEN + sizeof(*e);

	if (h->nlmsg_type == NLMSG_DONE)
		off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(int));
	else if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	for (; off + NLA_HDRLEN <= (int)h->nlmsg_len; off += NLA_ALIGN(a->nla_len)) {
		a = (const void *)((const char *)h + off);
		if (a->nla_len < NLA_HDRLEN)
			break;
		extack_attr(nl, a);
	}
}

typedef void (*msg_fn)(const struct nlmsghdr *h, void *arg);

static void nl_forget(struct nl *nl)
{
	nl->extack[0] = '\0';
	nl->has_offs = nl->has_miss_nest = nl->done = 0;
	nl->bad_attr = nl->miss_type = nl->miss_nest = 0;
	nl->flags_seen = 0;
}

/*
 * Reads answers to request @seq until its ack or NLMSG_DONE, passing the
 * others to @fn; returns 0, a negative errno, or 1 when @once and the
 * first datagram did not end the answer.
 */
static int nl_read(struct nl *nl, uint32_t seq, msg_fn fn, void *arg, int once)
{
	static char rbuf[BUF_SIZE];
	struct nlmsghdr *h;
	ssize_t n;

	for (;;) {
		n = recv(nl->fd, rbuf, sizeof(rbuf), 0);
		if (n < 0)
			return -errno;
		for (h = (void *)rbuf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			nl->flags_seen |= h->nlmsg_flags;
			if (h->nlmsg_type == NLMSG_ERROR) {
				extack_copy(nl, h);
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				nl->done = 1;
				extack_copy(nl, h);
				return *(int *)NLMSG_DATA(h);
			}
			if (fn)
				fn(h, arg);
		}
		if (once)
			return 1;
	}
}

static int nl_send(struct nl *nl, struct msg *m)
{
	m->nlh->nlmsg_seq = ++nl->seq;
	nl_forget(nl);
	if (send(nl->fd, m->nlh, m->nlh->nlmsg_len, 0) < 0)
		return -errno;
	return 0;
}

/* Sends @m and reads until its ack; returns 0 or a negative errno. */
static int nl_talk(struct nl *nl, struct msg *m, msg_fn fn, void *arg)
{
	int err = nl_send(nl, m);

	return err ?: nl_read(nl, nl->seq, fn, arg, 0);
}

static const struct nlattr *attr_find(const void *start, int len, uint16_t type)
{
	const struct nlattr *a;

	for (a = start; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	     a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len)))
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

static const void *attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static void family_cb(const struct nlmsghdr *h, void *arg)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	const struct nlattr *a, *grps, *grp, *id;
	struct nl *nl = arg;

	a = attr_find(g + 1, len, CTRL_ATTR_FAMILY_ID);
	if (a)
		nl->family = *(const uint16_t *)attr_data(a);
	grps = attr_find(g + 1, len, CTRL_ATTR_MCAST_GROUPS);
	if (!grps)
		return;
	grp = attr_find(attr_data(grps), grps->nla_len - NLA_HDRLEN, 1);
	if (!grp)
		return;
	id = attr_find(attr_data(grp), grp->nla_len - NLA_HDRLEN, CTRL_ATTR_MCAST_GRP_ID);
	if (id)
		nl->mcgrp = *(const uint32_t *)attr_data(id);
}

static int nl_open(struct nl *nl)
{
	int one = 1;
	struct msg *m = calloc(1, sizeof(*m));

	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0 || !m)
		return -errno;
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	msg_init(m, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY);
	msg_put(m, CTRL_ATTR_FAMILY_NAME, PORTREDIR_GENL_NAME,
		sizeof(PORTREDIR_GENL_NAME));
	one = nl_talk(nl, m, family_cb, nl);
	free(m);
	return one;
}

static int nl_subscribe(struct nl *nl)
{
	return setsockopt(nl->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
			  &nl->mcgrp, sizeof(nl->mcgrp));
}

struct rule {
	uint8_t proto;
	uint16_t port_min, port_max, to_min, to_max;
	uint8_t family, direction;
	uint32_t ifindex;
	uint64_t connections;	/* read back only */
};

static void msg_rule(struct msg *m, const struct rule *r)
{
	msg_nest(m, PORTREDIR_A_RULE);
	if (r->proto)
		msg_u8(m, PORTREDIR_RULE_A_PROTO, r->proto);
	if (r->port_min)
		msg_u16(m, PORTREDIR_RULE_A_PORT_MIN, r->port_min);
	if (r->port_max)
		msg_u16(m, PORTREDIR_RULE_A_PORT_MAX, r->port_max);
	if (r->to_min)
		msg_u16(m, PORTREDIR_RULE_A_TO_PORT_MIN, r->to_min);
	if (r->to_max)
		msg_u16(m, PORTREDIR_RULE_A_TO_PORT_MAX, r->to_max);
	if (r->family)
		msg_u8(m, PORTREDIR_RULE_A_FAMILY, r->family);
	if (r->direction)
		msg_u8(m, PORTREDIR_RULE_A_DIRECTION, r->direction);
	if (r->ifindex)
		msg_u32(m, PORTREDIR_RULE_A_IFINDEX, r->ifindex);
	msg_nest_end(m);
}

static int rule_cmd(struct nl *nl, struct msg *m, uint8_t cmd, const struct rule *r)
{
	msg_init(m, nl->family, 0, cmd);
	msg_rule(m, r);
	return nl_talk(nl, m, NULL, NULL);
}

/*
 * A rule nest as the kernel reads it: absent attributes take their
 * defaults. Also reads the rules of dumps and notifications, which carry
 * every attribute.
 */
static void rule_from_nest(const struct nlattr *nest, struct rule *r)
{
	const void *data = attr_data(nest);
	int len = nest->nla_len - NLA_HDRLEN;
	const struct nlattr *a;

	memset(r, 0, sizeof(*r));
	r->family = PORTREDIR_FAMILY_ALL;
	r->direction = PORTREDIR_DIR_ALL;
	for (a = data; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	     a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
		const void *v = attr_data(a);

		switch (a->nla_type & NLA_TYPE_MASK) {
		case PORTREDIR_RULE_A_PROTO:
			r->proto = *(uint8_t *)v;
			break;
		case PORTREDIR_RULE_A_PORT_MIN:
			r->port_min = *(uint16_t *)v;
			break;
		case PORTREDIR_RULE_A_PORT_MAX:
			r->port_max = *(uint16_t *)v;
			break;
		case PORTREDIR_RULE_A_TO_PORT_MIN:
			r->to_min = *(uint16_t *)v;
			break;
		case PORTREDIR_RULE_A_TO_PORT_MAX:
			r->to_max = *(uint16_t *)v;
			break;
		case PORTREDIR_RULE_A_FAMILY:
			r->family = *(uint8_t *)v;
			break;
		case PORTREDIR_RULE_A_DIRECTION:
			r->direction = *(uint8_t *)v;
			break;
		case PORTREDIR_RULE_A_IFINDEX:
			r->ifindex = *(uint32_t *)v;
			break;
		case PORTREDIR_RULE_A_CONNECTIONS:
			memcpy(&r->connections, v, sizeof(r->connections));
			break;
		}
	}
	if (!r->port_max)
		r->port_max = r->port_min;
	if (!r->to_max)
		r->to_max = r->to_min;
}

/* The rules of a table, in no particular order until table_sort(). */
struct table {
	int n, cap;
	struct rule *rules;
	int intr;	/* some message of the dump had NLM_F_DUMP_INTR */
};

static void table_add(struct table *t, const struct rule *r)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->rules = realloc(t->rules, t->cap * sizeof(*t->rules));
		if (!t->rules)
			abort();
	}
	t->rules[t->n++] = *r;
}

static void table_free(struct table *t)
{
	free(t->rules);
	memset(t, 0, sizeof(*t));
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;

	return cmp_u64(x->proto, y->proto) ?:
	       cmp_u64(x->port_min, y->port_min) ?:
	       cmp_u64(x->port_max, y->port_max) ?:
	       cmp_u64(x->family, y->family) ?:
	       cmp_u64(x->direction, y->direction) ?:
	       cmp_u64(x->ifindex, y->ifindex) ?:
	       cmp_u64(x->to_min, y->to_min) ?:
	       cmp_u64(x->to_max, y->to_max) ?:
	       cmp_u64(x->connections, y->connections);
}

static void table_sort(struct table *t)
{
	qsort(t->rules, t->n, sizeof(*t->rules), rule_cmp);
}

static int rule_print(char *buf, size_t len, const struct rule *r)
{
	return snprintf(buf, len, " [%u %u-%u>%u-%u f%u d%u if%u c%llu]",
			r->proto, r->port_min, r->port_max, r->to_min, r->to_max,
			r->family, r->direction, r->ifindex,
			(unsigned long long)r->connections);
}

/* 0 when both tables hold the same rules; else says how they differ. */
static int table_diff(struct table *want, struct table *got, char *why, size_t len)
{
	size_t used;
	int i;

	table_sort(want);
	table_sort(got);
	if (want->n == got->n) {
		for (i = 0; i < want->n; i++)
			if (rule_cmp(&want->rules[i], &got->rules[i]))
				break;
		if (i == want->n)
			return 0;
	}
	used = snprintf(why, len, "want %d rules:", want->n);
	for (i = 0; i < want->n && used < len; i++)
		used += rule_print(why + used, len - used, &want->rules[i]);
	if (used < len)
		used += snprintf(why + used, len - used, "; got %d:", got->n);
	for (i = 0; i < got->n && used < len; i++)
		used += rule_print(why + used, len - used, &got->rules[i]);
	return 1;
}

static int table_find(const struct table *t, const struct rule *sel)
{
	int i;

	for (i = 0; i < t->n; i++) {
		const struct rule *r = &t->rules[i];

		if (r->proto == sel->proto && r->port_min == sel->port_min &&
		    r->port_max == sel->port_max && r->family == sel->family &&
		    r->direction == sel->direction && r->ifindex == sel->ifindex)
			return i;
	}
	return -1;
}

struct dump {
	int count;
	struct rule last;
	int has_connections;
	struct table *table;	/* every rule, when not NULL */
};

static void dump_cb(const struct nlmsghdr *h, void *arg)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	const struct nlattr *rule;
	struct dump *d = arg;
	int len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	rule = attr_find(g + 1, len, PORTREDIR_A_RULE);
	if (!rule)
		return;
	d->count++;
	rule_from_nest(rule, &d->last);
	d->has_connections = !!attr_find(attr_data(rule), rule->nla_len - NLA_HDRLEN,
					 PORTREDIR_RULE_A_CONNECTIONS);
	if (d->table)
		table_add(d->table, &d->last);
}

static int dump_rules(struct nl *nl, struct msg *m, struct dump *d)
{
	memset(d, 0, sizeof(*d));
	msg_init(m, nl->family, NLM_F_DUMP, PORTREDIR_CMD_GET);
	return nl_talk(nl, m, dump_cb, d);
}

static int dump_table(struct nl *nl, struct msg *m, struct table *t)
{
	struct dump d = { .table = t };
	int err;

	t->n = 0;
	msg_init(m, nl->family, NLM_F_DUMP, PORTREDIR_CMD_GET);
	err = nl_talk(nl, m, dump_cb, &d);
	t->intr = !!(nl->flags_seen & NLM_F_DUMP_INTR);
	return err;
}

/*
 * Message descriptions
 * --------------------
 * A row describes the attributes after the genetlink header as a list of
 * items separated by spaces:
 *
 *   NAME               an attribute without payload (a flag)
 *   NAME:V             payload V (decimal or 0x) in NAME's natural width
 *   NAME/W:V, NAME/W   payload of W bytes (V little endian, or zeros)
 *   NAME=HEX           payload of raw bytes
 *   NAME{ITEMS}        a nest (with NLA_F_NESTED)
 *   +HEX               raw bytes without an attribute header
 *
 * NAME is one of the names below or #TYPE for any type number. Prefixes:
 * '@' the extack must blame this attribute (NLMSGERR_ATTR_OFFS); '&' the
 * same, but only for commands that carry several rules (REPLACE, RULES),
 * whose refusals name the rule; '^' the nest NLMSGERR_ATTR_MISS_NEST must
 * name; '!' a nest without NLA_F_NESTED; '*' NLA_F_NESTED on a non-nest.
 * Suffix %N writes N as nla_len, whatever follows.
 */
static const struct dsl_name {
	const char *name;
	uint16_t type;
	uint8_t width;
} dsl_names[] = {
	{ "rule", PORTREDIR_A_RULE, 0 },
	{ "keep", PORTREDIR_A_KEEP_CONNTRACK, 0 },
	{ "pad", PORTREDIR_RULE_A_PAD, 4 },
	{ "proto", PORTREDIR_RULE_A_PROTO, 1 },
	{ "pmin", PORTREDIR_RULE_A_PORT_MIN, 2 },
	{ "pmax", PORTREDIR_RULE_A_PORT_MAX, 2 },
	{ "tmin", PORTREDIR_RULE_A_TO_PORT_MIN, 2 },
	{ "tmax", PORTREDIR_RULE_A_TO_PORT_MAX, 2 },
	{ "fam", PORTREDIR_RULE_A_FAMILY, 1 },
	{ "dir", PORTREDIR_RULE_A_DIRECTION, 1 },
	{ "dev", PORTREDIR_RULE_A_IFINDEX, 4 },
	{ "conn", PORTREDIR_RULE_A_CONNECTIONS, 8 },
	{ "mode", PORTREDIR_RULE_A_MODE, 1 },
};

/* Offsets the kernel must report, from the nlmsghdr; -1 for none. */
struct marks {
	int multi;	/* '&' counts as '@' */
	int blame, miss_nest;
};

static int dsl_hex(const char **s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int byte;

	while (n < max && sscanf(*s, "%2x", &byte) == 1 &&
	       strspn(*s, "0123456789abcdefABCDEF") >= 2) {
		out[n++] = byte;
		*s += 2;
	}
	return n;
}

static int dsl_name(const char **s, uint16_t *type, int *width)
{
	char *end;
	size_t i, len;

	if (**s == '#') {
		*type = strtoul(*s + 1, &end, 0);
		*width = 4;
		*s = end;
		return 0;
	}
	len = strspn(*s, "abcdefghijklmnopqrstuvwxyz");
	for (i = 0; i < ARRAY_SIZE(dsl_names); i++) {
		if (strlen(dsl_names[i].name) == len &&
		    !strncmp(*s, dsl_names[i].name, len)) {
			*type = dsl_names[i].type;
			*width = dsl_names[i].width;
			*s += len;
			return 0;
		}
	}
	return -1;
}

static int dsl_items(struct msg *m, const char **s, struct marks *mk);

/* The payload of a plain attribute: ":V", "/W:V", "/W", "=HEX" or none. */
static int dsl_payload(const char **s, int width, uint8_t *data, size_t max)
{
	unsigned long long v = 0;
	char *end;

	if (**s == '=') {
		++*s;
		return dsl_hex(s, data, max);
	}
	if (**s == '/') {
		width = strtoul(*s + 1, &end, 0);
		*s = end;
		if (**s != ':') {
			memset(data, 0, width);
			return width;
		}
	} else if (**s != ':') {
		return 0;
	}
	v = strtoull(*s + 1, &end, 0);
	*s = end;
	memset(data, 0, width);
	memcpy(data, &v, width < 8 ? width : 8);
	return width;
}

static int dsl_attr(struct msg *m, const char **s, struct marks *mk)
{
	int blame = 0, multi_blame = 0, miss = 0, flat = 0, forced = 0, width;
	uint8_t data[64];
	struct nlattr *a;
	uint16_t type;
	char *end;
	int len;

	for (;; ++*s) {
		if (**s == '@')
			blame = 1;
		else if (**s == '&')
			multi_blame = 1;
		else if (**s == '^')
			miss = 1;
		else if (**s == '!')
			flat = 1;
		else if (**s == '*')
			forced = 1;
		else
			break;
	}
	if (**s == '+') {
		++*s;
		len = dsl_hex(s, data, sizeof(data));
		memcpy((char *)m->nlh + m->nlh->nlmsg_len, data, len);
		m->nlh->nlmsg_len += len;
		return 0;
	}
	if (dsl_name(s, &type, &width))
		return -1;
	a = msg_tail(m);
	if (**s == '{') {
		++*s;
		msg_nest(m, type);
		if (flat)
			a->nla_type &= ~NLA_F_NESTED;
		if (dsl_items(m, s, mk) || **s != '}')
			return -1;
		++*s;
		msg_nest_end(m);
	} else {
		len = dsl_payload(s, width, data, sizeof(data));
		msg_put(m, type | (forced ? NLA_F_NESTED : 0), data, len);
	}
	if (**s == '%') {
		a->nla_len = strtoul(*s + 1, &end, 0);
		*s = end;
	}
	if (blame || (multi_blame && mk->multi))
		mk->blame = (char *)a - (char *)m->nlh;
	if (miss)
		mk->miss_nest = (char *)a - (char *)m->nlh;
	return 0;
}

static int dsl_items(struct msg *m, const char **s, struct marks *mk)
{
	for (;;) {
		*s += strspn(*s, " ");
		if (!**s || **s == '}')
			return 0;
		if (dsl_attr(m, s, mk))
			return -1;
	}
}

/* Appends the attributes @desc describes to @m; -1 when @desc is wrong. */
static int msg_describe(struct msg *m, const char *desc, struct marks *mk)
{
	const char *s = desc;

	mk->blame = mk->miss_nest = -1;
	memset(msg_tail(m), 0, BUF_SIZE);
	if (dsl_items(m, &s, mk) || *s)
		return -1;
	return 0;
}

static int load_rules(struct nl *nl, struct msg *m, const char *desc)
{
	struct marks mk = { 0 };

	msg_init(m, nl->family, 0, PORTREDIR_CMD_REPLACE);
	if (msg_describe(m, desc, &mk))
		return -EINVAL;
	return nl_talk(nl, m, NULL, NULL);
}

/* The rules in the A_RULE attributes of request @m, as the kernel reads them. */
static void table_of_request(const struct msg *m, struct table *t)
{
	const struct nlmsghdr *h = m->nlh;
	const char *p = (const char *)NLMSG_DATA(h) + GENL_HDRLEN;
	int len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	const struct nlattr *a;
	struct rule r;

	t->n = 0;
	for (a = (const void *)p; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	     a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
		if ((a->nla_type & NLA_TYPE_MASK) != PORTREDIR_A_RULE)
			continue;
		rule_from_nest(a, &r);
		table_add(t, &r);
	}
}

/* A dummy interface, through rtnetlink; returns its index or -errno. */
static int dummy_add(const char *name)
{
	struct nl rt = { 0 };
	struct msg *m = calloc(1, sizeof(*m));
	int err;

	rt.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (rt.fd < 0 || !m)
		return -errno;
	msg_start(m, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
		  NLM_F_EXCL, sizeof(struct ifinfomsg));
	msg_put(m, IFLA_IFNAME, name, strlen(name) + 1);
	msg_nest(m, IFLA_LINKINFO);
	msg_put(m, IFLA_INFO_KIND, "dummy", sizeof("dummy"));
	msg_nest_end(m);
	err = nl_talk(&rt, m, NULL, NULL);
	close(rt.fd);
	free(m);
	return err ?: (int)if_nametoindex(name);
}

/* The text a kernel of this release gives: "before 6.2\v6.2 and later". */
static const char *text_for_kernel(const char *text, char *buf, size_t len)
{
	const char *split = text ? strchr(text, '\v') : NULL;

	if (!text)
		return "";
	if (!split)
		return text;
	if (kernel_release >= 602)
		return split + 1;
	snprintf(buf, len, "%.*s", (int)(split - text), text);
	return buf;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(text);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != len)
		err = -errno;
	close(fd);
	return err;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/*
 * Rows
 * ----
 * Every row starts from a table of its own, BASE unless it says otherwise,
 * in a namespace with two dummy interfaces (indexes 2 and 3; 1 is lo, 4
 * does not exist), sends one message and checks the answer and the table.
 */
enum effect {
	SAME,		/* the table is unchanged */
	ADDS,		/* it gains the request's rule */
	DELETES,	/* it loses the rule the request's selector names */
	REPLACES,	/* it becomes the request's rules */
	EMPTIES,	/* it is empty */
};

/* Options of a row. */
#define TXN	(1 << 0)	/* sent inside a replace transaction (BEGIN first) */
#define SPLIT	(1 << 1)	/* ... after a REPLACE_RULES of BASE */
/*
 * ... then REPLACE_COMMIT: ENOENT when the module refused the row, which
 * discards the transaction. A message the netlink core refuses never
 * reaches the module and leaves the transaction as it was: REPLACE_ABORT
 * finds it.
 */
#define COMMIT	(1 << 2)

struct row {
	const char *name;
	uint8_t cmd;
	/* nlmsg_flags; 0 for NLM_F_REQUEST | NLM_F_ACK (and NLM_F_DUMP for GET) */
	uint16_t flags;
	/*
	 * header changes: "v=N" genl version, "r=N" reserved, "cut=N" bytes
	 * taken off the end of the message
	 */
	const char *hdr;
	const char *pre;	/* the table before, NULL for BASE */
	const char *msg;
	int err;
	const char *extack;	/* exact text, NULL for none (see text_for_kernel) */
	uint16_t miss_type;
	enum effect effect;
	unsigned int opts;
	/* module parameters for the row, NULL to leave them alone */
	const char *max_rules, *max_ports;
};

#define REQ	(NLM_F_REQUEST | NLM_F_ACK)

/*
 * BASE: tcp 80 -> 8080; udp 53 -> 5353 -4; tcp 1000-1099 -> 2000-2099
 * dev 2; sctp 65535 -> 1 -6 --local
 */
#define B1 "proto:6 pmin:80 tmin:8080"
#define B2 "proto:17 pmin:53 tmin:5353 fam:1"
#define B3 "proto:6 pmin:1000 pmax:1099 tmin:2000 tmax:2099 dir:1 dev:2"
#define B4 "proto:132 pmin:65535 tmin:1 fam:2 dir:2"
#define BASE "rule{" B1 "} rule{" B2 "} rule{" B3 "} rule{" B4 "}"
/* a valid rule that overlaps nothing of BASE */
#define OK81 "proto:6 pmin:81 tmin:8081"

#define E_LEN		"invalid attribute length"
#define E_RANGE		"integer out of range"
#define E_UNKNOWN	"Unknown attribute type"
#define E_UNSUPP	"Unsupported attribute"
#define E_POLICY	"Attribute failed policy validation"
#define E_LEFTOVER	"bytes leftover after parsing attributes"
#define E_FLAGS		"ambiguous or reserved bits set in nlmsg_flags"
#define E_PROTO		"protocol must be TCP, UDP or SCTP"
#define E_OVERLAP	"rule overlaps an existing rule"
#define E_EXISTS	"rule already exists"
#define E_LOCALDEV	"an interface can only be matched on inbound traffic"
#define E_NODEV		"no such interface in this network namespace"
#define E_COUNTER	"the connection counter is output only"
#define E_NOPROTO	"rule needs a protocol"
#define E_NOPORT	"rule needs a port"
#define E_NOTARGET	"rule needs a target port"
#define E_TARGETS(t, p)	"target range must be one port or as long as the port range" \
			"\vtarget range has " #t " ports, port range has " #p

/*
 * A rule refused wherever a rule is taken: alone by ADD, and as rule 5,
 * after the four of BASE, by REPLACE (and in a transaction), where the
 * extack names the same attribute of rule 5 ('&': the rule itself).
 */
struct bad_rule {
	const char *name;
	const char *rule;
	int err;
	const char *extack;
	uint16_t miss_type;
};

static const struct bad_rule bad_rules[] = {
	/* integers of the wrong size, inside an otherwise valid rule */
	{ "proto_empty", "rule{@proto/0 pmin:81 tmin:8081}", -EINVAL, E_LEN },
	{ "proto_u16", "rule{@proto/2:6 pmin:81 tmin:8081}", -EINVAL, E_LEN },
	{ "proto_u32", "rule{@proto/4:6 pmin:81 tmin:8081}", -EINVAL, E_LEN },
	{ "port_min_u8", "rule{proto:6 @pmin/1:81 tmin:8081}", -EINVAL, E_LEN },
	{ "port_min_u24", "rule{proto:6 @pmin/3:81 tmin:8081}", -EINVAL, E_LEN },
	{ "port_min_u32", "rule{proto:6 @pmin/4:81 tmin:8081}", -EINVAL, E_LEN },
	{ "port_min_u64", "rule{proto:6 @pmin/8:81 tmin:8081}", -EINVAL, E_LEN },
	{ "port_max_u8", "rule{" OK81 " @pmax/1:81}", -EINVAL, E_LEN },
	{ "port_max_u32", "rule{" OK81 " @pmax/4:81}", -EINVAL, E_LEN },
	{ "port_max_u32_65536", "rule{" OK81 " @pmax/4:65536}", -EINVAL, E_LEN },
	{ "to_port_min_u8", "rule{proto:6 pmin:81 @tmin/1:81}", -EINVAL, E_LEN },
	{ "to_port_min_u32", "rule{proto:6 pmin:81 @tmin/4:8081}", -EINVAL, E_LEN },
	{ "to_port_max_u8", "rule{" OK81 " @tmax/1:81}", -EINVAL, E_LEN },
	{ "to_port_max_u32", "rule{" OK81 " @tmax/4:8081}", -EINVAL, E_LEN },
	{ "family_empty", "rule{" OK81 " @fam/0}", -EINVAL, E_LEN },
	{ "family_u16", "rule{" OK81 " @fam/2:1}", -EINVAL, E_LEN },
	{ "family_u32", "rule{" OK81 " @fam/4:1}", -EINVAL, E_LEN },
	{ "direction_u16", "rule{" OK81 " @dir/2:1}", -EINVAL, E_LEN },
	{ "direction_u32", "rule{" OK81 " @dir/4:1}", -EINVAL, E_LEN },
	{ "ifindex_u8", "rule{" OK81 " dir:1 @dev/1:2}", -EINVAL, E_LEN },
	{ "ifindex_u16", "rule{" OK81 " dir:1 @dev/2:2}", -EINVAL, E_LEN },
	{ "ifindex_u64", "rule{" OK81 " dir:1 @dev/8:2}", -EINVAL, E_LEN },
	/* output-only, padding, unknown types, flags */
	{ "connections", "rule{" OK81 " @conn:0}", -EINVAL, E_COUNTER },
	{ "connections_u32", "rule{" OK81 " @conn/4:1}", -EINVAL, E_COUNTER },
	{ "connections_empty", "rule{" OK81 " @conn/0}", -EINVAL, E_COUNTER },
	{ "pad_empty", "rule{" OK81 " @pad/0}", -EINVAL, E_UNSUPP },
	{ "pad_u32", "rule{" OK81 " @pad:0}", -EINVAL, E_UNSUPP },
	{ "pad_first", "rule{@pad:0 " OK81 "}", -EINVAL, E_UNSUPP },
	{ "pad_before_u64", "rule{" OK81 " @pad:0 conn:0}", -EINVAL, E_UNSUPP },
	{ "rule_type_0", "rule{" OK81 " @#0:1}", -EINVAL, E_UNKNOWN },
	{ "rule_type_12", "rule{" OK81 " @#12:1}", -EINVAL, E_UNKNOWN },
	{ "rule_type_0x3fff", "rule{" OK81 " @#0x3fff:1}", -EINVAL, E_UNKNOWN },
	{ "rule_type_0xffff", "rule{" OK81 " @#0xffff:1}", -EINVAL, E_UNKNOWN },
	{ "proto_flagged_nested", "rule{@*proto:6 pmin:81 tmin:8081}", -EINVAL,
	  "NLA_F_NESTED not expected" },
	{ "port_flagged_nested", "rule{proto:6 @*pmin:81 tmin:8081}", -EINVAL,
	  "NLA_F_NESTED not expected" },
	{ "rule_not_nested", "!@rule{" OK81 "}", -EINVAL, "NLA_F_NESTED is missing" },
	{ "rule_nest_of_1_byte", "*@rule=06", -ERANGE, E_POLICY },
	{ "rule_nest_of_3_bytes", "*@rule=060000", -ERANGE, E_POLICY },
	/* malformed lengths and trailing bytes inside a valid rule */
	{ "nla_len_0", "rule{" OK81 " fam:1%0}", -EINVAL, E_LEFTOVER },
	{ "nla_len_1", "rule{" OK81 " fam:1%1}", -EINVAL, E_LEFTOVER },
	{ "nla_len_2", "rule{" OK81 " fam:1%2}", -EINVAL, E_LEFTOVER },
	{ "nla_len_3", "rule{" OK81 " fam:1%3}", -EINVAL, E_LEFTOVER },
	{ "nla_len_past_nest", "rule{" OK81 " fam:1%12}", -EINVAL, E_LEFTOVER },
	{ "nla_len_0_first", "rule{proto:6%0 pmin:81 tmin:8081}", -EINVAL, E_LEFTOVER },
	{ "trailing_1_byte", "rule{" OK81 " +01}", -EINVAL, E_LEFTOVER },
	{ "trailing_2_bytes", "rule{" OK81 " +0102}", -EINVAL, E_LEFTOVER },
	{ "trailing_3_bytes", "rule{" OK81 " +010203}", -EINVAL, E_LEFTOVER },
	{ "trailing_zero_header", "rule{" OK81 " +00000000}", -EINVAL, E_LEFTOVER },
	/* missing attributes */
	{ "empty_nest", "^rule{}", -EINVAL, E_NOPROTO, PORTREDIR_RULE_A_PROTO },
	{ "no_proto", "^rule{pmin:81 tmin:8081}", -EINVAL, E_NOPROTO,
	  PORTREDIR_RULE_A_PROTO },
	{ "no_port", "^rule{proto:6 pmax:81 tmin:8081}", -EINVAL, E_NOPORT,
	  PORTREDIR_RULE_A_PORT_MIN },
	{ "no_target", "^rule{proto:6 pmin:81 tmax:8081}", -EINVAL, E_NOTARGET,
	  PORTREDIR_RULE_A_TO_PORT_MIN },
	{ "only_defaults", "^rule{fam:3 dir:3}", -EINVAL, E_NOPROTO,
	  PORTREDIR_RULE_A_PROTO },
	/* values out of range: the policy */
	{ "port_min_0", "rule{proto:6 @pmin:0 tmin:8081}", -ERANGE, E_RANGE },
	{ "port_max_0", "rule{" OK81 " @pmax:0}", -ERANGE, E_RANGE },
	{ "to_port_min_0", "rule{proto:6 pmin:81 @tmin:0}", -ERANGE, E_RANGE },
	{ "to_port_max_0", "rule{" OK81 " @tmax:0}", -ERANGE, E_RANGE },
	{ "family_0", "rule{" OK81 " @fam:0}", -ERANGE, E_RANGE },
	{ "mode_2", "rule{" OK81 " @mode:2}", -ERANGE, E_RANGE },
	{ "mode_u16", "rule{" OK81 " @mode/2:1}", -EINVAL, E_LEN },
	{ "mode_steer_udp", "rule{proto:17 pmin:81 tmin:8081 @mode:1}", -EINVAL,
	  "steering works for TCP only" },
	{ "mode_steer_sctp", "rule{proto:132 pmin:81 tmin:8081 @mode:1}", -EINVAL,
	  "steering works for TCP only" },
	{ "family_4", "rule{" OK81 " @fam:4}", -ERANGE, E_RANGE },
	{ "family_255", "rule{" OK81 " @fam:255}", -ERANGE, E_RANGE },
	{ "direction_0", "rule{" OK81 " @dir:0}", -ERANGE, E_RANGE },
	{ "direction_4", "rule{" OK81 " @dir:4}", -ERANGE, E_RANGE },
	{ "direction_255", "rule{" OK81 " @dir:255}", -ERANGE, E_RANGE },
	{ "ifindex_0", "rule{" OK81 " dir:1 @dev:0}", -ERANGE, E_RANGE },
	/* values the module refuses */
	{ "proto_0", "rule{@proto:0 pmin:81 tmin:8081}", -EINVAL, E_PROTO },
	{ "proto_5", "rule{@proto:5 pmin:81 tmin:8081}", -EINVAL, E_PROTO },
	{ "proto_7", "rule{@proto:7 pmin:81 tmin:8081}", -EINVAL, E_PROTO },
	{ "proto_16", "rule{@proto:16 pmin:81 tmin:8081}", -EINVAL, E_PROTO },
	{ "proto_18", "rule{@proto:18 pmin:81 tmin:8081}", -EINVAL, E_PROTO },
	{ "proto_131", "rule{@proto:131 pmin:81 tmin:8081}", -EINVAL, E_PROTO },
	{ "proto_133", "rule{@proto:133 pmin:81 tmin:8081}", -EINVAL, E_PROTO },
	{ "proto_255", "rule{@proto:255 pmin:81 tmin:8081}", -EINVAL, E_PROTO },
	{ "reversed", "rule{proto:6 pmin:90 @pmax:89 tmin:8081}", -EINVAL,
	  "port range is reversed" },
	{ "reversed_65535_1", "rule{proto:6 pmin:65535 @pmax:1 tmin:1}", -EINVAL,
	  "port range is reversed" },
	{ "reversed_target", "rule{" OK81 " @tmax:8080}", -EINVAL,
	  "target range is reversed" },
	{ "reversed_target_65535_1", "rule{proto:6 pmin:81 tmin:65535 @tmax:1}",
	  -EINVAL, "target range is reversed" },
	{ "targets_10_for_9", "rule{proto:6 pmin:81 pmax:89 tmin:9000 @tmax:9009}",
	  -EINVAL, E_TARGETS(10, 9) },
	{ "targets_2_for_1", "rule{" OK81 " @tmax:8082}", -EINVAL, E_TARGETS(2, 1) },
	{ "targets_65534_for_65535",
	  "rule{proto:17 pmin:1 pmax:65535 fam:2 tmin:1 @tmax:65534}",
	  -EINVAL, E_TARGETS(65534, 65535) },
	{ "targets_65535_for_65534",
	  "rule{proto:17 pmin:2 pmax:65535 fam:2 tmin:1 @tmax:65535}",
	  -EINVAL, E_TARGETS(65535, 65534) },
	{ "ifindex_on_both_directions", "rule{" OK81 " @dev:2}", -EINVAL, E_LOCALDEV },
	{ "ifindex_on_local", "rule{" OK81 " dir:2 @dev:2}", -EINVAL, E_LOCALDEV },
	{ "ifindex_on_3", "rule{" OK81 " dir:3 @dev:3}", -EINVAL, E_LOCALDEV },
	{ "ifindex_4", "rule{" OK81 " dir:1 @dev:4}", -ENODEV, E_NODEV },
	{ "ifindex_0x80000000", "rule{" OK81 " dir:1 @dev:0x80000000}", -ENODEV,
	  E_NODEV },
	{ "ifindex_0xffffffff", "rule{" OK81 " dir:1 @dev:0xffffffff}", -ENODEV,
	  E_NODEV },
	/* the overlap matrix, refused side (BASE is B1 to B4) */
	{ "same_as_b1", "&rule{proto:6 pmin:80 tmin:9999}", -EEXIST, E_EXISTS },
	{ "same_as_b1_spelled_out",
	  "&rule{proto:6 pmin:80 pmax:80 tmin:1 tmax:1 fam:3 dir:3}", -EEXIST, E_EXISTS },
	{ "same_as_b3", "&rule{" B3 "}", -EEXIST, E_EXISTS },
	{ "same_as_b4_other_target", "&rule{proto:132 pmin:65535 tmin:2 fam:2 dir:2}",
	  -EEXIST, E_EXISTS },
	{ "b1_ipv4_only", "&rule{proto:6 pmin:80 tmin:1 fam:1}", -EEXIST, E_OVERLAP },
	{ "b1_ipv6_local", "&rule{proto:6 pmin:80 tmin:1 fam:2 dir:2}", -EEXIST,
	  E_OVERLAP },
	{ "b1_bound_to_dev_2", "&rule{proto:6 pmin:80 tmin:1 dir:1 dev:2}", -EEXIST,
	  E_OVERLAP },
	{ "b1_touched_from_below", "&rule{proto:6 pmin:70 pmax:80 tmin:1}", -EEXIST,
	  E_OVERLAP },
	{ "b1_touched_from_above", "&rule{proto:6 pmin:80 pmax:90 tmin:1}", -EEXIST,
	  E_OVERLAP },
	{ "b1_in_1_65535", "&rule{proto:6 pmin:1 pmax:65535 tmin:1 fam:1 dir:2}",
	  -EEXIST, E_OVERLAP },
	{ "b3_unbound_touching_1099", "&rule{proto:6 pmin:1099 pmax:1200 tmin:1 dir:1}",
	  -EEXIST, E_OVERLAP },
	{ "b3_same_dev_touching_1000",
	  "&rule{proto:6 pmin:999 pmax:1000 tmin:1 dir:1 dev:2}", -EEXIST, E_OVERLAP },
	{ "b3_same_dev_inside", "&rule{proto:6 pmin:1050 tmin:1 dir:1 dev:2}",
	  -EEXIST, E_OVERLAP },
	{ "b3_both_directions", "&rule{proto:6 pmin:1000 pmax:1099 tmin:1}", -EEXIST,
	  E_OVERLAP },
	{ "b3_ipv6_only", "&rule{proto:6 pmin:1099 tmin:1 fam:2 dir:1}", -EEXIST,
	  E_OVERLAP },
	{ "b2_both_families", "&rule{proto:17 pmin:53 tmin:1}", -EEXIST, E_OVERLAP },
	{ "b2_ipv4_local", "&rule{proto:17 pmin:53 tmin:1 fam:1 dir:2}", -EEXIST,
	  E_OVERLAP },
	{ "b2_bound_to_dev_3", "&rule{proto:17 pmin:53 tmin:1 fam:1 dir:1 dev:3}",
	  -EEXIST, E_OVERLAP },
	{ "b2_in_1_65535", "&rule{proto:17 pmin:1 pmax:65535 tmin:1}", -EEXIST,
	  E_OVERLAP },
	{ "b4_both_families", "&rule{proto:132 pmin:65535 tmin:1 dir:2}", -EEXIST,
	  E_OVERLAP },
	{ "b4_both_directions", "&rule{proto:132 pmin:65535 tmin:1 fam:2}", -EEXIST,
	  E_OVERLAP },
	{ "b4_range_to_65535", "&rule{proto:132 pmin:1 pmax:65535 tmin:1 fam:2 dir:2}",
	  -EEXIST, E_OVERLAP },
	{ "b4_every_family_and_direction", "&rule{proto:132 pmin:65535 pmax:65535 tmin:9 tmax:9}",
	  -EEXIST, E_OVERLAP },
};

/* Accepted wherever a rule is taken: the other side of the matrix. */
struct good_rule {
	const char *name;
	const char *rule;
};

static const struct good_rule good_rules[] = {
	{ "touching_b1_above", "rule{proto:6 pmin:81 tmin:8081}" },
	{ "touching_b1_below", "rule{proto:6 pmin:79 tmin:8079}" },
	{ "below_b1", "rule{proto:6 pmin:1 pmax:79 tmin:1}" },
	{ "between_b1_and_b3", "rule{proto:6 pmin:81 pmax:999 tmin:1}" },
	{ "b3_ports_other_dev", "rule{proto:6 pmin:1000 pmax:1099 tmin:1 dir:1 dev:3}" },
	{ "b3_ports_on_lo", "rule{proto:6 pmin:1000 pmax:1099 tmin:1 dir:1 dev:1}" },
	{ "b3_ports_local", "rule{proto:6 pmin:1000 pmax:1099 tmin:1 dir:2}" },
	{ "touching_b3_above", "rule{proto:6 pmin:1100 tmin:1 dir:1 dev:2}" },
	{ "touching_b3_below", "rule{proto:6 pmin:999 tmin:1 dir:1 dev:2}" },
	{ "above_b3_to_65535", "rule{proto:6 pmin:1100 pmax:65535 tmin:1 dir:1}" },
	{ "ranges_end_at_65535", "rule{proto:6 pmin:65000 pmax:65535 tmin:65000 tmax:65535}" },
	{ "range_to_65535_from_low", "rule{proto:6 pmin:2000 pmax:2535 tmin:65000 tmax:65535}" },
	{ "b2_port_ipv6", "rule{proto:17 pmin:53 tmin:1 fam:2}" },
	{ "b2_port_ipv6_dev_2", "rule{proto:17 pmin:53 tmin:1 fam:2 dir:1 dev:2}" },
	{ "udp_1_65535_ipv6", "rule{proto:17 pmin:1 pmax:65535 tmin:1 fam:2}" },
	{ "udp_1_65535_identity", "rule{proto:17 pmin:1 pmax:65535 tmin:1 tmax:65535 fam:2}" },
	{ "udp_65535_to_65535", "rule{proto:17 pmin:65535 tmin:65535}" },
	{ "b4_port_ipv4", "rule{proto:132 pmin:65535 tmin:1 fam:1 dir:2}" },
	{ "b4_port_inbound", "rule{proto:132 pmin:65535 tmin:1 fam:2 dir:1}" },
	{ "touching_b4_below", "rule{proto:132 pmin:65534 tmin:1 fam:2 dir:2}" },
	{ "sctp_1_65534_touching_b4", "rule{proto:132 pmin:1 pmax:65534 tmin:1 fam:2 dir:2}" },
	{ "ifindex_1_lo", "rule{proto:6 pmin:81 tmin:1 dir:1 dev:1}" },
	{ "every_default_spelled_out",
	  "rule{proto:6 pmin:81 pmax:81 tmin:8081 tmax:8081 fam:3 dir:3}" },
	{ "attributes_reversed", "rule{tmin:8081 pmin:81 proto:6}" },
	{ "attribute_repeated_last_wins", "rule{proto:17 proto:6 pmin:81 tmin:8081}" },
};

/* DEL's selector errors, against BASE (no offset: there is no such rule). */
struct del_row {
	const char *name;
	const char *rule;
	int err;
	const char *extack;
	uint16_t miss_type;
	enum effect effect;
};

#define NOENT -ENOENT, "no such rule"
#define E_TARGET "DEL takes no target port, only the selector"

static const struct del_row del_rows[] = {
	{ "b1", "rule{proto:6 pmin:80}", 0, NULL, 0, DELETES },
	{ "b1_spelled_out", "rule{proto:6 pmin:80 pmax:80 fam:3 dir:3}", 0, NULL, 0,
	  DELETES },
	{ "b2", "rule{proto:17 pmin:53 fam:1}", 0, NULL, 0, DELETES },
	{ "b3", "rule{proto:6 pmin:1000 pmax:1099 dir:1 dev:2}", 0, NULL, 0, DELETES },
	{ "b4", "rule{proto:132 pmin:65535 fam:2 dir:2}", 0, NULL, 0, DELETES },
	{ "b1_with_keep", "rule{proto:6 pmin:80} keep", 0, NULL, 0, DELETES },
	{ "b1_with_mode", "rule{proto:6 pmin:80 @mode:0}", -EINVAL,
	  "DEL takes no mode, only the selector" },
	{ "b1_proto_udp", "rule{proto:17 pmin:80}", NOENT },
	{ "b1_port_79", "rule{proto:6 pmin:79}", NOENT },
	{ "b1_port_81", "rule{proto:6 pmin:81}", NOENT },
	{ "b1_port_max_81", "rule{proto:6 pmin:80 pmax:81}", NOENT },
	{ "b1_port_min_79", "rule{proto:6 pmin:79 pmax:80}", NOENT },
	{ "b1_ipv4", "rule{proto:6 pmin:80 fam:1}", NOENT },
	{ "b1_ipv6", "rule{proto:6 pmin:80 fam:2}", NOENT },
	{ "b1_inbound", "rule{proto:6 pmin:80 dir:1}", NOENT },
	{ "b1_local", "rule{proto:6 pmin:80 dir:2}", NOENT },
	{ "b1_dev_2", "rule{proto:6 pmin:80 dir:1 dev:2}", NOENT },
	{ "b2_both_families", "rule{proto:17 pmin:53}", NOENT },
	{ "b2_ipv6", "rule{proto:17 pmin:53 fam:2}", NOENT },
	{ "b2_port_52", "rule{proto:17 pmin:52 fam:1}", NOENT },
	{ "b2_port_54", "rule{proto:17 pmin:54 fam:1}", NOENT },
	{ "b2_tcp", "rule{proto:6 pmin:53 fam:1}", NOENT },
	{ "b3_port_min_999", "rule{proto:6 pmin:999 pmax:1099 dir:1 dev:2}", NOENT },
	{ "b3_port_min_1001", "rule{proto:6 pmin:1001 pmax:1099 dir:1 dev:2}", NOENT },
	{ "b3_port_max_1098", "rule{proto:6 pmin:1000 pmax:1098 dir:1 dev:2}", NOENT },
	{ "b3_port_max_1100", "rule{proto:6 pmin:1000 pmax:1100 dir:1 dev:2}", NOENT },
	{ "b3_dev_3", "rule{proto:6 pmin:1000 pmax:1099 dir:1 dev:3}", NOENT },
	{ "b3_dev_1", "rule{proto:6 pmin:1000 pmax:1099 dir:1 dev:1}", NOENT },
	{ "b3_unbound", "rule{proto:6 pmin:1000 pmax:1099 dir:1}", NOENT },
	{ "b3_ipv4", "rule{proto:6 pmin:1000 pmax:1099 fam:1 dir:1 dev:2}", NOENT },
	{ "b3_udp", "rule{proto:17 pmin:1000 pmax:1099 dir:1 dev:2}", NOENT },
	{ "b4_both_directions", "rule{proto:132 pmin:65535 fam:2}", NOENT },
	{ "b4_inbound", "rule{proto:132 pmin:65535 fam:2 dir:1}", NOENT },
	{ "b4_both_families", "rule{proto:132 pmin:65535 dir:2}", NOENT },
	{ "b4_ipv4", "rule{proto:132 pmin:65535 fam:1 dir:2}", NOENT },
	{ "b4_port_65534", "rule{proto:132 pmin:65534 fam:2 dir:2}", NOENT },
	{ "b4_range_65534", "rule{proto:132 pmin:65534 pmax:65535 fam:2 dir:2}", NOENT },
	{ "b4_udp", "rule{proto:17 pmin:65535 fam:2 dir:2}", NOENT },
	{ "b1_with_target", "rule{proto:6 pmin:80 @tmin:8080}", -EINVAL, E_TARGET },
	{ "b1_with_target_max", "rule{proto:6 pmin:80 @tmax:8080}", -EINVAL, E_TARGET },
	{ "b1_with_target_first", "rule{@tmin:8080 proto:6 pmin:80}", -EINVAL, E_TARGET },
	{ "b1_with_connections", "rule{proto:6 pmin:80 @conn:0}", -EINVAL, E_COUNTER },
	{ "b1_with_pad", "rule{proto:6 pmin:80 @pad:0}", -EINVAL, E_UNSUPP },
	{ "b1_port_u32", "rule{proto:6 @pmin/4:80}", -EINVAL, E_LEN },
	{ "b1_port_0", "rule{proto:6 @pmin:0}", -ERANGE, E_RANGE },
	{ "b3_on_local", "rule{proto:6 pmin:1000 pmax:1099 dir:3 @dev:2}", -EINVAL,
	  E_LOCALDEV },
	{ "b3_dev_4", "rule{proto:6 pmin:1000 pmax:1099 dir:1 @dev:4}", -ENODEV, E_NODEV },
	{ "no_rule", "", -EINVAL, "missing rule", PORTREDIR_A_RULE },
	{ "keep_only", "keep", -EINVAL, "missing rule", PORTREDIR_A_RULE },
	{ "empty_rule", "^rule{}", -EINVAL, E_NOPROTO, PORTREDIR_RULE_A_PROTO },
	{ "no_port", "^rule{proto:6 pmax:80}", -EINVAL, E_NOPORT,
	  PORTREDIR_RULE_A_PORT_MIN },
	{ "no_proto", "^rule{pmin:80}", -EINVAL, E_NOPROTO, PORTREDIR_RULE_A_PROTO },
	{ "rule_not_nested", "!@rule{proto:6 pmin:80}", -EINVAL, "NLA_F_NESTED is missing" },
	{ "trailing_byte", "rule{proto:6 pmin:80 +01}", -EINVAL, E_LEFTOVER },
	{ "unknown_top_level", "rule{proto:6 pmin:80} @#3/0", -EINVAL, E_UNKNOWN },
};

#define ADD PORTREDIR_CMD_ADD
#define DEL PORTREDIR_CMD_DEL
#define GET PORTREDIR_CMD_GET
#define FLUSH PORTREDIR_CMD_FLUSH
#define REPLACE PORTREDIR_CMD_REPLACE
#define BEGIN PORTREDIR_CMD_REPLACE_BEGIN
#define RULES PORTREDIR_CMD_REPLACE_RULES
#define COMMIT_CMD PORTREDIR_CMD_REPLACE_COMMIT
#define ABORT PORTREDIR_CMD_REPLACE_ABORT
#define E_NOTXN "this socket has no replace transaction in progress"
#define E_RULES_FULL "rule budget of this namespace is full (parameter max_rules)" \
		     "\vrule budget of this namespace is full (%s rules, parameter max_rules)"
#define E_PORTS_FULL "port budget of this namespace is full (parameter max_ports)" \
		     "\vport budget of this namespace is full (%s ports, parameter max_ports)"
/* four rules of every TCP port, bound to lo, dev 2, dev 3 and local: 262140 ports */
#define FOUR_FULL_RANGES "rule{proto:6 pmin:1 pmax:65535 tmin:1 dir:1 dev:1} " \
	"rule{proto:6 pmin:1 pmax:65535 tmin:1 dir:1 dev:2} " \
	"rule{proto:6 pmin:1 pmax:65535 tmin:1 dir:1 dev:3} " \
	"rule{proto:6 pmin:1 pmax:65535 tmin:1 dir:2}"
#define V81 "rule{" OK81 "}"
#define E_GENL_RESERVED "genlmsghdr.reserved field is not 0"
#define E_FLUSH "FLUSH deletes every rule and takes no attributes"
#define E_GET "GET dumps every rule and takes no attributes"

/* Rows of their own: headers, flags, commands, top-level attributes. */
static const struct row single_rows[] = {
	/* the netlink and genetlink headers */
	{ "add_version_0", ADD, .hdr = "v=0", .msg = V81, .effect = ADDS },
	{ "add_version_2", ADD, .hdr = "v=2", .msg = V81, .effect = ADDS },
	{ "add_version_255", ADD, .hdr = "v=255", .msg = V81, .effect = ADDS },
	{ "flush_version_2", FLUSH, .hdr = "v=2", .effect = EMPTIES },
	{ "add_reserved_1", ADD, .hdr = "r=1", .msg = V81, .err = -EINVAL,
	  .extack = E_GENL_RESERVED },
	{ "add_reserved_0x8000", ADD, .hdr = "r=0x8000", .msg = V81, .err = -EINVAL,
	  .extack = E_GENL_RESERVED },
	{ "flush_reserved_1", FLUSH, .hdr = "r=1", .err = -EINVAL,
	  .extack = E_GENL_RESERVED },
	{ "genl_header_cut_1", FLUSH, .hdr = "cut=1", .err = -EINVAL },
	{ "genl_header_cut_4", FLUSH, .hdr = "cut=4", .err = -EINVAL },
	{ "add_not_a_request", ADD, NLM_F_ACK, .msg = V81 },
	{ "add_create", ADD, REQ | NLM_F_CREATE, .msg = V81, .err = -EINVAL,
	  .extack = E_FLAGS },
	{ "add_excl", ADD, REQ | NLM_F_EXCL, .msg = V81, .err = -EINVAL,
	  .extack = E_FLAGS },
	{ "add_create_excl", ADD, REQ | NLM_F_CREATE | NLM_F_EXCL, .msg = V81,
	  .err = -EINVAL, .extack = E_FLAGS },
	{ "add_replace_flag", ADD, REQ | NLM_F_REPLACE, .msg = V81, .err = -EINVAL,
	  .extack = E_FLAGS },
	{ "add_append", ADD, REQ | NLM_F_APPEND, .msg = V81, .err = -EINVAL,
	  .extack = E_FLAGS },
	{ "add_multi", ADD, REQ | NLM_F_MULTI, .msg = V81, .err = -EINVAL,
	  .extack = E_FLAGS },
	{ "add_dump_intr", ADD, REQ | NLM_F_DUMP_INTR, .msg = V81, .err = -EINVAL,
	  .extack = E_FLAGS },
	{ "add_echo", ADD, REQ | NLM_F_ECHO, .msg = V81, .effect = ADDS },
	{ "del_create", DEL, REQ | NLM_F_CREATE, .msg = "rule{" B1 "}", .err = -EINVAL,
	  .extack = E_FLAGS },
	{ "flush_excl", FLUSH, REQ | NLM_F_EXCL, .err = -EINVAL, .extack = E_FLAGS },
	{ "replace_create", REPLACE, REQ | NLM_F_CREATE, .msg = V81, .err = -EINVAL,
	  .extack = E_FLAGS },
	{ "add_dump", ADD, REQ | NLM_F_DUMP, .msg = V81, .err = -EOPNOTSUPP },
	{ "del_dump", DEL, REQ | NLM_F_DUMP, .msg = "rule{proto:6 pmin:80}",
	  .err = -EOPNOTSUPP },
	{ "flush_dump", FLUSH, REQ | NLM_F_DUMP, .err = -EOPNOTSUPP },
	{ "replace_dump", REPLACE, REQ | NLM_F_DUMP, .msg = V81, .err = -EOPNOTSUPP },
	{ "get_without_dump", GET, REQ, .err = -EOPNOTSUPP },
	{ "get_root_only", GET, REQ | NLM_F_ROOT, .err = -EINVAL, .extack = E_FLAGS },
	{ "get_match_only", GET, REQ | NLM_F_MATCH, .err = -EINVAL, .extack = E_FLAGS },
	{ "get_dump_create", GET, REQ | NLM_F_DUMP | NLM_F_CREATE, .err = -EINVAL,
	  .extack = E_FLAGS },
	{ "command_0", PORTREDIR_CMD_UNSPEC, .msg = V81, .err = -EOPNOTSUPP },
	{ "command_10", PORTREDIR_CMD_MAX + 1, .msg = V81, .err = -EOPNOTSUPP },
	{ "command_255", 255, .msg = V81, .err = -EOPNOTSUPP },
	/* top-level attributes */
	{ "add_no_rule", ADD, .err = -EINVAL, .extack = "missing rule",
	  .miss_type = PORTREDIR_A_RULE },
	{ "add_keep_only", ADD, .msg = "keep", .err = -EINVAL, .extack = "missing rule",
	  .miss_type = PORTREDIR_A_RULE },
	{ "add_keep", ADD, .msg = V81 " keep", .effect = ADDS },
	{ "add_keep_first", ADD, .msg = "keep " V81, .effect = ADDS },
	{ "add_keep_with_payload", ADD, .msg = V81 " @keep/4:1", .err = -ERANGE,
	  .extack = E_POLICY },
	{ "add_keep_with_1_byte", ADD, .msg = V81 " @keep/1:1", .err = -ERANGE,
	  .extack = E_POLICY },
	{ "add_keep_nested", ADD, .msg = V81 " @keep{}", .err = -EINVAL,
	  .extack = "NLA_F_NESTED not expected" },
	{ "add_type_0", ADD, .msg = V81 " @#0/0", .err = -EINVAL, .extack = E_UNKNOWN },
	{ "add_type_0_first", ADD, .msg = "@#0:1 " V81, .err = -EINVAL,
	  .extack = E_UNKNOWN },
	{ "add_type_3", ADD, .msg = V81 " @#3/0", .err = -EINVAL, .extack = E_UNKNOWN },
	{ "add_type_0xffff", ADD, .msg = V81 " @#0xffff/0", .err = -EINVAL,
	  .extack = E_UNKNOWN },
	{ "add_type_0x3fff", ADD, .msg = V81 " @#0x3fff:7", .err = -EINVAL,
	  .extack = E_UNKNOWN },
	{ "add_rule_u32", ADD, .msg = "@rule/4:81", .err = -EINVAL,
	  .extack = "NLA_F_NESTED is missing" },
	{ "add_nest_past_message", ADD, .msg = "rule{" OK81 "}%200", .err = -EINVAL,
	  .extack = E_LEFTOVER },
	{ "add_nest_4_past_message", ADD, .msg = "rule{" OK81 "}%32", .err = -EINVAL,
	  .extack = E_LEFTOVER },
	{ "add_nest_ends_inside_attribute", ADD, .msg = "rule{" OK81 "}%24",
	  .err = -EINVAL, .extack = E_LEFTOVER },
	{ "add_nla_len_0_top", ADD, .msg = V81 " keep%0", .err = -EINVAL,
	  .extack = E_LEFTOVER },
	{ "add_nla_len_3_top", ADD, .msg = V81 " keep%3", .err = -EINVAL,
	  .extack = E_LEFTOVER },
	{ "add_trailing_1_byte", ADD, .msg = V81 " +01", .err = -EINVAL,
	  .extack = E_LEFTOVER },
	{ "add_trailing_3_bytes", ADD, .msg = V81 " +010203", .err = -EINVAL,
	  .extack = E_LEFTOVER },
	{ "add_trailing_zero_header", ADD, .msg = V81 " +00000000", .err = -EINVAL,
	  .extack = E_LEFTOVER },
	{ "get_type_0", GET, .msg = "@#0/0", .err = -EINVAL, .extack = E_UNKNOWN },
	{ "get_type_2", GET, .msg = "@keep", .err = -EINVAL, .extack = E_UNSUPP },
	{ "get_type_0xffff", GET, .msg = "@#0xffff/0", .err = -EINVAL,
	  .extack = E_UNKNOWN },
	{ "get_trailing_bytes", GET, .msg = "+0102", .err = -EINVAL,
	  .extack = E_LEFTOVER },
	{ "get_rule", GET, .msg = "@rule{" B1 "}", .err = -EINVAL, .extack = E_GET },
	{ "get_empty_rule", GET, .msg = "@rule{}", .err = -EINVAL, .extack = E_GET },
	{ "get_rule_not_nested", GET, .msg = "!@rule{" B1 "}", .err = -EINVAL,
	  .extack = "NLA_F_NESTED is missing" },
	{ "get", GET },
	{ "get_empty_table", GET, .pre = "" },
	{ "flush", FLUSH, .effect = EMPTIES },
	{ "flush_keep", FLUSH, .msg = "keep", .effect = EMPTIES },
	{ "flush_empty_table", FLUSH, .pre = "", .effect = EMPTIES },
	{ "flush_rule", FLUSH, .msg = "@rule{" B1 "}", .err = -EINVAL, .extack = E_FLUSH },
	{ "flush_empty_rule", FLUSH, .msg = "@rule{}", .err = -EINVAL, .extack = E_FLUSH },
	{ "flush_keep_with_payload", FLUSH, .msg = "@keep/4:1", .err = -ERANGE,
	  .extack = E_POLICY },
	{ "flush_type_0", FLUSH, .msg = "@#0/0", .err = -EINVAL, .extack = E_UNKNOWN },
	{ "flush_type_3", FLUSH, .msg = "@#3:1", .err = -EINVAL, .extack = E_UNKNOWN },
	{ "flush_type_0xffff", FLUSH, .msg = "@#0xffff/0", .err = -EINVAL,
	  .extack = E_UNKNOWN },
	{ "flush_trailing_bytes", FLUSH, .msg = "+01", .err = -EINVAL,
	  .extack = E_LEFTOVER },
	{ "replace_nothing", REPLACE, .effect = EMPTIES },
	{ "replace_keep_only", REPLACE, .msg = "keep", .effect = EMPTIES },
	{ "replace_same_table", REPLACE, .msg = BASE, .effect = REPLACES },
	{ "replace_type_0_after_rules", REPLACE, .msg = BASE " @#0/0", .err = -EINVAL,
	  .extack = E_UNKNOWN },
	{ "replace_type_0xffff_after_rules", REPLACE, .msg = BASE " @#0xffff/0",
	  .err = -EINVAL, .extack = E_UNKNOWN },
	{ "replace_keep_with_payload", REPLACE, .msg = BASE " @keep/4:1",
	  .err = -ERANGE, .extack = E_POLICY },
	{ "replace_trailing_bytes", REPLACE, .msg = BASE " +0102", .err = -EINVAL,
	  .extack = E_LEFTOVER },
	{ "replace_two_equal_rules", REPLACE, .msg = V81 " &" V81, .err = -EEXIST,
	  .extack = E_EXISTS },
	/* the replace transaction */
	{ "rules_without_begin", RULES, .msg = V81, .err = -ENOENT, .extack = E_NOTXN },
	{ "commit_without_begin", COMMIT_CMD, .err = -ENOENT, .extack = E_NOTXN },
	{ "abort_without_begin", ABORT, .err = -ENOENT, .extack = E_NOTXN },
	{ "begin_with_rule", BEGIN, .msg = "@rule{" B1 "}", .err = -EINVAL,
	  .extack = "REPLACE_BEGIN takes no attributes" },
	{ "begin_with_keep", BEGIN, .msg = "@keep", .err = -EINVAL, .extack = E_UNSUPP },
	{ "abort_with_rule", ABORT, .msg = "@rule{" B1 "}", .err = -EINVAL,
	  .extack = "REPLACE_ABORT takes no attributes", .opts = TXN },
	{ "commit_with_rule", COMMIT_CMD, .msg = "@rule{" B1 "}", .err = -EINVAL,
	  .extack = E_UNSUPP, .opts = TXN },
	{ "rules_with_keep", RULES, .msg = V81 " @keep", .err = -EINVAL,
	  .extack = E_UNSUPP, .opts = TXN | COMMIT },
	{ "begin_dump", BEGIN, REQ | NLM_F_DUMP, .err = -EOPNOTSUPP },
	{ "rules_create", RULES, REQ | NLM_F_CREATE, .msg = V81, .err = -EINVAL,
	  .extack = E_FLAGS, .opts = TXN | COMMIT },
	{ "begin_commit_empty", COMMIT_CMD, .effect = EMPTIES, .opts = TXN },
	{ "begin_commit_keep", COMMIT_CMD, .msg = "keep", .effect = EMPTIES, .opts = TXN },
	{ "begin_abort", ABORT, .opts = TXN },
	{ "begin_twice", BEGIN, .opts = TXN },
	{ "rules_empty", RULES, .opts = TXN | COMMIT, .effect = EMPTIES },
	/* the budget: BASE holds 4 rules covering 103 ports */
	{ "add_beyond_max_rules", ADD, .msg = V81, .err = -ENOSPC,
	  .extack = E_RULES_FULL, .max_rules = "4" },
	{ "add_up_to_max_rules", ADD, .msg = V81, .effect = ADDS, .max_rules = "5" },
	{ "add_with_max_rules_0", ADD, .msg = V81, .err = -ENOSPC,
	  .extack = E_RULES_FULL, .max_rules = "0" },
	{ "replace_beyond_max_rules", REPLACE, .msg = BASE " &" V81, .err = -ENOSPC,
	  .extack = E_RULES_FULL, .max_rules = "4" },
	{ "replace_up_to_max_rules", REPLACE, .msg = BASE " " V81, .effect = REPLACES,
	  .max_rules = "5" },
	{ "replace_full_table_at_max_rules", REPLACE, .msg = BASE, .effect = REPLACES,
	  .max_rules = "4" },
	{ "txn_beyond_max_rules", RULES, .msg = BASE " &" V81, .err = -ENOSPC,
	  .extack = E_RULES_FULL, .max_rules = "4", .opts = TXN | COMMIT },
	{ "txn_split_beyond_max_rules", RULES, .msg = "&" V81, .err = -ENOSPC,
	  .extack = E_RULES_FULL, .max_rules = "4", .opts = TXN | SPLIT | COMMIT },
	{ "txn_up_to_max_rules", RULES, .msg = BASE, .effect = REPLACES,
	  .max_rules = "4", .opts = TXN | COMMIT },
	{ "add_beyond_max_ports", ADD, .msg = V81, .err = -ENOSPC,
	  .extack = E_PORTS_FULL, .max_ports = "103" },
	{ "add_up_to_max_ports", ADD, .msg = V81, .effect = ADDS, .max_ports = "104" },
	{ "add_range_beyond_max_ports", ADD, .msg = "rule{proto:6 pmin:81 pmax:82 tmin:1}",
	  .err = -ENOSPC, .extack = E_PORTS_FULL, .max_ports = "104" },
	{ "add_1_65535_beyond_max_ports", ADD,
	  .msg = "rule{proto:17 pmin:1 pmax:65535 tmin:1 fam:2}", .err = -ENOSPC,
	  .extack = E_PORTS_FULL, .max_ports = "65637" },
	{ "add_1_65535_up_to_max_ports", ADD,
	  .msg = "rule{proto:17 pmin:1 pmax:65535 tmin:1 fam:2}", .effect = ADDS,
	  .max_ports = "65638" },
	{ "replace_beyond_max_ports", REPLACE, .msg = BASE " &" V81, .err = -ENOSPC,
	  .extack = E_PORTS_FULL, .max_ports = "103" },
	{ "txn_beyond_max_ports", RULES, .msg = BASE " &" V81, .err = -ENOSPC,
	  .extack = E_PORTS_FULL, .max_ports = "103", .opts = TXN | COMMIT },
	{ "add_fifth_full_range", ADD, .pre = FOUR_FULL_RANGES,
	  .msg = "rule{proto:17 pmin:1 pmax:5 tmin:1}", .err = -ENOSPC,
	  .extack = E_PORTS_FULL },
	{ "add_up_to_default_max_ports", ADD, .pre = FOUR_FULL_RANGES,
	  .msg = "rule{proto:17 pmin:1 pmax:4 tmin:1}", .effect = ADDS },
	{ "replace_fifth_full_range", REPLACE,
	  .msg = FOUR_FULL_RANGES " &rule{proto:17 pmin:1 pmax:65535 tmin:1}",
	  .err = -ENOSPC, .extack = E_PORTS_FULL },
};

static struct row *rows;
static int n_rows;

static void row_add(const struct row *r)
{
	static int cap;

	if (n_rows == cap) {
		cap = cap ? 2 * cap : 256;
		rows = realloc(rows, cap * sizeof(*rows));
		if (!rows)
			abort();
	}
	rows[n_rows++] = *r;
}

static char *join(const char *a, const char *sep, const char *b)
{
	char *s;

	if (asprintf(&s, "%s%s%s", a, sep, b) < 0)
		abort();
	return s;
}


/* Each rule list becomes rows: ADD of the rule, REPLACE with it as rule 5. */
static void rows_generate(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(single_rows); i++)
		row_add(&single_rows[i]);
	for (i = 0; i < ARRAY_SIZE(bad_rules); i++) {
		const struct bad_rule *b = &bad_rules[i];
		struct row r = { .cmd = ADD, .msg = b->rule, .err = b->err,
				 .extack = b->extack, .miss_type = b->miss_type };

		r.name = join("add_", "", b->name);
		row_add(&r);
		r.cmd = REPLACE;
		r.name = join("replace_rule_5_", "", b->name);
		r.msg = join(BASE, " ", b->rule);
		row_add(&r);
		r.cmd = RULES;
		r.opts = TXN | COMMIT;
		r.name = join("txn_rule_5_", "", b->name);
		row_add(&r);
		if (b->err != -EEXIST)
			continue;
		r.opts |= SPLIT;
		r.name = join("txn_after_base_", "", b->name);
		r.msg = b->rule;
		row_add(&r);
	}
	for (i = 0; i < ARRAY_SIZE(good_rules); i++) {
		const struct good_rule *g = &good_rules[i];
		struct row r = { .cmd = ADD, .msg = g->rule, .effect = ADDS };

		r.name = join("add_", "", g->name);
		row_add(&r);
		r.cmd = REPLACE;
		r.name = join("replace_rule_5_", "", g->name);
		r.msg = join(BASE, " ", g->rule);
		r.effect = REPLACES;
		row_add(&r);
		r.cmd = RULES;
		r.opts = TXN | COMMIT;
		r.name = join("txn_rule_5_", "", g->name);
		row_add(&r);
		r.opts |= SPLIT;
		r.name = join("txn_after_base_", "", g->name);
		r.msg = g->rule;
		r.effect = ADDS;
		row_add(&r);
	}
	for (i = 0; i < ARRAY_SIZE(del_rows); i++) {
		const struct del_row *d = &del_rows[i];
		struct row r = { .cmd = DEL, .msg = d->rule, .err = d->err,
				 .extack = d->extack, .miss_type = d->miss_type,
				 .effect = d->effect };

		r.name = join("del_", "", d->name);
		row_add(&r);
	}
}

static int row_build(struct msg *m, uint16_t family, const struct row *r,
		     struct marks *mk)
{
	uint16_t flags = r->flags ?: REQ | (r->cmd == GET ? NLM_F_DUMP : 0);
	struct genlmsghdr *g;
	const char *h = r->hdr;
	unsigned long v;
	char *end;

	msg_init(m, family, 0, r->cmd);
	m->nlh->nlmsg_flags = flags;
	mk->multi = r->cmd == REPLACE || r->cmd == PORTREDIR_CMD_REPLACE_RULES;
	if (msg_describe(m, r->msg ?: "", mk))
		return -1;
	g = NLMSG_DATA(m->nlh);
	while (h && *h) {
		h += strspn(h, " ");
		if (!strncmp(h, "v=", 2))
			g->version = v = strtoul(h + 2, &end, 0);
		else if (!strncmp(h, "r=", 2))
			g->reserved = v = strtoul(h + 2, &end, 0);
		else if (!strncmp(h, "cut=", 4))
			m->nlh->nlmsg_len -= (v = strtoul(h + 4, &end, 0));
		else
			return -1;
		h = end;
	}
	return 0;
}

/* What the table must be after row @r, whose request is still in @m. */
static int row_expect(const struct row *r, const struct msg *m,
		      const struct table *before, struct table *want)
{
	struct table req = { 0 };
	int i, at;

	want->n = 0;
	if (r->effect == SAME || r->effect == DELETES || r->effect == ADDS)
		for (i = 0; i < before->n; i++)
			table_add(want, &before->rules[i]);
	if (r->effect == SAME || r->effect == EMPTIES)
		return 0;
	table_of_request(m, &req);
	if (r->effect == REPLACES || r->effect == ADDS)
		for (i = 0; i < req.n; i++)
			table_add(want, &req.rules[i]);
	if (r->effect == DELETES) {
		at = req.n ? table_find(want, &req.rules[0]) : -1;
		if (at < 0)
			return -1;
		want->rules[at] = want->rules[--want->n];
	}
	table_free(&req);
	return 0;
}

/* The refusals of the netlink core, before the module sees a message. */
static const char *const core_refusals[] = {
	E_LEN, E_RANGE, E_UNKNOWN, E_UNSUPP, E_POLICY, E_LEFTOVER, E_FLAGS,
	E_COUNTER, E_GENL_RESERVED, "NLA_F_NESTED is missing",
	"NLA_F_NESTED not expected",
};

static int refused_by_core(const struct row *r)
{
	size_t i;

	for (i = 0; r->err && r->extack && i < ARRAY_SIZE(core_refusals); i++)
		if (!strcmp(r->extack, core_refusals[i]))
			return 1;
	return 0;
}

#define PARAMS "/sys/module/portredir/parameters/"

/* A module parameter's value, without its newline; NULL if unreadable. */
static const char *param_get(const char *name, char *buf, size_t len)
{
	char path[128];
	int n;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	n = read_file(path, buf, len);
	if (n <= 0)
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static int param_set(const char *name, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	return write_file(path, value);
}

FIXTURE(hostile) {
	struct nl nl;
	struct msg *m;
	struct table before;
	char max_rules[32], max_ports[32];	/* to restore, when set */
};

FIXTURE_VARIANT(hostile) {
	const struct row *row;
};

/* The extack text row @r expects, with the limit it names filled in. */
static const char *row_text(const struct row *r, char *buf, size_t len)
{
	char fmt[256], value[32];
	const char *text = text_for_kernel(r->extack, fmt, sizeof(fmt));
	int ports = !!strstr(text, "max_ports");
	const char *limit = ports ? r->max_ports : r->max_rules;

	if (!strstr(text, "%s"))
		return text;
	if (!limit)
		limit = param_get(ports ? "max_ports" : "max_rules", value, sizeof(value));
	snprintf(buf, len, text, limit ?: "?");
	return buf;
}

/*
 * The rows name interfaces by index: 2 and 3 must be free in a new
 * namespace. A kernel with sit, ipip or ip6_tunnel built in (the debug
 * lane's) gives every namespace its fallback tunnels first, unless told to
 * keep them to the initial one.
 */
static void no_fallback_tunnels(void)
{
	int fd = open("/proc/sys/net/core/fb_tunnels_only_for_init_net",
		      O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, "1", 1) != 1)
		perror("fb_tunnels_only_for_init_net");
	close(fd);
}

FIXTURE_SETUP(hostile)
{
	const struct row *r = variant->row;

	no_fallback_tunnels();
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(2, dummy_add("hostile2"));
	ASSERT_EQ(3, dummy_add("hostile3"));
	self->m = calloc(1, sizeof(*self->m));
	ASSERT_NE(NULL, self->m);
	ASSERT_EQ(0, nl_open(&self->nl));
	ASSERT_EQ(0, load_rules(&self->nl, self->m, r->pre ?: BASE));
	ASSERT_EQ(0, dump_table(&self->nl, self->m, &self->before));
	if (!r->max_rules && !r->max_ports)
		return;
	if (!param_get("max_rules", self->max_rules, sizeof(self->max_rules)) ||
	    !param_get("max_ports", self->max_ports, sizeof(self->max_ports)))
		SKIP(return, "no module parameters max_rules and max_ports");
	if (r->max_rules)
		ASSERT_EQ(0, param_set("max_rules", r->max_rules));
	if (r->max_ports)
		ASSERT_EQ(0, param_set("max_ports", r->max_ports));
}

FIXTURE_TEARDOWN(hostile)
{
	if (self->max_rules[0])
		param_set("max_rules", self->max_rules);
	if (self->max_ports[0])
		param_set("max_ports", self->max_ports);
	close(self->nl.fd);
	table_free(&self->before);
	free(self->m);
}

/*
 * A bound, not a wait: rows that load four 1-65535 rules take minutes
 * under KASAN and emulation, more than the harness's default 30 s.
 */
TEST_F_TIMEOUT(hostile, row, 300)
{
	const struct row *r = variant->row;
	struct table after = { 0 }, want = { 0 };
	struct marks mk;
	char text[256], why[4096];
	int offs_given;

	if (r->opts & TXN) {
		msg_init(self->m, self->nl.family, 0, BEGIN);
		ASSERT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
	}
	if (r->opts & SPLIT) {
		msg_init(self->m, self->nl.family, 0, RULES);
		ASSERT_EQ(0, msg_describe(self->m, BASE, &mk));
		ASSERT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
	}
	ASSERT_EQ(0, row_build(self->m, self->nl.family, r, &mk))
		TH_LOG("the row's description is wrong");
	EXPECT_EQ(r->err, nl_talk(&self->nl, self->m, NULL, NULL));
	EXPECT_STREQ(row_text(r, text, sizeof(text)), self->nl.extack);
	/* before 6.2, the NLMSG_DONE of a refused dump carried no offset */
	offs_given = mk.blame >= 0 && !(self->nl.done && kernel_release < 602);
	EXPECT_EQ(offs_given, self->nl.has_offs);
	if (offs_given)
		EXPECT_EQ(mk.blame, self->nl.bad_attr);
	EXPECT_EQ(r->miss_type, self->nl.miss_type);
	EXPECT_EQ(mk.miss_nest >= 0, self->nl.has_miss_nest);
	if (mk.miss_nest >= 0)
		EXPECT_EQ(mk.miss_nest, self->nl.miss_nest);
	ASSERT_EQ(0, row_expect(r, self->m, &self->before, &want))
		TH_LOG("the rule to delete is not in the table before");
	if (r->opts & COMMIT && refused_by_core(r)) {
		msg_init(self->m, self->nl.family, 0, ABORT);
		EXPECT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL))
			TH_LOG("the transaction did not survive a refusal of the core");
	} else if (r->opts & COMMIT) {
		msg_init(self->m, self->nl.family, 0, COMMIT_CMD);
		EXPECT_EQ(r->err ? -ENOENT : 0, nl_talk(&self->nl, self->m, NULL, NULL))
			TH_LOG("the transaction was %s", r->err ? "not discarded" : "lost");
	}
	ASSERT_EQ(0, dump_table(&self->nl, self->m, &after));
	EXPECT_EQ(0, table_diff(&want, &after, why, sizeof(why)))
		TH_LOG("%s", why);
	table_free(&after);
	table_free(&want);
}

static struct row_variant {
	struct __fixture_variant_metadata meta;
	FIXTURE_VARIANT(hostile) data;
} *row_variants;

/*
 * One variant per row, registered as FIXTURE_VARIANT_ADD() would: in the
 * order of the rows, whichever order the constructors run in.
 */
static void __attribute__((constructor)) rows_register(void)
{
	int i, j;

	rows_generate();
	row_variants = calloc(n_rows, sizeof(*row_variants));
	if (!row_variants)
		abort();
	for (j = 0; j < n_rows; j++) {
		i = __constructor_order == _CONSTRUCTOR_ORDER_FORWARD ? j : n_rows - 1 - j;
		row_variants[i].data.row = &rows[i];
		row_variants[i].meta.name = rows[i].name;
		row_variants[i].meta.data = &row_variants[i].data;
		__register_fixture_variant(&_hostile_fixture_object,
					   &row_variants[i].meta);
	}
}

static const struct rule http = {
	.proto = IPPROTO_TCP, .port_min = 80, .to_min = 8080,
};

/* What DEL takes to name it. */
static const struct rule http_selector = {
	.proto = IPPROTO_TCP, .port_min = 80,
};

static const struct rule udp53 = {
	.proto = IPPROTO_UDP, .port_min = 53, .to_min = 5353,
};

FIXTURE(api) {
	struct nl nl;
	struct msg *m;
};

FIXTURE_SETUP(api)
{
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	self->m = calloc(1, sizeof(*self->m));
	ASSERT_NE(NULL, self->m);
	ASSERT_EQ(0, nl_open(&self->nl));
	ASSERT_NE(0, self->nl.family);
}

FIXTURE_TEARDOWN(api)
{
	close(self->nl.fd);
	free(self->m);
}

static void msg_rules(struct msg *m, uint16_t family, const struct rule *r, int n)
{
	int i;

	msg_init(m, family, 0, PORTREDIR_CMD_REPLACE);
	for (i = 0; i < n; i++)
		msg_rule(m, &r[i]);
}

TEST_F(api, add_dump_del)
{
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	ASSERT_EQ(1, d.count);
	EXPECT_EQ(IPPROTO_TCP, d.last.proto);
	EXPECT_EQ(80, d.last.port_min);
	EXPECT_EQ(80, d.last.port_max);
	EXPECT_EQ(8080, d.last.to_min);
	EXPECT_EQ(8080, d.last.to_max);
	EXPECT_EQ(PORTREDIR_FAMILY_ALL, d.last.family);
	EXPECT_EQ(PORTREDIR_DIR_ALL, d.last.direction);
	EXPECT_EQ(0, d.last.ifindex);
	EXPECT_TRUE(d.has_connections);
	EXPECT_EQ(0, d.last.connections);
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &http_selector));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(0, d.count);
}

TEST_F(api, replace_is_atomic)
{
	struct rule set[3] = {
		{ .proto = IPPROTO_TCP, .port_min = 443, .to_min = 8443 },
		{ .proto = IPPROTO_UDP, .port_min = 53, .to_min = 5353 },
		{ .proto = IPPROTO_TCP, .port_min = 400, .port_max = 500, .to_min = 1 },
	};
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));

	/* the third rule overlaps the first: nothing changes */
	msg_rules(self->m, self->nl.family, set, 3);
	EXPECT_EQ(-EEXIST, nl_talk(&self->nl, self->m, NULL, NULL));
	EXPECT_STREQ("rule overlaps an existing rule", self->nl.extack);
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(80, d.last.port_min);

	msg_rules(self->m, self->nl.family, set, 2);
	EXPECT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(2, d.count);
	EXPECT_EQ(53, d.last.port_min);

	msg_rules(self->m, self->nl.family, set, 0);
	EXPECT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(0, d.count);
}
/*
 * This one, transaction_loads_a_full_table and port_budget load full tables:
 * over the harness's default 30 s under KASAN.
 */
TEST_F_TIMEOUT(api, replace_full_table, 300)
{
	int size = MSG_SIZE;
	struct dump d;
	int port;

	ASSERT_EQ(0, setsockopt(self->nl.fd, SOL_SOCKET, SO_SNDBUFFORCE,
				&size, sizeof(size)));
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_REPLACE);
	for (port = 1; port <= 65535; port++) {
		struct rule tcp = { .proto = IPPROTO_TCP, .port_min = port,
				    .to_min = port };
		struct rule udp = { .proto = IPPROTO_UDP, .port_min = port,
				    .to_min = 65536 - port };

		msg_rule(self->m, &tcp);
		msg_rule(self->m, &udp);
	}
	ASSERT_GT(self->m->nlh->nlmsg_len, 65536);
	ASSERT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(2 * 65535, d.count);
	EXPECT_EQ(IPPROTO_UDP, d.last.proto);
	EXPECT_EQ(65535, d.last.port_min);
	EXPECT_EQ(1, d.last.to_min);
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_FLUSH);
	EXPECT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
}

TEST_F(api, dump_many_rules_in_parts)
{
	struct dump d;
	int i;

	/* more rules than one dump skb holds */
	for (i = 1; i <= 600; i++) {
		struct rule r = { .proto = IPPROTO_UDP, .port_min = 10000 + i,
				  .to_min = 20000 + i };

		ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &r));
	}
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(600, d.count);
	EXPECT_EQ(10600, d.last.port_min);
	EXPECT_EQ(20600, d.last.to_min);
}
TEST_F(api, interface_rule_goes_with_interface)
{
	struct rule r = { .proto = IPPROTO_TCP, .port_min = 80, .to_min = 8080,
			  .direction = PORTREDIR_DIR_INBOUND };
	struct dump d;

	ASSERT_EQ(0, system("ip link add prtest0 type dummy"));
	r.ifindex = if_nametoindex("prtest0");
	ASSERT_NE(0, r.ifindex);
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &r));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(r.ifindex, d.last.ifindex);
	ASSERT_EQ(0, system("ip link del prtest0"));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(0, d.count);
}

/* The rules of @t in the order a dump gives: protocol, then PORT_MIN. */
static int table_in_dump_order(const struct table *t)
{
	int i;

	for (i = 1; i < t->n; i++) {
		const struct rule *a = &t->rules[i - 1], *b = &t->rules[i];

		if (a->proto > b->proto ||
		    (a->proto == b->proto && a->port_min > b->port_min))
			return 0;
	}
	return 1;
}

/*
 * A dump of more parts than one: the first part read, the table changed
 * from another socket, the rest read. The messages after the change carry
 * NLM_F_DUMP_INTR, the first part does not, nor does an undisturbed dump,
 * which gives every rule once, in order.
 */
TEST_F(api, dump_interrupted_by_a_change)
{
	const int n = 3000;
	struct table t = { 0 };
	struct dump d = { .table = &t };
	struct nl other;
	int i, first;

	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_REPLACE);
	for (i = 1; i <= n; i++) {
		/* sent out of order, over both protocols */
		struct rule r = { .proto = i % 2 ? IPPROTO_UDP : IPPROTO_TCP,
				  .port_min = 10000 + (i * 7919) % n, .to_min = 1 };

		msg_rule(self->m, &r);
	}
	ASSERT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
	ASSERT_EQ(0, dump_table(&self->nl, self->m, &t));
	ASSERT_EQ(n, t.n);
	EXPECT_FALSE(t.intr);
	EXPECT_TRUE(table_in_dump_order(&t));
	table_sort(&t);
	for (i = 1; i < n; i++)
		EXPECT_NE(0, rule_cmp(&t.rules[i - 1], &t.rules[i]));

	ASSERT_EQ(0, nl_open(&other));
	t.n = 0;
	msg_init(self->m, self->nl.family, NLM_F_DUMP, PORTREDIR_CMD_GET);
	ASSERT_EQ(0, nl_send(&self->nl, self->m));
	ASSERT_EQ(1, nl_read(&self->nl, self->nl.seq, dump_cb, &d, 1))
		TH_LOG("the whole dump came in one datagram");
	first = t.n;
	EXPECT_LT(0, first);
	EXPECT_GT(n, first);
	EXPECT_FALSE(self->nl.flags_seen & NLM_F_DUMP_INTR);
	ASSERT_EQ(0, rule_cmd(&other, self->m, PORTREDIR_CMD_ADD, &http));
	self->nl.flags_seen = 0;
	ASSERT_EQ(0, nl_read(&self->nl, self->nl.seq, dump_cb, &d, 0));
	EXPECT_TRUE(self->nl.flags_seen & NLM_F_DUMP_INTR);
	/* the next dump is whole again */
	ASSERT_EQ(0, dump_table(&self->nl, self->m, &t));
	EXPECT_EQ(n + 1, t.n);
	EXPECT_FALSE(t.intr);
	EXPECT_TRUE(table_in_dump_order(&t));
	close(other.fd);
	table_free(&t);
}

/* One notification: its command and the rule it carries, if any. */
struct notice {
	uint8_t cmd, version;
	int has_rule, payload;
	struct rule rule;
};

static int read_notice(int fd, struct notice *n)
{
	char buf[4096];
	const struct genlmsghdr *g;
	const struct nlattr *a;
	struct nlmsghdr *h;
	ssize_t len;

	memset(n, 0, sizeof(*n));
	len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (len < 0)
		return -errno;
	h = (void *)buf;
	if (!NLMSG_OK(h, len))
		return -EBADMSG;
	g = NLMSG_DATA(h);
	n->cmd = g->cmd;
	n->version = g->version;
	n->payload = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	a = attr_find(g + 1, n->payload, PORTREDIR_A_RULE);
	n->has_rule = !!a;
	if (a)
		rule_from_nest(a, &n->rule);
	return 0;
}

static int rule_equal(const struct rule *a, const struct rule *b)
{
	return !rule_cmp(a, b);
}

/* Notifications carry the rule completed as a dump shows it. */
TEST_F(api, monitor_payloads)
{
	struct rule lo = { .proto = IPPROTO_TCP, .port_min = 8000, .port_max = 8009,
			   .to_min = 9000, .family = PORTREDIR_FAMILY_IPV6,
			   .direction = PORTREDIR_DIR_INBOUND, .ifindex = 1 };
	struct rule lo_full = lo, udp_full = udp53;
	struct rule set[2] = { http, udp53 };
	struct notice n;
	struct nl mon;

	lo_full.to_max = 9000;
	udp_full.port_max = 53;
	udp_full.to_max = 5353;
	udp_full.family = PORTREDIR_FAMILY_ALL;
	udp_full.direction = PORTREDIR_DIR_ALL;
	ASSERT_EQ(0, system("ip link set lo up"));
	ASSERT_EQ(0, nl_open(&mon));
	ASSERT_NE(0, mon.mcgrp);
	ASSERT_EQ(0, nl_subscribe(&mon));

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &lo));
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_ADD, n.cmd);
	EXPECT_EQ(PORTREDIR_GENL_VERSION, n.version);
	ASSERT_TRUE(n.has_rule);
	EXPECT_TRUE(rule_equal(&lo_full, &n.rule));

	/* a refused change is not announced */
	EXPECT_EQ(-EEXIST, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &lo));
	EXPECT_EQ(-EAGAIN, read_notice(mon.fd, &n));

	lo.to_min = 0;
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &lo));
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_DEL, n.cmd);
	ASSERT_TRUE(n.has_rule);
	EXPECT_TRUE(rule_equal(&lo_full, &n.rule));
	EXPECT_EQ(-ENOENT, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &lo));
	EXPECT_EQ(-EAGAIN, read_notice(mon.fd, &n));

	/* REPLACE: a flush, then one ADD per rule */
	msg_rules(self->m, self->nl.family, set, 2);
	ASSERT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_FLUSH, n.cmd);
	EXPECT_EQ(0, n.payload);
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_ADD, n.cmd);
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_ADD, n.cmd);
	EXPECT_TRUE(rule_equal(&udp_full, &n.rule) || n.rule.proto == IPPROTO_TCP);
	EXPECT_EQ(-EAGAIN, read_notice(mon.fd, &n));

	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_FLUSH);
	ASSERT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_FLUSH, n.cmd);
	EXPECT_EQ(0, n.payload);
	EXPECT_EQ(-EAGAIN, read_notice(mon.fd, &n));
	close(mon.fd);
}

/* A change is announced in its own namespace only. */
TEST_F(api, monitor_stays_in_its_namespace)
{
	struct nl mon_a, mon_b, nl_b;
	struct notice n;
	struct dump d;

	ASSERT_EQ(0, nl_open(&mon_a));
	ASSERT_EQ(0, nl_subscribe(&mon_a));
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, nl_open(&nl_b));
	ASSERT_EQ(0, nl_open(&mon_b));
	ASSERT_EQ(0, nl_subscribe(&mon_b));

	ASSERT_EQ(0, rule_cmd(&nl_b, self->m, PORTREDIR_CMD_ADD, &udp53));
	ASSERT_EQ(0, read_notice(mon_b.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_ADD, n.cmd);
	EXPECT_EQ(-EAGAIN, read_notice(mon_a.fd, &n));

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, read_notice(mon_a.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_ADD, n.cmd);
	EXPECT_EQ(80, n.rule.port_min);
	EXPECT_EQ(-EAGAIN, read_notice(mon_b.fd, &n));

	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_FLUSH);
	ASSERT_EQ(0, nl_talk(&nl_b, self->m, NULL, NULL));
	ASSERT_EQ(0, read_notice(mon_b.fd, &n));
	EXPECT_EQ(-EAGAIN, read_notice(mon_a.fd, &n));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(80, d.last.port_min);
	ASSERT_EQ(0, dump_rules(&nl_b, self->m, &d));
	EXPECT_EQ(0, d.count);
	close(mon_a.fd);
	close(mon_b.fd);
	close(nl_b.fd);
}

/* CAP_NET_ADMIN in the effective set, on or off (it stays permitted). */
static int net_admin_effective(int on)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	if (on)
		data[0].effective |= 1u << CAP_NET_ADMIN;
	else
		data[0].effective &= ~(1u << CAP_NET_ADMIN);
	return syscall(SYS_capset, &hdr, data);
}

/* Every change refused with EPERM, without a message; nothing changed. */
static void expect_changes_refused(struct __test_metadata *_metadata,
				   struct nl *nl, struct nl *reader, struct msg *m)
{
	struct table before = { 0 }, after = { 0 };
	char why[1024];

	ASSERT_EQ(0, dump_table(reader, m, &before));
	EXPECT_EQ(-EPERM, rule_cmd(nl, m, PORTREDIR_CMD_ADD, &udp53));
	EXPECT_STREQ("", nl->extack);
	EXPECT_FALSE(nl->has_offs);
	EXPECT_EQ(-EPERM, rule_cmd(nl, m, PORTREDIR_CMD_DEL, &http_selector));
	msg_init(m, nl->family, 0, PORTREDIR_CMD_FLUSH);
	EXPECT_EQ(-EPERM, nl_talk(nl, m, NULL, NULL));
	msg_rules(m, nl->family, &udp53, 1);
	EXPECT_EQ(-EPERM, nl_talk(nl, m, NULL, NULL));
	ASSERT_EQ(0, dump_table(reader, m, &after));
	EXPECT_EQ(0, table_diff(&before, &after, why, sizeof(why)))
		TH_LOG("%s", why);
	table_free(&before);
	table_free(&after);
}

/* A socket opened with the privilege and used without it. */
TEST_F(api, privileged_socket_used_unprivileged)
{
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, net_admin_effective(0));
	expect_changes_refused(_metadata, &self->nl, &self->nl, self->m);
	/* reading needs no privilege */
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(80, d.last.port_min);
}

/*
 * A socket opened without the privilege, used by a privileged process
 * (passed to it, say): the opener's credentials count too.
 */
TEST_F(api, unprivileged_socket_used_privileged)
{
	struct nl weak;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, net_admin_effective(0));
	ASSERT_EQ(0, nl_open(&weak));
	ASSERT_EQ(0, net_admin_effective(1));
	expect_changes_refused(_metadata, &weak, &self->nl, self->m);
	close(weak.fd);
}

/* Without the privilege, GET and the monitor group work all the same. */
TEST_F(api, get_and_monitor_unprivileged)
{
	struct nl weak;
	struct notice n;
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, net_admin_effective(0));
	ASSERT_EQ(0, nl_open(&weak));
	ASSERT_EQ(0, nl_subscribe(&weak));
	ASSERT_EQ(0, dump_rules(&weak, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(80, d.last.port_min);
	EXPECT_EQ(8080, d.last.to_min);
	ASSERT_EQ(0, net_admin_effective(1));
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &udp53));
	ASSERT_EQ(0, read_notice(weak.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_ADD, n.cmd);
	EXPECT_EQ(53, n.rule.port_min);
	close(weak.fd);
}

/* A user namespace whose root is the caller's user. */
static int enter_userns(void)
{
	if (unshare(CLONE_NEWUSER))
		return -errno;
	if (write_file("/proc/self/uid_map", "0 0 1") ||
	    write_file("/proc/self/setgroups", "deny") ||
	    write_file("/proc/self/gid_map", "0 0 1"))
		return -EPERM;
	return 0;
}

/* The root of a user namespace manages the network namespaces it owns... */
TEST_F(api, userns_root_in_its_netns)
{
	struct rule dev = { .proto = IPPROTO_TCP, .port_min = 443, .to_min = 8443,
			    .direction = PORTREDIR_DIR_INBOUND };
	struct nl own;
	struct dump d;

	ASSERT_EQ(0, enter_userns());
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, nl_open(&own));
	ASSERT_EQ(0, rule_cmd(&own, self->m, PORTREDIR_CMD_ADD, &http));
	dev.ifindex = dummy_add("userns0");
	ASSERT_LT(0, (int)dev.ifindex);
	ASSERT_EQ(0, rule_cmd(&own, self->m, PORTREDIR_CMD_ADD, &dev));
	ASSERT_EQ(0, dump_rules(&own, self->m, &d));
	EXPECT_EQ(2, d.count);
	ASSERT_EQ(0, rule_cmd(&own, self->m, PORTREDIR_CMD_DEL, &http_selector));
	msg_rules(self->m, own.family, &udp53, 1);
	ASSERT_EQ(0, nl_talk(&own, self->m, NULL, NULL));
	ASSERT_EQ(0, dump_rules(&own, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(53, d.last.port_min);
	msg_init(self->m, own.family, 0, PORTREDIR_CMD_FLUSH);
	ASSERT_EQ(0, nl_talk(&own, self->m, NULL, NULL));
	/* ...and no other: the socket of the namespace it left */
	expect_changes_refused(_metadata, &self->nl, &self->nl, self->m);
	close(own.fd);
}

/* ...and not one it does not own, however its socket was opened. */
TEST_F(api, userns_root_in_a_netns_it_does_not_own)
{
	struct nl weak;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, enter_userns());
	ASSERT_EQ(0, nl_open(&weak));
	expect_changes_refused(_metadata, &weak, &weak, self->m);
	expect_changes_refused(_metadata, &self->nl, &weak, self->m);
	close(weak.fd);
}

#define CGROUP_ROOT "/sys/fs/cgroup"

/*
 * The cgroup v2 hierarchy with its memory controller, mounted in a mount
 * namespace of our own when nothing is mounted there (the test VM); NULL
 * when there is none, with the reason in @why.
 */
static const char *memcg_prepare(const char **why)
{
	char controllers[256];

	if (read_file(CGROUP_ROOT "/cgroup.controllers", controllers,
		      sizeof(controllers)) < 0) {
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL)) {
			*why = "cannot mount cgroup2 on " CGROUP_ROOT;
			return NULL;
		}
		if (read_file(CGROUP_ROOT "/cgroup.controllers", controllers,
			      sizeof(controllers)) < 0) {
			*why = "no cgroup v2 hierarchy";
			return NULL;
		}
	}
	if (!strstr(controllers, "memory")) {
		*why = "no memory controller in the cgroup v2 hierarchy";
		return NULL;
	}
	if (write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory")) {
		*why = "cannot enable the memory controller for child cgroups";
		return NULL;
	}
	return CGROUP_ROOT;
}

/*
 * Sends @m from a child moved into cgroup @procs, which does nothing else
 * there, and reads the answer here; -EINTR when the cgroup's OOM killer
 * ended the child instead.
 */
static int talk_from_cgroup(struct nl *nl, struct msg *m, const char *procs)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(write_file(procs, "0") || nl_send(nl, m));
	waitpid(pid, &status, 0);
	/* the child used our next sequence number */
	nl->seq++;
	nl_forget(nl);
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return nl_read(nl, nl->seq, NULL, NULL, 0);
	while (recv(nl->fd, NULL, 0, MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;
	return WIFSIGNALED(status) ? -EINTR : -ECHILD;
}

/*
 * A rule that the caller's memory cgroup cannot pay for: ENOMEM with a
 * message, nothing changed (the cgroup's OOM killer must not be the
 * answer); the same rule fits from outside the cgroup.
 */
TEST_F(api, memcg_limit_gives_enomem)
{
	struct rule big = { .proto = IPPROTO_UDP, .port_min = 1, .port_max = 65535,
			    .to_min = 1 };
	struct table before = { 0 }, after = { 0 };
	char dir[128], path[192], why_diff[1024];
	const char *root, *why = NULL;
	int err;

	root = memcg_prepare(&why);
	if (!root)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, dump_table(&self->nl, self->m, &before));
	snprintf(dir, sizeof(dir), "%s/portredir-netlink-api-%d", root, getpid());
	ASSERT_EQ(0, mkdir(dir, 0755));
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	ASSERT_EQ(0, write_file(path, "262144"));
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);

	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_ADD);
	msg_rule(self->m, &big);
	err = talk_from_cgroup(&self->nl, self->m, path);
	EXPECT_EQ(0, rmdir(dir));
	EXPECT_EQ(-ENOMEM, err)
		TH_LOG("%s", err == -EINTR ? "the cgroup's OOM killer ended the caller" : "");
	EXPECT_STREQ("out of memory for the rule", self->nl.extack);
	ASSERT_EQ(0, dump_table(&self->nl, self->m, &after));
	EXPECT_EQ(0, table_diff(&before, &after, why_diff, sizeof(why_diff)))
		TH_LOG("%s", why_diff);
	EXPECT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &big));
	table_free(&before);
	table_free(&after);
}

static int txn_cmd(struct nl *nl, struct msg *m, uint8_t cmd)
{
	msg_init(m, nl->family, 0, cmd);
	return nl_talk(nl, m, NULL, NULL);
}

static int txn_rules(struct nl *nl, struct msg *m, const struct rule *r, int n)
{
	int i;

	msg_init(m, nl->family, 0, PORTREDIR_CMD_REPLACE_RULES);
	for (i = 0; i < n; i++)
		msg_rule(m, &r[i]);
	return nl_talk(nl, m, NULL, NULL);
}

/* One transaction per namespace, owned by the socket that began it. */
TEST_F(api, txn_begin_from_a_second_socket)
{
	struct nl other;
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, nl_open(&other));
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	EXPECT_EQ(-EBUSY, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	EXPECT_STREQ("another socket has a replace transaction in progress",
		     other.extack);
	EXPECT_EQ(-ENOENT, txn_rules(&other, self->m, &udp53, 1));
	EXPECT_STREQ(E_NOTXN, other.extack);
	EXPECT_EQ(-ENOENT, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	EXPECT_EQ(-ENOENT, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_ABORT));
	/* the owner's transaction went on regardless */
	ASSERT_EQ(0, txn_rules(&self->nl, self->m, &udp53, 1));
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	ASSERT_EQ(0, dump_rules(&other, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(53, d.last.port_min);
	/* and once it is over, anyone may begin */
	EXPECT_EQ(0, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	close(other.fd);
}

/* Closing the socket discards its transaction: nothing changes. */
TEST_F(api, txn_discarded_on_close)
{
	struct nl owner, other;
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, nl_open(&owner));
	ASSERT_EQ(0, txn_cmd(&owner, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	ASSERT_EQ(0, txn_rules(&owner, self->m, &udp53, 1));
	close(owner.fd);
	ASSERT_EQ(0, nl_open(&other));
	EXPECT_EQ(0, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_BEGIN))
		TH_LOG("the closed socket's transaction is still there");
	EXPECT_EQ(0, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_ABORT));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(80, d.last.port_min);
	close(other.fd);
}

/*
 * Staged rules are invisible until COMMIT, which swaps them in at once,
 * announced as REPLACE is; a second BEGIN starts over.
 */
TEST_F(api, txn_commit_is_atomic)
{
	struct rule first[2] = {
		{ .proto = IPPROTO_TCP, .port_min = 443, .to_min = 8443 },
		{ .proto = IPPROTO_TCP, .port_min = 444, .to_min = 8444 },
	};
	struct rule second = { .proto = IPPROTO_SCTP, .port_min = 9, .to_min = 10 };
	struct notice n;
	struct nl mon;
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, nl_open(&mon));
	ASSERT_EQ(0, nl_subscribe(&mon));
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	ASSERT_EQ(0, txn_rules(&self->nl, self->m, &udp53, 1));
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	ASSERT_EQ(0, txn_rules(&self->nl, self->m, first, 2));
	ASSERT_EQ(0, txn_rules(&self->nl, self->m, &second, 1));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(80, d.last.port_min);
	EXPECT_EQ(-EAGAIN, read_notice(mon.fd, &n));
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(3, d.count);
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_FLUSH, n.cmd);
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_ADD, n.cmd);
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_ADD, n.cmd);
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_ADD, n.cmd);
	EXPECT_EQ(-EAGAIN, read_notice(mon.fd, &n));
	EXPECT_EQ(-ENOENT, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	close(mon.fd);
}

/* An interface a staged rule names goes away before COMMIT. */
TEST_F(api, txn_commit_after_interface_went_away)
{
	struct rule dev = { .proto = IPPROTO_TCP, .port_min = 443, .to_min = 8443,
			    .direction = PORTREDIR_DIR_INBOUND };
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	dev.ifindex = dummy_add("txn0");
	ASSERT_LT(0, (int)dev.ifindex);
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	ASSERT_EQ(0, txn_rules(&self->nl, self->m, &dev, 1));
	ASSERT_EQ(0, system("ip link del txn0"));
	EXPECT_EQ(-ENODEV, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	EXPECT_STREQ("interface went away", self->nl.extack);
	EXPECT_EQ(-ENOENT, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(80, d.last.port_min);
}

/*
 * The root of a user namespace cannot raise its socket buffer past
 * wmem_max: one REPLACE of 65,535 rules is too big to send, and the
 * transaction carries them in messages of the default size.
 */
TEST_F_TIMEOUT(api, txn_full_table_from_userns_root, 600)
{
	const int per_message = 4000;
	int sndbuf, port = 1, i;
	socklen_t len = sizeof(sndbuf);
	struct rule r = { .proto = IPPROTO_TCP };
	struct dump d;
	struct nl own;

	ASSERT_EQ(0, enter_userns());
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, nl_open(&own));
	ASSERT_EQ(0, getsockopt(own.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len));
	msg_init(self->m, own.family, 0, PORTREDIR_CMD_REPLACE);
	for (port = 1; port <= 65535; port++) {
		r.port_min = r.to_min = port;
		msg_rule(self->m, &r);
	}
	ASSERT_LT(sndbuf, (int)self->m->nlh->nlmsg_len);
	EXPECT_EQ(-EMSGSIZE, nl_talk(&own, self->m, NULL, NULL));

	ASSERT_EQ(0, txn_cmd(&own, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	for (port = 1; port <= 65535;) {
		msg_init(self->m, own.family, 0, PORTREDIR_CMD_REPLACE_RULES);
		for (i = 0; i < per_message && port <= 65535; i++, port++) {
			r.port_min = r.to_min = port;
			msg_rule(self->m, &r);
		}
		ASSERT_GT(sndbuf, (int)self->m->nlh->nlmsg_len);
		ASSERT_EQ(0, nl_talk(&own, self->m, NULL, NULL))
			TH_LOG("REPLACE_RULES up to port %d: %s", port - 1, own.extack);
	}
	ASSERT_EQ(0, txn_cmd(&own, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	ASSERT_EQ(0, dump_rules(&own, self->m, &d));
	EXPECT_EQ(65535, d.count);
	EXPECT_EQ(65535, d.last.port_min);
	EXPECT_EQ(65535, d.last.to_min);
	close(own.fd);
}

/* Sends the TCP and UDP rules of ports [first, last] in one REPLACE_RULES. */
static int txn_port_rules(struct nl *nl, struct msg *m, int first, int last)
{
	int port;

	msg_init(m, nl->family, 0, PORTREDIR_CMD_REPLACE_RULES);
	for (port = first; port <= last; port++) {
		struct rule tcp = { .proto = IPPROTO_TCP, .port_min = port,
				    .to_min = port };
		struct rule udp = { .proto = IPPROTO_UDP, .port_min = port,
				    .to_min = 65536 - port };

		msg_rule(m, &tcp);
		msg_rule(m, &udp);
	}
	return nl_talk(nl, m, NULL, NULL);
}

/*
 * The budget refusal names the limit and, where the kernel can format an
 * extack (6.2 and later), its value from the module parameter.
 */
static int budget_message_is(const char *got, const char *kind,
			     const char *unit, const char *param)
{
	char path[128], want[128];
	unsigned int value = 0;
	FILE *f;

	snprintf(want, sizeof(want), "%s budget of this namespace is full (parameter %s)",
		 kind, param);
	if (!strcmp(got, want))
		return 1;
	snprintf(path, sizeof(path), "/sys/module/portredir/parameters/%s", param);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%u", &value) != 1)
		value = 0;
	if (f)
		fclose(f);
	snprintf(want, sizeof(want), "%s budget of this namespace is full (%u %s, parameter %s)",
		 kind, value, unit, param);
	return !strcmp(got, want);
}

/* A full table over messages that fit the default socket buffer. */
TEST_F_TIMEOUT(api, transaction_loads_a_full_table, 300)
{
	struct rule sctp = { .proto = IPPROTO_SCTP, .port_min = 1, .to_min = 2 };
	struct dump d;
	int port;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	for (port = 1; port <= 65535; port += 1000)
		ASSERT_EQ(0, txn_port_rules(&self->nl, self->m, port,
				       port + 999 < 65535 ? port + 999 : 65535));
	/* nothing shows before the commit */
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(2 * 65535, d.count);
	EXPECT_EQ(IPPROTO_UDP, d.last.proto);
	EXPECT_EQ(65535, d.last.port_min);
	EXPECT_EQ(1, d.last.to_min);
	/* the transaction ended with its commit */
	EXPECT_EQ(-ENOENT, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));

	/* two more rules fit the default budget of 131072, a third does not */
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &sctp));
	sctp.port_min = 2;
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &sctp));
	sctp.port_min = 3;
	EXPECT_EQ(-ENOSPC, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &sctp));
	EXPECT_TRUE(budget_message_is(self->nl.extack, "rule", "rules", "max_rules"))
		TH_LOG("extack: %s", self->nl.extack);
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(2 * 65535 + 2, d.count);
	EXPECT_EQ(2, d.last.port_min);
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_FLUSH);
	EXPECT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
}

TEST_F(api, transaction_needs_a_begin)
{
	struct dump d;

	EXPECT_EQ(-ENOENT, txn_port_rules(&self->nl, self->m, 80, 80));
	EXPECT_STREQ("this socket has no replace transaction in progress",
		     self->nl.extack);
	EXPECT_EQ(-ENOENT, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	EXPECT_STREQ("this socket has no replace transaction in progress",
		     self->nl.extack);
	EXPECT_EQ(-ENOENT, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_ABORT));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(0, d.count);
	/* an aborted transaction commits nothing */
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	ASSERT_EQ(0, txn_port_rules(&self->nl, self->m, 80, 80));
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_ABORT));
	EXPECT_EQ(-ENOENT, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(0, d.count);
}

TEST_F(api, transaction_belongs_to_its_socket)
{
	struct dump d;
	struct nl other;

	ASSERT_EQ(0, nl_open(&other));
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	ASSERT_EQ(0, txn_port_rules(&self->nl, self->m, 80, 80));
	EXPECT_EQ(-EBUSY, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	EXPECT_STREQ("another socket has a replace transaction in progress",
		     other.extack);
	EXPECT_EQ(-ENOENT, txn_port_rules(&other, self->m, 81, 81));
	EXPECT_EQ(-ENOENT, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	/* its owner begins again: the rules sent so far are gone */
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	ASSERT_EQ(0, txn_port_rules(&self->nl, self->m, 443, 443));
	/* closing the owner discards it: the other socket may begin */
	close(self->nl.fd);
	ASSERT_EQ(0, nl_open(&self->nl));
	EXPECT_EQ(-ENOENT, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	ASSERT_EQ(0, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	ASSERT_EQ(0, txn_port_rules(&other, self->m, 22, 22));
	ASSERT_EQ(0, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(2, d.count);
	EXPECT_EQ(22, d.last.port_min);
	close(other.fd);
}

TEST_F(api, transaction_refused_rule_discards_it)
{
	struct rule bad = { .proto = IPPROTO_TCP, .port_min = 22, .to_min = 2222 };
	uint32_t offset;
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	ASSERT_EQ(0, txn_port_rules(&self->nl, self->m, 20, 22));
	/* its second rule overlaps one of the earlier message */
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_REPLACE_RULES);
	msg_rule(self->m, &http);
	offset = (char *)msg_tail(self->m) - (char *)self->m->nlh;
	msg_rule(self->m, &bad);
	EXPECT_EQ(-EEXIST, nl_talk(&self->nl, self->m, NULL, NULL));
	EXPECT_STREQ("rule already exists", self->nl.extack);
	EXPECT_EQ(offset, self->nl.bad_attr);
	EXPECT_EQ(-ENOENT, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(80, d.last.port_min);
}

TEST_F_TIMEOUT(api, port_budget, 300)
{
	/* four 1-65535 rules that do not overlap: 262140 of 262144 ports */
	struct rule r = { .proto = IPPROTO_TCP, .port_min = 1, .port_max = 65535,
			  .to_min = 1, .to_max = 65535 };
	uint8_t families[] = { PORTREDIR_FAMILY_IPV4, PORTREDIR_FAMILY_IPV6 };
	uint8_t directions[] = { PORTREDIR_DIR_INBOUND, PORTREDIR_DIR_LOCAL };
	struct dump d;
	int i;

	for (i = 0; i < 4; i++) {
		r.family = families[i / 2];
		r.direction = directions[i % 2];
		ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &r));
	}
	r.proto = IPPROTO_UDP;
	EXPECT_EQ(-ENOSPC, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &r));
	EXPECT_TRUE(budget_message_is(self->nl.extack, "port", "ports", "max_ports"))
		TH_LOG("extack: %s", self->nl.extack);
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(4, d.count);
	/* the ports left still take a rule */
	r.port_max = 4;
	r.to_max = 4;
	EXPECT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &r));
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_FLUSH);
	EXPECT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
}

/*
 * The module parameters as they were before any row changed them, put
 * back on exit even when a row could not restore them itself (killed by
 * its timeout): the tests that run after this program need the defaults.
 */
static char saved_max_rules[32], saved_max_ports[32];

static void params_restore(void)
{
	if (saved_max_rules[0])
		param_set("max_rules", saved_max_rules);
	if (saved_max_ports[0])
		param_set("max_ports", saved_max_ports);
}

static int kernel_release_of(const char *release)
{
	int major, minor;

	if (sscanf(release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major * 100 + minor;
}

/*
 * Rules sharing ports (other interfaces, families, directions) share a
 * slot of the port index: they must all come back, and go, one by one.
 */
TEST_F(api, rules_sharing_ports)
{
	struct rule r[4] = {
		{ .proto = IPPROTO_TCP, .port_min = 80, .port_max = 90, .to_min = 8080,
		  .family = PORTREDIR_FAMILY_IPV4, .direction = PORTREDIR_DIR_INBOUND },
		{ .proto = IPPROTO_TCP, .port_min = 80, .port_max = 90, .to_min = 8081,
		  .family = PORTREDIR_FAMILY_IPV4, .direction = PORTREDIR_DIR_INBOUND },
		{ .proto = IPPROTO_TCP, .port_min = 85, .to_min = 8082,
		  .family = PORTREDIR_FAMILY_IPV4, .direction = PORTREDIR_DIR_LOCAL },
		{ .proto = IPPROTO_TCP, .port_min = 70, .port_max = 85, .to_min = 8083,
		  .family = PORTREDIR_FAMILY_IPV6 },
	};
	struct rule sel;
	struct dump d;
	int i;

	ASSERT_EQ(0, system("ip link add prtest0 type dummy && ip link add prtest1 type dummy"));
	r[0].ifindex = if_nametoindex("prtest0");
	r[1].ifindex = if_nametoindex("prtest1");
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &r[i]));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(4, d.count);
	EXPECT_EQ(85, d.last.port_min);
	EXPECT_EQ(8082, d.last.to_min);
	/* a fifth rule on port 85 overlaps one of each kind */
	sel = r[2];
	sel.to_min = 1;
	EXPECT_EQ(-EEXIST, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &sel));
	/* deleted in another order than added */
	sel = r[1];
	sel.to_min = 0;
	EXPECT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &sel));
	sel = r[2];
	sel.to_min = 0;
	EXPECT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &sel));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(2, d.count);
	EXPECT_EQ(8080, d.last.to_min);
	/* the freed entries take new rules */
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &r[1]));
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &r[2]));
	ASSERT_EQ(0, system("ip link del prtest0"));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(3, d.count);
	sel = r[3];
	sel.to_min = 0;
	EXPECT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &sel));
	ASSERT_EQ(0, system("ip link del prtest1"));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(85, d.last.port_min);
	EXPECT_EQ(PORTREDIR_DIR_LOCAL, d.last.direction);
}

/*
 * A SKIP in the fixture setup does not stop the test body in every
 * harness version: look for the family once, before any test runs.
 */
int main(int argc, char **argv)
{
	struct utsname uts;
	struct nl nl;
	int err;

	err = nl_open(&nl);
	if (err == -ENOENT) {
		printf("TAP version 13\n1..0 # SKIP portredir module not loaded\n");
		return KSFT_SKIP;
	}
	if (err == 0)
		close(nl.fd);
	if (!uname(&uts))
		kernel_release = kernel_release_of(uts.release);
	if (param_get("max_rules", saved_max_rules, sizeof(saved_max_rules)) &&
	    param_get("max_ports", saved_max_ports, sizeof(saved_max_ports)))
		atexit(params_restore);
	return test_harness_run(argc, argv);
}
