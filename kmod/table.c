// SPDX-License-Identifier: GPL-2.0
/*
 * The rule table of each network namespace, as writers see it: every change
 * goes through here, under the namespace's lock, so that readers (the hooks,
 * under RCU) and the monitor group see the same order of changes.
 */
#include <linux/netdevice.h>
#include <linux/portredir.h>
#include <linux/rtnetlink.h>

#include "conntrack.h"
#include "hook.h"
#include "netlink.h"
#include "netns.h"
#include "rules.h"
#include "steer.h"
#include "table.h"
#include "txn.h"

unsigned int portredir_net_id __read_mostly;

bool portredir_dev_exists(struct net *net, int ifindex)
{
	bool found;

	rcu_read_lock();
	found = dev_get_by_index_rcu(net, ifindex);
	rcu_read_unlock();
	return found;
}

/*
 * Checked again with the lock held: an interface that is still listed now
 * is unregistered later, and the netdev notifier, which takes the lock
 * after us, then deletes the rules bound to it.
 */
static int portredir_dev_still_there(struct net *net,
				     const struct portredir_selector *sel,
				     struct netlink_ext_ack *extack)
{
	if (!sel->ifindex || portredir_dev_exists(net, sel->ifindex))
		return 0;
	NL_SET_ERR_MSG(extack, "interface went away");
	return -ENODEV;
}

/* Only the rules bound to an interface need a look. */
static int portredir_devs_still_there(struct net *net,
				      const struct portredir_ruleset *rs,
				      struct netlink_ext_ack *extack)
{
	const struct portredir_rule *rule;
	unsigned int bucket;
	int err;

	hash_for_each(rs->by_ifindex, bucket, rule, dev_node) {
		err = portredir_dev_still_there(net, &rule->sel, extack);
		if (err)
			return err;
	}
	return 0;
}

/* Deletes the conntrack entries of @ports once a change is made. */
static void portredir_ct_apply(struct net *net, unsigned long *ports, int err)
{
	if (ports && !err)
		portredir_ct_flush_ports(net, ports);
	portredir_ct_ports_free(ports);
}

/* The namespace's rule set, created on first use; the caller holds the lock. */
static struct portredir_ruleset *portredir_get_ruleset(struct portredir_net *pn)
{
	struct portredir_ruleset *rs;

	rs = rcu_dereference_protected(pn->ruleset, lockdep_is_held(&pn->lock));
	if (rs)
		return rs;
	rs = portredir_ruleset_create();
	if (rs)
		rcu_assign_pointer(pn->ruleset, rs);
	return rs;
}

/*
 * Hooks stay registered once taken: connections bound by a deleted rule
 * still need the NAT core to translate their packets. Conntrack comes with
 * the first NAT rule only: a namespace that only steers never needs it.
 */
static int portredir_hold_hooks(struct net *net, struct portredir_net *pn,
				unsigned int modes,
				struct netlink_ext_ack *extack)
{
	int err = 0;

	if (modes & BIT(PORTREDIR_MODE_NAT) && !pn->hooks_registered) {
		err = portredir_hooks_register(net);
		if (err)
			NL_SET_ERR_MSG(extack, "cannot register with the NAT core");
		pn->hooks_registered = !err;
	}
	if (!err && modes & BIT(PORTREDIR_MODE_STEER) && !pn->steer_registered) {
		err = portredir_steer_register(net);
		if (err)
			NL_SET_ERR_MSG(extack, "cannot register the steering hooks");
		pn->steer_registered = !err;
	}
	return err;
}

/* Takes @rule over: inserted, or freed on failure. */
static int portredir_add_locked(struct net *net, struct portredir_net *pn,
				struct portredir_rule *rule,
				struct netlink_ext_ack *extack)
{
	struct portredir_ruleset *rs;
	int err;

	err = portredir_dev_still_there(net, &rule->sel, extack);
	if (err)
		goto err_free;
	rs = portredir_get_ruleset(pn);
	if (!rs) {
		NL_SET_ERR_MSG(extack, "out of memory for the rule table");
		err = -ENOMEM;
		goto err_free;
	}
	portredir_bump_generation(pn);
	err = portredir_rule_insert(rs, rule, extack);
	if (err)
		goto err_free;
	err = portredir_hold_hooks(net, pn, BIT(rule->mode), extack);
	if (err) {
		portredir_rule_remove(rs, rule);
		return err;
	}
	portredir_netlink_notify(net, PORTREDIR_CMD_ADD, rule);
	return 0;

err_free:
	portredir_rule_free(rule);
	return err;
}

