/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_fsm_req.c - Check suite for what a member's request does to the
 * pair (ha_fsm_req.c): passive switchover, claims (member_trust confirm),
 * the verification of a failed transaction and the verdicts of waiting
 * transactions. Run by test_ha_fsm.c's main(). */

#include <stdint.h>
#include <string.h>

#include <check.h>

#include "ha_fsm.h"
#include "fsm_sim.h"

/* ---- passive switchover ---------------------------------------------- */

START_TEST(passive_switchover_from_standby)
{
	ha_fsm_t before;
	int n;

	sim_started(&S, 100);
	ck_assert_int_eq(sim_passive(&S, B, &n), 1);
	ck_assert_int_eq(n, 1);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 100, P, B, HA_RSN_PASSIVE);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_PASSIVE);
	ck_assert_int_eq(S.f.switchovers, 1);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 100);
	sim_at(&S, 100);
	ck_assert_sends(&S, B, 0, 100, 100, 100);
	sim_run(&S, 10200);
	ck_assert_sends(&S, B, 0, 0, 10200, 0, 100, 5100, 10100);
	ck_assert_sends(&S, P, 0, 1, 10200);

	/* from the member already active: nothing */
	before = S.f;
	ck_assert_int_eq(sim_passive(&S, B, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_unchanged(before, &S);
	sim_check_counters(&S);
}
END_TEST

START_TEST(passive_ignored_while_held)
{
	ha_fsm_t before;
	int n;

	sim_started(&S, 100);
	ha_fsm_hold(&S.f, 1);
	ck_assert_int_eq(S.f.held, 1);
	before = S.f;
	ck_assert_int_eq(sim_passive(&S, B, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(sim_passive(&S, P, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_unchanged(before, &S);
	sim_run(&S, 10000);
	ck_assert_int_eq(S.nst, 1);
}
END_TEST

START_TEST(passive_during_force_makes_member_active)
{
	int n;

	/* before a DOWN */
	sim_started(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 11100);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	sim_revive(&S, B, 20);
	ck_assert_int_eq(sim_passive(&S, B, &n), 1);
	ck_assert_int_eq(n, 1);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 11100, P, B, HA_RSN_PASSIVE);
	sim_at(&S, 11100);
	ck_assert_sends(&S, B, 0, 11100, 11100, 11100);
	sim_run(&S, 13000);
	ck_assert_int_eq(S.nst, 3);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 0);
	ck_assert_int_eq(nev(&S, HA_ACT_UP), 0);

	/* after a DOWN: also UP */
	sim_started(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 13100);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 1);
	sim_revive(&S, B, 20);
	ck_assert_int_eq(sim_passive(&S, B, &n), 1);
	ck_assert_int_eq(n, 2);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 13100, P, B, HA_RSN_PASSIVE);
	ck_assert_event(&S, HA_ACT_UP, 0, 13100, P, B, HA_RSN_PASSIVE);
	ck_assert_pair(&S, HA_ST_CHECK, B);

	/* from the member that was active before FORCE */
	sim_started(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 10500);
	sim_revive(&S, P, 10);
	sim_passive(&S, P, &n);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
	sim_at(&S, 10500);
	ck_assert_sends(&S, P, 0, 10500, 10500, 10500);
	sim_run(&S, 12000);
	ck_assert_pair(&S, HA_ST_CHECK, P);
}
END_TEST

/* ---- member_trust confirm: claims ------------------------------------ */

START_TEST(claim_switches_only_when_the_member_answers)
{
	ha_fsm_t before;

	sim_started(&S, 100);
	before = S.f;
	ck_assert_int_eq(sim_claim(&S, B), 1);
	/* nothing switched yet; the claimed member is probed at once */
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.switchovers, before.switchovers);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 100);
	sim_at(&S, 100);
	ck_assert_sends(&S, B, 0, 100, 100, 100);
	ck_assert_int_eq(S.f.m[B].probe.deadline_ms, 100 + 1000); /* oos-force */
	ck_assert_pair(&S, HA_ST_CHECK, P);
	/* it answers 20 ms later: active now, reason passive */
	sim_run(&S, 120);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 120, P, B, HA_RSN_PASSIVE);
	ck_assert_int_eq(S.f.claims_confirmed, 1);
	ck_assert_int_eq(S.f.claims_unconfirmed, 0);
	ck_assert_int_eq(S.f.claim, HA_ROLE_NONE);
	/* probing follows it from the confirming probe's send time */
	sim_run(&S, 10200);
	ck_assert_sends(&S, B, 0, 101, 10200, 5100, 10100);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(S.unconfirmed, 0);
	sim_check_counters(&S);
}
END_TEST

