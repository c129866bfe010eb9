/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_dmq_recv.c - the handler of the pool peers' KDMQ requests for ha_pair:
 * the source check, decoding, taking a change, a state or a batch of
 * states (each a claim a probe confirms), a starting proxy's sync request
 * and the end of an answer to this proxy's own sync. */

#include <string.h>

#include "../../core/dprint.h"
#include "../../core/ip_addr.h"
#include "../../core/parser/msg_parser.h"
#include "../../core/parser/parse_content.h"

#include "ha_dmq_recv.h"
#include "ha_dmq_int.h"
#include "ha_dmq_sec.h"
#include "ha_fsm.h"
#include "ha_peer.h"
#include "ha_sched.h"
#include "ha_store.h"
#include "ha_table.h"
#include "ha_text.h"
#include "ha_time.h"

static str _ha_dmq_ok = str_init("OK");
static str _ha_dmq_bad = str_init("Bad Request");
static str _ha_dmq_forbidden = str_init("Forbidden");

/* A starting proxy (to) asks for the state of every pair: the send
 * process answers in batches. */
static void dmq_sync_answer(const char *to)
{
	ha_dmq_job_queue(to, 1);
}

/* The body of a KDMQ request (len bytes at *body). Returns 0, or -1. */
static int dmq_msg_body(struct sip_msg *msg, char **body, int *len)
{
	if(msg->content_length == NULL
			&& (parse_headers(msg, HDR_CONTENTLENGTH_F, 0) < 0
					|| msg->content_length == NULL))
		return -1;
	*len = get_content_length(msg);
	*body = get_body(msg);
	if(*body == NULL || *len <= 0 || *body + *len > msg->buf + msg->len)
		return -1;
	return 0;
}

/* Is pair p the pair m is about (same name and member URIs)? */
static int same_identity(const ha_pair_t *p, const ha_peer_msg_t *m)
{
	int i;

	for(i = 0; i < HA_ROLE_COUNT; i++) {
		if(p->m[i].uri.len != (int)strlen(m->uri[i])
				|| memcmp(p->m[i].uri.s, m->uri[i], p->m[i].uri.len) != 0)
			return 0;
	}
	return 1;
}

/* Take a peer's change or state m about a pair of table t (pinned), sent
 * by the node at from (its signed origin: answers go there only). It
 * never waits for the claim's probe: the prober sends it, and the verdict
 * is taken there. A state is also the pool's answer for a syncing pair. */
static void dmq_take(ha_table_t *t, const ha_peer_msg_t *m, const char *from)
{
	ha_pair_t *p;
	ha_peer_verdict_t v;
	int synced = 0, answer = 0;
	int64_t now;
	str name;

	update_stat(_ha_stat_peer_received, 1);
	name.s = (char *)m->pair;
	name.len = strlen(m->pair);
	p = t != NULL ? ha_table_by_name(t, &name) : NULL;
	if(p == NULL || !same_identity(p, m)) {
		/* another pairs file (or an older or newer one) on that peer */
		LM_DBG("pool change of pair '%s', which this proxy has not (or "
			   "with other members): ignored\n",
				HA_LOG_STR(m->pair, sizeof(m->pair)));
		return;
	}
	lock_get(&p->st->lock);
	now = ha_now_ms();
	v = ha_fsm_peer(&p->st->fsm, m->active, m->version, m->origin, _ha_dmq_self,
			m->op == HA_PEER_CHANGE, now);
	/* a stale or held change is answered with this proxy's state, once
	 * per oos-check at most: forged ones cannot fill the send queue */
	if((v == HA_PEERV_STALE || v == HA_PEERV_HELD) && m->op == HA_PEER_CHANGE)
		answer = ha_fsm_answer_due(&p->st->fsm, now) ? 1 : -1;
	if(m->op == HA_PEER_STATE)
		synced = ha_fsm_sync_answer(&p->st->fsm, v);
	if(v == HA_PEERV_CLAIM || v == HA_PEERV_PENDING || synced)
		ha_sched_update(p); /* the prober sends the claim's probe now */
	lock_release(&p->st->lock);
	if(synced)
		update_stat(_ha_stat_syncs, 1);
	/* a stale or held change: its sender is behind, or refused here;
	 * tell it what this proxy has (at most once per oos-check) */
	if(answer > 0)
		ha_dmq_answer(p, from);
	else if(answer < 0)
		update_stat(_ha_stat_peer_answers_suppressed, 1);
	switch(v) {
		case HA_PEERV_STALE:
			update_stat(_ha_stat_peer_stale, 1);
			break;
		case HA_PEERV_AGREE:
			update_stat(_ha_stat_peer_agreed, 1);
			break;
		case HA_PEERV_HELD:
			update_stat(_ha_stat_peer_refused, 1);
			break;
		case HA_PEERV_RANGE:
			/* forged (no pool gets that far ahead): not logged, a flood
			 * would fill the log; the statistic and the pair's
			 * peer_out_of_range count them */
			update_stat(_ha_stat_peer_rejected_range, 1);
			break;
		default:
			break;
	}
	LM_DBG("pair '%s': pool change %s v%llu from %s: %d\n",
			HA_LOG_STR(m->pair, sizeof(m->pair)), ha_role_name(m->active),
			(unsigned long long)m->version,
			HA_LOG_STR(m->origin, sizeof(m->origin)), (int)v);
}

/* What a batch's states are taken with. */
typedef struct dmq_take_ctx
{
	ha_table_t *t;
	const char *from;
} dmq_take_ctx_t;