/**
 * portredir_table_add - add a rule to a namespace's table
 * @net: the namespace
 * @rule: the rule, consumed: inserted, or freed on failure
 * @ports: the UDP ports whose conntrack entries go, or NULL; consumed
 * @extack: receives the reason of a refusal
 *
 * Return: 0, or a negative errno with nothing changed.
 */
int portredir_table_add(struct net *net, struct portredir_rule *rule,
			unsigned long *ports, struct netlink_ext_ack *extack)
{
	struct portredir_net *pn = portredir_pernet(net);
	int err;

	if (ports)
		portredir_ct_ports_mark(ports, &rule->sel);
	mutex_lock(&pn->lock);
	err = portredir_add_locked(net, pn, rule, extack);
	mutex_unlock(&pn->lock);
	portredir_ct_apply(net, ports, err);
	return err;
}

/* Tells the monitor group, then unlinks; the caller holds the lock. */
static void portredir_remove_locked(struct net *net, struct portredir_net *pn,
				    struct portredir_ruleset *rs,
				    struct portredir_rule *rule)
{
	portredir_bump_generation(pn);
	portredir_netlink_notify(net, PORTREDIR_CMD_DEL, rule);
	portredir_rule_remove(rs, rule);
}

/**
 * portredir_table_del - delete the rule with exactly this selector
 * @net: the namespace
 * @sel: the selector
 * @ports: the UDP ports whose conntrack entries go, or NULL; consumed
 * @extack: receives the reason of a refusal
 *
 * Return: 0, or -ENOENT when no rule has @sel.
 */
int portredir_table_del(struct net *net, const struct portredir_selector *sel,
			unsigned long *ports, struct netlink_ext_ack *extack)
{
	struct portredir_net *pn = portredir_pernet(net);
	struct portredir_rule *rule = NULL;
	struct portredir_ruleset *rs;

	if (ports)
		portredir_ct_ports_mark(ports, sel);
	mutex_lock(&pn->lock);
	rs = rcu_dereference_protected(pn->ruleset, lockdep_is_held(&pn->lock));
	if (rs)
		rule = portredir_rule_find(rs, sel);
	if (rule)
		portredir_remove_locked(net, pn, rs, rule);
	mutex_unlock(&pn->lock);

	portredir_ct_apply(net, ports, rule ? 0 : -ENOENT);
	if (!rule) {
		NL_SET_ERR_MSG(extack, "no such rule");
		return -ENOENT;
	}
	return 0;
}

/* A replaced table is announced as a flush and the new table's rules. */
static void portredir_notify_ruleset(struct net *net,
				     const struct portredir_ruleset *rs)
{
	struct portredir_position pos = {};
	const struct portredir_rule *rule;

	portredir_netlink_notify(net, PORTREDIR_CMD_FLUSH, NULL);
	if (!rs)
		return;
	while ((rule = portredir_ruleset_next(rs, &pos))) {
		portredir_netlink_notify(net, PORTREDIR_CMD_ADD, rule);
		cond_resched();
	}
}

/* Swaps @rs in for the old table; the caller holds the lock. */
static struct portredir_ruleset *
portredir_swap_locked(struct net *net, struct portredir_net *pn,
		      struct portredir_ruleset *rs, unsigned long *ports)
{
	struct portredir_ruleset *old;

	portredir_bump_generation(pn);
	old = rcu_replace_pointer(pn->ruleset, rs, lockdep_is_held(&pn->lock));
	portredir_notify_ruleset(net, rs);
	if (ports) {
		portredir_ct_ports_mark_all(ports, old);
		portredir_ct_ports_mark_all(ports, rs);
	}
	return old;
}

/**
 * portredir_table_replace - swap a private set in as the namespace's table
 * @net: the namespace
 * @rs: the new table, consumed; NULL or empty to delete every rule
 * @ports: the UDP ports whose conntrack entries go, or NULL; consumed
 * @extack: receives the reason of a refusal
 *
 * Return: 0, -ENODEV when a rule's interface went away, or the error of
 * the NAT core; on failure nothing changed.
 */
