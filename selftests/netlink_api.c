// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink API of portredir.ko, spoken raw: what a client that
 * is not our CLI may send, malformed messages included. Every refusal must
 * come back as an errno with an extack message and change nothing.
 *
 * Each test runs in a network namespace of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/portredir.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define BUF_SIZE 65536
/* room for a REPLACE of every TCP and UDP port */
#define MSG_SIZE (8 << 20)

struct msg {
	char buf[MSG_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *nest[4];
	int depth;
};

struct nl {
	int fd;
	uint16_t family;
	uint32_t mcgrp;
	uint32_t seq;
	char extack[256];
	/* offset in the request of the attribute the extack blames, or 0 */
	uint32_t bad_attr;
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

static void msg_nest_end(struct msg *m)
{
	struct nlattr *a = m->nest[--m->depth];

	a->nla_len = (char *)msg_tail(m) - (char *)a;
}

static void msg_init(struct msg *m, uint16_t type, uint16_t flags, uint8_t cmd)
{
	struct genlmsghdr *g;

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	m->nlh = (struct nlmsghdr *)m->buf;
	m->nlh->nlmsg_type = type;
	m->nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	m->nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->depth = 0;
	g = NLMSG_DATA(m->nlh);
	g->cmd = cmd;
	g->version = PORTREDIR_GENL_VERSION;
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
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
			snprintf(nl->extack, sizeof(nl->extack), "%s",
				 (const char *)a + NLA_HDRLEN);
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_OFFS)
			memcpy(&nl->bad_attr, (const char *)a + NLA_HDRLEN,
			       sizeof(nl->bad_attr));
	}
}

typedef void (*msg_fn)(const struct nlmsghdr *h, void *arg);

/* Sends @m and reads until its ack; returns 0 or a negative errno. */
static int nl_talk(struct nl *nl, struct msg *m, msg_fn fn, void *arg)
{
	static char rbuf[BUF_SIZE];
	struct nlmsghdr *h;
	ssize_t n;

	m->nlh->nlmsg_seq = ++nl->seq;
	nl->extack[0] = '\0';
	nl->bad_attr = 0;
	if (send(nl->fd, m->nlh, m->nlh->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(nl->fd, rbuf, sizeof(rbuf), 0);
		if (n < 0)
			return -errno;
		for (h = (void *)rbuf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != nl->seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				extack_copy(nl, h);
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				extack_copy(nl, h);
				return *(int *)NLMSG_DATA(h);
			}
			if (fn)
				fn(h, arg);
		}
	}
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
	((struct genlmsghdr *)NLMSG_DATA(m->nlh))->version = 1;
	one = nl_talk(nl, m, family_cb, nl);
	free(m);
	return one;
}

struct rule {
	uint8_t proto;
	uint16_t port_min, port_max, to_min, to_max;
	uint8_t family, direction;
	uint32_t ifindex;
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

struct dump {
	int count;
	struct rule last;
	uint64_t connections;
	int has_connections;
};

static void dump_cb(const struct nlmsghdr *h, void *arg)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	const struct nlattr *rule, *a;
	struct dump *d = arg;
	int len;

	rule = attr_find(g + 1, h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
			 PORTREDIR_A_RULE);
	if (!rule)
		return;
	d->count++;
	len = rule->nla_len - NLA_HDRLEN;
	memset(&d->last, 0, sizeof(d->last));
#define GET(attr, field, type) \
	do { \
		a = attr_find(attr_data(rule), len, attr); \
		if (a) \
			d->last.field = *(const type *)attr_data(a); \
	} while (0)
	GET(PORTREDIR_RULE_A_PROTO, proto, uint8_t);
	GET(PORTREDIR_RULE_A_PORT_MIN, port_min, uint16_t);
	GET(PORTREDIR_RULE_A_PORT_MAX, port_max, uint16_t);
	GET(PORTREDIR_RULE_A_TO_PORT_MIN, to_min, uint16_t);
	GET(PORTREDIR_RULE_A_TO_PORT_MAX, to_max, uint16_t);
	GET(PORTREDIR_RULE_A_FAMILY, family, uint8_t);
	GET(PORTREDIR_RULE_A_DIRECTION, direction, uint8_t);
	GET(PORTREDIR_RULE_A_IFINDEX, ifindex, uint32_t);
#undef GET
	a = attr_find(attr_data(rule), len, PORTREDIR_RULE_A_CONNECTIONS);
	d->has_connections = !!a;
	if (a)
		memcpy(&d->connections, attr_data(a), sizeof(d->connections));
}

