/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_dmq.c - pool replication of ha_pair over Kamailio's dmq module: every
 * local change of a pair's active member goes to the pool's peers, and a
 * peer's change is a claim that a probe confirms (ha_fsm_peer()). This
 * file binds dmq and sends (the queue, the batch jobs, the "ha_pair dmq"
 * process); ha_dmq_recv.c takes what the peers send. */

#include <string.h>
#include <stdio.h>
#include <dlfcn.h>

#include "../../core/dprint.h"
#include "../../core/sr_module.h"
#include "../../core/timer_proc.h"
#include "../../core/counters.h"
#include "../../core/mem/shm_mem.h"
#include "../../core/parser/msg_parser.h"
#include "../../modules/dmq/bind_dmq.h"

#include "ha_dmq.h"
#include "ha_dmq_int.h"
#include "ha_dmq_sec.h"
#include "ha_fsm.h"
#include "ha_peer.h"
#include "ha_seal.h"
#include "ha_store.h"
#include "ha_table.h"
#include "ha_text.h"
#include "ha_time.h"

#define HA_DMQ_QUEUE 1024 /* messages waiting to be sent, at most */
/* messages waiting for one node, at most: answers go to the node that
 * asked, and one node's messages must not crowd out the pool's changes */
#define HA_DMQ_QUEUE_PER_NODE (HA_DMQ_QUEUE / 8)
#define HA_DMQ_TICK_US 2000		  /* the send process looks every 2 ms */
#define HA_DMQ_PEER_ID "ha_pair"  /* user part of the KDMQ requests */
#define HA_DMQ_JOBS 64			  /* sync answers and broadcasts waiting */
#define HA_DMQ_CHUNKS_PER_TICK 16 /* batches one tick sends, at most */
#define HA_SYNC_TIMEOUT_MAX 30000
#define HA_SYNC_INTERVAL_MIN 100
#define HA_SYNC_INTERVAL_MAX 3600000

int _ha_enable_dmq = 0;
int _ha_sync_timeout = 1000;
int _ha_sync_interval = 10000;

/* A batch job: the states of the pairs, in batches of HA_PEER_CHUNK_MAX at
 * most, that the send process makes itself, pair by pair, so that any
 * number of pairs takes one slot: the answer to a sync (to: its node), or
 * the periodic broadcast (to[0] == '\0': the pairs with version > 0). */
typedef struct ha_dmq_job
{
	char to[HA_ORIGIN_MAX];
	int sync;
	unsigned int gen; /* the table being walked (0: not begun) */
	int next;		  /* its next pair */
} ha_dmq_job_t;

/* One message to send: to a node (its DMQ address), or to every active
 * node of the pool (to[0] == '\0'). */
typedef struct ha_dmq_out
{
	char to[HA_ORIGIN_MAX];
	int len;
	char body[HA_PEER_BODY_MAX];
} ha_dmq_out_t;

/* A ring of messages in shared memory, guarded by its lock. */
typedef struct ha_dmq_q
{
	gen_lock_t lock;
	unsigned int head; /* next to send */
	unsigned int tail; /* next free; tail - head are waiting */
	ha_dmq_out_t m[HA_DMQ_QUEUE];
	unsigned int jhead, jtail; /* jobs, as head and tail */
	ha_dmq_job_t j[HA_DMQ_JOBS];
} ha_dmq_q_t;

static ha_dmq_q_t *_ha_dmq_q = NULL;
static dmq_api_t _ha_dmqb;
static dmq_peer_t *_ha_dmq_peer = NULL;
dmq_node_list_t **_ha_dmq_nodes = NULL;
char _ha_dmq_self[HA_ORIGIN_MAX];
static str _ha_dmq_ct = str_init(HA_SEAL_CT);

static void dmq_send_queued(void);

static stat_var *_ha_stat_peer_sent = NULL;
stat_var *_ha_stat_peer_received = NULL;
static stat_var *_ha_stat_peer_adopted = NULL;
stat_var *_ha_stat_peer_agreed = NULL;
stat_var *_ha_stat_peer_foreign = NULL;
stat_var *_ha_stat_peer_refused = NULL;
stat_var *_ha_stat_peer_stale = NULL;
static stat_var *_ha_stat_batches_sent = NULL;
static stat_var *_ha_stat_batch_max = NULL;
static stat_var *_ha_stat_queue_share = NULL;
stat_var *_ha_stat_syncs = NULL;
stat_var *_ha_stat_peer_rejected_range = NULL;
stat_var *_ha_stat_peer_answers_suppressed = NULL;

