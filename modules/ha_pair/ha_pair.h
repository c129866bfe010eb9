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

/* module parameters */
extern str _ha_pairs_file;
extern int _ha_oos_check;
extern int _ha_oos_force;
extern str _ha_probe_from;
extern str _ha_probe_socket;
extern str _ha_alive_codes;
extern int _ha_passive_switchover;
extern int _ha_probe_standby;

extern ha_codes_t _ha_alive;
extern struct socket_info *_ha_probe_sock;

/* statistics (group ha_pair) */
extern stat_var *_ha_st_switchovers;
extern stat_var *_ha_st_probes_sent;
extern stat_var *_ha_st_probes_unanswered;
extern stat_var *_ha_st_requests_routed;
extern stat_var *_ha_st_requests_refused;
extern stat_var *_ha_st_verify_probes;
extern stat_var *_ha_st_verify_alive;
extern stat_var *_ha_st_verify_silent;
extern stat_var *_ha_st_waited;
extern stat_var *_ha_st_waiting;
extern stat_var *_ha_st_wait_timeouts;
extern stat_var *_ha_st_wait_rejected;

/* The prober's state in shared memory: its next wake-up, which the other
 * processes only ever lower (atomically, see ha_probe.c), and a flag they
 * raise to make it run every pair (a reload, a pair of a replaced
 * table). */
typedef struct ha_prober_shm
{
	atomic_t wake;
	int64_t next_due_ms; /* __atomic builtins only */
} ha_prober_shm_t;
extern ha_prober_shm_t *_ha_prober;

/* ha_pair_mod.c */
/* Load pairs_file into the running table (start-up and ha_pair.reload).
 * With events, each pair it adds fires its start event (exactly once,
 * before any other event of the pair); at start-up (events 0, the event
 * queue is made later) ha_start_events() does that. */
int ha_load(char *err, size_t errlen, ha_load_stats_t *ls, int events);
void ha_start_events(void);

/* ha_probe.c */
int ha_probe_mod_init(void);
int ha_probe_fork(void);
int ha_probe_reply_cb(struct sip_msg *msg, unsigned int flags, void *param);
/* After changing p's state machine (with p locked): refresh its due time
 * and bring the prober's next wake-up forward to it when it is earlier.
 * The wake-up can't be lost, even while the prober is scanning. */
void ha_pair_touched(ha_pair_t *p);
/* Act on what a state machine call returned, outside the pair's lock:
 * log, count, fire events. */
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
