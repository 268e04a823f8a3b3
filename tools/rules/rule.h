/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RULE_H
#define RULE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct port_range {
	uint16_t min;
	uint16_t max;
};

/*
 * One redirect rule as both backends see it. family and direction are masks
 * of the uapi enums portredir_family and portredir_direction, never 0 once
 * parsed; ifindex 0 means any interface.
 */
struct redir_rule {
	uint8_t proto;
	struct port_range port;
	struct port_range to;
	uint8_t family;
	uint8_t direction;
	unsigned int ifindex;
	char ifname[IF_NAMESIZE];
	uint8_t mode;		/* enum portredir_mode */
	uint64_t connections;
};

/*
 * Where both backends translate: right after dstnat (NF_IP_PRI_NAT_DST,
 * -100), where iptables' and nft's DNAT chains sit, so theirs decide first
 * whatever was loaded first.
 */
#define RULE_NAT_PRIORITY	(-99)

struct rule_list {
	struct redir_rule *rules;
	size_t len;
	size_t cap;
};

int rule_list_append(struct rule_list *list, const struct redir_rule *rule);
void rule_list_free(struct rule_list *list);
void rule_list_sort(struct rule_list *list);

unsigned int port_range_size(const struct port_range *range);
bool port_ranges_intersect(const struct port_range *a, const struct port_range *b);
/* "well-known" (0-1023), "registered" (1024-49151) or "dynamic" (49152-). */
const char *port_class(uint16_t port);

const char *rule_proto_name(uint8_t proto);
bool rule_has_interface(const struct redir_rule *rule);
/* Could one packet match both rules? The kernel refuses such a pair. */
bool rules_overlap(const struct redir_rule *a, const struct redir_rule *b);
int rule_compare(const struct redir_rule *a, const struct redir_rule *b);

/*
 * Does a rule of @list overlap @rule? If one does, says which in @why
 * ("overlaps existing rule \"tcp 80 to 8080\"") and returns true.
 */
bool rule_list_explain_overlap(const struct rule_list *list,
			       const struct redir_rule *rule, char *why,
			       size_t len);

/*
 * Do two rules of @list overlap? Returns 0 when none do, 1 with the two
 * (@one before @other in rule_compare() order) as indexes into @list, or
 * -ENOMEM. What restore and the nft backend's replace refuse.
 */
int rule_list_find_overlap(const struct rule_list *list, size_t *one,
			   size_t *other);

/*
 * What every rule must be, whoever made it: parse_rule() holds the rules it
 * makes to it, the nft backend the rules it is handed (the kernel module
 * checks its own). Each returns 0, or -EINVAL with the reason in @why.
 * The selector: a known protocol, a port range, family and direction
 * masks, an interface for inbound traffic only.
 */
int rule_check_selector(const struct redir_rule *rule, char *why, size_t len);
/* A target range of one port or of as many ports as the matched range. */
int rule_check_target(const struct redir_rule *rule, char *why, size_t len);
/* NAT, or steering for TCP. */
int rule_check_mode(const struct redir_rule *rule, char *why, size_t len);

enum rule_syntax {
	RULE_SELECTOR,		/* what del takes: no target */
	RULE_WITH_TARGET,	/* what add, save and restore take */
};

/*
 * Writes @rule in the syntax `add`/`del` parse, with numbers only and
 * defaults left out ("tcp 80 to 8080 -4 --local"); save prints this.
 */
int rule_format(const struct redir_rule *rule, enum rule_syntax syntax,
		char *buf, size_t len);
#define RULE_FORMAT_MAX 96

#endif