START_TEST(claim_not_answered_changes_nothing_and_floods_cost_one_probe)
{
	int i;

	sim_default(&S);
	S.peer[B].mode = PEER_SILENT; /* the standby's SIP port is closed */
	sim_start(&S, 0);
	sim_run(&S, 6000); /* its start probe failed at 5000 */
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(sim_claim(&S, B), 1);
	sim_at(&S, 6000);
	/* forged requests keep coming: one probe, one claim */
	for(i = 0; i < 50; i++) {
		sim_run(&S, 6000 + i * 10);
		ck_assert_int_eq(sim_claim(&S, B), 2);
	}
	sim_run(&S, 6999);
	ck_assert_sends(&S, B, 0, 6000, 6999, 6000);
	ck_assert_int_eq(S.f.claim, B);
	ck_assert_int_eq(S.unconfirmed, 0);
	/* its deadline (oos-force) ends the claim: nothing switched */
	sim_at(&S, 7000);
	ck_assert_int_eq(S.f.claim, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.claims_unconfirmed, 1);
	ck_assert_int_eq(S.unconfirmed, 1);
	ck_assert_int_eq(S.f.claims_confirmed, 0);
	ck_assert_int_eq(S.unconfirmed_member, B);
	ck_assert_int_eq(S.f.m[B].state, HA_MS_DOWN);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1); /* the start */
	sim_run(&S, 20000);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.nst, 1);
	/* a new claim after that: a new probe */
	ck_assert_int_eq(sim_claim(&S, B), 1);
	sim_at(&S, 20000);
	ck_assert_sends(&S, B, 0, 20000, 20000, 20000);
	sim_check_counters(&S);
}
END_TEST

START_TEST(claim_with_a_non_alive_answer_is_unconfirmed)
{
	sim_setup(&S, 5000, 1000, 0, "2xx", 0, 0);
	sim_start(&S, 0);
	sim_run(&S, 100);
	S.peer[B].code = 503; /* answers, but not as alive */
	ck_assert_int_eq(sim_claim(&S, B), 1);
	sim_run(&S, 200);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.claims_unconfirmed, 1);
	ck_assert_int_eq(S.unconfirmed, 1);
	ck_assert_int_eq(S.f.m[B].last_code, 503);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
}
END_TEST

START_TEST(claim_served_by_the_probe_in_flight)
{
	/* at start the backup is probed at 0 and answers at 20: a claim at 5
	 * sends no second probe, and that answer confirms it */
	sim_started(&S, 5);
	ck_assert_int_ne(S.f.m[B].probe.token, 0);
	ck_assert_int_eq(sim_claim(&S, B), 1);
	sim_run(&S, 20);
	ck_assert_sends(&S, B, 0, 0, 20, 0);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 20, P, B, HA_RSN_PASSIVE);
	ck_assert_int_eq(S.f.claims_confirmed, 1);
	sim_check_counters(&S);
}
END_TEST

START_TEST(claim_brings_probe_in_flight_within_oos_force)
{
	/* the standby's start probe is out until oos-check (5000): a claim
	 * at 100 is decided by oos-force from the claim, not by oos-check */
	sim_default(&S);
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 100);
	ck_assert_int_eq(S.f.m[B].probe.deadline_ms, 5000);
	ck_assert_int_eq(sim_claim(&S, B), 1);
	ck_assert_int_eq(S.f.m[B].probe.deadline_ms, 100 + 1000);
	sim_run(&S, 1100);
	ck_assert_int_eq(S.f.claims_unconfirmed, 1);
	ck_assert_sends(&S, B, 0, 1, 1100);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	sim_check_counters(&S);
}
END_TEST

START_TEST(claim_of_the_active_member_or_while_held_is_nothing)
{
	ha_fsm_t before;

	sim_started(&S, 100);
	before = S.f;
	ck_assert_int_eq(sim_claim(&S, P), 0);
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(sim_claim(&S, HA_ROLE_NONE), -1);
	ck_assert_int_eq(sim_claim(&S, (ha_role_t)7), -1);
	ck_assert_unchanged(before, &S);
	ha_fsm_hold(&S.f, 1);
	before = S.f;
	ck_assert_int_eq(sim_claim(&S, B), 0);
	ck_assert_unchanged(before, &S);
	sim_run(&S, 10000);
	ck_assert_int_eq(S.nst, 1);
	ck_assert_int_eq(S.f.claims_confirmed + S.f.claims_unconfirmed, 0);

	/* held after the claim was made: answered, but no switch */
	sim_started(&S, 100);
	ck_assert_int_eq(sim_claim(&S, B), 1);
	ha_fsm_hold(&S.f, 1);
	sim_run(&S, 300);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.claims_confirmed, 1);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
}
END_TEST

