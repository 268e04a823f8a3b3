// SPDX-License-Identifier: GPL-2.0
/*
 * The kmod backend: portredir.ko's generic netlink family, as documented in
 * include/uapi/linux/portredir.h.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/portredir.h>

#include "backends/backend.h"
#include "netlink/netlink.h"

/* Upper bound of one encoded rule nest: 4 bytes of nest, 8 attributes of 8. */
#define RULE_NEST_MAX		72
/* One REPLACE_RULES message: far below the default socket buffer. */
#define REPLACE_CHUNK_SIZE	(32 * 1024)
#define DUMP_ATTEMPTS		5

struct kmod {
	struct netlink nl;
	uint16_t family_id;
	uint32_t monitor_group;
};

static void set_errorf(struct backend *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_errorf(struct backend *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->error, sizeof(b->error), fmt, ap);
	va_end(ap);
}

/* Runs a request and hands the kernel's reason for a refusal to @b. */
static int transact(struct backend *b, struct nlmsghdr *nlh,
		    mnl_cb_t on_reply, void *arg)
{
	struct kmod *k = b->priv;
	int err;

	b->error[0] = '\0';
	err = netlink_transact(&k->nl, nlh, on_reply, arg);
	if (err)
		set_errorf(b, "%s", k->nl.error);
	return err;
}

