// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the nft element codec. An input whose first byte
 * is even describes rules, 8 bytes each: they are written as map elements
 * and read back, and must come back the same. An odd first byte makes the
 * rest the elements of one map, as a dump of a map edited by hand could
 * hold them: reading them must not crash and what it yields must be rules.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/portredir.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#include "../nft_round_trip.h"
#include "backends/nft/nft_elems.h"
#include "backends/nft/nft_layout.h"

#define RULES_MAX	16
/* Elements of at most 200 bytes each: one message holds them all. */
#define ELEMS_MAX	64
#define MESSAGE_SIZE	65536
/* Offset ranges cost one element per port: keep each input quick. */
#define OFFSET_PORTS_MAX 1024

static const char *const ifnames[] = { "eth0", "lo", "abcdefghijklmno" };

static void rule_from(const uint8_t *b, struct redir_rule *rule)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
	uint16_t lo = (uint16_t)(b[1] << 8 | b[2]), width = b[3] & 0x0f ?
		      b[3] & 0x0f : (uint16_t)(b[3] << 8 | b[4]);
	unsigned int dev = (b[0] >> 6) % 4;

	memset(rule, 0, sizeof(*rule));
	rule->proto = protos[(b[0] & 3) % 3];
	rule->family = (uint8_t)((b[0] >> 2) % 3 + 1);
	rule->direction = (uint8_t)((b[0] >> 4) % 3 + 1);
	rule->port.min = lo ? lo : 1;
	rule->port.max = 65535 - rule->port.min < width ? 65535 :
			 rule->port.min + width;
	rule->to.min = (uint16_t)(b[5] << 8 | b[6]) ? (uint16_t)(b[5] << 8 | b[6]) : 1;
	rule->to.max = rule->to.min;
	if (b[7] & 1 && port_range_size(&rule->port) <= OFFSET_PORTS_MAX &&
	    65535 - rule->to.min >= rule->port.max - rule->port.min)
		rule->to.max = rule->to.min + (rule->port.max - rule->port.min);
	if (dev < 3) {
		strcpy(rule->ifname, ifnames[dev]);
		rule->direction = PORTREDIR_DIR_INBOUND;
	}
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct rule_list in = { 0 }, out = { 0 };
	struct redir_rule rule;
	char why[256];
	size_t j;

	for (; size >= 8 && in.len < RULES_MAX; data += 8, size -= 8) {
		rule_from(data, &rule);
		for (j = 0; j < in.len && !rules_overlap(&rule, &in.rules[j]); j++)
			;
		if (j == in.len && rule_list_append(&in, &rule))
			abort();
	}
	if (nft_round_trip(&in, &out, why, sizeof(why)) ||
	    !rule_lists_equal(&in, &out))
		abort();
	rule_list_free(&in);
	rule_list_free(&out);
}

static void check_rules(const struct rule_list *rules)
{
	const struct redir_rule *r;
	size_t i;

	for (i = 0; i < rules->len; i++) {
		r = &rules->rules[i];
		if (r->port.min < 1 || r->port.min > r->port.max ||
		    r->to.min < 1 || r->to.min > r->to.max ||
		    (r->to.min != r->to.max &&
		     port_range_size(&r->to) != port_range_size(&r->port)))
			abort();
	}
}

/*
 * Takes @len bytes, the first saying how many follow (up to @max), as one
 * attribute of @type nested in a NFTA_DATA_VALUE, as keys and data are.
 */
static bool put_value(struct nlmsghdr *nlh, uint16_t type, size_t max,
		      const uint8_t **data, size_t *size)
{
	struct nlattr *nest;
	size_t len;

	if (!*size)
		return false;
	len = **data % (max + 1);
	if (len + 1 > *size)
		return false;
	nest = mnl_attr_nest_start(nlh, type);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, *data + 1);
	mnl_attr_nest_end(nlh, nest);
	*data += len + 1;
	*size -= len + 1;
	return true;
}

/* A comment in the element's user data, as nft and the backend write it. */
static bool put_comment(struct nlmsghdr *nlh, const uint8_t **data,
			size_t *size)
{
	struct nftnl_udata_buf *ud;
	size_t len;

	if (!*size)
		return false;
	len = **data % 64;
	if (len + 1 > *size)
		return false;
	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud)
		return false;
	nftnl_udata_put(ud, NFTNL_UDATA_SET_ELEM_COMMENT, (uint32_t)len, *data + 1);
	mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, nftnl_udata_buf_len(ud),
		     nftnl_udata_buf_data(ud));
	nftnl_udata_buf_free(ud);
	*data += len + 1;
	*size -= len + 1;
	return true;
}

/*
 * One element from the input: a byte of which parts it has (key end,
 * target, comment, the interval end flag), then each part. Keys and data
 * may have any length, as in a map edited by hand.
 */
static bool put_elem(struct nlmsghdr *nlh, const uint8_t **data, size_t *size)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	uint8_t parts;
	bool ok;

	parts = **data;
	(*data)++;
	(*size)--;
	ok = put_value(nlh, NFTA_SET_ELEM_KEY, 24, data, size);
	if (ok && parts & 1)
		ok = put_value(nlh, NFTA_SET_ELEM_KEY_END, 24, data, size);
	if (ok && parts & 2)
		ok = put_value(nlh, NFTA_SET_ELEM_DATA, 4, data, size);
	if (ok && parts & 4)
		ok = put_comment(nlh, data, size);
	if (ok && parts & 8)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS,
				 htonl(NFT_SET_ELEM_INTERVAL_END));
	mnl_attr_nest_end(nlh, nest);
	return ok;
}

/*
 * The elements a dump of map @data[0] could hold, in well-formed netlink
 * (the kernel's side is not what is tested): whatever rules come out of
 * them must be rules add would accept.
 */
static void parse_elems(const uint8_t *data, size_t size)
{
	char *buf = calloc(1, MESSAGE_SIZE), name[NFT_MAP_NAME_MAX];
	struct nft_raw_list raw = { 0 };
	struct rule_list rules = { 0 };
	struct nlattr *list;
	struct nlmsghdr *nlh;
	unsigned int map, count = 0;
	char why[256];

	if (!buf || !size)
		goto out;
	map = data[0] % NFT_MAP_COUNT;
	data++;
	size--;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, NFPROTO_INET, 0, 1);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, nft_map_name(map, name));
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	while (size && count++ < ELEMS_MAX && put_elem(nlh, &data, &size))
		;
	mnl_attr_nest_end(nlh, list);
	/* libnftnl refuses some parts (an empty key, say): nothing to read. */
	if (nft_raw_parse(nlh, &raw) == (int)map &&
	    !nft_raw_to_rules(map, &raw, &rules, why, sizeof(why)))
		check_rules(&rules);
out:
	nft_raw_free(&raw);
	rule_list_free(&rules);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		parse_elems(data + 1, size - 1);
	else
		round_trip(data + 1, size - 1);
	return 0;
}