START_TEST(claim_during_force_makes_member_active_when_it_answers)
{
	sim_started(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 11100);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	sim_revive(&S, B, 20);
	/* the hunt is on the primary (its attempt 11000..12000); a claim from
	 * the backup probes it at once, beside the attempt */
	ck_assert_int_eq(S.f.hunt, P);
	ck_assert_int_eq(sim_claim(&S, B), 1);
	sim_at(&S, 11100);
	ck_assert_sends(&S, B, 0, 11100, 11100, 11100);
	sim_run(&S, 11120);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 11120, P, B, HA_RSN_PASSIVE);
	sim_run(&S, 13000);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(S.f.claims_confirmed, 1);
}
END_TEST

START_TEST(claim_settled_by_a_manual_switch)
{
	sim_default(&S);
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 2000);
	ck_assert_int_eq(sim_claim(&S, B), 1);
	sim_at(&S, 2000);
	ck_assert_int_eq(
			ha_fsm_switch(&S.f, B, HA_RSN_MANUAL, 2010, &(ha_actions_t){0}), 1);
	ck_assert_int_eq(S.f.claim, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.claims_confirmed + S.f.claims_unconfirmed, 0);
}
END_TEST

START_TEST(claim_for_the_other_member_replaces_a_pending_one)
{
	sim_started(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 13100); /* FORCE, both silent */
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_int_eq(sim_claim(&S, P), 1);
	ck_assert_int_eq(sim_claim(&S, B), 1);
	ck_assert_int_eq(S.f.claim, B);
	ck_assert_int_eq(S.f.claim_ms, 13100);
	sim_revive(&S, B, 20);
	sim_at(&S, 13100);
	sim_run(&S, 13200);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_PASSIVE);
	ck_assert_int_eq(S.f.claims_confirmed, 1);
	ck_assert_int_eq(S.f.claim, HA_ROLE_NONE);
}
END_TEST

/* ---- verification of a failed transaction, wait verdicts ------------- */

START_TEST(verify_answered_changes_nothing)
{
	ha_waitpoint_t w;
	ha_role_t r;

	sim_started(&S, 100);
	w = sim_waitpoint(&S, P);
	ck_assert_int_eq(sim_verify(&S, P), 1);
	ck_assert_int_eq(S.f.verifies, 1);
	/* asked again before the tick: the same verification */
	ck_assert_int_eq(sim_verify(&S, P), 2);
	ck_assert_int_eq(S.f.verifies, 1);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_WAIT);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 100);
	sim_at(&S, 100);
	/* a probe now, with an oos-force deadline */
	ck_assert_sends(&S, P, 0, 100, 100, 100);
	ck_assert_int_eq(S.f.m[P].probe.deadline_ms, 1100);
	ck_assert_int_eq(S.f.m[P].probe.verify, 1);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_WAIT);
	sim_run(&S, 110);
	ck_assert_int_eq(S.f.verify_alive, 1);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_ANSWERED);
	ck_assert_int_eq(r, P);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.switchovers, 0);
	ck_assert_int_eq(S.nst, 1);
	/* the schedule of the regular probes is untouched */
	sim_run(&S, 5010);
	ck_assert_sends(&S, P, 0, 101, 5010, 5000);
}
END_TEST

/* A waiting transaction's wait point is the one its verification gave,
 * read under the pair's lock with it (ha_failover() hands it to the
 * waiter): an answer to the probe, or a whole hunt, that comes before the
 * waiter is on the list still counts. One read again when the waiter is
 * linked misses both, and the caller waits to its bound for a 503. */
