/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_fsm.h - the pure per-pair probing state machine of ha_pair. */

#ifndef _HA_FSM_H_
#define _HA_FSM_H_

#include <stdint.h>

#include "ha_codes.h"
#include "ha_addr.h"

/* Time is always passed in, as milliseconds of a monotonic clock; nothing
 * here reads a clock, allocates, locks or logs. The caller holds the pair's
 * lock around every call on a pair. Calls that change state append what
 * the caller must do (send a probe, fire an event) to an ha_actions_t. */

#define HA_MIN_ATTEMPT_GAP_MS 50 /* FORCE attempts start at least this apart */
#define HA_T1_MAX_MS 500		 /* RFC 3261 T1, upper bound */
#define HA_MAX_ADDRS 16	  /* resolved addresses per member: more are refused */
#define HA_SPLIT_ROUNDS 3 /* both alive this often: split brain */
#define HA_MAX_ACTIONS 8
#define HA_ORIGIN_MAX 64 /* a pool peer's DMQ address, with its NUL */
/* a pool peer's version further than this above the highest this proxy
 * knows is refused: no pool makes 2^32 changes of a pair, so it can only
 * be forged, and taking it would outrank every later change */
#define HA_VERSION_LEAP_MAX ((uint64_t)1 << 32)
#define HA_CLAIM_RETRIES_DEFAULT 20 /* claim_retries' default */

typedef enum ha_role
{
	HA_ROLE_NONE = -1,
	HA_ROLE_PRIMARY = 0,
	HA_ROLE_BACKUP = 1,
	HA_ROLE_COUNT = 2
} ha_role_t;

typedef enum ha_state
{
	HA_ST_CHECK = 0,
	HA_ST_FORCE,
	HA_ST_COUNT
} ha_state_t;

typedef enum ha_mstate
{
	HA_MS_UNKNOWN = 0,
	HA_MS_UP,
	HA_MS_DOWN,
	HA_MS_COUNT
} ha_mstate_t;

typedef enum ha_reason
{
	HA_RSN_NONE = 0,
	HA_RSN_START,
	HA_RSN_PROBE,
	HA_RSN_PASSIVE,
	HA_RSN_FAILOVER,
	HA_RSN_MANUAL,
	HA_RSN_PEER, /* a pool peer's change, confirmed by a probe */
	HA_RSN_COUNT
} ha_reason_t;

extern const char *ha_state_names[HA_ST_COUNT];
extern const char *ha_mstate_names[HA_MS_COUNT];
extern const char *ha_reason_names[HA_RSN_COUNT];
/* "primary", "backup"; ha_role_name() also gives "none" */
const char *ha_role_name(ha_role_t r);


typedef struct ha_probe
{
	uint32_t token;		 /* 0: no probe in flight */
	int64_t sent_ms;	 /* first transmission */
	int64_t tx_ms;		 /* last transmission (the first, or a resend) */
	int64_t deadline_ms; /* no answer by then: the member is not answering */
	int64_t rtx_ms;		 /* next retransmission, 0: none */
	int rtx_gap_ms;
	int verify; /* a verification: a failed transaction asked for it */
	/* TCP/TLS: sent once more after its connection was lost
	 * (ha_fsm_conn_lost()); a second loss counts */
	int resent;
} ha_probe_t;

typedef struct ha_mfsm
{
	ha_probe_t probe;
	int reliable; /* connection-oriented: no retransmission */
	ha_mstate_t state;
	int last_code;		  /* last final reply, 0: none */
	int last_rtt_ms;	  /* -1: none */
	int64_t last_ok_ms;	  /* when it last answered alive, -1: never */
	int64_t last_fail_ms; /* when it last failed a probe, -1: never */
	uint64_t probes_sent; /* probes, not counting retransmissions */
	uint64_t probes_unanswered;
	/* TCP/TLS: probes sent once more after their connection was lost */
	uint64_t probes_resent;
	/* a verification asked for by a failed transaction, for the next tick
	 * to start (-1: none) */
	int64_t verify_ms;
} ha_mfsm_t;

