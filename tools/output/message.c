// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/message.h"

/*
 * Messages quote what the user typed, and the kernel's extack text comes
 * from outside too: control bytes in either would split the one line the
 * contract promises, or move a terminal's cursor. Our own texts have none,
 * so the whole line is escaped.
 */
static void put_escaped(const char *s, FILE *out)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static void print_line(const char *prefix, const char *fmt, va_list ap,
		       const char *reason)
{
	char short_text[256], *text = short_text;
	va_list copy;
	int len;

	va_copy(copy, ap);
	len = vsnprintf(short_text, sizeof(short_text), fmt, copy);
	va_end(copy);
	if (len >= (int)sizeof(short_text)) {
		text = malloc((size_t)len + 1);
		if (text)
			vsnprintf(text, (size_t)len + 1, fmt, ap);
		else
			text = short_text;
	}
	fprintf(stderr, "portredir: %s", prefix);
	put_escaped(text, stderr);
	if (reason) {
		fputs(": ", stderr);
		put_escaped(reason, stderr);
	}
	fputc('\n', stderr);
	if (text != short_text)
		free(text);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("", fmt, ap, NULL);
	va_end(ap);
	return STATUS_USAGE;
}

int failure(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("", fmt, ap, NULL);
	va_end(ap);
	return STATUS_FAILED;
}

static const char *errno_reason(int err)
{
	switch (err) {
	case -EPERM:
		return "Operation not permitted (needs CAP_NET_ADMIN)";
	}
	return strerror(-err);
}

int operation_failed(const struct backend *b, int err, const char *fmt, ...)
{
	const char *reason = b && b->error[0] ? b->error : errno_reason(err);
	va_list ap;

	va_start(ap, fmt);
	print_line("", fmt, ap, reason);
	va_end(ap);
	return STATUS_FAILED;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("warning: ", fmt, ap, NULL);
	va_end(ap);
}