START_TEST(verify_wait_point_is_the_verifications)
{
	ha_waitpoint_t w, late;
	ha_role_t r;

	/* the probe is answered between the ask and the link */
	sim_started(&S, 100);
	w = sim_waitpoint(&S, P);
	ck_assert_int_eq(sim_verify(&S, P), 1);
	sim_at(&S, 100);
	sim_run(&S, 110);
	ck_assert_int_eq(S.f.verify_alive, 1);
	sim_run(&S, 111);
	late = sim_waitpoint(&S, P);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_ANSWERED);
	ck_assert_int_eq(r, P);
	ck_assert_int_eq(sim_verdict(&S, &late, &r), HA_WV_WAIT);

	/* a hunt in between found the same member again */
	sim_started(&S, 100);
	sim_kill(&S, P);
	sim_kill(&S, B);
	w = sim_waitpoint(&S, P);
	ck_assert_int_eq(sim_verify(&S, P), 1);
	sim_at(&S, 100);
	sim_run(&S, 1100);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	sim_revive(&S, P, 10);
	while(S.f.state != HA_ST_CHECK && S.now < 5000)
		sim_run(&S, S.now + 1);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.force_runs, w.force_runs + 1);
	sim_run(&S, S.now + 1);
	late = sim_waitpoint(&S, P);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_RETRY);
	ck_assert_int_eq(r, P);
	ck_assert_int_eq(sim_verdict(&S, &late, &r), HA_WV_WAIT);
}
END_TEST

START_TEST(verify_silent_hunts_with_reason_failover)
{
	ha_waitpoint_t w;
	ha_role_t r;

	sim_started(&S, 100);
	sim_kill(&S, P);
	w = sim_waitpoint(&S, P);
	ck_assert_int_eq(sim_verify(&S, P), 1);
	sim_at(&S, 100);
	sim_run(&S, 1099);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_WAIT);
	/* no answer by the deadline: the backup answered its start probe
	 * before the verification went out, so the pair hunts */
	sim_run(&S, 1100);
	ck_assert_int_eq(S.f.verify_silent, 1);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.force_reason, HA_RSN_FAILOVER);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_WAIT);
	sim_run(&S, 1200);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 1120, P, B, HA_RSN_FAILOVER);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_RETRY);
	ck_assert_int_eq(r, B);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_FAILOVER);
}
END_TEST

START_TEST(verify_silent_with_fresh_standby_switches_at_once)
{
	ha_waitpoint_t w;
	ha_role_t r;

	/* probe_standby: the backup answered since the verification went out
	 * (its probe was due at the same moment) */
	sim_setup(&S, 1000, 500, 1, NULL, 0, 0);
	sim_start(&S, 0);
	sim_run(&S, 999);
	sim_kill(&S, P);
	w = sim_waitpoint(&S, P);
	ck_assert_int_eq(sim_verify(&S, P), 1);
	sim_at(&S, 999);
	sim_run(&S, 1600);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 2);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 1499, P, B, HA_RSN_FAILOVER);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_RETRY);
	ck_assert_int_eq(r, B);
}
END_TEST

START_TEST(verify_joins_probe_in_flight_and_brings_deadline_forward)
{
	ha_waitpoint_t w;
	ha_role_t r;

	/* a regular probe is in flight with an oos-check deadline: it serves
	 * as the verification, which must end within oos-force */
	sim_default(&S);
	S.peer[P].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 2000);
	ck_assert_int_eq(S.f.m[P].probe.deadline_ms, 5000);
	w = sim_waitpoint(&S, P);
	ck_assert_int_eq(sim_verify(&S, P), 2);
	ck_assert_int_eq(S.f.verifies, 1);
	ck_assert_int_eq(S.f.m[P].probe.deadline_ms, 3000);
	ck_assert_int_eq(S.f.m[P].probe.verify, 1);
	/* asked again: nothing moves */
	ck_assert_int_eq(sim_verify(&S, P), 2);
	ck_assert_int_eq(S.f.verifies, 1);
	sim_run(&S, 2999);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	/* no new probe was sent for it */
	ck_assert_sends(&S, P, 0, 1, 2999);
	sim_run(&S, 3100);
	ck_assert_int_eq(S.f.m[P].last_fail_ms, 3000);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	/* the backup answered its start probe after this one went out */
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 3000, P, B, HA_RSN_FAILOVER);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_RETRY);

	/* an earlier deadline stays as it was */
	sim_setup(&S, 5000, 4000, 0, NULL, 0, 0);
	S.peer[P].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 2000);
	ck_assert_int_eq(sim_verify(&S, P), 2);
	ck_assert_int_eq(S.f.m[P].probe.deadline_ms, 5000);
}
END_TEST

