// SPDX-License-Identifier: GPL-2.0
/*
 * The nft backend's half of "UDP flows follow rule changes": nftables has no
 * way to drop conntrack entries, so they are dumped over ctnetlink, and the
 * UDP ones to the ports changed are deleted by their original tuple. The
 * module does the same inside the kernel (kmod/conntrack.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "host/conntrack.h"
#include "netlink/netlink.h"
#include "util/array.h"

/* The entries to delete: their family and original tuple nest, verbatim. */
struct doomed {
	uint8_t family;
	uint16_t tuple_len;
	unsigned char tuple[256];
};

struct doomed_list {
	const struct udp_ports *ports;
	struct doomed *entries;
	size_t len, cap;
	int err;
};

void udp_ports_add_rule(struct udp_ports *ports, const struct redir_rule *rule)
{
	unsigned int port;

	if (rule->proto != IPPROTO_UDP)
		return;
	for (port = rule->port.min; port <= rule->port.max; port++)
		ports->bits[port / 8] |= (uint8_t)(1u << (port % 8));
	ports->any = true;
}

static bool udp_ports_has(const struct udp_ports *ports, uint16_t port)
{
	return ports->bits[port / 8] & (1u << (port % 8));
}

static struct nlmsghdr *put_ctnetlink_request(void *buffer, uint8_t type,
					      uint16_t flags, uint8_t family)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	nlh = netlink_put_request(buffer, (NFNL_SUBSYS_CTNETLINK << 8) | type,
				  flags);
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

/* Protocol and destination port of an original tuple nest. */
static bool tuple_is_udp_to(const struct nlattr *tuple,
			    const struct udp_ports *ports)
{
	const struct nlattr *proto = NULL, *attr;
	uint8_t number = 0;
	int dport = -1;

	mnl_attr_for_each_nested(attr, tuple)
		if (mnl_attr_get_type(attr) == CTA_TUPLE_PROTO)
			proto = attr;
	if (!proto)
		return false;
	mnl_attr_for_each_nested(attr, proto) {
		if (mnl_attr_get_type(attr) == CTA_PROTO_NUM &&
		    !mnl_attr_validate(attr, MNL_TYPE_U8))
			number = mnl_attr_get_u8(attr);
		else if (mnl_attr_get_type(attr) == CTA_PROTO_DST_PORT &&
			 !mnl_attr_validate(attr, MNL_TYPE_U16))
			dport = ntohs(mnl_attr_get_u16(attr));
	}
	return number == IPPROTO_UDP && dport >= 0 &&
	       udp_ports_has(ports, (uint16_t)dport);
}

static int keep_doomed(struct doomed_list *list, uint8_t family,
		       const struct nlattr *tuple)
{
	struct doomed *entry;

	if (tuple->nla_len > sizeof(entry->tuple))
		return 0;
	entry = array_grow(list->entries, &list->cap, list->len,
			   sizeof(*entry));
	if (!entry) {
		list->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	list->entries = entry;
	entry = &list->entries[list->len++];
	entry->family = family;
	entry->tuple_len = tuple->nla_len;
	memcpy(entry->tuple, tuple, tuple->nla_len);
	return MNL_CB_OK;
}

static int on_conntrack(const struct nlmsghdr *nlh, void *data)
{
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	struct doomed_list *list = data;
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(*nfg))
		if (mnl_attr_get_type(attr) == CTA_TUPLE_ORIG &&
		    tuple_is_udp_to(attr, list->ports))
			return keep_doomed(list, nfg->nfgen_family, attr);
	return MNL_CB_OK;
}

static int delete_entry(struct netlink *nl, const struct doomed *entry)
{
	char buffer[MNL_SOCKET_BUFFER_SIZE];
	const struct nlattr *tuple = (const void *)entry->tuple;
	struct nlmsghdr *nlh;
	int err;

	nlh = put_ctnetlink_request(buffer, IPCTNL_MSG_CT_DELETE, NLM_F_ACK,
				    entry->family);
	mnl_attr_put(nlh, CTA_TUPLE_ORIG | NLA_F_NESTED,
		     mnl_attr_get_payload_len(tuple),
		     mnl_attr_get_payload(tuple));
	err = netlink_transact(nl, nlh, NULL, NULL);
	/* Gone meanwhile (expired, or deleted by someone else): as wanted. */
	return err == -ENOENT ? 0 : err;
}

int conntrack_delete_udp(const struct udp_ports *ports)
{
	struct doomed_list list = { .ports = ports };
	char buffer[MNL_SOCKET_BUFFER_SIZE];
	struct netlink nl;
	struct nlmsghdr *nlh;
	size_t i;
	int err;

	if (!ports->any)
		return 0;
	err = netlink_open(&nl, NETLINK_NETFILTER);
	if (err)
		return err;
	nlh = put_ctnetlink_request(buffer, IPCTNL_MSG_CT_GET, NLM_F_DUMP,
				    AF_UNSPEC);
	err = netlink_transact(&nl, nlh, on_conntrack, &list);
	if (list.err)
		err = list.err;
	for (i = 0; !err && i < list.len; i++)
		err = delete_entry(&nl, &list.entries[i]);
	free(list.entries);
	netlink_close(&nl);
	return err;
}
