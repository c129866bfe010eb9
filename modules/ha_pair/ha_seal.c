/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_seal.c - signed pool messages of ha_pair: key ring, envelope, replay
 * window, pure. */

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "ha_seal.h"
#include "ha_fsm.h"
#include "ha_hmac.h"

/* "HAP2 <keyid> <mac>\n" */
#define HA_SEAL_MAGIC_LEN (sizeof(HA_SEAL_MAGIC) - 1)
#define HA_SEAL_LINE1_LEN \
	(HA_SEAL_MAGIC_LEN + 1 + HA_KEYID_LEN + 1 + 2 * HA_MAC_LEN + 1)
/* the second line at its longest: two addresses of HA_ORIGIN_MAX - 1
 * characters, three 20-digit counters (ts has 19), the names and spaces */
#define HA_SEAL_LINE2_MAX                                                 \
	(sizeof("origin= boot= seq= ts= to=\n") - 1 + 2 * (HA_ORIGIN_MAX - 1) \
			+ 3 * 20)
/* what ha_seal_hdr_t's users size their buffers by must hold both lines */
_Static_assert(HA_SEAL_LINE1_LEN + HA_SEAL_LINE2_MAX <= HA_SEAL_HEAD_MAX,
		"HA_SEAL_HEAD_MAX does not hold the longest envelope");
_Static_assert(HA_SHA256_LEN == HA_MAC_LEN, "the MAC is an HMAC-SHA256");
_Static_assert(HA_REPLAY_BITS % 64 == 0 && HA_REPLAY_BITS >= 64,
		"the replay window is whole 64-bit words");

/* what a key's id is the hash of, before the key */
#define HA_KEYID_SALT "ha_pair key id\n"

#define HA_REPLAY_WORDS (HA_REPLAY_BITS / 64)

const char *ha_unseal_rc_names[HA_UNSEAL_RC_COUNT] = {
		[HA_UNSEAL_OK] = "ok",
		[HA_UNSEAL_UNSIGNED] = "unsigned",
		[HA_UNSEAL_MALFORMED] = "malformed",
		[HA_UNSEAL_KEY] = "key",
		[HA_UNSEAL_MAC] = "mac",
};

const char *ha_replay_names[HA_RPL_COUNT] = {
		[HA_RPL_NEW] = "new",
		[HA_RPL_DUP] = "dup",
		[HA_RPL_OLD] = "old",
		[HA_RPL_BOOT] = "boot",
};

static const char _ha_hex[] = "0123456789abcdef";

/* Zero n bytes at p through a volatile pointer: keys are wiped right
 * before their memory goes, which a plain memset() may be dropped for. */
static void _ha_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while(n-- > 0)
		*v++ = 0;
}

/* A character of a key, an origin or a "to": printable ASCII, no space
 * (DMQ addresses are SIP URIs; keys are written in text files). */
