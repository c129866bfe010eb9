/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fsm_sim.c - the simulation the ha_fsm Check suites drive the pure state
 * machine with (see fsm_sim.h). */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ha_fsm.h"
#include "fsm_sim.h"

sim_t S;
char sim_msg[4096];

/* Check's assertions mark a point on every call, which is slow (and
 * allocates under CK_FORK=no); the checks made on every simulated step
 * call Check only when they fail. */
#define sim_assert(cond, ...)                   \
	do {                                        \
		if(!(cond))                             \
			ck_assert_msg((cond), __VA_ARGS__); \
	} while(0)

/* ---- the simulation ---------------------------------------------------- */

void sim_setup(sim_t *s, int check, int force, int standby, const char *codes,
		int rel_p, int rel_b)
{
	memset(s, 0, sizeof(*s));
	s->cfg.oos_check_ms = check;
	s->cfg.oos_force_ms = force;
	s->cfg.probe_standby = standby;
	s->cfg.claim_retries = HA_CLAIM_RETRIES_DEFAULT;
	ck_assert_int_eq(ha_codes_parse(codes, &s->cfg.alive), 0);
	s->reliable[P] = rel_p;
	s->reliable[B] = rel_b;
	s->seed = 1;
	s->peer[P].mode = PEER_ANSWER;
	s->peer[P].delay_ms = 10;
	s->peer[P].code = 200;
	s->peer[B].mode = PEER_ANSWER;
	s->peer[B].delay_ms = 20;
	s->peer[B].code = 200;
	s->synced_ms = -1;
}

/* oos_check 5 s, oos_force 1 s, no standby probing, any reply, UDP */
void sim_default(sim_t *s)
{
	sim_setup(s, 5000, 1000, 0, NULL, 0, 0);
}

void note_state(sim_t *s)
{
	strec_t *l = s->nst > 0 ? &s->st[s->nst - 1] : NULL;

	if(l != NULL && l->state == s->f.state && l->active == s->f.active)
		return;
	sim_assert(s->nst < SIM_ST_MAX, "too many state changes");
	s->st[s->nst].t = s->now;
	s->st[s->nst].state = s->f.state;
	s->st[s->nst].active = s->f.active;
	s->nst++;
}

static void pend_add(sim_t *s, int64_t at, ha_role_t m, uint32_t tok, int code)
{
	sim_assert(s->npend < SIM_PEND_MAX, "too many pending replies");
	s->pend[s->npend].at = at;
	s->pend[s->npend].m = m;
	s->pend[s->npend].token = tok;
	s->pend[s->npend].code = code;
	s->npend++;
}

static void sim_send(sim_t *s, const ha_action_t *a)
{
	ha_role_t m = a->member;
	const peer_t *pr;
	const ha_probe_t *p;

	sim_assert(m == P || m == B, "SEND to role %d", (int)m);
	sim_assert(a->token != 0, "t=%lld: SEND with token 0", (long long)s->now);
	pr = &s->peer[m];
	p = &s->f.m[m].probe;
	if(a->retransmit && s->reliable[m]) {
		/* the one resend of a probe whose connection was lost: a new
		 * token for the probe in flight, before its deadline */
		sim_assert(s->tok[m] == 0 && s->lost[m] != 0 && a->token != s->lost[m]
						   && a->token == p->token && s->now < p->deadline_ms,
				"t=%lld: resend %u to %s over TCP, probe in flight %u, "
				"lost %u",
				(long long)s->now, a->token, ha_role_name(m), p->token,
				s->lost[m]);
		s->lost[m] = 0;
		s->tok[m] = a->token;
		if(pr->conn_loss == 2)
			pend_add(s, s->now + pr->loss_delay_ms, m, a->token, -1);
		else if(pr->mode == PEER_ANSWER)
			pend_add(s, s->now + pr->delay_ms, m, a->token, pr->code);
		return;
	}
	if(a->retransmit) {
		sim_assert(a->token == s->tok[m] && s->now < s->dl[m],
				"t=%lld: retransmission of %u to %s, probe in flight %u "
				"until %lld",
				(long long)s->now, a->token, ha_role_name(m), s->tok[m],
				(long long)s->dl[m]);
		if(pr->mode == PEER_ANSWER && pr->drop_first
				&& s->resent[m] != a->token) {
			s->resent[m] = a->token;
			pend_add(s, s->now + pr->delay_ms, m, a->token, pr->code);
		}
		return;
	}
	/* at most one probe per member in flight */
	sim_assert(s->tok[m] == 0 || s->now >= s->dl[m],
			"t=%lld: new probe %u to %s while probe %u is in flight until "
			"%lld",
			(long long)s->now, a->token, ha_role_name(m), s->tok[m],
			(long long)s->dl[m]);
	sim_assert(a->token != s->tok[m], "t=%lld: token %u reused",
			(long long)s->now, a->token);
	s->tok[m] = a->token;
	s->dl[m] = p->token == a->token ? p->deadline_ms : s->now;
	if(s->reliable[m] && pr->conn_loss) {
		pend_add(s, s->now + pr->loss_delay_ms, m, a->token, -1);
		return;
	}
	if(pr->mode == PEER_SEND_FAIL) {
		pend_add(s, s->now + pr->fail_delay_ms, m, a->token, 0);
		return;
	}
	if(pr->drop_first)
		return;
	if(pr->prov_code > 0)
		pend_add(s, s->now + pr->prov_delay_ms, m, a->token, pr->prov_code);
	if(pr->mode == PEER_ANSWER)
		pend_add(s, s->now + pr->delay_ms, m, a->token, pr->code);
}

