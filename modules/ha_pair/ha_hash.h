/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_hash.h - the one hash of ha_pair's tables (pair names, domains,
 * member addresses, the parser's duplicate checks): 32-bit FNV-1a (pure). */

#ifndef _HA_HASH_H_
#define _HA_HASH_H_

#include <stddef.h>

/* FNV-1a of p[0..len); with nocase, ASCII upper-case letters hash as their
 * lower-case ones. Inline: the request path hashes a domain or an address
 * of every request. Can't fail. */
static inline unsigned int ha_fnv1a(const void *p, size_t len, int nocase)
{
	const unsigned char *s = p;
	unsigned int h = 2166136261u;
	unsigned char c;
	size_t i;

	for(i = 0; i < len; i++) {
		c = s[i];
		if(nocase && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h = (h ^ c) * 16777619u;
	}
	return h;
}

#endif
