/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PRINT_H
#define PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rules/rule.h"
#include "rules/service.h"

#define PRINT_DEPTH_MAX 8

/*
 * One printing layer for text and JSON, in the manner of iproute2's
 * json_print: every call names a JSON key and a text format, and the mode
 * picks one. A NULL key prints nothing in JSON (and makes an array
 * element inside arrays); a NULL format prints nothing in text. Text
 * formats take exactly one %s, numbers included, so the two renderings
 * come from the same call and cannot drift.
 */
struct printer {
	FILE *out;
	bool json;
	int depth;
	bool has_members[PRINT_DEPTH_MAX];
};

void printer_init(struct printer *p, FILE *out, bool json);
void print_open_object(struct printer *p, const char *key);
void print_close_object(struct printer *p);
void print_open_array(struct printer *p, const char *key);
void print_close_array(struct printer *p);
void print_string(struct printer *p, const char *key, const char *text_fmt,
		  const char *value);
void print_uint(struct printer *p, const char *key, const char *text_fmt,
		uint64_t value);
/* In text, @text_fmt (no conversion) is printed when @value is true. */
void print_bool(struct printer *p, const char *key, const char *text_fmt,
		bool value);
/* Text only: JSON gets nothing. */
void print_text(struct printer *p, const char *text);
/* Ends a line of text, or a top-level JSON value. */
void print_end_line(struct printer *p);

/* How print_rule() renders a rule in text. */
struct rule_style {
	/* the add syntax of save/monitor ("tcp 80 to 8080 -4"), not list's */
	bool syntax;
	bool with_target;
	/* no service names */
	bool numeric;
	struct service_table *services;
};

/*
 * Prints @range as the object @key: {"min", "max", "service", "class"}, or
 * list's text "80 (http, well-known)" ("8000-8099 (registered)").
 */
void print_port_range(struct printer *p, const char *key,
		      const struct port_range *range, uint8_t proto,
		      const struct rule_style *style);

/*
 * Prints @rule's members into the current JSON object, or its text: list's
 * "tcp 80 (http, well-known) -> 8080 (http-alt, registered)  ipv4,ipv6
 * inbound,local  connections 3", or the add syntax when @style says so.
 */
void print_rule(struct printer *p, const struct redir_rule *rule,
		const struct rule_style *style);

#endif
