/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_config.c - pairs file parser of ha_pair (libxml2, compiled-in schema). */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlversion.h>

#include "ha_config.h"
#include "ha_xsd.h"

/* libxml2 2.12 made the structured error handler take a const pointer. */
#if LIBXML_VERSION >= 21200
#define HA_XML_ERROR_T const xmlError *
#else
#define HA_XML_ERROR_T xmlErrorPtr
#endif

#if defined(__GNUC__)
#define HA_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define HA_PRINTF(f, a)
#endif

/* Longest piece of user text quoted in a message, so that one absurd
 * attribute cannot push the rest of the message out of the buffer. */
#define HA_QUOTE_MAX 80

const char *ha_transport_names[HA_TR_COUNT] = {
		[HA_TR_UDP] = "udp",
		[HA_TR_TCP] = "tcp",
		[HA_TR_TLS] = "tls",
};

/* What ha_cfg_load() is doing, so that a libxml2 message gets the right
 * prefix: a syntax error, our own schema failing to compile, or the file
 * not matching the schema. */
typedef enum ha_phase
{
	HA_PH_PARSE = 0,
	HA_PH_SCHEMA,
	HA_PH_VALIDATE,
	HA_PH_BUILD,
	HA_PH_COUNT
} ha_phase_t;

static const char *_ha_phase_prefix[HA_PH_COUNT] = {
		[HA_PH_PARSE] = "XML: ",
		[HA_PH_SCHEMA] = "internal error: compiled-in schema: ",
		[HA_PH_VALIDATE] = "schema: ",
		[HA_PH_BUILD] = "",
};

/* State of one load, handed to the libxml2 callbacks. Only the first error
 * is kept: later ones are usually consequences of it. */
typedef struct ha_load
{
	const char *name; /* path (or name) used in messages */
	char *err;
	size_t errlen;
	int failed;
	ha_phase_t phase;
} ha_load_t;

/* A small open-addressing set of strings, to find duplicate pair names and
 * domains in O(n) whatever the size of the file. Keys are not copied: they
 * must outlive the set. */
typedef struct ha_sset_ent
{
	const char *key;
	int line;
	int pair;
} ha_sset_ent_t;

typedef struct ha_sset
{
	ha_sset_ent_t *tab;
	size_t mask;
	int icase;
} ha_sset_t;

/* ---- small helpers ---------------------------------------------------- */

/* ASCII only: the results must not depend on the process locale. */
static int ha_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int ha_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int ha_is_alnum(int c)
{
	return ha_is_alpha(c) || ha_is_digit(c);
}

static int ha_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int ha_is_xml_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Case-insensitive (ASCII) comparison of n bytes of a with the
 * NUL-terminated b; true when they are equal and b has exactly n bytes. */
static int ha_ncase_eq(const char *a, size_t n, const char *b)
{
	size_t i;

	for(i = 0; i < n; i++) {
		if(b[i] == '\0'
				|| ha_lower((unsigned char)a[i])
						   != ha_lower((unsigned char)b[i]))
			return 0;
	}
	return b[n] == '\0';
}

static int ha_case_eq(const char *a, const char *b)
{
	return ha_ncase_eq(a, strlen(a), b);
}

