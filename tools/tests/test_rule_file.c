// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for what restore reads (rule_file.c): the same buffers the
 * command gets from a file or stdin. TAP output; needs no privileges.
 */
#include <netinet/in.h>
#include <string.h>

#include <linux/portredir.h>

#include "rules/rule_file.h"
#include "tap.h"

/* Parses @len bytes; returns what rule_file_parse() did, file freed. */
static int parse_text(const char *text, size_t len, size_t *rules,
		      char *error, size_t error_len)
{
	struct rule_file file = { .name = "rules" };
	int ret;

	ret = rule_file_parse(&file, text, len);
	*rules = file.rules.len;
	snprintf(error, error_len, "%s", ret ? file.error : "");
	rule_file_free(&file);
	return ret;
}

#define TEXT(s) s, sizeof(s) - 1

static void expect_rules(struct tally *t, const char *name, const char *text,
			 size_t len, size_t want)
{
	char error[512];
	size_t rules;
	int ret = parse_text(text, len, &rules, error, sizeof(error));

	report(t, !ret && rules == want, "%s: %zu rules%s%s", name, want,
	       ret ? ", got: " : "", error);
}

/* The error must begin with @want. */
static void expect_invalid(struct tally *t, const char *name, const char *text,
			   size_t len, const char *want)
{
	char error[512];
	size_t rules;
	int ret = parse_text(text, len, &rules, error, sizeof(error));
	bool ok = ret == RULE_FILE_INVALID && !strncmp(error, want, strlen(want));

	report(t, ok, "%s: \"%s\"%s%s", name, want,
	       ok ? "" : ret ? ", got: " : ", accepted", ok ? "" : error);
}

static void test_text(struct tally *t)
{
	expect_rules(t, "empty file", "", 0, 0);
	expect_rules(t, "comments, blank lines, add, tabs, CRLF",
		     TEXT("# saved\n\n\tadd tcp 80 to 8080\r\nudp 53 5353 -4 # dns\n"), 2);
	expect_rules(t, "no newline at the end", TEXT("tcp 80 to 8080"), 1);
	expect_rules(t, "UTF-8 in a comment", TEXT("# caf\xc3\xa9\ntcp 80 8080\n"), 1);
	expect_invalid(t, "a file of zeros", TEXT("\0\0\0\0\0\0\0\0"),
		       "rules: line 1: not text: byte 0x00 at column 1");
	expect_invalid(t, "junk after a NUL", TEXT("tcp 80 to 8080\ntcp 81 to 8081\0junk\n"),
		       "rules: line 2: not text: byte 0x00 at column 15");
	expect_invalid(t, "zeros after the last line", TEXT("tcp 80 to 8080\n\0\0"),
		       "rules: line 2: not text: byte 0x00 at column 1");
	expect_invalid(t, "NUL in a comment", TEXT("# a\0b\n"),
		       "rules: line 1: not text: byte 0x00 at column 4");
	expect_invalid(t, "an escape sequence", TEXT("tcp 80 to 8080 \x1b[2J\n"),
		       "rules: line 1: not text: byte 0x1b at column 16");
	expect_invalid(t, "DEL", TEXT("\x7f\n"),
		       "rules: line 1: not text: byte 0x7f at column 1");
	expect_invalid(t, "form feed", TEXT("\n\n\f\n"),
		       "rules: line 3: not text: byte 0x0c at column 1");
}

static void test_rules(struct tally *t)
{
	struct rule_file file = { .name = "rules" };
	const struct redir_rule *r;
	bool ok;

	ok = !rule_file_parse(&file, TEXT("udp 53-54 to 5353-5354 -6 --local\n")) &&
	     file.rules.len == 1 && file.lines[0] == 1;
	r = file.rules.rules;
	report(t, ok && r->proto == IPPROTO_UDP && r->port.min == 53 &&
		  r->port.max == 54 && r->to.min == 5353 && r->to.max == 5354 &&
		  r->family == PORTREDIR_FAMILY_IPV6 &&
		  r->direction == PORTREDIR_DIR_LOCAL,
	       "a line becomes the rule it says");
	rule_file_free(&file);

	expect_invalid(t, "a bad rule", TEXT("# x\n\ntcp 70000 to 1\n"),
		       "rules: line 3: port 70000 out of range");
	expect_invalid(t, "overlapping rules",
		       TEXT("tcp 70-90 to 9000\n\nadd tcp 80 to 8080 -4\n"),
		       "rules: line 3: \"tcp 80 to 8080 -4\" overlaps \"tcp 70-90 to 9000\" on line 1");
}

int main(void)
{
	struct tally tally = { 0 };

	test_text(&tally);
	test_rules(&tally);
	return tally_finish(&tally);
}
