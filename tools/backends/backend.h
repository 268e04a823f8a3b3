/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BACKEND_H
#define BACKEND_H

#include "rules/rule.h"

/*
 * A backend turns rules into kernel state: "kmod" talks to portredir.ko over
 * generic netlink, "nft" builds the same rules in an nftables table of its
 * own. Every operation returns 0 or a negative errno; on failure it may leave
 * a one-line reason (a kernel extack message, say) in error[], which the
 * caller prints after "portredir: ".
 */
struct backend {
	const struct backend_ops *ops;
	void *priv;
	char error[256];
	/*
	 * Changes delete the conntrack entries of the UDP flows to the ports
	 * involved (so that they meet the new rules at once) unless set.
	 */
	bool keep_conntrack;
};

typedef void (*monitor_fn)(int cmd, const struct redir_rule *rule, void *arg);

/* Every backend has every operation. */
struct backend_ops {
	const char *name;
	/*
	 * The backend deletes the conntrack entries of UDP flows to the ports
	 * it changes by itself; else backend.c does, over ctnetlink.
	 */
	bool conntrack_in_kernel;
	/* -ENOENT: this backend is not available on this kernel. */
	int (*open)(struct backend *b);
	void (*close)(struct backend *b);
	int (*add)(struct backend *b, const struct redir_rule *rule);
	int (*del)(struct backend *b, const struct redir_rule *rule);
	int (*list)(struct backend *b, struct rule_list *out);
	int (*flush)(struct backend *b);
	/* Atomically replace every rule with @rules. */
	int (*replace)(struct backend *b, const struct rule_list *rules);
	/*
	 * Calls @fn with a PORTREDIR_CMD_* for each change until interrupted;
	 * PORTREDIR_CMD_UNSPEC with no rule when events were lost.
	 */
	int (*monitor)(struct backend *b, monitor_fn fn, void *arg);
};

extern const struct backend_ops backend_kmod;
extern const struct backend_ops backend_nft;

/* Is @name "auto", "kmod" or "nft"? */
bool backend_name_valid(const char *name);

/*
 * Opens the backend called @name; "auto" means kmod when the module's
 * genetlink family exists, else nft. Returns 0 or a negative errno with the
 * reason in b->error.
 */
int backend_open(struct backend *b, const char *name);
void backend_close(struct backend *b);

/* The operations, for callers: each clears b->error first. */
int backend_add(struct backend *b, const struct redir_rule *rule);
int backend_del(struct backend *b, const struct redir_rule *rule);
int backend_list(struct backend *b, struct rule_list *out);
int backend_flush(struct backend *b);
int backend_replace(struct backend *b, const struct rule_list *rules);
int backend_monitor(struct backend *b, monitor_fn fn, void *arg);

#endif
