/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_peer.c - Check suite for ha_peer, the pool replication message. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ha_peer.h"

static ha_peer_msg_t sample(void)
{
	ha_peer_msg_t m;

	memset(&m, 0, sizeof(m));
	m.op = HA_PEER_CHANGE;
	snprintf(m.pair, sizeof(m.pair), "sipserver1");
	snprintf(m.uri[HA_ROLE_PRIMARY], HA_PEER_URI_MAX, "sip:10.0.0.11:5060");
	snprintf(m.uri[HA_ROLE_BACKUP], HA_PEER_URI_MAX,
			"sip:sip2.example.com;transport=tcp");
	m.active = HA_ROLE_BACKUP;
	m.reason = HA_RSN_PASSIVE;
	m.version = 18446744073709551615ull;
	snprintf(m.origin, sizeof(m.origin), "sip:127.0.0.2:5090");
	return m;
}

static int dec(const char *s, ha_peer_msg_t *m)
{
	return ha_peer_decode(s, strlen(s), m);
}

START_TEST(encode_writes_the_documented_object)
{
	ha_peer_msg_t m = sample();
	char buf[HA_PEER_BODY_MAX];
	int n;

	n = ha_peer_encode(&m, buf, sizeof(buf));
	ck_assert_str_eq(buf, "{\"v\":1,\"op\":\"change\",\"pair\":\"sipserver1\","
						  "\"primary\":\"sip:10.0.0.11:5060\","
						  "\"backup\":\"sip:sip2.example.com;transport=tcp\","
						  "\"active\":\"backup\",\"reason\":\"passive\","
						  "\"version\":18446744073709551615,"
						  "\"origin\":\"sip:127.0.0.2:5090\"}");
	ck_assert_int_eq(n, (int)strlen(buf));
}
END_TEST

START_TEST(decode_reads_what_encode_wrote)
{
	ha_peer_msg_t m = sample(), d;
	char buf[HA_PEER_BODY_MAX];
	int op;

	for(op = 0; op < HA_PEER_SYNC; op++) {
		m.op = (ha_peer_op_t)op;
		m.reason = op == 0 ? HA_RSN_PEER : HA_RSN_PROBE;
		/* quotes, backslashes and a control character survive */
		snprintf(m.uri[HA_ROLE_PRIMARY], HA_PEER_URI_MAX, "sip:\"a\\b\"\t@x");
		ck_assert_int_gt(ha_peer_encode(&m, buf, sizeof(buf)), 0);
		ck_assert_int_eq(dec(buf, &d), 0);
		ck_assert_int_eq(d.op, m.op);
		ck_assert_str_eq(d.pair, m.pair);
		ck_assert_str_eq(d.uri[0], m.uri[0]);
		ck_assert_str_eq(d.uri[1], m.uri[1]);
		ck_assert_int_eq(d.active, m.active);
		ck_assert_int_eq(d.reason, m.reason);
		ck_assert_uint_eq(d.version, m.version);
		ck_assert_str_eq(d.origin, m.origin);
	}
}
END_TEST

