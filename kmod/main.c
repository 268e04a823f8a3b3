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

static unsigned int portredir_net_id __read_mostly;

struct portredir_net *portredir_pernet(const struct net *net)
{
	return net_generic(net, portredir_net_id);
}

static int __net_init portredir_net_init(struct net *net)
{
	struct portredir_net *pn = portredir_pernet(net);

	mutex_init(&pn->lock);
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
	mutex_destroy(&pn->lock);
}

static struct pernet_operations portredir_net_ops = {
	.init		= portredir_net_init,
	.pre_exit	= portredir_net_pre_exit,
	.exit		= portredir_net_exit,
	.id		= &portredir_net_id,
	.size		= sizeof(struct portredir_net),
};

/* Rules bound to an interface go with it, announced like a DEL. */
static void portredir_forget_ifindex(struct net *net, int ifindex)
{
	struct portredir_net *pn = portredir_pernet(net);
	struct portredir_rule *rule, *next;
	struct portredir_ruleset *rs;

	mutex_lock(&pn->lock);
	rs = rcu_dereference_protected(pn->ruleset, lockdep_is_held(&pn->lock));
	if (rs) {
		list_for_each_entry_safe(rule, next, &rs->rules, list) {
			if (rule->sel.ifindex != ifindex)
				continue;
			portredir_netlink_notify(net, PORTREDIR_CMD_DEL, rule);
			portredir_rule_remove(rs, rule);
			pn->generation++;
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

	err = register_pernet_subsys(&portredir_net_ops);
	if (err)
		return err;
	err = register_netdevice_notifier(&portredir_netdev_notifier);
	if (err)
		goto err_pernet;
	err = portredir_netlink_init();
	if (err)
		goto err_notifier;
	pr_info("loaded\n");
	return 0;

err_notifier:
	unregister_netdevice_notifier(&portredir_netdev_notifier);
err_pernet:
	unregister_pernet_subsys(&portredir_net_ops);
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
	unregister_netdevice_notifier(&portredir_netdev_notifier);
	/*
	 * No rcu_barrier(): rules go through kvfree_rcu(), which calls back
	 * into no code of this module.
	 */
	unregister_pernet_subsys(&portredir_net_ops);
}

module_init(portredir_init);
module_exit(portredir_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Destination port redirection through conntrack NAT");
MODULE_AUTHOR("portredir developers");
MODULE_VERSION("0.1.0");
MODULE_ALIAS_GENL_FAMILY(PORTREDIR_GENL_NAME);
