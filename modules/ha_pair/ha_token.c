/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_token.c - the probe identifier in a Via branch and a Call-ID: its
 * writer and its reader, side by side (pure). */

#include <stdio.h>

#include "ha_token.h"

int ha_probe_id_write(char *buf, size_t size, const ha_probe_id_t *id)
{
	return snprintf(
			buf, size, "%x.%x.%x.%x", id->gen, id->pair, id->role, id->token);
}

/* Take "<hex><stop>" from *s (of end e; stop 0: up to the end). Returns 0
 * with the value in *v and *s past the stop, or -1. */
static int take_hex(const char **s, const char *e, uint32_t *v, char stop)
{
	const char *p = *s;
	uint32_t x = 0;
	int d, n = 0;

	while(p < e && *p != stop) {
		if(*p >= '0' && *p <= '9')
			d = *p - '0';
		else if(*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			return -1;
		if(++n > 8)
			return -1;
		x = (x << 4) | (uint32_t)d;
		p++;
	}
	if(n == 0 || (stop != 0 && (p >= e || *p != stop)))
		return -1;
	*v = x;
	*s = p < e ? p + 1 : p;
	return 0;
}

int ha_probe_id_read(const char *s, size_t len, ha_probe_id_t *id)
{
	const char *e = s + len;
	ha_probe_id_t r;

	if(take_hex(&s, e, &r.gen, '.') < 0 || take_hex(&s, e, &r.pair, '.') < 0
			|| take_hex(&s, e, &r.role, '.') < 0
			|| take_hex(&s, e, &r.token, 0) < 0)
		return -1;
	*id = r;
	return 0;
}
