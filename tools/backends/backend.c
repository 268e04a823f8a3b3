// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "backends/backend.h"
#include "host/conntrack.h"

bool backend_name_valid(const char *name)
{
	return !strcmp(name, "auto") || !strcmp(name, backend_kmod.name) ||
	       !strcmp(name, backend_nft.name);
}

static int open_ops(struct backend *b, const struct backend_ops *ops)
{
	int err;

	memset(b, 0, sizeof(*b));
	b->ops = ops;
	err = ops->open(b);
	if (err && !b->error[0])
		snprintf(b->error, sizeof(b->error), "%s backend unavailable: %s",
			 ops->name, strerror(-err));
	if (err)
		b->ops = NULL;
	return err;
}

static void combine_errors(struct backend *b, const char *kmod_error,
			   const char *nft_error)
	__attribute__((nonnull));

static void combine_errors(struct backend *b, const char *kmod_error,
			   const char *nft_error)
{
	int len;

	len = snprintf(b->error, sizeof(b->error), "no backend available: %s; %s",
		       kmod_error, nft_error);
	/* Two reasons need not fit in one: show where the line was cut. */
	if (len >= (int)sizeof(b->error))
		memcpy(b->error + sizeof(b->error) - 4, "...", 4);
}

int backend_open(struct backend *b, const char *name)
{
	char kmod_error[sizeof(b->error)], nft_error[sizeof(b->error)];
	int err;

	if (!strcmp(name, backend_nft.name))
		return open_ops(b, &backend_nft);
	err = open_ops(b, &backend_kmod);
	if (!err || strcmp(name, "auto"))
		return err;

	memcpy(kmod_error, b->error, sizeof(kmod_error));
	err = open_ops(b, &backend_nft);
	if (err) {
		memcpy(nft_error, b->error, sizeof(nft_error));
		combine_errors(b, kmod_error, nft_error);
	}
	return err;
}

void backend_close(struct backend *b)
{
	if (b->ops && b->ops->close)
		b->ops->close(b);
	b->ops = NULL;
}

/*
 * Where the backend leaves UDP conntrack entries to us, @ports collects the
 * ports a change involves; NULL when nothing is to be done here.
 */
static struct udp_ports *ports_to_clear(const struct backend *b,
					struct udp_ports *ports)
{
	if (b->keep_conntrack || b->ops->conntrack_in_kernel)
		return NULL;
	memset(ports, 0, sizeof(*ports));
	return ports;
}

static int clear_conntrack(struct backend *b, int err,
			   const struct udp_ports *ports)
{
	if (err || !ports)
		return err;
	err = conntrack_delete_udp(ports);
	if (err)
		snprintf(b->error, sizeof(b->error),
			 "rules changed, but the conntrack entries of their UDP flows could not be deleted: %s",
			 strerror(-err));
	return err;
}

static void add_rules(struct udp_ports *ports, const struct rule_list *rules)
{
	size_t i;

	for (i = 0; i < rules->len; i++)
		udp_ports_add_rule(ports, &rules->rules[i]);
}

/* The rules now in place, before a flush or replace deletes them. */
static int add_current_rules(struct backend *b, struct udp_ports *ports)
{
	struct rule_list current = { 0 };
	int err;

	if (!ports)
		return 0;
	err = b->ops->list(b, &current);
	if (!err)
		add_rules(ports, &current);
	rule_list_free(&current);
	return err;
}

static int change_rule(struct backend *b, const struct redir_rule *rule,
		       int (*op)(struct backend *b,
				 const struct redir_rule *rule))
{
	struct udp_ports storage, *ports = ports_to_clear(b, &storage);

	if (ports)
		udp_ports_add_rule(ports, rule);
	return clear_conntrack(b, op(b, rule), ports);
}

int backend_add(struct backend *b, const struct redir_rule *rule)
{
	b->error[0] = '\0';
	return change_rule(b, rule, b->ops->add);
}

int backend_del(struct backend *b, const struct redir_rule *rule)
{
	b->error[0] = '\0';
	return change_rule(b, rule, b->ops->del);
}

int backend_list(struct backend *b, struct rule_list *out)
{
	b->error[0] = '\0';
	return b->ops->list(b, out);
}

int backend_flush(struct backend *b)
{
	struct udp_ports storage, *ports = ports_to_clear(b, &storage);
	int err;

	b->error[0] = '\0';
	err = add_current_rules(b, ports);
	if (!err)
		err = clear_conntrack(b, b->ops->flush(b), ports);
	return err;
}

int backend_replace(struct backend *b, const struct rule_list *rules)
{
	struct udp_ports storage, *ports = ports_to_clear(b, &storage);
	int err;

	b->error[0] = '\0';
	err = add_current_rules(b, ports);
	if (err)
		return err;
	if (ports)
		add_rules(ports, rules);
	return clear_conntrack(b, b->ops->replace(b, rules), ports);
}

int backend_monitor(struct backend *b, monitor_fn fn, void *arg)
{
	b->error[0] = '\0';
	return b->ops->monitor(b, fn, arg);
}
