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

/* The size of a buffer that holds ha_printable()'s copy of n bytes whole
 * (each byte at most \xHH, and the NUL). */
#define HA_PRINTABLE_SIZE(n) (4 * (n) + 1)

/* Write a printable copy of s[0..n) into buf (size bytes with its NUL) for
 * a log line, so that text a peer chose (a pool message's pair name,
 * origin, member URI: JSON lets it carry any control character) cannot
 * forge or hide lines: printable ASCII as it is, a backslash doubled,
 * \n \r \t as those escapes, every other byte (controls, DEL, non-ASCII)
 * as \xHH. A copy that does not fit is cut at a whole escape and ends in
 * "..." (when size >= 4). Returns buf ("" for size 0: a static empty
 * string); can't fail. */
const char *ha_printable(const char *s, size_t n, char *buf, size_t size);

/* ha_printable() of the NUL-terminated s into the array buf. */
#define HA_PR(s, buf) ha_printable((s), strlen(s), (buf), sizeof(buf))

/* A printable copy of the NUL-terminated s (a field of at most max bytes,
 * read up to max) in a buffer of the enclosing block (a compound literal),
 * for an argument of a log line: LM_DBG("%s", HA_LOG_STR(m->origin,
 * HA_ORIGIN_MAX)). Kamailio's LM_* evaluate their arguments only when the
 * line is written. */
#define HA_LOG_STR(s, max)                                                    \
	ha_printable((s), strnlen((s), (max)), (char[HA_PRINTABLE_SIZE(max)]){0}, \
			HA_PRINTABLE_SIZE(max))

#endif
