// SPDX-License-Identifier: GPL-2.0
/* add, del and flush: the verbs that change one rule or all of them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host/checks.h"
#include "output/message.h"
#include "rules/parse.h"
#include "verbs/command.h"

static void print_warning(void *arg, const char *sentence)
{
	(void)arg;
	warning("%s", sentence);
}

static void warn_about_rule(const struct redir_rule *rule)
{
	struct rule_list single = { (struct redir_rule *)rule, 1, 1 };
	struct host_facts facts;

	host_facts_load(&facts, &single);
	check_rule(&facts, rule, print_warning, NULL);
	host_facts_free(&facts);
}

/* The kernel says only "overlaps"; the table says with what. */
static int report_overlap(struct backend *b, const struct redir_rule *rule,
			  const char *text)
{
	char reason[sizeof(b->error)];
	struct rule_list rules = { 0 };

	memcpy(reason, b->error, sizeof(reason));
	if (!backend_list(b, &rules))
		rule_list_explain_overlap(&rules, rule, reason, sizeof(reason));
	rule_list_free(&rules);
	memcpy(b->error, reason, sizeof(reason));
	return operation_failed(b, -EEXIST, "add %s", text);
}

/* What add and del work on: the rule, its words for messages, the backend. */
struct rule_change {
	struct redir_rule rule;
	char text[RULE_FORMAT_MAX];
	struct backend b;
};

/* Parses the rule, then opens the backend; returns an exit status. */
static int begin_change(const struct options *options, int argc, char **argv,
			enum rule_syntax syntax, struct rule_change *change)
{
	struct parse_error error;
	int status;

	if (parse_rule(argc, argv, syntax, &change->rule, &error))
		return usage_error("%s", error.message);
	status = open_backend(options, &change->b);
	if (!status)
		rule_format(&change->rule, syntax, change->text,
			    sizeof(change->text));
	return status;
}

int cmd_add(const struct options *options, int argc, char **argv)
{
	struct rule_change c;
	int status, err;

	status = begin_change(options, argc, argv, RULE_WITH_TARGET, &c);
	if (status)
		return status;

	err = backend_add(&c.b, &c.rule);
	if (err == -EEXIST)
		status = report_overlap(&c.b, &c.rule, c.text);
	else if (err)
		status = operation_failed(&c.b, err, "add %s", c.text);
	else
		warn_about_rule(&c.rule);
	backend_close(&c.b);
	return status;
}

int cmd_del(const struct options *options, int argc, char **argv)
{
	struct rule_change c;
	int status, err;

	status = begin_change(options, argc, argv, RULE_SELECTOR, &c);
	if (status)
		return status;

	err = backend_del(&c.b, &c.rule);
	if (err == -ENOENT && !c.b.error[0])
		snprintf(c.b.error, sizeof(c.b.error), "no such rule");
	if (err)
		status = operation_failed(&c.b, err, "del %s", c.text);
	backend_close(&c.b);
	return status;
}

int cmd_flush(const struct options *options, int argc, char **argv)
{
	struct backend b;
	int status, err;

	status = open_backend_for("flush", options, argc, argv, &b);
	if (status)
		return status;

	err = backend_flush(&b);
	if (err)
		status = operation_failed(&b, err, "flush");
	backend_close(&b);
	return status;
}
