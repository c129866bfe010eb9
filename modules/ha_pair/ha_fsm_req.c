/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_fsm_req.c - what SIP requests and transactions do to the pure state
 * machine of ha_pair: a member's request (passive switchover, or a claim
 * to confirm), the member requests route to, a failed transaction's
 * verification and the verdict for transactions that wait. */

#include <stdint.h>

#include "ha_fsm.h"
#include "ha_fsm_int.h"

int ha_fsm_passive(ha_fsm_t *f, ha_role_t m, int64_t now, ha_actions_t *out)
{
	ha_role_t old = f->active != HA_ROLE_NONE ? f->active : f->last_active;

	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return 0;
	if(f->held || (f->state == HA_ST_CHECK && f->active == m))
		return 0;
	ha_fsm_become_active(f, m, HA_RSN_PASSIVE, now, out);
	f->next_probe_ms = now;
	return old != m;
}

void ha_fsm_claim_start(ha_fsm_t *f, ha_role_t m, int peer, int64_t now)
{
	f->claim = m;
	f->claim_ms = now;
	f->claim_peer = peer;
	/* one probe per member in flight: one already out serves, and ends
	 * within oos-force, as a probe sent for the claim would */
	f->claim_sent = f->m[m].probe.token != 0;
	if(f->claim_sent)
		ha_fsm_probe_within_force(f, m, now);
}

int ha_fsm_claim(ha_fsm_t *f, ha_role_t m, int64_t now)
{
	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return -1;
	if(f->held || (f->state == HA_ST_CHECK && f->active == m))
		return 0;
	if(f->claim == m)
		return 2;
	ha_fsm_claim_start(f, m, 0, now);
	return 1;
}

int ha_fsm_verify(ha_fsm_t *f, ha_role_t m, int64_t now)
{
	ha_probe_t *p;

	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return -1;
	if(f->state != HA_ST_CHECK || f->active != m || f->held)
		return 0;
	p = &f->m[m].probe;
	if(p->token != 0) {
		if(!p->verify)
			f->verifies++;
		ha_fsm_verify_join(f, m, now);
		return 2;
	}
	if(f->m[m].verify_ms >= 0)
		return 2; /* asked for already: the next tick starts it */
	f->m[m].verify_ms = now;
	f->verifies++;
	return 1;
}

ha_verdict_t ha_fsm_wait_verdict(
		const ha_fsm_t *f, const ha_waitpoint_t *w, ha_role_t *retry)
{
	const ha_mfsm_t *mm;

	if(f->state != HA_ST_CHECK || f->syncing)
		return HA_WV_WAIT; /* hunting (or syncing): the member it finds is
							* the answer */
	*retry = f->active;
	if(w->failed != HA_ROLE_PRIMARY && w->failed != HA_ROLE_BACKUP)
		return HA_WV_RETRY; /* it waited for an active member: here it is */
	if(f->active != w->failed || f->force_runs != w->force_runs)
		return HA_WV_RETRY; /* the pair moved (or hunted) since it failed */
	mm = &f->m[w->failed];
	if(mm->last_ok_ms >= w->since_ms)
		return HA_WV_ANSWERED; /* alive: the request was the problem */
	if(f->held && mm->last_fail_ms >= w->since_ms)
		return HA_WV_NONE; /* silent, but pinned: nowhere else to go */
	return HA_WV_WAIT;
}

ha_role_t ha_fsm_routable(const ha_fsm_t *f)
{
	return f->state == HA_ST_CHECK && !f->syncing ? f->active : HA_ROLE_NONE;
}
