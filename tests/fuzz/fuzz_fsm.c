/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_fsm.c - libFuzzer target: random event sequences into ha_fsm.
 *
 * The input is decoded into a pair's configuration and a sequence of
 * events on a fake monotonic clock: time passing with the prober's timer on
 * time or late, probe replies (matching, stale or forged tokens, any code),
 * send failures, lost TCP/TLS connections, passive promotions, manual switchovers, verifications
 * asked for by ha_failover, hold/release, pool peers' changes (ha_fsm_peer),
 * probe-now and reloads of the timings. After
 * every call the machine's invariants are checked and a violation aborts:
 *
 * - at most one active member: CHECK has exactly one, FORCE none; the
 *   SWITCH events tell the same story as the state (old -> new chain);
 * - at most one probe in flight per member: a new probe of a member is
 *   only sent when its previous one has ended, tokens are never 0 and never
 *   shared by the two members, retransmissions only of the probe in
 *   flight, before its deadline and over a reliable transport only as the
 *   one resend of a probe whose connection was lost (a new token, the
 *   probe's send time and deadline kept, counted in probes_resent);
 * - deadlines are never armed in the past: a new or changed probe deadline
 *   or retransmission time is later than now, and after a tick nothing is
 *   due any more (ha_fsm_next_due() > now) and the tick acted only if
 *   something was due;
 * - probes as specified: a new probe's deadline is now + oos-check (CHECK)
 *   or oos-force (FORCE), its first retransmission at T1 = min(500 ms,
 *   deadline / 4) over UDP; in FORCE only the hunted member of the open
 *   attempt is probed (and, after probe-now, each member with no probe in
 *   flight, once), attempts of one FORCE run start >= 50 ms apart;
 * - the counters add up: probes_sent per member grows by the new SENDs,
 *   probes_unanswered by the actions' unanswered count, switchovers by the
 *   SWITCH events; DOWN and UP alternate and "down" only exists in FORCE;
 *   a held pair in CHECK changes its active member only by a switch call;
 * - a pool peer's change never moves the pair by itself (only its probe's
 *   answer does), a claim's probe ends within oos-force, and the version of
 *   the active member never goes back (nor wraps at UINT64_MAX);
 * - a peer's version more than HA_VERSION_LEAP_MAX above the highest
 *   known is refused, and exactly then (HA_PEERV_RANGE), having changed
 *   nothing but two counters;
 * - a refused newer version is tried at most claim_retries times (the
 *   setting when it was recorded): at most one try per call, and the tries
 *   spent on the record plus those left add up to that setting;
 * - a stale or held change's answer is due exactly when none was given in
 *   the last oos-check (ha_fsm_answer_due());
 * - the start-up sync (ha_fsm_sync_begin(), _answer(), _done(); begun at
 *   any time here): a syncing pair is never routable and a non-syncing one
 *   is exactly when in CHECK, a waiting transaction's verdict is "wait"
 *   while it syncs, the sync never outlives its deadline past a tick (its
 *   deadline is in ha_fsm_next_due()), an answer's claim pending only while
 *   syncing, and actions say "synced" only when a syncing pair stopped;
 * - calls that say "nothing changed" (-1 / 0 returns) changed nothing, and
 *   no call fills the action buffer (nothing is lost). */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_fsm.h"
#include "ha_config.h" /* the timing bounds a pairs file allows */

#define P HA_ROLE_PRIMARY
#define B HA_ROLE_BACKUP

typedef struct in
{
	const uint8_t *d;
	size_t n;
} in_t;

static uint32_t take(in_t *in, int bytes)
{
	uint32_t v = 0;

	while(bytes-- > 0) {
		v <<= 8;
		if(in->n > 0) {
			v |= *in->d++;
			in->n--;
		}
	}
	return v;
}

/* the fuzzer's state beside the machine */
typedef struct fz
{
	ha_fsm_t f;
	int64_t now;
	ha_role_t shadow_active; /* from the SWITCH events */
	int shadow_down;		 /* DOWN given, UP not yet */
	int64_t ep_attempt_ms;	 /* last attempt of this FORCE run, -1: none */
	uint32_t last_tok[2];	 /* last token sent to each member */
	int ops;
	/* the refused newer version recorded: tries spent on it, and
	 * claim_retries when it was recorded */
	uint64_t rec_tries;
	int rec_init;
} fz_t;

