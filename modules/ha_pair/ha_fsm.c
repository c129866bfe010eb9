/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_fsm.c - the pure per-pair probing state machine of ha_pair: start,
 * ticks (deadlines, retransmissions, due probes, the FORCE hunt), replies
 * and send failures, switchover, verification probes,
 * the operator's switch, hold and probe. What requests and transactions do
 * to a pair is in ha_fsm_req.c, pool replication's part in ha_fsm_pool.c. */

#include <string.h>
#include <stdint.h>
#include <stdio.h>

#include "ha_fsm.h"
#include "ha_codes.h"
#include "ha_fsm_int.h"

const char *ha_state_names[HA_ST_COUNT] = {
		[HA_ST_CHECK] = "CHECK",
		[HA_ST_FORCE] = "FORCE",
};

const char *ha_mstate_names[HA_MS_COUNT] = {
		[HA_MS_UNKNOWN] = "unknown",
		[HA_MS_UP] = "up",
		[HA_MS_DOWN] = "down",
};

const char *ha_reason_names[HA_RSN_COUNT] = {
		[HA_RSN_NONE] = "none",
		[HA_RSN_START] = "start",
		[HA_RSN_PROBE] = "probe",
		[HA_RSN_PASSIVE] = "passive",
		[HA_RSN_FAILOVER] = "failover",
		[HA_RSN_MANUAL] = "manual",
		[HA_RSN_PEER] = "peer",
};

const char *ha_role_name(ha_role_t r)
{
	switch(r) {
		case HA_ROLE_PRIMARY:
			return "primary";
		case HA_ROLE_BACKUP:
			return "backup";
		default:
			return "none";
	}
}

static void act_push(ha_actions_t *out, const ha_action_t *a)
{
	/* HA_MAX_ACTIONS is more than one call can produce; never overflow */
	if(out->n < HA_MAX_ACTIONS)
		out->a[out->n++] = *a;
}

static void act_send(ha_actions_t *out, ha_role_t m, uint32_t token, int rtx)
{
	ha_action_t a = {.type = HA_ACT_SEND,
			.member = m,
			.token = token,
			.retransmit = rtx,
			.old_role = HA_ROLE_NONE,
			.new_role = HA_ROLE_NONE};
	act_push(out, &a);
}

static void act_event(ha_actions_t *out, ha_act_type_t type, ha_role_t old,
		ha_role_t new, ha_reason_t reason, uint64_t version)
{
	ha_action_t a = {.type = type,
			.member = HA_ROLE_NONE,
			.old_role = old,
			.new_role = new,
			.reason = reason,
			.version = version};
	act_push(out, &a);
}

static uint32_t new_token(ha_fsm_t *f)
{
	uint32_t t = f->next_token++;

	if(t == 0)
		t = f->next_token++;
	return t;
}

/* Start a probe of member m with a deadline len_ms from now. The caller has
 * made sure that m has no probe in flight. */
static void probe_start(
		ha_fsm_t *f, ha_role_t m, int len_ms, int64_t now, ha_actions_t *out)
{
	ha_mfsm_t *mm = &f->m[m];
	ha_probe_t *p = &mm->probe;
	int t1;

	p->token = new_token(f);
	p->sent_ms = now;
	p->tx_ms = now;
	p->deadline_ms = now + len_ms;
	p->rtx_ms = 0;
	p->rtx_gap_ms = 0;
	p->verify = 0;
	p->resent = 0;
	if(!mm->reliable) {
		/* RFC 3261 17.1.2.2 style: T1 = min(500 ms, deadline / 4), doubling,
		 * so one lost datagram does not cost a switchover */
		t1 = len_ms / 4;
		if(t1 > HA_T1_MAX_MS)
			t1 = HA_T1_MAX_MS;
		if(t1 < 1)
			t1 = 1;
		p->rtx_gap_ms = t1;
		if(now + t1 < p->deadline_ms)
			p->rtx_ms = now + t1;
	}
	mm->probes_sent++;
	act_send(out, m, p->token, 0);
}

static void probe_clear(ha_probe_t *p)
{
	p->token = 0;
	p->rtx_ms = 0;
	p->verify = 0;
	p->resent = 0;
}

static ha_role_t other(ha_role_t m)
{
	return m == HA_ROLE_PRIMARY ? HA_ROLE_BACKUP : HA_ROLE_PRIMARY;
}

