// SPDX-License-Identifier: GPL-2.0
/*
 * A UDP flow that keeps sending keeps its conntrack entry, and with it the
 * NAT binding made for its first packet: it would never see a rule added or
 * deleted. After a change the entries of UDP flows to the ports involved are
 * deleted, so that the next datagram is a new connection and meets the new
 * table. TCP and SCTP connections are left alone.
 */
#include <linux/bitmap.h>
#include <linux/in.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>

#include "conntrack.h"

#define PORTREDIR_PORTS	65536

/**
 * portredir_ct_ports_alloc() - an empty set of UDP destination ports
 *
 * Allocated before the table changes, so that running out of memory
 * leaves nothing half done. Return: the set or NULL.
 */
unsigned long *portredir_ct_ports_alloc(void)
{
	return bitmap_zalloc(PORTREDIR_PORTS, PORTREDIR_GFP);
}

/**
 * portredir_ct_ports_mark() - add the ports of a UDP selector to a set
 * @ports: from portredir_ct_ports_alloc()
 * @sel: ignored unless its protocol is UDP
 */
void portredir_ct_ports_mark(unsigned long *ports,
			     const struct portredir_selector *sel)
{
	if (sel->proto == IPPROTO_UDP)
		bitmap_set(ports, sel->port_min,
			   sel->port_max - sel->port_min + 1);
}

/**
 * portredir_ct_ports_mark_all() - add the UDP ports of every rule of a table
 * @ports: from portredir_ct_ports_alloc()
 * @rs: the table, held by the caller; may be NULL
 */
void portredir_ct_ports_mark_all(unsigned long *ports,
				 const struct portredir_ruleset *rs)
{
	struct portredir_position pos = {};
	const struct portredir_rule *rule;

	if (!rs)
		return;
	while ((rule = portredir_ruleset_next(rs, &pos)))
		portredir_ct_ports_mark(ports, &rule->sel);
}

static int portredir_ct_match(struct nf_conn *ct, void *data)
{
	const struct nf_conntrack_tuple *tuple;
	const unsigned long *ports = data;

	if (nf_ct_protonum(ct) != IPPROTO_UDP)
		return 0;
	tuple = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	return test_bit(ntohs(tuple->dst.u.udp.port), ports);
}

/**
 * portredir_ct_flush_ports() - delete the UDP conntrack entries to some ports
 * @net: the namespace whose entries go
 * @ports: destination ports (of the original direction)
 *
 * May sleep: call without the namespace's lock.
 */
void portredir_ct_flush_ports(struct net *net, const unsigned long *ports)
{
	struct nf_ct_iter_data iter = { .net = net, .data = (void *)ports };

	if (!bitmap_empty(ports, PORTREDIR_PORTS))
		nf_ct_iterate_cleanup_net(portredir_ct_match, &iter);
}

void portredir_ct_ports_free(unsigned long *ports)
{
	bitmap_free(ports);
}
