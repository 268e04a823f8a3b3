// SPDX-License-Identifier: GPL-2.0
/*
 * monitor: one line per change, as the command that would make it:
 * "add tcp 80 to 8080", "del tcp 80", "flush". With -j, one JSON object
 * per line: {"event":"add","rule":{...}} with the members list prints,
 * or {"event":"flush"}.
 */
#include <linux/portredir.h>

#include "output/message.h"
#include "output/print.h"
#include "verbs/command.h"

static const char *event_name(int cmd)
{
	switch (cmd) {
	case PORTREDIR_CMD_ADD:
		return "add";
	case PORTREDIR_CMD_DEL:
		return "del";
	case PORTREDIR_CMD_FLUSH:
		return "flush";
	}
	return NULL;
}

static void print_change(int cmd, const struct redir_rule *rule, void *arg)
{
	struct rule_style style = {
		.syntax = true,
		.with_target = cmd == PORTREDIR_CMD_ADD,
		.numeric = true,
	};
	struct printer *p = arg;
	const char *event = event_name(cmd);

	if (!event) {
		warning("events were lost; run \"portredir list\" to see the table");
		return;
	}
	print_open_object(p, NULL);
	print_string(p, "event", "%s", event);
	if (rule) {
		print_text(p, " ");
		print_open_object(p, "rule");
		print_rule(p, rule, &style);
		print_close_object(p);
	}
	print_close_object(p);
	print_end_line(p);
	fflush(p->out);
}

int cmd_monitor(const struct options *options, int argc, char **argv)
{
	struct printer printer;
	struct backend b;
	int status, err;

	status = open_backend_for("monitor", options, argc, argv, &b);
	if (status)
		return status;

	printer_init(&printer, stdout, options->json);
	err = backend_monitor(&b, print_change, &printer);
	if (err)
		status = operation_failed(&b, err, "monitor");
	backend_close(&b);
	return status;
}
