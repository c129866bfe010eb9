/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_fsm_int.h - what the pure state machine's files share: ha_fsm.c (the
 * per-pair probing), ha_fsm_req.c (requests and transactions) and
 * ha_fsm_pool.c (pool replication). Not part of its API (ha_fsm.h):
 * included by those files only. */

#ifndef _HA_FSM_INT_H_
#define _HA_FSM_INT_H_

#include <stdint.h>

#include "ha_fsm.h"

/* ha_fsm.c */

/* Make m the active member (state CHECK). Fires SWITCH when the member
 * differs from the one active before, and UP when leaving a DOWN. */
void ha_fsm_become_active(ha_fsm_t *f, ha_role_t m, ha_reason_t reason,
		int64_t now, ha_actions_t *out);

/* Make the probe in flight to member m a verification: it must end
 * within oos-force from now. */
void ha_fsm_verify_join(ha_fsm_t *f, ha_role_t m, int64_t now);

/* The probe in flight to member m must end within oos-force from now. */
void ha_fsm_probe_within_force(ha_fsm_t *f, ha_role_t m, int64_t now);

/* ha_fsm_req.c */

/* Member m is to be confirmed by a probe (a claim, a pool peer's when peer
 * is 1): due now, or the probe in flight to m serves, within oos-force. A
 * pending claim is replaced. */
void ha_fsm_claim_start(ha_fsm_t *f, ha_role_t m, int peer, int64_t now);

/* ha_fsm_pool.c */

/* The active member changes for reason: the pair's version after it (a
 * peer's, when reason is peer; otherwise a local one, newer than any seen
 * up to UINT64_MAX, where it stays),
 * and the end of a disagreement that version settles. */
void ha_fsm_version_switch(ha_fsm_t *f, ha_reason_t reason);

/* The pending peer claim's member m answered alive (the claim is ended
 * here). Returns 1 when m must become active now with reason peer (counted
 * as adopted), 0 when nothing is to change (the views agree: its version
 * taken; or it is stale, or the pair held). */
int ha_fsm_peer_claim_alive(ha_fsm_t *f, ha_role_t m, ha_actions_t *out);

/* The pending peer claim's member m did not answer alive: the claim ends,
 * the pair keeps its member and records the disagreement (answering the
 * peer the first time). */
void ha_fsm_peer_claim_silent(
		ha_fsm_t *f, ha_role_t m, int64_t now, ha_actions_t *out);

/* When the retry of a refused newer version is due: returns 1 with *at
 * set, 0 when none is (none recorded, the pair held, a claim pending, its
 * tries spent). */
int ha_fsm_retry_at(const ha_fsm_t *f, int64_t *at);

/* At now, start the retry of a refused newer version as a peer claim when
 * it is due, spending one of its tries. */
void ha_fsm_retry_tick(ha_fsm_t *f, int64_t now);

/* After a call that may end a pool answer's claim, or pass the start-up
 * sync's deadline: end the sync when so (out->synced). */
void ha_fsm_sync_check(ha_fsm_t *f, int64_t now, ha_actions_t *out);

#endif
