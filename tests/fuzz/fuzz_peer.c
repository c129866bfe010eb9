/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_peer.c - libFuzzer target: the pool replication message (ha_peer.c).
 *
 * Any input is a message body given to ha_peer_decode(). Besides what
 * AddressSanitizer and UBSan see, a violation aborts: an accepted message
 * has a valid op, role and reason, a NUL-terminated non-empty origin and
 * pair name (none for a sync), and encodes again (ha_peer_encode()) to a
 * body that decodes to the same message and encodes to the same bytes.
 * Input that is no single message is given to ha_peer_batch_decode(): an
 * accepted batch has a non-empty origin, each of its states is a valid
 * state message as above, in the count the batch says, and the batch built
 * again (ha_peer_batch_begin/add/end) decodes to the same states and
 * encodes to the same bytes. */

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

/* A decoded message is valid and goes through the codec unchanged. */
static void check_msg(const ha_peer_msg_t *m)
{
	static char buf[HA_PEER_BODY_MAX], buf2[HA_PEER_BODY_MAX];
	ha_peer_msg_t d;
	int n, n2;

	CHECK(m->op >= 0 && m->op < HA_PEER_OP_COUNT);
	CHECK(m->active == HA_ROLE_PRIMARY || m->active == HA_ROLE_BACKUP);
	CHECK(m->reason >= 0 && m->reason < HA_RSN_COUNT);
	CHECK(memchr(m->pair, '\0', sizeof(m->pair)) != NULL
			&& (m->pair[0] != '\0') == (m->op != HA_PEER_SYNC));
	CHECK(memchr(m->origin, '\0', sizeof(m->origin)) != NULL
			&& m->origin[0] != '\0');
	n = ha_peer_encode(m, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n == strlen(buf));
	CHECK(ha_peer_decode(buf, (size_t)n, &d) == 0);
	CHECK(d.op == m->op && d.active == m->active && d.reason == m->reason
			&& d.version == m->version);
	CHECK(strcmp(d.pair, m->pair) == 0 && strcmp(d.origin, m->origin) == 0);
	CHECK(strcmp(d.uri[0], m->uri[0]) == 0 && strcmp(d.uri[1], m->uri[1]) == 0);
	n2 = ha_peer_encode(&d, buf2, sizeof(buf2));
	CHECK(n2 == n && memcmp(buf, buf2, (size_t)n) == 0);
}

#define MAX_STATES 512

typedef struct coll
{
	ha_peer_msg_t m[MAX_STATES];
	int n; /* states seen (more than MAX_STATES: only counted) */
} coll_t;

static void collect(const ha_peer_msg_t *m, void *arg)
{
	coll_t *c = arg;

	/* a state, or in a batch of changes the change it stands for */
	CHECK(m->op == HA_PEER_STATE || m->op == HA_PEER_CHANGE);
	check_msg(m);
	if(c->n < MAX_STATES)
		c->m[c->n] = *m;
	c->n++;
}

/* Build batch b with states c again into buf (size bytes). */
static int rebuild(
		const ha_peer_batch_t *b, const coll_t *c, char *buf, size_t size)
{
	size_t n;
	int i, len = b->changes
						 ? ha_peer_batch_begin_changes(buf, size, b->origin)
						 : ha_peer_batch_begin(buf, size, b->origin, b->sync);

	CHECK(len > 0);
	n = (size_t)len;
	for(i = 0; i < c->n; i++)
		CHECK(ha_peer_batch_add(buf, size, &n, &c->m[i]) == 0);
	len = ha_peer_batch_end(buf, size, &n, b->last);
	CHECK(len > 0 && (size_t)len == strlen(buf));
	return len;
}

static void check_batch(const uint8_t *data, size_t size)
{
	static coll_t c, c2;
	static char buf[4 * HA_PEER_CHUNK_MAX], buf2[4 * HA_PEER_CHUNK_MAX];
	ha_peer_batch_t b, b2;
	int n, n2, i;

	c.n = 0;
	if(ha_peer_batch_decode((const char *)data, size, &b, collect, &c) < 0) {
		CHECK(c.n == 0); /* nothing given out of a refused batch */
		return;
	}
	CHECK(memchr(b.origin, '\0', sizeof(b.origin)) != NULL
			&& b.origin[0] != '\0');
	CHECK(b.n == c.n && (b.sync == 0 || b.sync == 1)
			&& (b.last == 0 || b.last == 1)
			&& (b.changes == 0 || b.changes == 1) && !(b.changes && b.sync));
	/* a batch of changes gives changes, each of the batch's origin; any
	 * other batch gives states */
	for(i = 0; i < c.n && i < MAX_STATES; i++)
		CHECK(c.m[i].op == (b.changes ? HA_PEER_CHANGE : HA_PEER_STATE)
				&& (!b.changes || strcmp(c.m[i].origin, b.origin) == 0));
	if(c.n > MAX_STATES || size > HA_PEER_CHUNK_MAX)
		return;
	n = rebuild(&b, &c, buf, sizeof(buf));
	c2.n = 0;
	CHECK(ha_peer_batch_decode(buf, (size_t)n, &b2, collect, &c2) == 0);
	CHECK(b2.n == b.n && b2.sync == b.sync && b2.last == b.last
			&& b2.changes == b.changes && strcmp(b2.origin, b.origin) == 0);
	for(i = 0; i < c.n; i++)
		CHECK(memcmp(&c.m[i], &c2.m[i], sizeof(c.m[i])) == 0);
	n2 = rebuild(&b2, &c2, buf2, sizeof(buf2));
	CHECK(n2 == n && memcmp(buf, buf2, (size_t)n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ha_peer_msg_t m;

	if(ha_peer_decode((const char *)data, size, &m) < 0) {
		check_batch(data, size);
		return 0;
	}
	check_msg(&m);
	return 0;
}