static void fail(const fz_t *z, const char *what)
{
	fprintf(stderr,
			"fuzz_fsm: invariant broken after op %d at t=%lld: %s\n"
			"  state=%s active=%d last_active=%d held=%d down=%d "
			"attempt_open=%d hunt=%d\n"
			"  P: token=%u dl=%lld rtx=%lld  B: token=%u dl=%lld rtx=%lld\n",
			z->ops, (long long)z->now, what,
			(unsigned)z->f.state < HA_ST_COUNT ? ha_state_names[z->f.state]
											   : "?",
			(int)z->f.active, (int)z->f.last_active, z->f.held, z->f.down,
			z->f.attempt_open, (int)z->f.hunt, z->f.m[P].probe.token,
			(long long)z->f.m[P].probe.deadline_ms,
			(long long)z->f.m[P].probe.rtx_ms, z->f.m[B].probe.token,
			(long long)z->f.m[B].probe.deadline_ms,
			(long long)z->f.m[B].probe.rtx_ms);
	abort();
}

#define CHECK(z, cond, what)   \
	do {                       \
		if(!(cond))            \
			fail((z), (what)); \
	} while(0)

static int is_role(ha_role_t r)
{
	return r == P || r == B;
}

/* What always holds, whatever the last call was. */
static void check_state(const fz_t *z)
{
	const ha_fsm_t *f = &z->f;
	int i;

	CHECK(z, f->state == HA_ST_CHECK || f->state == HA_ST_FORCE, "state");
	if(f->state == HA_ST_CHECK) {
		CHECK(z, is_role(f->active), "CHECK without one active member");
		CHECK(z, f->active == f->last_active, "CHECK: last_active differs");
		CHECK(z, !f->attempt_open, "CHECK with an attempt open");
		CHECK(z, !f->down, "CHECK while down");
		CHECK(z, f->active == z->shadow_active,
				"the SWITCH events name another active member");
	} else {
		CHECK(z, f->active == HA_ROLE_NONE, "FORCE with an active member");
		CHECK(z, is_role(f->hunt), "FORCE hunting no member");
		CHECK(z, f->last_active == z->shadow_active,
				"FORCE: last_active is not the last SWITCH's member");
		if(f->attempt_open)
			CHECK(z, f->m[f->hunt].probe.token != 0,
					"an attempt open without a probe of its member");
	}
	CHECK(z, is_role(f->last_active), "last_active");
	CHECK(z, f->down == z->shadow_down, "down flag vs DOWN/UP events");
	CHECK(z, f->held == 0 || f->held == 1, "held");
	CHECK(z, f->round_fails >= 0, "round_fails");
	CHECK(z, f->split_rounds >= 0, "split_rounds");
	CHECK(z, f->last_switch_ms <= z->now, "last switch in the future");
	if(f->m[P].probe.token != 0 && f->m[B].probe.token != 0)
		CHECK(z, f->m[P].probe.token != f->m[B].probe.token,
				"one token in flight to both members");
	for(i = 0; i < HA_ROLE_COUNT; i++) {
		const ha_mfsm_t *m = &f->m[i];
		const ha_probe_t *p = &m->probe;

		CHECK(z, m->state >= HA_MS_UNKNOWN && m->state < HA_MS_COUNT,
				"member state");
		CHECK(z, m->probes_unanswered <= m->probes_sent,
				"more probes unanswered than sent");
		CHECK(z, m->probes_resent <= m->probes_sent,
				"more probes resent than sent");
		CHECK(z, m->reliable || m->probes_resent == 0, "a resend over UDP");
		CHECK(z, m->last_ok_ms <= z->now && m->last_fail_ms <= z->now,
				"member times in the future");
		CHECK(z, m->state != HA_MS_UP || m->last_ok_ms >= 0,
				"up without an alive answer");
		CHECK(z, m->state != HA_MS_DOWN || m->last_fail_ms >= 0,
				"down without a failure");
		CHECK(z, m->last_rtt_ms >= -1, "negative rtt");
		if(p->token == 0) {
			CHECK(z, p->rtx_ms == 0 && !p->resent,
					"retransmission or resend of no probe");
			continue;
		}
		CHECK(z, p->tx_ms >= p->sent_ms && p->tx_ms <= z->now,
				"last transmission outside the probe's life");
		CHECK(z, p->sent_ms <= z->now, "probe sent in the future");
		CHECK(z, p->deadline_ms > p->sent_ms, "deadline not after sending");
		if(p->rtx_ms != 0) {
			CHECK(z, !m->reliable, "retransmission armed over TCP");
			CHECK(z, p->rtx_ms > p->sent_ms && p->rtx_ms < p->deadline_ms,
					"retransmission outside the probe's life");
			CHECK(z, p->rtx_gap_ms > 0, "retransmission gap");
		}
	}
}

/* Check one call: before is the machine before it, acts what it appended,
 * ticked 1 when it was ha_fsm_tick() (which sends probes and UDP
 * retransmissions), 2 when it was ha_fsm_conn_lost() (which may resend
 * over TCP/TLS), 0 for any other call (which sends nothing). */
