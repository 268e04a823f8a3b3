// SPDX-License-Identifier: GPL-2.0
/*
 * The dispatcher: the global options, then the verb named by the table
 * below. What the verbs share is theirs, in verbs/command.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/message.h"
#include "verbs/command.h"

struct command {
	const char *name;
	command_fn fn;
	const char *arguments;
	const char *help;
};

static int cmd_help(const struct options *options, int argc, char **argv);

static const struct command commands[] = {
	{ "add", cmd_add,
	  "[PROTO] PORTS [to] PORTS [FAMILY] [DIRECTION] [dev IFNAME] [--steer]",
	  "redirect new connections to PORTS to the target PORTS" },
	{ "del", cmd_del, "[PROTO] PORTS [FAMILY] [DIRECTION] [dev IFNAME]",
	  "delete the rule with exactly this selector" },
	{ "list", cmd_list, "", "rules, counters, port class, target listener" },
	{ "flush", cmd_flush, "", "delete every rule" },
	{ "save", cmd_save, "", "rules as text that restore reads back" },
	{ "restore", cmd_restore, "[FILE]",
	  "replace the whole table atomically (FILE or stdin)" },
	{ "monitor", cmd_monitor, "", "print rule changes as they happen" },
	{ "status", cmd_status, "",
	  "backend in use, module version, rule count, warnings" },
	{ "ports", cmd_ports, "[PROTO] [FAMILY] [--class CLASS]",
	  "listening sockets, their owners and the redirects on them" },
	{ "help", cmd_help, "", "show this text" },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: portredir [OPTIONS] COMMAND [ARGUMENTS]\n");
	for (i = 0; i < COMMAND_COUNT; i++) {
		if (*commands[i].arguments)
			fprintf(out, "       portredir %-7s %s\n",
				commands[i].name, commands[i].arguments);
		else
			fprintf(out, "       portredir %s\n", commands[i].name);
	}
	fprintf(out, "\nCommands:\n");
	for (i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(out,
		"\n"
		"Where: OPTIONS   := { -b|--backend { auto | kmod | nft } | -j|--json | -n|--numeric |\n"
		"                      --keep-conntrack | -h|--help | -V|--version }\n"
		"       PROTO     := { tcp | udp | sctp }     (default tcp)\n"
		"       PORTS     := { PORT | PORT-PORT }\n"
		"       PORT      := { 1..65535 | NAME }      (NAME from /etc/services)\n"
		"       FAMILY    := { -4 | -6 }              (default both)\n"
		"       DIRECTION := { --inbound | --local }  (default both; dev means --inbound)\n"
		"       IFNAME    := an interface of this network namespace\n"
		"       CLASS     := { well-known | registered | dynamic }\n"
		"\n"
		"The target is one port, or a range as long as PORTS (port n goes to target n).\n"
		"--steer (TCP, kernel module only) hands new connections to the target's\n"
		"listener without NAT or conntrack; the server's socket keeps the port asked for.\n"
		"The backend defaults to $PORTREDIR_BACKEND, else auto: the kernel module when\n"
		"it is loaded, else nftables. add, del, flush and restore delete the conntrack\n"
		"entries of UDP flows to the ports they change, unless --keep-conntrack.\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static int cmd_help(const struct options *options, int argc, char **argv)
{
	(void)options;
	(void)argv;
	if (argc)
		return expect_no_arguments("help", argc, argv);
	print_usage(stdout);
	return STATUS_OK;
}

/* Edit distance, for "did you mean"; words longer than 31 are far anyway. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t row[32], la = strlen(a), lb = strlen(b), i, j;

	if (la > 31 || lb > 31)
		return 32;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diagonal = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t best = diagonal + (a[i - 1] != b[j - 1]);

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diagonal = above;
			row[j] = best;
		}
	}
	return row[lb];
}

/* "add, del, ... or help", from the table. */
static void list_command_names(char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < COMMAND_COUNT && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 !i ? "" : i + 1 < COMMAND_COUNT ?
					 ", " : " or ",
					 commands[i].name);
}