static int dump_rules(struct nl *nl, struct msg *m, struct dump *d)
{
	memset(d, 0, sizeof(*d));
	msg_init(m, nl->family, NLM_F_DUMP, PORTREDIR_CMD_GET);
	return nl_talk(nl, m, dump_cb, d);
}

static const struct rule http = {
	.proto = IPPROTO_TCP, .port_min = 80, .to_min = 8080,
};

/* What DEL takes to name it. */
static const struct rule http_selector = {
	.proto = IPPROTO_TCP, .port_min = 80,
};

FIXTURE(api) {
	struct nl nl;
	struct msg *m;
};

FIXTURE_SETUP(api)
{
	int err;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	self->m = calloc(1, sizeof(*self->m));
	ASSERT_NE(NULL, self->m);
	err = nl_open(&self->nl);
	if (err == -ENOENT)
		SKIP(return, "portredir module not loaded");
	ASSERT_EQ(0, err);
	ASSERT_NE(0, self->nl.family);
}

FIXTURE_TEARDOWN(api)
{
	close(self->nl.fd);
	free(self->m);
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
	EXPECT_EQ(0, d.connections);
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &http_selector));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(0, d.count);
}

TEST_F(api, duplicate_and_overlap)
{
	struct rule range = { .proto = IPPROTO_TCP, .port_min = 70,
			      .port_max = 90, .to_min = 9000 };
	struct rule v6 = { .proto = IPPROTO_TCP, .port_min = 80, .to_min = 1,
			   .family = PORTREDIR_FAMILY_IPV6 };
	struct rule udp = { .proto = IPPROTO_UDP, .port_min = 80, .to_min = 1 };
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	EXPECT_EQ(-EEXIST, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	EXPECT_STREQ("rule already exists", self->nl.extack);
	EXPECT_EQ(-EEXIST, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &range));
	EXPECT_STREQ("rule overlaps an existing rule", self->nl.extack);
	EXPECT_EQ(-EEXIST, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &v6));
	EXPECT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &udp));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(2, d.count);
}

TEST_F(api, del_missing)
{
	struct rule v4 = http_selector;
	struct dump d;

	EXPECT_EQ(-ENOENT, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &http_selector));
	EXPECT_STREQ("no such rule", self->nl.extack);
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	/* del matches the selector exactly, not any rule covering the port */
	v4.family = PORTREDIR_FAMILY_IPV4;
	EXPECT_EQ(-ENOENT, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &v4));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
}

struct bad_rule {
	const char *name;
	struct rule rule;
	int err;
	const char *extack;
};

static const struct bad_rule bad_rules[] = {
	{ "no protocol", { .port_min = 80, .to_min = 8080 },
	  -EINVAL, "rule needs a protocol" },
	{ "no port", { .proto = IPPROTO_TCP, .to_min = 8080 },
	  -EINVAL, "rule needs a port" },
	{ "no target", { .proto = IPPROTO_TCP, .port_min = 80 },
	  -EINVAL, "rule needs a target port" },
	{ "icmp", { .proto = IPPROTO_ICMP, .port_min = 80, .to_min = 8080 },
	  -EINVAL, "protocol must be TCP, UDP or SCTP" },
	{ "reversed", { .proto = IPPROTO_TCP, .port_min = 90, .port_max = 80,
			.to_min = 8080 }, -EINVAL, "port range is reversed" },
	{ "reversed target", { .proto = IPPROTO_TCP, .port_min = 80,
			       .to_min = 9000, .to_max = 8000 },
	  -EINVAL, "target range is reversed" },
	{ "size mismatch", { .proto = IPPROTO_TCP, .port_min = 80,
			     .port_max = 89, .to_min = 9000, .to_max = 9004 },
	  -EINVAL, NULL },
	{ "family 4", { .proto = IPPROTO_TCP, .port_min = 80, .to_min = 1,
			.family = 4 }, -ERANGE, NULL },
	{ "direction 4", { .proto = IPPROTO_TCP, .port_min = 80, .to_min = 1,
			   .direction = 4 }, -ERANGE, NULL },
	{ "dev on local", { .proto = IPPROTO_TCP, .port_min = 80, .to_min = 1,
			    .ifindex = 1 },
	  -EINVAL, "an interface can only be matched on inbound traffic" },
	{ "no such dev", { .proto = IPPROTO_TCP, .port_min = 80, .to_min = 1,
			   .ifindex = 999, .direction = PORTREDIR_DIR_INBOUND },
	  -ENODEV, "no such interface in this network namespace" },
};