static void check_call(
		fz_t *z, const ha_fsm_t *before, const ha_actions_t *acts, int ticked)
{
	const ha_fsm_t *f = &z->f;
	int news[2] = {0, 0}, resends[2] = {0, 0}, sw = 0, i;
	uint64_t unans = 0;

	CHECK(z, acts->n >= 0 && acts->n < HA_MAX_ACTIONS,
			"the action buffer filled up (actions may be lost)");
	for(i = 0; i < acts->n; i++) {
		const ha_action_t *a = &acts->a[i];
		const ha_probe_t *bp, *np;

		switch(a->type) {
			case HA_ACT_SEND:
				CHECK(z, is_role(a->member), "SEND to no member");
				CHECK(z, a->token != 0, "SEND of token 0");
				bp = &before->m[a->member].probe;
				np = &f->m[a->member].probe;
				if(a->retransmit && f->m[a->member].reliable) {
					CHECK(z, ticked == 2,
							"resend over TCP but from a lost connection");
					resends[a->member]++;
					CHECK(z, resends[a->member] == 1, "two resends of a probe");
					CHECK(z, bp->token != 0 && !bp->resent,
							"resend of a probe not in flight, or resent");
					CHECK(z, np->token == a->token && a->token != bp->token,
							"resend without a new token kept");
					CHECK(z,
							a->token != before->m[P].probe.token
									&& a->token != before->m[B].probe.token,
							"resend reuses a token in flight");
					CHECK(z, z->now < bp->deadline_ms,
							"resend after the deadline");
					CHECK(z,
							np->sent_ms == bp->sent_ms
									&& np->deadline_ms == bp->deadline_ms
									&& np->verify == bp->verify && np->resent
									&& np->tx_ms == z->now,
							"resend changed the probe");
					z->last_tok[a->member] = a->token;
					break;
				}
				CHECK(z, ticked == 1, "SEND from a call other than the tick");
				if(a->retransmit) {
					CHECK(z, !f->m[a->member].reliable,
							"retransmission over TCP");
					CHECK(z, a->token == bp->token && bp->token != 0,
							"retransmission of a probe not in flight");
					CHECK(z, bp->rtx_ms != 0 && bp->rtx_ms <= z->now,
							"retransmission before it was due");
					CHECK(z, z->now < bp->deadline_ms,
							"retransmission after the deadline");
					break;
				}
				news[a->member]++;
				CHECK(z, news[a->member] == 1, "two new probes of a member");
				/* the one probe in flight: a new one only once the old
				 * one ended (its deadline passed) */
				CHECK(z, bp->token == 0 || bp->deadline_ms <= z->now,
						"a second probe in flight to a member");
				CHECK(z,
						a->token != before->m[P].probe.token
								&& a->token != before->m[B].probe.token,
						"new probe reuses a token in flight");
				CHECK(z, np->token == a->token, "SEND of a token not kept");
				CHECK(z, np->sent_ms == z->now, "probe sent at another time");
				CHECK(z, np->deadline_ms > z->now, "probe armed in the past");
				CHECK(z, np->rtx_ms == 0 || np->rtx_ms > z->now,
						"retransmission armed in the past");
				z->last_tok[a->member] = a->token;
				/* its deadline: oos-check in CHECK, oos-force in FORCE
				 * (the tick starts probes after any change of state);
				 * the first retransmission at T1 = min(500, len / 4) */
				{
					/* a verification, and a claim's probe, end within
					 * oos-force in CHECK too */
					int len = f->state == HA_ST_CHECK && !np->verify
											  && f->claim != a->member
									  ? f->cfg.oos_check_ms
									  : f->cfg.oos_force_ms;
					int t1 = len / 4 > HA_T1_MAX_MS ? HA_T1_MAX_MS : len / 4;

					CHECK(z, np->deadline_ms == z->now + len,
							"probe deadline is not now + oos-check/force");
					CHECK(z,
							f->m[a->member].reliable
									? np->rtx_ms == 0
									: np->rtx_ms == z->now + t1,
							"first retransmission not at T1");
				}
				/* (a claim's member is probed at once, attempt or not; or
				 * every member without a probe, once, when the operator's
				 * ha_fsm_probe_now() asked for it) */
				if(f->state == HA_ST_FORCE)
					CHECK(z,
							(a->member == f->hunt && f->attempt_open)
									|| f->claim == a->member
									|| (before->probe_all_ms >= 0
											&& z->now >= before->probe_all_ms
											&& f->probe_all_ms < 0),
							"FORCE: a probe outside the attempt");
				break;
			case HA_ACT_SWITCH:
				sw++;
				CHECK(z, a->old_role == z->shadow_active,
						"SWITCH from a member that was not active");
				CHECK(z, is_role(a->new_role) && a->new_role != a->old_role,
						"SWITCH to itself or to nobody");
				CHECK(z, a->reason > HA_RSN_START && a->reason < HA_RSN_COUNT,
						"SWITCH reason");
				z->shadow_active = a->new_role;
				break;
			case HA_ACT_DOWN:
				CHECK(z, !z->shadow_down, "DOWN twice");
				CHECK(z, f->state == HA_ST_FORCE, "DOWN outside FORCE");
				z->shadow_down = 1;
				break;
			case HA_ACT_UP:
				CHECK(z, z->shadow_down, "UP without DOWN");
				z->shadow_down = 0;
				break;
			case HA_ACT_SPLIT:
				CHECK(z, f->cfg.probe_standby, "SPLIT without probe_standby");
				CHECK(z, f->state == HA_ST_CHECK, "SPLIT outside CHECK");
				CHECK(z, !before->split, "SPLIT twice in one run");
				break;
			default:
				CHECK(z, 0, "unknown action");
		}
	}
	for(i = 0; i < HA_ROLE_COUNT; i++) {
		const ha_mfsm_t *bm = &before->m[i], *nm = &f->m[i];

		CHECK(z, nm->probes_sent == bm->probes_sent + (uint64_t)news[i],
				"probes_sent does not count the new probes");
		CHECK(z, nm->probes_resent == bm->probes_resent + (uint64_t)resends[i],
				"probes_resent does not count the resends");
		CHECK(z, nm->probes_unanswered >= bm->probes_unanswered,
				"probes_unanswered went down");
		unans += nm->probes_unanswered - bm->probes_unanswered;
		/* a deadline changed on a probe kept (FORCE reuses the probe in
		 * flight with a shorter deadline) is not in the past either */
		if(nm->probe.token != 0 && nm->probe.token == bm->probe.token) {
			if(nm->probe.deadline_ms != bm->probe.deadline_ms) {
				CHECK(z, nm->probe.deadline_ms > z->now,
						"deadline moved into the past");
				CHECK(z, nm->probe.deadline_ms < bm->probe.deadline_ms,
						"deadline moved later");
			}
			if(nm->probe.rtx_ms != bm->probe.rtx_ms && nm->probe.rtx_ms != 0)
				CHECK(z, nm->probe.rtx_ms > z->now,
						"retransmission re-armed in the past");
		}
		if(nm->probe.token != 0 && nm->probe.token != bm->probe.token)
			CHECK(z, news[i] + resends[i] == 1,
					"a probe in flight that was never sent");
	}
	CHECK(z, unans == (uint64_t)acts->unanswered,
			"probes_unanswered does not add up to the actions' count");
	CHECK(z, resends[P] + resends[B] == acts->resent,
			"the actions' resent count is not the resends");
	CHECK(z, f->switchovers == before->switchovers + (uint64_t)sw,
			"switchovers does not count the SWITCH events");
	/* FORCE attempts of one run start at least HA_MIN_ATTEMPT_GAP_MS
	 * apart */
	if(f->state == HA_ST_FORCE && before->state != HA_ST_FORCE)
		z->ep_attempt_ms = -1;
	if(f->state == HA_ST_FORCE && f->attempt_open
			&& (!before->attempt_open || f->attempt_ms != before->attempt_ms)) {
		CHECK(z, f->attempt_ms == z->now, "attempt opened at another time");
		CHECK(z,
				z->ep_attempt_ms < 0
						|| f->attempt_ms - z->ep_attempt_ms
								   >= HA_MIN_ATTEMPT_GAP_MS,
				"FORCE attempts less than 50 ms apart");
		z->ep_attempt_ms = f->attempt_ms;
	}
	if(sw > 0)
		CHECK(z, f->last_switch_ms == z->now, "last switch time");
	check_state(z);
}

