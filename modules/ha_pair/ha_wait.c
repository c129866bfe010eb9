/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_wait.c - transactions that wait for a pair's verdict, suspended in
 * tm (no worker held), and the process that continues them. */

#include <string.h>
#include <stdio.h>

#include "../../core/dprint.h"
#include "../../core/route.h"
#include "../../core/kemi.h"
#include "../../core/timer_proc.h"
#include "../../core/timer_ticks.h"
#include "../../core/parser/parse_to.h"
#include "../../core/mem/shm_mem.h"
#include "../../core/sr_module.h"

#include "ha_wait.h"
#include "ha_config.h"
#include "ha_fsm.h"
#include "ha_hash.h"
#include "ha_msg.h"
#include "ha_pair.h"
#include "ha_route.h"
#include "ha_store.h"
#include "ha_table.h"
#include "ha_time.h"

#define HA_WAIT_TICK_US 5000 /* the continue process looks this often */
#define HA_WAIT_BATCH 64	 /* transactions continued per pair and look */

/* A transaction waiting on a pair. Its memory belongs to the transaction:
 * freed by the transaction's TMCB_DESTROY callback, never before. st is
 * the pair state while it is in the pair's list, NULL once taken out;
 * st and the list change only under _ha_waits->lock, then the pair's. */
typedef struct ha_waiter
{
	struct ha_waiter *next, *prev; /* prev NULL: the first */
	ha_pstate_t *st;
	int suspended; /* t_suspend() done: it may be continued */
	unsigned int tindex, tlabel;
	ha_waitpoint_t wp;
	int route;		 /* the failure route to continue into */
	ha_mfail_t fail; /* what the member brought (code 0: nothing) */
	unsigned int fr_ms, fr_inv_ms; /* the transaction's timers, restored */
	char pair[HA_NAME_MAX + 1];
} ha_waiter_t;

typedef struct ha_waits
{
	gen_lock_t lock; /* taken before any pair's lock */
	atomic_t total;	 /* waiters in all lists */
} ha_waits_t;

static ha_waits_t *_ha_waits = NULL;
int _ha_tm_loaded = 0; /* tm is loaded and _ha_tmb bound */
struct tm_binds _ha_tmb;
int _ha_max_wait = 0;
int _ha_wait_cap = 1000;
int _ha_retry_after = 5;
static str _ha_wait_avp = str_init("ha_pair_wait");

/* The transaction this process continues right now, and its verdict, for
 * ha_failover() in the route it runs. */
static ha_cont_t _ha_cont;

const ha_cont_t *ha_cont_get(void)
{
	return _ha_cont.active ? &_ha_cont : NULL;
}

int ha_wait_bound_ms(const ha_pair_t *p)
{
	int b = _ha_max_wait;

	if(b <= 0)
		b = 2 * p->set.fc.oos_force_ms + HA_WAIT_MARGIN_MS;
	return b > HA_WAIT_MAX_MS ? HA_WAIT_MAX_MS : b;
}

static void wait_orphan(ha_pstate_t *st);