static struct nlmsghdr *put_request(void *buffer, uint16_t family,
				    uint8_t cmd, uint8_t version,
				    uint16_t flags)
{
	struct nlmsghdr *nlh = netlink_put_request(buffer, family, flags);
	struct genlmsghdr *genl;

	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

static struct nlmsghdr *put_portredir_request(struct kmod *k, void *buffer,
					      uint8_t cmd, uint16_t flags)
{
	return put_request(buffer, k->family_id, cmd,
			   PORTREDIR_GENL_VERSION, flags);
}

/* A request that changes the table, with the caller's conntrack choice. */
static struct nlmsghdr *put_change_request(struct backend *b, void *buffer,
					   uint8_t cmd)
{
	struct nlmsghdr *nlh;

	nlh = put_portredir_request(b->priv, buffer, cmd, NLM_F_ACK);
	if (b->keep_conntrack)
		mnl_attr_put(nlh, PORTREDIR_A_KEEP_CONNTRACK, 0, NULL);
	return nlh;
}

/* Family resolution through the generic netlink controller. */

struct mcast_group {
	const char *name;
	uint32_t id;
};

static int read_group_attr(const struct nlattr *attr, void *data)
{
	struct mcast_group *group = data;

	switch (mnl_attr_get_type(attr)) {
	case CTRL_ATTR_MCAST_GRP_NAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;
		group->name = mnl_attr_get_str(attr);
		break;
	case CTRL_ATTR_MCAST_GRP_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		group->id = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int read_group(const struct nlattr *attr, void *data)
{
	struct mcast_group group = { NULL, 0 };
	struct kmod *k = data;

	if (mnl_attr_parse_nested(attr, read_group_attr, &group) < 0)
		return MNL_CB_ERROR;
	if (group.name && !strcmp(group.name, PORTREDIR_MCGRP_MONITOR))
		k->monitor_group = group.id;
	return MNL_CB_OK;
}

static int read_family_attr(const struct nlattr *attr, void *data)
{
	struct kmod *k = data;

	switch (mnl_attr_get_type(attr)) {
	case CTRL_ATTR_FAMILY_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		k->family_id = mnl_attr_get_u16(attr);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		if (mnl_attr_parse_nested(attr, read_group, k) < 0)
			return MNL_CB_ERROR;
		break;
	}
	return MNL_CB_OK;
}

static int read_family(const struct nlmsghdr *nlh, void *data)
{
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), read_family_attr,
			   data) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

static int resolve_family(struct backend *b)
{
	char buffer[MNL_SOCKET_BUFFER_SIZE];
	struct kmod *k = b->priv;
	struct nlmsghdr *nlh;
	int err;

	nlh = put_request(buffer, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1,
			  NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, PORTREDIR_GENL_NAME);
	err = transact(b, nlh, read_family, k);
	if (!err && !k->family_id)
		err = -ENOENT;
	return err;
}

/* Rules on the wire. */

static const enum mnl_attr_data_type rule_attr_types[PORTREDIR_RULE_A_MAX + 1] = {
	[PORTREDIR_RULE_A_PROTO]	= MNL_TYPE_U8,
	[PORTREDIR_RULE_A_PORT_MIN]	= MNL_TYPE_U16,
	[PORTREDIR_RULE_A_PORT_MAX]	= MNL_TYPE_U16,
	[PORTREDIR_RULE_A_TO_PORT_MIN]	= MNL_TYPE_U16,
	[PORTREDIR_RULE_A_TO_PORT_MAX]	= MNL_TYPE_U16,
	[PORTREDIR_RULE_A_FAMILY]	= MNL_TYPE_U8,
	[PORTREDIR_RULE_A_DIRECTION]	= MNL_TYPE_U8,
	[PORTREDIR_RULE_A_IFINDEX]	= MNL_TYPE_U32,
	[PORTREDIR_RULE_A_CONNECTIONS]	= MNL_TYPE_U64,
	[PORTREDIR_RULE_A_MODE]		= MNL_TYPE_U8,
};

static void put_rule(struct nlmsghdr *nlh, uint16_t type,
		     const struct redir_rule *rule, bool with_target)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	mnl_attr_put_u8(nlh, PORTREDIR_RULE_A_PROTO, rule->proto);
	mnl_attr_put_u16(nlh, PORTREDIR_RULE_A_PORT_MIN, rule->port.min);
	mnl_attr_put_u16(nlh, PORTREDIR_RULE_A_PORT_MAX, rule->port.max);
	if (with_target) {
		mnl_attr_put_u16(nlh, PORTREDIR_RULE_A_TO_PORT_MIN, rule->to.min);
		mnl_attr_put_u16(nlh, PORTREDIR_RULE_A_TO_PORT_MAX, rule->to.max);
	}
	mnl_attr_put_u8(nlh, PORTREDIR_RULE_A_FAMILY, rule->family);
	mnl_attr_put_u8(nlh, PORTREDIR_RULE_A_DIRECTION, rule->direction);
	if (rule->ifindex)
		mnl_attr_put_u32(nlh, PORTREDIR_RULE_A_IFINDEX, rule->ifindex);
	/* NAT is the default: a module older than steering takes the rule. */
	if (with_target && rule->mode != PORTREDIR_MODE_NAT)
		mnl_attr_put_u8(nlh, PORTREDIR_RULE_A_MODE, rule->mode);
	mnl_attr_nest_end(nlh, nest);
}

static int read_rule_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **attrs = data;
	uint16_t type = mnl_attr_get_type(attr);

	/* Attributes newer than this header are skipped, not refused. */
	if (type > PORTREDIR_RULE_A_MAX || type == PORTREDIR_RULE_A_PAD)
		return MNL_CB_OK;
	if (rule_attr_types[type] &&
	    mnl_attr_validate(attr, rule_attr_types[type]) < 0)
		return MNL_CB_ERROR;
	attrs[type] = attr;
	return MNL_CB_OK;
}

static uint16_t get_u16_or(const struct nlattr *attr, uint16_t fallback)
{
	return attr ? mnl_attr_get_u16(attr) : fallback;
}

static uint8_t get_u8_or(const struct nlattr *attr, uint8_t fallback)
{
	return attr ? mnl_attr_get_u8(attr) : fallback;
}

static void name_interface(struct redir_rule *rule)
{
	char name[IF_NAMESIZE];

	if (!rule->ifindex)
		return;
	if (if_indextoname(rule->ifindex, name))
		memcpy(rule->ifname, name, sizeof(rule->ifname));
	else
		snprintf(rule->ifname, sizeof(rule->ifname), "?%u",
			 rule->ifindex);
}

