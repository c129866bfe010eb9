/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_token.h - how a probe names itself: "<gen>.<pair>.<role>.<token>" in
 * lower-case hex after the Via branch prefix (and in the Call-ID), written
 * and read here only (pure). */

#ifndef _HA_TOKEN_H_
#define _HA_TOKEN_H_

#include <stddef.h>
#include <stdint.h>

/* the Via branch of every probe starts with this (RFC 3261's magic cookie,
 * then ours) */
#define HA_BRANCH_PREFIX "z9hG4bKhap."
#define HA_BRANCH_PREFIX_LEN (sizeof(HA_BRANCH_PREFIX) - 1)
/* the length of RFC 3261's magic cookie that HA_BRANCH_PREFIX starts with */
#define HA_BRANCH_COOKIE_LEN 7

/* four fields of at most 8 hex digits, three dots, the NUL */
#define HA_PROBE_ID_SIZE 36

/* What a reply must echo for its probe to be found: the table generation,
 * the pair's index in it, the member's role and the probe's token. */
typedef struct ha_probe_id
{
	uint32_t gen;
	uint32_t pair;
	uint32_t role;
	uint32_t token;
} ha_probe_id_t;

/* Write id as "gen.pair.role.token" into buf (HA_PROBE_ID_SIZE bytes are
 * always enough). Returns the length written; can't fail with that room. */
int ha_probe_id_write(char *buf, size_t size, const ha_probe_id_t *id);

/* Read s[0..len) (what follows HA_BRANCH_PREFIX in a branch) back into
 * *id: four fields of 1 to 8 lower-case hex digits separated by dots.
 * Returns 0, or -1 when it is not of that form (*id unchanged). */
int ha_probe_id_read(const char *s, size_t len, ha_probe_id_t *id);

#endif