typedef struct ha_fsm_cfg
{
	int oos_check_ms;
	int oos_force_ms;
	int probe_standby;
	/* how often a refused newer peer version is tried again, in all
	 * (retries every oos-check and messages naming it again); 0: never */
	int claim_retries;
	ha_codes_t alive;
} ha_fsm_cfg_t;

typedef struct ha_fsm
{
	ha_fsm_cfg_t cfg;
	ha_state_t state;
	ha_role_t active;	   /* HA_ROLE_NONE in FORCE */
	ha_role_t last_active; /* the member active before FORCE */
	int held;			   /* maintenance: no automatic switchover */
	ha_mfsm_t m[HA_ROLE_COUNT];
	int64_t next_probe_ms;	 /* CHECK: next probe of the active member */
	int64_t next_standby_ms; /* next probe of the standby, -1: none due */
	/* FORCE */
	ha_reason_t force_reason; /* why FORCE began: reason of its switch */
	ha_role_t hunt;			  /* member of the current or next attempt */
	int attempt_open;		  /* an attempt is in progress */
	int64_t attempt_ms;		  /* start of the last attempt */
	int64_t next_attempt_ms;  /* earliest start of the next attempt */
	int64_t probe_all_ms;	  /* ha_pair.probe in FORCE: -1 none */
	int round_fails;		  /* attempts failed since FORCE began */
	int down;				  /* "down" given, "up" not yet */
	int split_rounds;		  /* rounds both members answered alive */
	int split;				  /* "split" given for the current run */
	/* a request from a non-active member that, under member_trust
	 * "confirm", waits for that member to answer a probe */
	ha_role_t claim;  /* HA_ROLE_NONE: no claim pending */
	int64_t claim_ms; /* when it was made: its probe is due then */
	int claim_sent;	  /* its probe went out (or one in flight serves) */
	uint64_t claims_confirmed;
	uint64_t claims_unconfirmed;
	/* verification probes (a failed transaction is a reason to look) */
	uint64_t verifies;		/* started (or an in-flight probe made one) */
	uint64_t verify_alive;	/* the member answered alive */
	uint64_t verify_silent; /* it did not: the pair acted on that */
	uint64_t force_runs;	/* times the pair went into FORCE */
	/* pool replication (enable_dmq). Every change of the active member
	 * has a version: a local one takes the highest version seen plus one
	 * (UINT64_MAX at most: it never wraps), an adopted one keeps the
	 * peer's. origin: the DMQ address of the proxy that made the current
	 * version ("": this one). */
	uint64_t version;
	uint64_t version_seen; /* the highest any peer named */
	char origin[HA_ORIGIN_MAX];
	/* the pending claim (above) was made by a pool peer */
	int claim_peer;
	uint64_t claim_version;
	char claim_origin[HA_ORIGIN_MAX]; /* its version's origin */
	/* a peer named another member than this proxy keeps, until the views
	 * agree again: a newer version refused (its member did not answer
	 * here, or the pair is held), or an older one a peer answered with
	 * (its state, after it refused this proxy's change) */
	int disagree;
	int disagree_newer; /* newer than the pair's version: retried */
	ha_role_t disagree_member;
	uint64_t disagree_version;
	char disagree_origin[HA_ORIGIN_MAX];
	int64_t disagree_retry_ms; /* next retry of a newer one's member */
	int disagree_tries;		   /* tries of a newer one left (claim_retries) */
	uint64_t peer_received;	   /* peer changes about this pair */
	uint64_t peer_adopted;	   /* made active after the probe */
	uint64_t peer_agreed;	   /* named the member active here: version taken */
	uint64_t peer_refused;	   /* changes refused (each version once) */
	uint64_t peer_stale;	   /* not newer than what this proxy has */
	uint64_t peer_retries;	   /* retries of a refused newer change */
	uint64_t peer_out_of_range; /* versions too far ahead: refused unread */
	/* when a stale or held peer change was last answered (-1: never): one
	 * answer per oos-check (ha_fsm_answer_due()) */
	int64_t answer_ms;
	/* start-up sync (enable_dmq, sync_timeout): the pool has not answered
	 * for the pair yet; requests wait (ha_fsm_routable()) until its answer
	 * is adopted or refused, a peer's complete answer leaves it out, or
	 * sync_until_ms */
	int syncing;
	int sync_claim; /* a pool answer's claim is being confirmed */
	int64_t sync_until_ms;
	uint32_t next_token;
	/* reporting */
	uint64_t switchovers;
	ha_reason_t last_reason;
	int64_t last_switch_ms; /* -1: never */
} ha_fsm_t;

