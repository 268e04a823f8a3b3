/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CHECKS_H
#define CHECKS_H

#include "host/foreign_nat.h"
#include "host/listener.h"
#include "rules/rule.h"

/* What this host looks like, as far as redirects care. */
struct host_facts {
	struct port_range ephemeral;	/* {0, 0} when unknown */
	struct listener_table listeners;
	struct foreign_nat_list foreign_nat;
};

void host_facts_load(struct host_facts *facts, const struct rule_list *rules);
void host_facts_free(struct host_facts *facts);

typedef void (*warn_fn)(void *arg, const char *sentence);

/*
 * Calls @warn with one sentence per mistake the host shows in @rule: a
 * target in the ephemeral port range, no listener on the target, a
 * listener bound to loopback only for inbound traffic, a listener that
 * misses one of the rule's families, or another table's NAT rule that
 * translates some of the rule's ports too.
 */
void check_rule(const struct host_facts *facts, const struct redir_rule *rule,
		warn_fn warn, void *arg);

#endif
