/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_dmq.h - pool replication of ha_pair over Kamailio's dmq module. */

#ifndef _HA_DMQ_H_
#define _HA_DMQ_H_

#include "../../modules/dmq/bind_dmq.h"

#include "ha_store.h"

/* module parameter enable_dmq: 0 (default) off, 1 on */
extern int _ha_enable_dmq;
/* module parameter sync_timeout: ms a starting proxy's requests wait for
 * the pool's answer at most (0: no wait) */
extern int _ha_sync_timeout;
/* module parameter sync_interval: ms between broadcasts of the changed
 * pairs' states (0: off) */
extern int _ha_sync_interval;

/* In mod_init, after the pairs are loaded: register the statistics; with
 * enable_dmq, bind dmq (it must be loaded, before ha_pair), register the
 * peer with handle as its callback (ha_dmq_handle(), ha_dmq_recv.h), make
 * the send queue and reserve its process. Returns 0, or -1 (logged) when
 * start-up must fail. */
int ha_dmq_mod_init(peer_callback_t handle);
/* In child_init(PROC_MAIN): start the send process (enable_dmq only). */
int ha_dmq_fork(void);
void ha_dmq_destroy(void);

/* Act on the pool's part of a state machine call's actions, outside p's
 * lock: broadcast each local change of the active member, answer a
 * refused peer change, count. Nothing when enable_dmq is 0. Never sends
 * itself: it queues for the send process, so no SIP worker waits on the
 * network or DNS. */
void ha_dmq_actions(ha_pair_t *p, const ha_actions_t *acts);

#endif
