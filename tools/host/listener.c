// SPDX-License-Identifier: GPL-2.0
/* Who listens on a port: sock_diag for the sockets, /proc for their owners. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "host/listener.h"
#include "netlink/netlink.h"
#include "util/array.h"

unsigned int listener_proto_bit(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 1u << 0;
	case IPPROTO_UDP:
		return 1u << 1;
	case IPPROTO_SCTP:
		return 1u << 2;
	}
	return 0;
}

static int append_listener(struct listener_table *table,
			   const struct listener *listener)
{
	struct listener *items = array_append(table->items, &table->cap,
					      &table->len, listener,
					      sizeof(*listener));

	if (!items)
		return -ENOMEM;
	table->items = items;
	return 0;
}

static bool is_loopback(int family, const uint32_t addr[4])
{
	const struct in6_addr *in6 = (const void *)addr;

	if (family == AF_INET)
		return (ntohl(addr[0]) >> 24) == 127;
	if (IN6_IS_ADDR_LOOPBACK(in6))
		return true;
	return IN6_IS_ADDR_V4MAPPED(in6) && (ntohl(addr[3]) >> 24) == 127;
}

static void describe_address(struct listener *listener, int family,
			     const uint32_t addr[4], bool v6only)
{
	const struct in6_addr *in6 = (const void *)addr;

	inet_ntop(family, addr, listener->address, sizeof(listener->address));
	listener->loopback = is_loopback(family, addr);
	listener->wildcard = family == AF_INET ? !addr[0] :
						 IN6_IS_ADDR_UNSPECIFIED(in6);
	listener->accepts_ipv6 = family == AF_INET6;
	listener->accepts_ipv4 = family == AF_INET ||
		(!v6only && (IN6_IS_ADDR_UNSPECIFIED(in6) ||
			     IN6_IS_ADDR_V4MAPPED(in6)));
}

static int read_v6only(const struct nlattr *attr, void *data)
{
	bool *v6only = data;

	if (mnl_attr_get_type(attr) == INET_DIAG_SKV6ONLY &&
	    mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
		*v6only = mnl_attr_get_u8(attr);
	return MNL_CB_OK;
}

struct dump {
	struct listener_table *table;
	uint8_t proto;
};

static int read_socket(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *msg = mnl_nlmsg_get_payload(nlh);
	struct listener listener = { 0 };
	struct dump *dump = data;
	bool v6only = false;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*msg)))
		return MNL_CB_OK;
	/* A UDP socket with a peer only takes that peer's datagrams. */
	if (!msg->id.idiag_sport || msg->id.idiag_dport)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*msg), read_v6only, &v6only);

	listener.proto = dump->proto;
	listener.port = ntohs(msg->id.idiag_sport);
	listener.inode = msg->idiag_inode;
	listener.uid = msg->idiag_uid;
	describe_address(&listener, msg->idiag_family, msg->id.idiag_src,
			 v6only);
	if (append_listener(dump->table, &listener)) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static uint32_t listening_states(uint8_t proto)
{
	/* Bound UDP sockets without a peer sit in TCP_CLOSE. */
	return proto == IPPROTO_UDP ? 1u << TCP_CLOSE : 1u << TCP_LISTEN;
}

static int dump_sockets(struct netlink *nl, struct dump *dump, uint8_t family)
{
	char buffer[MNL_SOCKET_BUFFER_SIZE];
	struct inet_diag_req_v2 *request;
	struct nlmsghdr *nlh;

	nlh = netlink_put_request(buffer, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP);
	request = mnl_nlmsg_put_extra_header(nlh, sizeof(*request));
	request->sdiag_family = family;
	request->sdiag_protocol = dump->proto;
	request->idiag_states = listening_states(dump->proto);
	return netlink_transact(nl, nlh, read_socket, dump);
}

static int load_proto(struct listener_table *table, uint8_t proto)
{
	struct dump dump = { table, proto };
	struct netlink nl;
	int err;

	err = netlink_open(&nl, NETLINK_SOCK_DIAG);
	if (err)
		return err;
	err = dump_sockets(&nl, &dump, AF_INET);
	if (!err)
		err = dump_sockets(&nl, &dump, AF_INET6);
	netlink_close(&nl);
	return err;
}

static int compare_inodes(const void *a, const void *b)
{
	const struct listener *x = a, *y = b;

	return (x->inode > y->inode) - (x->inode < y->inode);
}

static int compare_ports(const void *a, const void *b)
{
	const struct listener *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	return x->port - y->port;
}