START_TEST(verify_nothing_to_do_off_the_active_member)
{
	ha_fsm_t before;
	ha_waitpoint_t w;
	ha_role_t r;

	sim_started(&S, 100);
	/* a branch to the standby (sent before a switchover): retry on the
	 * active member at once, nothing changes */
	before = S.f;
	w = sim_waitpoint(&S, B);
	ck_assert_int_eq(sim_verify(&S, B), 0);
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_RETRY);
	ck_assert_int_eq(r, P);
	/* a bad role */
	ck_assert_int_eq(sim_verify(&S, HA_ROLE_NONE), -1);
	ck_assert_int_eq(sim_verify(&S, (ha_role_t)7), -1);
	ck_assert_unchanged(before, &S);
	/* a request that waits for an active member gets the one there is */
	w = sim_waitpoint(&S, HA_ROLE_NONE);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_RETRY);
	ck_assert_int_eq(r, P);
	/* in FORCE: nothing to verify, everyone waits for the hunt */
	sim_run(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 10100);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	before = S.f;
	w = sim_waitpoint(&S, P);
	ck_assert_int_eq(sim_verify(&S, P), 0);
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_WAIT);
	w = sim_waitpoint(&S, HA_ROLE_NONE);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_WAIT);
	/* the member that comes back is the answer */
	sim_revive(&S, P, 10);
	sim_run(&S, 13000);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_RETRY);
	ck_assert_int_eq(r, P);
}
END_TEST

START_TEST(verify_held_pair)
{
	ha_fsm_t before;
	ha_waitpoint_t w;
	ha_role_t r;

	sim_started(&S, 100);
	ha_fsm_hold(&S.f, 1);
	before = S.f;
	w = sim_waitpoint(&S, P);
	ck_assert_int_eq(sim_verify(&S, P), 0);
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_WAIT);
	/* the primary fails its next probe while held: nowhere to go */
	sim_kill(&S, P);
	sim_run(&S, 10100);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_NONE);
	/* a verification asked for before the hold is dropped by the tick */
	sim_started(&S, 100);
	ck_assert_int_eq(sim_verify(&S, P), 1);
	ha_fsm_hold(&S.f, 1);
	sim_at(&S, 100);
	ck_assert_sends(&S, P, 0, 100, 100);
	ck_assert_int_eq(S.f.m[P].verify_ms, -1);
}
END_TEST

START_TEST(verify_pending_dropped_when_pair_moved)
{
	ha_waitpoint_t w;
	ha_role_t r;

	/* an operator switches before the tick that would verify: the new
	 * active member is the answer, no verification probe goes out */
	sim_started(&S, 100);
	w = sim_waitpoint(&S, P);
	ck_assert_int_eq(sim_verify(&S, P), 1);
	int n;
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	ck_assert_int_eq(sim_verdict(&S, &w, &r), HA_WV_RETRY);
	ck_assert_int_eq(r, B);
	sim_at(&S, 100);
	ck_assert_sends(&S, P, 0, 100, 100);
	ck_assert_int_eq(S.f.m[P].verify_ms, -1);
}
END_TEST

Suite *ha_fsm_req_suite(void)
{
	Suite *s = suite_create("ha_fsm_req");
	TCase *tc;

	tc = sim_tcase("passive_and_claims");
	tcase_add_test(tc, passive_switchover_from_standby);
	tcase_add_test(tc, passive_ignored_while_held);
	tcase_add_test(tc, passive_during_force_makes_member_active);
	tcase_add_test(tc, claim_switches_only_when_the_member_answers);
	tcase_add_test(
			tc, claim_not_answered_changes_nothing_and_floods_cost_one_probe);
	tcase_add_test(tc, claim_with_a_non_alive_answer_is_unconfirmed);
	tcase_add_test(tc, claim_served_by_the_probe_in_flight);
	tcase_add_test(tc, claim_brings_probe_in_flight_within_oos_force);
	tcase_add_test(tc, claim_of_the_active_member_or_while_held_is_nothing);
	tcase_add_test(tc, claim_during_force_makes_member_active_when_it_answers);
	tcase_add_test(tc, claim_settled_by_a_manual_switch);
	tcase_add_test(tc, claim_for_the_other_member_replaces_a_pending_one);
	suite_add_tcase(s, tc);

	tc = sim_tcase("verify");
	tcase_add_test(tc, verify_answered_changes_nothing);
	tcase_add_test(tc, verify_wait_point_is_the_verifications);
	tcase_add_test(tc, verify_silent_hunts_with_reason_failover);
	tcase_add_test(tc, verify_silent_with_fresh_standby_switches_at_once);
	tcase_add_test(
			tc, verify_joins_probe_in_flight_and_brings_deadline_forward);
	tcase_add_test(tc, verify_nothing_to_do_off_the_active_member);
	tcase_add_test(tc, verify_held_pair);
	tcase_add_test(tc, verify_pending_dropped_when_pair_moved);
	suite_add_tcase(s, tc);
	return s;
}
