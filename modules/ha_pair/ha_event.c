/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_event.c - events of ha_pair: queued by whoever changes a pair, run in
 * a process of their own so that a slow event route never delays probing. */

#include <string.h>
#include <stdio.h>

#include "../../core/dprint.h"
#include "../../core/route.h"
#include "../../core/fmsg.h"
#include "../../core/kemi.h"
#include "../../core/timer_proc.h"
#include "../../core/sr_module.h"
#include "../../core/pvar.h"
#include "../../core/mem/shm_mem.h"

#include "ha_event.h"
#include "ha_config.h"
#include "ha_fsm.h"
#include "ha_table.h"
#include "ha_uri.h"

#define HA_EVQ_MIN 1024 /* events waiting, at most (or 4 per pair) */
#define HA_EV_URI_MAX (HA_URI_MAX + 1) /* a member URI, whole */
#define HA_EVENT_TICK_US 10000		   /* the event process looks every 10 ms */

typedef struct ha_event
{
	ha_act_type_t type;
	char name[HA_NAME_MAX + 1];
	ha_role_t old_role, new_role;
	ha_reason_t reason;
	char old_uri[HA_EV_URI_MAX];
	char new_uri[HA_EV_URI_MAX];
} ha_event_t;

/* A ring of events in shared memory, guarded by its lock. */
typedef struct ha_evq
{
	gen_lock_t lock;
	unsigned int head; /* next to run */
	unsigned int tail; /* next free; tail - head events are waiting */
	unsigned int lost; /* dropped because the ring was full */
	unsigned int size;
	ha_event_t ev[];
} ha_evq_t;

str _ha_event_callback = STR_NULL;

static ha_evq_t *_ha_evq = NULL;
/* event_route[] indexes, -1 when the script has none */
static int _ha_rt[HA_ACT_COUNT] = {-1, -1, -1, -1, -1};
static const char *_ha_rt_names[HA_ACT_COUNT] = {
		[HA_ACT_SEND] = NULL,
		[HA_ACT_SWITCH] = "ha_pair:switchover",
		[HA_ACT_DOWN] = "ha_pair:down",
		[HA_ACT_UP] = "ha_pair:up",
		[HA_ACT_SPLIT] = "ha_pair:split",
};
/* the event being run, for $hapair(...); only in the event process */
static ha_event_t *_ha_cur_event = NULL;

/* The index of a non-empty event_route[name], or -1. */
static int event_route_get(const char *name)
{
	int rt = route_lookup(&event_rt, (char *)name);

	return (rt >= 0 && event_rt.rlist[rt] != NULL) ? rt : -1;
}

/* Find the event route of "ha_pair:<event>". Kamailio's cfg lexer (5.6 and
 * later) takes no '_' before the ':' of an event route name: the script
 * names them event_route[hapair:<event>]. Written as the specification
 * spells it, event_route[ha_pair:<event>] is read by 5.6 as
 * "pair:<event>" (the "ha_" is dropped): that is accepted too, with a
 * warning. */
static int event_route_find(const char *name)
{
	const char *ev = strchr(name, ':');
	char alt[64];
	int rt;

	rt = event_route_get(name);
	if(rt >= 0)
		return rt;
	snprintf(alt, sizeof(alt), "hapair%s", ev);
	rt = event_route_get(alt);
	if(rt >= 0)
		return rt;
	snprintf(alt, sizeof(alt), "pair%s", ev);
	rt = event_route_get(alt);
	if(rt >= 0)
		LM_WARN("event_route[ha_pair%s] is read by this Kamailio as "
				"event_route[pair%s]; it is run, but write "
				"event_route[hapair%s]\n",
				ev, ev, ev);
	return rt;
}

