/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_config.c - the pairs file of ha_pair turned into a configuration: pair
 * names, durations, and the walk of the validated tree that builds every
 * pair by the rules of docs/ha_pair.md, The pairs file (pure; libxml2 through ha_xml.c). */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "ha_config.h"
#include "ha_codes.h"
#include "ha_hash.h"
#include "ha_text.h"
#include "ha_uri.h"
#include "ha_xml.h"

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

/* "50 ms" or "300 s", for the range messages. */
static const char *ha_ms_text(int ms, char *buf, size_t len)
{
	if(ms >= 1000 && ms % 1000 == 0)
		snprintf(buf, len, "%d s", ms / 1000);
	else
		snprintf(buf, len, "%d ms", ms);
	return buf;
}

/* ---- pair names, durations -------------------------------------------- */

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
	unsigned int h = ha_fnv1a(key, strlen(key), s->icase);
	size_t i;

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

/* ---- building the configuration --------------------------------------- */

typedef struct ha_build
{
	ha_loading_t *ld;
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

	rc = ha_xml_attr(node, what, &v);
	if(rc <= 0)
		return rc < 0 ? ha_xml_oom(b->ld) : 0;
	rc = ha_duration_parse(v, &val);
	if(rc == -1) {
		ha_xml_fail(b->ld, p->line, "pair '%s': bad duration '%s' for %s",
				p->name, HA_Q(v, q), what);
	} else if(rc == -2) {
		ha_xml_fail(b->ld, p->line,
				"pair '%s': %s '%s' out of range (%s to %s)", p->name, what,
				HA_Q(v, q), ha_ms_text(min, lo, sizeof(lo)),
				ha_ms_text(max, hi, sizeof(hi)));
	} else if(val < min || val > max) {
		/* "20ms" and "301s" as written; a bare number gets its unit */
		size_t n = strlen(v);
		ha_xml_fail(b->ld, p->line,
				"pair '%s': %s %s%s out of range (%s to %s)", p->name, what,
				HA_Q(v, q), v[n - 1] == 's' ? "" : "ms",
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

	rc = ha_xml_attr(node, "member-trust", &v);
	if(rc <= 0)
		return rc < 0 ? ha_xml_oom(b->ld) : 0;
	for(i = HA_CFG_TRUST_ANY; i < HA_CFG_TRUST_COUNT; i++)
		if(strcmp(v, names[i]) == 0)
			break;
	if(i == HA_CFG_TRUST_COUNT) {
		ha_xml_fail(b->ld, p->line,
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
	int line = ha_xml_node_line(node);
	char *v;
	int rc;

	if(p->uri[idx] != NULL)
		return ha_xml_fail(b->ld, line, "pair '%s': more than one <%s>",
				p->name, tag[idx]);
	rc = ha_xml_attr(node, "uri", &v);
	if(rc < 0)
		return ha_xml_oom(b->ld);
	if(rc == 0) /* the schema requires it */
		return ha_xml_fail(
				b->ld, line, "pair '%s': <%s> without uri", p->name, tag[idx]);
	if(ha_uri_parse(v, &p->parsed[idx], why, sizeof(why)) < 0) {
		ha_xml_fail(b->ld, line, "pair '%s': bad URI '%s': %s", p->name,
				HA_Q(v, q), why);
		xmlFree(v);
		return -1;
	}
	p->uri[idx] = strdup(v);
	xmlFree(v);
	if(p->uri[idx] == NULL)
		return ha_xml_oom(b->ld);
	return 0;
}

/* <domain>: trimmed, a host name or address, unique in the file. p is pair
 * number pi. Returns 0 or -1. */
static int ha_build_domain(
		ha_build_t *b, const xmlNode *node, ha_cfg_pair_t *p, int pi)
{
	char q[HA_QUOTE_MAX + 4], why[HA_ERR_MAX];
	const ha_sset_ent_t *dup;
	int line = ha_xml_node_line(node);
	ha_uri_t tmp;
	xmlChar *c;
	char *s, *d;
	size_t n;

	c = xmlNodeGetContent(node);
	if(c == NULL)
		return ha_xml_oom(b->ld);
	s = (char *)c;
	while(ha_is_xml_space((unsigned char)*s))
		s++;
	n = strlen(s);
	while(n > 0 && ha_is_xml_space((unsigned char)s[n - 1]))
		n--;
	if(n == 0) {
		xmlFree(c);
		return ha_xml_fail(b->ld, line, "pair '%s': empty <domain>", p->name);
	}
	memset(&tmp, 0, sizeof(tmp));
	if(ha_host_parse(s, n, &tmp, why, sizeof(why)) < 0) {
		ha_xml_fail(b->ld, line, "pair '%s': bad domain '%s': %s", p->name,
				ha_quote(s, n, q), why);
		xmlFree(c);
		return -1;
	}
	d = malloc(n + 1);
	if(d == NULL) {
		xmlFree(c);
		return ha_xml_oom(b->ld);
	}
	memcpy(d, s, n);
	d[n] = '\0';
	xmlFree(c);
	p->domains[p->ndomains++] = d; /* owned by cfg from here on */

	dup = ha_sset_put(&b->domains, d, line, pi);
	if(dup == NULL)
		return 0;
	if(dup->pair == pi)
		return ha_xml_fail(b->ld, line,
				"pair '%s': domain '%s' listed twice (first at line %d)",
				p->name, HA_Q(d, q), dup->line);
	return ha_xml_fail(b->ld, line,
			"pair '%s': domain '%s' already belongs to pair '%s' (line %d)",
			p->name, HA_Q(d, q), b->cfg->pairs[dup->pair].name, dup->line);
}

/* The name attribute of the pair at p (number pi): valid, and unique in
 * the file. Returns 0 or -1. */
static int ha_build_name(
		ha_build_t *b, const xmlNode *node, ha_cfg_pair_t *p, int pi)
{
	char q[HA_QUOTE_MAX + 4];
	const ha_sset_ent_t *dup;
	char *v;
	int rc;

	rc = ha_xml_attr(node, "name", &v);
	if(rc < 0)
		return ha_xml_oom(b->ld);
	if(rc == 0) /* the schema requires it */
		return ha_xml_fail(b->ld, p->line, "<pair> without name");
	if(!ha_name_valid(v)) {
		ha_xml_fail(b->ld, p->line,
				"bad pair name '%s': 1 to 64 letters, digits, '-', '_' or '.'",
				HA_Q(v, q));
		xmlFree(v);
		return -1;
	}
	memcpy(p->name, v, strlen(v) + 1);
	xmlFree(v);
	dup = ha_sset_put(&b->names, p->name, p->line, pi);
	if(dup != NULL)
		return ha_xml_fail(b->ld, p->line,
				"duplicate pair name '%s' (first defined at line %d)", p->name,
				dup->line);
	return 0;
}

/* The alive-codes attribute, normalised into p->alive_codes (absent:
 * NULL, the module default). Returns 0 or -1. */
static int ha_build_codes(ha_build_t *b, const xmlNode *node, ha_cfg_pair_t *p)
{
	char q[HA_QUOTE_MAX + 4], why[HA_ERR_MAX];
	char *v;
	int rc;

	rc = ha_xml_attr(node, "alive-codes", &v);
	if(rc <= 0)
		return rc < 0 ? ha_xml_oom(b->ld) : 0;
	p->alive_codes = malloc(strlen(v) + 1);
	if(p->alive_codes == NULL) {
		xmlFree(v);
		return ha_xml_oom(b->ld);
	}
	if(ha_codes_norm(v, p->alive_codes, why, sizeof(why)) < 0) {
		ha_xml_fail(b->ld, p->line, "pair '%s': bad alive-codes '%s': %s",
				p->name, HA_Q(v, q), why);
		xmlFree(v);
		return -1;
	}
	xmlFree(v);
	return 0;
}

/* The attributes of <pair> node into p (number pi): name, durations,
 * alive-codes, member-trust. Returns 0 or -1. */
static int ha_build_attrs(
		ha_build_t *b, const xmlNode *node, ha_cfg_pair_t *p, int pi)
{
	if(ha_build_name(b, node, p, pi) < 0)
		return -1;
	if(ha_build_duration(b, node, p, "oos-check", HA_CHECK_MIN_MS,
			   HA_CHECK_MAX_MS, &p->oos_check_ms)
			< 0)
		return -1;
	if(ha_build_duration(b, node, p, "oos-force", HA_FORCE_MIN_MS,
			   HA_FORCE_MAX_MS, &p->oos_force_ms)
			< 0)
		return -1;
	if(ha_build_codes(b, node, p) < 0)
		return -1;
	return ha_build_trust(b, node, p);
}

/* The children of <pair> node: <primary>, <backup>, <domain>s (room for
 * these made first). Returns 0 or -1. */
static int ha_build_children(
		ha_build_t *b, const xmlNode *node, ha_cfg_pair_t *p, int pi)
{
	char q[HA_QUOTE_MAX + 4];
	const xmlNode *c;
	int ndom = 0, rc;

	for(c = node->children; c != NULL; c = c->next) {
		if(ha_xml_is_elem(c, "domain"))
			ndom++;
	}
	if(ndom > 0) {
		p->domains = calloc((size_t)ndom, sizeof(char *));
		if(p->domains == NULL)
			return ha_xml_oom(b->ld);
	}

	for(c = node->children; c != NULL; c = c->next) {
		if(c->type != XML_ELEMENT_NODE)
			continue; /* comments, blanks: the schema vetted text */
		if(ha_xml_is_elem(c, "primary"))
			rc = ha_build_member(b, c, p, 0);
		else if(ha_xml_is_elem(c, "backup"))
			rc = ha_build_member(b, c, p, 1);
		else if(ha_xml_is_elem(c, "domain"))
			rc = ha_build_domain(b, c, p, pi);
		else
			rc = ha_xml_fail(b->ld, ha_xml_node_line(c),
					"pair '%s': unexpected element <%s>", p->name,
					HA_Q((const char *)c->name, q));
		if(rc < 0)
			return -1;
	}
	return 0;
}

/* One <pair>, stored as b->cfg->pairs[b->cfg->npairs]. Returns 0 or -1. */
static int ha_build_pair(ha_build_t *b, const xmlNode *node)
{
	char q[HA_QUOTE_MAX + 4];
	int pi = b->cfg->npairs;
	ha_cfg_pair_t *p = &b->cfg->pairs[pi];

	/* counted now, so that ha_cfg_free() releases what the pair gets */
	b->cfg->npairs++;
	p->line = ha_xml_node_line(node);
	p->oos_check_ms = b->defs->oos_check_ms;
	p->oos_force_ms = b->defs->oos_force_ms;

	if(ha_build_attrs(b, node, p, pi) < 0
			|| ha_build_children(b, node, p, pi) < 0)
		return -1;
	if(p->uri[0] == NULL)
		return ha_xml_fail(
				b->ld, p->line, "pair '%s': missing <primary>", p->name);
	if(p->uri[1] == NULL)
		return ha_xml_fail(
				b->ld, p->line, "pair '%s': missing <backup>", p->name);
	if(ha_uri_same(&p->parsed[0], &p->parsed[1]))
		return ha_xml_fail(b->ld, p->line,
				"pair '%s': primary and backup have the same URI '%s'", p->name,
				HA_Q(p->uri[0], q));
	return 0;
}

/* Walk the validated tree into a new configuration. Returns 0 and *out, or
 * -1 with the error in ld and nothing allocated. */
static int ha_build_cfg(ha_loading_t *ld, xmlDocPtr doc,
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
	if(root == NULL || !ha_xml_is_elem(root, "ha_pairs"))
		return ha_xml_fail(
				ld, ha_xml_node_line(root), "root element is not <ha_pairs>");

	for(c = root->children; c != NULL; c = c->next) {
		if(!ha_xml_is_elem(c, "pair"))
			continue;
		np++;
		for(d = c->children; d != NULL; d = d->next) {
			if(ha_xml_is_elem(d, "domain"))
				nd++;
		}
	}
	if(np > INT_MAX)
		return ha_xml_fail(ld, 0, "too many pairs");

	b.cfg = calloc(1, sizeof(*b.cfg));
	if(b.cfg == NULL)
		return ha_xml_oom(ld);
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
		if(!ha_xml_is_elem(c, "pair")) {
			ha_xml_fail(ld, ha_xml_node_line(c), "unexpected element <%s>",
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
	ha_xml_oom(ld);
error:
	ha_sset_free(&b.names);
	ha_sset_free(&b.domains);
	ha_cfg_free(b.cfg);
	return -1;
}

/* ---- public entry points ----------------------------------------------- */

static void *libc_alloc(size_t size)
{
	return malloc(size);
}

static void libc_release(void *ptr)
{
	free(ptr);
}

const ha_alloc_t ha_alloc_libc = {libc_alloc, libc_release};

void ha_cfg_release(ha_cfg_t *cfg, const ha_alloc_t *a)
{
	int i, j;

	if(cfg == NULL)
		return;
	for(i = 0; i < cfg->npairs; i++) {
		ha_cfg_pair_t *p = &cfg->pairs[i];
		/* a copy cut short by a failed allocation has NULLs */
		if(p->uri[0])
			a->release(p->uri[0]);
		if(p->uri[1])
			a->release(p->uri[1]);
		if(p->alive_codes)
			a->release(p->alive_codes);
		for(j = 0; j < p->ndomains; j++)
			if(p->domains[j])
				a->release(p->domains[j]);
		if(p->domains)
			a->release(p->domains);
	}
	if(cfg->pairs)
		a->release(cfg->pairs);
	a->release(cfg);
}

void ha_cfg_free(ha_cfg_t *cfg)
{
	ha_cfg_release(cfg, &ha_alloc_libc);
}

/* A copy of s (NULL: NULL) in a's memory into *dst. Returns 0, or -1 when
 * out of memory. */
static int cfg_strdup(char **dst, const char *s, const ha_alloc_t *a)
{
	size_t n;

	*dst = NULL;
	if(s == NULL)
		return 0;
	n = strlen(s) + 1;
	*dst = a->alloc(n);
	if(*dst == NULL)
		return -1;
	memcpy(*dst, s, n);
	return 0;
}

/* Pair src's strings copied into dst, which has its scalars (and src's
 * pointers, replaced here). Returns 0, or -1 when out of memory (dst then
 * holds what was copied, NULL for the rest, for ha_cfg_release()). */
static int cfg_pair_copy(
		ha_cfg_pair_t *dst, const ha_cfg_pair_t *src, const ha_alloc_t *a)
{
	int j;

	dst->uri[0] = dst->uri[1] = dst->alive_codes = NULL;
	dst->domains = NULL;
	dst->ndomains = 0;
	if(cfg_strdup(&dst->uri[0], src->uri[0], a) < 0
			|| cfg_strdup(&dst->uri[1], src->uri[1], a) < 0
			|| cfg_strdup(&dst->alive_codes, src->alive_codes, a) < 0)
		return -1;
	if(src->ndomains <= 0)
		return 0;
	dst->domains = a->alloc(src->ndomains * sizeof(char *));
	if(dst->domains == NULL)
		return -1;
	for(j = 0; j < src->ndomains; j++) {
		if(cfg_strdup(&dst->domains[j], src->domains[j], a) < 0)
			return -1;
		dst->ndomains++;
	}
	return 0;
}

ha_cfg_t *ha_cfg_copy(const ha_cfg_t *cfg, const ha_alloc_t *a)
{
	ha_cfg_t *c;
	int i;

	c = a->alloc(sizeof(*c));
	if(c == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	if(cfg->npairs > 0) {
		c->pairs = a->alloc(cfg->npairs * sizeof(ha_cfg_pair_t));
		if(c->pairs == NULL)
			goto error;
	}
	for(i = 0; i < cfg->npairs; i++) {
		/* whole, so that a field added to a pair is copied without a line
		 * here; then its pointers are replaced by copies */
		c->pairs[i] = cfg->pairs[i];
		c->npairs++;
		if(cfg_pair_copy(&c->pairs[i], &cfg->pairs[i], a) < 0)
			goto error;
	}
	return c;
error:
	ha_cfg_release(c, a);
	return NULL;
}

int ha_cfg_load_mem(const char *buf, size_t len, const char *name,
		const ha_cfg_defaults_t *defs, ha_cfg_t **out, char *err, size_t errlen)
{
	static const ha_cfg_defaults_t builtin = {
			HA_CHECK_DEFAULT_MS, HA_FORCE_DEFAULT_MS};
	ha_xml_handlers_t saved;
	ha_loading_t ld;
	xmlDocPtr doc;
	int rc = -1;

	if(ha_xml_load_begin(&ld, name ? name : "(memory)", out, err, errlen) < 0)
		return -1;
	if(defs == NULL)
		defs = &builtin;
	if(buf == NULL || len == 0)
		return ha_xml_fail(&ld, 0, "empty file");
	if(len > HA_FILE_MAX_BYTES)
		return ha_xml_fail(&ld, 0, "file too large (more than %d bytes)",
				HA_FILE_MAX_BYTES);

	/* our rules run with the handlers routed, too: libxml2 calls made
	 * while building may still report (out of memory) */
	ha_xml_errors_to(&ld, &saved);
	doc = ha_xml_load(&ld, buf, len);
	if(doc != NULL) {
		rc = ha_build_cfg(&ld, doc, defs, out);
		xmlFreeDoc(doc);
	}
	ha_xml_errors_restore(&saved);
	return rc;
}

int ha_cfg_load(const char *path, const ha_cfg_defaults_t *defs, ha_cfg_t **out,
		char *err, size_t errlen)
{
	ha_loading_t ld;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if(ha_xml_load_begin(&ld, path ? path : "(null)", out, err, errlen) < 0)
		return -1;
	if(path == NULL || path[0] == '\0')
		return ha_xml_fail(&ld, 0, "no pairs file given");
	if(ha_xml_read_file(&ld, path, &buf, &len) < 0)
		return -1;
	rc = ha_cfg_load_mem(buf, len, path, defs, out, err, errlen);
	free(buf);
	return rc;
}