static int _ha_is_word(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

static int _ha_is_lower_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int _ha_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Write the n bytes at b as 2n lower-case hex digits at out (no NUL). */
static void _ha_hex_write(const unsigned char *b, size_t n, char *out)
{
	size_t i;

	for(i = 0; i < n; i++) {
		out[2 * i] = _ha_hex[b[i] >> 4];
		out[2 * i + 1] = _ha_hex[b[i] & 0x0f];
	}
}

/* ---- key ring ----------------------------------------------------------- */

/* Check one trimmed key line (n bytes at s) and add it to kr. Returns 0 or
 * an HA_KEYS_E* error; kr is unchanged on error. */
static int _ha_key_add(ha_keyring_t *kr, const char *s, size_t n)
{
	unsigned char d[HA_SHA256_LEN];
	ha_key_t *k;
	size_t i;
	int j;

	for(i = 0; i < n; i++)
		if(!_ha_is_word((unsigned char)s[i]))
			return HA_KEYS_ECHAR;
	if(n < HA_KEY_MIN)
		return HA_KEYS_ESHORT;
	if(n > HA_KEY_MAX)
		return HA_KEYS_ELONG;
	if(kr->n >= HA_KEYS_MAX)
		return HA_KEYS_ETOOMANY;

	k = &kr->key[kr->n];
	/* the id is a hash of the key: it names the key in every message
	 * without telling it */
	ha_sha256_2(HA_KEYID_SALT, sizeof(HA_KEYID_SALT) - 1, s, n, d);
	_ha_hex_write(d, HA_KEYID_LEN / 2, k->id);
	k->id[HA_KEYID_LEN] = '\0';
	/* an id names one key: unseal picks the key by it */
	for(j = 0; j < kr->n; j++)
		if(memcmp(kr->key[j].id, k->id, HA_KEYID_LEN) == 0) {
			_ha_wipe(k->id, sizeof(k->id));
			return HA_KEYS_EDUP;
		}
	memcpy(k->k, s, n);
	k->len = (int)n;
	kr->n++;
	return 0;
}

int ha_keyring_parse(const char *text, size_t len, ha_keyring_t *kr, int *line)
{
	const char *p, *end, *eol, *a, *b;
	int ln = 0, rc;

	_ha_wipe(kr, sizeof(*kr));
	if(text == NULL)
		len = 0;
	p = text;
	end = text + len;
	while(p < end) {
		ln++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if(eol == NULL)
			eol = end;
		a = p;
		b = eol;
		p = eol < end ? eol + 1 : end;
		while(a < b && _ha_is_blank((unsigned char)*a))
			a++;
		while(b > a && _ha_is_blank((unsigned char)b[-1]))
			b--;
		if(a == b || *a == '#')
			continue;
		rc = _ha_key_add(kr, a, (size_t)(b - a));
		if(rc < 0) {
			ha_keyring_wipe(kr);
			if(line != NULL)
				*line = ln;
			return rc;
		}
	}
	if(kr->n == 0) {
		if(line != NULL)
			*line = 0;
		return HA_KEYS_ENONE;
	}
	return kr->n;
}

void ha_keyring_wipe(ha_keyring_t *kr)
{
	if(kr != NULL)
		_ha_wipe(kr, sizeof(*kr));
}

/* ---- envelope ----------------------------------------------------------- */

/* Write v in decimal at out (room for 20 digits). Returns the digits
 * written. */
static size_t _ha_put_u64(char *out, uint64_t v)
{
	char t[20];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while(v > 0);
	for(i = 0; i < n; i++)
		out[i] = t[n - 1 - i];
	return n;
}

/* Append the n bytes at s to out at *o (the caller made room). */
static void _ha_put(char *out, size_t *o, const char *s, size_t n)
{
	memcpy(out + *o, s, n);
	*o += n;
}

/* Is s (a field of HA_ORIGIN_MAX bytes) a NUL-terminated address the
 * second line can carry? Its length then, else 0. */
static size_t _ha_addr_len(const char s[HA_ORIGIN_MAX])
{
	size_t n;

	for(n = 0; n < HA_ORIGIN_MAX && s[n] != '\0'; n++)
		if(!_ha_is_word((unsigned char)s[n]))
			return 0;
	return n < HA_ORIGIN_MAX ? n : 0;
}

/* Write the second line of h at out (room for HA_SEAL_LINE2_MAX). Returns
 * its length, or 0 when h cannot be written (an address empty or with a
 * space or control character, seq 0, ts negative). */
static size_t _ha_line2(const ha_seal_hdr_t *h, char *out)
{
	size_t olen = _ha_addr_len(h->origin), tlen = _ha_addr_len(h->to);
	size_t o = 0;

	if(olen == 0 || tlen == 0 || h->seq == 0 || h->ts < 0)
		return 0;
	_ha_put(out, &o, "origin=", 7);
	_ha_put(out, &o, h->origin, olen);
	_ha_put(out, &o, " boot=", 6);
	o += _ha_put_u64(out + o, h->boot);
	_ha_put(out, &o, " seq=", 5);
	o += _ha_put_u64(out + o, h->seq);
	_ha_put(out, &o, " ts=", 4);
	o += _ha_put_u64(out + o, (uint64_t)h->ts);
	_ha_put(out, &o, " to=", 4);
	_ha_put(out, &o, h->to, tlen);
	out[o++] = '\n';
	return o;
}

int ha_seal(const ha_keyring_t *kr, const ha_seal_hdr_t *h, const char *msg,
		size_t mlen, char *out, size_t size)
{
	char l2[HA_SEAL_LINE2_MAX];
	unsigned char mac[HA_MAC_LEN];
	const ha_key_t *k;
	size_t n2, total, o = 0;

	if(kr == NULL || h == NULL || out == NULL || kr->n < 1
			|| kr->n > HA_KEYS_MAX)
		return -1;
	k = &kr->key[0];
	if(k->len < 1 || k->len > HA_KEY_MAX)
		return -1;
	n2 = _ha_line2(h, l2);
	if(n2 == 0)
		return -1;
	if(mlen > (size_t)INT_MAX - HA_SEAL_LINE1_LEN - n2)
		return -1;
	total = HA_SEAL_LINE1_LEN + n2 + mlen;
	if(total > size)
		return -1;

	/* the message first: memmove, so that it may already lie in out */
	if(mlen > 0)
		memmove(out + HA_SEAL_LINE1_LEN + n2, msg, mlen);
	memcpy(out + HA_SEAL_LINE1_LEN, l2, n2);
	ha_hmac_sha256(
			k->k, (size_t)k->len, out + HA_SEAL_LINE1_LEN, n2 + mlen, mac);

	_ha_put(out, &o, HA_SEAL_MAGIC " ", HA_SEAL_MAGIC_LEN + 1);
	_ha_put(out, &o, k->id, HA_KEYID_LEN);
	out[o++] = ' ';
	_ha_hex_write(mac, sizeof(mac), out + o);
	o += 2 * sizeof(mac);
	out[o++] = '\n';
	if(total < size)
		out[total] = '\0';
	return (int)total;
}

/* Read "<name>=" at *p (before end). Returns 0 with *p past it, or -1. */
static int _ha_get_name(const char **p, const char *end, const char *name)
{
	size_t n = strlen(name);

	if((size_t)(end - *p) < n + 1 || memcmp(*p, name, n) != 0 || (*p)[n] != '=')
		return -1;
	*p += n + 1;
	return 0;
}

/* Read an address at *p up to stop (a space or the end of the line), into
 * out (HA_ORIGIN_MAX bytes, NUL-terminated). Returns 0 with *p at stop, or
 * -1 (empty, too long, or with a character no address has). */
static int _ha_get_addr(const char **p, const char *end, char stop, char *out)
{
	const char *s = *p;
	size_t n = 0;

	while(s + n < end && s[n] != stop) {
		if(!_ha_is_word((unsigned char)s[n]) || n + 1 >= HA_ORIGIN_MAX)
			return -1;
		n++;
	}
	if(n == 0 || s + n >= end)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = s + n;
	return 0;
}

/* Read a decimal number at *p no larger than max: digits only, no sign, no
 * leading zero (but "0" itself). Returns 0 with *v set and *p past it, or
 * -1. */
static int _ha_get_num(
		const char **p, const char *end, uint64_t max, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	unsigned d;

	if(s >= end || *s < '0' || *s > '9')
		return -1;
	if(*s == '0') {
		*v = 0;
		*p = s + 1;
		/* "01" is another spelling of 1: one spelling only */
		return (s + 1 < end && s[1] >= '0' && s[1] <= '9') ? -1 : 0;
	}
	while(s < end && *s >= '0' && *s <= '9') {
		d = (unsigned)(*s - '0');
		if(x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
		s++;
	}
	*v = x;
	*p = s;
	return 0;
}

/* Read the literal character c at *p. Returns 0 with *p past it, or -1. */
static int _ha_get_char(const char **p, const char *end, char c)
{
	if(*p >= end || **p != c)
		return -1;
	(*p)++;
	return 0;
}

/* Read the second line, [p, end) with end at its '\n', into h. Returns 0 or
 * -1 (h then partly written). */
static int _ha_parse_line2(const char *p, const char *end, ha_seal_hdr_t *h)
{
	uint64_t ts;

	/* end points at the '\n': it is what _ha_get_addr() stops "to" at */
	if(_ha_get_name(&p, end, "origin") < 0
			|| _ha_get_addr(&p, end + 1, ' ', h->origin) < 0
			|| _ha_get_char(&p, end, ' ') < 0
			|| _ha_get_name(&p, end, "boot") < 0
			|| _ha_get_num(&p, end, UINT64_MAX, &h->boot) < 0
			|| _ha_get_char(&p, end, ' ') < 0
			|| _ha_get_name(&p, end, "seq") < 0
			|| _ha_get_num(&p, end, UINT64_MAX, &h->seq) < 0
			|| _ha_get_char(&p, end, ' ') < 0 || _ha_get_name(&p, end, "ts") < 0
			|| _ha_get_num(&p, end, (uint64_t)INT64_MAX, &ts) < 0
			|| _ha_get_char(&p, end, ' ') < 0 || _ha_get_name(&p, end, "to") < 0
			|| _ha_get_addr(&p, end + 1, '\n', h->to) < 0)
		return -1;
	if(p != end || h->seq == 0)
		return -1;
	h->ts = (int64_t)ts;
	return 0;
}

ha_unseal_rc_t ha_unseal(const ha_keyring_t *kr, const char *buf, size_t len,
		ha_seal_hdr_t *h, const char **msg, size_t *mlen)
{
	unsigned char mac[HA_MAC_LEN];
	char hex[2 * HA_MAC_LEN];
	const ha_key_t *k = NULL;
	const char *pl, *end, *nl;
	size_t i;
	int j, eq;

	if(buf == NULL || len < HA_SEAL_MAGIC_LEN + 1
			|| memcmp(buf, HA_SEAL_MAGIC " ", HA_SEAL_MAGIC_LEN + 1) != 0)
		return HA_UNSEAL_UNSIGNED;
	/* the first line, exactly: "HAP2 <8 hex> <64 hex>\n" */
	if(len < HA_SEAL_LINE1_LEN
			|| buf[HA_SEAL_MAGIC_LEN + 1 + HA_KEYID_LEN] != ' '
			|| buf[HA_SEAL_LINE1_LEN - 1] != '\n')
		return HA_UNSEAL_MALFORMED;
	for(i = 0; i < HA_KEYID_LEN; i++)
		if(!_ha_is_lower_hex((unsigned char)buf[HA_SEAL_MAGIC_LEN + 1 + i]))
			return HA_UNSEAL_MALFORMED;
	for(i = 0; i < 2 * HA_MAC_LEN; i++)
		if(!_ha_is_lower_hex((
				   unsigned char)buf[HA_SEAL_MAGIC_LEN + HA_KEYID_LEN + 2 + i]))
			return HA_UNSEAL_MALFORMED;

	for(j = 0; kr != NULL && j < kr->n && j < HA_KEYS_MAX; j++)
		if(memcmp(kr->key[j].id, buf + HA_SEAL_MAGIC_LEN + 1, HA_KEYID_LEN)
				== 0) {
			k = &kr->key[j];
			break;
		}
	if(k == NULL || k->len < 1 || k->len > HA_KEY_MAX)
		return HA_UNSEAL_KEY;

	/* nothing of the payload is read before its MAC holds: the parser
	 * below only ever sees what a key holder wrote */
	pl = buf + HA_SEAL_LINE1_LEN;
	end = buf + len;
	ha_hmac_sha256(k->k, (size_t)k->len, pl, (size_t)(end - pl), mac);
	_ha_hex_write(mac, sizeof(mac), hex);
	eq = ha_mem_equal(
			hex, buf + HA_SEAL_MAGIC_LEN + HA_KEYID_LEN + 2, sizeof(hex));
	if(!eq)
		return HA_UNSEAL_MAC;

	nl = memchr(pl, '\n', (size_t)(end - pl));
	if(nl == NULL || _ha_parse_line2(pl, nl, h) < 0)
		return HA_UNSEAL_MALFORMED;
	*msg = nl + 1;
	*mlen = (size_t)(end - (nl + 1));
	return HA_UNSEAL_OK;
}

/* ---- replay window ------------------------------------------------------ */

/* Move the window up by d (1 <= d < HA_REPLAY_BITS): bit i becomes bit
 * i + d, the bits shifted past the top of the window drop out. */
static void _ha_replay_shift(ha_replay_t *r, uint64_t d)
{
	unsigned w = (unsigned)(d / 64), b = (unsigned)(d % 64);
	int i;

	for(i = HA_REPLAY_WORDS - 1; i >= 0; i--) {
		uint64_t v = 0;

		if(i >= (int)w) {
			v = r->map[i - w] << b;
			/* a shift by 64 is undefined: b == 0 takes no low part */
			if(b != 0 && i > (int)w)
				v |= r->map[i - w - 1] >> (64 - b);
		}
		r->map[i] = v;
	}
}

ha_replay_verdict_t ha_replay_take(ha_replay_t *r, uint64_t boot, uint64_t seq)
{
	uint64_t d;

	if(seq == 0)
		return HA_RPL_OLD;
	if(boot < r->boot)
		return HA_RPL_BOOT;
	if(boot > r->boot) {
		/* a restart: its counters begin again, nothing of the old boot's
		 * window says anything of them */
		memset(r->map, 0, sizeof(r->map));
		r->boot = boot;
		r->top = seq;
		r->map[0] = 1;
		return HA_RPL_NEW;
	}
	if(seq > r->top) {
		/* seq - top cannot overflow; a jump past the window forgets it
		 * (no shift of 64 or more is ever made) */
		d = seq - r->top;
		if(d >= HA_REPLAY_BITS)
			memset(r->map, 0, sizeof(r->map));
		else
			_ha_replay_shift(r, d);
		r->top = seq;
		r->map[0] |= 1;
		return HA_RPL_NEW;
	}
	d = r->top - seq;
	if(d >= HA_REPLAY_BITS)
		return HA_RPL_OLD;
	if(r->map[d / 64] & ((uint64_t)1 << (d % 64)))
		return HA_RPL_DUP;
	r->map[d / 64] |= (uint64_t)1 << (d % 64);
	return HA_RPL_NEW;
}

int ha_seal_out_of_time(int64_t ts, int64_t now, int64_t window_ms)
{
	uint64_t d;

	/* |ts - now| as an unsigned: the int64 difference of extreme values
	 * overflows, the uint64 one of ordered values does not */
	if(ts >= now)
		d = (uint64_t)ts - (uint64_t)now;
	else
		d = (uint64_t)now - (uint64_t)ts;
	if(window_ms < 0)
		return 1;
	return d > (uint64_t)window_ms;
}
