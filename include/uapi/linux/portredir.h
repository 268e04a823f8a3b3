/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * portredir: destination port redirection for new connections.
 *
 * Generic netlink family "portredir" (PORTREDIR_GENL_NAME), version 1.
 * This header is the whole contract between portredir.ko and userspace;
 * Documentation/netlink/specs/portredir.yaml says the same for the
 * kernel's ynl tool.
 *
 * Model
 * -----
 * Every network namespace has its own rule table. A rule matches new
 * connections by protocol, destination port (or port range), address family,
 * direction and, for inbound traffic, the input interface; a hit binds a
 * conntrack destination NAT that changes the port only: the connection goes
 * to the target port of the very address it was sent to (a secondary
 * address, a VIP on lo, 127.0.0.1 or ::1), not to the input interface's
 * primary address as NAT's "redirect" would, and the server sees the
 * client's address. Replies are translated back by the NAT core. Only
 * connections to an address of this host are redirected; loopback
 * destinations (127.0.0.0/8, ::1) only when they travel on a loopback
 * device. Packets of established connections never consult the table:
 * deleting a rule affects new connections only.
 *
 * The NAT functions run at NF_IP_PRI_NAT_DST + 1 (NF_IP6_PRI_NAT_DST + 1),
 * at PRE_ROUTING and LOCAL_OUT, right after iptables' nat table and
 * nftables' dstnat chains: a destination NAT the administrator or another
 * tool (Docker) set up for a port decides first, and portredir redirects
 * the connections it leaves unbound. Such connections are not counted.
 *
 * No two rules of a namespace overlap: a new rule is refused when some
 * packet could match both it and an existing rule (same protocol,
 * intersecting families, directions and port ranges, and the same interface
 * or either of them bound to none). Each connection therefore has at most
 * one matching rule and the order of rules carries no meaning.
 *
 * Commands
 * --------
 * All commands take and return a struct genlmsghdr followed by attributes of
 * enum portredir_attr. Commands that change the table need CAP_NET_ADMIN in
 * the user namespace that owns the network namespace; reading does not.
 * Every refusal carries an extended ack message naming what was wrong and,
 * where one attribute is to blame, the offending attribute
 * (NLMSGERR_ATTR_OFFS). Messages are plain sentences without a module
 * prefix, ready to be shown to a user. Each command has a policy of its
 * own, validated strictly: unknown attributes, attributes the command does
 * not take and trailing data are refused with EINVAL and change nothing.
 *
 * PORTREDIR_CMD_ADD
 *	Adds the rule in PORTREDIR_A_RULE (required). The rule needs
 *	PROTO, PORT_MIN and TO_PORT_MIN. Errors:
 *	ERANGE	an attribute outside the range its policy allows (port 0,
 *		an unknown family or direction bit): the policy check of the
 *		netlink core, with its own extack message;
 *	EINVAL	malformed rule: missing or unknown attributes, unsupported
 *		protocol, reversed range, a target range whose size is
 *		neither 1 nor the size of the port range, an interface on a
 *		rule that covers local traffic;
 *	ENODEV	PORTREDIR_RULE_A_IFINDEX names no interface of the namespace;
 *	EEXIST	the rule overlaps an existing rule;
 *	ENOMEM	out of memory (with an extack message too).
 *	On success the new rule is announced to the monitor group.
 *
 * PORTREDIR_CMD_DEL
 *	Deletes the rule whose selector (PROTO, PORT_MIN, PORT_MAX, FAMILY,
 *	DIRECTION, IFINDEX, with the same defaults as ADD) equals the one in
 *	PORTREDIR_A_RULE exactly. TO_PORT_MIN and TO_PORT_MAX are refused
 *	(EINVAL): the selector alone names a rule. ENOENT when there is no
 *	such rule. Connections already redirected by the rule are
 *	left alone. The deleted rule is announced to the monitor group.
 *
 * PORTREDIR_CMD_GET
 *	Dump only (NLM_F_DUMP): one message per rule, each carrying
 *	PORTREDIR_A_RULE with every rule attribute filled in, including
 *	PORTREDIR_RULE_A_CONNECTIONS, in order of protocol number, then
 *	PORT_MIN. A dump interrupted by a change of the table is flagged with
 *	NLM_F_DUMP_INTR on its messages; each part resumes where the last one
 *	stopped without walking the rules before it. Takes no
 *	attributes: there is no filter, and a PORTREDIR_A_RULE is refused
 *	(EINVAL).
 *
 * PORTREDIR_CMD_FLUSH
 *	Deletes every rule of the namespace. Takes no attributes: a
 *	PORTREDIR_A_RULE is refused (EINVAL) and nothing is deleted.
 *	Announced to the monitor group as one PORTREDIR_CMD_FLUSH message
 *	without attributes.
 *
 * PORTREDIR_CMD_REPLACE
 *	Replaces the whole table with the rules of every PORTREDIR_A_RULE
 *	attribute in the message (possibly none), atomically: a packet sees
 *	either the old table or the new one, never a mix, and on any error
 *	nothing changes. Rules are checked as for ADD, against each other;
 *	the extack points at the first rule refused. The rules are top-level
 *	attributes, not one nest, because a nest cannot exceed 64 KiB: a
 *	full table needs a message of several MiB, so raise SO_SNDBUF (or
 *	SO_SNDBUFFORCE) to send it, or use the REPLACE_BEGIN, REPLACE_RULES,
 *	REPLACE_COMMIT transaction below, which any namespace root can send
 *	whatever the table size. Announced to the monitor group as a
 *	PORTREDIR_CMD_FLUSH followed by one PORTREDIR_CMD_ADD per new rule.
 *
 * PORTREDIR_CMD_REPLACE_BEGIN
 *	Starts a replace transaction owned by the sending socket: a new table,
 *	empty, built by REPLACE_RULES and swapped in by REPLACE_COMMIT. Takes
 *	no attributes. A namespace has at most one transaction: EBUSY when
 *	another socket owns one; a BEGIN from the owner discards its old one
 *	and starts again. The transaction is discarded, and nothing changes,
 *	when its socket is closed, on REPLACE_ABORT, on any refused
 *	REPLACE_RULES, and when the namespace goes away.
 *
 * PORTREDIR_CMD_REPLACE_RULES
 *	Adds the rules of every PORTREDIR_A_RULE attribute in the message
 *	(top-level, as for REPLACE) to the transaction of the sending socket,
 *	checked as for REPLACE against each other and against the rules of
 *	earlier REPLACE_RULES messages. ENOENT when the socket owns no
 *	transaction. On any error the extack points at the rule refused and
 *	the whole transaction is discarded.
 *
 * PORTREDIR_CMD_REPLACE_COMMIT
 *	Swaps the transaction's table in atomically, as REPLACE does, and ends
 *	the transaction; takes PORTREDIR_A_KEEP_CONNTRACK. ENOENT when the
 *	socket owns no transaction; ENODEV when an interface a rule is bound
 *	to went away meanwhile (the transaction is then discarded).
 *
 * PORTREDIR_CMD_REPLACE_ABORT
 *	Discards the sending socket's transaction; ENOENT when it has none.
 *
 * Limits
 * ------
 * A namespace holds at most max_rules rules covering at most max_ports
 * ports in all (a rule covers PORT_MAX - PORT_MIN + 1 ports), the module
 * parameters of these names, which only the host's root can change
 * (/sys/module/portredir/parameters/). The defaults, 131072 rules and 262144
 * ports, hold a rule for every TCP and UDP port. A replace transaction's
 * table has the same limits, separately. ADD, REPLACE and REPLACE_RULES
 * refuse a rule beyond them with ENOSPC and an extack naming the limit;
 * nothing changes.
 *
 * Steering
 * --------
 * A rule in PORTREDIR_MODE_STEER (TCP only: EINVAL for UDP and SCTP) does
 * not translate anything. At LOCAL_IN, once routing has found the packet to
 * be for this host, a packet of a new connection to a matched port is given
 * to the socket listening on the target port, looked up at the address the
 * packet was sent to (a listener bound to another address does not get it).
 * The accepted socket keeps the port the client asked for (getsockname()
 * shows it, ss lists the connection on it, replies leave from it), the
 * server sees the client's address, and no conntrack entry or NAT binding
 * is made: a namespace whose rules all steer never turns conntrack on.
 * Packets of established connections find their socket as usual; deleting
 * the rule leaves them alone. When nothing listens on the target port the
 * packet goes on unchanged: a listener on the original port answers it, or
 * the client gets a reset as from a closed port. SYN cookies, TCP Fast Open
 * and SO_REUSEPORT groups on the target work as for a direct connection; a
 * TIME_WAIT socket of an earlier connection on the same ports is given up
 * for the target's listener. IPv6 fragments are not steered. A port is
 * either steered or translated: overlap rules do not look at the mode.
 * EOPNOTSUPP when the kernel has no nf_tproxy (CONFIG_NF_TPROXY_IPV4/6).
 *
 * UDP flows and rule changes
 * --------------------------
 * A UDP flow that keeps sending keeps its conntrack entry, and the NAT
 * binding of its first packet with it, so it would never see a rule
 * change. ADD, DEL, FLUSH and REPLACE therefore delete, once the change is
 * made, the conntrack entries of the namespace whose protocol is UDP and
 * whose original destination port is a port of a rule added or deleted
 * (for FLUSH and REPLACE: of every rule before and after). The next
 * datagram of such a flow meets the new table. Connections of other
 * protocols are never touched. The flag PORTREDIR_A_KEEP_CONNTRACK (NLA_FLAG)
 * in the request opts out. Userspace that predates this flag gets the
 * deletion; a module that predates it refuses the flag as an unknown
 * attribute (EINVAL).
 *
 * Multicast group PORTREDIR_MCGRP_MONITOR receives PORTREDIR_CMD_ADD,
 * PORTREDIR_CMD_DEL and PORTREDIR_CMD_FLUSH notifications shaped like the
 * requests, with the rule completed as a dump would show it. A rule bound to
 * an interface is deleted, with a PORTREDIR_CMD_DEL notification, when that
 * interface leaves the namespace. A notification the kernel could not
 * build is reported to the listeners as ENOBUFS on their socket, as an
 * overrun is: they have missed an event and should dump the table again.
 *
 * Every allocation a change makes (rules, the port index, transactions) is
 * charged to the memory cgroup of the caller; a change that the cgroup's
 * limit refuses fails with ENOMEM and changes nothing.
 *
 * Unloading the module deletes every rule of every namespace, without
 * notifications. In a namespace where portredir was the last user of the
 * NAT core, connections it redirected are no longer translated: TCP ones
 * get a reset at their next packet, UDP flows reach the original port.
 * Where another NAT user remains, the NAT core keeps translating them.
 *
 * Attribute tree
 * --------------
 * PORTREDIR_A_KEEP_CONNTRACK: flag, for ADD, DEL, FLUSH and REPLACE: leave
 *	conntrack entries alone (see above).
 * PORTREDIR_A_RULE: nest of enum portredir_rule_attr
 *	PORTREDIR_RULE_A_PROTO		u8, IPPROTO_TCP, IPPROTO_UDP or
 *					IPPROTO_SCTP. Required.
 *	PORTREDIR_RULE_A_PORT_MIN	u16, host byte order, 1..65535: first
 *					destination port matched. Required.
 *	PORTREDIR_RULE_A_PORT_MAX	u16, host byte order, PORT_MIN..65535:
 *					last destination port matched.
 *					Default: PORT_MIN.
 *	PORTREDIR_RULE_A_TO_PORT_MIN	u16, host byte order, 1..65535: target
 *					port. Required for ADD.
 *	PORTREDIR_RULE_A_TO_PORT_MAX	u16, host byte order. Default:
 *					TO_PORT_MIN. When it differs from
 *					TO_PORT_MIN the target range must have
 *					as many ports as the matched range and
 *					the offset is kept: PORT_MIN + n goes to
 *					TO_PORT_MIN + n. A single target port
 *					receives every port of the range.
 *	PORTREDIR_RULE_A_FAMILY		u8, mask of enum portredir_family,
 *					not 0. Default: both families.
 *	PORTREDIR_RULE_A_DIRECTION	u8, mask of enum portredir_direction,
 *					not 0. Default: both directions.
 *	PORTREDIR_RULE_A_IFINDEX	u32, input interface index, not 0.
 *					Only with DIRECTION exactly
 *					PORTREDIR_DIR_INBOUND. Default: any.
 *	PORTREDIR_RULE_A_CONNECTIONS	u64, output only: connections this rule
 *					has redirected, one per conntrack entry
 *					it bound (retransmissions, entries
 *					older than the rule and entries another
 *					NAT hook bound first are not counted).
 *					Refused on input.
 *	PORTREDIR_RULE_A_PAD		padding for the u64 above.
 *	PORTREDIR_RULE_A_MODE		u8, enum portredir_mode. Default
 *					PORTREDIR_MODE_NAT. Input for ADD and
 *					REPLACE (refused by DEL: the selector
 *					alone names a rule); dumps and
 *					notifications carry it for steering
 *					rules only, so that userspace older
 *					than the attribute sees NAT rules as
 *					before. See "Steering" above.
 */
