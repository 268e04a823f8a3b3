// SPDX-License-Identifier: GPL-2.0

#include <linux/portredir.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "compat.h"
#include "conntrack.h"
#include "netlink.h"
#include "netns.h"
#include "rules.h"
#include "steer.h"
#include "table.h"
#include "txn.h"

/* A rule as ADD and REPLACE take it. */
static const struct nla_policy portredir_rule_policy[PORTREDIR_RULE_A_MAX + 1] = {
	[PORTREDIR_RULE_A_PROTO]	= { .type = NLA_U8 },
	[PORTREDIR_RULE_A_PORT_MIN]	= NLA_POLICY_MIN(NLA_U16, 1),
	[PORTREDIR_RULE_A_PORT_MAX]	= NLA_POLICY_MIN(NLA_U16, 1),
	[PORTREDIR_RULE_A_TO_PORT_MIN]	= NLA_POLICY_MIN(NLA_U16, 1),
	[PORTREDIR_RULE_A_TO_PORT_MAX]	= NLA_POLICY_MIN(NLA_U16, 1),
	[PORTREDIR_RULE_A_FAMILY]	= NLA_POLICY_RANGE(NLA_U8, 1, PORTREDIR_FAMILY_ALL),
	[PORTREDIR_RULE_A_DIRECTION]	= NLA_POLICY_RANGE(NLA_U8, 1, PORTREDIR_DIR_ALL),
	[PORTREDIR_RULE_A_IFINDEX]	= NLA_POLICY_MIN(NLA_U32, 1),
	[PORTREDIR_RULE_A_CONNECTIONS]	= {
		.type = NLA_REJECT,
		.reject_message = "the connection counter is output only",
	},
	[PORTREDIR_RULE_A_MODE]		= NLA_POLICY_MAX(NLA_U8, PORTREDIR_MODE_MAX),
};

/* A selector, as DEL takes it: the same without a target. */
static const struct nla_policy portredir_selector_policy[PORTREDIR_RULE_A_MAX + 1] = {
	[PORTREDIR_RULE_A_PROTO]	= { .type = NLA_U8 },
	[PORTREDIR_RULE_A_PORT_MIN]	= NLA_POLICY_MIN(NLA_U16, 1),
	[PORTREDIR_RULE_A_PORT_MAX]	= NLA_POLICY_MIN(NLA_U16, 1),
	[PORTREDIR_RULE_A_TO_PORT_MIN]	= {
		.type = NLA_REJECT,
		.reject_message = "DEL takes no target port, only the selector",
	},
	[PORTREDIR_RULE_A_TO_PORT_MAX]	= {
		.type = NLA_REJECT,
		.reject_message = "DEL takes no target port, only the selector",
	},
	[PORTREDIR_RULE_A_FAMILY]	= NLA_POLICY_RANGE(NLA_U8, 1, PORTREDIR_FAMILY_ALL),
	[PORTREDIR_RULE_A_DIRECTION]	= NLA_POLICY_RANGE(NLA_U8, 1, PORTREDIR_DIR_ALL),
	[PORTREDIR_RULE_A_IFINDEX]	= NLA_POLICY_MIN(NLA_U32, 1),
	[PORTREDIR_RULE_A_CONNECTIONS]	= {
		.type = NLA_REJECT,
		.reject_message = "the connection counter is output only",
	},
	[PORTREDIR_RULE_A_MODE]		= {
		.type = NLA_REJECT,
		.reject_message = "DEL takes no mode, only the selector",
	},
};

static const struct nla_policy portredir_add_policy[PORTREDIR_A_MAX + 1] = {
	[PORTREDIR_A_RULE]	= NLA_POLICY_NESTED(portredir_rule_policy),
	[PORTREDIR_A_KEEP_CONNTRACK] = { .type = NLA_FLAG },
};

static const struct nla_policy portredir_del_policy[PORTREDIR_A_MAX + 1] = {
	[PORTREDIR_A_RULE]	= NLA_POLICY_NESTED(portredir_selector_policy),
	[PORTREDIR_A_KEEP_CONNTRACK] = { .type = NLA_FLAG },
};