void ha_fsm_become_active(ha_fsm_t *f, ha_role_t m, ha_reason_t reason,
		int64_t now, ha_actions_t *out)
{
	ha_role_t old = f->active != HA_ROLE_NONE ? f->active : f->last_active;

	f->state = HA_ST_CHECK;
	f->active = m;
	f->last_active = m;
	f->attempt_open = 0;
	f->probe_all_ms = -1;
	f->round_fails = 0;
	f->split_rounds = 0;
	f->split = 0;
	if(f->claim == m) {
		f->claim = HA_ROLE_NONE; /* what it claimed is so now */
		f->claim_peer = 0;
	}
	if(f->disagree && f->disagree_member == m)
		f->disagree = 0; /* the views agree again */
	if(old != m) {
		f->switchovers++;
		f->last_reason = reason;
		f->last_switch_ms = now;
		ha_fsm_version_switch(f, reason);
		act_event(out, HA_ACT_SWITCH, old, m, reason, f->version);
	}
	if(f->down) {
		f->down = 0;
		act_event(out, HA_ACT_UP, old, m, reason, f->version);
	}
	if(f->cfg.probe_standby && f->next_standby_ms < 0)
		f->next_standby_ms = now + f->cfg.oos_check_ms;
}

static void enter_force(
		ha_fsm_t *f, ha_role_t failed, ha_reason_t why, int64_t now)
{
	f->state = HA_ST_FORCE;
	f->force_reason = why;
	f->last_active = f->active != HA_ROLE_NONE ? f->active : f->last_active;
	f->active = HA_ROLE_NONE;
	f->hunt = other(failed);
	f->attempt_open = 0;
	f->round_fails = 0;
	f->split_rounds = 0;
	f->force_runs++;
	if(f->next_attempt_ms < now)
		f->next_attempt_ms = now;
}

/* An attempt of the FORCE hunt ended without an answer. */
static void attempt_failed(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	f->round_fails++;
	if(f->round_fails >= HA_ROLE_COUNT && !f->down) {
		f->down = 1;
		act_event(out, HA_ACT_DOWN, f->last_active, HA_ROLE_NONE, HA_RSN_PROBE,
				f->version);
	}
	f->hunt = other(f->hunt);
	f->attempt_open = 0;
	f->next_attempt_ms = f->attempt_ms + HA_MIN_ATTEMPT_GAP_MS;
	if(f->next_attempt_ms < now)
		f->next_attempt_ms = now;
}

void ha_fsm_probe_within_force(ha_fsm_t *f, ha_role_t m, int64_t now)
{
	ha_mfsm_t *mm = &f->m[m];
	ha_probe_t *p = &mm->probe;
	int gap;

	if(p->deadline_ms > now + f->cfg.oos_force_ms) {
		p->deadline_ms = now + f->cfg.oos_force_ms;
		if(p->rtx_ms >= p->deadline_ms)
			p->rtx_ms = 0;
	}
	/* over UDP the datagram out may have been lost, or sent while the
	 * member was silent, and its next retransmission may be far (T1
	 * doubling) or past the new deadline: unless it went within the last
	 * quarter of oos-force, it goes again at the next tick, same token,
	 * its retransmissions starting over a quarter of oos-force apart (a
	 * claim taking over a start probe sent long before waited for a
	 * retransmission 166 ms away, or for none) */
	if(mm->reliable || p->token == 0)
		return;
	gap = f->cfg.oos_force_ms / 4;
	if(gap < 2)
		gap = 2;
	if(now - p->tx_ms >= gap && now + 1 < p->deadline_ms
			&& (p->rtx_ms == 0 || p->rtx_ms > now + 1)) {
		p->rtx_ms = now + 1;	 /* the next tick (a time ahead, as always) */
		p->rtx_gap_ms = gap / 2; /* doubled when it is sent */
	}
}

void ha_fsm_verify_join(ha_fsm_t *f, ha_role_t m, int64_t now)
{
	f->m[m].probe.verify = 1;
	ha_fsm_probe_within_force(f, m, now);
}

/* What member m's unanswered probe (sent at sent) means for the pair: in
 * CHECK, the active member's ends in the fresh standby or FORCE (with
 * reason why), the standby's ends a run of split rounds; in FORCE, the
 * hunt's ends its attempt. */
