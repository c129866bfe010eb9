/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_fsm_sync.c - Check suite for the start-up sync of pool
 * replication (ha_fsm_sync_begin(), _answer(), _done() in ha_fsm_pool.c):
 * requests wait until the pool answered or the deadline passed. Run by
 * test_ha_fsm.c's main(). */

#include <stdint.h>
#include <string.h>

#include <check.h>

#include "ha_fsm.h"
#include "fsm_sim.h"

/* ---- start-up sync (pool replication) -------------------------------- */

/* A pair started at 0 that waits for the pool until until. */
static void sync_start(sim_t *s, int64_t until)
{
	ha_actions_t acts;

	ha_actions_reset(&acts);
	s->now = 0;
	ha_fsm_init(&s->f, &s->cfg, s->reliable, s->seed, 0, &acts);
	ha_fsm_sync_begin(&s->f, until);
	sim_actions(s, &acts);
	note_state(s);
	sim_at(s, 0);
}

START_TEST(sync_waits_for_the_answer_adopted_after_its_probe)
{
	ha_waitpoint_t w;
	ha_role_t retry;

	sim_default(&S);
	sync_start(&S, 1000);
	/* probing goes on as always: both members at 0 */
	ck_assert_sends(&S, P, 0, 0, 0, 0);
	ck_assert_sends(&S, B, 0, 0, 0, 0);
	sim_run(&S, 50);
	/* the primary answered, but requests wait for the pool */
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(ha_fsm_routable(&S.f), HA_ROLE_NONE);
	w = sim_waitpoint(&S, HA_ROLE_NONE);
	ck_assert_int_eq(sim_verdict(&S, &w, &retry), HA_WV_WAIT);
	/* the pool's answer: the backup, a claim; the sync goes on */
	ck_assert_int_eq(sim_peer(&S, B, 3, "sip:peer", 0), HA_PEERV_CLAIM);
	ck_assert_int_eq(ha_fsm_sync_answer(&S.f, HA_PEERV_CLAIM), 0);
	/* a peer's complete answer does not end it while a claim is out */
	ck_assert_int_eq(ha_fsm_sync_done(&S.f), 0);
	ck_assert_int_eq(S.f.syncing, 1);
	sim_run(&S, 70);
	ck_assert_int_eq(ha_fsm_routable(&S.f), HA_ROLE_NONE);
	/* its probe at the next tick (51), answered 20 ms later: adopted,
	 * the sync ends */
	sim_at(&S, 71);
	ck_assert_sends(&S, B, 0, 1, 71, 51);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_PEER);
	ck_assert_int_eq(S.synced_ms, 71);
	ck_assert_int_eq(ha_fsm_routable(&S.f), B);
	ck_assert_int_eq(sim_verdict(&S, &w, &retry), HA_WV_RETRY);
	ck_assert_int_eq(retry, B);
	/* the deadline passes later: nothing more */
	sim_run(&S, 1500);
	ck_assert_int_eq(S.synced_ms, 71);
	sim_check_counters(&S);
}
END_TEST

START_TEST(sync_ends_when_the_answers_claim_is_refused)
{
	sim_default(&S);
	S.peer[B].mode = PEER_SILENT;
	sync_start(&S, 5000);
	sim_run(&S, 100);
	ck_assert_int_eq(sim_peer(&S, B, 3, "sip:peer", 0), HA_PEERV_CLAIM);
	ck_assert_int_eq(ha_fsm_sync_answer(&S.f, HA_PEERV_CLAIM), 0);
	/* the backup's start probe (at 0, oos-check 5 s) serves, brought
	 * within oos-force from the claim: it ends at 1100 */
	sim_run(&S, 1099);
	ck_assert_int_eq(ha_fsm_routable(&S.f), HA_ROLE_NONE);
	sim_at(&S, 1100);
	ck_assert_int_eq(S.f.peer_refused, 1);
	ck_assert_int_eq(S.synced_ms, 1100);
	ck_assert_int_eq(ha_fsm_routable(&S.f), P);
	sim_check_counters(&S);
}
END_TEST

START_TEST(sync_ends_at_once_on_an_answer_with_nothing_to_confirm)
{
	sim_default(&S);
	sync_start(&S, 1000);
	sim_run(&S, 30);
	/* the pool has the primary too (newer): agreed, nothing to probe */
	ck_assert_int_eq(sim_peer(&S, P, 2, "sip:peer", 0), HA_PEERV_AGREE);
	ck_assert_int_eq(ha_fsm_sync_answer(&S.f, HA_PEERV_AGREE), 1);
	ck_assert_int_eq(S.f.syncing, 0);
	ck_assert_int_eq(ha_fsm_routable(&S.f), P);
	/* later answers change nothing about the sync */
	ck_assert_int_eq(ha_fsm_sync_answer(&S.f, HA_PEERV_STALE), 0);
	ck_assert_int_eq(ha_fsm_sync_done(&S.f), 0);
	sim_run(&S, 1500);
	ck_assert_int_eq(S.synced_ms, -1); /* no tick ended it */
	sim_check_counters(&S);
}
END_TEST