int ha_event_mod_init(int npairs)
{
	unsigned int size;
	int i, any = 0;

	for(i = 0; i < HA_ACT_COUNT; i++) {
		if(_ha_rt_names[i] == NULL)
			continue;
		_ha_rt[i] = event_route_find(_ha_rt_names[i]);
		if(_ha_rt[i] >= 0)
			any = 1;
	}
	if(_ha_event_callback.len > 0)
		any = 1;
	if(!any)
		return 0; /* nobody listens: no queue, no process */
	/* room for a burst: every pair switching and going down and up */
	size = npairs * 4 > HA_EVQ_MIN ? npairs * 4 : HA_EVQ_MIN;
	_ha_evq = shm_malloc(sizeof(*_ha_evq) + size * sizeof(ha_event_t));
	if(_ha_evq == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(_ha_evq, 0, sizeof(*_ha_evq));
	_ha_evq->size = size;
	if(lock_init(&_ha_evq->lock) == NULL) {
		LM_ERR("cannot init the event queue's lock\n");
		shm_free(_ha_evq);
		_ha_evq = NULL;
		return -1;
	}
	if(register_basic_timers(1) < 0) {
		LM_ERR("cannot reserve the event process\n");
		lock_destroy(&_ha_evq->lock);
		shm_free(_ha_evq);
		_ha_evq = NULL;
		return -1;
	}
	return 0;
}

void ha_event_destroy(void)
{
	if(_ha_evq != NULL) {
		shm_free(_ha_evq);
		_ha_evq = NULL;
	}
}

static void copy_uri(char *dst, const str *uri)
{
	int n = uri->len < HA_EV_URI_MAX - 1 ? uri->len : HA_EV_URI_MAX - 1;

	memcpy(dst, uri->s, n);
	dst[n] = '\0';
}

void ha_event_push(ha_pair_t *p, const ha_action_t *a)
{
	ha_event_t *e;

	if(_ha_evq == NULL || a->type <= HA_ACT_SEND || a->type >= HA_ACT_COUNT)
		return;
	if(_ha_rt[a->type] < 0 && _ha_event_callback.len <= 0)
		return;
	lock_get(&_ha_evq->lock);
	if(_ha_evq->tail - _ha_evq->head >= _ha_evq->size) {
		_ha_evq->lost++;
		lock_release(&_ha_evq->lock);
		LM_ERR("pair '%.*s': event queue full, event %s lost\n", p->name.len,
				p->name.s, _ha_rt_names[a->type]);
		return;
	}
	e = &_ha_evq->ev[_ha_evq->tail % _ha_evq->size];
	e->type = a->type;
	memcpy(e->name, p->name.s, p->name.len);
	e->name[p->name.len] = '\0';
	e->old_role = a->old_role;
	e->new_role = a->new_role;
	e->reason = a->reason;
	e->old_uri[0] = e->new_uri[0] = '\0';
	if(a->old_role == HA_ROLE_PRIMARY || a->old_role == HA_ROLE_BACKUP)
		copy_uri(e->old_uri, &p->m[a->old_role].uri);
	if(a->new_role == HA_ROLE_PRIMARY || a->new_role == HA_ROLE_BACKUP)
		copy_uri(e->new_uri, &p->m[a->new_role].uri);
	_ha_evq->tail++;
	lock_release(&_ha_evq->lock);
}

/* Run event e: its event_route, or the KEMI event_callback with the route
 * name as argument. */
static void event_run(ha_event_t *e)
{
	struct run_act_ctx ctx;
	sr_kemi_eng_t *keng;
	sip_msg_t *fmsg;
	str evname;
	int backup_rt;

	if(faked_msg_init() < 0) {
		LM_ERR("faked_msg_init() failed\n");
		return;
	}
	fmsg = faked_msg_next();
	_ha_cur_event = e;
	backup_rt = get_route_type();
	set_route_type(EVENT_ROUTE);
	init_run_actions_ctx(&ctx);
	if(_ha_event_callback.len > 0) {
		keng = sr_kemi_eng_get();
		evname.s = (char *)_ha_rt_names[e->type];
		evname.len = strlen(evname.s);
		if(keng == NULL)
			LM_ERR("event_callback set but no KEMI engine loaded\n");
		else if(sr_kemi_route(
						keng, fmsg, EVENT_ROUTE, &_ha_event_callback, &evname)
				< 0)
			LM_ERR("error running the event callback for %s\n", evname.s);
	} else if(_ha_rt[e->type] >= 0) {
		run_top_route(event_rt.rlist[_ha_rt[e->type]], fmsg, &ctx);
	}
	set_route_type(backup_rt);
	_ha_cur_event = NULL;
}

/* The event process: run every queued event, in order, one at a time; the
 * queue's lock is not held while a route runs. */
static void ha_event_tick(unsigned int ticks, void *param)
{
	ha_event_t e;
	unsigned int lost;

	(void)ticks;
	(void)param;
	for(;;) {
		lock_get(&_ha_evq->lock);
		if(_ha_evq->head == _ha_evq->tail) {
			lost = _ha_evq->lost;
			_ha_evq->lost = 0;
			lock_release(&_ha_evq->lock);
			if(lost > 0)
				LM_ERR("%u events were lost (queue of %u full)\n", lost,
						_ha_evq->size);
			return;
		}
		e = _ha_evq->ev[_ha_evq->head % _ha_evq->size];
		_ha_evq->head++;
		lock_release(&_ha_evq->lock);
		event_run(&e);
	}
}

int ha_event_fork(void)
{
	if(_ha_evq == NULL)
		return 0;
	if(fork_basic_utimer(PROC_TIMER, "ha_pair events", 1 /* socks */,
			   ha_event_tick, NULL, HA_EVENT_TICK_US)
			< 0) {
		LM_ERR("cannot start the event process\n");
		return -1;
	}
	return 0;
}

/* $hapair(key) */
enum
{
	HA_PV_NAME = 0,
	HA_PV_OLD,
	HA_PV_NEW,
	HA_PV_OLD_URI,
	HA_PV_NEW_URI,
	HA_PV_REASON,
	HA_PV_COUNT
};

static const char *_ha_pv_keys[HA_PV_COUNT] = {
		[HA_PV_NAME] = "name",
		[HA_PV_OLD] = "old",
		[HA_PV_NEW] = "new",
		[HA_PV_OLD_URI] = "old_uri",
		[HA_PV_NEW_URI] = "new_uri",
		[HA_PV_REASON] = "reason",
};

int ha_pv_parse_name(pv_spec_t *sp, str *in)
{
	int i;

	if(sp == NULL || in == NULL || in->len <= 0)
		return -1;
	for(i = 0; i < HA_PV_COUNT; i++) {
		if(strlen(_ha_pv_keys[i]) == (size_t)in->len
				&& strncmp(_ha_pv_keys[i], in->s, in->len) == 0) {
			sp->pvp.pvn.type = PV_NAME_INTSTR;
			sp->pvp.pvn.u.isname.type = 0;
			sp->pvp.pvn.u.isname.name.n = i;
			return 0;
		}
	}
	LM_ERR("$hapair(%.*s): unknown key (name, old, new, old_uri, new_uri, "
		   "reason)\n",
			in->len, in->s);
	return -1;
}

int ha_pv_get(sip_msg_t *msg, pv_param_t *param, pv_value_t *res)
{
	ha_event_t *e = _ha_cur_event;
	const char *v;

	if(e == NULL || param == NULL)
		return pv_get_null(msg, param, res);
	switch(param->pvn.u.isname.name.n) {
		case HA_PV_NAME:
			v = e->name;
			break;
		case HA_PV_OLD:
			v = ha_role_name(e->old_role);
			break;
		case HA_PV_NEW:
			v = ha_role_name(e->new_role);
			break;
		case HA_PV_OLD_URI:
			v = e->old_uri;
			break;
		case HA_PV_NEW_URI:
			v = e->new_uri;
			break;
		case HA_PV_REASON:
			v = ha_reason_names[e->reason];
			break;
		default:
			return pv_get_null(msg, param, res);
	}
	return pv_get_strzval(msg, param, res, (char *)v);
}
