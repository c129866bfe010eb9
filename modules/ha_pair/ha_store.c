/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_store.c - which table of pairs runs: the first load, reloads and DNS
 * refreshes swap in a new table (ha_table.c) built from definitions (the
 * pairs file and the module's defaults, ha_settings.h: a load's new ones,
 * a refresh's those of the running table) and its members' addresses
 * (ha_dns.c); readers pin the table they use, and a replaced table is
 * freed once nobody holds it. */

#include <string.h>
#include <time.h>
#include <stdlib.h>

#include "../../core/atomic_ops.h"
#include "../../core/dprint.h"
#include "../../core/mem/shm_mem.h"

#include "ha_store.h"
#include "ha_addr.h"
#include "ha_config.h"
#include "ha_dns.h"
#include "ha_fsm.h"
#include "ha_sched.h"
#include "ha_settings.h"
#include "ha_table.h"
#include "ha_time.h"

ha_store_t *_ha_store = NULL;

int ha_store_init(void)
{
	_ha_store = shm_malloc(sizeof(*_ha_store));
	if(_ha_store == NULL)
		return -1;
	memset(_ha_store, 0, sizeof(*_ha_store));
	if(lock_init(&_ha_store->lock) == NULL) {
		shm_free(_ha_store);
		_ha_store = NULL;
		return -1;
	}
	return 0;
}

void ha_store_destroy(void)
{
	ha_table_t *t;

	if(_ha_store == NULL)
		return;
	while((t = _ha_store->retired) != NULL) {
		_ha_store->retired = t->next;
		ha_table_free(t);
	}
	ha_table_free(_ha_store->cur);
	if(_ha_store->pins != NULL)
		shm_free(_ha_store->pins);
	shm_free(_ha_store);
	_ha_store = NULL;
}

int ha_store_pins_init(int nprocs)
{
	ha_pin_t *pins;

	if(_ha_store == NULL || _ha_store->pins != NULL)
		return 0;
	if(nprocs <= 0)
		nprocs = 1;
	pins = shm_malloc(nprocs * sizeof(ha_pin_t));
	if(pins == NULL)
		return -1;
	memset(pins, 0, nprocs * sizeof(ha_pin_t));
	_ha_store->npins = nprocs;
	_ha_store->pins = pins;
	return 0;
}

/* How deep each of this process's slots is pinned (private memory: only
 * this process uses its slots), and how many of them are in use: a SIP
 * worker pins one table per request, and with none pinned before, slot 0
 * is free and nothing need be searched (the request path's cost). */
static int _ha_pin_depth[HA_PINS];
static int _ha_pins_used = 0;

/* This process's slots, or NULL before they exist (only the main process
 * runs then, and nothing is freed). */
static inline ha_pin_t *pin_slots(void)
{
	if(_ha_store->pins == NULL || process_no < 0
			|| process_no >= _ha_store->npins)
		return NULL;
	return &_ha_store->pins[process_no];
}

/* Slot i of s holds t already: one level deeper. Returns 1, or 0 when no
 * slot holds it. */
static int pin_again(ha_pin_t *s, ha_table_t *t)
{
	int i;

	for(i = 0; i < HA_PINS; i++) {
		if(_ha_pin_depth[i] > 0 && s->t[i] == t) {
			_ha_pin_depth[i]++;
			return 1;
		}
	}
	return 0;
}

static int pin_free_slot(void)
{
	int i;

	for(i = 0; i < HA_PINS; i++)
		if(_ha_pin_depth[i] == 0)
			return i;
	LM_CRIT("more than %d tables pinned at a time by one process\n", HA_PINS);
	return -1;
}

ha_table_t *ha_table_pin(void)
{
	ha_pin_t *s;
	ha_table_t *t, *again;
	int i;

	if(_ha_store == NULL)
		return NULL;
	t = __atomic_load_n(&_ha_store->cur, __ATOMIC_SEQ_CST);
	s = pin_slots();
	if(s == NULL || t == NULL)
		return t;
	if(_ha_pins_used == 0) {
		i = 0;
	} else {
		if(pin_again(s, t))
			return t;
		i = pin_free_slot();
		if(i < 0)
			return NULL;
	}
	/* publish, then check it is still the running table: a table replaced
	 * before the store is not used, one replaced after it is seen pinned
	 * by the reaper (both sides sequentially consistent: the swap comes
	 * before the reaper's look at the slots) */
	for(;;) {
		__atomic_store_n(&s->t[i], t, __ATOMIC_SEQ_CST);
		again = __atomic_load_n(&_ha_store->cur, __ATOMIC_SEQ_CST);
		if(again == t)
			break;
		t = again;
	}
	_ha_pin_depth[i] = 1;
	_ha_pins_used++;
	return t;
}

/* The table of generation gen, running or replaced, or NULL. With the
 * store's lock held. */
static ha_table_t *store_table_of_gen(unsigned int gen)
{
	ha_table_t *t;

	if(_ha_store->cur != NULL && _ha_store->cur->gen == gen)
		return _ha_store->cur;
	for(t = _ha_store->retired; t != NULL; t = t->next)
		if(t->gen == gen)
			return t;
	return NULL;
}

ha_table_t *ha_table_pin_gen(unsigned int gen)
{
	ha_pin_t *s;
	ha_table_t *t;
	int i;

	if(_ha_store == NULL)
		return NULL;
	lock_get(&_ha_store->lock);
	t = store_table_of_gen(gen);
	s = pin_slots();
	if(t != NULL && s != NULL && !pin_again(s, t)) {
		/* under the lock, which the reaper holds while it looks */
		i = pin_free_slot();
		if(i < 0) {
			t = NULL;
		} else {
			__atomic_store_n(&s->t[i], t, __ATOMIC_SEQ_CST);
			_ha_pin_depth[i] = 1;
			_ha_pins_used++;
		}
	}
	lock_release(&_ha_store->lock);
	return t;
}

void ha_table_unpin(ha_table_t *t)
{
	ha_pin_t *s;
	int i;

	if(t == NULL || _ha_store == NULL || (s = pin_slots()) == NULL)
		return;
	for(i = 0; i < HA_PINS; i++) {
		if(_ha_pin_depth[i] > 0 && s->t[i] == t) {
			if(--_ha_pin_depth[i] == 0) {
				__atomic_store_n(&s->t[i], NULL, __ATOMIC_SEQ_CST);
				_ha_pins_used--;
			}
			return;
		}
	}
}

/* Has any process pinned t? With the store's lock held. */
static int table_pinned(const ha_table_t *t)
{
	int p, i;

	for(p = 0; _ha_store->pins != NULL && p < _ha_store->npins; p++)
		for(i = 0; i < HA_PINS; i++)
			if(__atomic_load_n(&_ha_store->pins[p].t[i], __ATOMIC_SEQ_CST) == t)
				return 1;
	return 0;
}

int ha_store_reap(int64_t now_ms)
{
	ha_table_t **link, *t;
	int kept = 0;

	if(_ha_store == NULL || _ha_store->retired == NULL)
		return 0;
	lock_get(&_ha_store->lock);
	link = &_ha_store->retired;
	while((t = *link) != NULL) {
		if(now_ms - t->retired_ms >= HA_RETIRE_GRACE_MS && !table_pinned(t)) {
			*link = t->next;
			ha_table_free(t);
		} else {
			link = &t->next;
			kept++;
		}
	}
	lock_release(&_ha_store->lock);
	return kept;
}

/* Make t the running table in old's place (the store's lock held). */
static void store_install(ha_table_t *t, ha_table_t *old, int64_t now)
{
	/* the table is whole before anyone can see it; and the swap comes
	 * before any later look at the pins (ha_table_pin()) */
	__atomic_store_n(&_ha_store->cur, t, __ATOMIC_SEQ_CST);
	if(old != NULL) {
		old->retired_ms = now;
		old->next = _ha_store->retired;
		_ha_store->retired = old;
	}
}

/* The one build of loads and DNS refreshes: resolve the members of defs
 * with no lock held (DNS may wait), then take the store's lock and build a
 * table from defs over the running table, given in *oldp. With any_gen 0,
 * the running table must still be of generation gen (a refresh: a reload
 * that installed a table meanwhile makes it moot, *moot 1). Consumes the
 * caller's reference to defs. Returns the table with the store's lock
 * held (the caller installs it, or frees it, and releases the lock), or
 * NULL with the lock released: err filled on failure, nothing when moot. */
static ha_table_t *build_locked(ha_defs_t *defs, int any_gen, unsigned int gen,
		ha_table_t **oldp, int64_t *nowp, int *moot, char *err, size_t errlen)
{
	ha_member_t *res;
	ha_table_t *t, *old;

	*moot = 0;
	res = ha_dns_resolve(defs->cfg, err, errlen);
	lock_get(&_ha_store->lock);
	old = _ha_store->cur;
	if(res == NULL || (!any_gen && (old == NULL || old->gen != gen))) {
		*moot = res != NULL;
		ha_defs_put(defs, &ha_alloc_shm);
		lock_release(&_ha_store->lock);
		if(res != NULL)
			free(res);
		return NULL;
	}
	*nowp = ha_now_ms();
	/* every pair gets the settings its definitions give it, whichever
	 * build runs */
	t = ha_table_build(defs, res, old, _ha_store->gen + 1, *nowp, err, errlen);
	ha_defs_put(defs, &ha_alloc_shm); /* the table's reference remains */
	free(res);
	if(t == NULL) {
		lock_release(&_ha_store->lock);
		return NULL;
	}
	*oldp = old;
	return t;
}

int ha_store_load(const char *path, const ha_mod_defaults_t *mod,
		ha_pairs_counts_t *ls, void (*started)(ha_pair_t *p), char *err,
		size_t errlen)
{
	ha_cfg_t *cfg = NULL;
	ha_defs_t *defs;
	ha_table_t *t, *old = NULL;
	ha_pair_t *p;
	int64_t now = 0;
	int i, moot;

	memset(ls, 0, sizeof(*ls));
	/* parsing and resolving with no lock held: a slow DNS answer holds up
	 * nothing but this load (the store's lock is taken by SIP workers for
	 * replies to probes of a replaced table) */
	if(ha_cfg_load(path, &mod->timings, &cfg, err, errlen) < 0)
		return -1;
	/* the definitions, kept in shm with the table: a DNS refresh builds
	 * from them, as this load does */
	defs = ha_defs_new(cfg, mod, &ha_alloc_shm);
	ha_cfg_free(cfg);
	if(defs == NULL) {
		snprintf(err, errlen, "%s:0: out of shared memory", path);
		return -1;
	}
	t = build_locked(defs, 1, 0, &old, &now, &moot, err, errlen);
	if(t == NULL)
		return -1;
	_ha_store->gen++;
	for(i = 0; i < t->npairs; i++) {
		p = &t->pairs[i];
		if(p->is_new) {
			/* under the lock and before the swap: no other load can
			 * install a table in between (where the pair is no longer
			 * fresh), and the prober cannot yet run it */
			if(started != NULL)
				started(p);
			ls->added++;
			continue;
		}
		ls->kept++;
		lock_get(&p->st->lock);
		ha_fsm_set_cfg(&p->st->fsm, &p->set.fc);
		lock_release(&p->st->lock);
	}
	ls->removed = (old ? old->npairs : 0) - ls->kept;
	ls->pairs = t->npairs;
	store_install(t, old, now);
	lock_release(&_ha_store->lock);
	return 0;
}

/* Do two tables resolve every member to the same addresses? */
static int same_addresses(const ha_table_t *a, const ha_table_t *b)
{
	const ha_member_t *x, *y;
	int i, j;

	for(i = 0; i < a->npairs; i++) {
		for(j = 0; j < HA_ROLE_COUNT; j++) {
			x = &a->pairs[i].m[j];
			y = &b->pairs[i].m[j];
			if(x->naddrs != y->naddrs || x->port != y->port
					|| x->proto != y->proto
					|| memcmp(x->addrs, y->addrs, x->naddrs * sizeof(ha_addr_t))
							   != 0
					|| memcmp(x->aports, y->aports, x->naddrs * sizeof(int))
							   != 0
					|| memcmp(&x->dst, &y->dst, sizeof(x->dst)) != 0)
				return 0;
		}
	}
	return 1;
}

int ha_store_refresh(char *err, size_t errlen)
{
	ha_defs_t *defs;
	ha_table_t *t, *old;
	unsigned int gen;
	int64_t now = 0;
	int i, j, moot, names = 0;

	/* the running table's definitions, held (a reload may retire that
	 * table meanwhile); they never change, so they are read unlocked */
	lock_get(&_ha_store->lock);
	old = _ha_store->cur;
	for(i = 0; old != NULL && i < old->npairs; i++)
		for(j = 0; j < HA_ROLE_COUNT; j++)
			names += old->pairs[i].m[j].by_name;
	if(names == 0) {
		lock_release(&_ha_store->lock);
		return 0;
	}
	gen = old->gen;
	defs = old->defs;
	defs->refs++;
	lock_release(&_ha_store->lock);
	/* the load's build, from the load's definitions; a reload that
	 * installed a table meanwhile, with names it resolved itself, makes
	 * this refresh moot (the next one looks at it) */
	t = build_locked(defs, 0, gen, &old, &now, &moot, err, errlen);
	if(t == NULL)
		return moot ? 0 : -1;
	if(same_addresses(old, t)) {
		ha_table_free(t);
		lock_release(&_ha_store->lock);
		return 0;
	}
	_ha_store->gen++;
	store_install(t, old, now);
	lock_release(&_ha_store->lock);
	return 1;
}

/* In a process of its own (a slow DNS answer delays nothing else). */
void ha_store_refresh_timer(unsigned int ticks, void *param)
{
	char err[HA_ERR_MAX];
	int rc;

	(void)ticks;
	(void)param;
	rc = ha_store_refresh(err, sizeof(err));
	if(rc < 0) {
		LM_WARN("re-resolving member host names failed, the addresses stay: "
				"%s\n",
				err);
	} else if(rc > 0) {
		LM_NOTICE("member host names resolve to new addresses: now in use\n");
		ha_sched_wake_all();
	}
}