static stat_export_t ha_dmq_stats[] = {
		{"peer_changes_sent", 0, &_ha_stat_peer_sent},
		{"peer_changes_received", 0, &_ha_stat_peer_received},
		{"peer_changes_adopted", 0, &_ha_stat_peer_adopted},
		{"peer_changes_agreed", 0, &_ha_stat_peer_agreed},
		{"peer_changes_refused", 0, &_ha_stat_peer_refused},
		{"peer_changes_stale", 0, &_ha_stat_peer_stale},
		{"peer_changes_foreign", 0, &_ha_stat_peer_foreign},
		{"peer_batches_sent", 0, &_ha_stat_batches_sent},
		{"peer_batch_max_bytes", STAT_NO_RESET, &_ha_stat_batch_max},
		{"peer_queue_share_full", 0, &_ha_stat_queue_share},
		{"pairs_synced", 0, &_ha_stat_syncs},
		{"peer_rejected_range", 0, &_ha_stat_peer_rejected_range},
		{"peer_answers_suppressed", 0, &_ha_stat_peer_answers_suppressed},
		{0, 0, 0}};

/* How many queued messages wait for the node at to. The queue's lock
 * held. */
static int queued_for(const char *to)
{
	unsigned int i;
	int n = 0;

	for(i = _ha_dmq_q->head; i != _ha_dmq_q->tail; i++)
		n += strcmp(_ha_dmq_q->m[i % HA_DMQ_QUEUE].to, to) == 0;
	return n;
}

/* Queue body (len bytes) for to ("" : every node). Never blocks for long,
 * never sends. A full queue drops the message (logged): the pool then
 * agrees through its own probes, as without replication. Returns 0, or -1
 * when it was dropped. */
static int dmq_queue(const char *to, const char *body, int len)
{
	ha_dmq_out_t *o;

	lock_get(&_ha_dmq_q->lock);
	if(_ha_dmq_q->tail - _ha_dmq_q->head >= HA_DMQ_QUEUE) {
		lock_release(&_ha_dmq_q->lock);
		LM_ERR("dmq send queue full, a pair change is not replicated\n");
		return -1;
	}
	if(to[0] != '\0' && queued_for(to) >= HA_DMQ_QUEUE_PER_NODE) {
		lock_release(&_ha_dmq_q->lock);
		LM_DBG("dmq send queue: %d messages wait for %s already, one more "
			   "dropped\n",
				HA_DMQ_QUEUE_PER_NODE, HA_LOG_STR(to, HA_ORIGIN_MAX));
		update_stat(_ha_stat_queue_share, 1);
		return -1;
	}
	o = &_ha_dmq_q->m[_ha_dmq_q->tail % HA_DMQ_QUEUE];
	snprintf(o->to, sizeof(o->to), "%s", to);
	memcpy(o->body, body, len);
	o->len = len;
	_ha_dmq_q->tail++;
	lock_release(&_ha_dmq_q->lock);
	return 0;
}

/* Fill m with pair p's identity. Returns 0, or -1 when a member URI is too
 * long to be replicated. */
static int msg_identity(ha_peer_msg_t *m, const ha_pair_t *p)
{
	int i;

	memset(m, 0, sizeof(*m));
	snprintf(m->pair, sizeof(m->pair), "%.*s", p->name.len, p->name.s);
	for(i = 0; i < HA_ROLE_COUNT; i++) {
		if(p->m[i].uri.len >= HA_PEER_URI_MAX)
			return -1;
		memcpy(m->uri[i], p->m[i].uri.s, p->m[i].uri.len);
		m->uri[i][p->m[i].uri.len] = '\0';
	}
	return 0;
}

/* Encode m and queue it for to. */
static int msg_queue(const char *to, const ha_peer_msg_t *m, const ha_pair_t *p)
{
	char body[HA_PEER_BODY_MAX];
	int len;

	len = ha_peer_encode(m, body, sizeof(body));
	if(len < 0) {
		LM_ERR("pair '%.*s': its change cannot be encoded for the pool\n",
				p->name.len, p->name.s);
		return 0; /* this one only */
	}
	return dmq_queue(to, body, len);
}

