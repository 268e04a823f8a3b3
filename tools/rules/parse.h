/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PARSE_H
#define PARSE_H

#include "rules/rule.h"

/* Why parsing failed, in one sentence that names what was expected. */
struct parse_error {
	char message[256];
};

#define RULE_GRAMMAR_SELECTOR \
	"[tcp|udp|sctp] PORT[-PORT] [-4|-6] [--inbound|--local] [dev IFNAME]"
#define RULE_GRAMMAR_WITH_TARGET \
	"[tcp|udp|sctp] PORT[-PORT] [to] PORT[-PORT] [-4|-6] [--inbound|--local] [dev IFNAME] [--steer]"

/* "tcp", "udp" or "sctp" to an IPPROTO_* number. */
int parse_proto(const char *word, uint8_t *proto);

/* 1..65535 or a service name of @proto from /etc/services. */
int parse_port(const char *word, uint8_t proto, uint16_t *port,
	       struct parse_error *error);

/* PORT or PORT-PORT, low end first. */
int parse_port_range(const char *word, uint8_t proto,
		     struct port_range *range, struct parse_error *error);

/*
 * The one rule parser behind add, del and restore. @words are the rule's
 * words after the verb; @syntax says whether a target is expected. Fills
 * every field of @rule, defaults included, and resolves "dev" to an
 * interface index. Returns 0, or -1 with @error set.
 */
int parse_rule(int count, char *const *words, enum rule_syntax syntax,
	       struct redir_rule *rule, struct parse_error *error);

/*
 * Cuts @line into whitespace-separated words in place, dropping a "#"
 * comment. Returns the number of words, or -1 when there are more than @max.
 */
int split_words(char *line, char **words, int max);

#endif
