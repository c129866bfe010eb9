/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_actions.h - what a state machine call asked for, done
 * outside the pair's lock (ha_actions.c). */

#ifndef _HA_ACTIONS_H_
#define _HA_ACTIONS_H_

#include "ha_table.h"

/* Act on what a state machine call returned, outside the pair's lock (any
 * process: prober, SIP worker, RPC, dmq worker): log, count, fire events,
 * and hand the pool's part to ha_dmq_actions(). */
void ha_actions_run(ha_pair_t *p, const ha_actions_t *acts);

#endif