/* Fill m with pair p's current state (op state). Returns 0, or 1 when
 * there is none to tell: in FORCE (no member to name), syncing itself (it
 * does not know yet), unchanged since start when changed_only is set, or
 * a member URI too long to be replicated. */
static int pair_state(ha_pair_t *p, ha_peer_msg_t *m, int changed_only)
{
	ha_fsm_t *f = &p->st->fsm;
	int none;

	if(msg_identity(m, p) < 0)
		return 1;
	lock_get(&p->st->lock);
	m->active = f->state == HA_ST_CHECK ? f->active : HA_ROLE_NONE;
	m->reason = f->last_reason;
	m->version = f->version;
	snprintf(m->origin, sizeof(m->origin), "%s",
			f->origin[0] != '\0' ? f->origin : _ha_dmq_self);
	none = m->active == HA_ROLE_NONE || f->syncing
		   || (changed_only && f->version == 0);
	lock_release(&p->st->lock);
	m->op = HA_PEER_STATE;
	return none ? 1 : 0;
}

/* See ha_dmq_int.h. */
int ha_dmq_answer(ha_pair_t *p, const char *to)
{
	ha_peer_msg_t m;

	if(pair_state(p, &m, 0) != 0)
		return 0;
	return msg_queue(to, &m, p);
}

/* See ha_dmq_int.h. */
int ha_dmq_job_queue(const char *to, int sync)
{
	ha_dmq_job_t *j;

	lock_get(&_ha_dmq_q->lock);
	if(_ha_dmq_q->jtail - _ha_dmq_q->jhead >= HA_DMQ_JOBS) {
		lock_release(&_ha_dmq_q->lock);
		LM_ERR("dmq job queue full: the state of the pairs is not sent to "
			   "%s\n",
				to[0] != '\0' ? HA_LOG_STR(to, HA_ORIGIN_MAX) : "the pool");
		return -1;
	}
	j = &_ha_dmq_q->j[_ha_dmq_q->jtail % HA_DMQ_JOBS];
	snprintf(j->to, sizeof(j->to), "%s", to);
	j->sync = sync;
	j->gen = 0;
	j->next = 0;
	_ha_dmq_q->jtail++;
	lock_release(&_ha_dmq_q->lock);
	return 0;
}

/* Start-up: every pair waits for the pool's answer until sync_timeout. */
static void sync_begin_all(void)
{
	ha_table_t *t = ha_table_pin();
	int64_t until = ha_now_ms() + _ha_sync_timeout;
	int i;

	for(i = 0; t != NULL && i < t->npairs; i++) {
		lock_get(&t->pairs[i].st->lock);
		ha_fsm_sync_begin(&t->pairs[i].st->fsm, until);
		lock_release(&t->pairs[i].st->lock);
	}
	ha_table_unpin(t);
}

/* dmq's init callback: the node list has come, once per start. Ask the
 * pool for the state of the pairs: it comes back as state messages, each
 * a claim this proxy confirms with a probe. */
static int dmq_init_cb(void)
{
	ha_peer_msg_t m;
	char body[HA_PEER_BODY_MAX];
	int len;

	memset(&m, 0, sizeof(m));
	m.op = HA_PEER_SYNC;
	snprintf(m.origin, sizeof(m.origin), "%s", _ha_dmq_self);
	len = ha_peer_encode(&m, body, sizeof(body));
	if(len < 0 || dmq_queue("", body, len) < 0)
		LM_ERR("cannot ask the pool for the state of the pairs\n");
	else
		LM_INFO("asked the pool for the state of the pairs\n");
	return 0;
}