int ha_wait_mod_init(void)
{
	if(find_export("load_tm", NO_SCRIPT, 0) == NULL)
		return 0; /* no waiting without tm: ha_wait() says so */
	if(load_tm_api(&_ha_tmb) < 0) {
		LM_ERR("cannot bind the tm module's API\n");
		return -1;
	}
	_ha_tm_loaded = 1;
	if(_ha_max_wait < 0 || _ha_max_wait > HA_WAIT_MAX_MS) {
		LM_ERR("max_wait %d ms: 0 (2 x oos-force + %d ms) or up to %d ms\n",
				_ha_max_wait, HA_WAIT_MARGIN_MS, HA_WAIT_MAX_MS);
		return -1;
	}
	if(_ha_wait_cap < 0) {
		LM_ERR("max_waiting %d: 0 (no waiting) or more\n", _ha_wait_cap);
		return -1;
	}
	if(_ha_retry_after < 0 || _ha_retry_after > 86400) {
		LM_ERR("retry_after %d s: 0 (none) to 86400\n", _ha_retry_after);
		return -1;
	}
	_ha_waits = shm_malloc(sizeof(*_ha_waits));
	if(_ha_waits == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(_ha_waits, 0, sizeof(*_ha_waits));
	if(lock_init(&_ha_waits->lock) == NULL) {
		LM_ERR("cannot init a lock\n");
		return -1;
	}
	atomic_set(&_ha_waits->total, 0);
	/* a pair state freed with a table lets its waiting transactions go */
	ha_table_on_state_free(wait_orphan);
	/* reserve the continue process */
	if(register_basic_timers(1) < 0) {
		LM_ERR("cannot reserve the continue process\n");
		return -1;
	}
	return 0;
}

/* The main process, once every other one has ended (mod_destroy). First
 * of the module's frees: from here on the lists are dead, so neither the
 * tables' free (wait_orphan()) nor a transaction tm destroys later
 * (5.6 frees what its table still holds in its own destroy, which comes
 * after ours) touches a lock or a pair state: a child may have ended
 * holding a lock (SIGTERM ends them at any point), and the states go with
 * the tables. The records stay with their transactions (waiter_cb()). */
void ha_wait_destroy(void)
{
	if(_ha_waits != NULL) {
		lock_destroy(&_ha_waits->lock);
		shm_free(_ha_waits);
		_ha_waits = NULL;
	}
}

/* How many wait on st, as a hint for the continue process to skip a pair
 * without taking its lock (every decision is made again under the lock).
 * nwait changes only under the pair's lock, atomically so that this read
 * is one. */
static inline int ha_wait_hint(ha_pstate_t *st)
{
	return __atomic_load_n(&st->nwait, __ATOMIC_RELAXED);
}

/* Take w out of its pair's list, in O(1). Both locks held. */
static void waiter_unlink(ha_waiter_t *w)
{
	if(w->prev != NULL)
		w->prev->next = w->next;
	else
		w->st->waiters = w->next;
	if(w->next != NULL)
		w->next->prev = w->prev;
	__atomic_sub_fetch(&w->st->nwait, 1, __ATOMIC_RELAXED);
	w->st = NULL;
	w->next = w->prev = NULL;
	atomic_dec(&_ha_waits->total);
	update_stat(_ha_stat_waiting, -1);
}

/* Nothing once ha_wait_destroy() ran: at shutdown the records are the
 * transactions' to free, the lists nobody's to walk. */
static void wait_orphan(ha_pstate_t *st)
{
	if(_ha_waits == NULL || st->waiters == NULL)
		return;
	lock_get(&_ha_waits->lock);
	lock_get(&st->lock);
	while(st->waiters != NULL)
		waiter_unlink(st->waiters);
	lock_release(&st->lock);
	lock_release(&_ha_waits->lock);
}

/* TMCB_E2ECANCEL_IN: a CANCEL ends the INVITE (tm answers it 487 at
 * once): it waits no more. TMCB_DESTROY: the transaction is gone; its
 * waiter with it. At shutdown (the destroy phase: the main process alone,
 * in whichever order tm's destroy and ours come) only the record is
 * freed: the lists, their lock and the pair states are gone or going. */
static void waiter_cb(struct cell *t, int type, struct tmcb_params *ps)
{
	ha_waiter_t *w = (ha_waiter_t *)*ps->param;
	ha_pstate_t *st;

	(void)t;
	if(w == NULL)
		return;
	if(_ha_waits == NULL || destroy_modules_phase()) {
		if(type == TMCB_DESTROY) {
			shm_free(w);
			*ps->param = NULL;
		}
		return;
	}
	lock_get(&_ha_waits->lock);
	st = w->st;
	if(st != NULL) {
		lock_get(&st->lock);
		waiter_unlink(w);
		lock_release(&st->lock);
	}
	lock_release(&_ha_waits->lock);
	if(type == TMCB_DESTROY) {
		shm_free(w);
		*ps->param = NULL;
	}
}

/* A new waiter for transaction t (of msg) on pair p, registered for t's
 * CANCEL and destruction: from then on it is t's, freed when t is
 * destroyed. Returns it, or NULL (logged; nothing allocated stays). */
static ha_waiter_t *waiter_new(struct sip_msg *msg, struct cell *t,
		ha_pair_t *p, const ha_waitpoint_t *wp, const ha_mfail_t *fail,
		int route)
{
	ha_waiter_t *w;

	w = shm_malloc(sizeof(*w));
	if(w == NULL) {
		SHM_MEM_ERROR;
		return NULL;
	}
	memset(w, 0, sizeof(*w));
	w->wp.failed = HA_ROLE_NONE;
	w->wp.since_ms = -1; /* waiter_link() reads the pair */
	if(wp != NULL)
		w->wp = *wp;
	if(fail != NULL)
		w->fail = *fail;
	w->route = route;
	w->fr_ms = TICKS_TO_MS(t->fr_timeout);
	w->fr_inv_ms = TICKS_TO_MS(t->fr_inv_timeout);
	memcpy(w->pair, p->name.s, p->name.len);
	if(_ha_tmb.register_tmcb(
			   msg, t, TMCB_DESTROY | TMCB_E2ECANCEL_IN, waiter_cb, w, 0)
			<= 0) {
		LM_ERR("pair '%.*s': cannot register a transaction callback\n",
				p->name.len, p->name.s);
		shm_free(w);
		return NULL;
	}
	return w;
}

/* Put w on pair p's waiters (takes the waits' lock, then p's). A waiter
 * with no wait point of its own (since_ms < 0: ha_wait()) begins to wait
 * now; one a verification made keeps that one's, read under the same lock
 * as the verification was asked: an answer to it, or a hunt, that came in
 * between counts. *sync_left is the ms left of p's start-up sync (<= 0:
 * none). Returns 0, or -1 when p has max_waiting waiters already (w stays
 * unlinked). */
static int waiter_link(ha_pair_t *p, ha_waiter_t *w, int *sync_left)
{
	int64_t now;

	lock_get(&_ha_waits->lock);
	lock_get(&p->st->lock);
	if(p->st->nwait >= _ha_wait_cap) {
		lock_release(&p->st->lock);
		lock_release(&_ha_waits->lock);
		return -1;
	}
	now = ha_now_ms();
	if(w->wp.since_ms < 0) {
		w->wp.since_ms = now;
		w->wp.force_runs = p->st->fsm.force_runs;
	}
	/* the start-up sync (pool replication) may take longer than the bound:
	 * such a request waits for its end, and a margin */
	*sync_left = p->st->fsm.syncing ? (int)(p->st->fsm.sync_until_ms - now) : 0;
	w->st = p->st;
	w->prev = NULL;
	w->next = p->st->waiters;
	if(w->next != NULL)
		w->next->prev = w;
	p->st->waiters = w;
	__atomic_add_fetch(&p->st->nwait, 1, __ATOMIC_RELAXED);
	p->st->waited++;
	atomic_inc(&_ha_waits->total);
	lock_release(&p->st->lock);
	lock_release(&_ha_waits->lock);
	return 0;
}

/* Count a request of pair p that found max_waiting waiting already. */
static void wait_rejected(ha_pair_t *p)
{
	lock_get(&p->st->lock);
	p->st->wait_rejected++;
	lock_release(&p->st->lock);
	update_stat(_ha_stat_wait_rejected, 1);
}

/* Before transaction t (of msg) is suspended: remember its pair for
 * ha_failover(), and have tm time it by fr_timer (the bound, or the rest
 * of the start-up sync and a margin) into failure route route. */
static void wait_arm(struct sip_msg *msg, struct cell *t, ha_pair_t *p,
		int sync_left, int route)
{
	int bound;

	if(ha_msg_name_set(&_ha_wait_avp, &p->name) < 0)
		LM_WARN("pair '%.*s': cannot remember the pair of a waiting "
				"transaction\n",
				p->name.len, p->name.s);
	bound = ha_wait_bound_ms(p);
	if(sync_left > 0 && sync_left + HA_WAIT_MARGIN_MS > bound)
		bound = sync_left + HA_WAIT_MARGIN_MS;
	_ha_tmb.set_fr(msg, 0, bound);
	t->on_failure = (unsigned short)route;
}

/* After t_suspend() returned rc: a suspended waiter keeps the
 * transaction's index and label (for its continuation), one that is not
 * leaves its pair. Nothing when a reload let it go meanwhile. */
static void waiter_suspended(
		ha_waiter_t *w, int rc, unsigned int hi, unsigned int lb)
{
	ha_pstate_t *st;

	lock_get(&_ha_waits->lock);
	st = w->st; /* NULL: a reload let it go meanwhile */
	if(st != NULL) {
		lock_get(&st->lock);
		if(rc == 0) {
			w->tindex = hi;
			w->tlabel = lb;
			w->suspended = 1;
			st->wait_dirty = 1; /* its verdict is still to be looked at */
		} else {
			waiter_unlink(w);
		}
		lock_release(&st->lock);
	}
	lock_release(&_ha_waits->lock);
}

int ha_wait_suspend(struct sip_msg *msg, ha_pair_t *p, const ha_waitpoint_t *wp,
		const ha_mfail_t *fail, int route)
{
	struct cell *t = _ha_tmb.t_gett();
	ha_waiter_t *w;
	unsigned int hi, lb;
	int rc, sync_left;

	if(t == NULL || t == T_UNDEFINED || route <= 0 || _ha_wait_cap == 0)
		return -1; /* max_waiting 0: nothing waits */
	w = waiter_new(msg, t, p, wp, fail, route);
	if(w == NULL)
		return -1;
	/* from here on w is the transaction's: freed when it is destroyed */
	if(waiter_link(p, w, &sync_left) < 0) {
		wait_rejected(p);
		return -2;
	}
	update_stat(_ha_stat_waiting, 1);
	update_stat(_ha_stat_waited, 1);
	wait_arm(msg, t, p, sync_left, route);
	rc = _ha_tmb.t_suspend(msg, &hi, &lb);
	waiter_suspended(w, rc, hi, lb);
	if(rc != 0) {
		_ha_tmb.set_fr(msg, w->fr_inv_ms, w->fr_ms);
		if(rc != 1)
			LM_ERR("pair '%.*s': cannot suspend the transaction (%d)\n",
					p->name.len, p->name.s, rc);
		return rc == 1 ? 1 : -1; /* 1: canceled meanwhile */
	}
	return 0;
}

/* Continue transaction c with its verdict: into its failure route, where
 * ha_failover() reads the verdict from _ha_cont. */
static void continue_one(const ha_cont_t *c)
{
	sr_kemi_eng_t *keng = sr_kemi_eng_get();
	str *cbname;
	int rc;

	_ha_cont = *c;
	_ha_cont.active = 1;
	if(keng != NULL) {
		cbname = sr_kemi_cbname_lookup_idx(c->route);
		if(cbname == NULL) {
			LM_ERR("pair '%s': no KEMI failure callback %d to continue "
				   "into\n",
					c->pair, c->route);
			rc = -1;
		} else {
			rc = _ha_tmb.t_continue_cb(c->tindex, c->tlabel, cbname, NULL);
		}
	} else if(c->route > 0 && c->route < failure_rt.entries
			  && failure_rt.rlist[c->route] != NULL) {
		rc = _ha_tmb.t_continue(
				c->tindex, c->tlabel, failure_rt.rlist[c->route]);
	} else {
		LM_ERR("pair '%s': no failure_route %d to continue into\n", c->pair,
				c->route);
		rc = -1;
	}
	_ha_cont.active = 0;
	if(rc < 0)
		LM_DBG("pair '%s': transaction %u:%u not continued (%d): it ended\n",
				c->pair, c->tindex, c->tlabel, rc);
}

/* What a waiter's verdict is made of (ha_fsm_wait_verdict() reads
 * nothing else of the pair): while it is unchanged, no waiter that had
 * none can have one. With the pair's lock held. */
static uint64_t verdict_inputs(const ha_fsm_t *f)
{
	const int64_t v[] = {f->state, f->syncing, f->active, f->held,
			(int64_t)f->force_runs, f->m[0].last_ok_ms, f->m[1].last_ok_ms,
			f->m[0].last_fail_ms, f->m[1].last_fail_ms};

	return ha_fnv1a(v, sizeof(v), 0);
}

void ha_wait_kick(ha_pair_t *p)
{
	ha_cont_t todo[HA_WAIT_BATCH];
	ha_waiter_t *w, *next;
	ha_verdict_t v;
	ha_role_t retry;
	uint64_t seen;
	int n = 0, i;

	if(_ha_waits == NULL || ha_wait_hint(p->st) <= 0)
		return;
	lock_get(&_ha_waits->lock);
	lock_get(&p->st->lock);
	/* the walk costs what it ends: none while the pair hunts or syncs
	 * (every waiter waits), none while nothing a verdict reads changed
	 * and no waiter came (in an outage, the waiters of a silent member
	 * are not looked at every 5 ms) */
	seen = verdict_inputs(&p->st->fsm);
	if(ha_fsm_routable(&p->st->fsm) == HA_ROLE_NONE
			|| (seen == p->st->wait_seen && !p->st->wait_dirty)) {
		lock_release(&p->st->lock);
		lock_release(&_ha_waits->lock);
		return;
	}
	p->st->wait_seen = seen;
	p->st->wait_dirty = 0;
	for(w = p->st->waiters; w != NULL; w = next) {
		if(n == HA_WAIT_BATCH) {
			p->st->wait_dirty = 1; /* the rest at the next look */
			break;
		}
		next = w->next;
		if(!w->suspended)
			continue;
		retry = HA_ROLE_NONE;
		v = ha_fsm_wait_verdict(&p->st->fsm, &w->wp, &retry);
		if(v == HA_WV_WAIT)
			continue;
		memset(&todo[n], 0, sizeof(todo[n]));
		todo[n].tindex = w->tindex;
		todo[n].tlabel = w->tlabel;
		todo[n].route = w->route;
		todo[n].fail = w->fail;
		todo[n].verdict = v;
		todo[n].retry = retry;
		todo[n].fr_ms = w->fr_ms;
		todo[n].fr_inv_ms = w->fr_inv_ms;
		memcpy(todo[n].pair, w->pair, sizeof(todo[n].pair));
		n++;
		waiter_unlink(w);
	}
	lock_release(&p->st->lock);
	lock_release(&_ha_waits->lock);
	for(i = 0; i < n; i++)
		continue_one(&todo[i]);
}

int ha_wait_take(struct cell *t, const str *pair, int timeout)
{
	ha_table_t *tbl;
	ha_pair_t *p;
	ha_waiter_t *w;
	int found = 0;

	if(_ha_waits == NULL)
		return 0;
	tbl = ha_table_pin();
	p = ha_table_by_name(tbl, pair);
	if(p == NULL) {
		ha_table_unpin(tbl);
		return 0;
	}
	lock_get(&_ha_waits->lock);
	lock_get(&p->st->lock);
	for(w = p->st->waiters; w != NULL; w = w->next) {
		if(w->suspended && w->tindex == t->hash_index
				&& w->tlabel == t->label) {
			waiter_unlink(w);
			found = 1;
			break;
		}
	}
	if(timeout)
		p->st->wait_timeouts++;
	lock_release(&p->st->lock);
	lock_release(&_ha_waits->lock);
	ha_table_unpin(tbl);
	return found;
}

str *ha_wait_pair_avp(str *out)
{
	return ha_msg_name_get(&_ha_wait_avp, out);
}

/* The continue process: every HA_WAIT_TICK_US, the pairs with waiting
 * transactions are looked at and those with a verdict continued. The
 * prober never continues anything: a slow failure route would delay its
 * probes. */
static void ha_wait_tick(unsigned int ticks, void *param)
{
	ha_table_t *t;
	int i;

	(void)ticks;
	(void)param;
	if(atomic_get(&_ha_waits->total) <= 0)
		return;
	/* pinned while the failure routes run (they pin what they read too) */
	t = ha_table_pin();
	for(i = 0; t != NULL && i < t->npairs; i++)
		if(ha_wait_hint(t->pairs[i].st) > 0)
			ha_wait_kick(&t->pairs[i]);
	ha_table_unpin(t);
}

int ha_wait_fork(void)
{
	if(fork_basic_utimer(PROC_TIMER, "ha_pair continue", 1 /* socks */,
			   ha_wait_tick, NULL, HA_WAIT_TICK_US)
			< 0) {
		LM_ERR("cannot start the continue process\n");
		return -1;
	}
	return 0;
}

/* ha_wait() with table tbl pinned. */
static int wait_request(struct sip_msg *msg, ha_table_t *tbl)
{
	struct cell *t;
	ha_pair_t *p;
	ha_role_t active;
	str name;
	int rc;

	if(!_ha_tm_loaded) {
		LM_ERR("ha_wait() needs tm\n");
		return -3;
	}
	if(msg->first_line.type != SIP_REQUEST
			|| msg->first_line.u.request.method_value
					   & (METHOD_ACK | METHOD_CANCEL))
		return -1; /* no transaction of its own to suspend */
	if(ha_route_found(msg, tbl, &p) < 0) {
		LM_ERR("ha_wait(): call ha_route() for the request first\n");
		return -3;
	}
	if(p == NULL)
		return -2;
	name = p->name;
	lock_get(&p->st->lock);
	active = ha_fsm_routable(&p->st->fsm);
	lock_release(&p->st->lock);
	if(active != HA_ROLE_NONE) {
		if(set_dst_uri(msg, &p->m[active].uri) < 0)
			return -3;
		return 1;
	}
	t = _ha_tmb.t_gett();
	if(t == NULL || t == T_UNDEFINED) {
		if(_ha_tmb.t_newtran(msg) < 0) {
			LM_ERR("pair '%.*s': cannot create the transaction\n", name.len,
					name.s);
			return -3;
		}
		t = _ha_tmb.t_gett();
		if(t == NULL || t == T_UNDEFINED)
			return -3;
	}
	if(t->on_failure == 0) {
		LM_ERR("ha_wait(): arm the failure route that calls ha_failover() "
			   "first (t_on_failure)\n");
		return -3;
	}
	if(get_to(msg)->tag_value.len == 0)
		ha_route_tag(msg, p);
	rc = ha_wait_suspend(msg, p, NULL, NULL, t->on_failure);
	if(rc == 0)
		return 0;
	if(rc == 1)
		return 0; /* canceled meanwhile: tm answers it */
	return -2;
}

int ha_wait_request(struct sip_msg *msg)
{
	ha_table_t *t = ha_table_pin();
	int rc;

	rc = wait_request(msg, t);
	ha_table_unpin(t);
	return rc;
}
