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

int cmd_add(const struct options *options, int argc, char **argv)
{
	char text[RULE_FORMAT_MAX];
	struct parse_error error;
	struct redir_rule rule;
	struct backend b;
	int status, err;

	if (parse_rule(argc, argv, RULE_WITH_TARGET, &rule, &error))
		return usage_error("%s", error.message);
	status = open_backend(options, &b);
	if (status)
		return status;

	rule_format(&rule, RULE_WITH_TARGET, text, sizeof(text));
	err = backend_add(&b, &rule);
	if (err == -EEXIST)
		status = report_overlap(&b, &rule, text);
	else if (err)
		status = operation_failed(&b, err, "add %s", text);
	else
		warn_about_rule(&rule);
	backend_close(&b);
	return status;
}

int cmd_del(const struct options *options, int argc, char **argv)
{
	char text[RULE_FORMAT_MAX];
	struct parse_error error;
	struct redir_rule rule;
	struct backend b;
	int status, err;

	if (parse_rule(argc, argv, RULE_SELECTOR, &rule, &error))
		return usage_error("%s", error.message);
	status = open_backend(options, &b);
	if (status)
		return status;

	rule_format(&rule, RULE_SELECTOR, text, sizeof(text));
	err = backend_del(&b, &rule);
	if (err == -ENOENT && !b.error[0])
		snprintf(b.error, sizeof(b.error), "no such rule");
	if (err)
		status = operation_failed(&b, err, "del %s", text);
	backend_close(&b);
	return status;
}

int cmd_flush(const struct options *options, int argc, char **argv)
{
	struct backend b;
	int status, err;

	status = expect_no_arguments("flush", argc, argv);
	if (!status)
		status = open_backend(options, &b);
	if (status)
		return status;

	err = backend_flush(&b);
	if (err)
		status = operation_failed(&b, err, "flush");
	backend_close(&b);
	return status;
}
