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

#include "command.h"
#include "message.h"
#include "parse.h"
#include "print.h"

#define WORDS_PER_LINE_MAX 32

static void print_saved_rules(const struct options *options,
			      const struct backend *b,
			      const struct rule_list *rules)
{
	struct rule_style style = {
		.syntax = true,
		.with_target = true,
		.numeric = true,
	};
	struct printer p;
	size_t i;

	(void)b;
	printer_init(&p, stdout, options->json);
	print_open_array(&p, NULL);
	for (i = 0; i < rules->len; i++) {
		print_open_object(&p, NULL);
		print_rule(&p, &rules->rules[i], &style);
		print_close_object(&p);
		print_end_line(&p);
	}
	print_close_array(&p);
	if (options->json)
		print_end_line(&p);
}

int cmd_save(const struct options *options, int argc, char **argv)
{
	return show_rules(options, "save", "save", argc, argv,
			  print_saved_rules);
}

/* The rules read so far, each with the line it came from. */
struct rule_file {
	const char *name;
	struct rule_list rules;
	unsigned int *lines;
	size_t lines_cap;
};

static int add_rule(struct rule_file *file, const struct redir_rule *rule,
		    unsigned int line)
{
	if (file->rules.len == file->lines_cap) {
		size_t cap = file->lines_cap ? file->lines_cap * 2 : 16;
		unsigned int *lines;

		lines = realloc(file->lines, cap * sizeof(*lines));
		if (!lines)
			return -ENOMEM;
		file->lines = lines;
		file->lines_cap = cap;
	}
	file->lines[file->rules.len] = line;
	return rule_list_append(&file->rules, rule);
}

static int parse_line(struct rule_file *file, char *text, unsigned int line)
{
	char *words[WORDS_PER_LINE_MAX];
	struct parse_error error;
	struct redir_rule rule;
	int count, first = 0;

	count = split_words(text, words, WORDS_PER_LINE_MAX);
	if (count < 0)
		return usage_error("%s: line %u: more than %d words", file->name,
				   line, WORDS_PER_LINE_MAX);
	if (count == 0)
		return STATUS_OK;
	/* Lines may be add commands, as monitor prints them. */
	if (!strcmp(words[0], "add"))
		first = 1;
	if (parse_rule(count - first, words + first, RULE_WITH_TARGET, &rule,
		       &error))
		return usage_error("%s: line %u: %s", file->name, line,
				   error.message);
	if (add_rule(file, &rule, line))
		return operation_failed(NULL, -ENOMEM, "restore");
	return STATUS_OK;
}

static int read_rule_file(struct rule_file *file, FILE *input)
{
	unsigned int line = 0;
	size_t size = 0;
	char *text = NULL;
	int status = STATUS_OK;

	while (status == STATUS_OK && getline(&text, &size, input) >= 0)
		status = parse_line(file, text, ++line);
	if (status == STATUS_OK && ferror(input))
		status = operation_failed(NULL, -errno, "cannot read %s",
					  file->name);
	free(text);
	return status;
}

static int compare_rule_pointers(const void *a, const void *b)
{
	const struct redir_rule *const *x = a, *const *y = b;

	return rule_compare(*x, *y);
}

static int report_conflict(const struct rule_file *file,
			   const struct redir_rule *a,
			   const struct redir_rule *b)
{
	unsigned int line_a = file->lines[a - file->rules.rules];
	unsigned int line_b = file->lines[b - file->rules.rules];
	char text_a[RULE_FORMAT_MAX], text_b[RULE_FORMAT_MAX];

	if (line_a > line_b)
		return report_conflict(file, b, a);
	rule_format(a, RULE_WITH_TARGET, text_a, sizeof(text_a));
	rule_format(b, RULE_WITH_TARGET, text_b, sizeof(text_b));
	return usage_error("%s: line %u: \"%s\" overlaps \"%s\" on line %u",
			   file->name, line_b, text_b, text_a, line_a);
}

/*
 * The kernel would refuse overlapping rules too, but only here can the
 * answer name both lines. Sorted by protocol and first port, each rule
 * need only be compared with those starting inside its range.
 */
static int check_overlaps(const struct rule_file *file)
{
	const struct redir_rule **sorted;
	size_t n = file->rules.len, i, j;
	int status = STATUS_OK;

	if (n < 2)
		return STATUS_OK;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return operation_failed(NULL, -ENOMEM, "restore");
	for (i = 0; i < n; i++)
		sorted[i] = &file->rules.rules[i];
	qsort(sorted, n, sizeof(*sorted), compare_rule_pointers);

	for (i = 0; i < n && status == STATUS_OK; i++)
		for (j = i + 1; j < n && status == STATUS_OK &&
				sorted[j]->proto == sorted[i]->proto &&
				sorted[j]->port.min <= sorted[i]->port.max; j++)
			if (rules_overlap(sorted[i], sorted[j]))
				status = report_conflict(file, sorted[i],
							 sorted[j]);
	free(sorted);
	return status;
}

static int load_rule_file(struct rule_file *file, const char *path)
{
	FILE *input = stdin;
	int status;

	file->name = "stdin";
	if (path && strcmp(path, "-")) {
		file->name = path;
		input = fopen(path, "r");
		if (!input)
			return operation_failed(NULL, -errno, "cannot read %s",
						path);
	}
	status = read_rule_file(file, input);
	if (input != stdin)
		fclose(input);
	if (status == STATUS_OK)
		status = check_overlaps(file);
	return status;
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
	rule_list_free(&file.rules);
	free(file.lines);
	return status;
}
