/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COMMAND_H
#define COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"

/* The global options, the only state shared across the program. */
struct options {
	const char *backend;	/* "auto", "kmod" or "nft" */
	bool json;
	bool numeric;
	bool keep_conntrack;
};

/*
 * A verb gets the words after its name and returns an exit status; it
 * parses all of them before touching the backend, so a usage error
 * changes nothing.
 */
typedef int (*command_fn)(const struct options *options, int argc,
			  char **argv);

int cmd_add(const struct options *options, int argc, char **argv);
int cmd_del(const struct options *options, int argc, char **argv);
int cmd_flush(const struct options *options, int argc, char **argv);
int cmd_list(const struct options *options, int argc, char **argv);
int cmd_save(const struct options *options, int argc, char **argv);
int cmd_restore(const struct options *options, int argc, char **argv);
int cmd_monitor(const struct options *options, int argc, char **argv);
int cmd_status(const struct options *options, int argc, char **argv);
int cmd_ports(const struct options *options, int argc, char **argv);

/* The steps verbs share, in command.c. */

/* Opens the chosen backend, or says why not; returns an exit status. */
int open_backend(const struct options *options, struct backend *b);

/* Usage error unless @argc is 0: for verbs that take no arguments. */
int expect_no_arguments(const char *verb, int argc, char **argv);

/* Both: for a verb that takes no arguments and acts on the backend. */
int open_backend_for(const char *verb, const struct options *options,
		     int argc, char **argv, struct backend *b);

struct printer;
typedef void (*print_item_fn)(struct printer *p, size_t index, void *arg);

/*
 * What list, save and ports print: @count objects, each filled by
 * @print_item, on a line of its own or as one JSON array.
 */
void print_items(const struct options *options, size_t count,
		 print_item_fn print_item, void *arg);

typedef void (*show_rules_fn)(const struct options *options,
			      const struct backend *b,
			      const struct rule_list *rules);

/*
 * The verbs that only read (list, save, status): no arguments, the rules
 * read from the backend and sorted, then handed to @show. @failure begins
 * the error line when the backend cannot list them.
 */
int show_rules(const struct options *options, const char *verb,
	       const char *failure, int argc, char **argv, show_rules_fn show);

#endif
