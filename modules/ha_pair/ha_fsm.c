/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_fsm.c - the pure per-pair probing state machine of ha_pair. */

#include <string.h>
#include <stdint.h>
#include <stdio.h>

#include "ha_fsm.h"
#include "ha_codes.h"

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

int ha_addr_is_member(const ha_addr_t *addrs, int n, int port,
		const ha_addr_t *src, int src_port, int reliable)
{
	int i;

	if(!reliable && src_port != port)
		return 0;
	for(i = 0; i < n; i++) {
		if(addrs[i].af == src->af
				&& memcmp(addrs[i].ip, src->ip, src->af == 6 ? 16 : 4) == 0)
			return 1;
	}
	return 0;
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
	p->deadline_ms = now + len_ms;
	p->rtx_ms = 0;
	p->rtx_gap_ms = 0;
	p->verify = 0;
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
}

static ha_role_t other(ha_role_t m)
{
	return m == HA_ROLE_PRIMARY ? HA_ROLE_BACKUP : HA_ROLE_PRIMARY;
}

/* Is the peer's version (v, o), newer than the pair's version when it
 * came, still newer? A local change since then took a number above it (v
 * was seen); an equal number with an empty origin is the local version it
 * beat; an equal one from a peer is ordered by origin. */
static int still_newer(const ha_fsm_t *f, uint64_t v, const char *o)
{
	if(v != f->version)
		return v > f->version;
	if(f->origin[0] == '\0')
		return 1;
	return strcmp(o, f->origin) > 0;
}

static int claim_still_newer(const ha_fsm_t *f)
{
	return still_newer(f, f->claim_version, f->claim_origin);
}

/* Is the recorded disagreement about member m at version (v, o)? */
static int disagree_is(
		const ha_fsm_t *f, ha_role_t m, uint64_t v, const char *o)
{
	return f->disagree && f->disagree_member == m && f->disagree_version == v
		   && strcmp(f->disagree_origin, o) == 0;
}

/* Record that a peer names member m at version (v, o), newer (1) or not
 * (0) than the pair's version. A newer record is replaced only by a newer
 * one of a newer version, never by an older one: the newest view is the
 * one to retry. */
static void disagree_note(
		ha_fsm_t *f, ha_role_t m, uint64_t v, const char *o, int newer)
{
	if(f->disagree) {
		if(f->disagree_newer && !newer)
			return;
		if(f->disagree_newer == newer
				&& ha_ver_cmp(v, o, f->disagree_version, f->disagree_origin)
						   <= 0)
			return;
	}
	f->disagree = 1;
	f->disagree_newer = newer;
	f->disagree_member = m;
	f->disagree_version = v;
	snprintf(f->disagree_origin, HA_ORIGIN_MAX, "%s", o);
}

/* The pair's version changed (f->origin set for a peer's, empty for a
 * local one): a disagreement that is not newer than it is over. A local
 * version is above every number seen, so above any recorded: the peers
 * get it, and a peer that refuses it answers anew. */
static void disagree_recheck(ha_fsm_t *f)
{
	if(!f->disagree)
		return;
	if(f->origin[0] == '\0'
			|| ha_ver_cmp(f->disagree_version, f->disagree_origin, f->version,
					   f->origin)
					   <= 0)
		f->disagree = 0;
}

/* Make m the active member (state CHECK). Fires SWITCH when the member
 * differs from the one active before, and UP when leaving a DOWN. */