static void dmq_take_cb(const ha_peer_msg_t *m, void *arg)
{
	dmq_take_ctx_t *c = (dmq_take_ctx_t *)arg;

	dmq_take(c->t, m, c->from);
}

/* A peer's answer to this proxy's sync is complete: the pairs it did not
 * name (in FORCE there, or not in its pairs file) stop waiting, unless an
 * answer's claim is being confirmed. */
static void dmq_sync_complete(ha_table_t *t, const char *from)
{
	int i, n = 0, r;

	for(i = 0; t != NULL && i < t->npairs; i++) {
		lock_get(&t->pairs[i].st->lock);
		r = ha_fsm_sync_done(&t->pairs[i].st->fsm);
		lock_release(&t->pairs[i].st->lock);
		n += r;
	}
	if(n > 0)
		update_stat(_ha_stat_syncs, n);
	LM_DBG("the sync answer of %s is complete (%d pairs it did not name)\n",
			HA_LOG_STR(from, HA_ORIGIN_MAX), n);
}

/* Did msg come from the address of a node of the pool other than this
 * proxy (dmq's node list, under its lock)? dmq hands every KDMQ request
 * to its peers whatever its source (the node it names comes from the From
 * URI, which anyone can write), so ha_pair looks at the source itself, as
 * dmq's own dmq_is_from_node() does. */
static int from_pool_node(struct sip_msg *msg)
{
	dmq_node_list_t *list = *_ha_dmq_nodes;
	dmq_node_t *n;
	int found = 0;

	lock_get(&list->lock);
	for(n = list->nodes; n != NULL && !found; n = n->next)
		found = !n->local && ip_addr_cmp(&msg->rcv.src_ip, &n->ip_address);
	lock_release(&list->lock);
	return found;
}

/* Decode the message inside a genuine envelope sent by from: a single
 * message into *m (*batch 0) or a batch, checked whole into *b (*batch
 * 1). What the sender says of itself must be the signed origin: a sync's
 * and a batch's origin, a change's (a change is its sender's own).
 * Returns 0, or -1 when it is malformed. */
static int dmq_decode(const ha_dmq_opened_t *o, ha_peer_msg_t *m,
		ha_peer_batch_t *b, int *batch)
{
	*batch = 0;
	if(ha_peer_decode(o->msg, o->len, m) == 0)
		return m->op == HA_PEER_STATE || strcmp(m->origin, o->h.origin) == 0
					   ? 0
					   : -1;
	*batch = 1;
	if(ha_peer_batch_decode(o->msg, o->len, b, NULL, NULL) < 0)
		return -1;
	return strcmp(b->origin, o->h.origin) == 0 ? 0 : -1;
}

/* A KDMQ request for ha_pair, in a dmq worker: a peer's change (or its
 * answer), a starting proxy's sync, or a batch of states. From an address
 * that is no node of the pool: refused (403), not read. Then its envelope
 * (ha_dmq_open()): dropped unless signed by a pool key, sent by the node
 * its source address is, for this proxy, in time and not seen before; a
 * genuine retransmission is answered 200 and not taken again. */
int ha_dmq_handle(struct sip_msg *msg, peer_reponse_t *resp, dmq_node_t *node)
{
	ha_dmq_opened_t o;
	ha_peer_msg_t m;
	ha_peer_batch_t b;
	dmq_take_ctx_t c;
	char *body;
	int len, batch;

	(void)node;
	if(!from_pool_node(msg)) {
		/* DBG: anyone can send these; the statistic counts them */
		LM_DBG("a pool message from %s:%d, no node of the pool: refused\n",
				ip_addr2a(&msg->rcv.src_ip), msg->rcv.src_port);
		update_stat(_ha_stat_peer_foreign, 1);
		resp->reason = _ha_dmq_forbidden;
		resp->resp_code = 403;
		return 0;
	}
	resp->reason = _ha_dmq_ok;
	resp->resp_code = 200;
	if(dmq_msg_body(msg, &body, &len) < 0) {
		ha_dmq_reject_content(msg);
		resp->reason = _ha_dmq_bad;
		resp->resp_code = 400;
		return 0;
	}
	switch(ha_dmq_open(msg, body, len, &o)) {
		case HA_OPEN_OK:
			break;
		case HA_OPEN_DUP:
			return 0;
		default:
			resp->reason = o.code == 400 ? _ha_dmq_bad : _ha_dmq_forbidden;
			resp->resp_code = o.code;
			return 0;
	}
	if(dmq_decode(&o, &m, &b, &batch) < 0) {
		ha_dmq_reject_content(msg);
		resp->reason = _ha_dmq_bad;
		resp->resp_code = 400;
		return 0;
	}
	if(!batch && m.op == HA_PEER_SYNC) {
		update_stat(_ha_stat_peer_received, 1);
		/* once per boot of the asking node, and to it only */
		if(ha_dmq_sync_first(o.h.origin, o.h.boot))
			dmq_sync_answer(o.h.origin);
		else
			LM_DBG("a repeated sync request of %s: answered already\n",
					HA_LOG_STR(o.h.origin, sizeof(o.h.origin)));
		return 0;
	}
	c.t = ha_table_pin(); /* its pairs and their strings are valid until the
						   * unpin */
	c.from = o.h.origin;
	if(!batch) {
		dmq_take(c.t, &m, c.from);
	} else {
		ha_peer_batch_decode(o.msg, o.len, &b, dmq_take_cb, &c);
		if(b.sync && b.last)
			dmq_sync_complete(c.t, b.origin);
	}
	ha_table_unpin(c.t);
	return 0;
}