typedef enum ha_act_type
{
	HA_ACT_SEND = 0, /* send (or resend) probe token to member */
	HA_ACT_SWITCH,	 /* the active member changed: old -> new for reason */
	HA_ACT_DOWN,	 /* a full FORCE round ended with no answer */
	HA_ACT_UP,		 /* the pair left FORCE after a DOWN */
	HA_ACT_SPLIT,	 /* both members alive HA_SPLIT_ROUNDS rounds */
	HA_ACT_COUNT
} ha_act_type_t;

typedef struct ha_action
{
	ha_act_type_t type;
	ha_role_t member; /* SEND */
	uint32_t token;	  /* SEND */
	/* SEND: not a new probe. Over UDP the same request again; over TCP/TLS
	 * the probe sent once more, with a new token, after its connection was
	 * lost (ha_fsm_conn_lost()) */
	int retransmit;
	ha_role_t old_role, new_role;
	ha_reason_t reason;
	uint64_t version; /* SWITCH: the pair's version after it */
} ha_action_t;

typedef struct ha_actions
{
	int n;
	int unanswered;	 /* probes that ended without an alive answer */
	int resent;		 /* probes sent once more after a lost connection */
	int unconfirmed; /* claims whose probe ended without an alive answer */
	ha_role_t unconfirmed_member; /* the member of the last of them */
	int verified_alive;			  /* verifications that ended with an answer */
	int verified_silent;		  /* and without */
	int peer_adopted;			  /* peer changes adopted */
	int peer_agreed;			  /* confirmed, the member active already */
	int peer_refused;			  /* refused: their member did not answer */
	int synced;					  /* the start-up sync of the pair ended */
	/* this proxy's state must go to answer_to (non-empty): a peer's
	 * version was refused for the first time, or adopted after it had
	 * been refused (the peer recorded the disagreement) */
	char answer_to[HA_ORIGIN_MAX];
	ha_action_t a[HA_MAX_ACTIONS];
} ha_actions_t;

/* Empty an action list before a call that appends to it. */
static inline void ha_actions_reset(ha_actions_t *acts)
{
	acts->n = 0;
	acts->unanswered = 0;
	acts->resent = 0;
	acts->unconfirmed = 0;
	acts->unconfirmed_member = HA_ROLE_NONE;
	acts->verified_alive = 0;
	acts->verified_silent = 0;
	acts->peer_adopted = 0;
	acts->peer_agreed = 0;
	acts->peer_refused = 0;
	acts->synced = 0;
	acts->answer_to[0] = '\0';
}

/* Start a pair at now: CHECK(primary), the primary probed at now and the
 * backup probed once at the same moment. token_seed starts the pair's
 * probe tokens (any value; 0 is skipped). Appends SWITCH(none -> primary,
 * start). Can't fail. */
void ha_fsm_init(ha_fsm_t *f, const ha_fsm_cfg_t *cfg, const int reliable[2],
		uint32_t token_seed, int64_t now, ha_actions_t *out);

