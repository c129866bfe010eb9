/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_peer.c - the pool replication message of ha_pair (JSON), pure. */

#include <string.h>
#include <stdio.h>
#include <inttypes.h>

#include "ha_peer.h"
#include "ha_fsm.h"

const char *ha_peer_op_names[HA_PEER_OP_COUNT] = {
		[HA_PEER_CHANGE] = "change",
		[HA_PEER_STATE] = "state",
		[HA_PEER_SYNC] = "sync",
};

/* Append s to buf at *n as a JSON string (quotes added, ", \ and control
 * characters escaped). Returns 0, or -1 when it does not fit. */
static int put_str(char *buf, size_t size, size_t *n, const char *s)
{
	const unsigned char *p;
	int k;

	if(*n + 1 >= size)
		return -1;
	buf[(*n)++] = '"';
	for(p = (const unsigned char *)s; *p != '\0'; p++) {
		if(*p == '"' || *p == '\\')
			k = snprintf(buf + *n, size - *n, "\\%c", *p);
		else if(*p < 0x20)
			k = snprintf(buf + *n, size - *n, "\\u%04x", *p);
		else
			k = snprintf(buf + *n, size - *n, "%c", *p);
		if(k < 0 || (size_t)k >= size - *n)
			return -1;
		*n += (size_t)k;
	}
	if(*n + 1 >= size)
		return -1;
	buf[(*n)++] = '"';
	buf[*n] = '\0';
	return 0;
}

/* Append the raw text s. Returns 0, or -1 when it does not fit. */
static int put_raw(char *buf, size_t size, size_t *n, const char *s)
{
	int k = snprintf(buf + *n, size - *n, "%s", s);

	if(k < 0 || (size_t)k >= size - *n)
		return -1;
	*n += (size_t)k;
	return 0;
}

int ha_peer_encode(const ha_peer_msg_t *m, char *buf, size_t size)
{
	char num[32];
	size_t n = 0;

	if(size == 0)
		return -1;
	buf[0] = '\0';
	if(m->op == HA_PEER_SYNC) {
		snprintf(num, sizeof(num), "%d", HA_PEER_VERSION);
		if(m->origin[0] == '\0' || put_raw(buf, size, &n, "{\"v\":") < 0
				|| put_raw(buf, size, &n, num) < 0
				|| put_raw(buf, size, &n, ",\"op\":\"sync\",\"origin\":") < 0
				|| put_str(buf, size, &n, m->origin) < 0
				|| put_raw(buf, size, &n, "}") < 0)
			goto error;
		return (int)n;
	}
	if(m->op < 0 || m->op >= HA_PEER_OP_COUNT || m->pair[0] == '\0'
			|| m->origin[0] == '\0'
			|| (m->active != HA_ROLE_PRIMARY && m->active != HA_ROLE_BACKUP)
			|| m->reason < 0 || m->reason >= HA_RSN_COUNT)
		return -1;
	snprintf(num, sizeof(num), "%d", HA_PEER_VERSION);
	if(put_raw(buf, size, &n, "{\"v\":") < 0 || put_raw(buf, size, &n, num) < 0
			|| put_raw(buf, size, &n, ",\"op\":") < 0
			|| put_str(buf, size, &n, ha_peer_op_names[m->op]) < 0
			|| put_raw(buf, size, &n, ",\"pair\":") < 0
			|| put_str(buf, size, &n, m->pair) < 0
			|| put_raw(buf, size, &n, ",\"primary\":") < 0
			|| put_str(buf, size, &n, m->uri[HA_ROLE_PRIMARY]) < 0
			|| put_raw(buf, size, &n, ",\"backup\":") < 0
			|| put_str(buf, size, &n, m->uri[HA_ROLE_BACKUP]) < 0
			|| put_raw(buf, size, &n, ",\"active\":") < 0
			|| put_str(buf, size, &n, ha_role_name(m->active)) < 0
			|| put_raw(buf, size, &n, ",\"reason\":") < 0
			|| put_str(buf, size, &n, ha_reason_names[m->reason]) < 0)
		goto error;
	snprintf(num, sizeof(num), "%" PRIu64, m->version);
	if(put_raw(buf, size, &n, ",\"version\":") < 0
			|| put_raw(buf, size, &n, num) < 0
			|| put_raw(buf, size, &n, ",\"origin\":") < 0
			|| put_str(buf, size, &n, m->origin) < 0
			|| put_raw(buf, size, &n, "}") < 0)
		goto error;
	return (int)n;
error:
	buf[0] = '\0';
	return -1;
}

