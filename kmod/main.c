// SPDX-License-Identifier: GPL-2.0

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/portredir.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/netns/generic.h>

#include "hook.h"
#include "netlink.h"
#include "netns.h"
#include "rules.h"
#include "steer.h"
#include "txn.h"

/*
 * The file's mode lets any process with the host's uid 0 write, and the root
 * of a user namespace that maps it (unshare -r run by root) is one: ask for
 * CAP_NET_ADMIN in the initial user namespace as well.
 */
static int portredir_set_limit(const char *val, const struct kernel_param *kp)
{
	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	return param_set_uint(val, kp);
}

static const struct kernel_param_ops portredir_limit_ops = {
	.set = portredir_set_limit,
	.get = param_get_uint,
};

unsigned int portredir_max_rules __read_mostly = 131072;
module_param_cb(max_rules, &portredir_limit_ops, &portredir_max_rules, 0644);
MODULE_PARM_DESC(max_rules, "Rules a network namespace may hold (default 131072)");

unsigned int portredir_max_ports __read_mostly = 262144;
module_param_cb(max_ports, &portredir_limit_ops, &portredir_max_ports, 0644);
MODULE_PARM_DESC(max_ports, "Ports the rules of a network namespace may cover in all (default 262144)");

static unsigned int portredir_net_id __read_mostly;

struct portredir_net *portredir_pernet(const struct net *net)
{
	return net_generic(net, portredir_net_id);
}

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
			portredir_bump_generation(pn);
			portredir_netlink_notify(net, PORTREDIR_CMD_DEL, rule);
			portredir_rule_remove(rs, rule);
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

static int __init portredir_init(void)
{
	int err;

	err = portredir_rule_cache_init();
	if (err)
		return err;
	err = register_pernet_subsys(&portredir_net_ops);
	if (err)
		goto err_cache;
	err = register_netdevice_notifier(&portredir_netdev_notifier);
	if (err)
		goto err_pernet;
	err = portredir_txn_init();
	if (err)
		goto err_netdev;
	err = portredir_netlink_init();
	if (err)
		goto err_txn;
	pr_info("loaded\n");
	return 0;

err_txn:
	portredir_txn_uninit();
err_netdev:
	unregister_netdevice_notifier(&portredir_netdev_notifier);
err_pernet:
	unregister_pernet_subsys(&portredir_net_ops);
err_cache:
	portredir_rule_cache_uninit();
	return err;
}

static void __exit portredir_exit(void)
{
	/*
	 * Unregistering the notifier replays NETDEV_UNREGISTER for every
	 * device: that must neither notify a family already unregistered nor
	 * walk the rules once per device, when pernet exit frees them all.
	 */
	rtnl_lock();
	portredir_unloading = true;
	rtnl_unlock();
	portredir_netlink_uninit();
	portredir_txn_uninit();
	unregister_netdevice_notifier(&portredir_netdev_notifier);
	unregister_pernet_subsys(&portredir_net_ops);
	/* Rules deleted by call_rcu() go back to their cache first. */
	rcu_barrier();
	portredir_rule_cache_uninit();
}

module_init(portredir_init);
module_exit(portredir_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Destination port redirection through conntrack NAT");
MODULE_AUTHOR("portredir developers");
MODULE_VERSION("0.1.0");
MODULE_ALIAS_GENL_FAMILY(PORTREDIR_GENL_NAME);
