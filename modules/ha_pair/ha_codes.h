/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_codes.h - the alive-codes grammar of ha_pair: one tokenizer for the
 * module parameter (ha_codes_parse()) and the pairs file (pure). */

#ifndef _HA_CODES_H_
#define _HA_CODES_H_

#include <stddef.h>
#include <stdint.h>

/* One item of an alive-codes list: a code 100..699 ("404") or a class
 * 1xx..6xx ("2xx"), covering the codes lo..hi. */
typedef struct ha_codes_item
{
	char text[4]; /* as written, the class's "x" in lower case: "2xx" */
	int lo;
	int hi;
} ha_codes_item_t;

/* Read the item at *p of a list "2xx, 404": the text up to the next ',' or
 * the end, blanks (' ', '\t') around it ignored. Returns 1 when a ','
 * follows (another item must come), 0 when it was the last, with *it
 * filled and *p past the item and its ','; -1 when the item is empty or
 * neither a code nor a class, with the reason in why (may be NULL) and *p
 * unchanged. */
int ha_codes_next(const char **p, ha_codes_item_t *it, char *why, size_t wlen);

/* Check an alive-codes list and write it normalised ("2xx,404") into out,
 * which must hold strlen(s) + 1 bytes. An empty list is refused. Returns
 * 0, or -1 with the reason in why. */
int ha_codes_norm(const char *s, char *out, char *why, size_t wlen);

/* Which final replies mean "alive". Empty (any == 1): every final reply. */
typedef struct ha_codes
{
	int any;
	uint32_t bits[(600 + 31) / 32]; /* codes 100..699 */
} ha_codes_t;

/* Parse "2xx,404" (items: a code 100..699 or a class 1xx..6xx, spaces
 * around items allowed). NULL or "" gives "any final reply". Returns 0, or
 * -1 on a bad list (c is then "any"). */
int ha_codes_parse(const char *s, ha_codes_t *c);
/* Is code (a final reply, >= 200) alive under c? */
int ha_codes_alive(const ha_codes_t *c, int code);

#endif
