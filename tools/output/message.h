/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MESSAGE_H
#define MESSAGE_H

#include "backends/backend.h"

/* Exit statuses of the CLI contract. */
enum exit_status {
	STATUS_OK = 0,
	STATUS_FAILED = 1,	/* the operation failed */
	STATUS_USAGE = 2,	/* bad command line or input; nothing changed */
};

#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))

/* "portredir: <sentence>" on stderr; returns STATUS_USAGE. */
int usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* "portredir: <sentence>" on stderr; returns STATUS_FAILED. */
int failure(const char *fmt, ...) PRINTF_LIKE(1, 2);

/*
 * "portredir: <what failed>: <reason>" on stderr, the reason being the
 * backend's (the kernel's extack, say) or else strerror(-@err); returns
 * STATUS_FAILED.
 */
int operation_failed(const struct backend *b, int err, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

/* "portredir: warning: <sentence>" on stderr. */
void warning(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
