/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_peer.c - the pool replication message of ha_pair (JSON), pure. */

#include <string.h>
#include <stdio.h>
#include <inttypes.h>

#include "ha_peer.h"

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

int ha_peer_decode(const char *buf, size_t len, ha_peer_msg_t *m)
{
	static const char *const roles[HA_ROLE_COUNT] = {"primary", "backup"};
	rd_t r = {buf, buf + len};
	char key[64], word[16];
	unsigned int seen = 0;
	uint64_t v;
	int k, i;

	memset(m, 0, sizeof(*m));
	skip_ws(&r);
	if(r.p >= r.e || *r.p != '{')
		return -1;
	r.p++;
	skip_ws(&r);
	if(r.p < r.e && *r.p == '}')
		return -1; /* empty: keys are missing */
	for(;;) {
		skip_ws(&r);
		if(get_str(&r, key, sizeof(key)) < 0)
			return -1;
		skip_ws(&r);
		if(r.p >= r.e || *r.p != ':')
			return -1;
		r.p++;
		skip_ws(&r);
		k = name_index(key, key_names, K_COUNT);
		if(k >= 0) {
			if(seen & (1u << k))
				return -1; /* twice */
			seen |= 1u << k;
		}
		switch(k) {
			case K_V:
				if(get_u64(&r, &v) < 0 || v != HA_PEER_VERSION)
					return -1;
				break;
			case K_VERSION:
				if(get_u64(&r, &m->version) < 0)
					return -1;
				break;
			case K_PAIR:
				if(get_str(&r, m->pair, sizeof(m->pair)) < 0)
					return -1;
				break;
			case K_PRIMARY:
			case K_BACKUP:
				if(get_str(&r, m->uri[k - K_PRIMARY], HA_PEER_URI_MAX) < 0)
					return -1;
				break;
			case K_ORIGIN:
				if(get_str(&r, m->origin, sizeof(m->origin)) < 0)
					return -1;
				break;
			case K_OP:
			case K_ACTIVE:
			case K_REASON:
				if(get_str(&r, word, sizeof(word)) < 0)
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
				break;
			default:
				if(skip_value(&r) < 0)
					return -1;
				break;
		}
		skip_ws(&r);
		if(r.p >= r.e)
			return -1;
		if(*r.p == '}') {
			r.p++;
			break;
		}
		if(*r.p != ',')
			return -1;
		r.p++;
	}
	skip_ws(&r);
	if(r.p != r.e)
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