#ifndef _UAPI_LINUX_PORTREDIR_H
#define _UAPI_LINUX_PORTREDIR_H

#define PORTREDIR_GENL_NAME		"portredir"
#define PORTREDIR_GENL_VERSION		1
#define PORTREDIR_MCGRP_MONITOR		"monitor"

enum portredir_cmd {
	PORTREDIR_CMD_UNSPEC,
	PORTREDIR_CMD_ADD,
	PORTREDIR_CMD_DEL,
	PORTREDIR_CMD_GET,
	PORTREDIR_CMD_FLUSH,
	PORTREDIR_CMD_REPLACE,
	PORTREDIR_CMD_REPLACE_BEGIN,
	PORTREDIR_CMD_REPLACE_RULES,
	PORTREDIR_CMD_REPLACE_COMMIT,
	PORTREDIR_CMD_REPLACE_ABORT,

	__PORTREDIR_CMD_MAX,
	PORTREDIR_CMD_MAX = __PORTREDIR_CMD_MAX - 1
};

enum portredir_attr {
	PORTREDIR_A_UNSPEC,
	PORTREDIR_A_RULE,
	PORTREDIR_A_KEEP_CONNTRACK,

	__PORTREDIR_A_MAX,
	PORTREDIR_A_MAX = __PORTREDIR_A_MAX - 1
};

