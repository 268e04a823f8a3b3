// SPDX-License-Identifier: GPL-2.0
/* The steps the verbs share: argument checks, the backend, reading rules. */
#include "output/message.h"
#include "output/print.h"
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

int open_backend_for(const char *verb, const struct options *options,
		     int argc, char **argv, struct backend *b)
{
	int status = expect_no_arguments(verb, argc, argv);

	return status ? status : open_backend(options, b);
}

void print_items(const struct options *options, size_t count,
		 print_item_fn print_item, void *arg)
{
	struct printer p;
	size_t i;

	printer_init(&p, stdout, options->json);
	print_open_array(&p, NULL);
	for (i = 0; i < count; i++) {
		print_open_object(&p, NULL);
		print_item(&p, i, arg);
		print_close_object(&p);
		print_end_line(&p);
	}
	print_close_array(&p);
	if (options->json)
		print_end_line(&p);
}

int show_rules(const struct options *options, const char *verb,
	       const char *failure, int argc, char **argv, show_rules_fn show)
{
	struct rule_list rules = { 0 };
	struct backend b;
	int status, err;

	status = open_backend_for(verb, options, argc, argv, &b);
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