static int trace; /* FUZZ_FSM_TRACE set: print every call's outcome */

static void trace_acts(const fz_t *z, const char *call, const ha_actions_t *a)
{
	int i;

	if(!trace)
		return;
	fprintf(stderr,
			"t=%lld %s: %s active=%d hunt=%d attempt open=%d at=%lld "
			"next=%lld",
			(long long)z->now, call, ha_state_names[z->f.state],
			(int)z->f.active, (int)z->f.hunt, z->f.attempt_open,
			(long long)z->f.attempt_ms, (long long)z->f.next_attempt_ms);
	for(i = 0; i < a->n; i++)
		fprintf(stderr, " [%d m=%d tok=%u rtx=%d %d->%d]", (int)a->a[i].type,
				(int)a->a[i].member, a->a[i].token, a->a[i].retransmit,
				(int)a->a[i].old_role, (int)a->a[i].new_role);
	fprintf(stderr, "\n");
}

static void check_tries(fz_t *z, const ha_fsm_t *before);

static void do_tick(fz_t *z)
{
	ha_fsm_t before = z->f;
	ha_actions_t acts;
	int64_t due = ha_fsm_next_due(&z->f);

	ha_actions_reset(&acts);
	ha_fsm_tick(&z->f, z->now, &acts);
	trace_acts(z, "tick", &acts);
	check_call(z, &before, &acts, 1);
	CHECK(z, due <= z->now || acts.n == 0,
			"the tick acted though nothing was due");
	CHECK(z, ha_fsm_next_due(&z->f) > z->now,
			"still due after the tick (armed in the past)");
	check_tries(z, &before);
}