TEST_F(api, bad_rules_change_nothing)
{
	unsigned int i;
	struct dump d;

	for (i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
		const struct bad_rule *b = &bad_rules[i];

		TH_LOG("%s", b->name);
		EXPECT_EQ(b->err, rule_cmd(&self->nl, self->m,
					   PORTREDIR_CMD_ADD, &b->rule));
		EXPECT_NE('\0', self->nl.extack[0]);
		if (b->extack)
			EXPECT_NE(NULL, strstr(self->nl.extack, b->extack));
	}
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(0, d.count);
}

TEST_F(api, policy_rejects_raw_junk)
{
	uint64_t big = 1;
	struct dump d;

	/* port 0 is refused by the range policy, as the kernel does: ERANGE */
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_ADD);
	msg_nest(self->m, PORTREDIR_A_RULE);
	msg_u8(self->m, PORTREDIR_RULE_A_PROTO, IPPROTO_TCP);
	msg_u16(self->m, PORTREDIR_RULE_A_PORT_MIN, 0);
	msg_u16(self->m, PORTREDIR_RULE_A_TO_PORT_MIN, 8080);
	msg_nest_end(self->m);
	EXPECT_EQ(-ERANGE, nl_talk(&self->nl, self->m, NULL, NULL));
	EXPECT_STREQ("integer out of range", self->nl.extack);

	/* output-only counter */
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_ADD);
	msg_nest(self->m, PORTREDIR_A_RULE);
	msg_u8(self->m, PORTREDIR_RULE_A_PROTO, IPPROTO_TCP);
	msg_u16(self->m, PORTREDIR_RULE_A_PORT_MIN, 80);
	msg_u16(self->m, PORTREDIR_RULE_A_TO_PORT_MIN, 8080);
	msg_put(self->m, PORTREDIR_RULE_A_CONNECTIONS, &big, sizeof(big));
	msg_nest_end(self->m);
	EXPECT_EQ(-EINVAL, nl_talk(&self->nl, self->m, NULL, NULL));
	EXPECT_NE('\0', self->nl.extack[0]);

	/* unknown attribute inside the rule: strict validation */
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_ADD);
	msg_nest(self->m, PORTREDIR_A_RULE);
	msg_u8(self->m, PORTREDIR_RULE_A_PROTO, IPPROTO_TCP);
	msg_u16(self->m, PORTREDIR_RULE_A_PORT_MIN, 80);
	msg_u16(self->m, PORTREDIR_RULE_A_TO_PORT_MIN, 8080);
	msg_u32(self->m, 200, 1);
	msg_nest_end(self->m);
	EXPECT_EQ(-EINVAL, nl_talk(&self->nl, self->m, NULL, NULL));

	/* wrong attribute size */
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_ADD);
	msg_nest(self->m, PORTREDIR_A_RULE);
	msg_u32(self->m, PORTREDIR_RULE_A_PROTO, IPPROTO_TCP);
	msg_nest_end(self->m);
	EXPECT_EQ(-EINVAL, nl_talk(&self->nl, self->m, NULL, NULL));

	/* missing rule, and a rule that is not a nest */
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_ADD);
	EXPECT_EQ(-EINVAL, nl_talk(&self->nl, self->m, NULL, NULL));
	EXPECT_STREQ("missing rule", self->nl.extack);
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_ADD);
	msg_u32(self->m, PORTREDIR_A_RULE, 80);
	EXPECT_EQ(-EINVAL, nl_talk(&self->nl, self->m, NULL, NULL));

	/* a nest that claims more than the message holds */
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_ADD);
	msg_nest(self->m, PORTREDIR_A_RULE);
	msg_u8(self->m, PORTREDIR_RULE_A_PROTO, IPPROTO_TCP);
	msg_nest_end(self->m);
	self->m->nest[0]->nla_len += 64;
	EXPECT_EQ(-EINVAL, nl_talk(&self->nl, self->m, NULL, NULL));

	/* reserved genetlink header field set */
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_ADD);
	((struct genlmsghdr *)NLMSG_DATA(self->m->nlh))->reserved = 1;
	msg_rule(self->m, &http);
	EXPECT_EQ(-EINVAL, nl_talk(&self->nl, self->m, NULL, NULL));

	/* unknown command */
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_MAX + 1);
	EXPECT_EQ(-EOPNOTSUPP, nl_talk(&self->nl, self->m, NULL, NULL));

	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(0, d.count);
}