void ha_dmq_actions(ha_pair_t *p, const ha_actions_t *acts)
{
	ha_peer_msg_t m;
	const ha_action_t *a;
	int i;

	if(!_ha_enable_dmq)
		return;
	if(acts->peer_adopted > 0)
		update_stat(_ha_stat_peer_adopted, acts->peer_adopted);
	if(acts->peer_agreed > 0)
		update_stat(_ha_stat_peer_agreed, acts->peer_agreed);
	if(acts->peer_refused > 0) {
		update_stat(_ha_stat_peer_refused, acts->peer_refused);
		LM_WARN("pair '%.*s': a pool peer's change names a member that does "
				"not answer this proxy: kept the own view\n",
				p->name.len, p->name.s);
	}
	if(acts->answer_to[0] != '\0')
		ha_dmq_answer(p, acts->answer_to);
	if(acts->synced)
		update_stat(_ha_stat_syncs, 1);
	for(i = 0; i < acts->n; i++) {
		a = &acts->a[i];
		/* a start is no change; an adopted change is the peer's to tell */
		if(a->type != HA_ACT_SWITCH || a->reason == HA_RSN_START
				|| a->reason == HA_RSN_PEER)
			continue;
		if(msg_identity(&m, p) < 0) {
			LM_ERR("pair '%.*s': a member URI is longer than %d: not "
				   "replicated\n",
					p->name.len, p->name.s, HA_PEER_URI_MAX - 1);
			return;
		}
		m.op = HA_PEER_CHANGE;
		m.active = a->new_role;
		m.reason = a->reason;
		m.version = a->version;
		snprintf(m.origin, sizeof(m.origin), "%s", _ha_dmq_self);
		msg_queue("", &m, p);
	}
}

static int dmq_resp_f(
		struct sip_msg *msg, int code, dmq_node_t *node, void *param)
{
	(void)msg;
	(void)node;
	(void)param;
	if(code >= 300)
		LM_DBG("a pool peer answered %d to a pair change\n", code);
	return 0;
}

static dmq_resp_cback_t _ha_dmq_resp = {dmq_resp_f, 0};

/* Send body to the pool node at to, if it is an active node of the pool
 * other than this proxy. dmq's find_dmq_node_uri() walks dmq's node list
 * without its lock, and the node it returns is freed by another process
 * when dmq drops it (a node that stopped answering dmq's pings, or
 * dmq.remove): the node is looked up and used under the list's lock, as
 * dmq's own broadcast does (it sends under that lock too). Returns 0 when
 * sent, 1 when to is no active node, -1 when the send failed. */
static int dmq_send_to(const char *to, str *body)
{
	dmq_node_list_t *list = *_ha_dmq_nodes;
	dmq_node_t *node;
	str uri;
	int rc;

	uri.s = (char *)to;
	uri.len = strlen(to);
	lock_get(&list->lock);
	node = _ha_dmqb.find_dmq_node_uri(&uri);
	if(node == NULL || node->local || node->status != DMQ_NODE_ACTIVE) {
		lock_release(&list->lock);
		return 1;
	}
	rc = _ha_dmqb.send_message(
			_ha_dmq_peer, body, node, &_ha_dmq_resp, 1, &_ha_dmq_ct);
	lock_release(&list->lock);
	return rc < 0 ? -1 : 0;
}

/* Send body (len bytes) to the node at to ("": every node). Returns what
 * dmq returned (< 0: not sent), or -2 when to is no active node of the
 * pool other than this proxy. */
static int dmq_send(const char *to, char *buf, int len)
{
	static char sealed[HA_PEER_CHUNK_MAX + HA_SEAL_HEAD_MAX];
	str body;
	int rc;

	/* signed here, in the one process that sends: every message gets
	 * the next counter of this boot, in the order it goes out */
	body.len = ha_dmq_seal(to, buf, len, sealed, sizeof(sealed));
	if(body.len < 0)
		return -1;
	body.s = sealed;
	if(to[0] == '\0')
		return _ha_dmqb.bcast_message(
				_ha_dmq_peer, &body, NULL, &_ha_dmq_resp, 1, &_ha_dmq_ct);
	rc = dmq_send_to(to, &body);
	if(rc == 1) {
		LM_DBG("no active dmq node %s: not sent\n",
				HA_LOG_STR(to, HA_ORIGIN_MAX));
		return -2;
	}
	return rc;
}

/* Run job j for up to HA_DMQ_CHUNKS_PER_TICK batches. Returns 1 when it is
 * done, 0 when more is to come (the next tick goes on). */
