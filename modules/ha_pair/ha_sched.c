/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_sched.c - the prober's schedule in shared memory: each pair's due
 * time and the prober's next wake-up, which any process (a SIP worker, a
 * dmq worker, RPC, the DNS refresh) brings forward after changing a pair,
 * and the prober (ha_probe.c) resets at each scan. */

#include <string.h>

#include "../../core/mem/shm_mem.h"

#include "ha_sched.h"
#include "ha_fsm.h"
#include "ha_store.h"
#include "ha_table.h"

ha_prober_shm_t *_ha_prober = NULL;

int ha_sched_init(void)
{
	_ha_prober = shm_malloc(sizeof(*_ha_prober));
	if(_ha_prober == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(_ha_prober, 0, sizeof(*_ha_prober));
	atomic_set(&_ha_prober->wake, 1);
	_ha_prober->wake_at_ms = 0;
	return 0;
}

void ha_sched_destroy(void)
{
	if(_ha_prober != NULL) {
		shm_free(_ha_prober);
		_ha_prober = NULL;
	}
}

void ha_sched_wake_all(void)
{
	if(_ha_prober != NULL)
		atomic_set(&_ha_prober->wake, 1);
}

/* When p must be run next (p locked): its state machine's next event, or
 * every tick while a TCP/TLS probe is in flight (its connection is
 * watched, see probe_conn_alive()). */
int64_t ha_sched_pair_due(ha_pair_t *p)
{
	int i;

	for(i = 0; i < HA_ROLE_COUNT; i++) {
		if(p->m[i].proto != PROTO_UDP && p->st->fsm.m[i].probe.token != 0)
			return 0;
	}
	return ha_fsm_next_due(&p->st->fsm);
}

/* The prober's next wake-up, wake_at_ms, is only ever lowered by the
 * other processes, and the prober resets it to "never" before each scan
 * and lowers it to what the scan found after. Every access to it and to
 * the due times is sequentially consistent (__atomic builtins, so a
 * 64-bit value is read and written whole: one mov / lock cmpxchg on
 * x86_64, which is what we build for; a 32-bit target needs a double-word
 * cmpxchg, as GCC gives on i586 and later). So, between a process that
 * makes pair p due at d and a scan of the prober:
 * - the process stores p's due time, then reads wake_at_ms;
 * - the prober stores "never" in wake_at_ms, then reads p's due time;
 * one of the two sees the other's store (the store-buffer pattern with
 * seq_cst): either the scan sees d and counts it, or the process sees
 * "never" (or a value that a later reset or lowering left) and lowers
 * wake_at_ms to d itself, which the prober's own lowering after the scan
 * cannot raise. A wake-up can't be lost, whatever the interleaving. */
void ha_sched_lower(int64_t d)
{
	int64_t cur;

	cur = __atomic_load_n(&_ha_prober->wake_at_ms, __ATOMIC_SEQ_CST);
	while(d < cur
			&& !__atomic_compare_exchange_n(&_ha_prober->wake_at_ms, &cur, d, 0,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		; /* cur now holds the value that won: try again against it */
}

void ha_sched_update(ha_pair_t *p)
{
	p->st->run_at_ms = ha_sched_pair_due(p);
	__atomic_store_n(p->run_at_slot, p->st->run_at_ms, __ATOMIC_SEQ_CST);
	if(_ha_prober == NULL)
		return;
	if(p->gen != __atomic_load_n(&_ha_store->gen, __ATOMIC_SEQ_CST)) {
		/* a pair of a table a reload replaced (or is replacing: the load
		 * raises the flag itself once it installed its table), whose due
		 * time the running table's copy does not have: the prober runs
		 * every pair */
		atomic_set(&_ha_prober->wake, 1);
		membar();
	}
	ha_sched_lower(p->st->run_at_ms);
}
