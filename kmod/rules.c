// SPDX-License-Identifier: GPL-2.0

#include <linux/capability.h>
#include <linux/in.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/portredir.h>

#include "compat.h"
#include "rules.h"

/*
 * Rules sharing a port (other families or directions, other interfaces)
 * sit in a vector. Readers may be walking it: a rule joins through a free
 * entry or a new copy of the vector, leaves by having its entry cleared.
 * @next links vectors built but not yet published.
 */
struct portredir_rule_vec {
	union {
		struct rcu_head rcu;
		struct portredir_rule_vec *next;
	};
	unsigned int size;
	struct portredir_rule __rcu *rules[];
};

#define PORTREDIR_SLOT_VEC	1UL
/* Ports walked between two cond_resched() in long loops. */
#define PORTREDIR_RESCHED_PORTS	4096

static struct kmem_cache *portredir_rule_cache __ro_after_init;

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

static unsigned int portredir_max_rules __read_mostly = 131072;
module_param_cb(max_rules, &portredir_limit_ops, &portredir_max_rules, 0644);
MODULE_PARM_DESC(max_rules, "Rules a network namespace may hold (default 131072)");

static unsigned int portredir_max_ports __read_mostly = 262144;
module_param_cb(max_ports, &portredir_limit_ops, &portredir_max_ports, 0644);
MODULE_PARM_DESC(max_ports, "Ports the rules of a network namespace may cover in all (default 262144)");

/* Readers hold rcu_read_lock(); writers are the set's only writer. */
#define portredir_deref(p)	rcu_dereference_check(p, 1)

int __init portredir_rule_cache_init(void)
{
	portredir_rule_cache = kmem_cache_create("portredir_rule",
						 sizeof(struct portredir_rule),
						 0, SLAB_ACCOUNT, NULL);
	return portredir_rule_cache ? 0 : -ENOMEM;
}

/* After rcu_barrier(): rules freed by call_rcu() are gone. */
void portredir_rule_cache_uninit(void)
{
	kmem_cache_destroy(portredir_rule_cache);
}

static int portredir_proto_index(u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 0;
	case IPPROTO_UDP:
		return 1;
	case IPPROTO_SCTP:
		return 2;
	}
	return -1;
}

static unsigned int portredir_rule_ports(const struct portredir_selector *sel)
{
	return sel->port_max - sel->port_min + 1;
}

static bool portredir_slot_is_vec(const void *slot)
{
	return (unsigned long)slot & PORTREDIR_SLOT_VEC;
}

static struct portredir_rule_vec *portredir_slot_vec(const void *slot)
{
	return (void *)((unsigned long)slot & ~PORTREDIR_SLOT_VEC);
}

/* How many rules a slot holds, free vector entries included. */
static unsigned int portredir_slot_size(const void *slot)
{
	if (!slot)
		return 0;
	if (!portredir_slot_is_vec(slot))
		return 1;
	return portredir_slot_vec(slot)->size;
}

/* The @i-th rule of a slot, below its size; NULL for a free entry. */
static struct portredir_rule *portredir_slot_rule(const void *slot,
						  unsigned int i)
{
	if (!portredir_slot_is_vec(slot))
		return (struct portredir_rule *)slot;
	return portredir_deref(portredir_slot_vec(slot)->rules[i]);
}

static void __rcu **portredir_slot_ptr(const struct portredir_ruleset *rs,
				       int proto, unsigned int port)
{
	struct portredir_port_page *page;

	page = portredir_deref(rs->pages[proto][port >> PORTREDIR_PAGE_SHIFT]);
	if (!page)
		return NULL;
	return &page->slots[port & (PORTREDIR_PAGE_SLOTS - 1)];
}

static void *portredir_slot_get(const struct portredir_ruleset *rs, int proto,
				unsigned int port)
{
	void __rcu **slot = portredir_slot_ptr(rs, proto, port);

	return slot ? portredir_deref(*slot) : NULL;
}

struct portredir_ruleset *portredir_ruleset_create(void)
{
	struct portredir_ruleset *rs;

	rs = kzalloc(sizeof(*rs), PORTREDIR_GFP);
	if (rs)
		hash_init(rs->by_ifindex);
	return rs;
}