void sim_actions(sim_t *s, const ha_actions_t *acts)
{
	int i;

	/* a full buffer may have lost actions */
	sim_assert(acts->n < HA_MAX_ACTIONS, "t=%lld: %d actions",
			(long long)s->now, acts->n);
	s->unconfirmed += acts->unconfirmed;
	s->peer_refused += acts->peer_refused;
	s->peer_adopted += acts->peer_adopted;
	if(acts->synced) {
		sim_assert(s->synced_ms < 0, "t=%lld: the sync ended twice",
				(long long)s->now);
		s->synced_ms = s->now;
	}
	s->peer_agreed += acts->peer_agreed;
	if(acts->answer_to[0] != '\0')
		memcpy(s->answer_to, acts->answer_to, sizeof(s->answer_to));
	if(acts->unconfirmed > 0)
		s->unconfirmed_member = acts->unconfirmed_member;
	for(i = 0; i < acts->n; i++) {
		sim_assert(s->nlog < SIM_LOG_MAX, "log full");
		s->log[s->nlog].t = s->now;
		s->log[s->nlog].a = acts->a[i];
		s->nlog++;
		if(acts->a[i].type == HA_ACT_SEND)
			sim_send(s, &acts->a[i]);
	}
}

/* What a call of the machine returned in acts: logged, acted on, the state
 * noted; *nact (when not NULL) gets the number of actions. */
static void sim_took(sim_t *s, const ha_actions_t *acts, int *nact)
{
	if(nact != NULL)
		*nact = acts->n;
	sim_actions(s, acts);
	note_state(s);
}

/* A reply (code > 0), a send failure (code 0) or a lost connection (code
 * -1) for token of member m, now, with the bookkeeping. Returns what the
 * machine returned; *nact (when not NULL) gets the number of actions it
 * appended. */
int sim_reply(sim_t *s, ha_role_t m, uint32_t tok, int code, int *nact)
{
	ha_actions_t acts;
	int r;

	ha_actions_reset(&acts);
	if(code == -1)
		r = ha_fsm_conn_lost(&s->f, m, tok, s->now, &acts);
	else if(code == 0)
		r = ha_fsm_send_failed(&s->f, m, tok, s->now, &acts);
	else
		r = ha_fsm_reply(&s->f, m, tok, code, s->now, &acts);
	if(r >= 0 && code <= 0 && s->tok[m] == tok) {
		s->tok[m] = 0; /* it ended, or its resend follows */
		if(r == 1)
			s->lost[m] = tok;
	} else if(r == 0 && code >= 200 && s->tok[m] == tok) {
		s->tok[m] = 0;
	}
	s->resent_n += acts.resent;
	sim_took(s, &acts, nact);
	return r;
}

static int pend_due(const sim_t *s)
{
	int i;

	for(i = 0; i < s->npend; i++)
		if(s->pend[i].at <= s->now)
			return 1;
	return 0;
}

/* Deliver what the peers do now, earliest first. */
static void sim_deliver(sim_t *s)
{
	pend_t e;
	int i, j;

	for(;;) {
		j = -1;
		for(i = 0; i < s->npend; i++)
			if(s->pend[i].at <= s->now
					&& (j < 0 || s->pend[i].at < s->pend[j].at))
				j = i;
		if(j < 0)
			return;
		e = s->pend[j];
		memmove(&s->pend[j], &s->pend[j + 1],
				(size_t)(s->npend - j - 1) * sizeof(pend_t));
		s->npend--;
		if(sim_reply(s, e.m, e.token, e.code, NULL) < 0)
			s->refused++;
	}
}