static void probe_failed_verdict(ha_fsm_t *f, ha_role_t m, int64_t sent,
		ha_reason_t why, int64_t now, ha_actions_t *out)
{
	ha_mfsm_t *om = &f->m[other(m)];

	if(f->state == HA_ST_CHECK) {
		if(m != f->active) {
			/* the run of "both alive" rounds ends: a new run may report
			 * a new split */
			f->split_rounds = 0;
			f->split = 0;
			return;
		}
		if(f->held)
			return;
		/* the other member answered alive since this probe went out (the
		 * backup's start probe, or probe_standby): no extra round needed */
		if(om->state == HA_MS_UP && om->last_ok_ms >= sent) {
			ha_fsm_become_active(f, other(m), why, now, out);
			f->next_probe_ms = now;
			return;
		}
		enter_force(f, m, why, now);
		return;
	}
	/* FORCE */
	if(f->attempt_open && m == f->hunt)
		attempt_failed(f, now, out);
}

/* Member m did not answer its probe (deadline, send failure, or a reply
 * that alive_codes does not accept). */
static void probe_failed(
		ha_fsm_t *f, ha_role_t m, int64_t now, ha_actions_t *out)
{
	ha_mfsm_t *mm = &f->m[m];
	int64_t sent = mm->probe.sent_ms;
	/* a verification that found the member silent: what follows is the
	 * failed transaction's doing */
	ha_reason_t why = mm->probe.verify ? HA_RSN_FAILOVER : HA_RSN_PROBE;

	if(mm->probe.verify) {
		f->verify_silent++;
		out->verified_silent++;
	}
	probe_clear(&mm->probe);
	mm->state = HA_MS_DOWN;
	mm->probes_unanswered++;
	out->unanswered++;
	mm->last_fail_ms = now;
	if(f->claim == m && f->claim_peer) {
		ha_fsm_peer_claim_silent(f, m, now, out);
	} else if(f->claim == m) {
		/* the member that said it was promoted does not answer: the
		 * request was not its own (forged), or it is gone again */
		f->claim = HA_ROLE_NONE;
		f->claims_unconfirmed++;
		out->unconfirmed++;
		out->unconfirmed_member = m;
	}
	probe_failed_verdict(f, m, sent, why, now, out);
}


void ha_fsm_init(ha_fsm_t *f, const ha_fsm_cfg_t *cfg, const int reliable[2],
		uint32_t token_seed, int64_t now, ha_actions_t *out)
{
	int i;

	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	f->state = HA_ST_CHECK;
	f->active = HA_ROLE_PRIMARY;
	f->last_active = HA_ROLE_PRIMARY;
	f->hunt = HA_ROLE_BACKUP;
	f->claim = HA_ROLE_NONE;
	f->disagree_member = HA_ROLE_NONE;
	f->next_token = token_seed;
	for(i = 0; i < HA_ROLE_COUNT; i++) {
		f->m[i].reliable = reliable[i];
		f->m[i].state = HA_MS_UNKNOWN;
		f->m[i].last_rtt_ms = -1;
		f->m[i].last_ok_ms = -1;
		f->m[i].last_fail_ms = -1;
		f->m[i].verify_ms = -1;
	}
	f->next_probe_ms = now;
	f->next_standby_ms = now; /* the backup is probed once at start */
	f->next_attempt_ms = now;
	f->probe_all_ms = -1;
	f->answer_ms = -1;
	f->last_reason = HA_RSN_START;
	f->last_switch_ms = now;
	act_event(
			out, HA_ACT_SWITCH, HA_ROLE_NONE, HA_ROLE_PRIMARY, HA_RSN_START, 0);
}

void ha_fsm_set_cfg(ha_fsm_t *f, const ha_fsm_cfg_t *cfg)
{
	int was = f->cfg.probe_standby;

	f->cfg = *cfg;
	if(!was && cfg->probe_standby && f->next_standby_ms < 0)
		f->next_standby_ms = f->next_probe_ms;
}

/* Probes whose deadline passed end unanswered first: that makes room for
 * the next ones. */
