/* SPDX-License-Identifier: GPL-2.0 */
/* TAP output shared by the unit tests: one "ok N - ..." line per check. */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

struct tally {
	int number;
	int passed;
	int failed;
};

static inline void report(struct tally *t, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void report(struct tally *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++t->number);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (ok)
		t->passed++;
	else
		t->failed++;
}

static inline void skip(struct tally *t, const char *name, const char *reason)
{
	printf("ok %d - %s # SKIP %s\n", ++t->number, name, reason);
}

/* The plan and the counts; returns the exit status. */
static inline int tally_finish(const struct tally *t)
{
	printf("1..%d\n", t->number);
	printf("%d passed, %d failed\n", t->passed, t->failed);
	return t->failed ? 1 : 0;
}

#endif
