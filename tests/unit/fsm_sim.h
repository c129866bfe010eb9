/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fsm_sim.h - the simulation the ha_fsm Check suites drive the pure state
 * machine with (tests/unit/test_ha_fsm*.c). */

/* The machine is driven by a fake clock: sim_at() runs everything due at
 * one millisecond (replies of the simulated peers, then ha_fsm_tick()),
 * sim_run() steps it 1 ms at a time. Every action is logged with its time.
 * The helpers check on every step what must always hold: at most one probe
 * per member in flight, retransmissions only of the probe in flight, inside
 * its deadline and never to a connection-oriented member (which gets one
 * resend, with a new token, after its connection was lost), a tick never acts
 * before ha_fsm_next_due(), and nothing is still due after a tick.
 *
 * sim_t holds one machine with its simulated members, the log of its
 * actions and its state changes; S is the one most tests use (cleared by
 * the sim_fixture() fixture). */

#ifndef FSM_SIM_H
#define FSM_SIM_H

#include <stdint.h>
#include <string.h>

#include <check.h>

#include "ha_fsm.h"

#define P HA_ROLE_PRIMARY
#define B HA_ROLE_BACKUP
#define ANY -1

#define SIM_LOG_MAX 65536
#define SIM_PEND_MAX 256
#define SIM_ST_MAX 256
#define SIM_T_MAX 256

typedef enum peer_mode
{
	PEER_ANSWER = 0, /* a final reply delay_ms after the transmission */
	PEER_SILENT,	 /* never a final reply */
	PEER_SEND_FAIL	 /* the send fails (refused) fail_delay_ms later */
} peer_mode_t;

/* A simulated member. */
typedef struct peer
{
	peer_mode_t mode;
	int delay_ms;
	int code;
	int drop_first; /* loses each first transmission, answers a resend */
	int prov_code;	/* > 0: a provisional reply prov_delay_ms after */
	int prov_delay_ms;
	int fail_delay_ms;
	/* over TCP/TLS: the connection a probe goes out on is lost
	 * loss_delay_ms after the send (ha_fsm_conn_lost()): 1 the first one
	 * of each probe (the resend is answered as mode says), 2 every one */
	int conn_loss;
	int loss_delay_ms;
} peer_t;

typedef struct rec
{
	int64_t t;
	ha_action_t a;
} rec_t;

typedef struct pend
{
	int64_t at;
	ha_role_t m;
	uint32_t token;
	int code; /* 0: the send failed, -1: the connection was lost */
} pend_t;

typedef struct strec
{
	int64_t t;
	ha_state_t state;
	ha_role_t active;
} strec_t;

typedef struct sim
{
	ha_fsm_t f;
	ha_fsm_cfg_t cfg;
	int reliable[2];
	uint32_t seed;
	int jump; /* sim_run() jumps to the next event instead of 1 ms steps */
	int64_t now;
	peer_t peer[2];
	rec_t log[SIM_LOG_MAX];
	int nlog;
	pend_t pend[SIM_PEND_MAX];
	int npend;
	strec_t st[SIM_ST_MAX]; /* state changes */
	int nst;
	/* the simulation's own view of the probes, to check the machine */
	uint32_t tok[2];	/* last probe sent, 0: it ended */
	int64_t dl[2];		/* its deadline as last seen */
	uint32_t resent[2]; /* drop_first: token answered on its resend */
	uint32_t lost[2];	/* a probe's lost connection: token, until resent */
	int resent_n;		/* resends the actions said were made */
	int refused;		/* peer replies the machine refused */
	int unconfirmed;	/* claims the actions said ended unconfirmed */
	ha_role_t unconfirmed_member; /* the member of the last of them */
	int peer_refused;			  /* peer claims the actions refused */
	int peer_adopted;
	int peer_agreed;
	char answer_to[HA_ORIGIN_MAX]; /* the last answer asked for */
	int64_t synced_ms; /* when the actions said the sync ended, -1: not */
} sim_t;

extern sim_t S;
/* the text of the last times_eq() comparison, for the assertion's message */
extern char sim_msg[4096];

/* ---- the simulation ---------------------------------------------------- */

/* A fresh simulation: timings, alive codes (NULL: any reply), members over
 * reliable transports or not; the primary answers 200 in 10 ms, the backup
 * 200 in 20 ms. */
void sim_setup(sim_t *s, int check, int force, int standby, const char *codes,
		int rel_p, int rel_b);
/* oos_check 5 s, oos_force 1 s, no standby probing, any reply, UDP */
void sim_default(sim_t *s);
/* Record the machine's state if it changed. */
void note_state(sim_t *s);
/* Log the actions and let the simulated members act on the SENDs. */
void sim_actions(sim_t *s, const ha_actions_t *acts);
/* A reply (code > 0), a send failure (code 0) or a lost connection (code
 * -1) for token of member m, now, with the bookkeeping. Returns what the
 * machine returned; *nact (when not NULL) gets the number of actions it
 * appended. */
int sim_reply(sim_t *s, ha_role_t m, uint32_t tok, int code, int *nact);
/* Run everything due at time t (>= now). */
void sim_at(sim_t *s, int64_t t);
/* Start the machine at t0 and run what is due then. */
void sim_start(sim_t *s, int64_t t0);
/* Advance to t_end (inclusive): 1 ms steps, or jumps to the next event. */
void sim_run(sim_t *s, int64_t t_end);
/* The default pair (sim_default()), started at 0 and run to t. */
void sim_started(sim_t *s, int64_t t);
/* The member goes quiet: no more replies, also none already on the way. */
void sim_kill(sim_t *s, ha_role_t m);
/* The member answers again, delay_ms after each probe. */
void sim_revive(sim_t *s, ha_role_t m, int delay_ms);

