/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_text.c - ASCII comparisons, quoting of user text and error formatting
 * for the pure parsers of ha_pair (pairs file, URIs, alive-codes), and
 * printable copies of a peer's text for log lines. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ha_text.h"

int ha_ncase_eq(const char *a, size_t n, const char *b)
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

int ha_case_eq(const char *a, const char *b)
{
	return ha_ncase_eq(a, strlen(a), b);
}

void ha_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if(err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *ha_quote(const char *s, size_t n, char *buf)
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

/* The escape of byte c into e (at most 4 bytes); returns its length. */
static size_t printable_esc(unsigned char c, char *e)
{
	static const char hex[] = "0123456789abcdef";
	const char *two = NULL;

	switch(c) {
		case '\\':
			two = "\\\\";
			break;
		case '\n':
			two = "\\n";
			break;
		case '\r':
			two = "\\r";
			break;
		case '\t':
			two = "\\t";
			break;
		default:
			break;
	}
	if(two != NULL) {
		memcpy(e, two, 2);
		return 2;
	}
	if(c >= 0x20 && c < 0x7f) {
		e[0] = (char)c;
		return 1;
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 0xf];
	return 4;
}

const char *ha_printable(const char *s, size_t n, char *buf, size_t size)
{
	char e[4];
	size_t i, o = 0, k, all = 0, room;

	if(size == 0)
		return "";
	for(i = 0; i < n; i++)
		all += printable_esc((unsigned char)s[i], e);
	/* cut: leave room for "..." (when there is any to leave) */
	room = size - 1;
	if(all > room && room >= 3)
		room -= 3;
	for(i = 0; i < n; i++) {
		k = printable_esc((unsigned char)s[i], e);
		if(o + k > room)
			break;
		memcpy(buf + o, e, k);
		o += k;
	}
	if(i < n && size >= 4) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}
