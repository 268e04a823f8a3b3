// SPDX-License-Identifier: GPL-2.0
/*
 * The reading side of restore, on a buffer: no I/O, so that the unit tests
 * and the fuzzer see exactly what restore does with a file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/parse.h"
#include "rules/rule_file.h"
#include "util/array.h"

#define WORDS_PER_LINE_MAX 32

static int invalid(struct rule_file *file, unsigned int line,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int invalid(struct rule_file *file, unsigned int line,
		   const char *fmt, ...)
{
	size_t used;
	va_list ap;

	used = (size_t)snprintf(file->error, sizeof(file->error),
				"%s: line %u: ", file->name, line);
	if (used < sizeof(file->error)) {
		va_start(ap, fmt);
		vsnprintf(file->error + used, sizeof(file->error) - used, fmt,
			  ap);
		va_end(ap);
	}
	return RULE_FILE_INVALID;
}

static int add_rule(struct rule_file *file, const struct redir_rule *rule,
		    unsigned int line)
{
	unsigned int *lines;

	lines = array_grow(file->lines, &file->lines_cap, file->rules.len,
			   sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	file->lines = lines;
	file->lines[file->rules.len] = line;
	return rule_list_append(&file->rules, rule);
}

static bool is_text(unsigned char c)
{
	return (c >= 0x20 && c != 0x7f) || c == '\t' || c == '\r';
}

/* @text is one line of @len bytes, its newline replaced by a NUL. */
static int parse_line(struct rule_file *file, char *text, size_t len,
		      unsigned int line)
{
	char *words[WORDS_PER_LINE_MAX];
	struct parse_error error;
	struct redir_rule rule;
	int count, first = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_text((unsigned char)text[i]))
			return invalid(file, line,
				       "not text: byte 0x%02x at column %zu",
				       (unsigned char)text[i], i + 1);
	count = split_words(text, words, WORDS_PER_LINE_MAX);
	if (count < 0)
		return invalid(file, line, "more than %d words",
			       WORDS_PER_LINE_MAX);
	if (count == 0)
		return 0;
	/* Lines may be add commands, as monitor prints them. */
	if (!strcmp(words[0], "add"))
		first = 1;
	if (parse_rule(count - first, words + first, RULE_WITH_TARGET, &rule,
		       &error))
		return invalid(file, line, "%s", error.message);
	return add_rule(file, &rule, line);
}

/*
 * The kernel would refuse overlapping rules too, but only here can the
 * answer name both lines.
 */
static int check_overlaps(struct rule_file *file)
{
	char text_a[RULE_FORMAT_MAX], text_b[RULE_FORMAT_MAX];
	size_t a, b, swap;
	int found = rule_list_find_overlap(&file->rules, &a, &b);

	if (found <= 0)
		return found;
	if (file->lines[a] > file->lines[b]) {
		swap = a;
		a = b;
		b = swap;
	}
	rule_format(&file->rules.rules[a], RULE_WITH_TARGET, text_a,
		    sizeof(text_a));
	rule_format(&file->rules.rules[b], RULE_WITH_TARGET, text_b,
		    sizeof(text_b));
	return invalid(file, file->lines[b],
		       "\"%s\" overlaps \"%s\" on line %u", text_b, text_a,
		       file->lines[a]);
}

int rule_file_parse(struct rule_file *file, const char *text, size_t len)
{
	char *copy = malloc(len + 1), *line, *end;
	unsigned int number = 0;
	int status = 0;

	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; !status && line < copy + len; line = end + 1) {
		end = memchr(line, '\n', (size_t)(copy + len - line));
		if (!end)
			end = copy + len;
		*end = '\0';
		status = parse_line(file, line, (size_t)(end - line), ++number);
	}
	free(copy);
	return status ? status : check_overlaps(file);
}

void rule_file_free(struct rule_file *file)
{
	rule_list_free(&file->rules);
	free(file->lines);
	file->lines = NULL;
	file->lines_cap = 0;
}