/* Let time pass to t with the prober on time: a tick at every due time (at
 * most 1,024 of them; past that the last tick is a late one). */
static void advance_on_time(fz_t *z, int64_t t)
{
	int64_t due;
	int n = 0;

	while(n++ < 1024) {
		due = ha_fsm_next_due(&z->f);
		if(due > t)
			break;
		if(due > z->now)
			z->now = due;
		do_tick(z);
	}
	z->now = t;
	do_tick(z);
}

static const int codes[] = {
		100, 180, 183, 200, 202, 302, 404, 408, 486, 500, 503, 603, 699, 0};
static const char *alive_lists[] = {
		NULL, "2xx", "2xx,404", "200", "1xx", "5xx,6xx", "404,486,2xx"};

static int pick_range(in_t *in, int lo, int hi)
{
	uint32_t v = take(in, 3);
	uint32_t span = (uint32_t)(hi - lo + 1);

	/* small values more often: the interesting timings are short */
	if(v & 0x800000)
		return lo + (int)((v & 0x7fffff) % span);
	return lo + (int)((v & 0x3ff) % (span < 1024 ? span : 1024));
}

static void read_cfg(in_t *in, ha_fsm_cfg_t *c)
{
	static const int retries[] = {0, 1, 3, HA_CLAIM_RETRIES_DEFAULT};
	uint32_t b = take(in, 1);

	memset(c, 0, sizeof(*c));
	c->oos_check_ms = pick_range(in, HA_CHECK_MIN_MS, HA_CHECK_MAX_MS);
	c->oos_force_ms = pick_range(in, HA_FORCE_MIN_MS, HA_FORCE_MAX_MS);
	c->probe_standby = (int)(b & 1);
	c->claim_retries = retries[(b >> 4) & 3];
	if(ha_codes_parse(alive_lists[(b >> 1) % 7], &c->alive) != 0)
		abort();
}

static uint32_t pick_token(fz_t *z, in_t *in, ha_role_t m)
{
	uint32_t sel = take(in, 1) % 5;

	switch(sel) {
		case 0:
			if(is_role(m) && z->f.m[m].probe.token != 0)
				return z->f.m[m].probe.token;
			/* fall through */
		case 1:
			return is_role(m) ? z->last_tok[m] : 1;
		case 2:
			return z->f.m[is_role(m) ? (m == P ? B : P) : P].probe.token;
		case 3:
			return 0;
		default:
			return take(in, 4);
	}
}

/* The highest version f knows (its own or seen). */
static uint64_t known_version(const ha_fsm_t *f)
{
	return f->version > f->version_seen ? f->version : f->version_seen;
}

/* A peer's version: mostly small ones (ties and stale ones); now and then
 * one at the edge of the range (HA_VERSION_LEAP_MAX above the highest
 * known, or one more) or at the top. */
static uint64_t pick_version(const fz_t *z, in_t *in)
{
	uint32_t v = take(in, 1);
	uint64_t k = known_version(&z->f);
	uint64_t edge = k > UINT64_MAX - HA_VERSION_LEAP_MAX
							? UINT64_MAX
							: k + HA_VERSION_LEAP_MAX;

	if(v < 0xf8)
		return v % 8;
	switch(v & 7) {
		case 0:
		case 1:
			return edge;
		case 2:
		case 3:
			return edge < UINT64_MAX ? edge + 1 : edge;
		case 4:
			return UINT64_MAX;
		case 5:
			return UINT64_MAX - 1;
		default:
			return k + (k < UINT64_MAX);
	}
}

/* After a call (one tick, not a run of them): the tries of the refused
 * newer version recorded. */