enum portredir_rule_attr {
	PORTREDIR_RULE_A_UNSPEC,
	PORTREDIR_RULE_A_PAD,
	PORTREDIR_RULE_A_PROTO,
	PORTREDIR_RULE_A_PORT_MIN,
	PORTREDIR_RULE_A_PORT_MAX,
	PORTREDIR_RULE_A_TO_PORT_MIN,
	PORTREDIR_RULE_A_TO_PORT_MAX,
	PORTREDIR_RULE_A_FAMILY,
	PORTREDIR_RULE_A_DIRECTION,
	PORTREDIR_RULE_A_IFINDEX,
	PORTREDIR_RULE_A_CONNECTIONS,
	PORTREDIR_RULE_A_MODE,

	__PORTREDIR_RULE_A_MAX,
	PORTREDIR_RULE_A_MAX = __PORTREDIR_RULE_A_MAX - 1
};

enum portredir_family {
	PORTREDIR_FAMILY_IPV4 = 1 << 0,
	PORTREDIR_FAMILY_IPV6 = 1 << 1,

	PORTREDIR_FAMILY_ALL = PORTREDIR_FAMILY_IPV4 | PORTREDIR_FAMILY_IPV6
};

enum portredir_direction {
	/* traffic arriving from the network (NF_INET_PRE_ROUTING) */
	PORTREDIR_DIR_INBOUND = 1 << 0,
	/* traffic this host sends to its own addresses (NF_INET_LOCAL_OUT) */
	PORTREDIR_DIR_LOCAL = 1 << 1,

	PORTREDIR_DIR_ALL = PORTREDIR_DIR_INBOUND | PORTREDIR_DIR_LOCAL
};

enum portredir_mode {
	/* conntrack destination NAT: the connection is translated */
	PORTREDIR_MODE_NAT,
	/* TCP only: the connection is handed to the target's listener */
	PORTREDIR_MODE_STEER,

	__PORTREDIR_MODE_MAX,
	PORTREDIR_MODE_MAX = __PORTREDIR_MODE_MAX - 1
};

#endif /* _UAPI_LINUX_PORTREDIR_H */
