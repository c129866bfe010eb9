/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_pair.h - what the Kamailio-side files of ha_pair share. */

#ifndef _HA_PAIR_H_
#define _HA_PAIR_H_

#include "../../core/str.h"
#include "../../core/parser/msg_parser.h"
#include "../../core/counters.h"
#include "../../core/atomic_ops.h"
#include "../../core/rpc.h"
#include "../../core/pvar.h"

#include "ha_store.h"
#include "ha_text.h" /* HA_LOG_STR(): a peer's text in a log line */

/* module parameters */
extern str _ha_pairs_file;
extern int _ha_oos_check;
extern int _ha_oos_force;
extern str _ha_probe_from;
extern str _ha_probe_socket;
extern str _ha_alive_codes;
extern int _ha_passive_switchover;
extern int _ha_probe_standby;
extern int _ha_claim_retries;

extern ha_codes_t _ha_alive;
extern struct socket_info *_ha_probe_sock;

/* statistics (group ha_pair) */
extern stat_var *_ha_stat_switchovers;
extern stat_var *_ha_stat_probes_sent;
extern stat_var *_ha_stat_probes_unanswered;
extern stat_var *_ha_stat_probes_resent;
extern stat_var *_ha_stat_requests_routed;
extern stat_var *_ha_stat_requests_refused;
extern stat_var *_ha_stat_verify_probes;
extern stat_var *_ha_stat_verify_alive;
extern stat_var *_ha_stat_verify_silent;
extern stat_var *_ha_stat_waited;
extern stat_var *_ha_stat_waiting;
extern stat_var *_ha_stat_wait_timeouts;
extern stat_var *_ha_stat_wait_rejected;

/* The prober's state in shared memory: its next wake-up, which the other
 * processes only ever lower (atomically, see ha_probe.c), and a flag they
 * raise to make it run every pair (a reload, a pair of a replaced
 * table). */
typedef struct ha_prober_shm
{
	atomic_t wake;
	int64_t wake_at_ms; /* __atomic builtins only */
} ha_prober_shm_t;
extern ha_prober_shm_t *_ha_prober;

/* ha_pair_mod.c */
/* Load pairs_file into the running table (start-up and ha_pair.reload).
 * With events, each pair it adds fires its start event (exactly once,
 * before any other event of the pair); at start-up (events 0, the event
 * queue is made later) ha_start_events() does that. */
int ha_pairs_load(char *err, size_t errlen, ha_pairs_counts_t *ls, int events);
void ha_start_events(void);

/* ha_route.c */
extern str _ha_passive_methods;
extern str _ha_member_trust;
/* Parse passive_methods and member_trust, bind rr (when loaded). */
int ha_route_mod_init(void);
/* The member_trust that applies to p ("any", "transport", "confirm"): its
 * own member-trust, else the module parameter. Can't fail. */
const char *ha_pair_trust_name(const ha_pair_t *p);
/* ha_route() / ha_route(pair) (SPEC 3; name NULL without argument):
 * 1 $du is the pair's active member; 2 the request came from a pair member
 * (passive switchover applied, X-Genesys-Route obeyed); -1 no pair; -2 no
 * active member right now; -3 an error. */
int ha_route_request(struct sip_msg *msg, str *name);
/* The name of the pair ha_route() found for msg (pointing into this
 * process's memory until the next request), or -1 when it found none. */
int ha_route_found(const struct sip_msg *msg, str *name);
/* The pair ha_route() sent the current transaction's request to, when it
 * remembered it (a pair with a member address shared with another pair),
 * or NULL. */
ha_pair_t *ha_route_remembered(ha_table_t *t);
/* Add p's pair tag to the Record-Route of msg (with rr loaded). */
void ha_route_tag(struct sip_msg *msg, ha_pair_t *p);

/* ha_genesys_route.c */
/* Remove every X-Genesys-Route header of msg. When uri is not NULL, the
 * first one's URI goes there. Returns 1 when that URI is valid, 0 when
 * there is no such header, -1 on a malformed value or a parse error (it is
 * removed all the same). */
int ha_genesys_route_take(struct sip_msg *msg, str *uri);

/* ha_failover.c */
/* ha_failover() (SPEC 3), in a failure_route. Returns 1 with $du set to
 * the member to retry on; 0 when the transaction waits for a verdict (it
 * is suspended: the script ends here, and tm runs this failure route again
 * with the verdict) or when it answered the caller itself; -1 when the
 * failure is none of its business (not a pair member, not a member's
 * failure, canceled); -2 when there is no member to retry on (held); -3 on
 * an internal error. */
int ha_failover_request(struct sip_msg *msg);
/* ha_wait(): in a request_route after ha_route() returned -2, the request
 * waits (its transaction suspended, no worker held) until the pair has an
 * active member, then tm runs the failure route armed with t_on_failure(),
 * where ha_failover() sets $du to that member (1); at the bound, or over
 * the pair's cap, ha_failover() / ha_wait() answer 503 themselves. Returns
 * 0 when it waits (the script ends), 1 when the pair has an active member
 * already ($du set), -1 for an ACK or CANCEL (they never wait), -2 when it
 * cannot wait (the cap: the caller is answered 503 by the script), -3 on
 * an error (no ha_route() before, no failure route armed). */
int ha_wait_request(struct sip_msg *msg);

/* ha_store.c */
/* The "ha_pair dns" process's timer: every dns_refresh seconds, resolve
 * member host names again, and swap in new addresses when they changed. */
void ha_store_refresh_timer(unsigned int ticks, void *param);

/* ha_probe.c */
int ha_probe_mod_init(void);
int ha_probe_fork(void);
int ha_probe_reply_cb(struct sip_msg *msg, unsigned int flags, void *param);
/* After changing p's state machine (with p locked): refresh its due time
 * and bring the prober's next wake-up forward to it when it is earlier.
 * The wake-up can't be lost, even while the prober is scanning. */
void ha_pair_reschedule(ha_pair_t *p);

/* ha_actions.c */
/* Act on what a state machine call returned, outside the pair's lock (any
 * process: prober, SIP worker, RPC, dmq worker): log, count, fire events,
 * and hand the pool's part to ha_dmq_actions(). */
void ha_actions_run(ha_pair_t *p, const ha_actions_t *acts);

/* ha_event.c */
extern str _ha_event_callback;
/* Look up the event routes; when the script has some (or event_callback
 * is set), make the queue and reserve the event process. */
int ha_event_mod_init(int npairs);
int ha_event_fork(void);
void ha_event_destroy(void);
/* Queue event a of pair p (SWITCH, DOWN, UP, SPLIT); never blocks for
 * long, never runs the route itself. Call it outside p's lock. */
void ha_event_push(ha_pair_t *p, const ha_action_t *a);
int ha_pv_parse_name(pv_spec_t *sp, str *in);
int ha_pv_get(struct sip_msg *msg, pv_param_t *param, pv_value_t *res);

/* ha_rpc.c */
extern rpc_export_t ha_rpc_cmds[];

#endif