/*
 * GET and FLUSH act on the whole table and refuse a rule, which would read
 * as a filter, in their handlers: the policy can only say "nested".
 */
static const struct nla_policy portredir_table_policy[PORTREDIR_A_MAX + 1] = {
	[PORTREDIR_A_RULE]	= { .type = NLA_NESTED },
};

static const struct nla_policy portredir_flush_policy[PORTREDIR_A_MAX + 1] = {
	[PORTREDIR_A_RULE]	= { .type = NLA_NESTED },
	[PORTREDIR_A_KEEP_CONNTRACK] = { .type = NLA_FLAG },
};

/* REPLACE_RULES: rules only; the conntrack flag belongs to the commit. */
static const struct nla_policy portredir_rules_policy[PORTREDIR_A_MAX + 1] = {
	[PORTREDIR_A_RULE]	= NLA_POLICY_NESTED(portredir_rule_policy),
};

static const struct nla_policy portredir_commit_policy[PORTREDIR_A_MAX + 1] = {
	[PORTREDIR_A_KEEP_CONNTRACK] = { .type = NLA_FLAG },
};

static struct genl_family portredir_family;

static const struct genl_multicast_group portredir_mcgrps[] = {
	{ .name = PORTREDIR_MCGRP_MONITOR },
};

/**
 * struct portredir_rule_spec - a rule as userspace asked for it
 * @sel: what it matches
 * @to_min: target port
 * @to_max: last target port
 * @mode: enum portredir_mode
 */
struct portredir_rule_spec {
	struct portredir_selector sel;
	u16 to_min;
	u16 to_max;
	u8 mode;
};

static u16 portredir_get_u16(const struct nlattr *attr, u16 fallback)
{
	return attr ? nla_get_u16(attr) : fallback;
}

static u8 portredir_get_u8(const struct nlattr *attr, u8 fallback)
{
	return attr ? nla_get_u8(attr) : fallback;
}

static int portredir_check_target(struct nlattr **tb,
				  const struct portredir_rule_spec *spec,
				  struct netlink_ext_ack *extack)
{
	unsigned int ports = spec->sel.port_max - spec->sel.port_min + 1;
	unsigned int targets = spec->to_max - spec->to_min + 1;

	if (spec->to_max < spec->to_min) {
		NL_SET_ERR_MSG_ATTR(extack, tb[PORTREDIR_RULE_A_TO_PORT_MAX],
				    "target range is reversed");
		return -EINVAL;
	}
	if (targets != 1 && targets != ports) {
		PORTREDIR_ERR_FMT(extack,
				  "target range must be one port or as long as the port range",
				  "target range has %u ports, port range has %u",
				  targets, ports);
		NL_SET_BAD_ATTR(extack, tb[PORTREDIR_RULE_A_TO_PORT_MAX]);
		return -EINVAL;
	}
	return 0;
}

static int portredir_check_ifindex(struct net *net, struct nlattr **tb,
				   const struct portredir_selector *sel,
				   struct netlink_ext_ack *extack)
{
	if (!sel->ifindex)
		return 0;
	if (sel->direction != PORTREDIR_DIR_INBOUND) {
		NL_SET_ERR_MSG_ATTR(extack, tb[PORTREDIR_RULE_A_IFINDEX],
				    "an interface can only be matched on inbound traffic");
		return -EINVAL;
	}
	if (!portredir_dev_exists(net, sel->ifindex)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[PORTREDIR_RULE_A_IFINDEX],
				    "no such interface in this network namespace");
		return -ENODEV;
	}
	return 0;
}

