/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_codes.c - the alive-codes grammar of ha_pair: reading one item, a
 * list checked and normalised for the pairs file, and a list parsed into
 * the set of codes the state machine tests replies against (pure). */

#include <string.h>

#include "ha_codes.h"
#include "ha_text.h"

static int ha_codes_blank(int c)
{
	return c == ' ' || c == '\t';
}

int ha_codes_next(const char **p, ha_codes_item_t *it, char *why, size_t wlen)
{
	char q[HA_QUOTE_MAX + 4];
	const char *s = *p, *b, *e;

	while(ha_codes_blank(*s))
		s++;
	b = s;
	while(*s != '\0' && *s != ',')
		s++;
	e = s;
	while(e > b && ha_codes_blank(e[-1]))
		e--;
	if(e == b) {
		ha_seterr(why, wlen, "empty item");
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
	it->text[0] = b[0];
	it->text[1] = (char)ha_lower((unsigned char)b[1]);
	it->text[2] = (char)ha_lower((unsigned char)b[2]);
	it->text[3] = '\0';
	it->lo = (b[0] - '0') * 100;
	if(it->text[1] == 'x') {
		it->hi = it->lo + 99;
	} else {
		it->lo += (b[1] - '0') * 10 + (b[2] - '0');
		it->hi = it->lo;
	}
	if(*s == '\0') {
		*p = s;
		return 0;
	}
	*p = s + 1; /* ',' */
	return 1;
}

int ha_codes_norm(const char *s, char *out, char *why, size_t wlen)
{
	ha_codes_item_t it;
	const char *p = s;
	char *o = out;
	int more;

	if(*s == '\0') {
		ha_seterr(why, wlen, "empty list");
		return -1;
	}
	do {
		more = ha_codes_next(&p, &it, why, wlen);
		if(more < 0)
			return -1;
		if(o != out)
			*o++ = ',';
		memcpy(o, it.text, 3);
		o += 3;
	} while(more);
	*o = '\0';
	return 0;
}

static void codes_set(ha_codes_t *c, int code)
{
	int i = code - 100;
	c->bits[i / 32] |= 1u << (i % 32);
}

int ha_codes_parse(const char *s, ha_codes_t *c)
{
	ha_codes_item_t it;
	const char *p = s;
	int code, more;

	memset(c, 0, sizeof(*c));
	c->any = 1;
	if(s == NULL || *s == '\0')
		return 0;
	c->any = 0;
	do {
		more = ha_codes_next(&p, &it, NULL, 0);
		if(more < 0) {
			memset(c, 0, sizeof(*c));
			c->any = 1;
			return -1;
		}
		for(code = it.lo; code <= it.hi; code++)
			codes_set(c, code);
	} while(more);
	return 0;
}

int ha_codes_alive(const ha_codes_t *c, int code)
{
	int i;

	if(code < 200 || code > 699)
		return 0;
	if(c->any)
		return 1;
	i = code - 100;
	return (c->bits[i / 32] >> (i % 32)) & 1u;
}
