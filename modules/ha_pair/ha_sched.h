/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_sched.h - the prober's schedule in shared memory (ha_sched.c). */

#ifndef _HA_SCHED_H_
#define _HA_SCHED_H_

#include <stdint.h>

#include "../../core/atomic_ops.h"

#include "ha_table.h"

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

/* Make the schedule (mod_init, before any process is forked). Returns 0,
 * or -1 when out of shared memory. */
int ha_sched_init(void);
void ha_sched_destroy(void);

/* After changing p's state machine (with p locked): refresh its due time
 * and bring the prober's next wake-up forward to it when it is earlier.
 * The wake-up can't be lost, even while the prober is scanning. */
void ha_sched_update(ha_pair_t *p);

/* Make the prober run every pair at its next tick (a reload, a DNS
 * refresh). Can't fail. */
void ha_sched_wake_all(void);

/* When p must be run next (p locked): its state machine's next event, or
 * at once while a TCP/TLS probe is in flight (its connection is watched
 * every tick). */
int64_t ha_sched_pair_due(ha_pair_t *p);

/* Bring the prober's next wake-up forward to d when d is earlier (see
 * ha_sched.c on why a wake-up can't be lost). */
void ha_sched_lower(int64_t d);

#endif
