/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RULE_FILE_H
#define RULE_FILE_H

#include <stddef.h>

#include "rules/rule.h"

/*
 * What restore reads: one rule per line in the add syntax, as save writes
 * them, optionally after "add" (as monitor prints them), with blank lines
 * and "#" comments. The file must be text: a NUL or another control byte
 * other than tab, CR and LF (DEL included) is refused, so that a file a
 * crash filled with zeros, or a line with junk after a NUL, is never taken
 * for an empty table or a shorter rule. Bytes >= 0x80 are left to the rule
 * parser (UTF-8 in comments, interface names the kernel allows).
 */
struct rule_file {
	const char *name;		/* for messages: a path, or "stdin" */
	struct rule_list rules;
	unsigned int *lines;		/* the line each rule came from */
	size_t lines_cap;
	char error[512];
};

#define RULE_FILE_INVALID	1

/*
 * Reads the rules of @len bytes at @text into @file, whose name is set.
 * Checks each line, then that no two rules overlap. Returns 0,
 * RULE_FILE_INVALID with @file->error naming the line ("NAME: line 3:
 * ..."), or -ENOMEM. @text needs no terminating NUL.
 */
int rule_file_parse(struct rule_file *file, const char *text, size_t len);
void rule_file_free(struct rule_file *file);

#endif
