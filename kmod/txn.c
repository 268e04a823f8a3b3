// SPDX-License-Identifier: GPL-2.0
/*
 * A replace transaction builds a new table over several messages, so that
 * a namespace root whose socket cannot send a message of several MiB can
 * still replace a full table at once. The table being built is private to
 * the socket that began it and goes away with that socket.
 */
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/portredir.h>
#include <net/genetlink.h>

#include "conntrack.h"
#include "netlink.h"
#include "netns.h"
#include "rules.h"
#include "table.h"
#include "txn.h"

/* Detaches the transaction's table, for the caller to destroy. */
static struct portredir_ruleset *portredir_txn_detach(struct portredir_net *pn)
{
	struct portredir_ruleset *rs = pn->txn.rs;

	WRITE_ONCE(pn->txn.rs, NULL);
	return rs;
}

/* The table of @portid's transaction, with txn_lock held; NULL if none. */
static struct portredir_ruleset *
portredir_txn_find(struct portredir_net *pn, u32 portid,
		   struct netlink_ext_ack *extack)
{
	if (pn->txn.rs && pn->txn.portid == portid)
		return pn->txn.rs;
	NL_SET_ERR_MSG(extack, "this socket has no replace transaction in progress");
	return NULL;
}

int portredir_cmd_replace_begin(struct sk_buff *skb, struct genl_info *info)
{
	struct portredir_net *pn = portredir_pernet(genl_info_net(info));
	struct portredir_ruleset *rs, *old;

	if (info->attrs[PORTREDIR_A_RULE]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[PORTREDIR_A_RULE],
				    "REPLACE_BEGIN takes no attributes");
		return -EINVAL;
	}
	rs = portredir_ruleset_create();
	if (!rs) {
		GENL_SET_ERR_MSG(info, "out of memory for the rule table");
		return -ENOMEM;
	}
	mutex_lock(&pn->txn_lock);
	if (pn->txn.rs && pn->txn.portid != info->snd_portid) {
		mutex_unlock(&pn->txn_lock);
		portredir_ruleset_destroy(rs);
		GENL_SET_ERR_MSG(info, "another socket has a replace transaction in progress");
		return -EBUSY;
	}
	old = portredir_txn_detach(pn);
	pn->txn.portid = info->snd_portid;
	WRITE_ONCE(pn->txn.rs, rs);
	mutex_unlock(&pn->txn_lock);
	portredir_ruleset_destroy(old);
	return 0;
}

int portredir_cmd_replace_rules(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct portredir_net *pn = portredir_pernet(net);
	struct portredir_ruleset *rs, *discard = NULL;
	int err;

	mutex_lock(&pn->txn_lock);
	rs = portredir_txn_find(pn, info->snd_portid, info->extack);
	if (!rs) {
		err = -ENOENT;
		goto out;
	}
	err = portredir_build_ruleset(net, info, rs, info->extack);
	if (err)
		discard = portredir_txn_detach(pn);
out:
	mutex_unlock(&pn->txn_lock);
	portredir_ruleset_destroy(discard);
	return err;
}

int portredir_cmd_replace_commit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct portredir_net *pn = portredir_pernet(net);
	struct portredir_ruleset *rs;
	unsigned long *ports;

	ports = portredir_ct_ports_for(info);
	if (IS_ERR(ports))
		return PTR_ERR(ports);
	mutex_lock(&pn->txn_lock);
	rs = portredir_txn_find(pn, info->snd_portid, info->extack);
	if (rs)
		portredir_txn_detach(pn);
	mutex_unlock(&pn->txn_lock);
	if (!rs) {
		portredir_ct_ports_free(ports);
		return -ENOENT;
	}
	return portredir_table_replace(net, rs, ports, info->extack);
}

int portredir_cmd_replace_abort(struct sk_buff *skb, struct genl_info *info)
{
	struct portredir_net *pn = portredir_pernet(genl_info_net(info));
	struct portredir_ruleset *rs;

	if (info->attrs[PORTREDIR_A_RULE]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[PORTREDIR_A_RULE],
				    "REPLACE_ABORT takes no attributes");
		return -EINVAL;
	}
	mutex_lock(&pn->txn_lock);
	rs = portredir_txn_find(pn, info->snd_portid, info->extack);
	if (rs)
		portredir_txn_detach(pn);
	mutex_unlock(&pn->txn_lock);
	if (!rs)
		return -ENOENT;
	portredir_ruleset_destroy(rs);
	return 0;
}

/* At namespace exit no socket of the namespace is left to own one. */
void portredir_txn_exit(struct portredir_net *pn)
{
	portredir_ruleset_destroy(portredir_txn_detach(pn));
}

/* A transaction goes with the socket that owns it. */
static int portredir_netlink_event(struct notifier_block *nb,
				   unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct portredir_ruleset *rs = NULL;
	struct portredir_net *pn;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	pn = portredir_pernet(n->net);
	if (!READ_ONCE(pn->txn.rs))
		return NOTIFY_DONE;
	mutex_lock(&pn->txn_lock);
	if (pn->txn.rs && pn->txn.portid == n->portid)
		rs = portredir_txn_detach(pn);
	mutex_unlock(&pn->txn_lock);
	portredir_ruleset_destroy(rs);
	return NOTIFY_DONE;
}

static struct notifier_block portredir_netlink_notifier = {
	.notifier_call = portredir_netlink_event,
};

int __init portredir_txn_init(void)
{
	return netlink_register_notifier(&portredir_netlink_notifier);
}

void portredir_txn_uninit(void)
{
	netlink_unregister_notifier(&portredir_netlink_notifier);
}
