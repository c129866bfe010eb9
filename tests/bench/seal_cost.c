/* SPDX-License-Identifier: GPL-2.0-or-later */
/* seal_cost.c - what signing costs a pool message: ha_seal() and
 * ha_unseal() (HMAC-SHA256 over the core's SHA-256) timed over a change
 * (about 300 bytes) and a full batch (16 KB), as make bench-seal runs it
 * (docs/benchmarks.md, "Signed pool messages"). */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ha_seal.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int run(const ha_keyring_t *kr, size_t mlen, int n)
{
	static char msg[16384], out[sizeof(msg) + 512];
	ha_seal_hdr_t h, got;
	const char *m;
	size_t ml;
	double t0, t1, t2;
	int i, len = 0;

	memset(msg, 'x', mlen);
	memset(&h, 0, sizeof(h));
	snprintf(h.origin, sizeof(h.origin), "sip:10.0.0.5:5060");
	snprintf(h.to, sizeof(h.to), "*");
	h.boot = 1765119600123ULL;
	h.ts = 1765119782456LL;
	t0 = now_ns();
	for(i = 0; i < n; i++) {
		h.seq = i + 1;
		len = ha_seal(kr, &h, msg, mlen, out, sizeof(out));
		if(len < 0)
			return -1;
	}
	t1 = now_ns();
	for(i = 0; i < n; i++) {
		if(ha_unseal(kr, out, len, &got, &m, &ml) != HA_UNSEAL_OK)
			return -1;
	}
	t2 = now_ns();
	printf("message %6zu bytes: seal %7.2f us, unseal (MAC checked) %7.2f "
		   "us, over %d each\n",
			mlen, (t1 - t0) / n / 1e3, (t2 - t1) / n / 1e3, n);
	return 0;
}

int main(void)
{
	static const char keys[] = "3f1c0a5e9b7d2c4e6a8f0b1d3c5e7a9b1d3f5a7c9e0b2d4"
							   "f6a8c0e2b4d6f8a0c\n";
	ha_keyring_t kr;
	int line;

	if(ha_keyring_parse(keys, sizeof(keys) - 1, &kr, &line) < 1)
		return 1;
	if(run(&kr, 300, 20000) < 0 || run(&kr, 700, 20000) < 0
			|| run(&kr, 16384, 2000) < 0)
		return 1;
	return 0;
}