int portredir_table_replace(struct net *net, struct portredir_ruleset *rs,
			    unsigned long *ports, struct netlink_ext_ack *extack)
{
	struct portredir_net *pn = portredir_pernet(net);
	struct portredir_ruleset *old;
	int err = 0;

	if (rs && !rs->rules) {
		portredir_ruleset_destroy(rs);
		rs = NULL;
	}
	mutex_lock(&pn->lock);
	if (rs) {
		err = portredir_devs_still_there(net, rs, extack);
		if (!err)
			err = portredir_hold_hooks(net, pn, rs->modes, extack);
	}
	if (err) {
		mutex_unlock(&pn->lock);
		portredir_ruleset_destroy(rs);
		portredir_ct_ports_free(ports);
		return err;
	}
	old = portredir_swap_locked(net, pn, rs, ports);
	mutex_unlock(&pn->lock);
	if (old) {
		/* Readers that may still hold it are done after a grace period. */
		synchronize_rcu();
		portredir_ruleset_destroy(old);
	}
	portredir_ct_apply(net, ports, 0);
	return 0;
}

/*
 * Rules bound to an interface go with it, announced like a DEL. Only the
 * rules of that interface are visited, each removed in O(its ports).
 */
static void portredir_forget_ifindex(struct net *net, int ifindex)
{
	struct portredir_net *pn = portredir_pernet(net);
	struct portredir_ruleset *rs;
	struct portredir_rule *rule;
	struct hlist_node *next;

	mutex_lock(&pn->lock);
	rs = rcu_dereference_protected(pn->ruleset, lockdep_is_held(&pn->lock));
	if (rs) {
		hash_for_each_possible_safe(rs->by_ifindex, rule, next, dev_node,
					    ifindex) {
			if (rule->sel.ifindex != ifindex)
				continue;
			portredir_remove_locked(net, pn, rs, rule);
			cond_resched();
		}
	}
	mutex_unlock(&pn->lock);
}

/*
 * Set under RTNL, which every netdev notification holds, once the module is
 * going: the family may be gone already and every rule is about to be.
 */
static bool portredir_unloading;

static int portredir_netdev_event(struct notifier_block *nb,
				  unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_UNREGISTER && !portredir_unloading)
		portredir_forget_ifindex(dev_net(dev), dev->ifindex);
	return NOTIFY_DONE;
}

static struct notifier_block portredir_netdev_notifier = {
	.notifier_call = portredir_netdev_event,
};

static int __net_init portredir_net_init(struct net *net)
{
	struct portredir_net *pn = portredir_pernet(net);

	mutex_init(&pn->lock);
	mutex_init(&pn->txn_lock);
	return 0;
}

static void __net_exit portredir_net_pre_exit(struct net *net)
{
	struct portredir_net *pn = portredir_pernet(net);

	mutex_lock(&pn->lock);
	if (pn->hooks_registered)
		portredir_hooks_unregister(net);
	pn->hooks_registered = false;
	if (pn->steer_registered)
		portredir_steer_unregister(net);
	pn->steer_registered = false;
	mutex_unlock(&pn->lock);
}

/* Runs after an RCU grace period that follows every pre_exit. */
static void __net_exit portredir_net_exit(struct net *net)
{
	struct portredir_net *pn = portredir_pernet(net);
	struct portredir_ruleset *rs;

	mutex_lock(&pn->lock);
	rs = rcu_replace_pointer(pn->ruleset, NULL, lockdep_is_held(&pn->lock));
	mutex_unlock(&pn->lock);
	portredir_ruleset_destroy(rs);
	portredir_txn_exit(pn);
	mutex_destroy(&pn->txn_lock);
	mutex_destroy(&pn->lock);
}

static struct pernet_operations portredir_net_ops = {
	.init		= portredir_net_init,
	.pre_exit	= portredir_net_pre_exit,
	.exit		= portredir_net_exit,
	.id		= &portredir_net_id,
	.size		= sizeof(struct portredir_net),
};

/* The per-namespace state, and the notifier that follows interfaces. */
int __init portredir_table_init(void)
{
	int err;

	err = register_pernet_subsys(&portredir_net_ops);
	if (err)
		return err;
	err = register_netdevice_notifier(&portredir_netdev_notifier);
	if (err)
		unregister_pernet_subsys(&portredir_net_ops);
	return err;
}

/*
 * Before the family goes: unregistering the notifier replays
 * NETDEV_UNREGISTER for every device, which must neither notify a family
 * already unregistered nor walk the rules once per device, when pernet
 * exit frees them all.
 */
void portredir_table_quiesce(void)
{
	rtnl_lock();
	portredir_unloading = true;
	rtnl_unlock();
}

void portredir_table_uninit(void)
{
	unregister_netdevice_notifier(&portredir_netdev_notifier);
	unregister_pernet_subsys(&portredir_net_ops);
}