static void check_tries(fz_t *z, const ha_fsm_t *before)
{
	const ha_fsm_t *f = &z->f;
	uint64_t spent = f->peer_retries - before->peer_retries;
	int same;

	CHECK(z, spent <= 1, "more than one try of a claim in one call");
	CHECK(z, f->disagree_tries >= 0, "claim tries below 0");
	if(!f->disagree || !f->disagree_newer) {
		CHECK(z, spent == 0, "a claim try with no refused newer version");
		CHECK(z, ha_fsm_claim_tries_left(f) == 0, "tries left of no claim");
		return;
	}
	same = before->disagree && before->disagree_newer
		   && before->disagree_member == f->disagree_member
		   && before->disagree_version == f->disagree_version
		   && strcmp(before->disagree_origin, f->disagree_origin) == 0;
	if(!same) {
		z->rec_tries = 0;
		z->rec_init = f->cfg.claim_retries;
	}
	z->rec_tries += spent;
	CHECK(z, z->rec_tries <= (uint64_t)z->rec_init,
			"a claim tried more than claim_retries times");
	CHECK(z,
			(uint64_t)f->disagree_tries + z->rec_tries == (uint64_t)z->rec_init,
			"claim tries spent and left do not add up");
	CHECK(z, ha_fsm_claim_tries_left(f) == f->disagree_tries,
			"tries left not as recorded");
}