static int decode_rule(const struct nlattr *nest, struct redir_rule *rule)
{
	const struct nlattr *attrs[PORTREDIR_RULE_A_MAX + 1] = { NULL };

	if (mnl_attr_parse_nested(nest, read_rule_attr, attrs) < 0 ||
	    !attrs[PORTREDIR_RULE_A_PROTO] || !attrs[PORTREDIR_RULE_A_PORT_MIN])
		return -EBADMSG;

	memset(rule, 0, sizeof(*rule));
	rule->proto = mnl_attr_get_u8(attrs[PORTREDIR_RULE_A_PROTO]);
	rule->port.min = mnl_attr_get_u16(attrs[PORTREDIR_RULE_A_PORT_MIN]);
	rule->port.max = get_u16_or(attrs[PORTREDIR_RULE_A_PORT_MAX],
				    rule->port.min);
	rule->to.min = get_u16_or(attrs[PORTREDIR_RULE_A_TO_PORT_MIN], 0);
	rule->to.max = get_u16_or(attrs[PORTREDIR_RULE_A_TO_PORT_MAX],
				  rule->to.min);
	rule->family = get_u8_or(attrs[PORTREDIR_RULE_A_FAMILY],
				 PORTREDIR_FAMILY_ALL);
	rule->direction = get_u8_or(attrs[PORTREDIR_RULE_A_DIRECTION],
				    PORTREDIR_DIR_ALL);
	if (attrs[PORTREDIR_RULE_A_IFINDEX])
		rule->ifindex = mnl_attr_get_u32(attrs[PORTREDIR_RULE_A_IFINDEX]);
	rule->mode = get_u8_or(attrs[PORTREDIR_RULE_A_MODE], PORTREDIR_MODE_NAT);
	if (attrs[PORTREDIR_RULE_A_CONNECTIONS])
		rule->connections =
			mnl_attr_get_u64(attrs[PORTREDIR_RULE_A_CONNECTIONS]);
	name_interface(rule);
	return 0;
}

static int read_rule_message_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **rule_nest = data;

	if (mnl_attr_get_type(attr) == PORTREDIR_A_RULE)
		*rule_nest = attr;
	return MNL_CB_OK;
}

/* The PORTREDIR_A_RULE of a GET reply or a notification, if any. */
static int decode_rule_message(const struct nlmsghdr *nlh,
			       struct redir_rule *rule)
{
	const struct nlattr *nest = NULL;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr),
			   read_rule_message_attr, &nest) < 0)
		return -EBADMSG;
	if (!nest)
		return -ENOENT;
	return decode_rule(nest, rule);
}

/* Operations. */

