/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_dmq_int.h - what ha_dmq.c (binding, send queue, send process) and
 * ha_dmq_recv.c (the handler of peers' messages) share; private to the
 * two. */

#ifndef _HA_DMQ_INT_H_
#define _HA_DMQ_INT_H_

#include "../../core/counters.h"
#include "../../core/parser/msg_parser.h"
#include "../../modules/dmq/bind_dmq.h"

#include "ha_store.h"

/* dmq's own node list (its global dmq_node_list, found in dmq's module):
 * a node it holds is only valid under the list's lock */
extern dmq_node_list_t **_ha_dmq_nodes;
/* this proxy's DMQ address (dmq's server_address): the origin of local
 * changes, and what a tie is broken with */
extern char _ha_dmq_self[HA_ORIGIN_MAX];

/* the pool statistics the handler counts (registered in ha_dmq.c) */
extern stat_var *_ha_stat_peer_received;
extern stat_var *_ha_stat_peer_agreed;
extern stat_var *_ha_stat_peer_foreign;
extern stat_var *_ha_stat_peer_refused;
extern stat_var *_ha_stat_peer_stale;
extern stat_var *_ha_stat_syncs;
extern stat_var *_ha_stat_peer_rejected_range;
extern stat_var *_ha_stat_peer_answers_suppressed;

/* Queue pair p's current state for the node at to: the answer to a change
 * of to's that this proxy did not take. Never sends itself. Returns 0, or
 * -1 when the send queue is full. */
int ha_dmq_answer(ha_pair_t *p, const char *to);
/* Queue a batch job for the send process: the state of every pair, to the
 * node at to (sync 1: the answer to its sync) or to the pool (to "", sync
 * 0: the periodic broadcast of the changed pairs). Returns 0, or -1 when
 * the job queue is full (logged). */
int ha_dmq_job_queue(const char *to, int sync);

#endif
