/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_text.h - ASCII character classes, quoting of user text and error
 * formatting shared by the pure parsers of ha_pair (no Kamailio headers). */

#ifndef _HA_TEXT_H_
#define _HA_TEXT_H_

#include <stddef.h>

#if defined(__GNUC__)
#define HA_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define HA_PRINTF(f, a)
#endif

/* Longest piece of user text quoted in a message, so that one absurd
 * attribute cannot push the rest of the message out of the buffer. A quote
 * buffer holds HA_QUOTE_MAX + 4 bytes. */
#define HA_QUOTE_MAX 80

/* ASCII only: the results must not depend on the process locale. */
static inline int ha_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline int ha_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int ha_is_alnum(int c)
{
	return ha_is_alpha(c) || ha_is_digit(c);
}

static inline int ha_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static inline int ha_is_xml_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Case-insensitive (ASCII) comparison of n bytes of a with the
 * NUL-terminated b; true when they are equal and b has exactly n bytes. */
int ha_ncase_eq(const char *a, size_t n, const char *b);

/* Both NUL-terminated, equal but for ASCII case. */
int ha_case_eq(const char *a, const char *b);

/* Format into err (which may be NULL or of size 0); can't fail. */
void ha_seterr(char *err, size_t errlen, const char *fmt, ...) HA_PRINTF(3, 4);

/* Copy at most HA_QUOTE_MAX bytes of s[0..n) into buf for quoting in a
 * message: control and non-ASCII bytes become '?', a longer text ends in
 * "...". buf must hold HA_QUOTE_MAX + 4 bytes. Returns buf; can't fail. */
const char *ha_quote(const char *s, size_t n, char *buf);

#define HA_Q(s, buf) ha_quote((s), strlen(s), (buf))

#endif
