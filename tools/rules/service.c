// SPDX-License-Identifier: GPL-2.0
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rule.h"
#include "rules/service.h"

#define PORT_COUNT 65536

static char ***names_of(struct service_table *table, uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return &table->tcp;
	case IPPROTO_UDP:
		return &table->udp;
	case IPPROTO_SCTP:
		return &table->sctp;
	}
	return NULL;
}

static char **load_names(const char *proto_name)
{
	char **names = calloc(PORT_COUNT, sizeof(*names));
	struct servent *service;

	if (!names)
		return NULL;
	setservent(1);
	while ((service = getservent())) {
		uint16_t port = ntohs((uint16_t)service->s_port);

		if (strcmp(service->s_proto, proto_name) || names[port])
			continue;
		names[port] = strdup(service->s_name);
	}
	endservent();
	return names;
}

const char *service_name(struct service_table *table, uint8_t proto,
			 uint16_t port)
{
	char ***names = names_of(table, proto);

	if (!names)
		return NULL;
	if (!*names)
		*names = load_names(rule_proto_name(proto));
	return *names ? (*names)[port] : NULL;
}

static void free_names(char **names)
{
	size_t port;

	if (!names)
		return;
	for (port = 0; port < PORT_COUNT; port++)
		free(names[port]);
	free(names);
}

void service_table_free(struct service_table *table)
{
	free_names(table->tcp);
	free_names(table->udp);
	free_names(table->sctp);
	memset(table, 0, sizeof(*table));
}
