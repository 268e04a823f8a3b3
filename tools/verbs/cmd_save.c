// SPDX-License-Identifier: GPL-2.0
/*
 * save and restore. save prints one rule per line in the add syntax
 * ("tcp 80 to 8080 -4 --local"), numbers only, defaults left out, sorted;
 * restore reads that back, with blank lines, "#" comments and an optional
 * leading "add" allowed, and replaces the whole table in one step.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/message.h"
#include "output/print.h"
#include "rules/rule_file.h"
#include "util/array.h"
#include "verbs/command.h"

static void print_saved_rule(struct printer *p, size_t index, void *arg)
{
	static const struct rule_style style = {
		.syntax = true,
		.with_target = true,
		.numeric = true,
	};
	const struct rule_list *rules = arg;

	print_rule(p, &rules->rules[index], &style);
}

static void print_saved_rules(const struct options *options,
			      const struct backend *b,
			      const struct rule_list *rules)
{
	(void)b;
	print_items(options, rules->len, print_saved_rule, (void *)rules);
}

int cmd_save(const struct options *options, int argc, char **argv)
{
	return show_rules(options, "save", "save", argc, argv,
			  print_saved_rules);
}

/* All of @input, or NULL with errno set; restore checks it all first. */
static char *read_all(FILE *input, size_t *len)
{
	size_t cap = 0, got;
	char *text = NULL, *grown;

	*len = 0;
	do {
		grown = array_grow(text, &cap, *len, 1);
		if (!grown) {
			free(text);
			errno = ENOMEM;
			return NULL;
		}
		text = grown;
		got = fread(text + *len, 1, cap - *len, input);
		*len += got;
	} while (got);
	if (ferror(input)) {
		free(text);
		return NULL;
	}
	return text;
}

static int load_rule_file(struct rule_file *file, const char *path)
{
	FILE *input = stdin;
	size_t len;
	char *text;
	int err;

	file->name = "stdin";
	if (path && strcmp(path, "-")) {
		file->name = path;
		input = fopen(path, "r");
		if (!input)
			return operation_failed(NULL, -errno, "cannot read %s",
						path);
	}
	text = read_all(input, &len);
	err = text ? 0 : -(errno ? errno : EIO);
	if (input != stdin)
		fclose(input);
	if (err)
		return operation_failed(NULL, err, "cannot read %s", file->name);
	err = rule_file_parse(file, text, len);
	free(text);
	if (err == RULE_FILE_INVALID)
		return usage_error("%s", file->error);
	if (err)
		return operation_failed(NULL, err, "restore");
	return STATUS_OK;
}

int cmd_restore(const struct options *options, int argc, char **argv)
{
	struct rule_file file = { 0 };
	struct backend b;
	int status, err;

	if (argc > 1)
		return usage_error("unexpected \"%s\" (expected restore [FILE])",
				   argv[1]);
	status = load_rule_file(&file, argc ? argv[0] : NULL);
	if (!status)
		status = open_backend(options, &b);
	if (!status) {
		err = backend_replace(&b, &file.rules);
		if (err)
			status = operation_failed(&b, err, "restore");
		backend_close(&b);
	}
	rule_file_free(&file);
	return status;
}