static int job_run(ha_dmq_job_t *j)
{
	static char buf[HA_PEER_CHUNK_MAX];
	ha_peer_msg_t m;
	ha_table_t *t = NULL;
	size_t n;
	int c, cnt, last, len, rc;

	if(j->gen != 0)
		t = ha_table_pin_gen(j->gen);
	if(t == NULL) {
		/* not begun, or its table is gone (a reload): the running one,
		 * from the start */
		j->next = 0;
		t = ha_table_pin();
		if(t == NULL)
			return 1;
	}
	j->gen = t->gen;
	for(c = 0; c < HA_DMQ_CHUNKS_PER_TICK; c++) {
		len = ha_peer_batch_begin(buf, sizeof(buf), _ha_dmq_self, j->sync);
		if(len < 0)
			break;
		n = (size_t)len;
		cnt = 0;
		for(; j->next < t->npairs; j->next++) {
			if(pair_state(&t->pairs[j->next], &m, !j->sync) != 0)
				continue;
			if(ha_peer_batch_add(buf, sizeof(buf), &n, &m) < 0) {
				if(cnt > 0)
					break; /* the next batch takes it */
				continue;  /* cannot be: a state is 1 KB at most */
			}
			cnt++;
		}
		last = j->next >= t->npairs;
		/* an answer to a sync always ends with its last batch (maybe
		 * empty): the starting proxy knows this peer's answer is whole */
		if((cnt > 0 || (last && j->sync))
				&& ha_peer_batch_end(buf, sizeof(buf), &n, last) > 0) {
			rc = dmq_send(j->to, buf, (int)n);
			if(rc == -2) {
				j->next = t->npairs; /* no such node (any more): done */
				break;
			}
			if(rc < 0) {
				LM_ERR("a batch of pair states could not be sent to %s\n",
						j->to[0] != '\0' ? HA_LOG_STR(j->to, sizeof(j->to))
										 : "the pool");
			} else {
				update_stat(_ha_stat_batches_sent, 1);
				if((long)n > (long)get_stat_val(_ha_stat_batch_max))
					update_stat(_ha_stat_batch_max,
							(long)n - (long)get_stat_val(_ha_stat_batch_max));
			}
		}
		if(last)
			break;
	}
	last = j->next >= t->npairs;
	ha_table_unpin(t);
	return last;
}

/* The send process's jobs: the first one waiting goes on. */
static void jobs_run(void)
{
	ha_dmq_job_t *j;

	lock_get(&_ha_dmq_q->lock);
	if(_ha_dmq_q->jhead == _ha_dmq_q->jtail) {
		lock_release(&_ha_dmq_q->lock);
		return;
	}
	/* only this process changes or frees a queued job */
	j = &_ha_dmq_q->j[_ha_dmq_q->jhead % HA_DMQ_JOBS];
	lock_release(&_ha_dmq_q->lock);
	if(job_run(j)) {
		lock_get(&_ha_dmq_q->lock);
		_ha_dmq_q->jhead++;
		lock_release(&_ha_dmq_q->lock);
	}
}

/* The send process's tick: send what is queued, in order; then the batch
 * jobs; every sync_interval, queue the periodic broadcast. */
static void dmq_send_tick(unsigned int ticks, void *param)
{
	static int64_t next_bcast = -1;
	int64_t now;

	(void)ticks;
	(void)param;
	dmq_send_queued();
	if(_ha_sync_interval > 0) {
		now = ha_now_ms();
		if(next_bcast < 0)
			next_bcast = now + _ha_sync_interval;
		if(now >= next_bcast) {
			next_bcast = now + _ha_sync_interval;
			ha_dmq_job_queue("", 0);
		}
	}
	jobs_run();
}

/* Copy the first queued message into *o; with take, take it off the
 * queue. Only this process takes messages off, so what a look saw is still
 * first at the next. Returns 1, or 0 when the queue is empty. */
static int queue_first(ha_dmq_out_t *o, int take)
{
	lock_get(&_ha_dmq_q->lock);
	if(_ha_dmq_q->head == _ha_dmq_q->tail) {
		lock_release(&_ha_dmq_q->lock);
		return 0;
	}
	*o = _ha_dmq_q->m[_ha_dmq_q->head % HA_DMQ_QUEUE];
	if(take)
		_ha_dmq_q->head++;
	lock_release(&_ha_dmq_q->lock);
	return 1;
}

/* Is queued message o a change of this proxy's for the whole pool? m: it,
 * decoded. */
static int pool_change(const ha_dmq_out_t *o, ha_peer_msg_t *m)
{
	return o->to[0] == '\0' && ha_peer_decode(o->body, (size_t)o->len, m) == 0
		   && m->op == HA_PEER_CHANGE;
}