static int missing_command(void)
{
	char names[128];

	list_command_names(names, sizeof(names));
	return usage_error("missing command (expected %s)", names);
}

static int unknown_command(const char *word)
{
	char names[128];
	size_t i;

	for (i = 0; i < COMMAND_COUNT; i++)
		if (edit_distance(word, commands[i].name) <= 2 ||
		    !strncmp(word, commands[i].name, strlen(commands[i].name)))
			return usage_error("unknown command \"%s\" (did you mean \"%s\"? see portredir help)",
					   word, commands[i].name);
	list_command_names(names, sizeof(names));
	return usage_error("unknown command \"%s\" (expected %s)", word, names);
}

static int choose_backend(struct options *options, const char *chosen)
{
	const char *from_env = getenv("PORTREDIR_BACKEND");

	if (chosen) {
		options->backend = chosen;
	} else if (from_env && *from_env) {
		options->backend = from_env;
		if (!backend_name_valid(from_env))
			return usage_error("PORTREDIR_BACKEND: unknown backend \"%s\" (expected auto, kmod or nft)",
					   from_env);
	} else {
		options->backend = "auto";
	}
	if (!backend_name_valid(options->backend))
		return usage_error("unknown backend \"%s\" (expected auto, kmod or nft)",
				   options->backend);
	return STATUS_OK;
}

static int bad_option(int argc, char **argv, int option)
{
	const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	size_t name_len = strcspn(word, "=");

	if (option == ':')
		return usage_error("option \"%s\" needs an argument (expected --backend auto|kmod|nft)",
				   word);
	/* getopt names a long option by its short letter: use the words given */
	if (!strncmp(word, "--", 2) && word[name_len] == '=' && optopt)
		return usage_error("option \"%.*s\" takes no value (given \"%s\")",
				   (int)name_len, word, word);
	if (optopt && strncmp(word, "--", 2))
		return usage_error("unknown option \"-%c\" (see portredir help)",
				   optopt);
	return usage_error("unknown option \"%s\" (see portredir help)", word);
}

/* Returns -1 to go on to the command, else the exit status. */
static int parse_options(int argc, char **argv, struct options *options)
{
	static const struct option long_options[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "numeric", no_argument, NULL, 'n' },
		{ "keep-conntrack", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *backend = NULL;
	int option;

	opterr = 0;
	while ((option = getopt_long(argc, argv, "+:b:jnhV", long_options,
				     NULL)) != -1) {
		switch (option) {
		case 'b':
			backend = optarg;
			break;
		case 'j':
			options->json = true;
			break;
		case 'n':
			options->numeric = true;
			break;
		case 'k':
			options->keep_conntrack = true;
			break;
		case 'h':
			print_usage(stdout);
			return STATUS_OK;
		case 'V':
			printf("portredir %s\n", PORTREDIR_VERSION);
			return STATUS_OK;
		default:
			return bad_option(argc, argv, option);
		}
	}
	if (choose_backend(options, backend))
		return STATUS_USAGE;
	return -1;
}

/*
 * Output is buffered, so a full disk or a closed pipe shows only when it is
 * flushed: a save cut short must not exit 0, or restoring it would load a
 * different table.
 */
static int finish_output(const char *verb, int status)
{
	int err = 0;

	if (fflush(stdout))
		err = errno;
	if (ferror(stdout) && !err)
		err = EIO;
	if (fclose(stdout) && !err)
		err = errno;
	if (!err || status != STATUS_OK)
		return status;
	if (!verb)
		return operation_failed(NULL, -err, "cannot write the output");
	return operation_failed(NULL, -err, "%s: cannot write the output",
				verb);
}

int main(int argc, char **argv)
{
	struct options options = { 0 };
	const char *name;
	int status;
	size_t i;

	status = parse_options(argc, argv, &options);
	if (status >= 0)
		return finish_output(NULL, status);
	if (optind >= argc)
		return missing_command();

	name = argv[optind];
	for (i = 0; i < COMMAND_COUNT; i++)
		if (!strcmp(name, commands[i].name))
			return finish_output(name, commands[i].fn(&options,
						argc - optind - 1, argv + optind + 1));
	return unknown_command(name);
}