/* Change timings/codes of a running pair (reload): they apply from the
 * next probe; the probes in flight keep their deadlines. Can't fail. */
void ha_fsm_set_cfg(ha_fsm_t *f, const ha_fsm_cfg_t *cfg);

/* Advance to now: expire deadlines, retransmit, start due probes. */
void ha_fsm_tick(ha_fsm_t *f, int64_t now, ha_actions_t *out);

/* The earliest time at which ha_fsm_tick() has something to do. */
int64_t ha_fsm_next_due(const ha_fsm_t *f);

/* A reply with status code to the probe token of member m, at now; the
 * caller has checked that it came from the member's address. Returns 0
 * when it matched the probe in flight, -1 when it did not (no probe, other
 * token, too late): then nothing changed. 1xx only stop retransmission. */
int ha_fsm_reply(ha_fsm_t *f, ha_role_t m, uint32_t token, int code,
		int64_t now, ha_actions_t *out);

/* The probe token to member m could not be sent (over UDP: refused, no
 * route; or no socket to send it from): it counts as not answered, now.
 * Over TCP/TLS a failed send is a lost connection: ha_fsm_conn_lost().
 * Returns 0, or -1 when the token is not the probe in flight (nothing
 * changed). */
int ha_fsm_send_failed(ha_fsm_t *f, ha_role_t m, uint32_t token, int64_t now,
		ha_actions_t *out);

/* The connection the probe token to member m went out on (TCP/TLS) failed
 * before an answer came: the send failed, or the connection is gone. The
 * first time for a probe, before its deadline, the probe is sent once
 * more, on a new connection: out gets a SEND with retransmit set and a new
 * token (a member that had the request and answered it on the lost
 * connection may hold the old branch in a transaction of its own); the
 * probe keeps its send time and deadline, it is no new probe
 * (probes_sent), and counts in probes_resent and out->resent. The second
 * time, at or past the deadline, or for a member that is not reliable, it
 * counts as not answered now, as ha_fsm_send_failed(). Returns 1 when the
 * probe was sent once more, 0 when it counted, -1 when the token is not
 * the probe in flight (nothing changed). */
int ha_fsm_conn_lost(ha_fsm_t *f, ha_role_t m, uint32_t token, int64_t now,
		ha_actions_t *out);

/* Member m sent an out-of-dialog request: it has been promoted. Makes it
 * active at once (unless held) and probes it now. Returns 1 when the
 * active member changed, 0 otherwise. */
int ha_fsm_passive(ha_fsm_t *f, ha_role_t m, int64_t now, ha_actions_t *out);

/* Member m sent an out-of-dialog request that would make it active (as
 * ha_fsm_passive()), over a transport that proves nothing about its
 * origin: confirm it first. m is probed at the next tick (or its probe in
 * flight serves), with an oos-force deadline; an alive answer makes it
 * active then, with reason passive; no alive answer by the deadline ends
 * the claim (counted in claims_unconfirmed and in out->unconfirmed by the
 * call that ends it). A newer claim for the other member replaces a
 * pending one. Returns 1 when a claim began, 2 when this one was pending
 * already (nothing changed), 0 when there is nothing to confirm (m is the
 * active member in CHECK, or the pair is held; nothing changed), -1 when
 * m is not a member role (nothing changed). */
int ha_fsm_claim(ha_fsm_t *f, ha_role_t m, int64_t now);

/* Make member m active now for reason (manual, failover, ...) and probe it
 * now. Returns 1 when the active member changed, 0 when m already was the
 * active member in CHECK (nothing changed), -1 when m is not a member role
 * (nothing changed). */
int ha_fsm_switch(ha_fsm_t *f, ha_role_t m, ha_reason_t reason, int64_t now,
		ha_actions_t *out);