static void tick_deadlines(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	ha_probe_t *p;
	int i;

	for(i = 0; i < HA_ROLE_COUNT; i++) {
		p = &f->m[i].probe;
		if(p->token != 0 && now >= p->deadline_ms)
			probe_failed(f, (ha_role_t)i, now, out);
	}
}

/* Resend the probes (over UDP) whose retransmission is due, the gap
 * doubling each time. */
static void tick_retransmit(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	ha_probe_t *p;
	int i;

	for(i = 0; i < HA_ROLE_COUNT; i++) {
		p = &f->m[i].probe;
		if(p->token != 0 && p->rtx_ms != 0 && now >= p->rtx_ms) {
			act_send(out, (ha_role_t)i, p->token, 1);
			p->tx_ms = now;
			p->rtx_gap_ms *= 2;
			p->rtx_ms += p->rtx_gap_ms;
			/* a late tick sends one retransmission for those it missed,
			 * the next one a gap after now, never in the past */
			if(p->rtx_ms <= now)
				p->rtx_ms = now + p->rtx_gap_ms;
			if(p->rtx_ms >= p->deadline_ms)
				p->rtx_ms = 0;
		}
	}
}

/* Start the verifications asked for by failed transactions. */
static void tick_verifications(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	int i;

	for(i = 0; i < HA_ROLE_COUNT; i++) {
		if(f->m[i].verify_ms < 0 || now < f->m[i].verify_ms)
			continue;
		f->m[i].verify_ms = -1;
		/* the pair moved on meanwhile (a probe's verdict, an operator):
		 * nothing left to verify */
		if(f->state != HA_ST_CHECK || f->active != (ha_role_t)i || f->held)
			continue;
		if(f->m[i].probe.token == 0)
			probe_start(f, (ha_role_t)i, f->cfg.oos_force_ms, now, out);
		ha_fsm_verify_join(f, (ha_role_t)i, now);
	}
}

/* A claim to confirm: probe its member now (in FORCE the hunt takes this
 * probe over when the member's attempt comes). */
/* A claim whose probe is not out yet: sent now, before any other probe
 * of the tick (a tick may run with a time read before the claim was made:
 * the prober reads its clock once a tick, a dmq worker or a SIP worker
 * stamps the claim with its own), so that the claimed member is never left
 * to a probe with oos-check's deadline; one already out serves, brought
 * within oos-force, as ha_fsm_claim_start() does. */
static void tick_claim(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	if(f->claim == HA_ROLE_NONE || f->claim_sent)
		return;
	if(f->m[f->claim].probe.token == 0)
		probe_start(f, f->claim, f->cfg.oos_force_ms, now, out);
	else
		ha_fsm_probe_within_force(f, f->claim, now);
	f->claim_sent = 1;
}

/* CHECK: the active member's periodic probe, and the standby's (once at
 * start, or every oos-check with probe_standby). */
static void tick_check(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	ha_role_t s;

	if(f->m[f->active].probe.token == 0 && now >= f->next_probe_ms) {
		probe_start(f, f->active, f->cfg.oos_check_ms, now, out);
		/* How it decides (docs/ha_pair.md): the next one at this one's send time + oos-check (a
		 * probe sent late, e.g. held back by the pacing, keeps its place
		 * in the spread instead of joining the others) */
		f->next_probe_ms = now + f->cfg.oos_check_ms;
	}
	s = other(f->active);
	if(f->next_standby_ms >= 0 && now >= f->next_standby_ms
			&& f->m[s].probe.token == 0) {
		probe_start(f, s, f->cfg.oos_check_ms, now, out);
		if(f->cfg.probe_standby) {
			f->next_standby_ms += f->cfg.oos_check_ms;
			if(f->next_standby_ms <= now)
				f->next_standby_ms = now + f->cfg.oos_check_ms;
		} else {
			f->next_standby_ms = -1;
		}
	}
}

/* FORCE: one attempt at a time, alternating; and an operator's
 * ha_pair.probe. */