/* The machine's entry points, now, with the bookkeeping. */
int sim_passive(sim_t *s, ha_role_t m, int *nact);
int sim_claim(sim_t *s, ha_role_t m);
/* A pool peer at origin says m is active at version; self is "sip:self". */
ha_peer_verdict_t sim_peer(
		sim_t *s, ha_role_t m, uint64_t version, const char *origin, int reply);
int sim_switch(sim_t *s, ha_role_t m, ha_reason_t why, int *nact);
int sim_verify(sim_t *s, ha_role_t m);
/* A transaction that failed on member m (HA_ROLE_NONE: one that waits for
 * an active member) begins to wait now. */
ha_waitpoint_t sim_waitpoint(const sim_t *s, ha_role_t m);
ha_verdict_t sim_verdict(
		const sim_t *s, const ha_waitpoint_t *w, ha_role_t *retry);

/* The checked fixture: S cleared before each test. */
void sim_fixture(void);
/* A test case of simulations: with that fixture, 120 s allowed. */
TCase *sim_tcase(const char *name);

/* ---- queries on the log -------------------------------------------------- */

/* Actions of type (member for SEND, ANY; rtx 0/1/ANY) in [from, to]. */
int nact(const sim_t *s, ha_act_type_t type, int m, int rtx, int64_t from,
		int64_t to);
/* All actions of type. */
int nev(const sim_t *s, ha_act_type_t type);
/* The n-th (from 0) logged action of type, or NULL. */
const rec_t *nth(const sim_t *s, ha_act_type_t type, int n);
/* Times of the SENDs to m (rtx 0: new probes, 1: retransmissions) in
 * [from, to]. */
int send_times(
		const sim_t *s, int m, int rtx, int64_t from, int64_t to, int64_t *out);
/* Times of the retransmissions of probe token. */
int rtx_times(const sim_t *s, uint32_t tok, int64_t *out);
/* The token of the new probe sent to m at t (0: none). */
uint32_t token_at(const sim_t *s, ha_role_t m, int64_t t);
/* Whether got equals exp; both written to sim_msg. */
int times_eq(const int64_t *got, int ngot, const int64_t *exp, int nexp);
/* The machine's counters agree with the log. */
void sim_check_counters(const sim_t *s);

/* The SENDs to m (rtx 0/1) in [from, to] happened exactly at the times
 * listed (none listed: none happened). */
#define ck_assert_sends(s, m, rtx, from, to, ...)                         \
	do {                                                                  \
		int64_t got_[SIM_T_MAX];                                          \
		const int64_t exp_[] = {-1, ##__VA_ARGS__};                       \
		int ng_ = send_times((s), (m), (rtx), (from), (to), got_);        \
		ck_assert_msg(times_eq(got_, ng_, exp_ + 1,                       \
							  (int)(sizeof(exp_) / sizeof(exp_[0])) - 1), \
				"%s to %s in [%lld, %lld]: %s",                           \
				(rtx) ? "retransmissions" : "probes", ha_role_name(m),    \
				(long long)(from), (long long)(to), sim_msg);             \
	} while(0)

/* The retransmissions of probe tok happened exactly at the times listed. */
#define ck_assert_rtx(s, tok, ...)                                            \
	do {                                                                      \
		int64_t got_[SIM_T_MAX];                                              \
		const int64_t exp_[] = {-1, ##__VA_ARGS__};                           \
		int ng_ = rtx_times((s), (tok), got_);                                \
		ck_assert_msg(times_eq(got_, ng_, exp_ + 1,                           \
							  (int)(sizeof(exp_) / sizeof(exp_[0])) - 1),     \
				"retransmissions of probe %u: %s", (unsigned)(tok), sim_msg); \
	} while(0)

/* The n-th event of type is at time t with old -> new for reason. */
#define ck_assert_event(s, type, n, at, o, nw, why)                       \
	do {                                                                  \
		const rec_t *r_ = nth((s), (type), (n));                          \
		ck_assert_msg(r_ != NULL, "no event %d of type %d", (n), (type)); \
		ck_assert_int_eq(r_->t, (at));                                    \
		ck_assert_int_eq(r_->a.old_role, (o));                            \
		ck_assert_int_eq(r_->a.new_role, (nw));                           \
		ck_assert_int_eq(r_->a.reason, (why));                            \
	} while(0)

#define ck_assert_pair(s, st, act)              \
	do {                                        \
		ck_assert_int_eq((s)->f.state, (st));   \
		ck_assert_int_eq((s)->f.active, (act)); \
	} while(0)

/* The n-th recorded state change is (t, state, active). */
#define ck_assert_change(s, n, at, stv, act)          \
	do {                                              \
		ck_assert_int_gt((s)->nst, (n));              \
		ck_assert_int_eq((s)->st[(n)].t, (at));       \
		ck_assert_int_eq((s)->st[(n)].state, (stv));  \
		ck_assert_int_eq((s)->st[(n)].active, (act)); \
	} while(0)

#define ck_assert_unchanged(before, s)                               \
	ck_assert_msg(memcmp(&(before), &(s)->f, sizeof(ha_fsm_t)) == 0, \
			"the pair changed")

/* The state machine's suites, one a file, run by test_ha_fsm.c's main(). */
Suite *ha_fsm_suite(void);
Suite *ha_fsm_probe_suite(void);
Suite *ha_fsm_timing_suite(void);
Suite *ha_fsm_req_suite(void);
Suite *ha_fsm_pool_suite(void);
Suite *ha_fsm_sync_suite(void);

#endif
