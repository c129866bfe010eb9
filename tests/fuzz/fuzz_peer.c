/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_peer.c - libFuzzer target: the pool replication message (ha_peer.c).
 *
 * Any input is a message body given to ha_peer_decode(). Besides what
 * AddressSanitizer and UBSan see, a violation aborts: an accepted message
 * has a valid op, role and reason, a NUL-terminated non-empty origin and
 * pair name (none for a sync), and encodes again (ha_peer_encode()) to a body that decodes to
 * the same message and encodes to the same bytes. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_peer.h"

#define CHECK(cond)                                                        \
	do {                                                                   \
		if(!(cond)) {                                                      \
			fprintf(stderr, "fuzz_peer: %s (line %d)\n", #cond, __LINE__); \
			abort();                                                       \
		}                                                                  \
	} while(0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[HA_PEER_BODY_MAX], buf2[HA_PEER_BODY_MAX];
	ha_peer_msg_t m, d;
	int n, n2;

	if(ha_peer_decode((const char *)data, size, &m) < 0)
		return 0;
	CHECK(m.op >= 0 && m.op < HA_PEER_OP_COUNT);
	CHECK(m.active == HA_ROLE_PRIMARY || m.active == HA_ROLE_BACKUP);
	CHECK(m.reason >= 0 && m.reason < HA_RSN_COUNT);
	CHECK(memchr(m.pair, '\0', sizeof(m.pair)) != NULL
			&& (m.pair[0] != '\0') == (m.op != HA_PEER_SYNC));
	CHECK(memchr(m.origin, '\0', sizeof(m.origin)) != NULL
			&& m.origin[0] != '\0');
	n = ha_peer_encode(&m, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n == strlen(buf));
	CHECK(ha_peer_decode(buf, (size_t)n, &d) == 0);
	CHECK(d.op == m.op && d.active == m.active && d.reason == m.reason
			&& d.version == m.version);
	CHECK(strcmp(d.pair, m.pair) == 0 && strcmp(d.origin, m.origin) == 0);
	CHECK(strcmp(d.uri[0], m.uri[0]) == 0 && strcmp(d.uri[1], m.uri[1]) == 0);
	n2 = ha_peer_encode(&d, buf2, sizeof(buf2));
	CHECK(n2 == n && memcmp(buf, buf2, (size_t)n) == 0);
	return 0;
}