static void tick_force(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	int i;

	if(!f->attempt_open && now >= f->next_attempt_ms) {
		f->attempt_open = 1;
		f->attempt_ms = now;
		/* a probe already in flight serves as this attempt, with the
		 * attempt's deadline (one probe per member in flight) */
		if(f->m[f->hunt].probe.token == 0)
			probe_start(f, f->hunt, f->cfg.oos_force_ms, now, out);
		else
			ha_fsm_probe_within_force(f, f->hunt, now);
	}
	/* an operator's ha_pair.probe: every member with no probe in flight is
	 * probed now, outside the attempts (one probe per member in flight) */
	if(f->probe_all_ms >= 0 && now >= f->probe_all_ms) {
		f->probe_all_ms = -1;
		for(i = 0; i < HA_ROLE_COUNT; i++)
			if(f->m[i].probe.token == 0)
				probe_start(f, (ha_role_t)i, f->cfg.oos_force_ms, now, out);
	}
}

static void tick_in(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	tick_deadlines(f, now, out);
	tick_retransmit(f, now, out);
	tick_verifications(f, now, out);
	ha_fsm_retry_tick(f, now);
	tick_claim(f, now, out);
	if(f->state == HA_ST_CHECK)
		tick_check(f, now, out);
	else
		tick_force(f, now, out);
}

void ha_fsm_tick(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	tick_in(f, now, out);
	ha_fsm_sync_check(f, now, out);
}

int64_t ha_fsm_next_due(const ha_fsm_t *f)
{
	int64_t t = INT64_MAX, at;
	const ha_probe_t *p;
	ha_role_t s;
	int i;

	for(i = 0; i < HA_ROLE_COUNT; i++) {
		p = &f->m[i].probe;
		if(p->token == 0)
			continue;
		if(p->deadline_ms < t)
			t = p->deadline_ms;
		if(p->rtx_ms != 0 && p->rtx_ms < t)
			t = p->rtx_ms;
	}
	for(i = 0; i < HA_ROLE_COUNT; i++)
		if(f->m[i].verify_ms >= 0 && f->m[i].verify_ms < t)
			t = f->m[i].verify_ms;
	if(f->claim != HA_ROLE_NONE && !f->claim_sent && f->claim_ms < t)
		t = f->claim_ms;
	if(ha_fsm_retry_at(f, &at) && at < t)
		t = at;
	if(f->syncing && f->sync_until_ms < t)
		t = f->sync_until_ms;
	if(f->state == HA_ST_CHECK) {
		if(f->m[f->active].probe.token == 0 && f->next_probe_ms < t)
			t = f->next_probe_ms;
		s = other(f->active);
		if(f->next_standby_ms >= 0 && f->m[s].probe.token == 0
				&& f->next_standby_ms < t)
			t = f->next_standby_ms;
	} else {
		if(!f->attempt_open && f->next_attempt_ms < t)
			t = f->next_attempt_ms;
		if(f->probe_all_ms >= 0 && f->probe_all_ms < t)
			t = f->probe_all_ms;
	}
	return t;
}

/* Member m answered its probe alive at now: it is up. */
static void probe_answered(
		ha_fsm_t *f, ha_role_t m, int64_t now, ha_actions_t *out)
{
	ha_mfsm_t *mm = &f->m[m];
	int64_t sent = mm->probe.sent_ms;

	if(mm->probe.verify) {
		f->verify_alive++;
		out->verified_alive++;
	}
	probe_clear(&mm->probe);
	mm->state = HA_MS_UP;
	mm->last_rtt_ms = (int)(now - sent);
	mm->last_ok_ms = now;
}

/* Member m answered the probe sent at sent: make it active for reason,
 * its next probe an oos-check after that one. */
static void reply_activate(ha_fsm_t *f, ha_role_t m, ha_reason_t reason,
		int64_t sent, int64_t now, ha_actions_t *out)
{
	ha_fsm_become_active(f, m, reason, now, out);
	f->next_probe_ms = sent + f->cfg.oos_check_ms;
}

/* Member m, with a claim pending, answered alive. Returns 1 when that made
 * it active, 0 when the reply's handling goes on. */
static int reply_claim(
		ha_fsm_t *f, ha_role_t m, int64_t sent, int64_t now, ha_actions_t *out)
{
	if(f->claim_peer) {
		if(!ha_fsm_peer_claim_alive(f, m, out))
			return 0;
		reply_activate(f, m, HA_RSN_PEER, sent, now, out);
		return 1;
	}
	/* the member that said it was promoted answers: it was */
	f->claim = HA_ROLE_NONE;
	f->claims_confirmed++;
	if(f->held || (f->state == HA_ST_CHECK && f->active == m))
		return 0;
	reply_activate(f, m, HA_RSN_PASSIVE, sent, now, out);
	return 1;
}