/* Run everything due at time t (>= now). */
void sim_at(sim_t *s, int64_t t)
{
	ha_actions_t acts;
	int64_t due;
	int i, m;

	sim_assert(t >= s->now, "time goes back: %lld < %lld", (long long)t,
			(long long)s->now);
	for(i = 0; i < s->npend; i++)
		sim_assert(s->pend[i].at >= t, "a reply due at %lld was skipped",
				(long long)s->pend[i].at);
	s->now = t;
	for(i = 0; i < 20; i++) {
		sim_deliver(s);
		for(m = 0; m < HA_ROLE_COUNT; m++)
			if(s->tok[m] != 0 && s->f.m[m].probe.token == s->tok[m])
				s->dl[m] = s->f.m[m].probe.deadline_ms;
		due = ha_fsm_next_due(&s->f);
		ha_actions_reset(&acts);
		ha_fsm_tick(&s->f, t, &acts);
		sim_assert(due <= t || acts.n == 0,
				"t=%lld: the tick acted though next_due was %lld", (long long)t,
				(long long)due);
		sim_actions(s, &acts);
		note_state(s);
		if(acts.n == 0 && !pend_due(s))
			break;
	}
	sim_assert(i < 20, "t=%lld: no rest after 20 ticks", (long long)t);
	due = ha_fsm_next_due(&s->f);
	sim_assert(due > t, "t=%lld: still due at %lld after the tick",
			(long long)t, (long long)due);
}

void sim_start(sim_t *s, int64_t t0)
{
	ha_actions_t acts;

	ha_actions_reset(&acts);
	s->now = t0;
	ha_fsm_init(&s->f, &s->cfg, s->reliable, s->seed, t0, &acts);
	sim_actions(s, &acts);
	note_state(s);
	sim_at(s, t0);
}

/* Advance to t_end (inclusive): 1 ms steps, or jumps to the next event. */
void sim_run(sim_t *s, int64_t t_end)
{
	int64_t t, next;
	int i;

	if(!s->jump) {
		for(t = s->now + 1; t <= t_end; t++)
			sim_at(s, t);
		return;
	}
	for(;;) {
		next = ha_fsm_next_due(&s->f);
		for(i = 0; i < s->npend; i++)
			if(s->pend[i].at < next)
				next = s->pend[i].at;
		if(next > t_end)
			break;
		sim_at(s, next);
	}
	if(s->now < t_end)
		sim_at(s, t_end);
}

void sim_started(sim_t *s, int64_t t)
{
	sim_default(s);
	sim_start(s, 0);
	sim_run(s, t);
}

/* The member goes quiet: no more replies, also none already on the way. */
void sim_kill(sim_t *s, ha_role_t m)
{
	int i, j = 0;

	s->peer[m].mode = PEER_SILENT;
	s->peer[m].prov_code = 0;
	for(i = 0; i < s->npend; i++)
		if(s->pend[i].m != m)
			s->pend[j++] = s->pend[i];
	s->npend = j;
}

void sim_revive(sim_t *s, ha_role_t m, int delay_ms)
{
	s->peer[m].mode = PEER_ANSWER;
	s->peer[m].delay_ms = delay_ms;
}

int sim_passive(sim_t *s, ha_role_t m, int *nact)
{
	ha_actions_t acts;
	int r;

	ha_actions_reset(&acts);
	r = ha_fsm_passive(&s->f, m, s->now, &acts);
	sim_took(s, &acts, nact);
	return r;
}

int sim_claim(sim_t *s, ha_role_t m)
{
	int r = ha_fsm_claim(&s->f, m, s->now);

	note_state(s);
	return r;
}

/* A pool peer at origin says m is active at version; self is "sip:self". */
ha_peer_verdict_t sim_peer(
		sim_t *s, ha_role_t m, uint64_t version, const char *origin, int reply)
{
	ha_peer_verdict_t r =
			ha_fsm_peer(&s->f, m, version, origin, "sip:self", reply, s->now);

	note_state(s);
	return r;
}

int sim_switch(sim_t *s, ha_role_t m, ha_reason_t why, int *nact)
{
	ha_actions_t acts;
	int r;

	ha_actions_reset(&acts);
	r = ha_fsm_switch(&s->f, m, why, s->now, &acts);
	sim_took(s, &acts, nact);
	return r;
}

int sim_verify(sim_t *s, ha_role_t m)
{
	int r = ha_fsm_verify(&s->f, m, s->now);

	note_state(s);
	return r;
}

/* A transaction that failed on member m (HA_ROLE_NONE: one that waits for
 * an active member) begins to wait now. */
ha_waitpoint_t sim_waitpoint(const sim_t *s, ha_role_t m)
{
	ha_waitpoint_t w = {
			.failed = m, .since_ms = s->now, .force_runs = s->f.force_runs};
	return w;
}

ha_verdict_t sim_verdict(
		const sim_t *s, const ha_waitpoint_t *w, ha_role_t *retry)
{
	*retry = HA_ROLE_NONE;
	return ha_fsm_wait_verdict(&s->f, w, retry);
}

/* ---- queries on the log -------------------------------------------------- */