static int portredir_parse_mode(struct nlattr **tb,
				struct portredir_rule_spec *spec,
				struct netlink_ext_ack *extack)
{
	spec->mode = portredir_get_u8(tb[PORTREDIR_RULE_A_MODE],
				      PORTREDIR_MODE_NAT);
	if (spec->mode != PORTREDIR_MODE_STEER)
		return 0;
	if (spec->sel.proto != IPPROTO_TCP) {
		NL_SET_ERR_MSG_ATTR(extack, tb[PORTREDIR_RULE_A_MODE],
				    "steering works for TCP only");
		return -EINVAL;
	}
	if (!portredir_steer_supported()) {
		NL_SET_ERR_MSG_ATTR(extack, tb[PORTREDIR_RULE_A_MODE],
				    "this kernel cannot steer: it has no nf_tproxy");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int portredir_parse_rule(struct net *net, const struct nlattr *nest,
				bool want_target, struct portredir_rule_spec *spec,
				struct netlink_ext_ack *extack)
{
	struct nlattr *tb[PORTREDIR_RULE_A_MAX + 1];
	struct portredir_selector *sel = &spec->sel;
	int err;

	err = nla_parse_nested(tb, PORTREDIR_RULE_A_MAX, nest,
			       want_target ? portredir_rule_policy :
					     portredir_selector_policy, extack);
	if (err)
		return err;

	if (NL_REQ_ATTR_CHECK(extack, nest, tb, PORTREDIR_RULE_A_PROTO)) {
		NL_SET_ERR_MSG(extack, "rule needs a protocol");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, PORTREDIR_RULE_A_PORT_MIN)) {
		NL_SET_ERR_MSG(extack, "rule needs a port");
		return -EINVAL;
	}
	if (want_target &&
	    NL_REQ_ATTR_CHECK(extack, nest, tb, PORTREDIR_RULE_A_TO_PORT_MIN)) {
		NL_SET_ERR_MSG(extack, "rule needs a target port");
		return -EINVAL;
	}

	sel->proto = nla_get_u8(tb[PORTREDIR_RULE_A_PROTO]);
	if (sel->proto != IPPROTO_TCP && sel->proto != IPPROTO_UDP &&
	    sel->proto != IPPROTO_SCTP) {
		NL_SET_ERR_MSG_ATTR(extack, tb[PORTREDIR_RULE_A_PROTO],
				    "protocol must be TCP, UDP or SCTP");
		return -EINVAL;
	}
	sel->port_min = nla_get_u16(tb[PORTREDIR_RULE_A_PORT_MIN]);
	sel->port_max = portredir_get_u16(tb[PORTREDIR_RULE_A_PORT_MAX],
					  sel->port_min);
	if (sel->port_max < sel->port_min) {
		NL_SET_ERR_MSG_ATTR(extack, tb[PORTREDIR_RULE_A_PORT_MAX],
				    "port range is reversed");
		return -EINVAL;
	}
	sel->family = portredir_get_u8(tb[PORTREDIR_RULE_A_FAMILY],
				       PORTREDIR_FAMILY_ALL);
	sel->direction = portredir_get_u8(tb[PORTREDIR_RULE_A_DIRECTION],
					  PORTREDIR_DIR_ALL);
	sel->ifindex = tb[PORTREDIR_RULE_A_IFINDEX] ?
		       nla_get_u32(tb[PORTREDIR_RULE_A_IFINDEX]) : 0;
	err = portredir_check_ifindex(net, tb, sel, extack);
	if (err || !want_target)
		return err;

	spec->to_min = nla_get_u16(tb[PORTREDIR_RULE_A_TO_PORT_MIN]);
	spec->to_max = portredir_get_u16(tb[PORTREDIR_RULE_A_TO_PORT_MAX],
					 spec->to_min);
	err = portredir_check_target(tb, spec, extack);
	if (err)
		return err;
	return portredir_parse_mode(tb, spec, extack);
}

/* What portredir_fill_rule() puts in a message. */
static size_t portredir_rule_size(void)
{
	return nla_total_size(0) +			/* PORTREDIR_A_RULE */
	       nla_total_size(sizeof(u8)) * 3 +		/* PROTO, FAMILY, DIRECTION */
	       nla_total_size(sizeof(u16)) * 4 +	/* PORT_*, TO_PORT_* */
	       nla_total_size(sizeof(u32)) +		/* IFINDEX */
	       nla_total_size(sizeof(u8)) +		/* MODE */
	       nla_total_size_64bit(sizeof(u64));	/* CONNECTIONS */
}

static int portredir_fill_rule(struct sk_buff *skb,
			       const struct portredir_rule *rule)
{
	const struct portredir_selector *sel = &rule->sel;
	struct nlattr *nest;

	nest = nla_nest_start(skb, PORTREDIR_A_RULE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u8(skb, PORTREDIR_RULE_A_PROTO, sel->proto) ||
	    nla_put_u16(skb, PORTREDIR_RULE_A_PORT_MIN, sel->port_min) ||
	    nla_put_u16(skb, PORTREDIR_RULE_A_PORT_MAX, sel->port_max) ||
	    nla_put_u16(skb, PORTREDIR_RULE_A_TO_PORT_MIN, rule->to_min) ||
	    nla_put_u16(skb, PORTREDIR_RULE_A_TO_PORT_MAX, rule->to_max) ||
	    nla_put_u8(skb, PORTREDIR_RULE_A_FAMILY, sel->family) ||
	    nla_put_u8(skb, PORTREDIR_RULE_A_DIRECTION, sel->direction) ||
	    (sel->ifindex &&
	     nla_put_u32(skb, PORTREDIR_RULE_A_IFINDEX, sel->ifindex)) ||
	    (rule->mode != PORTREDIR_MODE_NAT &&
	     nla_put_u8(skb, PORTREDIR_RULE_A_MODE, rule->mode)) ||
	    nla_put_u64_64bit(skb, PORTREDIR_RULE_A_CONNECTIONS,
			      atomic64_read(&rule->connections),
			      PORTREDIR_RULE_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/**
 * portredir_netlink_notify - tell the monitor group about a change
 * @net: the namespace that changed
 * @cmd: PORTREDIR_CMD_ADD, PORTREDIR_CMD_DEL or PORTREDIR_CMD_FLUSH
 * @rule: the rule added or deleted, NULL for a flush
 */
void portredir_netlink_notify(struct net *net, u8 cmd,
			      const struct portredir_rule *rule)
{
	struct sk_buff *skb;
	void *hdr;

	if (!genl_has_listeners(&portredir_family, net, 0))
		return;
	skb = genlmsg_new(rule ? portredir_rule_size() : 0, GFP_KERNEL);
	if (!skb)
		goto err;
	hdr = genlmsg_put(skb, 0, 0, &portredir_family, 0, cmd);
	if (!hdr || (rule && portredir_fill_rule(skb, rule))) {
		nlmsg_free(skb);
		goto err;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&portredir_family, net, skb, 0, 0, GFP_KERNEL);
	return;
err:
	/* Listeners learn that they missed an event, as on overrun. */
	netlink_set_err(net->genl_sock, 0, portredir_family.mcgrp_offset,
			-ENOBUFS);
}

/*
 * The UDP ports whose conntrack entries a change deletes, or NULL when the
 * request keeps them; allocated before anything changes.
 */
unsigned long *portredir_ct_ports_for(const struct genl_info *info)
{
	unsigned long *ports;

	if (nla_get_flag(info->attrs[PORTREDIR_A_KEEP_CONNTRACK]))
		return NULL;
	ports = portredir_ct_ports_alloc();
	return ports ?: ERR_PTR(-ENOMEM);
}

/*
 * The rule of an ADD or DEL, with the UDP ports whose conntrack entries the
 * change deletes (NULL when the request keeps them).
 */
static int portredir_rule_request(struct genl_info *info,
				  bool want_target,
				  struct portredir_rule_spec *spec,
				  unsigned long **ports)
{
	int err;

	if (GENL_REQ_ATTR_CHECK(info, PORTREDIR_A_RULE)) {
		GENL_SET_ERR_MSG(info, "missing rule");
		return -EINVAL;
	}
	err = portredir_parse_rule(genl_info_net(info),
				   info->attrs[PORTREDIR_A_RULE], want_target,
				   spec, info->extack);
	if (err)
		return err;
	*ports = portredir_ct_ports_for(info);
	return PTR_ERR_OR_ZERO(*ports);
}

static int portredir_cmd_add(struct sk_buff *skb, struct genl_info *info)
{
	struct portredir_rule_spec spec;
	struct portredir_rule *rule;
	unsigned long *ports;
	int err;

	err = portredir_rule_request(info, true, &spec, &ports);
	if (err)
		return err;
	rule = portredir_rule_alloc(&spec.sel, spec.to_min, spec.to_max,
				    spec.mode);
	if (!rule) {
		portredir_ct_ports_free(ports);
		GENL_SET_ERR_MSG(info, "out of memory for the rule");
		return -ENOMEM;
	}
	return portredir_table_add(genl_info_net(info), rule, ports,
				   info->extack);
}

static int portredir_cmd_del(struct sk_buff *skb, struct genl_info *info)
{
	struct portredir_rule_spec spec;
	unsigned long *ports;
	int err;

	err = portredir_rule_request(info, false, &spec, &ports);
	if (err)
		return err;
	return portredir_table_del(genl_info_net(info), &spec.sel, ports,
				   info->extack);
}

static int portredir_cmd_flush(struct sk_buff *skb, struct genl_info *info)
{
	unsigned long *ports;

	if (info->attrs[PORTREDIR_A_RULE]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[PORTREDIR_A_RULE],
				    "FLUSH deletes every rule and takes no attributes");
		return -EINVAL;
	}
	ports = portredir_ct_ports_for(info);
	if (IS_ERR(ports))
		return PTR_ERR(ports);
	return portredir_table_replace(genl_info_net(info), NULL, ports,
				       info->extack);
}

/* Parses, allocates and inserts one rule of a REPLACE-like message. */
static int portredir_build_rule(struct net *net, const struct nlattr *nest,
				struct portredir_ruleset *rs,
				struct netlink_ext_ack *extack)
{
	struct portredir_rule_spec spec;
	struct portredir_rule *rule;
	int err;

	err = portredir_parse_rule(net, nest, true, &spec, extack);
	if (err)
		return err;
	rule = portredir_rule_alloc(&spec.sel, spec.to_min, spec.to_max,
				    spec.mode);
	if (!rule) {
		NL_SET_ERR_MSG(extack, "out of memory for the rule");
		err = -ENOMEM;
	} else {
		err = portredir_rule_insert(rs, rule, extack);
		if (err)
			portredir_rule_free(rule);
	}
	if (err)
		NL_SET_BAD_ATTR(extack, nest);
	return err;
}

/**
 * portredir_build_ruleset - add the rules of a message to a private set
 * @net: the namespace their interfaces belong to
 * @info: a REPLACE or REPLACE_RULES request, validated by its policy
 * @rs: the set, which no one else sees
 * @extack: receives the reason of a refusal, pointing at the rule
 *
 * Return: 0 or a negative errno; rules before the refused one stay in @rs.
 */
int portredir_build_ruleset(struct net *net, const struct genl_info *info,
			    struct portredir_ruleset *rs,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *nest;
	int rem, err;

	nlmsg_for_each_attr(nest, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(nest) != PORTREDIR_A_RULE)
			continue;
		err = portredir_build_rule(net, nest, rs, extack);
		if (err)
			return err;
		cond_resched();
	}
	return 0;
}

static int portredir_cmd_replace(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct portredir_ruleset *rs = NULL;
	unsigned long *ports;
	int err;

	ports = portredir_ct_ports_for(info);
	if (IS_ERR(ports))
		return PTR_ERR(ports);
	if (info->attrs[PORTREDIR_A_RULE]) {
		rs = portredir_ruleset_create();
		if (!rs) {
			portredir_ct_ports_free(ports);
			GENL_SET_ERR_MSG(info, "out of memory for the rule table");
			return -ENOMEM;
		}
		err = portredir_build_ruleset(net, info, rs, info->extack);
		if (err) {
			portredir_ruleset_destroy(rs);
			portredir_ct_ports_free(ports);
			return err;
		}
	}
	return portredir_table_replace(net, rs, ports, info->extack);
}

static int portredir_dump_rule(struct sk_buff *skb, struct netlink_callback *cb,
			       const struct portredir_rule *rule)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &portredir_family, NLM_F_MULTI, PORTREDIR_CMD_GET);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	if (portredir_fill_rule(skb, rule)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * cb->args[0..2]: the position of the next rule (protocol index, port,
 * entry in the port's slot), so that each part starts where the last one
 * stopped. Read under RCU: GET needs no privilege and must not hold up
 * writers.
 */
static int portredir_cmd_get_dump(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	struct portredir_net *pn = portredir_pernet(sock_net(skb->sk));
	struct nlattr *filter = portredir_dump_attrs(cb)[PORTREDIR_A_RULE];
	struct portredir_position pos, next;
	const struct portredir_rule *rule;
	struct portredir_ruleset *rs;

	/* Here, not in .start: before 6.2 that has no extack to fill in. */
	if (filter) {
		NL_SET_ERR_MSG_ATTR(cb->extack, filter,
				    "GET dumps every rule and takes no attributes");
		return -EINVAL;
	}
	pos.proto = cb->args[0];
	pos.port = cb->args[1];
	pos.index = cb->args[2];
	rcu_read_lock();
	/* 0 would turn the consistency check off. */
	cb->seq = READ_ONCE(pn->generation) + 1;
	rs = rcu_dereference(pn->ruleset);
	if (rs) {
		for (next = pos; (rule = portredir_ruleset_next(rs, &next)); pos = next)
			if (portredir_dump_rule(skb, cb, rule))
				break;
		if (!rule)
			pos = next;
	}
	rcu_read_unlock();
	cb->args[0] = pos.proto;
	cb->args[1] = pos.port;
	cb->args[2] = pos.index;
	return skb->len;
}

static const struct genl_ops portredir_ops[] = {
	{
		.cmd	= PORTREDIR_CMD_ADD,
		.doit	= portredir_cmd_add,
		.policy	= portredir_add_policy,
		.maxattr = PORTREDIR_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PORTREDIR_CMD_DEL,
		.doit	= portredir_cmd_del,
		.policy	= portredir_del_policy,
		.maxattr = PORTREDIR_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PORTREDIR_CMD_GET,
		.dumpit	= portredir_cmd_get_dump,
		.policy	= portredir_table_policy,
		.maxattr = PORTREDIR_A_MAX,
	},
	{
		.cmd	= PORTREDIR_CMD_FLUSH,
		.doit	= portredir_cmd_flush,
		.policy	= portredir_flush_policy,
		.maxattr = PORTREDIR_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PORTREDIR_CMD_REPLACE,
		.doit	= portredir_cmd_replace,
		.policy	= portredir_add_policy,
		.maxattr = PORTREDIR_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PORTREDIR_CMD_REPLACE_BEGIN,
		.doit	= portredir_cmd_replace_begin,
		.policy	= portredir_table_policy,
		.maxattr = PORTREDIR_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PORTREDIR_CMD_REPLACE_RULES,
		.doit	= portredir_cmd_replace_rules,
		.policy	= portredir_rules_policy,
		.maxattr = PORTREDIR_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PORTREDIR_CMD_REPLACE_COMMIT,
		.doit	= portredir_cmd_replace_commit,
		.policy	= portredir_commit_policy,
		.maxattr = PORTREDIR_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PORTREDIR_CMD_REPLACE_ABORT,
		.doit	= portredir_cmd_replace_abort,
		.policy	= portredir_table_policy,
		.maxattr = PORTREDIR_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family portredir_family __ro_after_init = {
	.name		= PORTREDIR_GENL_NAME,
	.version	= PORTREDIR_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= portredir_ops,
	.n_ops		= ARRAY_SIZE(portredir_ops),
	.resv_start_op	= PORTREDIR_CMD_ADD,
	.mcgrps		= portredir_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(portredir_mcgrps),
};

int __init portredir_netlink_init(void)
{
	return genl_register_family(&portredir_family);
}

void portredir_netlink_uninit(void)
{
	genl_unregister_family(&portredir_family);
}
