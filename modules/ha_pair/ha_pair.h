/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_pair.h - ha_pair_mod.c's: the module's parameters and statistics,
 * which the Kamailio-side files share, and the load of the pairs file. */

#ifndef _HA_PAIR_H_
#define _HA_PAIR_H_

#include "../../core/str.h"
#include "../../core/counters.h"
#include "../../core/ip_addr.h"

#include "ha_codes.h"
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

/* Load pairs_file into the running table (start-up and ha_pair.reload).
 * With events, each pair it adds fires its start event (exactly once,
 * before any other event of the pair); at start-up (events 0, the event
 * queue is made later) ha_start_events() does that. */
int ha_pairs_load(char *err, size_t errlen, ha_pairs_counts_t *ls, int events);
void ha_start_events(void);

#endif
