/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_text.c - ASCII comparisons, quoting of user text and error formatting
 * for the pure parsers of ha_pair (pairs file, URIs, alive-codes). */

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
