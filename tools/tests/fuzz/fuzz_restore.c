// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for what restore reads (rule_file_parse()): any bytes
 * as a rules file. A refusal must be one line; rules accepted must come
 * back the same when written in the save syntax and read again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rule_file.h"

/* The rules of @file as save writes them. */
static char *saved_text(const struct rule_file *file, size_t *len)
{
	char *text = malloc(file->rules.len * RULE_FORMAT_MAX + 1);
	size_t i;

	*len = 0;
	if (!text)
		return NULL;
	for (i = 0; i < file->rules.len; i++) {
		*len += (size_t)rule_format(&file->rules.rules[i],
					    RULE_WITH_TARGET, text + *len,
					    RULE_FORMAT_MAX);
		text[(*len)++] = '\n';
	}
	return text;
}

static void check_saved(const struct rule_file *file)
{
	struct rule_file again = { .name = "saved" };
	size_t len, i;
	char *text = saved_text(file, &len);

	if (!text)
		return;
	if (rule_file_parse(&again, text, len) ||
	    again.rules.len != file->rules.len)
		abort();
	for (i = 0; i < file->rules.len; i++)
		if (rule_compare(&file->rules.rules[i], &again.rules.rules[i]) ||
		    file->rules.rules[i].to.min != again.rules.rules[i].to.min ||
		    file->rules.rules[i].to.max != again.rules.rules[i].to.max)
			abort();
	rule_file_free(&again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rule_file file = { .name = "fuzz" };
	const char *c;
	int ret;

	ret = rule_file_parse(&file, (const char *)data, size);
	if (ret == RULE_FILE_INVALID) {
		for (c = file.error; *c; c++)
			if ((unsigned char)*c < 0x20)
				abort();
	} else if (!ret) {
		check_saved(&file);
	}
	rule_file_free(&file);
	return 0;
}
