/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_fsm_timing.c - Check suite for ha_fsm's timing (ha_fsm.c):
 * probing the standby and the split event, probe-now, timings reloaded
 * (ha_fsm_set_cfg()), the next due time and driving by it, millisecond
 * resolution, the counters. Run by test_ha_fsm.c's main(). */

#include <stdint.h>
#include <string.h>

#include <check.h>

#include "ha_fsm.h"
#include "fsm_sim.h"

/* ---- probe_standby and split ----------------------------------------- */

START_TEST(probe_standby_probes_standby_every_oos_check)
{
	sim_setup(&S, 5000, 1000, 1, NULL, 0, 0);
	sim_start(&S, 0);
	sim_run(&S, 30000);
	ck_assert_sends(
			&S, B, 0, 0, 30000, 0, 5000, 10000, 15000, 20000, 25000, 30000);
	ck_assert_sends(
			&S, P, 0, 0, 30000, 0, 5000, 10000, 15000, 20000, 25000, 30000);
	ck_assert_int_eq(S.nst, 1);
}
END_TEST

START_TEST(split_fires_once_after_three_rounds)
{
	sim_setup(&S, 5000, 1000, 1, NULL, 0, 0);
	sim_start(&S, 0);
	sim_run(&S, 10019);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 0);
	sim_run(&S, 10020);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 1);
	ck_assert_event(&S, HA_ACT_SPLIT, 0, 10020, P, B, HA_RSN_PROBE);
	sim_run(&S, 60000);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 1);
	ck_assert_int_eq(S.nst, 1);
}
END_TEST

START_TEST(split_needs_three_rounds_in_a_row)
{
	sim_setup(&S, 5000, 1000, 1, NULL, 0, 0);
	sim_start(&S, 0);
	sim_run(&S, 9000);
	sim_kill(&S, B);
	sim_run(&S, 11000);
	sim_revive(&S, B, 20);
	sim_run(&S, 25019);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 0);
	sim_run(&S, 25020);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 1);
	ck_assert_event(&S, HA_ACT_SPLIT, 0, 25020, P, B, HA_RSN_PROBE);
}
END_TEST

START_TEST(split_fires_again_after_the_run_broke)
{
	sim_setup(&S, 5000, 1000, 1, NULL, 0, 0);
	sim_start(&S, 0);
	sim_run(&S, 14000);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 1);
	sim_kill(&S, B);
	sim_run(&S, 19000);
	sim_revive(&S, B, 20);
	sim_run(&S, 30019);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 1);
	sim_run(&S, 30020);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 2);
	ck_assert_event(&S, HA_ACT_SPLIT, 1, 30020, P, B, HA_RSN_PROBE);
	sim_run(&S, 60000);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 2);
}
END_TEST

START_TEST(split_not_fired_without_probe_standby)
{
	int64_t t;

	sim_started(&S, 60000);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 0);
	/* not even when probe_now makes the standby answer round after round */
	for(t = 61000; t <= 66000; t += 1000) {
		sim_run(&S, t);
		ha_fsm_probe_now(&S.f, t);
		sim_at(&S, t);
	}
	sim_run(&S, 70000);
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, B, 0, 61000, 70000), 6);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 0);
}
END_TEST

/* ---- probe_now, set_cfg, next_due, resolution, counters -------------- */

START_TEST(probe_now_probes_both_members_at_next_tick)
{
	sim_started(&S, 1000);
	ha_fsm_probe_now(&S.f, 1000);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 1000);
	sim_at(&S, 1000);
	ck_assert_sends(&S, P, 0, 1000, 1000, 1000);
	ck_assert_sends(&S, B, 0, 1000, 1000, 1000);
	sim_run(&S, 11000);
	ck_assert_sends(&S, P, 0, 0, 11000, 0, 1000, 6000, 11000);
	ck_assert_sends(&S, B, 0, 0, 11000, 0, 1000);
}
END_TEST

/* In FORCE, the member with no attempt in flight is probed at once, not at
 * the end of the other member's attempt; the first to answer is active. */
START_TEST(probe_now_in_force_probes_the_other_member)
{
	sim_default(&S);
	S.peer[P].mode = PEER_SILENT;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 5100);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	/* the hunt's attempt at the backup runs until 6000 */
	ck_assert_sends(&S, B, 0, 1, 5100, 5000);
	sim_revive(&S, P, 10);
	ha_fsm_probe_now(&S.f, 5100);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 5100);
	sim_at(&S, 5100);
	ck_assert_sends(&S, P, 0, 1, 5100, 5100);
	/* the backup keeps its one probe in flight */
	ck_assert_sends(&S, B, 0, 5001, 5100);
	sim_run(&S, 5200);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.m[P].last_ok_ms, 5110);
	/* nothing is left pending for a later FORCE */
	ck_assert_int_eq(S.f.probe_all_ms, -1);
}
END_TEST