static void become_active(ha_fsm_t *f, ha_role_t m, ha_reason_t reason,
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
		if(reason == HA_RSN_PEER) {
			f->version = f->claim_version;
			memcpy(f->origin, f->claim_origin, sizeof(f->origin));
		} else {
			/* a local change: newer than any version seen */
			if(f->version_seen > f->version)
				f->version = f->version_seen;
			f->version++;
			f->origin[0] = '\0';
		}
		disagree_recheck(f);
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

/* The probe in flight to member m must end within oos-force from now. */
static void probe_within_force(ha_fsm_t *f, ha_role_t m, int64_t now)
{
	ha_probe_t *p = &f->m[m].probe;

	if(p->deadline_ms > now + f->cfg.oos_force_ms) {
		p->deadline_ms = now + f->cfg.oos_force_ms;
		if(p->rtx_ms >= p->deadline_ms)
			p->rtx_ms = 0;
	}
}

/* Make the probe in flight to member m a verification: it must end
 * within oos-force from now. */
static void verify_join(ha_fsm_t *f, ha_role_t m, int64_t now)
{
	f->m[m].probe.verify = 1;
	probe_within_force(f, m, now);
}

/* Member m did not answer its probe (deadline, send failure, or a reply
 * that alive_codes does not accept). */
static void probe_failed(
		ha_fsm_t *f, ha_role_t m, int64_t now, ha_actions_t *out)
{
	ha_mfsm_t *mm = &f->m[m];
	ha_mfsm_t *om = &f->m[other(m)];
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
		/* a peer's change whose member does not answer this proxy: keep
		 * the own view, say so, and answer the peer (once per version: a
		 * retry, or the same state again, is no new refusal) */
		f->claim = HA_ROLE_NONE;
		f->claim_peer = 0;
		if(!claim_still_newer(f)) {
			f->peer_stale++; /* a local change beat it meanwhile */
		} else {
			if(!disagree_is(f, m, f->claim_version, f->claim_origin)) {
				f->peer_refused++;
				out->peer_refused++;
				memcpy(out->answer_to, f->claim_origin, sizeof(out->answer_to));
			}
			disagree_note(f, m, f->claim_version, f->claim_origin, 1);
		}
		/* the newest view is tried again an oos-check after this try */
		if(f->disagree && f->disagree_newer) {
			f->disagree_retry_ms = f->claim_ms + f->cfg.oos_check_ms;
			if(f->disagree_retry_ms < now)
				f->disagree_retry_ms = now;
		}
	} else if(f->claim == m) {
		/* the member that said it was promoted does not answer: the
		 * request was not its own (forged), or it is gone again */
		f->claim = HA_ROLE_NONE;
		f->claims_unconfirmed++;
		out->unconfirmed++;
		out->unconfirmed_member = m;
	}

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
			become_active(f, other(m), why, now, out);
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

/* The start-up sync ends now (see ha_fsm_sync_begin()). */
static void sync_end(ha_fsm_t *f, ha_actions_t *out)
{
	f->syncing = 0;
	f->sync_claim = 0;
	if(out != NULL)
		out->synced = 1;
}

/* After a call that may end an answer's claim, or pass the deadline. */
static void sync_check(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	if(!f->syncing)
		return;
	if(now >= f->sync_until_ms
			|| (f->sync_claim && (f->claim == HA_ROLE_NONE || !f->claim_peer)))
		sync_end(f, out);
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

/* Is a retry of the recorded newer disagreement due at now? Not while
 * held, nor while a claim is pending (it is tried after that one). */
static int retry_at(const ha_fsm_t *f, int64_t *at)
{
	if(!f->disagree || !f->disagree_newer || f->held
			|| f->claim != HA_ROLE_NONE)
		return 0;
	*at = f->disagree_retry_ms;
	return 1;
}

static int retry_due(const ha_fsm_t *f, int64_t now)
{
	int64_t at;

	return retry_at(f, &at) && now >= at;
}

static void tick_in(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	ha_probe_t *p;
	ha_role_t s;
	int i;

	/* deadlines first: a probe that ended makes room for the next one */
	for(i = 0; i < HA_ROLE_COUNT; i++) {
		p = &f->m[i].probe;
		if(p->token != 0 && now >= p->deadline_ms)
			probe_failed(f, (ha_role_t)i, now, out);
	}
	for(i = 0; i < HA_ROLE_COUNT; i++) {
		p = &f->m[i].probe;
		if(p->token != 0 && p->rtx_ms != 0 && now >= p->rtx_ms) {
			act_send(out, (ha_role_t)i, p->token, 1);
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
	/* verifications asked for by failed transactions */
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
		verify_join(f, (ha_role_t)i, now);
	}
	/* a refused newer version: its member may answer now (a partition
	 * healed); try it again as a claim */
	if(retry_due(f, now)) {
		f->claim = f->disagree_member;
		f->claim_ms = now;
		f->claim_peer = 1;
		f->claim_version = f->disagree_version;
		memcpy(f->claim_origin, f->disagree_origin, sizeof(f->claim_origin));
		f->claim_sent = 0;
		f->peer_retries++;
		/* the next one, should this one fail too; its probe decides */
		f->disagree_retry_ms = now + f->cfg.oos_check_ms;
		if(f->m[f->claim].probe.token != 0) {
			f->claim_sent = 1;
			probe_within_force(f, f->claim, now);
		}
	}
	/* a claim to confirm: probe its member now (in FORCE the hunt takes
	 * this probe over when the member's attempt comes) */
	if(f->claim != HA_ROLE_NONE && !f->claim_sent && now >= f->claim_ms) {
		if(f->m[f->claim].probe.token == 0)
			probe_start(f, f->claim, f->cfg.oos_force_ms, now, out);
		f->claim_sent = 1;
	}

	if(f->state == HA_ST_CHECK) {
		if(f->m[f->active].probe.token == 0 && now >= f->next_probe_ms) {
			probe_start(f, f->active, f->cfg.oos_check_ms, now, out);
			/* SPEC 2: the next one at this one's send time + oos-check
			 * (a probe sent late, e.g. held back by the pacing, keeps its
			 * place in the spread instead of joining the others) */
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
		return;
	}

	/* FORCE: one attempt at a time, alternating */
	if(!f->attempt_open && now >= f->next_attempt_ms) {
		f->attempt_open = 1;
		f->attempt_ms = now;
		p = &f->m[f->hunt].probe;
		if(p->token == 0) {
			probe_start(f, f->hunt, f->cfg.oos_force_ms, now, out);
		} else if(p->deadline_ms > now + f->cfg.oos_force_ms) {
			/* a probe already in flight serves as this attempt, with the
			 * attempt's deadline (one probe per member in flight) */
			p->deadline_ms = now + f->cfg.oos_force_ms;
			if(p->rtx_ms >= p->deadline_ms)
				p->rtx_ms = 0;
		}
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

void ha_fsm_tick(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	tick_in(f, now, out);
	sync_check(f, now, out);
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
	if(retry_at(f, &at) && at < t)
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

static int reply_in(ha_fsm_t *f, ha_role_t m, uint32_t token, int code,
		int64_t now, ha_actions_t *out)
{
	ha_mfsm_t *mm;
	ha_probe_t *p;
	int64_t sent;

	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return -1;
	mm = &f->m[m];
	p = &mm->probe;
	if(token == 0 || p->token != token || now >= p->deadline_ms)
		return -1;
	if(code < 200) {
		/* provisional: the request arrived, the final reply is still to
		 * come; resending would not help (the header's promise) */
		p->rtx_ms = 0;
		return 0;
	}
	mm->last_code = code;
	if(!ha_codes_alive(&f->cfg.alive, code)) {
		probe_failed(f, m, now, out);
		return 0;
	}
	sent = p->sent_ms;
	if(p->verify) {
		f->verify_alive++;
		out->verified_alive++;
	}
	probe_clear(p);
	mm->state = HA_MS_UP;
	mm->last_rtt_ms = (int)(now - sent);
	mm->last_ok_ms = now;

	if(f->claim == m && f->claim_peer) {
		/* a peer's change, confirmed: adopted, unless a newer version
		 * came meanwhile */
		f->claim = HA_ROLE_NONE;
		f->claim_peer = 0;
		if(!f->held && claim_still_newer(f)) {
			/* refused before: the peer recorded this proxy's state as a
			 * disagreement; the state it gets now ends it there */
			if(disagree_is(f, m, f->claim_version, f->claim_origin))
				memcpy(out->answer_to, f->claim_origin, sizeof(out->answer_to));
			if(f->state != HA_ST_CHECK || f->active != m) {
				f->peer_adopted++;
				out->peer_adopted++;
				become_active(f, m, HA_RSN_PEER, now, out);
				f->next_probe_ms = sent + f->cfg.oos_check_ms;
				return 0;
			}
			/* this proxy is on that member already (its own probing
			 * found it meanwhile): the views agree, the version is taken */
			f->peer_agreed++;
			out->peer_agreed++;
			f->version = f->claim_version;
			memcpy(f->origin, f->claim_origin, sizeof(f->origin));
			disagree_recheck(f);
		} else {
			f->peer_stale++;
		}
	} else if(f->claim == m) {
		/* the member that said it was promoted answers: it was */
		f->claim = HA_ROLE_NONE;
		f->claims_confirmed++;
		if(!f->held && (f->state != HA_ST_CHECK || f->active != m)) {
			become_active(f, m, HA_RSN_PASSIVE, now, out);
			f->next_probe_ms = sent + f->cfg.oos_check_ms;
			return 0;
		}
	}
	if(f->state == HA_ST_FORCE) {
		become_active(f, m, f->force_reason, now, out);
		f->next_probe_ms = sent + f->cfg.oos_check_ms;
		return 0;
	}
	if(m != f->active && f->cfg.probe_standby
			&& f->m[f->active].state == HA_MS_UP) {
		f->split_rounds++;
		if(f->split_rounds >= HA_SPLIT_ROUNDS && !f->split) {
			f->split = 1;
			act_event(
					out, HA_ACT_SPLIT, f->active, m, HA_RSN_PROBE, f->version);
		}
	}
	return 0;
}

int ha_fsm_reply(ha_fsm_t *f, ha_role_t m, uint32_t token, int code,
		int64_t now, ha_actions_t *out)
{
	int r = reply_in(f, m, token, code, now, out);

	if(r == 0)
		sync_check(f, now, out); /* a refused reply changes nothing */
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
	sync_check(f, now, out);
	return 0;
}

int ha_fsm_passive(ha_fsm_t *f, ha_role_t m, int64_t now, ha_actions_t *out)
{
	ha_role_t old = f->active != HA_ROLE_NONE ? f->active : f->last_active;

	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return 0;
	if(f->held || (f->state == HA_ST_CHECK && f->active == m))
		return 0;
	become_active(f, m, HA_RSN_PASSIVE, now, out);
	f->next_probe_ms = now;
	return old != m;
}

int ha_fsm_claim(ha_fsm_t *f, ha_role_t m, int64_t now)
{
	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return -1;
	if(f->held || (f->state == HA_ST_CHECK && f->active == m))
		return 0;
	if(f->claim == m)
		return 2;
	f->claim = m;
	f->claim_ms = now;
	f->claim_peer = 0;
	/* one probe per member in flight: one already out serves, and ends
	 * within oos-force, as a probe sent for the claim would */
	f->claim_sent = f->m[m].probe.token != 0;
	if(f->claim_sent)
		probe_within_force(f, m, now);
	return 1;
}

int ha_ver_cmp(uint64_t an, const char *ao, uint64_t bn, const char *bo)
{
	int c;

	if(an != bn)
		return an < bn ? -1 : 1;
	c = strcmp(ao, bo);
	return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

/* Copy the string s into a field of HA_ORIGIN_MAX, cut if longer. */
static void origin_set(char *dst, const char *s)
{
	snprintf(dst, HA_ORIGIN_MAX, "%s", s);
}

ha_peer_verdict_t ha_fsm_peer(ha_fsm_t *f, ha_role_t m, uint64_t version,
		const char *origin, const char *self, int change, int64_t now)
{
	const char *cur = f->origin[0] != '\0' ? f->origin : self;
	int cmp;

	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return HA_PEERV_BAD;
	f->peer_received++;
	if(version > f->version_seen)
		f->version_seen = version;
	cmp = ha_ver_cmp(version, origin, f->version, cur);
	if(cmp <= 0) {
		if(f->state == HA_ST_CHECK && f->active == m) {
			/* the peer has this version: the views agree, unless a
			 * newer one is still to be tried here */
			if(cmp == 0 && f->disagree && !f->disagree_newer)
				f->disagree = 0;
		} else if(!change && f->state == HA_ST_CHECK) {
			/* a peer's state (its answer to a change of this proxy's it
			 * refused) names another member: it is behind, and says so */
			disagree_note(f, m, version, origin, 0);
		}
		f->peer_stale++;
		return HA_PEERV_STALE;
	}
	if(f->claim != HA_ROLE_NONE && f->claim_peer
			&& ha_ver_cmp(version, origin, f->claim_version, f->claim_origin)
					   <= 0) {
		f->peer_stale++;
		return HA_PEERV_STALE; /* a newer claim is being confirmed */
	}
	if(f->state == HA_ST_CHECK && f->active == m) {
		/* the same view, newer: nothing to confirm */
		f->version = version;
		origin_set(f->origin, origin);
		disagree_recheck(f); /* the peer names the member active here */
		f->peer_agreed++;
		return HA_PEERV_AGREE;
	}
	if(f->held) {
		if(disagree_is(f, m, version, origin)) {
			f->peer_stale++; /* refused already */
			return HA_PEERV_STALE;
		}
		f->peer_refused++;
		disagree_note(f, m, version, origin, 1);
		f->disagree_retry_ms = now + f->cfg.oos_check_ms;
		return HA_PEERV_HELD;
	}
	/* the refused newer version again (the peer's periodic broadcast,
	 * another peer's sync answer): one more try of it, as its retries are
	 * (its member may serve again), counted with them; a failure is no
	 * new refusal */
	if(f->disagree && f->disagree_newer && disagree_is(f, m, version, origin))
		f->peer_retries++;
	f->claim_version = version;
	origin_set(f->claim_origin, origin);
	if(f->claim == m) {
		/* one probe serves: the claim becomes the peer's */
		f->claim_peer = 1;
		return HA_PEERV_PENDING;
	}
	f->claim = m;
	f->claim_ms = now;
	f->claim_peer = 1;
	f->claim_sent = f->m[m].probe.token != 0;
	/* a probe in flight serves, within the claim's own bound */
	if(f->claim_sent)
		probe_within_force(f, m, now);
	return HA_PEERV_CLAIM;
}

int ha_fsm_switch(ha_fsm_t *f, ha_role_t m, ha_reason_t reason, int64_t now,
		ha_actions_t *out)
{
	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return -1;
	if(f->state == HA_ST_CHECK && f->active == m)
		return 0;
	become_active(f, m, reason, now, out);
	f->next_probe_ms = now;
	return 1;
}

int ha_fsm_verify(ha_fsm_t *f, ha_role_t m, int64_t now)
{
	ha_probe_t *p;

	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return -1;
	if(f->state != HA_ST_CHECK || f->active != m || f->held)
		return 0;
	p = &f->m[m].probe;
	if(p->token != 0) {
		if(!p->verify)
			f->verifies++;
		verify_join(f, m, now);
		return 2;
	}
	if(f->m[m].verify_ms >= 0)
		return 2; /* asked for already: the next tick starts it */
	f->m[m].verify_ms = now;
	f->verifies++;
	return 1;
}

ha_verdict_t ha_fsm_wait_verdict(
		const ha_fsm_t *f, const ha_waitpoint_t *w, ha_role_t *retry)
{
	const ha_mfsm_t *mm;

	if(f->state != HA_ST_CHECK || f->syncing)
		return HA_WV_WAIT; /* hunting (or syncing): the member it finds is
							* the answer */
	*retry = f->active;
	if(w->failed != HA_ROLE_PRIMARY && w->failed != HA_ROLE_BACKUP)
		return HA_WV_RETRY; /* it waited for an active member: here it is */
	if(f->active != w->failed || f->force_runs != w->force_runs)
		return HA_WV_RETRY; /* the pair moved (or hunted) since it failed */
	mm = &f->m[w->failed];
	if(mm->last_ok_ms >= w->since_ms)
		return HA_WV_ANSWERED; /* alive: the request was the problem */
	if(f->held && mm->last_fail_ms >= w->since_ms)
		return HA_WV_NONE; /* silent, but pinned: nowhere else to go */
	return HA_WV_WAIT;
}

ha_role_t ha_fsm_routable(const ha_fsm_t *f)
{
	return f->state == HA_ST_CHECK && !f->syncing ? f->active : HA_ROLE_NONE;
}

void ha_fsm_sync_begin(ha_fsm_t *f, int64_t until)
{
	f->syncing = 1;
	f->sync_claim = 0;
	f->sync_until_ms = until;
}

int ha_fsm_sync_answer(ha_fsm_t *f, ha_peer_verdict_t v)
{
	if(!f->syncing || v == HA_PEERV_BAD)
		return 0; /* no member named: no answer */
	if(v == HA_PEERV_CLAIM || v == HA_PEERV_PENDING) {
		/* its probe decides: the claim's end ends the sync */
		f->sync_claim = 1;
		return 0;
	}
	if(f->sync_claim)
		return 0; /* another answer's claim is still being confirmed */
	sync_end(f, NULL);
	return 1;
}

int ha_fsm_sync_done(ha_fsm_t *f)
{
	if(!f->syncing || f->sync_claim)
		return 0;
	sync_end(f, NULL);
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
