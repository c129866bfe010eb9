/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_hmac.h - HMAC-SHA256 (RFC 2104) over the SHA-256 of Kamailio's core
 * (core/crypto/sha256.c, exported by the kamailio binary), pure. */

#ifndef _HA_HMAC_H_
#define _HA_HMAC_H_

#include <stddef.h>

#define HA_SHA256_LEN 32

/* out = HMAC-SHA256(key, msg). Can't fail. */
void ha_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		unsigned char out[HA_SHA256_LEN]);

/* out = SHA-256(a || b) (b may be NULL with blen 0). Can't fail. */
void ha_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
		unsigned char out[HA_SHA256_LEN]);

/* Are the n bytes at a and b equal? In time that depends on n only.
 * Returns 1 or 0. */
int ha_mem_equal(const void *a, const void *b, size_t n);

#endif