static int kmod_send_rule(struct backend *b, uint8_t cmd,
			  const struct redir_rule *rule, bool with_target)
{
	char buffer[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = put_change_request(b, buffer, cmd);
	put_rule(nlh, PORTREDIR_A_RULE, rule, with_target);
	return transact(b, nlh, NULL, NULL);
}

static int kmod_add(struct backend *b, const struct redir_rule *rule)
{
	return kmod_send_rule(b, PORTREDIR_CMD_ADD, rule, true);
}

static int kmod_del(struct backend *b, const struct redir_rule *rule)
{
	return kmod_send_rule(b, PORTREDIR_CMD_DEL, rule, false);
}

static int kmod_flush(struct backend *b)
{
	char buffer[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = put_change_request(b, buffer, PORTREDIR_CMD_FLUSH);
	return transact(b, nlh, NULL, NULL);
}

static int collect_rule(const struct nlmsghdr *nlh, void *data)
{
	struct redir_rule rule;
	int err = decode_rule_message(nlh, &rule);

	if (!err)
		err = rule_list_append(data, &rule);
	if (err == -ENOENT)
		return MNL_CB_OK;
	if (err) {
		errno = -err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* A dump that a concurrent change interrupted is started over. */
static int kmod_list(struct backend *b, struct rule_list *out)
{
	char buffer[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int attempt, err = -EINTR;

	for (attempt = 0; attempt < DUMP_ATTEMPTS && err == -EINTR; attempt++) {
		rule_list_free(out);
		nlh = put_portredir_request(b->priv, buffer, PORTREDIR_CMD_GET,
					    NLM_F_DUMP);
		err = transact(b, nlh, collect_rule, out);
	}
	if (err == -EINTR)
		set_errorf(b, "the rule table kept changing while it was read");
	return err;
}

/* Which rule of a REPLACE request the kernel refused, from the extack. */
static const struct nlattr *find_refused_rule(const struct nlmsghdr *nlh,
					      uint32_t offset, size_t *index)
{
	const struct nlattr *attr;

	*index = 0;
	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		size_t start = (size_t)((const char *)attr - (const char *)nlh);

		if (offset >= start && offset < start + attr->nla_len)
			return attr;
		(*index)++;
	}
	return NULL;
}

/*
 * Names the refused rule of @nlh, which carries the rules of @rules from
 * @first on: its number counts over the whole of @rules.
 */
static void name_refused_rule(struct backend *b, const struct nlmsghdr *nlh,
			      const struct rule_list *rules, size_t first)
{
	struct kmod *k = b->priv;
	char rule[RULE_FORMAT_MAX], reason[sizeof(b->error)];
	size_t index;

	if (!k->nl.error_offset ||
	    !find_refused_rule(nlh, k->nl.error_offset, &index) ||
	    index >= rules->len - first)
		return;
	index += first;
	rule_format(&rules->rules[index], RULE_WITH_TARGET, rule, sizeof(rule));
	memcpy(reason, b->error, sizeof(reason));
	set_errorf(b, "rule %zu \"%s\": %s", index + 1, rule,
		   reason[0] ? reason : "refused");
}

/*
 * Rules from @first on, as many as keep @nlh within @limit bytes; returns
 * the index after the last rule put.
 */
static size_t put_rules(struct nlmsghdr *nlh, const struct rule_list *rules,
			size_t first, size_t limit)
{
	size_t i;

	/* Top-level attributes: a nest could not exceed 64 KiB. */
	for (i = first; i < rules->len; i++) {
		if (nlh->nlmsg_len + RULE_NEST_MAX > limit)
			break;
		put_rule(nlh, PORTREDIR_A_RULE, &rules->rules[i], true);
	}
	return i;
}

/* A module that predates the transaction: the whole table in one message. */
static int replace_in_one_message(struct backend *b,
				  const struct rule_list *rules)
{
	size_t len = MNL_SOCKET_BUFFER_SIZE + rules->len * RULE_NEST_MAX;
	struct nlmsghdr *nlh;
	void *buffer;
	int err;

	buffer = calloc(1, len);
	if (!buffer)
		return -ENOMEM;
	nlh = put_change_request(b, buffer, PORTREDIR_CMD_REPLACE);
	put_rules(nlh, rules, 0, len);
	netlink_grow_send_buffer(&((struct kmod *)b->priv)->nl, nlh->nlmsg_len,
				 false);
	err = transact(b, nlh, NULL, NULL);
	if (err == -EMSGSIZE)
		set_errorf(b, "%zu rules do not fit in one message to this portredir.ko, which predates the replace transaction (load the module of this release)",
			   rules->len);
	else if (err)
		name_refused_rule(b, nlh, rules, 0);
	free(buffer);
	return err;
}

static int send_command(struct backend *b, uint8_t cmd)
{
	char buffer[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	if (cmd == PORTREDIR_CMD_REPLACE_COMMIT)
		nlh = put_change_request(b, buffer, cmd);
	else
		nlh = put_portredir_request(b->priv, buffer, cmd, NLM_F_ACK);
	return transact(b, nlh, NULL, NULL);
}

/*
 * The rules of a transaction, in messages the default socket buffer lets
 * through. A refused message ends the transaction in the kernel.
 */
static int send_transaction_rules(struct backend *b,
				  const struct rule_list *rules)
{
	struct nlmsghdr *nlh;
	size_t first, next;
	void *buffer;
	int err = 0;

	buffer = malloc(REPLACE_CHUNK_SIZE);
	if (!buffer)
		return -ENOMEM;
	for (first = 0; first < rules->len && !err; first = next) {
		nlh = put_portredir_request(b->priv, buffer,
					    PORTREDIR_CMD_REPLACE_RULES,
					    NLM_F_ACK);
		next = put_rules(nlh, rules, first, REPLACE_CHUNK_SIZE);
		err = transact(b, nlh, NULL, NULL);
		if (err)
			name_refused_rule(b, nlh, rules, first);
	}
	free(buffer);
	return err;
}

/*
 * BEGIN, the rules, COMMIT. Closing the socket discards a transaction left
 * open by a failure before its end.
 */
static int kmod_replace(struct backend *b, const struct rule_list *rules)
{
	int err = send_command(b, PORTREDIR_CMD_REPLACE_BEGIN);

	if (err == -EOPNOTSUPP)
		return replace_in_one_message(b, rules);
	if (!err)
		err = send_transaction_rules(b, rules);
	if (!err)
		err = send_command(b, PORTREDIR_CMD_REPLACE_COMMIT);
	return err;
}

struct monitor {
	monitor_fn fn;
	void *arg;
};

static int announce_change(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	struct monitor *monitor = data;
	struct redir_rule rule;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*genl)))
		return MNL_CB_OK;
	switch (genl->cmd) {
	case PORTREDIR_CMD_ADD:
	case PORTREDIR_CMD_DEL:
		if (!decode_rule_message(nlh, &rule))
			monitor->fn(genl->cmd, &rule, monitor->arg);
		break;
	case PORTREDIR_CMD_FLUSH:
		monitor->fn(genl->cmd, NULL, monitor->arg);
		break;
	}
	return MNL_CB_OK;
}

/* The socket overran and the kernel dropped events. */
static void announce_loss(void *data)
{
	struct monitor *monitor = data;

	monitor->fn(PORTREDIR_CMD_UNSPEC, NULL, monitor->arg);
}

static int kmod_monitor(struct backend *b, monitor_fn fn, void *arg)
{
	struct monitor monitor = { fn, arg };
	struct kmod *k = b->priv;
	unsigned int group = k->monitor_group;
	int err;

	if (!group) {
		set_errorf(b, "the kernel module has no \"%s\" multicast group",
			 PORTREDIR_MCGRP_MONITOR);
		return -ENOENT;
	}
	err = netlink_subscribe(&k->nl, group);
	return err ? err : netlink_listen(&k->nl, announce_change, announce_loss,
					  &monitor);
}

static void kmod_close(struct backend *b)
{
	struct kmod *k = b->priv;

	if (!k)
		return;
	netlink_close(&k->nl);
	free(k);
	b->priv = NULL;
}

static int kmod_open(struct backend *b)
{
	struct kmod *k = calloc(1, sizeof(*k));
	int err;

	b->priv = k;
	if (!k)
		return -ENOMEM;
	err = netlink_open(&k->nl, NETLINK_GENERIC);
	if (err) {
		set_errorf(b, "cannot open a generic netlink socket: %s",
			   strerror(-err));
		goto err_close;
	}
	err = resolve_family(b);
	if (err == -ENOENT)
		set_errorf(b, "kernel module not loaded (try: modprobe portredir)");
	if (err)
		goto err_close;
	return 0;

err_close:
	kmod_close(b);
	return err;
}

const struct backend_ops backend_kmod = {
	.name = "kmod",
	.conntrack_in_kernel = true,
	.open = kmod_open,
	.close = kmod_close,
	.add = kmod_add,
	.del = kmod_del,
	.list = kmod_list,
	.flush = kmod_flush,
	.replace = kmod_replace,
	.monitor = kmod_monitor,
};