START_TEST(encode_refuses_what_does_not_fit_or_is_not_valid)
{
	ha_peer_msg_t m = sample();
	char buf[HA_PEER_BODY_MAX];
	char small[40];

	ck_assert_int_eq(ha_peer_encode(&m, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "");
	m.active = HA_ROLE_NONE;
	ck_assert_int_eq(ha_peer_encode(&m, buf, sizeof(buf)), -1);
	m = sample();
	m.origin[0] = '\0';
	ck_assert_int_eq(ha_peer_encode(&m, buf, sizeof(buf)), -1);
	m = sample();
	m.pair[0] = '\0';
	ck_assert_int_eq(ha_peer_encode(&m, buf, sizeof(buf)), -1);
	/* the longest fields fit the documented body size */
	m = sample();
	memset(m.pair, 'p', HA_PEER_NAME_MAX);
	m.pair[HA_PEER_NAME_MAX] = '\0';
	memset(m.uri[0], 'a', HA_PEER_URI_MAX - 1);
	m.uri[0][HA_PEER_URI_MAX - 1] = '\0';
	memset(m.uri[1], 'b', HA_PEER_URI_MAX - 1);
	m.uri[1][HA_PEER_URI_MAX - 1] = '\0';
	memset(m.origin, 'o', HA_ORIGIN_MAX - 1);
	m.origin[HA_ORIGIN_MAX - 1] = '\0';
	ck_assert_int_gt(ha_peer_encode(&m, buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(decode_takes_any_key_order_white_space_and_unknown_keys)
{
	ha_peer_msg_t d;

	ck_assert_int_eq(
			dec(" { \"origin\" : \"sip:o\" , \"version\":3,\"active\":"
				"\"primary\",\"reason\":\"manual\",\"backup\":\"sip:b\","
				"\"primary\":\"sip:a\",\"pair\":\"p\\u0031\",\"op\":\"state\","
				"\"x\":[1],\"v\":1}\n",
					&d),
			-1); /* an array: not a value this version skips */
	ck_assert_int_eq(
			dec(" { \"origin\" : \"sip:o\" , \"version\":3,\"active\":"
				"\"primary\",\"reason\":\"manual\",\"backup\":\"sip:b\","
				"\"primary\":\"sip:a\",\"pair\":\"p\\u0031\",\"op\":\"state\","
				"\"x\":-1.5e3,\"y\":null,\"z\":\"w\",\"t\":true,\"v\":1}\n",
					&d),
			0);
	ck_assert_str_eq(d.pair, "p1");
	ck_assert_int_eq(d.op, HA_PEER_STATE);
	ck_assert_int_eq(d.active, HA_ROLE_PRIMARY);
	ck_assert_int_eq(d.reason, HA_RSN_MANUAL);
	ck_assert_uint_eq(d.version, 3);
	ck_assert_str_eq(d.uri[1], "sip:b");
}
END_TEST

START_TEST(decode_refuses_bad_messages)
{
	static const char *bad[] = {
			"",
			"{}",
			"[]",
			"{\"v\":1}",
			/* v 2 */
			"{\"v\":2,\"op\":\"change\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":1,\"origin\":\"o\"}",
			/* unknown op, role, reason */
			"{\"v\":1,\"op\":\"grab\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":1,\"origin\":\"o\"}",
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"none\",\"reason\":\"probe\","
			"\"version\":1,\"origin\":\"o\"}",
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"why\","
			"\"version\":1,\"origin\":\"o\"}",
			/* a key twice */
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":1,\"origin\":\"o\",\"pair\":\"q\"}",
			/* version: negative, fraction, leading zero, 2^64 */
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":-1,\"origin\":\"o\"}",
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":1.5,\"origin\":\"o\"}",
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":01,\"origin\":\"o\"}",
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":18446744073709551616,\"origin\":\"o\"}",
			/* a NUL by escape, a raw control character, an empty origin */
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\\u0000\",\"primary\":"
			"\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":1,\"origin\":\"o\"}",
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\n\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":1,\"origin\":\"o\"}",
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":1,\"origin\":\"\"}",
			/* trailing garbage, unterminated */
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":1,\"origin\":\"o\"} x",
			"{\"v\":1,\"op\":\"change\",\"pair\":\"p\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":1,\"origin\":\"o\"",
	};
	ha_peer_msg_t d;
	char big[2048];
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(dec(bad[i], &d) == -1, "accepted: %s", bad[i]);
	/* a pair name longer than 64 */
	snprintf(big, sizeof(big),
			"{\"v\":1,\"op\":\"change\",\"pair\":\"%065d\",\"primary\":\"a\","
			"\"backup\":\"b\",\"active\":\"backup\",\"reason\":\"probe\","
			"\"version\":1,\"origin\":\"o\"}",
			0);
	ck_assert_int_eq(dec(big, &d), -1);
	/* the length given is what counts: a message cut short is refused */
	ck_assert_int_eq(ha_peer_decode(big, 30, &d), -1);
}
END_TEST

START_TEST(sync_carries_only_its_origin)
{
	ha_peer_msg_t m, d;
	char buf[HA_PEER_BODY_MAX];

	memset(&m, 0, sizeof(m));
	m.op = HA_PEER_SYNC;
	snprintf(m.origin, sizeof(m.origin), "sip:127.0.0.22:5060");
	ck_assert_int_gt(ha_peer_encode(&m, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf,
			"{\"v\":1,\"op\":\"sync\",\"origin\":\"sip:127.0.0.22:5060\"}");
	ck_assert_int_eq(dec(buf, &d), 0);
	ck_assert_int_eq(d.op, HA_PEER_SYNC);
	ck_assert_str_eq(d.origin, "sip:127.0.0.22:5060");
	/* a sync with a pair's keys, or without its origin, is refused */
	ck_assert_int_eq(dec("{\"v\":1,\"op\":\"sync\",\"origin\":\"o\","
						 "\"pair\":\"p\"}",
							 &d),
			-1);
	ck_assert_int_eq(dec("{\"v\":1,\"op\":\"sync\"}", &d), -1);
	ck_assert_int_eq(dec("{\"v\":1,\"op\":\"sync\",\"origin\":\"\"}", &d), -1);
	/* a change needs every key */
	ck_assert_int_eq(
			dec("{\"v\":1,\"op\":\"change\",\"origin\":\"o\"}", &d), -1);
	m.origin[0] = '\0';
	ck_assert_int_eq(ha_peer_encode(&m, buf, sizeof(buf)), -1);
}
END_TEST


/* ---- batches ------------------------------------------------------------ */

typedef struct got
{
	ha_peer_msg_t m[400];
	int n;
} got_t;

static void take(const ha_peer_msg_t *m, void *arg)
{
	got_t *g = arg;

	ck_assert_int_lt(g->n, 400);
	g->m[g->n++] = *m;
}

static got_t G;

START_TEST(batch_carries_states_and_says_which_is_last)
{
	ha_peer_msg_t m = sample();
	ha_peer_batch_t b;
	char buf[HA_PEER_CHUNK_MAX];
	size_t n;
	int len, i;

	len = ha_peer_batch_begin(buf, sizeof(buf), "sip:127.0.0.9:5060", 1);
	ck_assert_int_gt(len, 0);
	n = (size_t)len;
	for(i = 0; i < 3; i++) {
		snprintf(m.pair, sizeof(m.pair), "p%d", i);
		m.version = (uint64_t)i + 1;
		m.op = HA_PEER_CHANGE; /* written as a state whatever it was */
		ck_assert_int_eq(ha_peer_batch_add(buf, sizeof(buf), &n, &m), 0);
	}
	len = ha_peer_batch_end(buf, sizeof(buf), &n, 1);
	ck_assert_int_eq(len, (int)strlen(buf));
	ck_assert_msg(
			strncmp(buf,
					"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:127.0.0.9:"
					"5060\",\"sync\":true,\"states\":[{\"v\":1,\"op\":"
					"\"state\",\"pair\":\"p0\"",
					80)
					== 0,
			"%s", buf);
	ck_assert_msg(strcmp(buf + len - 14, "],\"last\":true}") == 0, "%s", buf);
	G.n = 0;
	ck_assert_int_eq(ha_peer_batch_decode(buf, (size_t)len, &b, take, &G), 0);
	ck_assert_int_eq(b.n, 3);
	ck_assert_int_eq(G.n, 3);
	ck_assert_int_eq(b.sync, 1);
	ck_assert_int_eq(b.last, 1);
	ck_assert_str_eq(b.origin, "sip:127.0.0.9:5060");
	for(i = 0; i < 3; i++) {
		ck_assert_int_eq(G.m[i].op, HA_PEER_STATE);
		ck_assert_int_eq(G.m[i].version, (uint64_t)i + 1);
		ck_assert_int_eq(G.m[i].active, HA_ROLE_BACKUP);
		ck_assert_str_eq(G.m[i].uri[HA_ROLE_BACKUP],
				"sip:sip2.example.com;transport=tcp");
	}
	/* neither decoder takes the other's message */
	ck_assert_int_lt(dec(buf, &m), 0);
	m = sample();
	len = ha_peer_encode(&m, buf, sizeof(buf));
	ck_assert_int_lt(ha_peer_batch_decode(buf, (size_t)len, &b, NULL, NULL), 0);
	/* empty, the periodic kind, not the last */
	len = ha_peer_batch_begin(buf, sizeof(buf), "sip:a", 0);
	n = (size_t)len;
	len = ha_peer_batch_end(buf, sizeof(buf), &n, 0);
	ck_assert_str_eq(buf,
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":false,"
			"\"states\":[],\"last\":false}");
	ck_assert_int_eq(ha_peer_batch_decode(buf, (size_t)len, &b, NULL, NULL), 0);
	ck_assert_int_eq(b.n + b.sync + b.last, 0);
}
END_TEST

START_TEST(batch_stays_under_its_size_whatever_is_added)
{
	ha_peer_msg_t m = sample();
	ha_peer_batch_t b;
	char buf[HA_PEER_CHUNK_MAX];
	size_t n;
	int len, i;

	n = (size_t)ha_peer_batch_begin(buf, sizeof(buf), "sip:127.0.0.9", 1);
	for(i = 0; i < 1000; i++) {
		snprintf(m.pair, sizeof(m.pair), "pair-%04d", i);
		if(ha_peer_batch_add(buf, sizeof(buf), &n, &m) < 0)
			break;
	}
	/* full: the refused state left the batch as it was */
	ck_assert_int_lt(i, 1000);
	ck_assert_int_gt(i, 50);
	ck_assert_int_eq((int)n, (int)strlen(buf));
	len = ha_peer_batch_end(buf, sizeof(buf), &n, 0);
	ck_assert_int_gt(len, HA_PEER_CHUNK_MAX - 300);
	ck_assert_int_lt(len, HA_PEER_CHUNK_MAX);
	G.n = 0;
	ck_assert_int_eq(ha_peer_batch_decode(buf, (size_t)len, &b, take, &G), 0);
	ck_assert_int_eq(G.n, i);
	ck_assert_str_eq(G.m[0].pair, "pair-0000");
	/* an invalid state is refused and changes nothing */
	n = (size_t)ha_peer_batch_begin(buf, sizeof(buf), "sip:x", 1);
	len = (int)n;
	m.active = HA_ROLE_NONE;
	ck_assert_int_lt(ha_peer_batch_add(buf, sizeof(buf), &n, &m), 0);
	ck_assert_int_eq((int)n, len);
	ck_assert_int_eq((int)strlen(buf), len);
	/* no room at all */
	ck_assert_int_lt(ha_peer_batch_begin(buf, 40, "sip:x", 1), 0);
	ck_assert_int_lt(ha_peer_batch_begin(buf, sizeof(buf), "", 1), 0);
}
END_TEST

START_TEST(batch_decode_is_strict_and_all_or_nothing)
{
	static const char *const bad[] = {
			/* a state that is no state */
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":true,"
			"\"states\":[{\"v\":1,\"op\":\"change\",\"pair\":\"p\",\"primary\":"
			"\"sip:a\",\"backup\":\"sip:b\",\"active\":\"backup\",\"reason\":"
			"\"peer\",\"version\":1,\"origin\":\"sip:a\"}],\"last\":true}",
			/* a good state, then a broken one */
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":true,"
			"\"states\":[{\"v\":1,\"op\":\"state\",\"pair\":\"p\",\"primary\":"
			"\"sip:a\",\"backup\":\"sip:b\",\"active\":\"backup\",\"reason\":"
			"\"peer\",\"version\":1,\"origin\":\"sip:a\"},{\"v\":1}],"
			"\"last\":true}",
			/* nested */
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":true,"
			"\"states\":[[]],\"last\":true}",
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":true,"
			"\"states\":[{\"x\":{}}],\"last\":true}",
			/* missing, twice, wrong types, wrong version, trailing */
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":true,"
			"\"states\":[]}",
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":true,"
			"\"states\":[],\"last\":true,\"last\":true}",
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":1,"
			"\"states\":[],\"last\":true}",
			"{\"v\":2,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":true,"
			"\"states\":[],\"last\":true}",
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"\",\"sync\":true,"
			"\"states\":[],\"last\":true}",
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":true,"
			"\"states\":[],\"last\":true}x",
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":true,"
			"\"states\":[,],\"last\":true}",
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":true,"
			"\"states\":[],\"last\":tru",
	};
	ha_peer_batch_t b;
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		G.n = 0;
		ck_assert_msg(
				ha_peer_batch_decode(bad[i], strlen(bad[i]), &b, take, &G) < 0,
				"accepted: %s", bad[i]);
		ck_assert_int_eq(G.n, 0); /* nothing given out */
	}
	/* keys in any order, white space, unknown scalar keys */
	{
		const char *ok = " { \"last\" : false , \"x\" : null, \"states\" : [ "
						 "] , \"sync\":false,\"origin\":\"sip:a\",\"op\":"
						 "\"batch\",\"v\":1 } ";
		ck_assert_int_eq(ha_peer_batch_decode(ok, strlen(ok), &b, take, &G), 0);
	}
}
END_TEST

START_TEST(batch_of_changes_gives_changes_of_its_origin_only)
{
	ha_peer_msg_t m = sample();
	ha_peer_batch_t b;
	char buf[HA_PEER_CHUNK_MAX];
	size_t n;
	int len, i;
	/* the head's keys after "states", as another writer may put them */
	static const char *late = "{\"v\":1,\"op\":\"batch\",\"states\":[{\"v\":1,"
							  "\"op\":\"state\",\"pair\":\"p\",\"primary\":"
							  "\"sip:a\",\"backup\":\"sip:b\",\"active\":"
							  "\"backup\",\"reason\":\"probe\",\"version\":1,"
							  "\"origin\":\"sip:a\"}],\"last\":true,\"origin\":"
							  "\"sip:a\",\"sync\":false,\"changes\":true}";
	static const char *head = "{\"v\":1,\"op\":\"batch\",\"origin\":"
							  "\"sip:127.0.0.9:5060\",\"sync\":false,"
							  "\"changes\":true,\"states\":[{\"v\":1,"
							  "\"op\":\"state\"";
	static const char *const bad[] = {
			/* a change in it made by another proxy */
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":false,"
			"\"changes\":true,\"states\":[{\"v\":1,\"op\":\"state\","
			"\"pair\":\"p\",\"primary\":\"sip:a\",\"backup\":\"sip:b\","
			"\"active\":\"backup\",\"reason\":\"probe\",\"version\":1,"
			"\"origin\":\"sip:a\"},{\"v\":1,\"op\":\"state\",\"pair\":\"q\","
			"\"primary\":\"sip:a\",\"backup\":\"sip:b\",\"active\":"
			"\"backup\",\"reason\":\"probe\",\"version\":1,\"origin\":"
			"\"sip:other\"}],\"last\":true}",
			/* changes in a sync answer, twice, not a boolean */
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":true,"
			"\"changes\":true,\"states\":[],\"last\":true}",
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":false,"
			"\"changes\":true,\"changes\":true,\"states\":[],\"last\":true}",
			"{\"v\":1,\"op\":\"batch\",\"origin\":\"sip:a\",\"sync\":false,"
			"\"changes\":1,\"states\":[],\"last\":true}",
	};

	len = ha_peer_batch_begin_changes(buf, sizeof(buf), "sip:127.0.0.9:5060");
	ck_assert_int_gt(len, 0);
	n = (size_t)len;
	snprintf(m.origin, sizeof(m.origin), "sip:127.0.0.9:5060");
	for(i = 0; i < 3; i++) {
		snprintf(m.pair, sizeof(m.pair), "p%d", i);
		m.version = (uint64_t)i + 7;
		m.op = HA_PEER_CHANGE;
		ck_assert_int_eq(ha_peer_batch_add(buf, sizeof(buf), &n, &m), 0);
	}
	len = ha_peer_batch_end(buf, sizeof(buf), &n, 1);
	ck_assert_msg(strncmp(buf, head, strlen(head)) == 0, "%s", buf);
	G.n = 0;
	ck_assert_int_eq(ha_peer_batch_decode(buf, (size_t)len, &b, take, &G), 0);
	ck_assert_int_eq(b.changes, 1);
	ck_assert_int_eq(b.sync, 0);
	ck_assert_int_eq(b.n, 3);
	ck_assert_int_eq(G.n, 3);
	for(i = 0; i < 3; i++) {
		ck_assert_int_eq(G.m[i].op, HA_PEER_CHANGE);
		ck_assert_int_eq(G.m[i].version, (uint64_t)i + 7);
		ck_assert_str_eq(G.m[i].origin, "sip:127.0.0.9:5060");
	}
	/* without a callback: checked, *b filled */
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(ha_peer_batch_decode(buf, (size_t)len, &b, NULL, NULL), 0);
	ck_assert_int_eq(b.changes, 1);
	ck_assert_int_eq(b.n, 3);
	/* the head's keys after the states: still changes */
	G.n = 0;
	ck_assert_int_eq(ha_peer_batch_decode(late, strlen(late), &b, take, &G), 0);
	ck_assert_int_eq(G.n, 1);
	ck_assert_int_eq(G.m[0].op, HA_PEER_CHANGE);
	/* a batch without the key: states, as before */
	len = ha_peer_batch_begin(buf, sizeof(buf), "sip:a", 0);
	n = (size_t)len;
	ck_assert_int_eq(ha_peer_batch_add(buf, sizeof(buf), &n, &m), 0);
	len = ha_peer_batch_end(buf, sizeof(buf), &n, 1);
	G.n = 0;
	ck_assert_int_eq(ha_peer_batch_decode(buf, (size_t)len, &b, take, &G), 0);
	ck_assert_int_eq(b.changes, 0);
	ck_assert_int_eq(G.m[0].op, HA_PEER_STATE);
	for(i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		G.n = 0;
		ck_assert_msg(
				ha_peer_batch_decode(bad[i], strlen(bad[i]), &b, take, &G) < 0,
				"accepted: %s", bad[i]);
		ck_assert_int_eq(G.n, 0); /* nothing given out */
	}
}
END_TEST

static Suite *ha_peer_suite(void)
{
	Suite *s = suite_create("ha_peer");
	TCase *tc = tcase_create("message");

	tcase_add_test(tc, encode_writes_the_documented_object);
	tcase_add_test(tc, decode_reads_what_encode_wrote);
	tcase_add_test(tc, encode_refuses_what_does_not_fit_or_is_not_valid);
	tcase_add_test(tc, decode_takes_any_key_order_white_space_and_unknown_keys);
	tcase_add_test(tc, decode_refuses_bad_messages);
	tcase_add_test(tc, sync_carries_only_its_origin);
	tcase_add_test(tc, batch_carries_states_and_says_which_is_last);
	tcase_add_test(tc, batch_stays_under_its_size_whatever_is_added);
	tcase_add_test(tc, batch_decode_is_strict_and_all_or_nothing);
	tcase_add_test(tc, batch_of_changes_gives_changes_of_its_origin_only);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ha_peer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
