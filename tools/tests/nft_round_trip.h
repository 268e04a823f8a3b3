/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test support for the nft element codec: rules written as map elements
 * and read back the way the backend reads the kernel's dumps.
 */
#ifndef TESTS_NFT_ROUND_TRIP_H
#define TESTS_NFT_ROUND_TRIP_H

#include <stddef.h>

#include "rules/rule.h"

/*
 * Writes @rules, map by map, as the elements of one NEWSETELEM message per
 * map (nft_rule_elems()), parses each message back (nft_raw_parse(),
 * nft_raw_to_rules()) and appends what comes out to @out. The rules must
 * be valid and not overlap. Returns 0, or a negative errno with @why.
 */
int nft_round_trip(const struct rule_list *rules, struct rule_list *out,
		   char *why, size_t len);

/* Do @a and @b hold the same rules, in any order, counters aside? */
bool rule_lists_equal(struct rule_list *a, struct rule_list *b);

#endif
