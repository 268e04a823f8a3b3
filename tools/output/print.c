// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <string.h>

#include <linux/portredir.h>

#include "output/print.h"

void printer_init(struct printer *p, FILE *out, bool json)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->json = json;
}

/*
 * The length of the valid UTF-8 sequence at @s (1 to 4), or 0: no
 * overlong forms, no surrogates, nothing past U+10FFFF. A NUL is never a
 * continuation byte, so the string's end stops the scan.
 */
static int utf8_length(const unsigned char *s)
{
	int len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/*
 * Strings come from the kernel and from other processes (a listener's
 * name): a byte that is not part of valid UTF-8 becomes U+FFFD, so the
 * output is always valid JSON in valid UTF-8.
 */
static void print_json_string(FILE *out, const char *s)
{
	const unsigned char *c = (const unsigned char *)s;
	int len;

	fputc('"', out);
	for (; *c; c += len ? len : 1) {
		len = utf8_length(c);
		if (!len)
			fputs("\\ufffd", out);
		else if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(out, "\\u%04x", *c);
		else
			fwrite(c, 1, (size_t)len, out);
	}
	fputc('"', out);
}

/* The comma and key that come before any JSON value. */
static void begin_json_value(struct printer *p, const char *key)
{
	if (p->has_members[p->depth])
		fputc(',', p->out);
	p->has_members[p->depth] = true;
	if (key) {
		print_json_string(p->out, key);
		fputc(':', p->out);
	}
}

static void open_container(struct printer *p, const char *key, char bracket)
{
	if (!p->json)
		return;
	begin_json_value(p, key);
	fputc(bracket, p->out);
	if (p->depth < PRINT_DEPTH_MAX - 1)
		p->depth++;
	p->has_members[p->depth] = false;
}

static void close_container(struct printer *p, char bracket)
{
	if (!p->json)
		return;
	fputc(bracket, p->out);
	if (p->depth > 0)
		p->depth--;
}

void print_open_object(struct printer *p, const char *key)
{
	open_container(p, key, '{');
}

void print_close_object(struct printer *p)
{
	close_container(p, '}');
}

void print_open_array(struct printer *p, const char *key)
{
	open_container(p, key, '[');
}

void print_close_array(struct printer *p)
{
	close_container(p, ']');
}

void print_string(struct printer *p, const char *key, const char *text_fmt,
		  const char *value)
{
	if (!p->json) {
		if (text_fmt)
			fprintf(p->out, text_fmt, value);
		return;
	}
	begin_json_value(p, key);
	print_json_string(p->out, value);
}

void print_uint(struct printer *p, const char *key, const char *text_fmt,
		uint64_t value)
{
	char number[24];

	snprintf(number, sizeof(number), "%" PRIu64, value);
	if (!p->json) {
		if (text_fmt)
			fprintf(p->out, text_fmt, number);
		return;
	}
	begin_json_value(p, key);
	fputs(number, p->out);
}

void print_bool(struct printer *p, const char *key, const char *text_fmt,
		bool value)
{
	if (!p->json) {
		if (text_fmt && value)
			fputs(text_fmt, p->out);
		return;
	}
	begin_json_value(p, key);
	fputs(value ? "true" : "false", p->out);
}

void print_text(struct printer *p, const char *text)
{
	if (!p->json)
		fputs(text, p->out);
}

void print_end_line(struct printer *p)
{
	if (!p->json || p->depth == 0)
		fputc('\n', p->out);
	if (p->depth == 0)
		p->has_members[0] = false;
}

/* List's text only: the add syntax comes whole from rule_format(). */
static const char *list_text(const struct rule_style *style, const char *fmt)
{
	return style->syntax ? NULL : fmt;
}

static void range_class(const struct port_range *range, char *buf, size_t len)
{
	const char *low = port_class(range->min), *high = port_class(range->max);

	if (!strcmp(low, high))
		snprintf(buf, len, "%s", low);
	else
		snprintf(buf, len, "%s..%s", low, high);
}

void print_port_range(struct printer *p, const char *key,
		      const struct port_range *range, uint8_t proto,
		      const struct rule_style *style)
{
	bool single = range->min == range->max;
	const char *name = NULL;
	char class[32];

	if (!style->numeric && single)
		name = service_name(style->services, proto, range->min);
	range_class(range, class, sizeof(class));

	print_open_object(p, key);
	print_uint(p, "min", list_text(style, "%s"), range->min);
	print_uint(p, "max", list_text(style, single ? NULL : "-%s"),
		   range->max);
	if (name)
		print_string(p, "service", list_text(style, " (%s, "), name);
	print_string(p, "class", list_text(style, name ? "%s)" : " (%s)"),
		     class);
	print_close_object(p);
}

static void print_mask(struct printer *p, const char *key, uint8_t mask,
		       const char *const names[2],
		       const struct rule_style *style)
{
	bool first = true;
	int bit;

	print_open_array(p, key);
	for (bit = 0; bit < 2; bit++) {
		if (!(mask & (1 << bit)))
			continue;
		print_string(p, NULL, list_text(style, first ? "  %s" : ",%s"),
			     names[bit]);
		first = false;
	}
	print_close_array(p);
}

/* JSON always names the mode; text shows steering only, NAT being the default. */
static void print_mode(struct printer *p, uint8_t mode,
		       const struct rule_style *style)
{
	bool steer = mode == PORTREDIR_MODE_STEER;

	print_string(p, "mode", steer ? list_text(style, "  %s") : NULL,
		     steer ? "steer" : "nat");
}

static void print_rule_syntax(struct printer *p, const struct redir_rule *rule,
			      const struct rule_style *style)
{
	char text[RULE_FORMAT_MAX];

	rule_format(rule, style->with_target ? RULE_WITH_TARGET : RULE_SELECTOR,
		    text, sizeof(text));
	print_text(p, text);
}

void print_rule(struct printer *p, const struct redir_rule *rule,
		const struct rule_style *style)
{
	static const char *const families[2] = { "ipv4", "ipv6" };
	static const char *const directions[2] = { "inbound", "local" };

	if (style->syntax)
		print_rule_syntax(p, rule, style);
	print_string(p, "protocol", list_text(style, "%s "),
		     rule_proto_name(rule->proto));
	print_port_range(p, "port", &rule->port, rule->proto, style);
	if (style->with_target) {
		print_text(p, style->syntax ? "" : " -> ");
		print_port_range(p, "to", &rule->to, rule->proto, style);
	}
	print_mask(p, "family", rule->family, families, style);
	print_mask(p, "direction", rule->direction, directions, style);
	if (rule->ifname[0])
		print_string(p, "dev", list_text(style, " dev %s"), rule->ifname);
	if (style->with_target)
		print_mode(p, rule->mode, style);
	if (!style->syntax)
		print_uint(p, "connections", "  connections %s",
			   rule->connections);
}