/*
 * PORTREDIR_A_KEEP_CONNTRACK is a flag every command that changes the table
 * takes; requests without it (older userspace) keep working, as every other
 * test shows. A flag carries no payload.
 */
TEST_F(api, keep_conntrack_flag)
{
	static const uint8_t commands[] = {
		PORTREDIR_CMD_ADD, PORTREDIR_CMD_REPLACE, PORTREDIR_CMD_DEL,
	};
	uint32_t payload = 1;
	struct dump d;
	size_t i;

	for (i = 0; i < sizeof(commands); i++) {
		msg_init(self->m, self->nl.family, 0, commands[i]);
		msg_rule(self->m, commands[i] == PORTREDIR_CMD_DEL ?
				  &http_selector : &http);
		msg_put(self->m, PORTREDIR_A_KEEP_CONNTRACK, &payload, 0);
		EXPECT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
		ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
		EXPECT_EQ(commands[i] == PORTREDIR_CMD_DEL ? 0 : 1, d.count);
	}
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_FLUSH);
	msg_put(self->m, PORTREDIR_A_KEEP_CONNTRACK, &payload, 0);
	EXPECT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));

	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_ADD);
	msg_rule(self->m, &http);
	msg_put(self->m, PORTREDIR_A_KEEP_CONNTRACK, &payload, sizeof(payload));
	EXPECT_NE(0, nl_talk(&self->nl, self->m, NULL, NULL));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(0, d.count);
}

static void msg_rules(struct msg *m, uint16_t family, const struct rule *r, int n)
{
	int i;

	msg_init(m, family, 0, PORTREDIR_CMD_REPLACE);
	for (i = 0; i < n; i++)
		msg_rule(m, &r[i]);
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

TEST_F(api, replace_full_table)
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

TEST_F(api, flush)
{
	struct rule udp = { .proto = IPPROTO_UDP, .port_min = 53, .to_min = 5353 };
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &udp));
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_FLUSH);
	EXPECT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(0, d.count);
	/* flushing an empty table is not an error */
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_FLUSH);
	EXPECT_EQ(0, nl_talk(&self->nl, self->m, NULL, NULL));
}

/* Where msg_rule() puts the rule nest, and its attributes inside it. */
#define RULE_OFFSET (NLMSG_HDRLEN + GENL_HDRLEN)
#define RULE_ATTR_OFFSET(n) (RULE_OFFSET + NLA_HDRLEN + (n) * NLA_ALIGN(NLA_HDRLEN + 2))

