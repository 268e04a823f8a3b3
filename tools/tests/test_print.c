// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the JSON side of the printer (print.c): what it writes is
 * parsed back by python3's json module, from bytes decoded as strict UTF-8,
 * and compared with the value expected. TAP output; SKIPs without python3.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/portredir.h>

#include "output/print.h"
#include "tap.h"

/* argv[1]: the expected value as a Python literal; stdin: the JSON. */
static const char check_script[] =
	"import ast, json, sys\n"
	"data = sys.stdin.buffer.read()\n"
	"try:\n"
	"    value = json.loads(data.decode('utf-8', errors='strict'))\n"
	"except ValueError as e:\n"
	"    print('# not JSON in UTF-8: %s: %r' % (e, data)); sys.exit(1)\n"
	"want = ast.literal_eval(sys.argv[1])\n"
	"if value != want:\n"
	"    print('# got %r, want %r' % (value, want)); sys.exit(1)\n";

/* 0 when python3 read @json as @expected, 1 when not, -1: no python3. */
static int python_check(const char *json, size_t len, const char *expected)
{
	FILE *in = tmpfile();
	int status;
	pid_t pid;

	if (!in || fwrite(json, 1, len, in) != len || fflush(in) ||
	    fseek(in, 0, SEEK_SET))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(fileno(in), STDIN_FILENO);
		execlp("python3", "python3", "-c", check_script, expected,
		       (char *)NULL);
		_exit(127);
	}
	fclose(in);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status) == 127 ? -1 : WEXITSTATUS(status) != 0;
}

typedef void (*print_fn)(struct printer *p);

static void expect_json(struct tally *t, const char *name, print_fn fn,
			const char *expected)
{
	struct printer p;
	size_t len = 0;
	char *json = NULL;
	FILE *out = open_memstream(&json, &len);
	int ret;

	printer_init(&p, out, true);
	fn(&p);
	fclose(out);
	ret = python_check(json, len, expected);
	if (ret < 0)
		skip(t, name, "python3 is missing");
	else
		report(t, !ret, "%s", name);
	free(json);
}

static void print_nested(struct printer *p)
{
	print_open_object(p, NULL);
	print_string(p, "name", NULL, "a");
	print_open_array(p, "list");
	print_uint(p, NULL, NULL, 1);
	print_open_object(p, NULL);
	print_bool(p, "yes", NULL, true);
	print_open_array(p, "empty");
	print_close_array(p);
	print_close_object(p);
	print_uint(p, NULL, NULL, UINT64_MAX);
	print_close_array(p);
	print_open_object(p, "inner");
	print_bool(p, "no", NULL, false);
	print_close_object(p);
	print_close_object(p);
	print_end_line(p);
}

static void print_one_string(struct printer *p, const char *s)
{
	print_open_object(p, NULL);
	print_string(p, s, NULL, s);
	print_close_object(p);
	print_end_line(p);
}

static void print_quotes(struct printer *p)
{
	print_one_string(p, "say \"hi\" \\ back\\");
}

static void print_controls(struct printer *p)
{
	print_one_string(p, "\x01tab\there\nnewline\r\x1f\x7f end");
}

static void print_utf8(struct printer *p)
{
	print_one_string(p, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xef\xbf\xbd");
}

static void print_invalid_utf8(struct printer *p)
{
	/* lone continuation, 0xff, overlong "/", surrogate, > U+10FFFF, cut */
	print_one_string(p, "a\x80" "b\xff" "c\xc0\xaf" "d\xed\xa0\x80"
			    "e\xf4\x90\x80\x80" "f\xe6\x97" "g\xc3");
}

static void print_a_rule(struct printer *p)
{
	const struct redir_rule rule = {
		.proto = IPPROTO_UDP, .port = { 53, 54 }, .to = { 5353, 5354 },
		.family = PORTREDIR_FAMILY_IPV6, .direction = PORTREDIR_DIR_ALL,
		.ifname = "w\xe9", .connections = 7,
	};
	const struct rule_style style = { .with_target = true, .numeric = true };

	print_open_array(p, NULL);
	print_open_object(p, NULL);
	print_rule(p, &rule, &style);
	print_close_object(p);
	print_close_array(p);
	print_end_line(p);
}

int main(void)
{
	struct tally tally = { 0 };

	expect_json(&tally, "nested objects and arrays", print_nested,
		    "{'name': 'a', 'list': [1, {'yes': True, 'empty': []}, 18446744073709551615], 'inner': {'no': False}}");
	expect_json(&tally, "quotes and backslashes", print_quotes,
		    "{'say \"hi\" \\\\ back\\\\': 'say \"hi\" \\\\ back\\\\'}");
	expect_json(&tally, "control bytes", print_controls,
		    "{'\\x01tab\\there\\nnewline\\r\\x1f\\x7f end': '\\x01tab\\there\\nnewline\\r\\x1f\\x7f end'}");
	expect_json(&tally, "valid UTF-8 passes through", print_utf8,
		    "{'caf\\xe9 \\u65e5\\u672c \\U0001f600 \\ufffd': 'caf\\xe9 \\u65e5\\u672c \\U0001f600 \\ufffd'}");
	expect_json(&tally, "bytes that are not UTF-8 become U+FFFD", print_invalid_utf8,
		    "{'a\\ufffdb\\ufffdc\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffde\\ufffd\\ufffd\\ufffd\\ufffdf\\ufffd\\ufffdg\\ufffd': "
		    "'a\\ufffdb\\ufffdc\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffde\\ufffd\\ufffd\\ufffd\\ufffdf\\ufffd\\ufffdg\\ufffd'}");
	expect_json(&tally, "a rule, as list -j prints it", print_a_rule,
		    "[{'protocol': 'udp', 'port': {'min': 53, 'max': 54, 'class': 'well-known'}, "
		    "'to': {'min': 5353, 'max': 5354, 'class': 'registered'}, 'family': ['ipv6'], "
		    "'direction': ['inbound', 'local'], 'dev': 'w\\ufffd', 'mode': 'nat', 'connections': 7}]");
	return tally_finish(&tally);
}
