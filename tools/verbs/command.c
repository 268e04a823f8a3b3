// SPDX-License-Identifier: GPL-2.0
/* The steps the verbs share: argument checks, the backend, reading rules. */
#include "output/message.h"
#include "verbs/command.h"

int expect_no_arguments(const char *verb, int argc, char **argv)
{
	if (!argc)
		return STATUS_OK;
	return usage_error("unexpected \"%s\" (\"%s\" takes no arguments)",
			   argv[0], verb);
}

int open_backend(const struct options *options, struct backend *b)
{
	if (!backend_open(b, options->backend)) {
		b->keep_conntrack = options->keep_conntrack;
		return STATUS_OK;
	}
	return failure("%s", b->error);
}

int show_rules(const struct options *options, const char *verb,
	       const char *failure, int argc, char **argv, show_rules_fn show)
{
	struct rule_list rules = { 0 };
	struct backend b;
	int status, err;

	status = expect_no_arguments(verb, argc, argv);
	if (!status)
		status = open_backend(options, &b);
	if (status)
		return status;

	err = backend_list(&b, &rules);
	if (err) {
		status = operation_failed(&b, err, "%s", failure);
	} else {
		rule_list_sort(&rules);
		show(options, &b, &rules);
	}
	rule_list_free(&rules);
	backend_close(&b);
	return status;
}
