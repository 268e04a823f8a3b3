// SPDX-License-Identifier: GPL-2.0

#include <linux/slab.h>
#include <linux/portredir.h>

#include "rules.h"

static const struct rhashtable_params portredir_table_params = {
	.head_offset = offsetof(struct portredir_port_entry, node),
	.key_offset = offsetof(struct portredir_port_entry, key),
	.key_len = sizeof(u32),
	.automatic_shrinking = true,
};

static u32 portredir_key(u8 proto, u16 port)
{
	return (u32)proto << 16 | port;
}

static unsigned int portredir_rule_ports(const struct portredir_selector *sel)
{
	return sel->port_max - sel->port_min + 1;
}

struct portredir_ruleset *portredir_ruleset_create(void)
{
	struct portredir_ruleset *rs;

	rs = kzalloc(sizeof(*rs), GFP_KERNEL_ACCOUNT);
	if (!rs)
		return NULL;
	if (rhltable_init(&rs->table, &portredir_table_params)) {
		kfree(rs);
		return NULL;
	}
	INIT_LIST_HEAD(&rs->rules);
	return rs;
}

/* The caller makes sure no reader can still see @rs. */
void portredir_ruleset_destroy(struct portredir_ruleset *rs)
{
	struct portredir_rule *rule, *next;

	if (!rs)
		return;
	rhltable_destroy(&rs->table);
	list_for_each_entry_safe(rule, next, &rs->rules, list)
		kvfree(rule);
	kfree(rs);
}

static bool portredir_selectors_overlap(const struct portredir_selector *a,
					const struct portredir_selector *b)
{
	return a->proto == b->proto &&
	       a->family & b->family &&
	       a->direction & b->direction &&
	       (!a->ifindex || !b->ifindex || a->ifindex == b->ifindex) &&
	       a->port_min <= b->port_max && b->port_min <= a->port_max;
}

static bool portredir_selectors_equal(const struct portredir_selector *a,
				      const struct portredir_selector *b)
{
	return a->proto == b->proto && a->family == b->family &&
	       a->direction == b->direction && a->ifindex == b->ifindex &&
	       a->port_min == b->port_min && a->port_max == b->port_max;
}

/* Every rule covering a port has an entry for it: probing each port is enough. */
static struct portredir_rule *
portredir_find_overlap(struct portredir_ruleset *rs,
		       const struct portredir_selector *sel)
{
	struct portredir_rule *found = NULL;
	struct portredir_port_entry *entry;
	struct rhlist_head *list, *pos;
	u32 port;

	for (port = sel->port_min; port <= sel->port_max && !found; port++) {
		u32 key = portredir_key(sel->proto, port);

		rcu_read_lock();
		list = rhltable_lookup(&rs->table, &key, portredir_table_params);
		rhl_for_each_entry_rcu(entry, pos, list, node) {
			if (portredir_selectors_overlap(&entry->rule->sel, sel)) {
				found = entry->rule;
				break;
			}
		}
		rcu_read_unlock();
		cond_resched();
	}
	return found;
}

static void portredir_unhash(struct portredir_ruleset *rs,
			     struct portredir_rule *rule, unsigned int count)
{
	while (count--)
		rhltable_remove(&rs->table, &rule->entries[count].node,
				portredir_table_params);
}

/**
 * portredir_rule_insert - add a rule to a rule set
 * @rs: the rule set, with the namespace's lock held
 * @sel: what the rule matches, already validated
 * @to_min: target port
 * @to_max: last target port, @to_min or as far from it as @sel's range is long
 * @mode: enum portredir_mode, already validated
 * @extack: receives the reason of a refusal
 *
 * Return: the new rule, or an ERR_PTR: -EEXIST when @sel overlaps a rule
 * of @rs, -ENOMEM.
 */
struct portredir_rule *portredir_rule_insert(struct portredir_ruleset *rs,
					     const struct portredir_selector *sel,
					     u16 to_min, u16 to_max, u8 mode,
					     struct netlink_ext_ack *extack)
{
	unsigned int i, ports = portredir_rule_ports(sel);
	struct portredir_rule *rule;
	int err;

