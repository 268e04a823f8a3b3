// SPDX-License-Identifier: GPL-2.0
/*
 * status: which backend is in use, the module's version, how many rules,
 * and every warning add would give for each of them.
 *
 *   backend: kmod
 *   module version: 0.1.0
 *   rules: 3
 *   steering: 1
 *   warning: nothing listens on tcp port 8080, the target of "tcp 80 to 8080"
 *
 * "steering" (rules with --steer) only when some rule steers.
 * With -j: {"backend":"kmod","module_version":"0.1.0","rules":3,"steering":1,
 * "warnings":["..."]}; "module_version" only when the module is loaded.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/portredir.h>

#include "host/checks.h"
#include "output/message.h"
#include "output/print.h"
#include "verbs/command.h"

#define MODULE_VERSION_PATH "/sys/module/portredir/version"
#define MODULE_PATH "/sys/module/portredir"
#define WARNINGS_SHOWN 20

struct warnings {
	struct printer *printer;
	size_t count;
};

static void add_warning(void *arg, const char *sentence)
{
	struct warnings *warnings = arg;

	if (warnings->count++ < WARNINGS_SHOWN)
		print_string(warnings->printer, NULL, "warning: %s\n", sentence);
}

static void read_module_version(char *version, size_t len)
{
	FILE *file = fopen(MODULE_VERSION_PATH, "r");

	version[0] = '\0';
	if (file && fgets(version, (int)len, file))
		version[strcspn(version, "\n")] = '\0';
	if (file)
		fclose(file);
}

static void print_backend(struct printer *p, const struct backend *b)
{
	char version[64];

	print_string(p, "backend", "backend: %s\n", b->ops->name);
	read_module_version(version, sizeof(version));
	if (version[0])
		print_string(p, "module_version", "module version: %s\n",
			     version);
}

static void check_backend(const struct backend *b, struct warnings *warnings)
{
	if (b->ops != &backend_kmod && !access(MODULE_PATH, F_OK))
		add_warning(warnings,
			    "the kernel module is loaded but the nft backend is in use; each backend sees only its own rules");
}

static void check_rules(const struct rule_list *rules,
			struct warnings *warnings)
{
	struct host_facts facts;
	char more[64];
	size_t i;

	host_facts_load(&facts, rules);
	for (i = 0; i < rules->len; i++)
		check_rule(&facts, &rules->rules[i], add_warning, warnings);
	host_facts_free(&facts);
	if (warnings->count > WARNINGS_SHOWN) {
		snprintf(more, sizeof(more), "%zu more warnings not shown",
			 warnings->count - WARNINGS_SHOWN);
		print_string(warnings->printer, NULL, "warning: %s\n", more);
	}
}

/* Text names steering only where some rule steers; JSON always counts. */
static void print_steering(struct printer *p, const struct rule_list *rules)
{
	size_t i, steering = 0;

	for (i = 0; i < rules->len; i++)
		steering += rules->rules[i].mode == PORTREDIR_MODE_STEER;
	print_uint(p, "steering", steering ? "steering: %s\n" : NULL, steering);
}

static void print_status(const struct options *options,
			 const struct backend *b,
			 const struct rule_list *rules)
{
	struct printer p;
	struct warnings warnings = { &p, 0 };

	printer_init(&p, stdout, options->json);
	print_open_object(&p, NULL);
	print_backend(&p, b);
	print_uint(&p, "rules", "rules: %s\n", rules->len);
	print_steering(&p, rules);
	print_open_array(&p, "warnings");
	check_backend(b, &warnings);
	check_rules(rules, &warnings);
	print_close_array(&p);
	print_close_object(&p);
	if (options->json)
		print_end_line(&p);
}

int cmd_status(const struct options *options, int argc, char **argv)
{
	return show_rules(options, "status", "status: cannot list the rules",
			  argc, argv, print_status);
}