/* The standby m answered alive while the active member is up too (with
 * probe_standby): HA_SPLIT_ROUNDS such rounds in a row are a split. */
static void reply_split(ha_fsm_t *f, ha_role_t m, ha_actions_t *out)
{
	if(m == f->active || !f->cfg.probe_standby
			|| f->m[f->active].state != HA_MS_UP)
		return;
	f->split_rounds++;
	if(f->split_rounds >= HA_SPLIT_ROUNDS && !f->split) {
		f->split = 1;
		act_event(out, HA_ACT_SPLIT, f->active, m, HA_RSN_PROBE, f->version);
	}
}

static int reply_in(ha_fsm_t *f, ha_role_t m, uint32_t token, int code,
		int64_t now, ha_actions_t *out)
{
	ha_probe_t *p;
	int64_t sent;

	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return -1;
	p = &f->m[m].probe;
	if(token == 0 || p->token != token || now >= p->deadline_ms)
		return -1;
	if(code < 200) {
		/* provisional: the request arrived, the final reply is still to
		 * come; resending would not help (the header's promise) */
		p->rtx_ms = 0;
		return 0;
	}
	f->m[m].last_code = code;
	if(!ha_codes_alive(&f->cfg.alive, code)) {
		probe_failed(f, m, now, out);
		return 0;
	}
	sent = p->sent_ms;
	probe_answered(f, m, now, out);
	if(f->claim == m && reply_claim(f, m, sent, now, out))
		return 0;
	if(f->state == HA_ST_FORCE) {
		reply_activate(f, m, f->force_reason, sent, now, out);
		return 0;
	}
	reply_split(f, m, out);
	return 0;
}

int ha_fsm_reply(ha_fsm_t *f, ha_role_t m, uint32_t token, int code,
		int64_t now, ha_actions_t *out)
{
	int r = reply_in(f, m, token, code, now, out);

	if(r == 0)
		ha_fsm_sync_check(f, now, out); /* a refused reply changes nothing */
	return r;
}

int ha_fsm_send_failed(ha_fsm_t *f, ha_role_t m, uint32_t token, int64_t now,
		ha_actions_t *out)
{
	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return -1;
	if(token == 0 || f->m[m].probe.token != token)
		return -1;
	probe_failed(f, m, now, out);
	ha_fsm_sync_check(f, now, out);
	return 0;
}

int ha_fsm_conn_lost(ha_fsm_t *f, ha_role_t m, uint32_t token, int64_t now,
		ha_actions_t *out)
{
	ha_mfsm_t *mm;
	ha_probe_t *p;

	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return -1;
	mm = &f->m[m];
	p = &mm->probe;
	if(token == 0 || p->token != token)
		return -1;
	if(!mm->reliable || p->resent || now >= p->deadline_ms) {
		probe_failed(f, m, now, out);
		ha_fsm_sync_check(f, now, out);
		return 0;
	}
	/* the same probe (its send time, deadline, verification, claim), a
	 * new request: the member may hold the old one's branch in a
	 * transaction whose answer went to the lost connection */
	p->token = new_token(f);
	p->tx_ms = now;
	p->resent = 1;
	mm->probes_resent++;
	out->resent++;
	act_send(out, m, p->token, 1);
	return 1;
}

int ha_fsm_switch(ha_fsm_t *f, ha_role_t m, ha_reason_t reason, int64_t now,
		ha_actions_t *out)
{
	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return -1;
	if(f->state == HA_ST_CHECK && f->active == m)
		return 0;
	ha_fsm_become_active(f, m, reason, now, out);
	f->next_probe_ms = now;
	return 1;
}

void ha_fsm_hold(ha_fsm_t *f, int on)
{
	f->held = on ? 1 : 0;
}

void ha_fsm_probe_now(ha_fsm_t *f, int64_t now)
{
	if(f->state == HA_ST_CHECK) {
		if(f->next_probe_ms > now)
			f->next_probe_ms = now;
		if(f->next_standby_ms < 0 || f->next_standby_ms > now)
			f->next_standby_ms = now;
		return;
	}
	if(!f->attempt_open && f->next_attempt_ms > now)
		f->next_attempt_ms = now;
	f->probe_all_ms = now;
}