START_TEST(set_cfg_applies_from_next_probe)
{
	ha_fsm_cfg_t c;

	/* the probe in flight keeps its deadline, the next one gets the new */
	sim_default(&S);
	S.peer[P].delay_ms = 3000;
	sim_start(&S, 0);
	sim_run(&S, 100);
	c = S.cfg;
	c.oos_check_ms = 1000;
	ha_fsm_set_cfg(&S.f, &c);
	ck_assert_int_eq(S.f.m[P].probe.deadline_ms, 5000);
	sim_run(&S, 3000);
	ck_assert_int_eq(S.f.m[P].last_rtt_ms, 3000);
	ck_assert_int_eq(S.refused, 0);
	sim_run(&S, 5999);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_rtx(&S, token_at(&S, P, 5000), 5250, 5750);
	sim_run(&S, 6000);
	ck_assert_change(&S, 1, 6000, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_sends(&S, P, 0, 0, 6000, 0, 5000);

	/* the schedule */
	sim_started(&S, 100);
	c = S.cfg;
	c.oos_check_ms = 1000;
	ha_fsm_set_cfg(&S.f, &c);
	sim_run(&S, 8000);
	ck_assert_sends(&S, P, 0, 0, 8000, 0, 5000, 6000, 7000, 8000);

	/* a longer oos_check: the probe in flight still ends at its deadline */
	sim_default(&S);
	S.peer[P].mode = PEER_SILENT;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 100);
	c = S.cfg;
	c.oos_check_ms = 20000;
	ha_fsm_set_cfg(&S.f, &c);
	sim_run(&S, 5000);
	ck_assert_change(&S, 1, 5000, HA_ST_FORCE, HA_ROLE_NONE);
}
END_TEST

START_TEST(next_due_reports_next_event)
{
	int n;

	/* UDP: the first retransmission, then the next probe */
	sim_default(&S);
	S.peer[P].mode = PEER_SILENT;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 500);
	sim_run(&S, 10);
	ck_assert_int_eq(sim_reply(&S, P, token_at(&S, P, 0), 200, &n), 0);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 500); /* the backup's resend */
	ck_assert_int_eq(sim_reply(&S, B, token_at(&S, B, 0), 200, &n), 0);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 5000);
	sim_run(&S, 5000);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 5500);
	sim_run(&S, 5500);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 6500);
	sim_run(&S, 8500);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 10000); /* the deadline */

	/* TCP: the deadline */
	sim_setup(&S, 5000, 1000, 0, NULL, 1, 1);
	S.peer[P].mode = PEER_SILENT;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 5000);
	sim_run(&S, 5000);
	/* FORCE: the attempt's deadline */
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 6000);

	/* FORCE after an instant failure: the next attempt, 50 ms later */
	sim_default(&S);
	S.peer[P].mode = PEER_SEND_FAIL;
	S.peer[B].mode = PEER_SEND_FAIL;
	sim_start(&S, 0);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 50);
}
END_TEST

static void scenario(sim_t *s, int jump)
{
	sim_setup(s, 1000, 300, 1, "2xx", 0, 1);
	s->jump = jump;
	s->peer[P].drop_first = 1;
	s->peer[P].delay_ms = 7;
	s->peer[B].delay_ms = 40;
	sim_start(s, 0);
	sim_run(s, 10000);
	s->peer[P].code = 503;
	sim_run(s, 15000);
	s->peer[P].code = 200;
	sim_kill(s, B);
	sim_run(s, 30000);
	sim_revive(s, B, 40);
	s->peer[P].mode = PEER_SEND_FAIL;
	s->peer[P].fail_delay_ms = 3;
	sim_run(s, 45000);
	s->peer[P].mode = PEER_ANSWER;
	sim_kill(s, B);
	sim_run(s, 60000);
}

START_TEST(driving_by_next_due_equals_driving_by_1ms_steps)
{
	static sim_t J;
	int i;

	scenario(&S, 0);
	memset(&J, 0, sizeof(J));
	scenario(&J, 1);
	ck_assert_int_gt(S.nlog, 100);
	ck_assert_int_gt(nev(&S, HA_ACT_SWITCH), 2);
	ck_assert_int_gt(nev(&S, HA_ACT_DOWN), 0);
	ck_assert_int_eq(S.nlog, J.nlog);
	for(i = 0; i < S.nlog; i++) {
		ck_assert_int_eq(S.log[i].t, J.log[i].t);
		ck_assert_int_eq(S.log[i].a.type, J.log[i].a.type);
		ck_assert_int_eq(S.log[i].a.member, J.log[i].a.member);
		ck_assert_uint_eq(S.log[i].a.token, J.log[i].a.token);
		ck_assert_int_eq(S.log[i].a.retransmit, J.log[i].a.retransmit);
		ck_assert_int_eq(S.log[i].a.old_role, J.log[i].a.old_role);
		ck_assert_int_eq(S.log[i].a.new_role, J.log[i].a.new_role);
		ck_assert_int_eq(S.log[i].a.reason, J.log[i].a.reason);
	}
	ck_assert_int_eq(S.nst, J.nst);
	sim_check_counters(&S);
}
END_TEST