static void portredir_rule_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(portredir_rule_cache,
			container_of(head, struct portredir_rule, rcu));
}

/* A rule is freed at the last port it covers, when no slot still needs it. */
static void portredir_slot_destroy(void *slot, unsigned int port)
{
	struct portredir_rule *rule;
	unsigned int i, size = portredir_slot_size(slot);

	for (i = 0; i < size; i++) {
		rule = portredir_slot_rule(slot, i);
		if (rule && rule->sel.port_max == port)
			kmem_cache_free(portredir_rule_cache, rule);
	}
	if (portredir_slot_is_vec(slot))
		kfree(portredir_slot_vec(slot));
}

/* The caller makes sure no reader can still see @rs. */
void portredir_ruleset_destroy(struct portredir_ruleset *rs)
{
	struct portredir_port_page *page;
	unsigned int proto, p, i;

	if (!rs)
		return;
	for (proto = 0; proto < PORTREDIR_PROTOS; proto++) {
		for (p = 0; p < PORTREDIR_PAGES; p++) {
			page = rcu_dereference_protected(rs->pages[proto][p], 1);
			if (!page)
				continue;
			for (i = 0; i < PORTREDIR_PAGE_SLOTS; i++)
				portredir_slot_destroy(rcu_dereference_protected(page->slots[i], 1),
						       p << PORTREDIR_PAGE_SHIFT | i);
			kfree(page);
			cond_resched();
		}
	}
	kfree(rs);
}

/**
 * portredir_ruleset_next - the next rule of a walk in dump order
 * @rs: the set, under rcu_read_lock() or held by its writer
 * @pos: where the walk stands, moved past the rule returned
 *
 * Rules come in order of protocol, then first port, each once (at the
 * slot of its first port). A walk resumes from @pos without going over
 * the rules before it.
 *
 * Return: the rule, or NULL at the end of the set.
 */
struct portredir_rule *portredir_ruleset_next(const struct portredir_ruleset *rs,
					      struct portredir_position *pos)
{
	struct portredir_rule *rule;
	void __rcu **slotp;
	void *slot;

	for (; pos->proto < PORTREDIR_PROTOS; pos->proto++, pos->port = 0) {
		for (; pos->port < 65536; pos->port++, pos->index = 0) {
			slotp = portredir_slot_ptr(rs, pos->proto, pos->port);
			if (!slotp) {
				/* no page: on to the next one */
				pos->port |= PORTREDIR_PAGE_SLOTS - 1;
				continue;
			}
			slot = portredir_deref(*slotp);
			while (pos->index < portredir_slot_size(slot)) {
				rule = portredir_slot_rule(slot, pos->index++);
				if (rule && rule->sel.port_min == pos->port)
					return rule;
			}
		}
	}
	return NULL;
}

struct portredir_rule *portredir_rule_alloc(const struct portredir_selector *sel,
					    u16 to_min, u16 to_max, u8 mode)
{
	struct portredir_rule *rule;

	/* Charged to the caller's memory cgroup: a container pays for its rules. */
	rule = kmem_cache_zalloc(portredir_rule_cache, PORTREDIR_GFP);
	if (!rule)
		return NULL;
	rule->sel = *sel;
	rule->to_min = to_min;
	rule->to_max = to_max;
	rule->mode = mode;
	atomic64_set(&rule->connections, 0);
	return rule;
}