/* first, a change for the whole pool, is followed by more in the queue:
 * send them together, as one batch of changes of up to HA_PEER_CHUNK_MAX
 * bytes, taking them off the queue. Each change is a tm transaction per
 * peer, kept in shared memory for tm's wait_timer (5 s) after its answer:
 * 2,000 pairs switching at once were 4,000 transactions in a pool of three
 * (32 MB with Debian's allocator); batched, about 40. Returns how many
 * changes went out (0: the batch could not be sent, logged). */
static int send_changes(const ha_peer_msg_t *first)
{
	static char buf[HA_PEER_CHUNK_MAX];
	ha_dmq_out_t o;
	ha_peer_msg_t m;
	size_t n;
	int len, cnt = 1;

	len = ha_peer_batch_begin_changes(buf, sizeof(buf), _ha_dmq_self);
	if(len < 0)
		return 0;
	n = (size_t)len;
	if(ha_peer_batch_add(buf, sizeof(buf), &n, first) < 0)
		return 0; /* cannot be: a change is 1 KB at most */
	while(queue_first(&o, 0) && pool_change(&o, &m)
			&& ha_peer_batch_add(buf, sizeof(buf), &n, &m) == 0) {
		queue_first(&o, 1);
		cnt++;
	}
	if(ha_peer_batch_end(buf, sizeof(buf), &n, 1) < 0
			|| dmq_send("", buf, (int)n) < 0) {
		LM_ERR("%d pair changes could not be sent to the pool\n", cnt);
		return 0;
	}
	update_stat(_ha_stat_batches_sent, 1);
	if((long)n > (long)get_stat_val(_ha_stat_batch_max))
		update_stat(_ha_stat_batch_max,
				(long)n - (long)get_stat_val(_ha_stat_batch_max));
	return cnt;
}

/* Send the queued messages, in order; changes for the whole pool that
 * follow each other go out together (send_changes()). */
static void dmq_send_queued(void)
{
	ha_dmq_out_t o, next;
	ha_peer_msg_t m, m2;
	int rc;

	while(queue_first(&o, 1)) {
		if(pool_change(&o, &m) && queue_first(&next, 0)
				&& pool_change(&next, &m2)) {
			update_stat(_ha_stat_peer_sent, send_changes(&m));
			continue;
		}
		rc = dmq_send(o.to, o.body, o.len);
		if(rc == -2)
			continue;
		if(rc < 0)
			LM_ERR("a pair change could not be sent to the pool\n");
		else
			update_stat(_ha_stat_peer_sent, 1);
	}
}

/* The pool parameters, checked whether enable_dmq is on or not. Returns
 * 0, or -1 (logged). */
static int dmq_params_check(void)
{
	if(_ha_enable_dmq != 0 && _ha_enable_dmq != 1) {
		LM_ERR("enable_dmq %d: 0 (off) or 1 (on)\n", _ha_enable_dmq);
		return -1;
	}
	if(_ha_sync_timeout < 0 || _ha_sync_timeout > HA_SYNC_TIMEOUT_MAX) {
		LM_ERR("sync_timeout %d ms: 0 (no wait) to %d ms\n", _ha_sync_timeout,
				HA_SYNC_TIMEOUT_MAX);
		return -1;
	}
	if(_ha_sync_interval != 0
			&& (_ha_sync_interval < HA_SYNC_INTERVAL_MIN
					|| _ha_sync_interval > HA_SYNC_INTERVAL_MAX)) {
		LM_ERR("sync_interval %d ms: 0 (off) or %d to %d ms\n",
				_ha_sync_interval, HA_SYNC_INTERVAL_MIN, HA_SYNC_INTERVAL_MAX);
		return -1;
	}
	return 0;
}

/* Find the loaded dmq module and take from it what ha_pair needs: its
 * server_address (this proxy's origin), its node list (to lock) and its
 * API. Returns 0, or -1 (logged) when dmq is missing or not usable. */
