// SPDX-License-Identifier: GPL-2.0
/* Placeholder until the nftables backend lands: reports itself unavailable. */
#include <errno.h>

#include "backend.h"

static int nft_open(struct backend *b)
{
	(void)b;
	return -ENOENT;
}

const struct backend_ops backend_nft = {
	.name = "nft",
	.open = nft_open,
};
