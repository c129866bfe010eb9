/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_seal.c - libFuzzer target: the signed envelope of pool messages,
 * the key file and the replay window (ha_seal.c, ha_hmac.c).
 *
 * The first byte picks what the rest is (its value modulo 4; the seeds
 * use '0' to '3'):
 *  0  a KDMQ body for ha_unseal() with a fixed ring of two keys. An
 *     accepted envelope has valid fields and its message inside the input,
 *     and sealed again with the key that verified it gives the input back
 *     byte for byte (the form has one spelling). Every prefix is refused.
 *     libFuzzer hands over a heap copy of exactly the input, so ASan
 *     catches a read past len.
 *  1  a key file for ha_keyring_parse(): a ring it fills has 1 to
 *     HA_KEYS_MAX keys of printable characters and bounded length with
 *     distinct ids, and seals what it unseals; a refusal has a known code,
 *     a line (0 only for "no key") and a zeroed ring.
 *  2  a header and message made from the bytes, sealed and unsealed: the
 *     same fields and message come back; one changed byte (chosen by the
 *     input) is refused.
 *  3  operations on a replay window, checked against a model that keeps
 *     a list of the accepted counters instead of a bitmap. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_seal.h"

#define CHECK(cond)                                                        \
	do {                                                                   \
		if(!(cond)) {                                                      \
			fprintf(stderr, "fuzz_seal: %s (line %d)\n", #cond, __LINE__); \
			abort();                                                       \
		}                                                                  \
	} while(0)

#define FUZZ_KEYS                               \
	"fuzz-key-one-0123456789abcdef0123456789\n" \
	"fuzz-key-two-fedcba9876543210fedcba9876\n"

static ha_keyring_t ring;

static void ring_init(void)
{
	static int done;
	int line;

	if(done)
		return;
	CHECK(ha_keyring_parse(FUZZ_KEYS, strlen(FUZZ_KEYS), &ring, &line) == 2);
	done = 1;
}

static int addr_ok(const char a[HA_ORIGIN_MAX])
{
	size_t n;

	for(n = 0; n < HA_ORIGIN_MAX && a[n] != '\0'; n++)
		if(a[n] <= 0x20 || a[n] >= 0x7f)
			return 0;
	return n > 0 && n < HA_ORIGIN_MAX;
}

/* ---- 0: unseal arbitrary bytes ---------------------------------------- */

static void fuzz_unseal(const uint8_t *data, size_t size)
{
	static char out[HA_SEAL_HEAD_MAX + 70000];
	const char *buf = (const char *)data, *msg;
	ha_keyring_t one;
	ha_seal_hdr_t h;
	ha_unseal_rc_t rc;
	size_t mlen, i;
	int j, n;

	rc = ha_unseal(&ring, buf, size, &h, &msg, &mlen);
	CHECK(rc >= 0 && rc < HA_UNSEAL_RC_COUNT);
	if(size < 5 || memcmp(buf, "HAP2 ", 5) != 0)
		CHECK(rc == HA_UNSEAL_UNSIGNED);
	if(rc != HA_UNSEAL_OK)
		return;

	CHECK(addr_ok(h.origin) && addr_ok(h.to));
	CHECK(h.seq >= 1 && h.ts >= 0);
	CHECK(msg > buf && msg <= buf + size && mlen == (size_t)(buf + size - msg));

	/* the one key whose id the envelope names seals the same bytes */
	for(j = 0; j < ring.n; j++)
		if(memcmp(ring.key[j].id, buf + 5, HA_KEYID_LEN) == 0)
			break;
	CHECK(j < ring.n);
	memset(&one, 0, sizeof(one));
	one.n = 1;
	one.key[0] = ring.key[j];
	n = ha_seal(&one, &h, msg, mlen, out, sizeof(out));
	if(size <= sizeof(out))
		CHECK(n >= 0 && (size_t)n == size && memcmp(out, buf, size) == 0);

	/* no proper prefix is a message (each in a buffer of its length) */
	for(i = 0; i < size && i < 400; i += 1 + i / 16) {
		char *p = malloc(i > 0 ? i : 1);

		CHECK(p != NULL);
		memcpy(p, buf, i);
		CHECK(ha_unseal(&ring, p, i, &h, &msg, &mlen) != HA_UNSEAL_OK);
		free(p);
	}
}

/* ---- 1: key files ------------------------------------------------------ */

static void fuzz_keyring(const uint8_t *data, size_t size)
{
	static const ha_keyring_t zero;
	static char out[1024];
	ha_keyring_t kr;
	ha_seal_hdr_t h, g;
	const char *msg;
	size_t mlen;
	int rc, line = -7, i, j, n;

	rc = ha_keyring_parse((const char *)data, size, &kr, &line);
	if(rc < 0) {
		CHECK(rc >= HA_KEYS_EDUP && rc <= HA_KEYS_ENONE);
		CHECK((line == 0) == (rc == HA_KEYS_ENONE) && line >= 0);
		CHECK(memcmp(&kr, &zero, sizeof(kr)) == 0);
		return;
	}
	CHECK(rc == kr.n && rc >= 1 && rc <= HA_KEYS_MAX);
	for(i = 0; i < kr.n; i++) {
		CHECK(kr.key[i].len >= HA_KEY_MIN && kr.key[i].len <= HA_KEY_MAX);
		for(j = 0; j < kr.key[i].len; j++)
			CHECK(kr.key[i].k[j] > 0x20 && kr.key[i].k[j] < 0x7f);
		CHECK(strlen(kr.key[i].id) == HA_KEYID_LEN);
		CHECK(strspn(kr.key[i].id, "0123456789abcdef") == HA_KEYID_LEN);
		for(j = 0; j < i; j++)
			CHECK(strcmp(kr.key[i].id, kr.key[j].id) != 0);
	}
	memset(&h, 0, sizeof(h));
	strcpy(h.origin, "sip:fuzz");
	strcpy(h.to, "*");
	h.seq = 1;
	n = ha_seal(&kr, &h, "m", 1, out, sizeof(out));
	CHECK(n > 0);
	CHECK(ha_unseal(&kr, out, (size_t)n, &g, &msg, &mlen) == HA_UNSEAL_OK);
	CHECK(mlen == 1 && *msg == 'm');
	ha_keyring_wipe(&kr);
	CHECK(memcmp(&kr, &zero, sizeof(kr)) == 0);
}

/* ---- 2: round trip ---------------------------------------------------- */

static uint64_t take_u64(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	int i;

	for(i = 0; i < 8 && *p < end; i++)
		v = (v << 8) | *(*p)++;
	return v;
}

/* An address from the bytes: its length from the first, printable
 * characters from the next ones. */
static void take_addr(const uint8_t **p, const uint8_t *end, char *a)
{
	size_t n = 1, i;

	if(*p < end)
		n = 1 + *(*p)++ % (HA_ORIGIN_MAX - 1);
	for(i = 0; i < n; i++)
		a[i] = (char)(0x21 + (*p < end ? *(*p)++ : 0) % 94);
	a[n] = '\0';
}

static void fuzz_roundtrip(const uint8_t *data, size_t size)
{
	static char out[HA_SEAL_HEAD_MAX + 70000];
	const uint8_t *p = data, *end = data + size;
	ha_seal_hdr_t h, g;
	const char *msg;
	size_t mlen, at;
	uint64_t flip;
	int n;

	memset(&h, 0, sizeof(h));
	h.boot = take_u64(&p, end);
	h.seq = take_u64(&p, end);
	h.ts = (int64_t)(take_u64(&p, end) >> 1);
	flip = take_u64(&p, end);
	take_addr(&p, end, h.origin);
	take_addr(&p, end, h.to);
	if((size_t)(end - p) > sizeof(out) - HA_SEAL_HEAD_MAX)
		return;
	n = ha_seal(
			&ring, &h, (const char *)p, (size_t)(end - p), out, sizeof(out));
	if(h.seq == 0) {
		CHECK(n == -1);
		return;
	}
	CHECK(n > 0 && (size_t)n <= HA_SEAL_HEAD_MAX + (size_t)(end - p));
	CHECK(ha_unseal(&ring, out, (size_t)n, &g, &msg, &mlen) == HA_UNSEAL_OK);
	CHECK(g.boot == h.boot && g.seq == h.seq && g.ts == h.ts);
	CHECK(strcmp(g.origin, h.origin) == 0 && strcmp(g.to, h.to) == 0);
	CHECK(mlen == (size_t)(end - p) && memcmp(msg, p, mlen) == 0);

	at = (size_t)(flip % (uint64_t)n);
	out[at] ^= (char)(1 + (flip >> 32) % 255);
	CHECK(ha_unseal(&ring, out, (size_t)n, &g, &msg, &mlen) != HA_UNSEAL_OK);
}

/* ---- 3: replay window against a model ----------------------------------- */

#define MODEL_MAX 4096

typedef struct model
{
	uint64_t boot, top;
	uint64_t seen[MODEL_MAX]; /* accepted counters of boot */
	int n;
} model_t;

static ha_replay_verdict_t model_take(model_t *m, uint64_t boot, uint64_t seq)
{
	int i;

	if(seq == 0)
		return HA_RPL_OLD;
	if(boot < m->boot)
		return HA_RPL_BOOT;
	if(boot > m->boot) {
		m->boot = boot;
		m->top = seq;
		m->seen[0] = seq;
		m->n = 1;
		return HA_RPL_NEW;
	}
	if(seq <= m->top && m->top - seq >= HA_REPLAY_BITS)
		return HA_RPL_OLD;
	for(i = 0; i < m->n; i++)
		if(m->seen[i] == seq)
			return HA_RPL_DUP;
	/* the list forgets what fell below the window, as the bitmap does */
	if(seq > m->top) {
		int k = 0;

		m->top = seq;
		for(i = 0; i < m->n; i++)
			if(m->top - m->seen[i] < HA_REPLAY_BITS)
				m->seen[k++] = m->seen[i];
		m->n = k;
	}
	CHECK(m->n < MODEL_MAX);
	m->seen[m->n++] = seq;
	return HA_RPL_NEW;
}

static void fuzz_replay(const uint8_t *data, size_t size)
{
	static model_t m;
	ha_replay_t r;
	uint64_t boot, seq, v;
	ha_replay_verdict_t want, got;
	size_t i;

	memset(&r, 0, sizeof(r));
	memset(&m, 0, sizeof(m));
	for(i = 0; i + 3 <= size; i += 3) {
		v = (uint64_t)data[i + 1] << 8 | data[i + 2];
		switch(data[i] & 7) {
			case 0:
			case 1:
				seq = m.top + v % 2100;
				break;
			case 2:
			case 3:
				seq = v % 2100 > m.top ? v % 3 : m.top - v % 2100;
				break;
			case 4:
				seq = UINT64_MAX - v % 2100;
				break;
			default:
				seq = v;
		}
		switch(data[i] >> 3 & 7) {
			case 0:
				boot = m.boot + 1;
				break;
			case 1:
				boot = m.boot > 0 ? m.boot - 1 : 0;
				break;
			case 2:
				boot = UINT64_MAX;
				break;
			default:
				boot = m.boot;
		}
		want = model_take(&m, boot, seq);
		got = ha_replay_take(&r, boot, seq);
		CHECK(got == want);
		CHECK(r.boot == m.boot && r.top == m.top);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ring_init();
	if(size == 0)
		return 0;
	switch(data[0] % 4) {
		case 0:
			fuzz_unseal(data + 1, size - 1);
			break;
		case 1:
			fuzz_keyring(data + 1, size - 1);
			break;
		case 2:
			fuzz_roundtrip(data + 1, size - 1);
			break;
		default:
			fuzz_replay(data + 1, size - 1);
	}
	return 0;
}