TEST_F(api, flush_refuses_a_rule)
{
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	/* a FLUSH carrying a "filter" deletes nothing */
	EXPECT_EQ(-EINVAL, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_FLUSH, &http));
	EXPECT_STREQ("FLUSH deletes every rule and takes no attributes",
		     self->nl.extack);
	EXPECT_EQ(RULE_OFFSET, self->nl.bad_attr);
	/* nor does one carrying an attribute the family does not know */
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_FLUSH);
	msg_u32(self->m, PORTREDIR_A_MAX + 1, 1);
	EXPECT_EQ(-EINVAL, nl_talk(&self->nl, self->m, NULL, NULL));
	EXPECT_EQ(RULE_OFFSET, self->nl.bad_attr);
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
}

TEST_F(api, get_refuses_a_filter)
{
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	memset(&d, 0, sizeof(d));
	msg_init(self->m, self->nl.family, NLM_F_DUMP, PORTREDIR_CMD_GET);
	msg_rule(self->m, &http);
	EXPECT_EQ(-EINVAL, nl_talk(&self->nl, self->m, dump_cb, &d));
	EXPECT_STREQ("GET dumps every rule and takes no attributes",
		     self->nl.extack);
	/* the error ends the dump: NLMSG_DONE carries no offset before 6.2 */
	if (self->nl.bad_attr)
		EXPECT_EQ(RULE_OFFSET, self->nl.bad_attr);
	EXPECT_EQ(0, d.count);
}

TEST_F(api, del_refuses_a_target)
{
	struct rule to_max = { .proto = IPPROTO_TCP, .port_min = 80,
			       .to_max = 8080 };
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	/* PROTO, PORT_MIN, then TO_PORT_MIN: the third attribute */
	EXPECT_EQ(-EINVAL, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &http));
	EXPECT_STREQ("DEL takes no target port, only the selector",
		     self->nl.extack);
	EXPECT_EQ(RULE_ATTR_OFFSET(2), self->nl.bad_attr);
	EXPECT_EQ(-EINVAL, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &to_max));
	EXPECT_STREQ("DEL takes no target port, only the selector",
		     self->nl.extack);
	EXPECT_EQ(RULE_ATTR_OFFSET(2), self->nl.bad_attr);
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
}

TEST_F(api, add_refuses_the_counter)
{
	uint64_t zero = 0;
	struct dump d;

	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_ADD);
	msg_nest(self->m, PORTREDIR_A_RULE);
	msg_u8(self->m, PORTREDIR_RULE_A_PROTO, IPPROTO_TCP);
	msg_u16(self->m, PORTREDIR_RULE_A_PORT_MIN, 80);
	msg_u16(self->m, PORTREDIR_RULE_A_TO_PORT_MIN, 8080);
	msg_put(self->m, PORTREDIR_RULE_A_CONNECTIONS, &zero, sizeof(zero));
	msg_nest_end(self->m);
	EXPECT_EQ(-EINVAL, nl_talk(&self->nl, self->m, NULL, NULL));
	EXPECT_STREQ("the connection counter is output only", self->nl.extack);
	EXPECT_EQ(RULE_ATTR_OFFSET(3), self->nl.bad_attr);
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(0, d.count);
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

struct notice {
	uint8_t cmd;
	int count;
};

static void notice_cb(const struct nlmsghdr *h, void *arg)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	struct notice *n = arg;

	n->cmd = g->cmd;
	n->count++;
}

static int read_notice(int fd, struct notice *n)
{
	char buf[4096];
	struct nlmsghdr *h;
	ssize_t len;

	memset(n, 0, sizeof(*n));
	len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (len < 0)
		return -errno;
	for (h = (void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
		notice_cb(h, n);
	return 0;
}

TEST_F(api, monitor_group)
{
	struct notice n;
	struct nl mon;

	ASSERT_EQ(0, nl_open(&mon));
	ASSERT_NE(0, mon.mcgrp);
	ASSERT_EQ(0, setsockopt(mon.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&mon.mcgrp, sizeof(mon.mcgrp)));
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_ADD, n.cmd);
	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &http_selector));
	ASSERT_EQ(0, read_notice(mon.fd, &n));
	EXPECT_EQ(PORTREDIR_CMD_DEL, n.cmd);
	/* a refused change is not announced */
	EXPECT_EQ(-ENOENT, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &http_selector));
	EXPECT_EQ(-EAGAIN, read_notice(mon.fd, &n));
	close(mon.fd);
}

