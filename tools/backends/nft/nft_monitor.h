/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NFT_MONITOR_H
#define NFT_MONITOR_H

#include <stddef.h>

#include "backends/backend.h"

/*
 * Reports changes to table inet portredir as PORTREDIR_CMD_ADD/DEL of
 * whole rules, once per transaction, until interrupted (returns 0) or a
 * failure (a negative errno, the reason in @error).
 */
int nft_monitor_run(monitor_fn fn, void *arg, char *error, size_t len);

#endif
