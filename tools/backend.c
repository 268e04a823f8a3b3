// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"

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

static int unsupported(struct backend *b, const char *operation)
{
	snprintf(b->error, sizeof(b->error), "the %s backend cannot %s",
		 b->ops->name, operation);
	return -EOPNOTSUPP;
}

int backend_add(struct backend *b, const struct redir_rule *rule)
{
	b->error[0] = '\0';
	return b->ops->add ? b->ops->add(b, rule) : unsupported(b, "add rules");
}

int backend_del(struct backend *b, const struct redir_rule *rule)
{
	b->error[0] = '\0';
	return b->ops->del ? b->ops->del(b, rule) :
			     unsupported(b, "delete rules");
}

int backend_list(struct backend *b, struct rule_list *out)
{
	b->error[0] = '\0';
	return b->ops->list ? b->ops->list(b, out) :
			      unsupported(b, "list rules");
}

int backend_flush(struct backend *b)
{
	b->error[0] = '\0';
	return b->ops->flush ? b->ops->flush(b) : unsupported(b, "flush");
}

int backend_replace(struct backend *b, const struct rule_list *rules)
{
	b->error[0] = '\0';
	return b->ops->replace ? b->ops->replace(b, rules) :
				 unsupported(b, "replace rules");
}

int backend_monitor(struct backend *b, monitor_fn fn, void *arg)
{
	b->error[0] = '\0';
	return b->ops->monitor ? b->ops->monitor(b, fn, arg) :
				 unsupported(b, "monitor changes");
}