/* Actions of type (member for SEND, ANY; rtx 0/1/ANY) in [from, to]. */
int nact(const sim_t *s, ha_act_type_t type, int m, int rtx, int64_t from,
		int64_t to)
{
	int i, n = 0;
	const rec_t *r;

	for(i = 0; i < s->nlog; i++) {
		r = &s->log[i];
		if(r->a.type != type || r->t < from || r->t > to)
			continue;
		if(type == HA_ACT_SEND && m != ANY && (int)r->a.member != m)
			continue;
		if(type == HA_ACT_SEND && rtx != ANY && r->a.retransmit != rtx)
			continue;
		n++;
	}
	return n;
}

int nev(const sim_t *s, ha_act_type_t type)
{
	return nact(s, type, ANY, ANY, INT64_MIN, INT64_MAX);
}

/* The n-th (from 0) logged action of type, or NULL. */
const rec_t *nth(const sim_t *s, ha_act_type_t type, int n)
{
	int i;

	for(i = 0; i < s->nlog; i++)
		if(s->log[i].a.type == type && n-- == 0)
			return &s->log[i];
	return NULL;
}

/* Times of the SENDs to m (rtx 0: new probes, 1: retransmissions) in
 * [from, to]. */
int send_times(
		const sim_t *s, int m, int rtx, int64_t from, int64_t to, int64_t *out)
{
	int i, n = 0;
	const rec_t *r;

	for(i = 0; i < s->nlog && n < SIM_T_MAX; i++) {
		r = &s->log[i];
		if(r->a.type == HA_ACT_SEND && (int)r->a.member == m
				&& r->a.retransmit == rtx && r->t >= from && r->t <= to)
			out[n++] = r->t;
	}
	return n;
}

/* Times of the retransmissions of probe token. */
int rtx_times(const sim_t *s, uint32_t tok, int64_t *out)
{
	int i, n = 0;

	for(i = 0; i < s->nlog && n < SIM_T_MAX; i++)
		if(s->log[i].a.type == HA_ACT_SEND && s->log[i].a.retransmit
				&& s->log[i].a.token == tok)
			out[n++] = s->log[i].t;
	return n;
}

/* The token of the new probe sent to m at t (0: none). */
uint32_t token_at(const sim_t *s, ha_role_t m, int64_t t)
{
	int i;

	for(i = 0; i < s->nlog; i++)
		if(s->log[i].t == t && s->log[i].a.type == HA_ACT_SEND
				&& s->log[i].a.member == m && !s->log[i].a.retransmit)
			return s->log[i].a.token;
	return 0;
}

int times_eq(const int64_t *got, int ngot, const int64_t *exp, int nexp)
{
	int i, eq = ngot == nexp, o = 0;

	for(i = 0; eq && i < ngot; i++)
		eq = got[i] == exp[i];
	o += snprintf(sim_msg + o, sizeof(sim_msg) - o, "got [");
	for(i = 0; i < ngot && o < 2000; i++)
		o += snprintf(sim_msg + o, sizeof(sim_msg) - o, "%s%lld", i ? " " : "",
				(long long)got[i]);
	o += snprintf(sim_msg + o, sizeof(sim_msg) - o, "], expected [");
	for(i = 0; i < nexp && o < 4000; i++)
		o += snprintf(sim_msg + o, sizeof(sim_msg) - o, "%s%lld", i ? " " : "",
				(long long)exp[i]);
	snprintf(sim_msg + o, sizeof(sim_msg) - o, "]");
	return eq;
}


/* The machine's counters agree with the log. */
void sim_check_counters(const sim_t *s)
{
	int m, sw = 0, i;

	for(m = 0; m < HA_ROLE_COUNT; m++) {
		ck_assert_int_eq(s->f.m[m].probes_sent,
				nact(s, HA_ACT_SEND, m, 0, INT64_MIN, INT64_MAX));
		/* over TCP/TLS every retransmission is a resend after a loss */
		if(s->reliable[m])
			ck_assert_int_eq(s->f.m[m].probes_resent,
					nact(s, HA_ACT_SEND, m, 1, INT64_MIN, INT64_MAX));
		else
			ck_assert_int_eq(s->f.m[m].probes_resent, 0);
	}
	ck_assert_int_eq(
			s->f.m[P].probes_resent + s->f.m[B].probes_resent, s->resent_n);
	for(i = 0; i < s->nlog; i++)
		if(s->log[i].a.type == HA_ACT_SWITCH
				&& s->log[i].a.reason != HA_RSN_START)
			sw++;
	ck_assert_int_eq(s->f.switchovers, sw);
}

void sim_fixture(void)
{
	memset(&S, 0, sizeof(S));
}

TCase *sim_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, sim_fixture, NULL);
	tcase_set_timeout(tc, 120);
	return tc;
}
