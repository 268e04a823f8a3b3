/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ARRAY_H
#define ARRAY_H

#include <stddef.h>

/*
 * Room for one more item in a growable array of @len items of @size bytes,
 * *@cap of them allocated: @items while there is room, else the array moved
 * to twice the room (16 items at first) and *@cap updated. NULL when memory
 * runs out, with @items untouched and still the caller's to free:
 *
 *	items = array_grow(list->items, &list->cap, list->len,
 *			   sizeof(*items));
 *	if (!items)
 *		return -ENOMEM;
 *	list->items = items;
 *	list->items[list->len++] = *item;
 */
void *array_grow(void *items, size_t *cap, size_t len, size_t size);

/*
 * array_grow(), then a copy of the @size bytes at @item as item *@len,
 * counted in *@len; NULL with nothing changed when memory runs out.
 */
void *array_append(void *items, size_t *cap, size_t *len, const void *item,
		   size_t size);

#endif