START_TEST(millisecond_resolution_at_50ms)
{
	sim_setup(&S, 50, 50, 0, NULL, 0, 0);
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 49);
	sim_kill(&S, P);
	sim_run(&S, 99);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.m[B].state, HA_MS_DOWN);
	ck_assert_int_eq(S.f.m[B].last_fail_ms, 50);
	sim_run(&S, 100);
	ck_assert_change(&S, 1, 100, HA_ST_FORCE, HA_ROLE_NONE);
	sim_run(&S, 299);
	ck_assert_sends(&S, P, 0, 0, 299, 0, 50, 150, 250);
	ck_assert_sends(&S, B, 0, 0, 299, 0, 100, 200);
	ck_assert_rtx(&S, token_at(&S, B, 0), 12, 36);
	ck_assert_rtx(&S, token_at(&S, P, 50), 62, 86);
	ck_assert_rtx(&S, token_at(&S, B, 100), 112, 136);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 1);
	ck_assert_event(&S, HA_ACT_DOWN, 0, 200, P, HA_ROLE_NONE, HA_RSN_PROBE);
	sim_revive(&S, B, 3);
	sim_run(&S, 302);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	sim_run(&S, 400);
	ck_assert_change(&S, 2, 303, HA_ST_CHECK, B);
	ck_assert_sends(&S, B, 0, 300, 400, 300, 350, 400);
}
END_TEST

START_TEST(counters_count_probes_failures_and_switches)
{
	sim_started(&S, 14999);
	sim_kill(&S, P);
	sim_run(&S, 30000);
	ck_assert_int_eq(S.f.m[P].probes_sent, 4);
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, P, 1, 0, 30000), 3);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 1);
	ck_assert_int_eq(S.f.m[P].last_fail_ms, 20000);
	ck_assert_int_eq(S.f.m[B].probes_sent, 4);
	ck_assert_int_eq(S.f.m[B].probes_unanswered, 0);
	ck_assert_int_eq(S.f.m[B].last_ok_ms, 25020);
	ck_assert_int_eq(S.f.switchovers, 1);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_PROBE);
	ck_assert_int_eq(S.f.last_switch_ms, 20020);
	sim_check_counters(&S);
}
END_TEST

START_TEST(actions_count_unanswered_probes)
{
	/* the Kamailio layer feeds the probes_unanswered statistic from here */
	ha_fsm_t f;
	ha_fsm_cfg_t cfg = {.oos_check_ms = 1000, .oos_force_ms = 500};
	int rel[2] = {0, 0};
	ha_actions_t a;

	ha_codes_parse(NULL, &cfg.alive);
	ha_actions_reset(&a);
	ha_fsm_init(&f, &cfg, rel, 1, 0, &a);
	ck_assert_int_eq(a.unanswered, 0);
	ha_actions_reset(&a);
	ha_fsm_tick(&f, 0, &a);
	ck_assert_int_eq(a.unanswered, 0);
	/* both start probes unanswered at their deadline: two in one tick */
	ha_actions_reset(&a);
	ha_fsm_tick(&f, 1000, &a);
	ck_assert_int_eq(a.unanswered, 2);
	ck_assert_int_eq(f.state, HA_ST_FORCE);
	/* a send failure counts too: the FORCE attempt's probe */
	ck_assert_int_ne(f.m[f.hunt].probe.token, 0);
	ha_actions_reset(&a);
	ck_assert_int_eq(
			ha_fsm_send_failed(&f, f.hunt, f.m[f.hunt].probe.token, 1001, &a),
			0);
	ck_assert_int_eq(a.unanswered, 1);
}
END_TEST

Suite *ha_fsm_timing_suite(void)
{
	Suite *s = suite_create("ha_fsm_timing");
	TCase *tc;

	tc = sim_tcase("standby_and_timing");
	tcase_add_test(tc, probe_standby_probes_standby_every_oos_check);
	tcase_add_test(tc, split_fires_once_after_three_rounds);
	tcase_add_test(tc, split_needs_three_rounds_in_a_row);
	tcase_add_test(tc, split_fires_again_after_the_run_broke);
	tcase_add_test(tc, split_not_fired_without_probe_standby);
	tcase_add_test(tc, probe_now_probes_both_members_at_next_tick);
	tcase_add_test(tc, probe_now_in_force_probes_the_other_member);
	tcase_add_test(tc, set_cfg_applies_from_next_probe);
	tcase_add_test(tc, next_due_reports_next_event);
	tcase_add_test(tc, driving_by_next_due_equals_driving_by_1ms_steps);
	tcase_add_test(tc, millisecond_resolution_at_50ms);
	tcase_add_test(tc, counters_count_probes_failures_and_switches);
	tcase_add_test(tc, actions_count_unanswered_probes);
	suite_add_tcase(s, tc);
	return s;
}
