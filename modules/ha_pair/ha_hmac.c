/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_hmac.c - HMAC-SHA256 (RFC 2104) over the core's SHA-256, pure. */

#include <stdint.h>
#include <string.h>

#include "../../core/crypto/sha256.h"

#include "ha_hmac.h"

#define HA_SHA256_BLOCK 64

/* Zero n bytes at p through a volatile pointer, so that the compiler
 * cannot drop the stores as dead (the buffers are about to go out of
 * scope, which is exactly when it would). Can't fail. */
static void _ha_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while(n-- > 0)
		*v++ = 0;
}

/* Feed n bytes at p to ctx. sr_SHA256_Update() hands whole blocks of the
 * caller's buffer to its transform as 32-bit words, an unaligned access
 * (undefined behaviour, a fault on strict-alignment machines) when p is
 * not aligned; so the bytes go through an aligned block of our own, in
 * chunks of at most one block. A chunk then either fills the context's
 * own buffer or is that whole aligned block: the core never reads our
 * pointer past a block boundary it did not align. Can't fail. */
static void _ha_sha_update(SHA256_CTX *ctx, const void *p, size_t n)
{
	union
	{
		uint64_t align;
		uint8_t b[HA_SHA256_BLOCK];
	} blk;
	const uint8_t *s = p;
	size_t k;

	while(n > 0) {
		k = n < sizeof(blk.b) ? n : sizeof(blk.b);
		memcpy(blk.b, s, k);
		sr_SHA256_Update(ctx, blk.b, k);
		s += k;
		n -= k;
	}
	/* it may have held key material (the pads) */
	_ha_wipe(blk.b, sizeof(blk.b));
}

void ha_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
		unsigned char out[HA_SHA256_LEN])
{
	SHA256_CTX ctx;

	sr_SHA256_Init(&ctx);
	if(alen > 0)
		_ha_sha_update(&ctx, a, alen);
	if(blen > 0)
		_ha_sha_update(&ctx, b, blen);
	/* sr_SHA256_Final() zeroes the context itself */
	sr_SHA256_Final(out, &ctx);
}

void ha_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		unsigned char out[HA_SHA256_LEN])
{
	unsigned char k0[HA_SHA256_BLOCK], pad[HA_SHA256_BLOCK];
	unsigned char inner[HA_SHA256_LEN];
	size_t i;

	/* RFC 2104 section 2: a key longer than the block is hashed first,
	 * a shorter one padded with zeros */
	memset(k0, 0, sizeof(k0));
	if(klen > HA_SHA256_BLOCK)
		ha_sha256_2(key, klen, NULL, 0, k0);
	else if(klen > 0)
		memcpy(k0, key, klen);

	for(i = 0; i < sizeof(pad); i++)
		pad[i] = k0[i] ^ 0x36;
	ha_sha256_2(pad, sizeof(pad), msg, mlen, inner);
	for(i = 0; i < sizeof(pad); i++)
		pad[i] = k0[i] ^ 0x5c;
	ha_sha256_2(pad, sizeof(pad), inner, sizeof(inner), out);

	_ha_wipe(k0, sizeof(k0));
	_ha_wipe(pad, sizeof(pad));
	_ha_wipe(inner, sizeof(inner));
}

int ha_mem_equal(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	unsigned int d = 0;
	size_t i;

	/* no early exit: the time tells nothing of where they differ */
	for(i = 0; i < n; i++)
		d |= (unsigned int)(x[i] ^ y[i]);
	/* d is 0..255: d - 1 wraps to all ones only for 0, without a branch */
	return (int)(((d - 1) >> 8) & 1);
}
