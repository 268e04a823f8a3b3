// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

#define ARRAY_FIRST_CAP	16

void *array_grow(void *items, size_t *cap, size_t len, size_t size)
{
	size_t new_cap = *cap ? *cap * 2 : ARRAY_FIRST_CAP;
	void *grown;

	if (len < *cap)
		return items;
	if (new_cap < *cap || new_cap > SIZE_MAX / size)
		return NULL;
	grown = realloc(items, new_cap * size);
	if (grown)
		*cap = new_cap;
	return grown;
}

void *array_append(void *items, size_t *cap, size_t *len, const void *item,
		   size_t size)
{
	char *grown = array_grow(items, cap, *len, size);

	if (grown)
		memcpy(grown + (*len)++ * size, item, size);
	return grown;
}