static ha_role_t pick_role(in_t *in)
{
	uint32_t v = take(in, 1);

	/* now and then a value that is no member */
	if((v & 0xf0) == 0xf0)
		return (v & 1) ? HA_ROLE_NONE : HA_ROLE_COUNT;
	return (v & 1) ? B : P;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fz_t z;
	in_t in = {data, size};
	ha_fsm_cfg_t cfg;
	ha_actions_t acts;
	ha_fsm_t before;
	int reliable[2];
	uint32_t b, op;
	int64_t t0;
	static const char *origins[] = {"sip:a", "sip:self", "sip:z"};
	ha_peer_verdict_t pv;
	ha_role_t m, r;
	uint64_t ver;
	int rc, code;

	memset(&z, 0, sizeof(z));
	trace = getenv("FUZZ_FSM_TRACE") != NULL;
	read_cfg(&in, &cfg);
	b = take(&in, 1);
	reliable[P] = (int)(b & 1);
	reliable[B] = (int)((b >> 1) & 1);
	t0 = (int64_t)take(&in, 4) << (b >> 5); /* up to ~2^39 ms */
	z.now = t0;
	ha_actions_reset(&acts);
	ha_fsm_init(&z.f, &cfg, reliable, take(&in, 4), t0, &acts);
	/* the start: SWITCH(none -> primary) */
	CHECK(&z,
			acts.n == 1 && acts.a[0].type == HA_ACT_SWITCH
					&& acts.a[0].old_role == HA_ROLE_NONE
					&& acts.a[0].new_role == P,
			"init: not one SWITCH(none -> primary)");
	z.shadow_active = P;
	check_state(&z);
	do_tick(&z);

	while(in.n > 0 && z.ops < 4096) {
		z.ops++;
		op = take(&in, 1);
		before = z.f;
		ha_actions_reset(&acts);
		switch(op % 12) {
			case 0: /* time passes, timer on time */
				advance_on_time(&z, z.now + pick_range(&in, 0, 600000));
				break;
			case 1: /* time passes, the timer is late */
				z.now += pick_range(&in, 0, 600000);
				do_tick(&z);
				break;
			case 2: /* straight to the next due time */
				if(ha_fsm_next_due(&z.f) > z.now
						&& ha_fsm_next_due(&z.f) < z.now + 10000000)
					z.now = ha_fsm_next_due(&z.f);
				do_tick(&z);
				break;
			case 3:
			case 4: /* a reply */
				m = pick_role(&in);
				code = codes[take(&in, 1) % 14];
				if(code == 0)
					code = 100 + (int)(take(&in, 2) % 600);
				rc = ha_fsm_reply(
						&z.f, m, pick_token(&z, &in, m), code, z.now, &acts);
				if(trace)
					fprintf(stderr, "reply m=%d code=%d rc=%d\n", (int)m, code,
							rc);
				trace_acts(&z, "reply", &acts);
				CHECK(&z, rc == 0 || rc == -1, "reply: return value");
				if(rc < 0)
					CHECK(&z, memcmp(&before, &z.f, sizeof(before)) == 0,
							"a refused reply changed the machine");
				check_call(&z, &before, &acts, 0);
				if(rc == 0 && code >= 200)
					CHECK(&z, z.f.m[m].probe.token == 0,
							"the probe answered is still in flight");
				break;
			case 5: /* a send failure, or (high bit) a lost connection */
				if(op >= 0x80) {
					m = pick_role(&in);
					rc = ha_fsm_conn_lost(
							&z.f, m, pick_token(&z, &in, m), z.now, &acts);
					trace_acts(&z, rc < 0 ? "conn_lost refused" : "conn_lost",
							&acts);
					CHECK(&z, rc >= -1 && rc <= 1, "conn_lost: return value");
					if(rc < 0)
						CHECK(&z, memcmp(&before, &z.f, sizeof(before)) == 0,
								"a refused lost connection changed the "
								"machine");
					else if(rc == 0)
						CHECK(&z,
								z.f.m[m].probe.token == 0
										&& acts.unanswered == 1,
								"the lost probe is still in flight");
					else
						CHECK(&z,
								z.f.m[m].reliable && z.f.m[m].probe.token != 0
										&& acts.resent == 1
										&& acts.unanswered == 0,
								"conn_lost: 1 without a resend");
					check_call(&z, &before, &acts, 2);
					break;
				}
				m = pick_role(&in);
				rc = ha_fsm_send_failed(
						&z.f, m, pick_token(&z, &in, m), z.now, &acts);
				trace_acts(
						&z, rc ? "send_failed refused" : "send_failed", &acts);
				CHECK(&z, rc == 0 || rc == -1, "send_failed: return value");
				if(rc < 0)
					CHECK(&z, memcmp(&before, &z.f, sizeof(before)) == 0,
							"a refused send failure changed the machine");
				else
					CHECK(&z, z.f.m[m].probe.token == 0 && acts.unanswered == 1,
							"the failed probe is still in flight");
				check_call(&z, &before, &acts, 0);
				break;
			case 6: /* a passive promotion */
				m = pick_role(&in);
				rc = ha_fsm_passive(&z.f, m, z.now, &acts);
				trace_acts(&z, "passive", &acts);
				check_call(&z, &before, &acts, 0);
				if(!is_role(m) || before.held)
					CHECK(&z, memcmp(&before, &z.f, sizeof(before)) == 0,
							"a passive event changed a held pair or no-member");
				else
					CHECK(&z, z.f.state == HA_ST_CHECK && z.f.active == m,
							"passive: the promoted member is not active");
				CHECK(&z, rc == 0 || acts.n > 0, "passive: 1 without SWITCH");
				break;
			case 7: /* a switchover (manual, failover, probe, ...) */
				m = pick_role(&in);
				r = (ha_reason_t)(HA_RSN_PROBE + take(&in, 1) % 4);
				rc = ha_fsm_switch(&z.f, m, (ha_reason_t)r, z.now, &acts);
				trace_acts(&z, "switch", &acts);
				check_call(&z, &before, &acts, 0);
				if(rc <= 0)
					CHECK(&z, memcmp(&before, &z.f, sizeof(before)) == 0,
							"switch: 'nothing changed' changed something");
				if(rc == -1)
					CHECK(&z, !is_role(m), "switch refused a member");
				if(is_role(m))
					CHECK(&z, z.f.state == HA_ST_CHECK && z.f.active == m,
							"switch: the member is not active");
				break;
			case 8: /* ha_failover: a transaction to m failed: verify */
				m = pick_role(&in);
				rc = ha_fsm_verify(&z.f, m, z.now);
				if(trace)
					fprintf(stderr, "verify m=%d -> %d\n", (int)m, rc);
				check_call(&z, &before, &acts, 0);
				CHECK(&z, acts.n == 0, "verify: acted at once");
				CHECK(&z,
						z.f.state == before.state
								&& z.f.active == before.active,
						"verify: the pair moved");
				if(!is_role(m))
					CHECK(&z, rc == -1, "verify of no member");
				if(rc <= 0)
					CHECK(&z, memcmp(&before, &z.f, sizeof(before)) == 0,
							"verify: 'nothing to do' changed something");
				if(rc > 0) {
					CHECK(&z,
							before.state == HA_ST_CHECK && before.active == m
									&& !before.held,
							"verify: off the active member");
					CHECK(&z,
							z.f.m[m].verify_ms >= 0
									|| (z.f.m[m].probe.token != 0
											&& z.f.m[m].probe.verify
											&& z.f.m[m].probe.deadline_ms
													   <= z.now + z.f.cfg.oos_force_ms),
							"verify: no probe will end within oos-force");
				}
				break;
			case 9: /* hold / release, or (high bit) a pool peer's change;
					 * 0x40: the start-up sync begins (0x20) or a peer's
					 * answer is complete; on a peer's change: it is an
					 * answer to the sync */
				code = (int)take(&in, 1);
				if(!(code & 0x80) && (code & 0x40)) {
					if(code & 0x20)
						ha_fsm_sync_begin(
								&z.f, z.now + pick_range(&in, 0, 5000));
					else
						CHECK(&z,
								ha_fsm_sync_done(&z.f)
										== (before.syncing
												&& !before.sync_claim),
								"sync_done: ended or not as it should");
					check_call(&z, &before, &acts, 0);
					break;
				}
				if(!(code & 0x80)) {
					ha_fsm_hold(&z.f, code & 1);
					check_call(&z, &before, &acts, 0);
					break;
				}
				m = pick_role(&in);
				/* small versions and few origins: ties and stale ones */
				ver = pick_version(&z, &in);
				pv = ha_fsm_peer(&z.f, m, ver, origins[take(&in, 1) % 3],
						"sip:self", code & 1, z.now);
				if(code & 0x40) {
					rc = ha_fsm_sync_answer(&z.f, pv);
					CHECK(&z,
							rc
									== (before.syncing && !z.f.syncing
											&& !before.sync_claim
											&& pv != HA_PEERV_BAD),
							"sync_answer: ended or not as it should");
				}
				if(trace)
					fprintf(stderr, "peer m=%d -> %d\n", (int)m, (int)pv);
				check_call(&z, &before, &acts, 0);
				CHECK(&z, acts.n == 0, "peer: acted at once");
				CHECK(&z,
						z.f.state == before.state
								&& z.f.active == before.active,
						"peer: the pair moved at once");
				CHECK(&z, (pv == HA_PEERV_BAD) == !is_role(m),
						"peer: BAD for a member or not for a non-member");
				if(pv == HA_PEERV_BAD)
					CHECK(&z, memcmp(&before, &z.f, sizeof(before)) == 0,
							"peer: a refused change changed the machine");
				if(is_role(m))
					CHECK(&z,
							(pv == HA_PEERV_RANGE)
									== (ver > known_version(&before)
											&& ver - known_version(&before)
													   > HA_VERSION_LEAP_MAX),
							"peer: out of range, or not, wrongly");
				if(pv == HA_PEERV_RANGE) {
					before.peer_received++;
					before.peer_out_of_range++;
					CHECK(&z, memcmp(&before, &z.f, sizeof(before)) == 0,
							"peer: an out-of-range version changed the "
							"machine");
					before.peer_received--;
					before.peer_out_of_range--;
				}
				if((pv == HA_PEERV_STALE || pv == HA_PEERV_HELD)
						&& (code & 1)) {
					/* the glue asks whether to answer it */
					rc = ha_fsm_answer_due(&z.f, z.now);
					CHECK(&z,
							rc
									== (before.answer_ms < 0
											|| z.now - before.answer_ms
													   >= z.f.cfg.oos_check_ms),
							"answer_due: due or not wrongly");
					CHECK(&z, z.f.answer_ms == (rc ? z.now : before.answer_ms),
							"answer_due: recorded wrongly");
				}
				if(pv == HA_PEERV_CLAIM)
					CHECK(&z,
							z.f.claim == m && z.f.claim_peer
									&& (z.f.m[m].probe.token == 0
											|| z.f.m[m].probe.deadline_ms
													   <= z.now + z.f.cfg.oos_force_ms),
							"peer: a claim whose probe ends after oos-force");
				break;
			case 10: /* probe now (RPC) */
				ha_fsm_probe_now(&z.f, z.now);
				/* by design the next attempt may then start at once,
				 * inside the 50 ms gap (an operator's one-off) */
				if(!z.f.attempt_open)
					z.ep_attempt_ms = -1;
				check_call(&z, &before, &acts, 0);
				break;
			default: /* reload with other timings */
				read_cfg(&in, &cfg);
				ha_fsm_set_cfg(&z.f, &cfg);
				check_call(&z, &before, &acts, 0);
				break;
		}
		/* the start-up sync */
		r = ha_fsm_routable(&z.f);
		CHECK(&z,
				z.f.syncing
						? r == HA_ROLE_NONE
						: r
								  == (z.f.state == HA_ST_CHECK ? z.f.active
															   : HA_ROLE_NONE),
				"routable: not as the state says");
		CHECK(&z, !z.f.sync_claim || z.f.syncing, "a sync claim, not syncing");
		CHECK(&z, !acts.synced || (before.syncing && !z.f.syncing),
				"synced said, but the pair was not syncing or still is");
		if(z.f.syncing) {
			ha_waitpoint_t w = {HA_ROLE_NONE, z.now, z.f.force_runs};
			ha_role_t rr = HA_ROLE_NONE;

			CHECK(&z, ha_fsm_wait_verdict(&z.f, &w, &rr) == HA_WV_WAIT,
					"a waiter of a syncing pair was let go");
			CHECK(&z, ha_fsm_next_due(&z.f) <= z.f.sync_until_ms,
					"the sync's deadline is not due");
			if(op % 12 <= 2)
				CHECK(&z, z.now < z.f.sync_until_ms,
						"syncing after its deadline past a tick");
		}
		/* versions never go back */
		CHECK(&z, z.f.version >= before.version, "the version went back");
		if(op % 12 > 2) /* time passing: checked at each tick */
			check_tries(&z, &before);
		/* a held pair in CHECK keeps its member, except by a switch */
		if(before.held && z.f.held && before.state == HA_ST_CHECK
				&& op % 12 != 7)
			CHECK(&z, z.f.state == HA_ST_CHECK && z.f.active == before.active,
					"a held pair changed its active member");
	}
	return 0;
}