/* A transaction sent to member m failed in a way that may mean m is down
 * (timeout, 503, transport error): a reason to look, never a verdict by
 * itself. When m is the active member in CHECK, m gets a verification
 * probe with an oos-force deadline: a new one at the next tick, or the
 * probe in flight serves (its deadline is brought forward to now +
 * oos-force when it was later). An alive answer changes nothing; no alive
 * answer is handled as any unanswered probe of the active member (FORCE,
 * or the fresh standby at once), with reason failover. Returns 1 when a
 * verification began, 2 when one in flight serves, 0 when there is
 * nothing to verify (m is not the active member in CHECK, or the pair is
 * held), -1 when m is not a member role (nothing changed). */
int ha_fsm_verify(ha_fsm_t *f, ha_role_t m, int64_t now);

/* What a transaction waiting on the pair may do now (see
 * ha_fsm_wait_verdict()). */
typedef enum ha_verdict
{
	HA_WV_WAIT = 0, /* nothing known yet: go on waiting */
	HA_WV_RETRY,	/* retry on *retry (the active member now) */
	HA_WV_ANSWERED, /* the failed member answered: its failure stands */
	HA_WV_NONE,		/* no member to retry on (held, verification failed) */
	HA_WV_COUNT
} ha_verdict_t;

/* A waiting transaction, as the verdict needs it: the member that failed
 * it (HA_ROLE_NONE: it waits for the pair to have an active member), when
 * it began to wait, and f->force_runs then. */
typedef struct ha_waitpoint
{
	ha_role_t failed;
	int64_t since_ms;
	uint64_t force_runs;
} ha_waitpoint_t;

/* The verdict for a transaction waiting on the pair since w. Reads f only;
 * *retry is set for HA_WV_RETRY. Can't fail. */
ha_verdict_t ha_fsm_wait_verdict(
		const ha_fsm_t *f, const ha_waitpoint_t *w, ha_role_t *retry);

/* The order of versions (pool replication): by number, a tie broken by
 * the origin's DMQ address (the greater string wins), so that every proxy
 * orders two changes alike. Returns <0, 0, >0 as a is older than, the same
 * as, newer than b. */
int ha_ver_cmp(uint64_t an, const char *ao, uint64_t bn, const char *bo);

/* What ha_fsm_peer() made of a peer's change. */
typedef enum ha_peer_verdict
{
	HA_PEERV_STALE = 0, /* not newer than this proxy's version: ignored */
	HA_PEERV_AGREE,		/* names the member active here: its version taken */
	HA_PEERV_CLAIM,		/* a claim began: its member is probed at once */
	HA_PEERV_PENDING,	/* a claim for that member is pending already */
	HA_PEERV_HELD,		/* the pair is held: refused, no probe */
	HA_PEERV_BAD,		/* m is not a member role */
	HA_PEERV_RANGE,		/* too far ahead of what this proxy knows: refused */
	HA_PEERV_COUNT
} ha_peer_verdict_t;

/* A pool peer says member m is active at version (version, origin; origin
 * is a DMQ address, never empty); change: it is a change (the glue
 * answers a stale one), not a state (an answer, a sync). self is this
 * proxy's DMQ address, which stands for an empty f->origin. The rule
 * (docs/design.md, "Disagreement"):
 * - above max(version, version_seen) + HA_VERSION_LEAP_MAX: out of range,
 *   refused before anything else (counted in peer_received and
 *   peer_out_of_range only: no version seen, no record, no claim);
 * - not newer (ha_ver_cmp()) than the pair's version, or than a pending
 *   peer claim: stale. One at the pair's own version naming its active
 *   member ends a disagreement not newer than that; a stale state naming
 *   another member than the active one (in CHECK) is recorded as a
 *   disagreement (the peer is behind), nothing adopted;
 * - newer and naming the active member (in CHECK): its version and origin
 *   are taken at once;
 * - newer and naming another member: a claim as ha_fsm_claim()'s, with
 *   reason peer: m is probed at the next tick with an oos-force deadline
 *   (or its probe in flight serves, its deadline brought forward to now +
 *   oos-force when it was later); an alive answer makes m active (reason
 *   peer) with the peer's version, unless a local change made a newer
 *   version meanwhile; no alive answer ends the claim: the pair keeps its
 *   member and records the disagreement. The first refusal of a version
 *   counts in peer_refused and names origin in out->answer_to (this
 *   proxy's state goes back, so both sides report). While the newer
 *   disagreement stands (not held, no newer local version), it is tried
 *   again (its member probed; peer_retries) every oos-check and whenever
 *   a peer's message names that version again, cfg.claim_retries times
 *   in all (disagree_tries: set when another version is recorded, not by
 *   a repeat); with none left a repeat is stale, and the disagreement
 *   still stands. A try its member answers adopts it, and out->answer_to
 *   then names origin again so that its record there ends.
 * Can't fail. */
