// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the rule parser behind add and del: the input is
 * the words of a command line, NUL-separated, after one byte choosing the
 * syntax. A rule that parses must be valid and must read back, through
 * the save syntax, as itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/parse.h"

#define WORDS_MAX 32

static void check_rule(const struct redir_rule *rule, enum rule_syntax syntax)
{
	char text[RULE_FORMAT_MAX], *words[WORDS_MAX];
	struct parse_error error;
	struct redir_rule again;
	int count;

	if (rule->port.min < 1 || rule->port.min > rule->port.max ||
	    !rule->family || !rule->direction)
		abort();
	if (syntax == RULE_WITH_TARGET &&
	    (rule->to.min < 1 || rule->to.min > rule->to.max ||
	     (rule->to.min != rule->to.max &&
	      port_range_size(&rule->to) != port_range_size(&rule->port))))
		abort();
	if (rule_format(rule, syntax, text, sizeof(text)) >= (int)sizeof(text))
		abort();
	count = split_words(text, words, WORDS_MAX);
	if (parse_rule(count, words, syntax, &again, &error) ||
	    memcmp(rule, &again, sizeof(again)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum rule_syntax syntax;
	struct parse_error error;
	struct redir_rule rule;
	char *copy, *words[WORDS_MAX], *end;
	int count = 0;

	if (!size)
		return 0;
	syntax = data[0] & 1 ? RULE_WITH_TARGET : RULE_SELECTOR;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	/* argv words: NUL-separated, any other byte allowed. */
	for (end = copy; count < WORDS_MAX && end < copy + size; count++) {
		words[count] = end;
		end += strlen(end) + 1;
	}
	if (count == 1 && !words[0][0])
		count = 0;
	if (!parse_rule(count, words, syntax, &rule, &error))
		check_rule(&rule, syntax);
	else if (!error.message[0])
		abort();
	free(copy);
	return 0;
}
