/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_uri.c - member URIs of ha_pair: the transport table, host names and
 * addresses, and sip:/sips: URIs taken apart step by step (pure). */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <string.h>

#include "ha_uri.h"
#include "ha_text.h"

const ha_transport_info_t ha_transports[HA_TR_COUNT] = {
		[HA_TR_UDP] = {"udp", "UDP", "_sip._udp.", 5060},
		[HA_TR_TCP] = {"tcp", "TCP", "_sip._tcp.", 5060},
		[HA_TR_TLS] = {"tls", "TLS", "_sips._tcp.", 5061},
};

/* ---- hosts ------------------------------------------------------------- */

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

/* "[IPv6]" (n >= 1, h[0] == '['): as ha_host_parse(). */
static int ha_host_parse_ipv6(
		const char *h, size_t n, ha_uri_t *u, char *err, size_t errlen)
{
	char q[HA_QUOTE_MAX + 4];
	char tmp[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;

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

int ha_host_parse(
		const char *h, size_t n, ha_uri_t *u, char *err, size_t errlen)
{
	char q[HA_QUOTE_MAX + 4];
	size_t i;
	int digits_dots = 1;

	if(n == 0) {
		ha_seterr(err, errlen, "missing host");
		return -1;
	}
	if(h[0] == '[')
		return ha_host_parse_ipv6(h, n, u, err, errlen);
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

/* ---- URIs: one step each, *p moving on ---------------------------------- */

/* Not empty, no blanks, printable ASCII only. Returns 0 or -1. */
static int ha_uri_check_chars(const char *s, char *err, size_t errlen)
{
	size_t i;

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
	return 0;
}

/* "sip:" or "sips:" (r->secure), then an optional "user@"; no headers.
 * Returns 0 with *p at the host, or -1. */
static int ha_uri_scheme_user(
		const char **p, ha_uri_t *r, char *err, size_t errlen)
{
	const char *s = *p, *at;

	if(ha_ncase_eq(s, 4, "sip:")) {
		s += 4;
	} else if(ha_ncase_eq(s, 5, "sips:")) {
		s += 5;
		r->secure = 1;
	} else {
		ha_seterr(err, errlen, "scheme must be sip: or sips:");
		return -1;
	}
	at = strchr(s, '@');
	if(at != NULL) {
		if(at == s) {
			ha_seterr(err, errlen, "empty user part before '@'");
			return -1;
		}
		s = at + 1;
	}
	if(strchr(s, '?') != NULL) {
		ha_seterr(err, errlen, "headers ('?') are not allowed in a member URI");
		return -1;
	}
	*p = s;
	return 0;
}

/* The host at *p, up to ']' (IPv6) or to ':' or ';'. Returns 0 with *p
 * after it, or -1. */
static int ha_uri_host(const char **p, ha_uri_t *r, char *err, size_t errlen)
{
	char q[HA_QUOTE_MAX + 4];
	const char *s = *p, *hend;

	if(*s == '[') {
		hend = strchr(s, ']');
		if(hend == NULL) {
			ha_seterr(err, errlen, "bad IPv6 address '%s': missing ']'",
					HA_Q(s, q));
			return -1;
		}
		hend++;
	} else {
		const char *c1 = strchr(s, ':');
		hend = s + strcspn(s, ":;");
		if(c1 != NULL && c1 == hend
				&& memchr(c1 + 1, ':', strcspn(c1 + 1, ";"))) {
			ha_seterr(err, errlen,
					"an IPv6 address needs brackets: sip:[2001:db8::1]:5060");
			return -1;
		}
	}
	if(ha_host_parse(s, (size_t)(hend - s), r, err, errlen) < 0)
		return -1;
	*p = hend;
	return 0;
}

/* An optional ":port" (1..65535), then the end or ';'. Returns 0 with *p
 * after it, or -1. */
static int ha_uri_port_part(
		const char **p, ha_uri_t *r, char *err, size_t errlen)
{
	char q[HA_QUOTE_MAX + 4];
	const char *s = *p;
	size_t i;

	if(*s == ':') {
		const char *ps = ++s;
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
		r->port = (int)port;
		s = ps + plen;
	}
	if(*s != '\0' && *s != ';') {
		ha_seterr(err, errlen, "unexpected '%c' after the host", *s);
		return -1;
	}
	*p = s;
	return 0;
}

/* The value val[0..vlen) of a transport= parameter (val NULL: none) into
 * r. Returns 0 or -1. */
static int ha_uri_transport(
		const char *val, size_t vlen, ha_uri_t *r, char *err, size_t errlen)
{
	char q[HA_QUOTE_MAX + 4];
	int t;

	if(r->transport_set) {
		ha_seterr(err, errlen, "transport given twice");
		return -1;
	}
	for(t = 0; t < HA_TR_COUNT; t++) {
		if(val != NULL && ha_ncase_eq(val, vlen, ha_transports[t].name))
			break;
	}
	if(t == HA_TR_COUNT) {
		ha_seterr(err, errlen, "unsupported transport '%s' (udp, tcp or tls)",
				val ? ha_quote(val, vlen, q) : "");
		return -1;
	}
	r->transport = (ha_transport_t)t;
	r->transport_set = 1;
	return 0;
}

/* ";name[=value]" parameters to the end of p: only transport means
 * something to us. Returns 0 or -1. */
static int ha_uri_params(const char *p, ha_uri_t *r, char *err, size_t errlen)
{
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
		if(ha_ncase_eq(name, nlen, "transport")
				&& ha_uri_transport(val, vlen, r, err, errlen) < 0)
			return -1;
		p += plen;
	}
	return 0;
}

int ha_uri_parse(const char *s, ha_uri_t *u, char *err, size_t errlen)
{
	ha_uri_t r;
	const char *p = s;

	if(s == NULL || u == NULL) {
		ha_seterr(err, errlen, "no URI");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	if(ha_uri_check_chars(s, err, errlen) < 0
			|| ha_uri_scheme_user(&p, &r, err, errlen) < 0
			|| ha_uri_host(&p, &r, err, errlen) < 0
			|| ha_uri_port_part(&p, &r, err, errlen) < 0
			|| ha_uri_params(p, &r, err, errlen) < 0)
		return -1;
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

int ha_uri_port(const ha_uri_t *u)
{
	return u->port ? u->port : ha_transports[u->transport].port;
}

int ha_uri_same(const ha_uri_t *a, const ha_uri_t *b)
{
	int pa = a->port, pb = b->port;

	if(a->transport != b->transport || a->is_ipv6 != b->is_ipv6)
		return 0;
	if(a->is_ip)
		pa = ha_uri_port(a);
	if(b->is_ip)
		pb = ha_uri_port(b);
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