ha_peer_verdict_t ha_fsm_peer(ha_fsm_t *f, ha_role_t m, uint64_t version,
		const char *origin, const char *self, int change, int64_t now);

/* The tries left of the refused newer peer version recorded (claim
 * retries: ha_fsm_peer()); 0 when none is recorded. Can't fail. */
int ha_fsm_claim_tries_left(const ha_fsm_t *f);

/* A stale or held peer change (ha_fsm_peer() said HA_PEERV_STALE or
 * HA_PEERV_HELD) is to be answered with this proxy's state: is an answer
 * due at now? At most one per pair per oos-check, so that a flood of such
 * changes, forged or not, does not fill the send queue. Returns 1 (and
 * records now) when none was given in the last oos-check, 0 otherwise
 * (nothing changed). */
int ha_fsm_answer_due(ha_fsm_t *f, int64_t now);

/* The member requests go to now: the active member in CHECK, unless the
 * pair is syncing; HA_ROLE_NONE otherwise (in FORCE, or syncing: the
 * request waits as during a hunt). */
ha_role_t ha_fsm_routable(const ha_fsm_t *f);

/* Start-up sync (pool replication): the pair waits for the pool's answer
 * until at the latest until (a time). Probing goes on as before; only
 * ha_fsm_routable() and ha_fsm_wait_verdict() see it. The sync ends (out->
 * synced is set by the call that ends it, or the call returns 1):
 *  - by ha_fsm_sync_answer() after a pool answer's ha_fsm_peer() that
 *    began no claim (stale, agreeing, held), or, when it began one, once
 *    that claim ends (adopted or refused after its probe: ha_fsm_reply(),
 *    ha_fsm_tick(), ha_fsm_send_failed());
 *  - by ha_fsm_sync_done(): a peer's complete answer did not name the
 *    pair (no claim of an answer pending);
 *  - by ha_fsm_tick() at until.
 * Can't fail. */
void ha_fsm_sync_begin(ha_fsm_t *f, int64_t until);

/* A pool answer's state for the pair was given to ha_fsm_peer(), which
 * returned v. Returns 1 when that ended the sync, 0 otherwise (HA_PEERV_BAD
 * changes nothing). */
int ha_fsm_sync_answer(ha_fsm_t *f, ha_peer_verdict_t v);

/* A peer's answer to the sync is complete. Returns 1 when the pair's sync
 * ended by it (it was syncing with no answer's claim pending), 0
 * otherwise. */
int ha_fsm_sync_done(ha_fsm_t *f);

/* Hold (1) or release (0) the active member. Can't fail. */
void ha_fsm_hold(ha_fsm_t *f, int on);

/* Probe now, outside the schedule: both members (a member with a probe in
 * flight keeps it). In CHECK the active member's next probe and the
 * standby's are due now; in FORCE the next attempt, if none is open,
 * starts now, and each member without a probe in flight is probed now,
 * outside the attempts (its attempt takes the probe over; the first member
 * to answer becomes active). Can't fail. */
void ha_fsm_probe_now(ha_fsm_t *f, int64_t now);

#endif
