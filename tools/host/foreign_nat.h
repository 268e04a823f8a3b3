/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FOREIGN_NAT_H
#define FOREIGN_NAT_H

#include <linux/netfilter/nf_tables.h>

#include "rules/rule.h"

/*
 * A rule of another nftables table (iptables-nft's included) that
 * translates destinations of new connections, and what it matches as far
 * as its own expressions tell: protocol and destination ports. Other
 * conditions (addresses, interfaces, marks) are not read, so it may match
 * less than this says.
 */
struct foreign_nat {
	uint8_t family;		/* PORTREDIR_FAMILY_* mask */
	uint8_t direction;	/* PORTREDIR_DIR_INBOUND or _LOCAL */
	uint8_t proto;		/* 0: every protocol */
	struct port_range ports;	/* 0-65535: every port */
	int32_t priority;	/* of the base chain it is reached from */
	char family_name[8];	/* "ip", "ip6", "inet" */
	char table[NFT_TABLE_MAXNAMELEN];
	char chain[NFT_CHAIN_MAXNAMELEN];
};

struct foreign_nat_list {
	struct foreign_nat *items;
	size_t len;
	size_t cap;
};

/*
 * Reads every nat chain at prerouting or output outside table inet
 * portredir, and the regular chains they jump or go to, for rules ending
 * in dnat, redirect or an iptables DNAT, REDIRECT or NETMAP target whose
 * ports are known: compared with cmp or range, or not at all (every
 * port). Ports held in sets, maps or xt matches (multiport) are not read
 * and such rules are left out. Without nf_tables, or when the ruleset
 * cannot be read, the list is empty.
 */
void foreign_nat_load(struct foreign_nat_list *list);
void foreign_nat_free(struct foreign_nat_list *list);

#endif
