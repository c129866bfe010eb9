/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_failover.c - after a failed transaction, and while a pair hunts:
 * ha_failover() (docs/ha_pair.md) looks at the failed branch, asks for a probe of
 * its member and takes the verdict (retry on the other member, the
 * member's own failure, or the transaction waits suspended); ha_wait()
 * makes a request wait for a hunting pair. The waiting itself (tm
 * suspend/continue, the wait lists) is ha_wait.c's. */

#include <string.h>
#include <stdio.h>

#include "../../core/data_lump_rpl.h"
#include "../../core/dprint.h"
#include "../../core/dset.h"
#include "../../core/trim.h"
#include "../../modules/tm/tm_load.h"

#include "ha_failover.h"
#include "ha_addr.h"
#include "ha_dns.h"
#include "ha_fsm.h"
#include "ha_pair.h"
#include "ha_route.h"
#include "ha_sched.h"
#include "ha_store.h"
#include "ha_table.h"
#include "ha_time.h"
#include "ha_wait.h"

/* What the picked (failed) branch of a failure_route's transaction says. */
typedef struct ha_failed
{
	struct cell *t;
	int branch;
	int blind;	  /* the branch of a suspended wait (its bound, a CANCEL) */
	int evidence; /* a failure that may say the member is down */
	ha_pair_t *p; /* the pair of the member it went to, or NULL */
	ha_role_t role;
} ha_failed_t;

/* Look at the picked branch of the current transaction: which pair member
 * it went to, found from its destination address within the pair
 * ha_route() chose for the request (or, without one, the only pair that
 * has a member at that address), and whether its failure is evidence
 * about the member: a local timeout (408), a 503, or a transport error
 * (a local 477 or 500); not a request this proxy could not send over UDP
 * (its size: no datagram left, the member never saw it). Returns 0, or -1
 * when there is no failed branch to look at. */
static int failed_branch(ha_table_t *tbl, ha_failed_t *fb)
{
	struct cell *t;
	struct ip_addr ip;
	ha_addr_t a;
	ha_pair_t *pairs[2], *routed;
	int roles[2];
	int b, code, local, n, i, port;

	memset(fb, 0, sizeof(*fb));
	fb->role = HA_ROLE_NONE;
	t = _ha_tmb.t_gett();
	if(t == NULL || t == T_UNDEFINED)
		return -1;
	/* the branch that failed now: the newest one (branches are added one
	 * after the other, each retry after the previous one ended). Not tm's
	 * picked branch: it picks the best reply of all branches, and after a
	 * wait the wait's branch (a 500 tm sets when it continues) would win
	 * over a member's 503. */
	b = (int)t->nr_of_outgoings - 1;
	if(b < 0)
		return -1;
	fb->t = t;
	fb->branch = b;
	if((t->uac[b].flags & TM_UAC_FLAG_BLIND)
			|| t->uac[b].request.buffer == NULL) {
		fb->blind = 1;
		return 0;
	}
	code = t->uac[b].last_received;
	local = t->uac[b].reply == FAKED_REPLY || t->uac[b].reply == NULL;
	fb->evidence = code == 503
				   || (local && (code == 408 || code == 477 || code == 500));
	su2ip_addr(&ip, &t->uac[b].request.dst.to);
	ha_addr_from_ip(&a, &ip);
	port = su_getport(&t->uac[b].request.dst.to);
	routed = ha_route_remembered(tbl);
	if(routed != NULL) {
		for(i = 0; i < HA_ROLE_COUNT; i++) {
			if(ha_member_has(&routed->m[i], &a, port, 0)) {
				fb->p = routed;
				fb->role = (ha_role_t)i;
				break;
			}
		}
	} else {
		n = ha_table_by_addr(tbl, &a, port, 0, pairs, roles, 2);
		if(n == 1) {
			fb->p = pairs[0];
			fb->role = (ha_role_t)roles[0];
		} else if(n > 1) {
			LM_DBG("the failed branch went to a member of %d pairs, and no "
				   "ha_route() said which: nothing to do\n",
					n);
		}
	}
	/* tm could not send it at all (908): over UDP that is this proxy's own
	 * failure (too big for a datagram, no route: the member never saw it),
	 * over TCP/TLS a refused connection, the member's */
	if(fb->p != NULL && fb->evidence && fb->p->m[fb->role].proto == PROTO_UDP
			&& local && t->uac[b].icode == 908)
		fb->evidence = 0;
	return 0;
}

/* What the failed branch b of t brought: its status, reason phrase and
 * Retry-After (the reply is there while the failure route runs). */
static void member_failure(struct cell *t, int b, ha_mfail_t *mf)
{
	struct sip_msg *rpl;
	struct hdr_field *hf;
	str v;

	rpl = t->uac[b].reply;
	memset(mf, 0, sizeof(*mf));
	mf->code = t->uac[b].last_received;
	if(mf->code < 300 || mf->code > 699)
		mf->code = 408;
	snprintf(mf->reason, sizeof(mf->reason), "%s",
			mf->code == 408 ? "Request Timeout" : "Service Unavailable");
	if(rpl == NULL || rpl == FAKED_REPLY)
		return;
	v = rpl->first_line.u.reply.reason;
	if(v.len > 0 && v.len < (int)sizeof(mf->reason)) {
		memcpy(mf->reason, v.s, v.len);
		mf->reason[v.len] = '\0';
	}
	if(parse_headers(rpl, HDR_EOH_F, 0) < 0)
		return;
	for(hf = rpl->headers; hf != NULL; hf = hf->next) {
		if(hf->type != HDR_RETRY_AFTER_T)
			continue;
		v = hf->body;
		trim(&v);
		if(v.len > 0 && v.len < (int)sizeof(mf->retry_after)) {
			memcpy(mf->retry_after, v.s, v.len);
			mf->retry_after[v.len] = '\0';
		}
		break;
	}
}

/* Answer msg's transaction 503, with Retry-After (retry_after). Returns
 * what tm's t_reply() does. */
static int reply_503(struct sip_msg *msg)
{
	char ra[48];
	int n;

	if(_ha_retry_after > 0) {
		n = snprintf(ra, sizeof(ra), "Retry-After: %d\r\n", _ha_retry_after);
		if(add_lump_rpl(msg, ra, n, LUMP_RPL_HDR) == NULL)
			LM_WARN("cannot add Retry-After to the reply\n");
	}
	return _ha_tmb.t_reply(msg, 503, "Service Unavailable");
}

/* Answer the caller with the failure a member brought. */
static int reply_member_failure(struct sip_msg *msg, const ha_mfail_t *mf)
{
	char ra[80];
	int n;

	if(mf->code < 300)
		return reply_503(msg);
	if(mf->retry_after[0] != '\0') {
		n = snprintf(ra, sizeof(ra), "Retry-After: %s\r\n", mf->retry_after);
		if(add_lump_rpl(msg, ra, n, LUMP_RPL_HDR) == NULL)
			LM_WARN("cannot copy Retry-After into the reply\n");
	}
	return _ha_tmb.t_reply(msg, mf->code, (char *)mf->reason);
}

/* ha_failover() called in the failure route a verdict continued into. */
static int failover_verdict(
		struct sip_msg *msg, ha_table_t *t, const ha_cont_t *c)
{
	ha_pair_t *p;
	str name;

	switch(c->verdict) {
		case HA_WV_RETRY:
			name.s = (char *)c->pair;
			name.len = strlen(c->pair);
			p = ha_table_by_name(t, &name);
			if(p == NULL || c->retry == HA_ROLE_NONE)
				break;
			if(set_dst_uri(msg, &p->m[c->retry].uri) < 0) {
				LM_ERR("cannot set the destination URI\n");
				return -3;
			}
			ruri_mark_new(); /* the R-URI makes a new branch for t_relay() */
			/* the transaction's own timers again for the new branch */
			_ha_tmb.set_fr(msg, c->fr_inv_ms, c->fr_ms);
			update_stat(_ha_stat_requests_routed, 1);
			return 1;
		case HA_WV_ANSWERED:
			LM_DBG("pair '%s': the member answered: its failure stands\n",
					c->pair);
			reply_member_failure(msg, &c->fail);
			return 0;
		default:
			break;
	}
	reply_503(msg);
	return 0;
}

/* A transaction that waited and ended blind: its bound passed (503), or
 * it was canceled (-1: tm answers it). */
static int failover_blind(struct sip_msg *msg, ha_failed_t *fb)
{
	str pair;

	if(ha_wait_pair_avp(&pair) == NULL)
		return -1;
	if(fb->t->flags & T_CANCELED) {
		ha_wait_take(fb->t, &pair, 0);
		return -1;
	}
	ha_wait_take(fb->t, &pair, 1);
	update_stat(_ha_stat_wait_timeouts, 1);
	/* DBG: in an outage this happens to every waiting transaction;
	 * wait_timeouts counts them */
	LM_DBG("pair '%.*s': no member answered within the bound: 503\n", pair.len,
			pair.s);
	reply_503(msg);
	return 0;
}

/* The failure of fb's member is a reason to probe it at once: ask the
 * state machine, and take its verdict for this transaction now (retry,
 * answered, wait) into *wp / *retry. Returns the verdict, with *held set
 * when the pair is held. */
static ha_verdict_t failover_verify(
		ha_failed_t *fb, ha_waitpoint_t *wp, ha_role_t *retry, int *held)
{
	ha_fsm_t *f = &fb->p->st->fsm;
	uint64_t verifies;
	ha_verdict_t v;
	int rc;

	lock_get(&fb->p->st->lock);
	*held = f->held;
	wp->since_ms = ha_now_ms();
	wp->force_runs = f->force_runs;
	verifies = f->verifies;
	rc = ha_fsm_verify(f, fb->role, wp->since_ms);
	verifies = f->verifies - verifies;
	/* a transaction that failed on a member that is not the active one
	 * (or while the pair hunts) waits for the active member */
	wp->failed = rc > 0 ? fb->role : HA_ROLE_NONE;
	v = ha_fsm_wait_verdict(f, wp, retry);
	if(rc > 0)
		ha_sched_update(fb->p);
	lock_release(&fb->p->st->lock);
	if(verifies > 0)
		update_stat(_ha_stat_verify_probes, (int)verifies);
	return v;
}

/* Suspend the transaction of fb until its pair's verdict (0), or answer
 * 503 when too many wait on the pair already (0); -2 when it cannot
 * wait. */
static int failover_wait(struct sip_msg *msg, ha_failed_t *fb,
		const ha_waitpoint_t *wp, const ha_mfail_t *mf)
{
	int rc;

	/* the wait point of the verification: an answer to its probe that
	 * comes before the waiter is on the list still counts */
	rc = ha_wait_suspend(msg, fb->p, wp, mf, fb->t->uac[fb->branch].on_failure);
	if(rc == 0) {
		LM_DBG("pair '%.*s': %s failed a transaction: it waits for the "
			   "verdict\n",
				fb->p->name.len, fb->p->name.s, ha_role_name(fb->role));
		return 0;
	}
	if(rc == -2) {
		/* too many wait on the pair: no verdict for this one */
		reply_503(msg);
		return 0;
	}
	return -2;
}

/* ha_failover() (docs/ha_pair.md), with table tbl pinned. */
static int failover_request(struct sip_msg *msg, ha_table_t *tbl)
{
	const ha_cont_t *c;
	struct cell *t;
	ha_mfail_t mf;
	ha_failed_t fb;
	ha_verdict_t v;
	ha_waitpoint_t wp;
	ha_role_t retry = HA_ROLE_NONE;
	int held;

	c = ha_cont_get();
	if(c != NULL) {
		t = _ha_tmb.t_gett();
		if(t != NULL && t != T_UNDEFINED && t->hash_index == c->tindex
				&& t->label == c->tlabel)
			return failover_verdict(msg, tbl, c);
	}
	if(failed_branch(tbl, &fb) < 0) {
		LM_ERR("ha_failover: no failed branch to look at\n");
		return -3;
	}
	if(fb.blind)
		return failover_blind(msg, &fb);
	if(fb.p == NULL || !fb.evidence)
		return -1; /* not a member, or no evidence about one */
	if(fb.t->flags & T_CANCELED)
		return -1;
	v = failover_verify(&fb, &wp, &retry, &held);
	if(held)
		return -2; /* pinned: nowhere else to go, the failure stands */
	if(v == HA_WV_RETRY) {
		if(set_dst_uri(msg, &fb.p->m[retry].uri) < 0) {
			LM_ERR("cannot set the destination URI\n");
			return -3;
		}
		ruri_mark_new();
		LM_INFO("pair '%.*s': %s failed a transaction, retrying on %s\n",
				fb.p->name.len, fb.p->name.s, ha_role_name(fb.role),
				ha_role_name(retry));
		return 1;
	}
	member_failure(fb.t, fb.branch, &mf);
	if(v == HA_WV_ANSWERED) {
		/* a probe of the member was answered in this very millisecond: it
		 * is alive, the failure stands. Answered here, as after a wait: tm
		 * relaying the member's 503 itself would turn it into a 500 (its
		 * remap_503_500) */
		LM_DBG("pair '%.*s': the member answered: its failure stands\n",
				fb.p->name.len, fb.p->name.s);
		reply_member_failure(msg, &mf);
		return 0;
	}
	if(v != HA_WV_WAIT)
		return -2;
	return failover_wait(msg, &fb, &wp, &mf);
}

int ha_failover_request(struct sip_msg *msg)
{
	ha_table_t *t;
	int rc;

	if(!_ha_tm_loaded || !(get_route_type() & (FAILURE_ROUTE))) {
		LM_ERR("ha_failover() works in a failure_route, with tm\n");
		return -3;
	}
	t = ha_table_pin(); /* every pair and member it looks at is in t */
	rc = failover_request(msg, t);
	ha_table_unpin(t);
	return rc;
}
