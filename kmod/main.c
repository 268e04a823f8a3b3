// SPDX-License-Identifier: GPL-2.0

#include <linux/module.h>
#include <linux/portredir.h>
#include <net/genetlink.h>

#include "netlink.h"
#include "rules.h"
#include "table.h"
#include "txn.h"

static int __init portredir_init(void)
{
	int err;

	err = portredir_rule_cache_init();
	if (err)
		return err;
	err = portredir_table_init();
	if (err)
		goto err_cache;
	err = portredir_txn_init();
	if (err)
		goto err_table;
	err = portredir_netlink_init();
	if (err)
		goto err_txn;
	pr_info("loaded\n");
	return 0;

err_txn:
	portredir_txn_uninit();
err_table:
	portredir_table_uninit();
err_cache:
	portredir_rule_cache_uninit();
	return err;
}

static void __exit portredir_exit(void)
{
	portredir_table_quiesce();
	portredir_netlink_uninit();
	portredir_txn_uninit();
	portredir_table_uninit();
	/* Rules deleted by call_rcu() go back to their cache first. */
	rcu_barrier();
	portredir_rule_cache_uninit();
}

module_init(portredir_init);
module_exit(portredir_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Destination port redirection through conntrack NAT");
MODULE_AUTHOR("portredir developers");
MODULE_VERSION(PORTREDIR_VERSION);
MODULE_ALIAS_GENL_FAMILY(PORTREDIR_GENL_NAME);