static int dmq_bind(void)
{
	struct sr_module *mod;
	str *addr;
	modparam_t ptype;

	mod = find_module_by_name("dmq");
	if(mod == NULL || find_export("bind_dmq", 0, 0) == NULL) {
		LM_ERR("enable_dmq is 1 but the dmq module is not loaded: add "
			   "loadmodule \"dmq.so\" (before ha_pair.so), or set "
			   "enable_dmq to 0\n");
		return -1;
	}
	addr = find_param_export(mod, "server_address", PARAM_STR, &ptype);
	if(addr == NULL || addr->s == NULL || addr->len <= 0) {
		LM_ERR("enable_dmq is 1 but dmq's server_address is not set\n");
		return -1;
	}
	if(addr->len >= HA_ORIGIN_MAX) {
		LM_ERR("dmq's server_address '%.*s' is longer than %d characters\n",
				addr->len, addr->s, HA_ORIGIN_MAX - 1);
		return -1;
	}
	_ha_dmq_nodes = (dmq_node_list_t **)dlsym(mod->handle, "dmq_node_list");
	if(_ha_dmq_nodes == NULL) {
		LM_ERR("enable_dmq is 1 but the dmq module has no node list symbol "
			   "(dmq_node_list) to lock: this dmq is not one ha_pair "
			   "supports\n");
		return -1;
	}
	memcpy(_ha_dmq_self, addr->s, addr->len);
	_ha_dmq_self[addr->len] = '\0';
	if(dmq_load_api(&_ha_dmqb) != 0) {
		LM_ERR("cannot bind the dmq module's API\n");
		return -1;
	}
	return 0;
}

/* Register ha_pair as a dmq peer: its KDMQ requests come to
 * handle (ha_dmq_handle() of ha_dmq_recv.c), the node list's arrival to
 * dmq_init_cb(). Returns 0, or
 * -1 (logged). */
static int dmq_peer_register(peer_callback_t handle)
{
	dmq_peer_t peer;

	memset(&peer, 0, sizeof(peer));
	peer.callback = handle;
	peer.init_callback = dmq_init_cb;
	peer.peer_id.s = HA_DMQ_PEER_ID;
	peer.peer_id.len = sizeof(HA_DMQ_PEER_ID) - 1;
	peer.description.s = HA_DMQ_PEER_ID;
	peer.description.len = sizeof(HA_DMQ_PEER_ID) - 1;
	_ha_dmq_peer = _ha_dmqb.register_dmq_peer(&peer);
	if(_ha_dmq_peer == NULL) {
		LM_ERR("cannot register with dmq (is dmq loaded before ha_pair?)\n");
		return -1;
	}
	return 0;
}

/* The send queue in shared memory, empty, with its lock. Returns 0, or -1
 * (logged; nothing stays allocated). */
static int dmq_queue_make(void)
{
	_ha_dmq_q = shm_malloc(sizeof(*_ha_dmq_q));
	if(_ha_dmq_q == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	_ha_dmq_q->head = _ha_dmq_q->tail = 0;
	_ha_dmq_q->jhead = _ha_dmq_q->jtail = 0;
	if(lock_init(&_ha_dmq_q->lock) == NULL) {
		LM_ERR("cannot init the dmq send queue's lock\n");
		shm_free(_ha_dmq_q);
		_ha_dmq_q = NULL;
		return -1;
	}
	return 0;
}

int ha_dmq_mod_init(peer_callback_t handle)
{
	if(register_module_stats("ha_pair", ha_dmq_stats) != 0) {
		LM_ERR("cannot register the pool statistics\n");
		return -1;
	}
	if(dmq_params_check() < 0)
		return -1;
	if(!_ha_enable_dmq)
		return ha_dmq_sec_mod_init(); /* its statistics, its parameters */
	if(dmq_bind() < 0 || ha_dmq_sec_mod_init() < 0
			|| dmq_peer_register(handle) < 0 || dmq_queue_make() < 0)
		return -1;
	if(register_basic_timers(1) < 0) {
		LM_ERR("cannot reserve the dmq send process\n");
		return -1;
	}
	/* requests wait for the pool's answer (or sync_timeout) */
	if(_ha_sync_timeout > 0)
		sync_begin_all();
	LM_INFO("pool replication over dmq on, this proxy is %s\n", _ha_dmq_self);
	return 0;
}

int ha_dmq_fork(void)
{
	if(!_ha_enable_dmq)
		return 0;
	if(fork_basic_utimer(PROC_TIMER, "ha_pair dmq", 1 /* socks */,
			   dmq_send_tick, NULL, HA_DMQ_TICK_US)
			< 0) {
		LM_ERR("cannot start the dmq send process\n");
		return -1;
	}
	return 0;
}

void ha_dmq_destroy(void)
{
	ha_dmq_sec_destroy();
	if(_ha_dmq_q != NULL) {
		shm_free(_ha_dmq_q);
		_ha_dmq_q = NULL;
	}
}
