/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_table.c - one table of pairs in shared memory: built from definitions
 * (ha_settings.h) and their resolved members (ha_dns.c), looked up by pair
 * name, domain and member address (hash indexes), freed. Which table runs,
 * and when a replaced one may be freed, is ha_store.c's. */

#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/random.h>

#include "../../core/ip_addr.h"
#include "../../core/mem/shm_mem.h"

#include "ha_table.h"
#include "ha_addr.h"
#include "ha_config.h"
#include "ha_fsm.h"
#include "ha_hash.h"
#include "ha_settings.h"

/* address index entries by port, address (ha_addr_t is memcmp-able:
 * zeroed before it is filled), then pair */
static int addr_ent_cmp(const void *a, const void *b)
{
	const ha_addr_ent_t *x = a, *y = b;
	int c;

	if(x->port != y->port)
		return x->port < y->port ? -1 : 1;
	c = memcmp(&x->addr, &y->addr, sizeof(x->addr));
	if(c != 0)
		return c;
	return x->pair < y->pair ? -1 : x->pair > y->pair;
}

static int addr_only_cmp(const void *a, const void *b)
{
	const ha_addr_ent_t *x = a, *y = b;

	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

static unsigned int hash_addr(const ha_addr_t *a)
{
	return ha_fnv1a(a->ip, a->af == 6 ? 16 : 4, 0);
}

static int ha_shm_strdup(str *dst, const char *src)
{
	int len = strlen(src);

	dst->s = shm_malloc(len + 1);
	if(dst->s == NULL) {
		dst->len = 0;
		return -1;
	}
	memcpy(dst->s, src, len + 1);
	dst->len = len;
	return 0;
}

/* shm_malloc() and shm_free() are macros: functions, for ha_alloc_t (the
 * definitions a table keeps live in shared memory, for the DNS refresh's
 * process to build from) */
static void *shm_alloc_fn(size_t size)
{
	return shm_malloc(size);
}

static void shm_release_fn(void *ptr)
{
	shm_free(ptr);
}

const ha_alloc_t ha_alloc_shm = {shm_alloc_fn, shm_release_fn};

/* set at start-up, before any table is freed (mod_init) */
static ha_state_free_f _ha_state_free = NULL;

void ha_table_on_state_free(ha_state_free_f f)
{
	_ha_state_free = f;
}

void ha_table_free(ha_table_t *t)
{
	int i, j;
	ha_pair_t *p;

	if(t == NULL)
		return;
	if(t->pairs) {
		for(i = 0; i < t->npairs; i++) {
			p = &t->pairs[i];
			if(p->name.s)
				shm_free(p->name.s);
			if(p->rr_param.s)
				shm_free(p->rr_param.s);
			for(j = 0; j < HA_ROLE_COUNT; j++) {
				if(p->m[j].uri.s)
					shm_free(p->m[j].uri.s);
				if(p->m[j].host.s)
					shm_free(p->m[j].host.s);
			}
			if(p->domains) {
				for(j = 0; j < p->ndomains; j++)
					if(p->domains[j].s)
						shm_free(p->domains[j].s);
				shm_free(p->domains);
			}
			if(p->st != NULL && --p->st->refs <= 0) {
				if(_ha_state_free != NULL)
					_ha_state_free(p->st);
				shm_free(p->st);
			}
		}
		shm_free(t->pairs);
	}
	if(t->run_at)
		shm_free((void *)t->run_at);
	if(t->name_buckets)
		shm_free(t->name_buckets);
	if(t->addr_buckets)
		shm_free(t->addr_buckets);
	if(t->addr_ents)
		shm_free(t->addr_ents);
	if(t->dom_buckets)
		shm_free(t->dom_buckets);
	if(t->dom_ents)
		shm_free(t->dom_ents);
	ha_defs_put(t->defs, &ha_alloc_shm);
	shm_free(t);
}

/* The first probe token of a new pair. A reply to a probe is accepted when
 * it echoes the token and comes from the member's address; over UDP the
 * address can be forged, so the token must not be guessable (it is what
 * protects member_trust "confirm"): random, from the kernel. Can't fail
 * (without getrandom() it falls back to a mix of time, pid and index). */
static uint32_t token_seed(int64_t now_ms, int i)
{
	uint32_t seed;

	if(getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	return (uint32_t)(now_ms * 2654435761u) ^ ((uint32_t)i << 20)
		   ^ (uint32_t)getpid();
}
/* The pair of old with the same identity as cp (name and both member
 * URIs, as written), or NULL. */
static ha_pair_t *same_pair(const ha_table_t *old, const ha_cfg_pair_t *cp)
{
	str name = {(char *)cp->name, strlen(cp->name)};
	ha_pair_t *op;
	int j;

	op = old ? ha_table_by_name((ha_table_t *)old, &name) : NULL;
	if(op == NULL)
		return NULL;
	for(j = 0; j < HA_ROLE_COUNT; j++) {
		if(op->m[j].uri.len != (int)strlen(cp->uri[j])
				|| memcmp(op->m[j].uri.s, cp->uri[j], op->m[j].uri.len) != 0)
			return NULL;
	}
	return op;
}

/* A table for npairs pairs with empty hash buckets, all pairs due at once
 * (the prober runs every pair of a new table). NULL when out of shm. */
static ha_table_t *table_new(int npairs, unsigned int gen)
{
	ha_table_t *t;
	unsigned int nb, h;

	t = shm_malloc(sizeof(*t));
	if(t == NULL)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->gen = gen;
	for(nb = 16; nb < (unsigned int)npairs * 2; nb <<= 1)
		;
	t->nbuckets = nb;
	t->name_buckets = shm_malloc(nb * sizeof(int));
	t->addr_buckets = shm_malloc(nb * sizeof(int));
	t->dom_buckets = shm_malloc(nb * sizeof(int));
	if(!t->name_buckets || !t->addr_buckets || !t->dom_buckets)
		goto oom;
	for(h = 0; h < nb; h++)
		t->name_buckets[h] = t->addr_buckets[h] = t->dom_buckets[h] = -1;
	if(npairs > 0) {
		t->pairs = shm_malloc(npairs * sizeof(ha_pair_t));
		t->run_at = shm_malloc(npairs * sizeof(int64_t));
		if(t->pairs == NULL || t->run_at == NULL)
			goto oom;
		memset(t->pairs, 0, npairs * sizeof(ha_pair_t));
		memset((void *)t->run_at, 0, npairs * sizeof(int64_t));
	}
	t->npairs = npairs;
	return t;
oom:
	ha_table_free(t);
	return NULL;
}

/* Pair p's strings in shm (name, pair tag, member URIs and hosts,
 * domains) and its members as resolved (res: its HA_ROLE_COUNT entries).
 * Returns 0, or -1 when out of shm (what was copied is freed with the
 * table). */
static int pair_copy(
		ha_pair_t *p, const ha_cfg_pair_t *cp, const ha_member_t *res)
{
	char tag[HA_NAME_MAX + 16];
	int j;

	if(ha_shm_strdup(&p->name, cp->name) < 0)
		return -1;
	snprintf(tag, sizeof(tag), ";hapair=%s", cp->name);
	if(ha_shm_strdup(&p->rr_param, tag) < 0)
		return -1;
	for(j = 0; j < HA_ROLE_COUNT; j++) {
		/* the addresses as resolved (no URI strings in res) */
		p->m[j] = res[j];
		p->m[j].uri.s = p->m[j].host.s = NULL;
		if(ha_shm_strdup(&p->m[j].uri, cp->uri[j]) < 0
				|| ha_shm_strdup(&p->m[j].host, cp->parsed[j].host) < 0)
			return -1;
	}
	if(cp->ndomains > 0) {
		p->domains = shm_malloc(cp->ndomains * sizeof(str));
		if(p->domains == NULL)
			return -1;
		memset(p->domains, 0, cp->ndomains * sizeof(str));
		p->ndomains = cp->ndomains;
		for(j = 0; j < cp->ndomains; j++)
			if(ha_shm_strdup(&p->domains[j], cp->domains[j]) < 0)
				return -1;
	}
	return 0;
}

/* Pair p's state: the state of old's pair of the same identity (its new
 * timings are applied when the table is installed), or a new one that
 * starts at now_ms (docs/ha_pair.md, How it decides) with p marked fresh. Returns 0, or -1 with err
 * filled. */
static int pair_state(ha_pair_t *p, const ha_cfg_pair_t *cp,
		const ha_table_t *old, int64_t now_ms, char *err, size_t errlen)
{
	ha_pair_t *op;
	ha_actions_t acts;
	int reliable[HA_ROLE_COUNT];
	int j;

	op = same_pair(old, cp);
	if(op != NULL) {
		p->st = op->st;
		p->st->refs++;
		return 0;
	}
	p->st = shm_malloc(sizeof(ha_pstate_t));
	if(p->st == NULL) {
		snprintf(err, errlen, "out of shared memory");
		return -1;
	}
	memset(p->st, 0, sizeof(ha_pstate_t));
	p->st->refs = 1;
	p->is_new = 1;
	if(lock_init(&p->st->lock) == NULL) {
		snprintf(err, errlen, "cannot init a lock");
		return -1;
	}
	for(j = 0; j < HA_ROLE_COUNT; j++)
		reliable[j] = p->m[j].proto != PROTO_UDP;
	ha_actions_reset(&acts);
	ha_fsm_init(&p->st->fsm, &p->set.fc, reliable, token_seed(now_ms, p->index),
			now_ms, &acts);
	return 0;
}

/* Fill pair i of t from its definition cp (settings derived under the
 * module's defaults mod) and its resolved members, and chain it by name.
 * Returns 0, or -1 with err filled. */
static int table_add_pair(ha_table_t *t, int i, const ha_cfg_pair_t *cp,
		const ha_mod_defaults_t *mod, const ha_member_t *res,
		const ha_table_t *old, int64_t now_ms, char *err, size_t errlen)
{
	ha_pair_t *p = &t->pairs[i];
	unsigned int h;

	p->index = i;
	p->run_at_slot = &t->run_at[i];
	p->gen = t->gen;
	if(ha_pair_settings(cp, mod, &p->set, err, errlen) < 0)
		return -1;
	if(pair_copy(p, cp, res) < 0) {
		snprintf(err, errlen, "out of shared memory");
		return -1;
	}
	if(pair_state(p, cp, old, now_ms, err, errlen) < 0)
		return -1;
	h = ha_fnv1a(p->name.s, p->name.len, 0) & (t->nbuckets - 1);
	p->next_by_name = t->name_buckets[h];
	t->name_buckets[h] = i;
	return 0;
}

/* The address index: every resolved address of every member. Returns 0,
 * or -1 when out of shm. */
static int table_index_addrs(ha_table_t *t)
{
	ha_addr_ent_t *e;
	ha_pair_t *p;
	unsigned int h;
	int i, j, k, n = 0;

	for(i = 0; i < t->npairs; i++)
		for(j = 0; j < HA_ROLE_COUNT; j++)
			n += t->pairs[i].m[j].naddrs;
	t->addr_ents = shm_malloc((n + 1) * sizeof(ha_addr_ent_t));
	if(t->addr_ents == NULL)
		return -1;
	for(i = 0; i < t->npairs; i++) {
		p = &t->pairs[i];
		for(j = 0; j < HA_ROLE_COUNT; j++) {
			for(k = 0; k < p->m[j].naddrs; k++) {
				e = &t->addr_ents[t->naddr_ents];
				e->addr = p->m[j].addrs[k];
				e->port = p->m[j].aports[k];
				e->pair = i;
				e->role = j;
				h = hash_addr(&e->addr) & (t->nbuckets - 1);
				e->next = t->addr_buckets[h];
				t->addr_buckets[h] = t->naddr_ents++;
			}
		}
	}
	return 0;
}

/* The end of the run of srt entries (n in all) that starts at i: equal
 * addresses, and equal ports too when by_port. */
static int run_end(const ha_addr_ent_t *srt, int n, int i, int by_port)
{
	int j;

	for(j = i + 1;
			j < n && (!by_port || srt[j].port == srt[i].port)
			&& memcmp(&srt[j].addr, &srt[i].addr, sizeof(srt[i].addr)) == 0;
			j++)
		;
	return j;
}

/* From the address index: max_per_addr (how many members one address
 * has, whatever the port: what a lookup of a request over TCP/TLS may
 * find), and the pairs with a member at an address and port of another
 * pair's (shared: the only ones whose failed branches the address alone
 * cannot place). On a sorted copy, as many pairs on one host are common.
 * Returns 0, or -1 when out of shm. */
static int table_mark_shared(ha_table_t *t)
{
	ha_addr_ent_t *srt;
	size_t size = t->naddr_ents * sizeof(*srt);
	int i, j, k;

	t->max_per_addr = t->naddr_ents == 1 ? 1 : 0;
	if(t->naddr_ents <= 1)
		return 0;
	srt = shm_malloc(size);
	if(srt == NULL)
		return -1;
	memcpy(srt, t->addr_ents, size);
	qsort(srt, t->naddr_ents, sizeof(*srt), addr_only_cmp);
	for(i = 0; i < t->naddr_ents; i = j) {
		j = run_end(srt, t->naddr_ents, i, 0);
		if(j - i > t->max_per_addr)
			t->max_per_addr = j - i;
	}
	memcpy(srt, t->addr_ents, size);
	qsort(srt, t->naddr_ents, sizeof(*srt), addr_ent_cmp);
	for(i = 0; i < t->naddr_ents; i = j) {
		j = run_end(srt, t->naddr_ents, i, 1);
		/* a run is sorted by pair: several pairs if its ends differ */
		if(srt[j - 1].pair != srt[i].pair)
			for(k = i; k < j; k++)
				t->pairs[srt[k].pair].addr_shared = 1;
	}
	shm_free(srt);
	return 0;
}

/* The domain index. Returns 0, or -1 when out of shm. */
static int table_index_domains(ha_table_t *t)
{
	ha_dom_ent_t *e;
	ha_pair_t *p;
	unsigned int h;
	int i, j, n = 0;

	for(i = 0; i < t->npairs; i++)
		n += t->pairs[i].ndomains;
	t->dom_ents = shm_malloc((n + 1) * sizeof(ha_dom_ent_t));
	if(t->dom_ents == NULL)
		return -1;
	for(i = 0; i < t->npairs; i++) {
		p = &t->pairs[i];
		for(j = 0; j < p->ndomains; j++) {
			e = &t->dom_ents[t->ndom_ents];
			e->domain = p->domains[j];
			e->pair = i;
			h = ha_fnv1a(e->domain.s, e->domain.len, 1) & (t->nbuckets - 1);
			e->next = t->dom_buckets[h];
			t->dom_buckets[h] = t->ndom_ents++;
		}
	}
	return 0;
}

ha_table_t *ha_table_build(ha_defs_t *defs, const ha_member_t *res,
		const ha_table_t *old, unsigned int gen, int64_t now_ms, char *err,
		size_t errlen)
{
	const ha_cfg_t *cfg = defs->cfg;
	ha_table_t *t;
	int i;

	t = table_new(cfg->npairs, gen);
	if(t == NULL)
		goto oom;
	/* held from here: ha_table_free() gives it back on any failure */
	t->defs = defs;
	defs->refs++;
	for(i = 0; i < cfg->npairs; i++) {
		if(table_add_pair(t, i, &cfg->pairs[i], &defs->mod,
				   &res[i * HA_ROLE_COUNT], old, now_ms, err, errlen)
				< 0)
			goto error;
	}
	if(table_index_addrs(t) < 0 || table_mark_shared(t) < 0
			|| table_index_domains(t) < 0)
		goto oom;
	return t;
oom:
	snprintf(err, errlen, "out of shared memory");
error:
	ha_table_free(t);
	return NULL;
}

ha_pair_t *ha_table_by_name(ha_table_t *t, const str *name)
{
	int i;

	if(t == NULL || name == NULL || name->len <= 0)
		return NULL;
	i = t->name_buckets[ha_fnv1a(name->s, name->len, 0) & (t->nbuckets - 1)];
	for(; i >= 0; i = t->pairs[i].next_by_name) {
		if(t->pairs[i].name.len == name->len
				&& memcmp(t->pairs[i].name.s, name->s, name->len) == 0)
			return &t->pairs[i];
	}
	return NULL;
}

ha_pair_t *ha_table_by_domain(ha_table_t *t, const str *host)
{
	ha_dom_ent_t *e;
	int i;

	if(t == NULL || host == NULL || host->len <= 0)
		return NULL;
	i = t->dom_buckets[ha_fnv1a(host->s, host->len, 1) & (t->nbuckets - 1)];
	for(; i >= 0; i = e->next) {
		e = &t->dom_ents[i];
		if(e->domain.len == host->len
				&& strncasecmp(e->domain.s, host->s, host->len) == 0)
			return &t->pairs[e->pair];
	}
	return NULL;
}

int ha_table_by_addr(ha_table_t *t, const ha_addr_t *ip, int port, int reliable,
		ha_pair_t **pairs, int *roles, int max)
{
	ha_addr_ent_t *e;
	int i, n = 0;

	if(t == NULL)
		return 0;
	i = t->addr_buckets[hash_addr(ip) & (t->nbuckets - 1)];
	for(; i >= 0; i = e->next) {
		e = &t->addr_ents[i];
		if(!ha_addr_is_member(&e->addr, 1, e->port, ip, port, reliable))
			continue;
		if(n < max) {
			pairs[n] = &t->pairs[e->pair];
			roles[n] = e->role;
		}
		n++;
	}
	return n;
}
