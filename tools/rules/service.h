/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SERVICE_H
#define SERVICE_H

#include <stdint.h>

/*
 * Port to service name, per protocol, from /etc/services. Each protocol's
 * table is read once, on first use: listing thousands of rules must not
 * rescan the file for every port.
 */
struct service_table {
	char **tcp;
	char **udp;
	char **sctp;
};

/* The first name /etc/services gives @port of @proto, or NULL. */
const char *service_name(struct service_table *table, uint8_t proto,
			 uint16_t port);
void service_table_free(struct service_table *table);

#endif