	rule = portredir_find_overlap(rs, sel);
	if (rule) {
		if (portredir_selectors_equal(&rule->sel, sel))
			NL_SET_ERR_MSG(extack, "rule already exists");
		else
			NL_SET_ERR_MSG(extack, "rule overlaps an existing rule");
		return ERR_PTR(-EEXIST);
	}

	/* Charged to the caller's memory cgroup: a container pays for its rules. */
	rule = kvzalloc(struct_size(rule, entries, ports), GFP_KERNEL_ACCOUNT);
	if (!rule) {
		NL_SET_ERR_MSG(extack, "out of memory for the rule");
		return ERR_PTR(-ENOMEM);
	}
	rule->sel = *sel;
	rule->to_min = to_min;
	rule->to_max = to_max;
	rule->mode = mode;
	atomic64_set(&rule->connections, 0);

	for (i = 0; i < ports; i++) {
		rule->entries[i].key = portredir_key(sel->proto, sel->port_min + i);
		rule->entries[i].rule = rule;
		err = rhltable_insert(&rs->table, &rule->entries[i].node,
				      portredir_table_params);
		if (err)
			goto err_unhash;
		cond_resched();
	}
	list_add_tail(&rule->list, &rs->rules);
	rs->count++;
	rs->modes |= 1U << mode;
	return rule;

err_unhash:
	portredir_unhash(rs, rule, i);
	kvfree_rcu(rule, rcu);
	NL_SET_ERR_MSG(extack, "cannot store the rule");
	return ERR_PTR(err);
}

/* Finds the rule whose selector is exactly @sel; the caller holds the lock. */
struct portredir_rule *portredir_rule_find(struct portredir_ruleset *rs,
					   const struct portredir_selector *sel)
{
	u32 key = portredir_key(sel->proto, sel->port_min);
	struct portredir_rule *found = NULL;
	struct portredir_port_entry *entry;
	struct rhlist_head *list, *pos;

	rcu_read_lock();
	list = rhltable_lookup(&rs->table, &key, portredir_table_params);
	rhl_for_each_entry_rcu(entry, pos, list, node) {
		if (portredir_selectors_equal(&entry->rule->sel, sel)) {
			found = entry->rule;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* Unlinks @rule and frees it once readers that may hold it are done. */
void portredir_rule_remove(struct portredir_ruleset *rs,
			   struct portredir_rule *rule)
{
	portredir_unhash(rs, rule, portredir_rule_ports(&rule->sel));
	list_del(&rule->list);
	rs->count--;
	kvfree_rcu(rule, rcu);
}

/**
 * portredir_rule_lookup - the rule matching a new connection, if any
 * @rs: the namespace's rule set, under rcu_read_lock()
 * @proto: layer 4 protocol
 * @port: destination port, host byte order
 * @family: PORTREDIR_FAMILY_IPV4 or PORTREDIR_FAMILY_IPV6
 * @direction: PORTREDIR_DIR_INBOUND or PORTREDIR_DIR_LOCAL
 * @ifindex: input interface for inbound traffic
 *
 * Rules never overlap, so the first match is the only one.
 */
struct portredir_rule *portredir_rule_lookup(struct portredir_ruleset *rs,
					     u8 proto, u16 port, u8 family,
					     u8 direction, int ifindex)
{
	u32 key = portredir_key(proto, port);
	struct portredir_port_entry *entry;
	struct rhlist_head *list, *pos;

	list = rhltable_lookup(&rs->table, &key, portredir_table_params);
	rhl_for_each_entry_rcu(entry, pos, list, node) {
		const struct portredir_selector *sel = &entry->rule->sel;

		if (sel->family & family && sel->direction & direction &&
		    (!sel->ifindex || sel->ifindex == ifindex))
			return entry->rule;
	}
	return NULL;
}

/* A target range keeps the offset into the matched range; a port takes all. */
u16 portredir_rule_target(const struct portredir_rule *rule, u16 port)
{
	if (rule->to_min == rule->to_max)
		return rule->to_min;
	return rule->to_min + (port - rule->sel.port_min);
}
