// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "message.h"

static void print_line(const char *prefix, const char *fmt, va_list ap,
		       const char *reason)
{
	fprintf(stderr, "portredir: %s", prefix);
	vfprintf(stderr, fmt, ap);
	if (reason)
		fprintf(stderr, ": %s", reason);
	fputc('\n', stderr);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("", fmt, ap, NULL);
	va_end(ap);
	return STATUS_USAGE;
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