/* ---- decoding ---------------------------------------------------------- */

typedef struct rd
{
	const char *p, *e;
} rd_t;

static void skip_ws(rd_t *r)
{
	while(r->p < r->e
			&& (*r->p == ' ' || *r->p == '\t' || *r->p == '\r'
					|| *r->p == '\n'))
		r->p++;
}

static int hexval(char c)
{
	if(c >= '0' && c <= '9')
		return c - '0';
	if(c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if(c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read a JSON string into out (size bytes with its NUL; out may be NULL to
 * skip it). \u escapes are taken for ASCII only (what the encoder writes);
 * a NUL, a control character or a value that does not fit is an error.
 * Returns 0, or -1. */
static int get_str(rd_t *r, char *out, size_t size)
{
	size_t n = 0;
	int c, i, h;

	if(r->p >= r->e || *r->p != '"')
		return -1;
	r->p++;
	for(;;) {
		if(r->p >= r->e)
			return -1;
		c = (unsigned char)*r->p++;
		if(c == '"')
			break;
		if(c < 0x20)
			return -1;
		if(c == '\\') {
			if(r->p >= r->e)
				return -1;
			c = (unsigned char)*r->p++;
			switch(c) {
				case '"':
				case '\\':
				case '/':
					break;
				case 'b':
					c = '\b';
					break;
				case 'f':
					c = '\f';
					break;
				case 'n':
					c = '\n';
					break;
				case 'r':
					c = '\r';
					break;
				case 't':
					c = '\t';
					break;
				case 'u':
					if(r->e - r->p < 4)
						return -1;
					c = 0;
					for(i = 0; i < 4; i++) {
						h = hexval(r->p[i]);
						if(h < 0)
							return -1;
						c = (c << 4) | h;
					}
					r->p += 4;
					if(c == 0 || c > 0x7f)
						return -1;
					break;
				default:
					return -1;
			}
		}
		if(out != NULL) {
			if(n + 1 >= size)
				return -1;
			out[n] = (char)c;
		}
		n++;
	}
	if(out != NULL)
		out[n] = '\0';
	return 0;
}

/* Read a JSON number that is a non-negative integer below 2^64. Returns 0,
 * or -1. */
static int get_u64(rd_t *r, uint64_t *v)
{
	uint64_t x = 0;
	int d, n = 0;

	while(r->p < r->e && *r->p >= '0' && *r->p <= '9') {
		d = *r->p - '0';
		if(n > 0 && x == 0)
			return -1; /* a leading zero */
		if(x > (UINT64_MAX - (uint64_t)d) / 10)
			return -1;
		x = x * 10 + (uint64_t)d;
		r->p++;
		n++;
	}
	if(n == 0)
		return -1;
	if(r->p < r->e && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
		return -1;
	*v = x;
	return 0;
}

/* Skip a value of a key this code does not know: a string, a number, true,
 * false or null. Returns 0, or -1. */
static int skip_value(rd_t *r)
{
	static const char *words[] = {"true", "false", "null"};
	size_t i, l;
	int n = 0;

	if(r->p < r->e && *r->p == '"')
		return get_str(r, NULL, 0);
	for(i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		l = strlen(words[i]);
		if((size_t)(r->e - r->p) >= l && memcmp(r->p, words[i], l) == 0) {
			r->p += l;
			return 0;
		}
	}
	if(r->p < r->e && *r->p == '-')
		r->p++;
	while(r->p < r->e
			&& ((*r->p >= '0' && *r->p <= '9') || *r->p == '.' || *r->p == 'e'
					|| *r->p == 'E' || *r->p == '+' || *r->p == '-')) {
		r->p++;
		n++;
	}
	return n > 0 ? 0 : -1;
}

/* The index of s in names[0..n), or -1. */
static int name_index(const char *s, const char *const *names, int n)
{
	int i;

	for(i = 0; i < n; i++)
		if(names[i] != NULL && strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

enum
{
	K_V = 0,
	K_OP,
	K_PAIR,
	K_PRIMARY,
	K_BACKUP,
	K_ACTIVE,
	K_REASON,
	K_VERSION,
	K_ORIGIN,
	K_COUNT
};

static const char *const key_names[K_COUNT] = {"v", "op", "pair", "primary",
		"backup", "active", "reason", "version", "origin"};

/* Reads the value of key k (an index in the walker's names) at r->p. */
typedef int (*key_f)(rd_t *r, int k, void *arg);

/* Walk the object that is all of r (white space around it allowed): each
 * key of names (nnames) is read by fn, at most once (*seen gets its bit),
 * an unknown key's scalar value is skipped. Returns 0, or -1. */
static int walk_object(rd_t *r, const char *const *names, int nnames,
		unsigned int *seen, key_f fn, void *arg)
{
	char key[64];
	int k;

	*seen = 0;
	skip_ws(r);
	if(r->p >= r->e || *r->p != '{')
		return -1;
	r->p++;
	skip_ws(r);
	if(r->p < r->e && *r->p == '}')
		return -1; /* empty: keys are missing */
	for(;;) {
		skip_ws(r);
		if(get_str(r, key, sizeof(key)) < 0)
			return -1;
		skip_ws(r);
		if(r->p >= r->e || *r->p != ':')
			return -1;
		r->p++;
		skip_ws(r);
		k = name_index(key, names, nnames);
		if(k >= 0) {
			if(*seen & (1u << k))
				return -1; /* twice */
			*seen |= 1u << k;
			if(fn(r, k, arg) < 0)
				return -1;
		} else if(skip_value(r) < 0) {
			return -1;
		}
		skip_ws(r);
		if(r->p >= r->e)
			return -1;
		if(*r->p == '}') {
			r->p++;
			break;
		}
		if(*r->p != ',')
			return -1;
		r->p++;
	}
	skip_ws(r);
	return r->p == r->e ? 0 : -1;
}

/* A key of a single message into m (arg). */
static int msg_key(rd_t *r, int k, void *arg)
{
	static const char *const roles[HA_ROLE_COUNT] = {"primary", "backup"};
	ha_peer_msg_t *m = arg;
	char word[16];
	uint64_t v;
	int i;

	switch(k) {
		case K_V:
			return get_u64(r, &v) < 0 || v != HA_PEER_VERSION ? -1 : 0;
		case K_VERSION:
			return get_u64(r, &m->version);
		case K_PAIR:
			return get_str(r, m->pair, sizeof(m->pair));
		case K_PRIMARY:
		case K_BACKUP:
			return get_str(r, m->uri[k - K_PRIMARY], HA_PEER_URI_MAX);
		case K_ORIGIN:
			return get_str(r, m->origin, sizeof(m->origin));
		default: /* K_OP, K_ACTIVE, K_REASON */
			if(get_str(r, word, sizeof(word)) < 0)
				return -1;
			if(k == K_OP)
				i = name_index(word, ha_peer_op_names, HA_PEER_OP_COUNT);
			else if(k == K_ACTIVE)
				i = name_index(word, roles, HA_ROLE_COUNT);
			else
				i = name_index(word, ha_reason_names, HA_RSN_COUNT);
			if(i < 0)
				return -1;
			if(k == K_OP)
				m->op = (ha_peer_op_t)i;
			else if(k == K_ACTIVE)
				m->active = (ha_role_t)i;
			else
				m->reason = (ha_reason_t)i;
			return 0;
	}
}

int ha_peer_decode(const char *buf, size_t len, ha_peer_msg_t *m)
{
	rd_t r = {buf, buf + len};
	unsigned int seen;

	memset(m, 0, sizeof(*m));
	if(walk_object(&r, key_names, K_COUNT, &seen, msg_key, m) < 0)
		return -1;
	if(!(seen & (1u << K_OP)))
		return -1;
	if(m->op == HA_PEER_SYNC) {
		if(seen != ((1u << K_V) | (1u << K_OP) | (1u << K_ORIGIN))
				|| m->origin[0] == '\0')
			return -1;
		return 0;
	}
	if(seen != (1u << K_COUNT) - 1)
		return -1;
	if(m->pair[0] == '\0' || m->origin[0] == '\0')
		return -1;
	return 0;
}

/* ---- batches ----------------------------------------------------------- */

#define BATCH_TAIL_MAX 16 /* "],\"last\":false}" and its NUL */

/* A batch's head: sync, or (changes) a batch of changes. */
static int batch_begin(
		char *buf, size_t size, const char *origin, int sync, int changes)
{
	char num[32];
	size_t n = 0;

	if(size == 0)
		return -1;
	buf[0] = '\0';
	snprintf(num, sizeof(num), "%d", HA_PEER_VERSION);
	if(origin[0] == '\0' || put_raw(buf, size, &n, "{\"v\":") < 0
			|| put_raw(buf, size, &n, num) < 0
			|| put_raw(buf, size, &n, ",\"op\":\"batch\",\"origin\":") < 0
			|| put_str(buf, size, &n, origin) < 0
			|| put_raw(buf, size, &n,
					   sync ? ",\"sync\":true" : ",\"sync\":false")
					   < 0
			|| (changes && put_raw(buf, size, &n, ",\"changes\":true") < 0)
			|| put_raw(buf, size, &n, ",\"states\":[") < 0
			|| n + BATCH_TAIL_MAX > size) {
		buf[0] = '\0';
		return -1;
	}
	return (int)n;
}

int ha_peer_batch_begin(char *buf, size_t size, const char *origin, int sync)
{
	return batch_begin(buf, size, origin, sync, 0);
}

int ha_peer_batch_begin_changes(char *buf, size_t size, const char *origin)
{
	return batch_begin(buf, size, origin, 0, 1);
}

int ha_peer_batch_add(char *buf, size_t size, size_t *n, const ha_peer_msg_t *m)
{
	ha_peer_msg_t s = *m;
	size_t room;
	int first, len;

	if(*n == 0 || *n + BATCH_TAIL_MAX >= size)
		return -1;
	first = buf[*n - 1] == '[';
	room = size - *n - BATCH_TAIL_MAX - (first ? 0 : 1);
	s.op = HA_PEER_STATE;
	/* encoded in place, after the comma, within the room left */
	len = ha_peer_encode(&s, buf + *n + (first ? 0 : 1), room + 1);
	if(len < 0) {
		buf[*n] = '\0';
		return -1;
	}
	if(!first)
		buf[*n] = ',';
	*n += (size_t)len + (first ? 0 : 1);
	return 0;
}

int ha_peer_batch_end(char *buf, size_t size, size_t *n, int last)
{
	if(*n == 0
			|| put_raw(buf, size, n,
					   last ? "],\"last\":true}" : "],\"last\":false}")
					   < 0)
		return -1;
	return (int)*n;
}

/* Read true or false. Returns 0, or -1. */
static int get_bool(rd_t *r, int *v)
{
	if(r->e - r->p >= 4 && memcmp(r->p, "true", 4) == 0) {
		r->p += 4;
		*v = 1;
		return 0;
	}
	if(r->e - r->p >= 5 && memcmp(r->p, "false", 5) == 0) {
		r->p += 5;
		*v = 0;
		return 0;
	}
	return -1;
}

/* The end of the flat object that starts at r->p (strings skipped as
 * strings): r->p is left after its '}'. Returns 0, or -1. */
static int skip_object(rd_t *r)
{
	if(r->p >= r->e || *r->p != '{')
		return -1;
	r->p++;
	while(r->p < r->e) {
		if(*r->p == '"') {
			if(get_str(r, NULL, 0) < 0)
				return -1;
			continue;
		}
		if(*r->p == '{' || *r->p == '[')
			return -1; /* states are flat */
		if(*r->p++ == '}')
			return 0;
	}
	return -1;
}

/* Read the states array at r->p, each state given to cb (NULL: checked
 * only); changes: a batch of changes from origin (every state's origin
 * must be origin; given to cb as changes). Returns the number of states,
 * or -1. */
static int get_states(
		rd_t *r, ha_peer_state_f cb, void *arg, int changes, const char *origin)
{
	ha_peer_msg_t m;
	const char *s;
	int n = 0;

	if(r->p >= r->e || *r->p != '[')
		return -1;
	r->p++;
	skip_ws(r);
	if(r->p < r->e && *r->p == ']') {
		r->p++;
		return 0;
	}
	for(;;) {
		skip_ws(r);
		s = r->p;
		if(skip_object(r) < 0 || ha_peer_decode(s, (size_t)(r->p - s), &m) < 0
				|| m.op != HA_PEER_STATE)
			return -1;
		if(changes) {
			if(strcmp(m.origin, origin) != 0)
				return -1; /* a change is its sender's own */
			m.op = HA_PEER_CHANGE;
		}
		if(cb != NULL)
			cb(&m, arg);
		n++;
		skip_ws(r);
		if(r->p >= r->e)
			return -1;
		if(*r->p == ']') {
			r->p++;
			return n;
		}
		if(*r->p != ',')
			return -1;
		r->p++;
	}
}

enum
{
	B_V = 0,
	B_OP,
	B_ORIGIN,
	B_SYNC,
	B_LAST,
	B_STATES,
	B_CHANGES, /* optional */
	B_COUNT
};

/* the keys every batch has */
#define B_REQUIRED ((1u << B_CHANGES) - 1)

static const char *const bkey_names[B_COUNT] = {
		"v", "op", "origin", "sync", "last", "states", "changes"};

typedef struct batch_rd
{
	ha_peer_batch_t *b;
	ha_peer_state_f cb;
	void *arg;
	/* what the first pass found, for the states of the second (the keys
	 * may come in any order) */
	int changes;
	char origin[HA_ORIGIN_MAX];
} batch_rd_t;

/* A key of a batch into the batch_rd_t at arg. */
static int batch_key(rd_t *r, int k, void *arg)
{
	batch_rd_t *br = arg;
	char word[16];
	uint64_t v;
	int n;

	switch(k) {
		case B_V:
			return get_u64(r, &v) < 0 || v != HA_PEER_VERSION ? -1 : 0;
		case B_OP:
			return get_str(r, word, sizeof(word)) < 0
								   || strcmp(word, "batch") != 0
						   ? -1
						   : 0;
		case B_ORIGIN:
			return get_str(r, br->b->origin, sizeof(br->b->origin)) < 0
								   || br->b->origin[0] == '\0'
						   ? -1
						   : 0;
		case B_SYNC:
			return get_bool(r, &br->b->sync);
		case B_LAST:
			return get_bool(r, &br->b->last);
		case B_CHANGES:
			return get_bool(r, &br->b->changes);
		default: /* B_STATES */
			n = get_states(r, br->cb, br->arg, br->changes, br->origin);
			if(n < 0)
				return -1;
			br->b->n = n;
			return 0;
	}
}

/* One pass over a batch (cb NULL: the check); first: the first pass's
 * result (NULL in the first pass: its states are read as states). Returns
 * 0, or -1. */
static int batch_pass(const char *buf, size_t len, ha_peer_batch_t *b,
		ha_peer_state_f cb, void *arg, const ha_peer_batch_t *first)
{
	rd_t r = {buf, buf + len};
	batch_rd_t br;
	unsigned int seen;

	memset(&br, 0, sizeof(br));
	br.b = b;
	br.cb = cb;
	br.arg = arg;
	if(first != NULL) {
		br.changes = first->changes;
		memcpy(br.origin, first->origin, sizeof(br.origin));
	}
	memset(b, 0, sizeof(*b));
	if(walk_object(&r, bkey_names, B_COUNT, &seen, batch_key, &br) < 0
			|| (seen & B_REQUIRED) != B_REQUIRED || (b->changes && b->sync))
		return -1;
	return 0;
}

int ha_peer_batch_decode(const char *buf, size_t len, ha_peer_batch_t *b,
		ha_peer_state_f cb, void *arg)
{
	ha_peer_batch_t first;

	if(batch_pass(buf, len, &first, NULL, NULL, NULL) < 0)
		return -1;
	/* a batch of changes: its states' origins checked against the
	 * batch's, which the first pass found wherever it stood */
	if(first.changes && batch_pass(buf, len, b, NULL, NULL, &first) < 0)
		return -1;
	if(cb == NULL) {
		*b = first;
		return 0;
	}
	if(batch_pass(buf, len, b, cb, arg, &first) < 0)
		return -1; /* cannot happen: the same bytes passed */
	return 0;
}