/* Frees a rule that was never inserted. */
void portredir_rule_free(struct portredir_rule *rule)
{
	kmem_cache_free(portredir_rule_cache, rule);
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

/* Every rule covering a port is in its slot: reading each slot is enough. */
static struct portredir_rule *
portredir_find_overlap(const struct portredir_ruleset *rs, int proto,
		       const struct portredir_selector *sel)
{
	struct portredir_rule *rule;
	unsigned int port, i;
	void *slot;

	for (port = sel->port_min; port <= sel->port_max; port++) {
		slot = portredir_slot_get(rs, proto, port);
		for (i = 0; i < portredir_slot_size(slot); i++) {
			rule = portredir_slot_rule(slot, i);
			if (rule && portredir_selectors_overlap(&rule->sel, sel))
				return rule;
		}
		if (!(port % PORTREDIR_RESCHED_PORTS))
			cond_resched();
	}
	return NULL;
}

/* A formatted extack is cut at NETLINK_MAX_FMTMSG_LEN (80) bytes. */
static int portredir_check_budget(const struct portredir_ruleset *rs,
				  const struct portredir_selector *sel,
				  struct netlink_ext_ack *extack)
{
	unsigned int max_rules = READ_ONCE(portredir_max_rules);
	unsigned int max_ports = READ_ONCE(portredir_max_ports);

	if (rs->rules >= max_rules) {
		PORTREDIR_ERR_FMT(extack,
				  "rule budget of this namespace is full (parameter max_rules)",
				  "rule budget of this namespace is full (%u rules, parameter max_rules)",
				  max_rules);
		return -ENOSPC;
	}
	if (rs->ports > max_ports || portredir_rule_ports(sel) > max_ports - rs->ports) {
		PORTREDIR_ERR_FMT(extack,
				  "port budget of this namespace is full (parameter max_ports)",
				  "port budget of this namespace is full (%u ports, parameter max_ports)",
				  max_ports);
		return -ENOSPC;
	}
	return 0;
}

/* Frees the pages of a port range left empty by a failed insertion. */
static void portredir_pages_trim(struct portredir_ruleset *rs, int proto,
				 unsigned int first, unsigned int last)
{
	struct portredir_port_page *page;
	unsigned int p;

	for (p = first; p <= last; p++) {
		page = portredir_deref(rs->pages[proto][p]);
		if (!page || rs->page_used[proto][p])
			continue;
		RCU_INIT_POINTER(rs->pages[proto][p], NULL);
		kvfree_rcu_mightsleep(page);
	}
}

/* Empty pages are harmless to readers: they are published right away. */
static int portredir_pages_fill(struct portredir_ruleset *rs, int proto,
				unsigned int first, unsigned int last)
{
	struct portredir_port_page *page;
	unsigned int p;

	for (p = first; p <= last; p++) {
		if (portredir_deref(rs->pages[proto][p]))
			continue;
		page = kzalloc(sizeof(*page), PORTREDIR_GFP);
		if (!page) {
			portredir_pages_trim(rs, proto, first, p);
			return -ENOMEM;
		}
		rcu_assign_pointer(rs->pages[proto][p], page);
	}
	return 0;
}

/* Whether adding a rule to @slot takes a new vector: no free entry in it. */
static bool portredir_slot_needs_vec(const void *slot)
{
	unsigned int i;

	if (!slot)
		return false;
	for (i = 0; i < portredir_slot_size(slot); i++)
		if (!portredir_slot_rule(slot, i))
			return false;
	return true;
}

/* A copy of @slot's rules and @rule, with room to grow. */
static struct portredir_rule_vec *portredir_vec_build(const void *slot,
						      struct portredir_rule *rule)
{
	struct portredir_rule_vec *vec;
	struct portredir_rule *old;
	unsigned int i, n = 0, size = portredir_slot_size(slot);

	vec = kzalloc(struct_size(vec, rules, size * 2), PORTREDIR_GFP);
	if (!vec)
		return NULL;
	vec->size = size * 2;
	for (i = 0; i < size; i++) {
		old = portredir_slot_rule(slot, i);
		if (old)
			RCU_INIT_POINTER(vec->rules[n++], old);
	}
	RCU_INIT_POINTER(vec->rules[n], rule);
	return vec;
}

static void portredir_vecs_free(struct portredir_rule_vec *vecs)
{
	struct portredir_rule_vec *next;

	for (; vecs; vecs = next) {
		next = vecs->next;
		kfree(vecs);
	}
}

/*
 * The vectors the slots of @rule's ports need, in port order, built before
 * anything is published so that running out of memory changes nothing.
 */
static int portredir_vecs_build(const struct portredir_ruleset *rs, int proto,
				struct portredir_rule *rule,
				struct portredir_rule_vec **vecs)
{
	struct portredir_rule_vec *vec;
	int port;
	void *slot;

	*vecs = NULL;
	for (port = rule->sel.port_max; port >= rule->sel.port_min; port--) {
		slot = portredir_slot_get(rs, proto, port);
		if (portredir_slot_needs_vec(slot)) {
			vec = portredir_vec_build(slot, rule);
			if (!vec) {
				portredir_vecs_free(*vecs);
				return -ENOMEM;
			}
			vec->next = *vecs;
			*vecs = vec;
		}
		if (!(port % PORTREDIR_RESCHED_PORTS))
			cond_resched();
	}
	return 0;
}

static void portredir_slot_add(struct portredir_ruleset *rs, int proto,
			       unsigned int port, struct portredir_rule *rule,
			       struct portredir_rule_vec **vecs)
{
	void __rcu **slotp = portredir_slot_ptr(rs, proto, port);
	void *slot = portredir_deref(*slotp);
	struct portredir_rule_vec *vec;
	unsigned int i;

	if (!slot) {
		rcu_assign_pointer(*slotp, rule);
		rs->page_used[proto][port >> PORTREDIR_PAGE_SHIFT]++;
		return;
	}
	if (portredir_slot_needs_vec(slot)) {
		vec = *vecs;
		*vecs = vec->next;
		rcu_assign_pointer(*slotp,
				   (void *)((unsigned long)vec | PORTREDIR_SLOT_VEC));
		if (portredir_slot_is_vec(slot))
			kfree_rcu(portredir_slot_vec(slot), rcu);
		return;
	}
	vec = portredir_slot_vec(slot);
	for (i = 0; i < vec->size; i++) {
		if (!portredir_deref(vec->rules[i])) {
			rcu_assign_pointer(vec->rules[i], rule);
			return;
		}
	}
}

/**
 * portredir_rule_insert - add a rule to a rule set
 * @rs: the rule set, held by its only writer
 * @rule: from portredir_rule_alloc(), validated
 * @extack: receives the reason of a refusal
 *
 * Costs O(1) per port of the rule. On failure nothing changed and the
 * caller still owns @rule.
 *
 * Return: 0, -ENOSPC beyond the namespace's budget, -EEXIST when @rule
 * overlaps a rule of @rs, -ENOMEM.
 */
int portredir_rule_insert(struct portredir_ruleset *rs,
			  struct portredir_rule *rule,
			  struct netlink_ext_ack *extack)
{
	const struct portredir_selector *sel = &rule->sel;
	int proto = portredir_proto_index(sel->proto);
	struct portredir_rule_vec *vecs;
	struct portredir_rule *found;
	unsigned int port;
	int err;

	err = portredir_check_budget(rs, sel, extack);
	if (err)
		return err;
	found = portredir_find_overlap(rs, proto, sel);
	if (found) {
		if (portredir_selectors_equal(&found->sel, sel))
			NL_SET_ERR_MSG(extack, "rule already exists");
		else
			NL_SET_ERR_MSG(extack, "rule overlaps an existing rule");
		return -EEXIST;
	}
	err = portredir_pages_fill(rs, proto, sel->port_min >> PORTREDIR_PAGE_SHIFT,
				   sel->port_max >> PORTREDIR_PAGE_SHIFT);
	if (!err)
		err = portredir_vecs_build(rs, proto, rule, &vecs);
	if (err) {
		portredir_pages_trim(rs, proto, sel->port_min >> PORTREDIR_PAGE_SHIFT,
				     sel->port_max >> PORTREDIR_PAGE_SHIFT);
		NL_SET_ERR_MSG(extack, "out of memory for the rule");
		return err;
	}

	for (port = sel->port_min; port <= sel->port_max; port++) {
		portredir_slot_add(rs, proto, port, rule, &vecs);
		if (!(port % PORTREDIR_RESCHED_PORTS))
			cond_resched();
	}
	if (sel->ifindex)
		hash_add(rs->by_ifindex, &rule->dev_node, sel->ifindex);
	rs->rules++;
	rs->ports += portredir_rule_ports(sel);
	rs->modes |= BIT(rule->mode);
	return 0;
}

/* Finds the rule whose selector is exactly @sel; the caller is the writer. */
struct portredir_rule *portredir_rule_find(const struct portredir_ruleset *rs,
					   const struct portredir_selector *sel)
{
	int proto = portredir_proto_index(sel->proto);
	struct portredir_rule *rule;
	unsigned int i;
	void *slot;

	slot = portredir_slot_get(rs, proto, sel->port_min);
	for (i = 0; i < portredir_slot_size(slot); i++) {
		rule = portredir_slot_rule(slot, i);
		if (rule && portredir_selectors_equal(&rule->sel, sel))
			return rule;
	}
	return NULL;
}

/* Clears @rule's entry; a vector left with one rule gives way to it. */
static void portredir_vec_remove(void __rcu **slotp,
				 struct portredir_rule_vec *vec,
				 const struct portredir_rule *rule)
{
	struct portredir_rule *other, *last = NULL;
	unsigned int i, live = 0;

	for (i = 0; i < vec->size; i++) {
		other = portredir_deref(vec->rules[i]);
		if (other == rule)
			RCU_INIT_POINTER(vec->rules[i], NULL);
		else if (other)
			live++, last = other;
	}
	if (live == 1) {
		rcu_assign_pointer(*slotp, last);
		kfree_rcu(vec, rcu);
	}
}

static void portredir_slot_remove(struct portredir_ruleset *rs, int proto,
				  unsigned int port,
				  const struct portredir_rule *rule)
{
	unsigned int p = port >> PORTREDIR_PAGE_SHIFT;
	void __rcu **slotp = portredir_slot_ptr(rs, proto, port);
	struct portredir_port_page *page;
	void *slot = portredir_deref(*slotp);

	if (portredir_slot_is_vec(slot)) {
		portredir_vec_remove(slotp, portredir_slot_vec(slot), rule);
		return;
	}
	RCU_INIT_POINTER(*slotp, NULL);
	if (--rs->page_used[proto][p])
		return;
	page = portredir_deref(rs->pages[proto][p]);
	RCU_INIT_POINTER(rs->pages[proto][p], NULL);
	kvfree_rcu_mightsleep(page);
}

/* Unlinks @rule and frees it once readers that may hold it are done. */
void portredir_rule_remove(struct portredir_ruleset *rs,
			   struct portredir_rule *rule)
{
	const struct portredir_selector *sel = &rule->sel;
	int proto = portredir_proto_index(sel->proto);
	unsigned int port;

	for (port = sel->port_min; port <= sel->port_max; port++) {
		portredir_slot_remove(rs, proto, port, rule);
		if (!(port % PORTREDIR_RESCHED_PORTS))
			cond_resched();
	}
	if (sel->ifindex)
		hash_del(&rule->dev_node);
	rs->rules--;
	rs->ports -= portredir_rule_ports(sel);
	call_rcu(&rule->rcu, portredir_rule_free_rcu);
}

static bool portredir_rule_matches(const struct portredir_rule *rule,
				   u8 family, u8 direction, int ifindex)
{
	const struct portredir_selector *sel = &rule->sel;

	return sel->family & family && sel->direction & direction &&
	       (!sel->ifindex || sel->ifindex == ifindex);
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
 * Two dependent loads (page, slot) and, for a port several rules share,
 * a short vector. Rules never overlap, so the first match is the only one.
 */
struct portredir_rule *portredir_rule_lookup(const struct portredir_ruleset *rs,
					     u8 proto, u16 port, u8 family,
					     u8 direction, int ifindex)
{
	struct portredir_port_page *page;
	struct portredir_rule_vec *vec;
	struct portredir_rule *rule;
	int index = portredir_proto_index(proto);
	unsigned int i;
	void *slot;

	if (index < 0)
		return NULL;
	page = rcu_dereference(rs->pages[index][port >> PORTREDIR_PAGE_SHIFT]);
	if (!page)
		return NULL;
	slot = rcu_dereference(page->slots[port & (PORTREDIR_PAGE_SLOTS - 1)]);
	if (!portredir_slot_is_vec(slot)) {
		rule = slot;
		return rule && portredir_rule_matches(rule, family, direction,
						      ifindex) ? rule : NULL;
	}
	vec = portredir_slot_vec(slot);
	for (i = 0; i < vec->size; i++) {
		rule = rcu_dereference(vec->rules[i]);
		if (rule && portredir_rule_matches(rule, family, direction, ifindex))
			return rule;
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