static void read_process_name(int pid, char *name, size_t len)
{
	char path[64];
	FILE *file;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	file = fopen(path, "r");
	if (!file || !fgets(name, (int)len, file))
		snprintf(name, len, "?");
	if (file)
		fclose(file);
	name[strcspn(name, "\n")] = '\0';
}

/* Marks the listeners whose socket @pid holds; returns how many were new. */
static size_t claim_sockets(struct listener_table *table, int pid)
{
	char path[64], link[64];
	struct listener key = { 0 }, *found;
	struct dirent *entry;
	size_t claimed = 0;
	DIR *fds;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	fds = opendir(path);
	if (!fds)
		return 0;
	while ((entry = readdir(fds))) {
		ssize_t n = readlinkat(dirfd(fds), entry->d_name, link,
				       sizeof(link) - 1);

		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%u]", &key.inode) != 1)
			continue;
		found = bsearch(&key, table->items, table->len,
				sizeof(*found), compare_inodes);
		if (!found || found->pid)
			continue;
		found->pid = pid;
		read_process_name(pid, found->process, sizeof(found->process));
		claimed++;
	}
	closedir(fds);
	return claimed;
}

static void name_processes(struct listener_table *table)
{
	size_t unnamed = table->len;
	struct dirent *entry;
	DIR *proc;

	if (!table->len)
		return;
	qsort(table->items, table->len, sizeof(*table->items), compare_inodes);
	proc = opendir("/proc");
	while (proc && unnamed && (entry = readdir(proc))) {
		int pid = atoi(entry->d_name);
		size_t claimed;

		if (pid <= 0)
			continue;
		claimed = claim_sockets(table, pid);
		unnamed -= claimed < unnamed ? claimed : unnamed;
	}
	if (proc)
		closedir(proc);
}

/*
 * Without the SCTP module there is no SCTP socket to find, and a dump
 * would load it (sctp_diag needs sctp): a read-only command must not.
 */
static bool sctp_present(void)
{
	return !access("/proc/self/net/sctp", F_OK);
}

void listener_table_load_protocols(struct listener_table *table,
				   unsigned int wanted)
{
	static const uint8_t protos[] = {
		IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP,
	};
	size_t i;

	memset(table, 0, sizeof(*table));
	for (i = 0; i < sizeof(protos); i++) {
		unsigned int bit = listener_proto_bit(protos[i]);

		if (!(wanted & bit))
			continue;
		if (protos[i] == IPPROTO_SCTP && !sctp_present())
			table->loaded |= bit;
		else if (!load_proto(table, protos[i]))
			table->loaded |= bit;
	}

	name_processes(table);
	if (table->len)
		qsort(table->items, table->len, sizeof(*table->items),
		      compare_ports);
}

void listener_table_load(struct listener_table *table,
			 const struct rule_list *rules)
{
	unsigned int wanted = 0;
	size_t i;

	for (i = 0; i < rules->len; i++)
		wanted |= listener_proto_bit(rules->rules[i].proto);
	listener_table_load_protocols(table, wanted);
}

void listener_table_free(struct listener_table *table)
{
	free(table->items);
	memset(table, 0, sizeof(*table));
}

/* The first listener on @proto at or above @port. */
static size_t lower_bound(const struct listener_table *table, uint8_t proto,
			  uint16_t port)
{
	struct listener key = { .proto = proto, .port = port };
	size_t low = 0, high = table->len;

	while (low < high) {
		size_t middle = low + (high - low) / 2;

		if (compare_ports(&table->items[middle], &key) < 0)
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

void listener_find_targets(const struct listener_table *table,
			   const struct redir_rule *rule,
			   struct target_listeners *out)
{
	size_t i = lower_bound(table, rule->proto, rule->to.min);
	int last_port = -1;

	memset(out, 0, sizeof(*out));
	out->known = table->loaded & listener_proto_bit(rule->proto);
	out->first = table->items ? &table->items[i] : NULL;
	out->loopback_only = true;
	for (; i < table->len && table->items[i].proto == rule->proto &&
	       table->items[i].port <= rule->to.max; i++) {
		const struct listener *listener = &table->items[i];

		out->count++;
		out->ports_listened += listener->port != last_port;
		last_port = listener->port;
		out->loopback_only &= listener->loopback;
		out->accepts_ipv4 |= listener->accepts_ipv4;
		out->accepts_ipv6 |= listener->accepts_ipv6;
	}
	if (!out->count)
		out->loopback_only = false;
}

void listener_owner(const struct listener *listener, char *buf, size_t len)
{
	if (listener->pid)
		snprintf(buf, len, "%s[%d]", listener->process, listener->pid);
	else
		snprintf(buf, len, "uid %u", listener->uid);
}