START_TEST(sync_ends_when_a_complete_answer_does_not_name_the_pair)
{
	sim_default(&S);
	sync_start(&S, 1000);
	sim_run(&S, 40);
	ck_assert_int_eq(ha_fsm_sync_done(&S.f), 1);
	ck_assert_int_eq(ha_fsm_routable(&S.f), P);
	sim_check_counters(&S);
}
END_TEST

START_TEST(sync_times_out_on_its_own_without_an_answer)
{
	ha_waitpoint_t w;
	ha_role_t retry;

	sim_default(&S);
	S.jump = 1; /* the deadline is in ha_fsm_next_due() */
	sync_start(&S, 1000);
	w = sim_waitpoint(&S, HA_ROLE_NONE);
	sim_run(&S, 999);
	ck_assert_int_eq(ha_fsm_routable(&S.f), HA_ROLE_NONE);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 1000);
	sim_run(&S, 1000);
	ck_assert_int_eq(S.synced_ms, 1000);
	ck_assert_int_eq(ha_fsm_routable(&S.f), P);
	ck_assert_int_eq(sim_verdict(&S, &w, &retry), HA_WV_RETRY);
	ck_assert_int_eq(retry, P);
	/* How it decides (docs/ha_pair.md) goes on: the primary's next probe at 5000 */
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 5000);
	sim_check_counters(&S);
}
END_TEST

START_TEST(sync_a_stale_answer_while_a_claim_is_out_keeps_waiting)
{
	sim_default(&S);
	S.peer[B].delay_ms = 300;
	sync_start(&S, 2000);
	sim_run(&S, 10);
	ck_assert_int_eq(sim_peer(&S, B, 3, "sip:peer", 0), HA_PEERV_CLAIM);
	ck_assert_int_eq(ha_fsm_sync_answer(&S.f, HA_PEERV_CLAIM), 0);
	/* another peer's answer, older: stale, but the claim decides */
	ck_assert_int_eq(sim_peer(&S, B, 2, "sip:other", 0), HA_PEERV_STALE);
	ck_assert_int_eq(ha_fsm_sync_answer(&S.f, HA_PEERV_STALE), 0);
	ck_assert_int_eq(S.f.syncing, 1);
	/* the backup's start probe (at 0) serves the claim: answered at 300 */
	sim_run(&S, 300);
	ck_assert_int_eq(S.synced_ms, 300);
	ck_assert_int_eq(ha_fsm_routable(&S.f), B);
	sim_check_counters(&S);
}
END_TEST

START_TEST(sync_in_force_waits_like_a_hunt_after_it_ends)
{
	sim_default(&S);
	S.peer[P].mode = PEER_SILENT;
	S.peer[B].mode = PEER_SILENT;
	sync_start(&S, 300);
	sim_run(&S, 300);
	ck_assert_int_eq(S.synced_ms, 300);
	/* nothing answers: CHECK(primary) until its probe's deadline, then
	 * FORCE: not routable either way once the probe failed */
	ck_assert_int_eq(ha_fsm_routable(&S.f), P);
	sim_run(&S, 5000);
	ck_assert_int_eq(S.f.state, HA_ST_FORCE);
	ck_assert_int_eq(ha_fsm_routable(&S.f), HA_ROLE_NONE);
	sim_check_counters(&S);
}
END_TEST

Suite *ha_fsm_sync_suite(void)
{
	Suite *s = suite_create("ha_fsm_sync");
	TCase *tc;

	tc = sim_tcase("sync");
	tcase_add_test(tc, sync_waits_for_the_answer_adopted_after_its_probe);
	tcase_add_test(tc, sync_ends_when_the_answers_claim_is_refused);
	tcase_add_test(tc, sync_ends_at_once_on_an_answer_with_nothing_to_confirm);
	tcase_add_test(tc, sync_ends_when_a_complete_answer_does_not_name_the_pair);
	tcase_add_test(tc, sync_times_out_on_its_own_without_an_answer);
	tcase_add_test(tc, sync_a_stale_answer_while_a_claim_is_out_keeps_waiting);
	tcase_add_test(tc, sync_in_force_waits_like_a_hunt_after_it_ends);
	suite_add_tcase(s, tc);
	return s;
}