static int drop_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].effective &= ~(1u << CAP_NET_ADMIN);
	data[0].permitted &= ~(1u << CAP_NET_ADMIN);
	return syscall(SYS_capset, &hdr, data);
}

TEST_F(api, unprivileged_is_refused)
{
	struct rule udp = { .proto = IPPROTO_UDP, .port_min = 53, .to_min = 5353 };
	struct dump d;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, drop_net_admin());
	EXPECT_EQ(-EPERM, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &udp));
	EXPECT_EQ(-EPERM, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_DEL, &http_selector));
	msg_init(self->m, self->nl.family, 0, PORTREDIR_CMD_FLUSH);
	EXPECT_EQ(-EPERM, nl_talk(&self->nl, self->m, NULL, NULL));
	msg_rules(self->m, self->nl.family, &udp, 1);
	EXPECT_EQ(-EPERM, nl_talk(&self->nl, self->m, NULL, NULL));
	/* reading needs no privilege, and nothing changed */
	ASSERT_EQ(0, dump_rules(&self->nl, self->m, &d));
	EXPECT_EQ(1, d.count);
	EXPECT_EQ(80, d.last.port_min);
}

/* The replace transaction (REPLACE_BEGIN, _RULES, _COMMIT, _ABORT). */

static int txn_cmd(struct nl *nl, struct msg *m, uint8_t cmd)
{
	msg_init(m, nl->family, 0, cmd);
	return nl_talk(nl, m, NULL, NULL);
}

/* Sends the TCP and UDP rules of ports [first, last] in one REPLACE_RULES. */
static int txn_rules(struct nl *nl, struct msg *m, int first, int last)
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
TEST_F(api, transaction_loads_a_full_table)
{
	struct rule sctp = { .proto = IPPROTO_SCTP, .port_min = 1, .to_min = 2 };
	struct dump d;
	int port;

	ASSERT_EQ(0, rule_cmd(&self->nl, self->m, PORTREDIR_CMD_ADD, &http));
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	for (port = 1; port <= 65535; port += 1000)
		ASSERT_EQ(0, txn_rules(&self->nl, self->m, port,
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

	EXPECT_EQ(-ENOENT, txn_rules(&self->nl, self->m, 80, 80));
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
	ASSERT_EQ(0, txn_rules(&self->nl, self->m, 80, 80));
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
	ASSERT_EQ(0, txn_rules(&self->nl, self->m, 80, 80));
	EXPECT_EQ(-EBUSY, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	EXPECT_STREQ("another socket has a replace transaction in progress",
		     other.extack);
	EXPECT_EQ(-ENOENT, txn_rules(&other, self->m, 81, 81));
	EXPECT_EQ(-ENOENT, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	/* its owner begins again: the rules sent so far are gone */
	ASSERT_EQ(0, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	ASSERT_EQ(0, txn_rules(&self->nl, self->m, 443, 443));
	/* closing the owner discards it: the other socket may begin */
	close(self->nl.fd);
	ASSERT_EQ(0, nl_open(&self->nl));
	EXPECT_EQ(-ENOENT, txn_cmd(&self->nl, self->m, PORTREDIR_CMD_REPLACE_COMMIT));
	ASSERT_EQ(0, txn_cmd(&other, self->m, PORTREDIR_CMD_REPLACE_BEGIN));
	ASSERT_EQ(0, txn_rules(&other, self->m, 22, 22));
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
	ASSERT_EQ(0, txn_rules(&self->nl, self->m, 20, 22));
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

TEST_F(api, port_budget)
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
	struct nl nl;
	int err;

	err = nl_open(&nl);
	if (err == -ENOENT) {
		printf("TAP version 13\n1..0 # SKIP portredir module not loaded\n");
		return KSFT_SKIP;
	}
	if (err == 0)
		close(nl.fd);
	return test_harness_run(argc, argv);
}