/* Format into err (which may be NULL or of size 0); can't fail. */
static void HA_PRINTF(3, 4)
		ha_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if(err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copy at most HA_QUOTE_MAX bytes of s[0..n) into buf for quoting in a
 * message: control and non-ASCII bytes become '?', a longer text ends in
 * "...". buf must hold HA_QUOTE_MAX + 4 bytes. Returns buf; can't fail. */
static const char *ha_quote(const char *s, size_t n, char *buf)
{
	size_t i, m;

	m = n > HA_QUOTE_MAX ? HA_QUOTE_MAX : n;
	for(i = 0; i < m; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if(n > m) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

#define HA_Q(s, buf) ha_quote((s), strlen(s), (buf))

/* "50 ms" or "300 s", for the range messages. */
static const char *ha_ms_text(int ms, char *buf, size_t len)
{
	if(ms >= 1000 && ms % 1000 == 0)
		snprintf(buf, len, "%d s", ms / 1000);
	else
		snprintf(buf, len, "%d ms", ms);
	return buf;
}

/* ---- pair names, durations, URIs --------------------------------------- */

int ha_name_valid(const char *name)
{
	size_t i;

	if(name == NULL || name[0] == '\0')
		return 0;
	for(i = 0; name[i] != '\0'; i++) {
		int c = (unsigned char)name[i];
		if(i >= HA_NAME_MAX)
			return 0;
		if(!ha_is_alnum(c) && c != '-' && c != '_' && c != '.')
			return 0;
	}
	return 1;
}

/* The integer part saturates just above INT_MAX, so that no digit string,
 * however long, can overflow the accumulator. */
int ha_duration_parse(const char *s, int *ms)
{
	unsigned long long ip = 0, fr = 0, v;
	int nfrac = 0, frac = 0, over = 0;
	unsigned long long mult;
	const char *p = s;

	if(s == NULL || ms == NULL || !ha_is_digit((unsigned char)*p))
		return -1;
	for(; ha_is_digit((unsigned char)*p); p++) {
		if(ip > (unsigned long long)INT_MAX)
			over = 1;
		else
			ip = ip * 10 + (unsigned long long)(*p - '0');
	}
	if(*p == '.') {
		p++;
		if(!ha_is_digit((unsigned char)*p))
			return -1;
		for(; ha_is_digit((unsigned char)*p); p++) {
			if(++nfrac > 3)
				return -1; /* finer than a millisecond */
			fr = fr * 10 + (unsigned long long)(*p - '0');
		}
		for(; nfrac < 3; nfrac++)
			fr *= 10;
		frac = 1;
	}
	if(strcmp(p, "s") == 0) {
		mult = 1000;
	} else if(strcmp(p, "ms") == 0 || *p == '\0') {
		if(frac)
			return -1; /* a fraction only makes sense with seconds */
		mult = 1;
	} else {
		return -1;
	}
	if(over)
		return -2;
	v = ip * mult + fr; /* ip < 2.2e10, so this cannot wrap */
	if(v > (unsigned long long)INT_MAX)
		return -2;
	*ms = (int)v;
	return 0;
}

/* Dotted quad: exactly four decimal octets of 1 to 3 digits, each <= 255. */
static int ha_ipv4_valid(const char *h, size_t n)
{
	size_t i = 0;
	int parts = 0;

	while(i < n) {
		int val = 0, nd = 0;
		while(i < n && ha_is_digit((unsigned char)h[i])) {
			val = val * 10 + (h[i] - '0');
			if(++nd > 3)
				return 0;
			i++;
		}
		if(nd == 0 || val > 255)
			return 0;
		parts++;
		if(i < n) {
			if(h[i] != '.' || parts == 4)
				return 0;
			i++;
			if(i == n)
				return 0; /* trailing dot */
		}
	}
	return parts == 4;
}

/* Host name per RFC 3261: labels of letters, digits and '-', 1 to 63
 * characters, not starting or ending with '-', at most 253 characters (plus
 * an optional final dot); the last label starts with a letter, which keeps
 * "10.0.0.256" from passing as a name. */
static int ha_hostname_valid(const char *h, size_t n)
{
	size_t i, start = 0;

	if(n > 0 && h[n - 1] == '.')
		n--;
	if(n == 0 || n > 253)
		return 0;
	for(i = 0; i <= n; i++) {
		if(i == n || h[i] == '.') {
			size_t len = i - start;
			if(len == 0 || len > 63 || h[start] == '-' || h[i - 1] == '-')
				return 0;
			if(i == n && !ha_is_alpha((unsigned char)h[start]))
				return 0;
			start = i + 1;
		} else if(!ha_is_alnum((unsigned char)h[i]) && h[i] != '-') {
			return 0;
		}
	}
	return 1;
}

/* Check the host text h[0..n): "[IPv6]", a dotted quad or a host name.
 * On success 0 is returned and u->host, u->is_ip, u->is_ipv6 are set; on
 * failure -1 with the reason in err and u unchanged. */
static int ha_host_parse(
		const char *h, size_t n, ha_uri_t *u, char *err, size_t errlen)
{
	char q[HA_QUOTE_MAX + 4];
	char tmp[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	size_t i;
	int digits_dots = 1;

	if(n == 0) {
		ha_seterr(err, errlen, "missing host");
		return -1;
	}
	if(h[0] == '[') {
		if(n < 3 || h[n - 1] != ']' || n - 2 >= sizeof(tmp)) {
			ha_seterr(err, errlen, "bad IPv6 address '%s'", ha_quote(h, n, q));
			return -1;
		}
		memcpy(tmp, h + 1, n - 2);
		tmp[n - 2] = '\0';
		if(inet_pton(AF_INET6, tmp, &a6) != 1) {
			ha_seterr(err, errlen, "bad IPv6 address '%s'", ha_quote(h, n, q));
			return -1;
		}
		memcpy(u->host, tmp, n - 1);
		u->is_ip = 1;
		u->is_ipv6 = 1;
		return 0;
	}
	for(i = 0; i < n; i++) {
		if(!ha_is_digit((unsigned char)h[i]) && h[i] != '.') {
			digits_dots = 0;
			break;
		}
	}
	if(digits_dots) {
		if(!ha_ipv4_valid(h, n)) {
			ha_seterr(err, errlen, "bad IPv4 address '%s'", ha_quote(h, n, q));
			return -1;
		}
		u->is_ip = 1;
	} else if(!ha_hostname_valid(h, n)) {
		ha_seterr(err, errlen, "bad host name '%s'", ha_quote(h, n, q));
		return -1;
	}
	memcpy(u->host, h, n); /* n <= 254 here */
	u->host[n] = '\0';
	return 0;
}

int ha_uri_parse(const char *s, ha_uri_t *u, char *err, size_t errlen)
{
	char q[HA_QUOTE_MAX + 4];
	ha_uri_t r;
	const char *p, *at, *hend;
	size_t i;

	if(s == NULL || u == NULL) {
		ha_seterr(err, errlen, "no URI");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	if(s[0] == '\0') {
		ha_seterr(err, errlen, "empty URI");
		return -1;
	}
	for(i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		if(ha_is_xml_space(c)) {
			ha_seterr(err, errlen, "URI must not contain spaces");
			return -1;
		}
		if(c < 0x20 || c >= 0x7f) {
			ha_seterr(err, errlen, "bad character in URI (only ASCII)");
			return -1;
		}
	}
	if(ha_ncase_eq(s, 4, "sip:")) {
		p = s + 4;
	} else if(ha_ncase_eq(s, 5, "sips:")) {
		p = s + 5;
		r.secure = 1;
	} else {
		ha_seterr(err, errlen, "scheme must be sip: or sips:");
		return -1;
	}
	at = strchr(p, '@');
	if(at != NULL) {
		if(at == p) {
			ha_seterr(err, errlen, "empty user part before '@'");
			return -1;
		}
		p = at + 1;
	}
	if(strchr(p, '?') != NULL) {
		ha_seterr(err, errlen, "headers ('?') are not allowed in a member URI");
		return -1;
	}

	/* host */
	if(*p == '[') {
		hend = strchr(p, ']');
		if(hend == NULL) {
			ha_seterr(err, errlen, "bad IPv6 address '%s': missing ']'",
					HA_Q(p, q));
			return -1;
		}
		hend++;
	} else {
		const char *c1 = strchr(p, ':');
		hend = p + strcspn(p, ":;");
		if(c1 != NULL && c1 == hend
				&& memchr(c1 + 1, ':', strcspn(c1 + 1, ";"))) {
			ha_seterr(err, errlen,
					"an IPv6 address needs brackets: sip:[2001:db8::1]:5060");
			return -1;
		}
	}
	if(ha_host_parse(p, (size_t)(hend - p), &r, err, errlen) < 0)
		return -1;
	p = hend;

	/* port */
	if(*p == ':') {
		const char *ps = ++p;
		long port = 0;
		size_t plen = strcspn(ps, ";");
		for(i = 0; i < plen; i++) {
			if(!ha_is_digit((unsigned char)ps[i]) || i >= 5) {
				port = -1;
				break;
			}
			port = port * 10 + (ps[i] - '0');
		}
		if(plen == 0 || port < 1 || port > 65535) {
			ha_seterr(err, errlen, "bad port '%s': must be 1 to 65535",
					ha_quote(ps, plen, q));
			return -1;
		}
		r.port = (int)port;
		p = ps + plen;
	}
	if(*p != '\0' && *p != ';') {
		ha_seterr(err, errlen, "unexpected '%c' after the host", *p);
		return -1;
	}

	/* parameters: only transport means something to us */
	while(*p == ';') {
		const char *name = ++p, *val = NULL;
		size_t nlen, vlen = 0, plen = strcspn(p, ";");
		const char *eq = memchr(p, '=', plen);
		nlen = eq ? (size_t)(eq - name) : plen;
		if(eq != NULL) {
			val = eq + 1;
			vlen = plen - nlen - 1;
		}
		if(nlen == 0) {
			ha_seterr(err, errlen, "empty URI parameter");
			return -1;
		}
		if(ha_ncase_eq(name, nlen, "transport")) {
			int t;
			if(r.transport_set) {
				ha_seterr(err, errlen, "transport given twice");
				return -1;
			}
			for(t = 0; t < HA_TR_COUNT; t++) {
				if(val != NULL && ha_ncase_eq(val, vlen, ha_transport_names[t]))
					break;
			}
			if(t == HA_TR_COUNT) {
				ha_seterr(err, errlen,
						"unsupported transport '%s' (udp, tcp or tls)",
						val ? ha_quote(val, vlen, q) : "");
				return -1;
			}
			r.transport = (ha_transport_t)t;
			r.transport_set = 1;
		}
		p += plen;
	}

	if(r.secure) {
		if(r.transport_set && r.transport == HA_TR_UDP) {
			ha_seterr(err, errlen, "a sips: URI cannot use transport=udp");
			return -1;
		}
		r.transport = HA_TR_TLS;
	}
	/* the other faults first: they say more */
	if(strlen(s) > HA_URI_MAX) {
		ha_seterr(err, errlen, "URI longer than %d characters", HA_URI_MAX);
		return -1;
	}
	*u = r;
	return 0;
}

/* Do two member URIs name the same place? Same transport, same port (an IP
 * literal without a port means the default port of its transport) and the
 * same host (IPv6 compared as addresses, names without regard to case). */
static int ha_uri_same(const ha_uri_t *a, const ha_uri_t *b)
{
	int pa = a->port, pb = b->port;

	if(a->transport != b->transport || a->is_ipv6 != b->is_ipv6)
		return 0;
	if(a->is_ip && pa == 0)
		pa = a->transport == HA_TR_TLS ? 5061 : 5060;
	if(b->is_ip && pb == 0)
		pb = b->transport == HA_TR_TLS ? 5061 : 5060;
	if(pa != pb)
		return 0;
	if(a->is_ipv6) {
		struct in6_addr x, y;
		if(inet_pton(AF_INET6, a->host, &x) != 1
				|| inet_pton(AF_INET6, b->host, &y) != 1)
			return 0;
		return memcmp(&x, &y, sizeof(x)) == 0;
	}
	return ha_case_eq(a->host, b->host);
}

/* Check an alive-codes list (items "404" or "2xx", separated by commas,
 * blanks around items allowed) and write it normalised ("2xx,404") into
 * out, which must hold strlen(s) + 1 bytes. Returns 0, or -1 with the
 * reason in why. */
static int ha_codes_norm(const char *s, char *out, char *why, size_t wlen)
{
	char q[HA_QUOTE_MAX + 4];
	const char *p = s;
	char *o = out;

	for(;;) {
		const char *b, *e;
		while(*p == ' ' || *p == '\t')
			p++;
		b = p;
		while(*p != '\0' && *p != ',')
			p++;
		e = p;
		while(e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if(e == b) {
			ha_seterr(why, wlen, *s == '\0' ? "empty list" : "empty item");
			return -1;
		}
		if(e - b != 3 || b[0] < '1' || b[0] > '6'
				|| !((ha_is_digit((unsigned char)b[1])
							 && ha_is_digit((unsigned char)b[2]))
						|| (ha_lower((unsigned char)b[1]) == 'x'
								&& ha_lower((unsigned char)b[2]) == 'x'))) {
			ha_seterr(why, wlen,
					"'%s' is neither a code 100-699 nor a class 1xx-6xx",
					ha_quote(b, (size_t)(e - b), q));
			return -1;
		}
		if(o != out)
			*o++ = ',';
		*o++ = b[0];
		*o++ = (char)ha_lower((unsigned char)b[1]);
		*o++ = (char)ha_lower((unsigned char)b[2]);
		if(*p == '\0')
			break;
		p++; /* ',' */
	}
	*o = '\0';
	return 0;
}

/* ---- string set -------------------------------------------------------- */

/* Room for n keys at a load factor of at most 1/2. Returns 0 or -1 (out of
 * memory). */
static int ha_sset_init(ha_sset_t *s, size_t n, int icase)
{
	size_t cap = 16;

	while(cap < 2 * n)
		cap <<= 1;
	s->tab = calloc(cap, sizeof(*s->tab));
	if(s->tab == NULL)
		return -1;
	s->mask = cap - 1;
	s->icase = icase;
	return 0;
}

static void ha_sset_free(ha_sset_t *s)
{
	free(s->tab);
	s->tab = NULL;
}

/* Insert key unless present. Returns the entry already holding an equal key,
 * or NULL once key is inserted. The set must have room (see init). */
static const ha_sset_ent_t *ha_sset_put(
		ha_sset_t *s, const char *key, int line, int pair)
{
	unsigned int h = 2166136261u; /* FNV-1a */
	const char *k;
	size_t i;

	for(k = key; *k != '\0'; k++) {
		h ^= (unsigned char)(s->icase ? ha_lower((unsigned char)*k) : *k);
		h *= 16777619u;
	}
	for(i = h & s->mask; s->tab[i].key != NULL; i = (i + 1) & s->mask) {
		if(s->icase ? ha_case_eq(s->tab[i].key, key)
					: strcmp(s->tab[i].key, key) == 0)
			return &s->tab[i];
	}
	s->tab[i].key = key;
	s->tab[i].line = line;
	s->tab[i].pair = pair;
	return NULL;
}

/* ---- libxml2 glue ------------------------------------------------------ */

/* Record the first error as "<name>:<line>: <reason>"; later ones are
 * dropped. Control characters are replaced so that the message stays one
 * line. Returns -1 so that callers can "return ha_fail(...)". */
static int HA_PRINTF(3, 4)
		ha_fail(ha_load_t *ld, int line, const char *fmt, ...)
{
	char reason[HA_ERR_MAX];
	va_list ap;
	size_t i;

	if(ld->failed)
		return -1;
	ld->failed = 1;
	if(ld->err == NULL || ld->errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->name, line < 0 ? 0 : line,
			reason);
	for(i = 0; ld->err[i] != '\0'; i++) {
		if((unsigned char)ld->err[i] < 0x20)
			ld->err[i] = ' ';
	}
	return -1;
}

static int ha_oom(ha_load_t *ld)
{
	return ha_fail(ld, 0, "out of memory");
}

/* Start a load named name: clear err and *out. Returns 0, or -1 when there
 * is no place for the result. */
static int ha_load_begin(ha_load_t *ld, const char *name, ha_cfg_t **out,
		char *err, size_t errlen)
{
	memset(ld, 0, sizeof(*ld));
	ld->name = name;
	ld->err = err;
	ld->errlen = errlen;
	if(err != NULL && errlen > 0)
		err[0] = '\0';
	if(out == NULL)
		return ha_fail(ld, 0, "internal error: no place for the result");
	*out = NULL;
	return 0;
}

static int ha_node_line(const xmlNode *node)
{
	long l;

	if(node == NULL)
		return 0;
	if(node->type == XML_ATTRIBUTE_NODE)
		node = node->parent;
	if(node == NULL)
		return 0;
	l = xmlGetLineNo(node);
	return (l < 0 || l > INT_MAX) ? 0 : (int)l;
}

/* Structured error handler for the parser, the schema compiler and the
 * validator: keeps the first error (warnings are ignored), prints nothing. */
static void ha_xml_error(void *data, HA_XML_ERROR_T e)
{
	ha_load_t *ld = data;
	char msg[HA_ERR_MAX];
	size_t n;
	int line;

	if(ld == NULL || e == NULL || ld->failed || e->level < XML_ERR_ERROR)
		return;
	snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "error");
	n = strlen(msg);
	while(n > 0 && ha_is_xml_space((unsigned char)msg[n - 1]))
		msg[--n] = '\0';
	line = e->line;
	if(line <= 0)
		line = ha_node_line(e->node);
	ha_fail(ld, line, "%s%s", _ha_phase_prefix[ld->phase], msg);
}

/* Generic error handler: libxml2 must not print anything. */
static void ha_xml_silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* SAX internalSubset callback, called for any <!DOCTYPE>, before the
 * internal subset is read and before any external subset could be loaded:
 * refusing here means no DTD and no entity is ever processed. */
static void ha_xml_doctype(void *ctx, const xmlChar *name,
		const xmlChar *external_id, const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	ha_load_t *ld = ctxt->_private;

	(void)name;
	(void)external_id;
	(void)system_id;
	ha_fail(ld, ctxt->input ? ctxt->input->line : 0,
			"DOCTYPE not allowed (no DTD, no entities)");
	xmlStopParser(ctxt);
}

/* Parse buf into a tree. Returns the document, or NULL with the error
 * recorded in ld. */
static xmlDocPtr ha_xml_parse(ha_load_t *ld, const char *buf, size_t len)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	ld->phase = HA_PH_PARSE;
	ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
	if(ctxt == NULL) {
		ha_oom(ld);
		return NULL;
	}
	/* no NOENT, DTDLOAD, DTDATTR or DTDVALID: entities stay unexpanded and
	 * no DTD is read; NONET in case anything still tried to fetch */
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_BIG_LINES);
	ctxt->_private = ld;
	ctxt->linenumbers = 1;
	ctxt->sax->internalSubset = ha_xml_doctype;
	ctxt->sax->externalSubset = NULL;

	xmlParseDocument(ctxt);

	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if(!ctxt->wellFormed || ld->failed || doc == NULL) {
		ha_fail(ld, ctxt->input ? ctxt->input->line : 0,
				"XML: not well-formed");
		if(doc != NULL)
			xmlFreeDoc(doc);
		doc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
}

/* Validate doc against the compiled-in schema. Returns 0, or -1 with the
 * error recorded in ld. */
static int ha_xml_validate(ha_load_t *ld, xmlDocPtr doc)
{
	xmlSchemaParserCtxtPtr pctxt;
	xmlSchemaValidCtxtPtr vctxt;
	xmlSchemaPtr schema;
	int rc;

	ld->phase = HA_PH_SCHEMA;
	pctxt = xmlSchemaNewMemParserCtxt(ha_xsd, (int)(sizeof(ha_xsd) - 1));
	if(pctxt == NULL)
		return ha_oom(ld);
	xmlSchemaSetParserStructuredErrors(pctxt, ha_xml_error, ld);
	schema = xmlSchemaParse(pctxt);
	xmlSchemaFreeParserCtxt(pctxt);
	/* After an error (out of memory: the schema itself is known good)
	 * libxml2 2.9 may return a half-built schema. Never validate with it,
	 * and do not free it either: xmlSchemaFree() crashes on it. Leaking it
	 * once memory has already run out beats crashing Kamailio. */
	if(schema == NULL || ld->failed)
		return ha_fail(ld, 0, "internal error: cannot compile the schema");

	ld->phase = HA_PH_VALIDATE;
	vctxt = xmlSchemaNewValidCtxt(schema);
	if(vctxt == NULL) {
		xmlSchemaFree(schema);
		return ha_oom(ld);
	}
	xmlSchemaSetValidStructuredErrors(vctxt, ha_xml_error, ld);
	rc = xmlSchemaValidateDoc(vctxt, doc);
	xmlSchemaFreeValidCtxt(vctxt);
	xmlSchemaFree(schema);
	if(rc != 0 || ld->failed)
		return ha_fail(ld, 0, "schema: validation failed");
	return 0;
}

static int ha_is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns == NULL
		   && xmlStrEqual(n->name, (const xmlChar *)name);
}

/* Value of the attribute name of node (no namespace). Returns 1 and a new
 * string in *val (xmlFree() it), 0 when the attribute is absent, -1 out of
 * memory. */
static int ha_attr(const xmlNode *node, const char *name, char **val)
{
	const xmlAttr *a;
	xmlChar *v;

	*val = NULL;
	for(a = node->properties; a != NULL; a = a->next) {
		if(a->ns == NULL && xmlStrEqual(a->name, (const xmlChar *)name))
			break;
	}
	if(a == NULL)
		return 0;
	v = a->children ? xmlNodeListGetString(node->doc, a->children, 1)
					: xmlStrdup((const xmlChar *)"");
	if(v == NULL)
		return -1;
	*val = (char *)v;
	return 1;
}

/* ---- building the configuration --------------------------------------- */

typedef struct ha_build
{
	ha_load_t *ld;
	const ha_cfg_defaults_t *defs;
	ha_cfg_t *cfg;
	ha_sset_t names;
	ha_sset_t domains;
} ha_build_t;

/* Read a duration attribute (what: "oos-check") into *ms, range-checked.
 * Returns 0 (also when absent: *ms unchanged) or -1 with the error in ld. */
static int ha_build_duration(ha_build_t *b, const xmlNode *node,
		const ha_cfg_pair_t *p, const char *what, int min, int max, int *ms)
{
	char q[HA_QUOTE_MAX + 4], lo[32], hi[32];
	char *v;
	int rc, val = 0;

	rc = ha_attr(node, what, &v);
	if(rc <= 0)
		return rc < 0 ? ha_oom(b->ld) : 0;
	rc = ha_duration_parse(v, &val);
	if(rc == -1) {
		ha_fail(b->ld, p->line, "pair '%s': bad duration '%s' for %s", p->name,
				HA_Q(v, q), what);
	} else if(rc == -2) {
		ha_fail(b->ld, p->line, "pair '%s': %s '%s' out of range (%s to %s)",
				p->name, what, HA_Q(v, q), ha_ms_text(min, lo, sizeof(lo)),
				ha_ms_text(max, hi, sizeof(hi)));
	} else if(val < min || val > max) {
		/* "20ms" and "301s" as written; a bare number gets its unit */
		size_t n = strlen(v);
		ha_fail(b->ld, p->line, "pair '%s': %s %s%s out of range (%s to %s)",
				p->name, what, HA_Q(v, q), v[n - 1] == 's' ? "" : "ms",
				ha_ms_text(min, lo, sizeof(lo)),
				ha_ms_text(max, hi, sizeof(hi)));
		rc = -1;
	} else {
		*ms = val;
	}
	xmlFree(v);
	return rc < 0 ? -1 : 0;
}

/* The member-trust attribute of a pair into p->member_trust: "any",
 * "transport" or "confirm" (absent: HA_CFG_TRUST_DEFAULT). Returns 0 or -1
 * with the error in ld (p unchanged). */
static int ha_build_trust(ha_build_t *b, const xmlNode *node, ha_cfg_pair_t *p)
{
	static const char *names[HA_CFG_TRUST_COUNT] = {
			[HA_CFG_TRUST_ANY] = "any",
			[HA_CFG_TRUST_TRANSPORT] = "transport",
			[HA_CFG_TRUST_CONFIRM] = "confirm",
	};
	char q[HA_QUOTE_MAX + 4];
	char *v;
	int rc, i;

	rc = ha_attr(node, "member-trust", &v);
	if(rc <= 0)
		return rc < 0 ? ha_oom(b->ld) : 0;
	for(i = HA_CFG_TRUST_ANY; i < HA_CFG_TRUST_COUNT; i++)
		if(strcmp(v, names[i]) == 0)
			break;
	if(i == HA_CFG_TRUST_COUNT) {
		ha_fail(b->ld, p->line,
				"pair '%s': bad member-trust '%s': confirm, transport or any",
				p->name, HA_Q(v, q));
		xmlFree(v);
		return -1;
	}
	p->member_trust = (ha_cfg_trust_t)i;
	xmlFree(v);
	return 0;
}

/* <primary> (idx 0) or <backup> (idx 1). Returns 0 or -1. */
static int ha_build_member(
		ha_build_t *b, const xmlNode *node, ha_cfg_pair_t *p, int idx)
{
	static const char *tag[2] = {"primary", "backup"};
	char q[HA_QUOTE_MAX + 4], why[HA_ERR_MAX];
	int line = ha_node_line(node);
	char *v;
	int rc;

	if(p->uri[idx] != NULL)
		return ha_fail(b->ld, line, "pair '%s': more than one <%s>", p->name,
				tag[idx]);
	rc = ha_attr(node, "uri", &v);
	if(rc < 0)
		return ha_oom(b->ld);
	if(rc == 0) /* the schema requires it */
		return ha_fail(
				b->ld, line, "pair '%s': <%s> without uri", p->name, tag[idx]);
	if(ha_uri_parse(v, &p->parsed[idx], why, sizeof(why)) < 0) {
		ha_fail(b->ld, line, "pair '%s': bad URI '%s': %s", p->name, HA_Q(v, q),
				why);
		xmlFree(v);
		return -1;
	}
	p->uri[idx] = strdup(v);
	xmlFree(v);
	if(p->uri[idx] == NULL)
		return ha_oom(b->ld);
	return 0;
}

/* <domain>: trimmed, a host name or address, unique in the file. p is pair
 * number pi. Returns 0 or -1. */
static int ha_build_domain(
		ha_build_t *b, const xmlNode *node, ha_cfg_pair_t *p, int pi)
{
	char q[HA_QUOTE_MAX + 4], why[HA_ERR_MAX];
	const ha_sset_ent_t *dup;
	int line = ha_node_line(node);
	ha_uri_t tmp;
	xmlChar *c;
	char *s, *d;
	size_t n;

	c = xmlNodeGetContent(node);
	if(c == NULL)
		return ha_oom(b->ld);
	s = (char *)c;
	while(ha_is_xml_space((unsigned char)*s))
		s++;
	n = strlen(s);
	while(n > 0 && ha_is_xml_space((unsigned char)s[n - 1]))
		n--;
	if(n == 0) {
		xmlFree(c);
		return ha_fail(b->ld, line, "pair '%s': empty <domain>", p->name);
	}
	memset(&tmp, 0, sizeof(tmp));
	if(ha_host_parse(s, n, &tmp, why, sizeof(why)) < 0) {
		ha_fail(b->ld, line, "pair '%s': bad domain '%s': %s", p->name,
				ha_quote(s, n, q), why);
		xmlFree(c);
		return -1;
	}
	d = malloc(n + 1);
	if(d == NULL) {
		xmlFree(c);
		return ha_oom(b->ld);
	}
	memcpy(d, s, n);
	d[n] = '\0';
	xmlFree(c);
	p->domains[p->ndomains++] = d; /* owned by cfg from here on */

	dup = ha_sset_put(&b->domains, d, line, pi);
	if(dup == NULL)
		return 0;
	if(dup->pair == pi)
		return ha_fail(b->ld, line,
				"pair '%s': domain '%s' listed twice (first at line %d)",
				p->name, HA_Q(d, q), dup->line);
	return ha_fail(b->ld, line,
			"pair '%s': domain '%s' already belongs to pair '%s' (line %d)",
			p->name, HA_Q(d, q), b->cfg->pairs[dup->pair].name, dup->line);
}

/* One <pair>, stored as b->cfg->pairs[b->cfg->npairs]. Returns 0 or -1. */
static int ha_build_pair(ha_build_t *b, const xmlNode *node)
{
	char q[HA_QUOTE_MAX + 4], why[HA_ERR_MAX];
	int pi = b->cfg->npairs;
	ha_cfg_pair_t *p = &b->cfg->pairs[pi];
	const ha_sset_ent_t *dup;
	const xmlNode *c;
	int ndom = 0, rc;
	char *v;

	/* counted now, so that ha_cfg_free() releases what the pair gets */
	b->cfg->npairs++;
	p->line = ha_node_line(node);
	p->oos_check_ms = b->defs->oos_check_ms;
	p->oos_force_ms = b->defs->oos_force_ms;

	rc = ha_attr(node, "name", &v);
	if(rc < 0)
		return ha_oom(b->ld);
	if(rc == 0) /* the schema requires it */
		return ha_fail(b->ld, p->line, "<pair> without name");
	if(!ha_name_valid(v)) {
		ha_fail(b->ld, p->line,
				"bad pair name '%s': 1 to 64 letters, digits, '-', '_' or '.'",
				HA_Q(v, q));
		xmlFree(v);
		return -1;
	}
	memcpy(p->name, v, strlen(v) + 1);
	xmlFree(v);
	dup = ha_sset_put(&b->names, p->name, p->line, pi);
	if(dup != NULL)
		return ha_fail(b->ld, p->line,
				"duplicate pair name '%s' (first defined at line %d)", p->name,
				dup->line);

	if(ha_build_duration(b, node, p, "oos-check", HA_CHECK_MIN_MS,
			   HA_CHECK_MAX_MS, &p->oos_check_ms)
			< 0)
		return -1;
	if(ha_build_duration(b, node, p, "oos-force", HA_FORCE_MIN_MS,
			   HA_FORCE_MAX_MS, &p->oos_force_ms)
			< 0)
		return -1;

	rc = ha_attr(node, "alive-codes", &v);
	if(rc < 0)
		return ha_oom(b->ld);
	if(rc > 0) {
		p->alive_codes = malloc(strlen(v) + 1);
		if(p->alive_codes == NULL) {
			xmlFree(v);
			return ha_oom(b->ld);
		}
		if(ha_codes_norm(v, p->alive_codes, why, sizeof(why)) < 0) {
			ha_fail(b->ld, p->line, "pair '%s': bad alive-codes '%s': %s",
					p->name, HA_Q(v, q), why);
			xmlFree(v);
			return -1;
		}
		xmlFree(v);
	}

	if(ha_build_trust(b, node, p) < 0)
		return -1;

	for(c = node->children; c != NULL; c = c->next) {
		if(ha_is_elem(c, "domain"))
			ndom++;
	}
	if(ndom > 0) {
		p->domains = calloc((size_t)ndom, sizeof(char *));
		if(p->domains == NULL)
			return ha_oom(b->ld);
	}

	for(c = node->children; c != NULL; c = c->next) {
		if(c->type != XML_ELEMENT_NODE)
			continue; /* comments, blanks: the schema vetted text */
		if(ha_is_elem(c, "primary"))
			rc = ha_build_member(b, c, p, 0);
		else if(ha_is_elem(c, "backup"))
			rc = ha_build_member(b, c, p, 1);
		else if(ha_is_elem(c, "domain"))
			rc = ha_build_domain(b, c, p, pi);
		else
			rc = ha_fail(b->ld, ha_node_line(c),
					"pair '%s': unexpected element <%s>", p->name,
					HA_Q((const char *)c->name, q));
		if(rc < 0)
			return -1;
	}

	if(p->uri[0] == NULL)
		return ha_fail(b->ld, p->line, "pair '%s': missing <primary>", p->name);
	if(p->uri[1] == NULL)
		return ha_fail(b->ld, p->line, "pair '%s': missing <backup>", p->name);
	if(ha_uri_same(&p->parsed[0], &p->parsed[1]))
		return ha_fail(b->ld, p->line,
				"pair '%s': primary and backup have the same URI '%s'", p->name,
				HA_Q(p->uri[0], q));
	return 0;
}

/* Walk the validated tree into a new configuration. Returns 0 and *out, or
 * -1 with the error in ld and nothing allocated. */
static int ha_build_cfg(ha_load_t *ld, xmlDocPtr doc,
		const ha_cfg_defaults_t *defs, ha_cfg_t **out)
{
	ha_build_t b;
	const xmlNode *root, *c, *d;
	size_t np = 0, nd = 0;

	memset(&b, 0, sizeof(b));
	b.ld = ld;
	b.defs = defs;
	ld->phase = HA_PH_BUILD;
	root = xmlDocGetRootElement(doc);
	if(root == NULL || !ha_is_elem(root, "ha_pairs"))
		return ha_fail(
				ld, ha_node_line(root), "root element is not <ha_pairs>");

	for(c = root->children; c != NULL; c = c->next) {
		if(!ha_is_elem(c, "pair"))
			continue;
		np++;
		for(d = c->children; d != NULL; d = d->next) {
			if(ha_is_elem(d, "domain"))
				nd++;
		}
	}
	if(np > INT_MAX)
		return ha_fail(ld, 0, "too many pairs");

	b.cfg = calloc(1, sizeof(*b.cfg));
	if(b.cfg == NULL)
		return ha_oom(ld);
	if(np > 0) {
		b.cfg->pairs = calloc(np, sizeof(*b.cfg->pairs));
		if(b.cfg->pairs == NULL)
			goto oom;
	}
	if(ha_sset_init(&b.names, np, 0) < 0 || ha_sset_init(&b.domains, nd, 1) < 0)
		goto oom;

	for(c = root->children; c != NULL; c = c->next) {
		if(c->type != XML_ELEMENT_NODE)
			continue;
		if(!ha_is_elem(c, "pair")) {
			ha_fail(ld, ha_node_line(c), "unexpected element <%s>",
					(const char *)c->name);
			goto error;
		}
		if(ha_build_pair(&b, c) < 0)
			goto error;
	}
	ha_sset_free(&b.names);
	ha_sset_free(&b.domains);
	*out = b.cfg;
	return 0;

oom:
	ha_oom(ld);
error:
	ha_sset_free(&b.names);
	ha_sset_free(&b.domains);
	ha_cfg_free(b.cfg);
	return -1;
}

/* ---- public entry points ----------------------------------------------- */

void ha_cfg_free(ha_cfg_t *cfg)
{
	int i, j;

	if(cfg == NULL)
		return;
	for(i = 0; i < cfg->npairs; i++) {
		ha_cfg_pair_t *p = &cfg->pairs[i];
		free(p->uri[0]);
		free(p->uri[1]);
		free(p->alive_codes);
		for(j = 0; j < p->ndomains; j++)
			free(p->domains[j]);
		free(p->domains);
	}
	free(cfg->pairs);
	free(cfg);
}

int ha_cfg_load_mem(const char *buf, size_t len, const char *name,
		const ha_cfg_defaults_t *defs, ha_cfg_t **out, char *err, size_t errlen)
{
	static const ha_cfg_defaults_t builtin = {5000, 5000};
	xmlGenericErrorFunc old_generic;
	xmlStructuredErrorFunc old_structured;
	void *old_generic_ctx, *old_structured_ctx;
	ha_load_t ld;
	xmlDocPtr doc;
	int rc = -1;

	if(ha_load_begin(&ld, name ? name : "(memory)", out, err, errlen) < 0)
		return -1;
	if(defs == NULL)
		defs = &builtin;
	if(buf == NULL || len == 0)
		return ha_fail(&ld, 0, "empty file");
	if(len > HA_FILE_MAX_BYTES)
		return ha_fail(&ld, 0, "file too large (more than %d bytes)",
				HA_FILE_MAX_BYTES);

	xmlInitParser();
	/* libxml2 reports some errors through these globals whatever the
	 * context says: route them to us for the duration of the load, then
	 * give back what was there */
	old_generic = xmlGenericError;
	old_generic_ctx = xmlGenericErrorContext;
	old_structured = xmlStructuredError;
	old_structured_ctx = xmlStructuredErrorContext;
	xmlSetGenericErrorFunc(NULL, ha_xml_silent);
	xmlSetStructuredErrorFunc(&ld, ha_xml_error);

	doc = ha_xml_parse(&ld, buf, len);
	if(doc != NULL) {
		if(ha_xml_validate(&ld, doc) == 0)
			rc = ha_build_cfg(&ld, doc, defs, out);
		xmlFreeDoc(doc);
	}

	xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
	xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
	return rc;
}

/* Read a whole regular file of at most HA_FILE_MAX_BYTES into a new buffer.
 * Returns 0 with *buf (free() it) and *len > 0, or -1 with the error in ld
 * (line 0) and nothing allocated. */
static int ha_read_file(
		ha_load_t *ld, const char *path, char **buf, size_t *len)
{
	struct stat st;
	size_t want, got = 0;
	char *b;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if(fd < 0)
		return ha_fail(ld, 0, "%s", strerror(errno));
	if(fstat(fd, &st) < 0) {
		ha_fail(ld, 0, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if(!S_ISREG(st.st_mode)) {
		close(fd);
		return ha_fail(ld, 0, "not a regular file");
	}
	if(st.st_size > HA_FILE_MAX_BYTES) {
		close(fd);
		return ha_fail(ld, 0, "file too large (more than %d bytes)",
				HA_FILE_MAX_BYTES);
	}
	if(st.st_size == 0) {
		close(fd);
		return ha_fail(ld, 0, "empty file");
	}
	want = (size_t)st.st_size;
	b = malloc(want);
	if(b == NULL) {
		close(fd);
		return ha_oom(ld);
	}
	while(got < want) {
		ssize_t r = read(fd, b + got, want - got);
		if(r < 0 && errno == EINTR)
			continue;
		if(r < 0) {
			ha_fail(ld, 0, "%s", strerror(errno));
			free(b);
			close(fd);
			return -1;
		}
		if(r == 0)
			break; /* shrunk while we read: parse what is there */
		got += (size_t)r;
	}
	close(fd);
	if(got == 0) {
		free(b);
		return ha_fail(ld, 0, "empty file");
	}
	*buf = b;
	*len = got;
	return 0;
}

int ha_cfg_load(const char *path, const ha_cfg_defaults_t *defs, ha_cfg_t **out,
		char *err, size_t errlen)
{
	ha_load_t ld;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if(ha_load_begin(&ld, path ? path : "(null)", out, err, errlen) < 0)
		return -1;
	if(path == NULL || path[0] == '\0')
		return ha_fail(&ld, 0, "no pairs file given");
	if(ha_read_file(&ld, path, &buf, &len) < 0)
		return -1;
	rc = ha_cfg_load_mem(buf, len, path, defs, out, err, errlen);
	free(buf);
	return rc;
}
