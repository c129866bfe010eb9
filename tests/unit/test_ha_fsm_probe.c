/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_fsm_probe.c - Check suite for ha_fsm's probes (ha_fsm.c): their
 * tokens, retransmissions over UDP, one probe in flight per member,
 * replies with wrong or stale tokens, send failures, lost TCP/TLS
 * connections (one resend), alive codes and provisional replies. Run by
 * test_ha_fsm.c's main(). */

#include <stdint.h>
#include <string.h>

#include <check.h>

#include "ha_fsm.h"
#include "fsm_sim.h"

/* ---- tokens ---------------------------------------------------------- */

START_TEST(token_zero_is_never_used)
{
	ha_actions_t acts;

	sim_default(&S);
	ha_actions_reset(&acts);
	ha_fsm_init(&S.f, &S.cfg, S.reliable, 0xffffffffu, 0, &acts);
	ha_actions_reset(&acts);
	ha_fsm_tick(&S.f, 0, &acts);
	ck_assert_int_eq(acts.n, 2);
	ck_assert_uint_eq(acts.a[0].token, 0xffffffffu);
	ck_assert_uint_eq(acts.a[1].token, 1);

	ha_actions_reset(&acts);
	ha_fsm_init(&S.f, &S.cfg, S.reliable, 0, 0, &acts);
	ha_actions_reset(&acts);
	ha_fsm_tick(&S.f, 0, &acts);
	ck_assert_uint_ne(acts.a[0].token, 0);
	ck_assert_uint_ne(acts.a[1].token, 0);
}
END_TEST

/* ---- retransmission -------------------------------------------------- */

START_TEST(udp_retransmits_at_t1_doubling_oos_check_1000)
{
	uint32_t t;

	sim_setup(&S, 1000, 1000, 0, NULL, 0, 0);
	S.peer[P].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 3000);
	t = token_at(&S, P, 0);
	ck_assert_rtx(&S, t, 250, 750);
	/* the answered backup probe is not retransmitted */
	ck_assert_rtx(&S, token_at(&S, B, 0));
	ck_assert_int_eq(S.f.m[P].probe.token, 0);
}
END_TEST

START_TEST(udp_retransmits_at_t1_doubling_oos_check_5000)
{
	sim_default(&S);
	S.peer[P].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 6000);
	ck_assert_rtx(&S, token_at(&S, P, 0), 500, 1500, 3500);

	/* oos_check 3500: the third would fall on the deadline */
	sim_setup(&S, 3500, 1000, 0, NULL, 0, 0);
	S.peer[P].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 4000);
	ck_assert_rtx(&S, token_at(&S, P, 0), 500, 1500);
}
END_TEST

START_TEST(udp_retransmits_in_force_by_oos_force)
{
	sim_setup(&S, 5000, 200, 0, NULL, 0, 0);
	sim_start(&S, 0);
	sim_run(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 10600);
	ck_assert_rtx(&S, token_at(&S, P, 5000), 5500, 6500, 8500);
	ck_assert_rtx(&S, token_at(&S, B, 10000), 10050, 10150);
	ck_assert_rtx(&S, token_at(&S, P, 10200), 10250, 10350);
	ck_assert_rtx(&S, token_at(&S, B, 10400), 10450, 10550);
}
END_TEST

/* A late tick (the prober was busy past two retransmission times) sends
 * one retransmission and arms the next one later than now, never in the
 * past: the next tick would otherwise resend at once (found by the
 * fuzzer, tests/fuzz/fuzz_fsm.c). */
START_TEST(late_tick_retransmits_once_and_rearms_in_the_future)
{
	ha_actions_t acts;
	uint32_t tok;

	sim_default(&S); /* oos_check 5 s: T1 500 ms, UDP */
	acts.n = 0;
	ha_fsm_init(&S.f, &S.cfg, S.reliable, 1, 0, &acts);
	acts.n = 0;
	ha_fsm_tick(&S.f, 0, &acts);
	tok = S.f.m[P].probe.token;
	ck_assert_int_eq(S.f.m[P].probe.rtx_ms, 500);
	/* due at 500 and 1500; the tick comes at 1800 */
	acts.n = 0;
	ha_fsm_tick(&S.f, 1800, &acts);
	ck_assert_int_eq(acts.n, 2);
	ck_assert_int_eq(acts.a[0].type, HA_ACT_SEND);
	ck_assert_uint_eq(acts.a[0].token, tok);
	ck_assert_int_eq(acts.a[0].retransmit, 1);
	ck_assert_int_eq(acts.a[1].retransmit, 1);
	ck_assert_int_gt(S.f.m[P].probe.rtx_ms, 1800);
	ck_assert_int_gt(ha_fsm_next_due(&S.f), 1800);
	/* the gap goes on doubling from there: 1800 + 1000 */
	ck_assert_int_eq(S.f.m[P].probe.rtx_ms, 2800);
	acts.n = 0;
	ha_fsm_tick(&S.f, 1801, &acts);
	ck_assert_int_eq(acts.n, 0);
	/* far too late for the next one to fit before the deadline: none */
	acts.n = 0;
	ha_fsm_tick(&S.f, 4900, &acts);
	ck_assert_int_eq(acts.n, 2);
	ck_assert_int_eq(S.f.m[P].probe.rtx_ms, 0);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 5000);
}
END_TEST

START_TEST(reliable_members_are_not_retransmitted)
{
	sim_setup(&S, 5000, 1000, 0, NULL, 1, 0);
	S.peer[P].mode = PEER_SILENT;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 30000);
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, P, 1, 0, 30000), 0);
	ck_assert_int_gt(nact(&S, HA_ACT_SEND, P, 0, 0, 30000), 5);
	ck_assert_int_gt(nact(&S, HA_ACT_SEND, B, 1, 0, 30000), 5);

	sim_setup(&S, 5000, 1000, 0, NULL, 1, 1);
	S.peer[P].mode = PEER_SILENT;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 30000);
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, ANY, 1, 0, 30000), 0);
	ck_assert_int_eq(S.f.m[B].probe.rtx_ms, 0);
}
END_TEST

START_TEST(lost_first_transmission_costs_no_switchover)
{
	static const int check[] = {1000, 5000, 50};
	static const int force[] = {1000, 1000, 50};
	size_t i;
	int64_t end = 60000;

	for(i = 0; i < sizeof(check) / sizeof(check[0]); i++) {
		sim_setup(&S, check[i], force[i], 1, NULL, 0, 0);
		S.peer[P].drop_first = 1;
		S.peer[P].delay_ms = 5;
		S.peer[B].drop_first = 1;
		S.peer[B].delay_ms = 5;
		sim_start(&S, 0);
		sim_run(&S, end);
		ck_assert_int_eq(S.nst, 1);
		ck_assert_pair(&S, HA_ST_CHECK, P);
		ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
		ck_assert_int_eq(S.f.m[P].probes_unanswered, 0);
		ck_assert_int_eq(S.f.m[B].probes_unanswered, 0);
		ck_assert_int_eq(S.f.m[P].probes_sent, end / check[i] + 1);
		ck_assert_int_eq(S.f.m[B].probes_sent, end / check[i] + 1);
		ck_assert_int_eq(S.refused, 0);
		ck_assert_int_eq(S.f.m[P].state, HA_MS_UP);
		sim_check_counters(&S);
	}
}
END_TEST

/* ---- probes and replies ---------------------------------------------- */

START_TEST(one_probe_in_flight_per_member)
{
	int n;

	sim_default(&S);
	S.peer[P].delay_ms = 4000;
	sim_start(&S, 0);
	sim_run(&S, 1000);
	ha_fsm_probe_now(&S.f, 1000);
	sim_at(&S, 1000);
	sim_run(&S, 2000);
	ha_fsm_probe_now(&S.f, 2000);
	sim_at(&S, 2000);
	sim_run(&S, 3999);
	/* the primary's probe is still in flight: no new one */
	ck_assert_sends(&S, P, 0, 0, 3999, 0);
	ck_assert_sends(&S, B, 0, 0, 3999, 0, 1000, 2000);
	sim_run(&S, 4000);
	ck_assert_int_eq(S.f.m[P].last_rtt_ms, 4000);
	/* what was due goes out once the probe ended */
	ck_assert_sends(&S, P, 0, 0, 4000, 0, 4000);
	/* the simulation's helper checks this rule on every step */
	sim_run(&S, 30000);
	ck_assert_int_eq(S.nst, 1);

	/* the same for the standby */
	sim_setup(&S, 5000, 1000, 1, NULL, 0, 0);
	S.peer[B].delay_ms = 3500;
	sim_start(&S, 0);
	sim_run(&S, 1000);
	ha_fsm_probe_now(&S.f, 1000);
	sim_at(&S, 1000);
	sim_run(&S, 3499);
	ck_assert_sends(&S, B, 0, 0, 3499, 0);
	ck_assert_sends(&S, P, 0, 0, 3499, 0, 1000);
	sim_run(&S, 3500);
	ck_assert_sends(&S, B, 0, 0, 3500, 0, 3500);
	sim_run(&S, 30000);
	ck_assert_int_eq(S.nst, 1);
	ck_assert_int_eq(S.f.m[B].probes_unanswered, 0);

	/* and for the old active member, now the standby, after a switch */
	sim_setup(&S, 5000, 1000, 1, NULL, 0, 0);
	S.peer[P].delay_ms = 3000;
	sim_start(&S, 0);
	sim_run(&S, 100);
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	ha_fsm_probe_now(&S.f, 100);
	sim_at(&S, 100);
	ck_assert_sends(&S, B, 0, 100, 100, 100);
	ck_assert_sends(&S, P, 0, 1, 2999);
	sim_run(&S, 3000);
	ck_assert_sends(&S, P, 0, 1, 3000, 3000);
}
END_TEST

START_TEST(reply_with_wrong_or_stale_token_is_ignored)
{
	ha_fsm_t before;
	uint32_t tp, tb, tp2;
	int n;

	sim_default(&S);
	S.peer[P].mode = PEER_SILENT;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	tp = token_at(&S, P, 0);
	tb = token_at(&S, B, 0);
	ck_assert_uint_ne(tp, tb);
	sim_run(&S, 5);
	before = S.f;
	ck_assert_int_eq(sim_reply(&S, P, tp + 1000, 200, &n), -1);
	ck_assert_int_eq(n, 0);
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(sim_reply(&S, P, 0, 200, &n), -1);
	ck_assert_unchanged(before, &S);
	/* a token of the other member */
	ck_assert_int_eq(sim_reply(&S, B, tp, 200, &n), -1);
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(sim_reply(&S, P, tb, 200, &n), -1);
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(sim_reply(&S, HA_ROLE_NONE, tp, 200, &n), -1);
	ck_assert_int_eq(sim_reply(&S, HA_ROLE_COUNT, tp, 200, &n), -1);
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(sim_reply(&S, P, tp + 1000, 0, &n), -1);
	ck_assert_int_eq(sim_reply(&S, B, tp, 0, &n), -1);
	ck_assert_int_eq(sim_reply(&S, HA_ROLE_NONE, tp, 0, &n), -1);
	ck_assert_int_eq(sim_reply(&S, P, 0, 0, &n), -1);
	ck_assert_unchanged(before, &S);

	ck_assert_int_eq(sim_reply(&S, P, tp, 200, &n), 0);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_UP);
	ck_assert_int_eq(S.f.m[P].last_rtt_ms, 5);

	/* stale: already answered */
	sim_run(&S, 6);
	before = S.f;
	ck_assert_int_eq(sim_reply(&S, P, tp, 200, &n), -1);
	ck_assert_int_eq(sim_reply(&S, P, tp, 503, &n), -1);
	ck_assert_int_eq(sim_reply(&S, P, tp, 0, &n), -1);
	ck_assert_unchanged(before, &S);

	/* stale while the next probe is in flight */
	sim_run(&S, 5000);
	tp2 = token_at(&S, P, 5000);
	ck_assert_uint_ne(tp2, tp);
	ck_assert_uint_ne(tp2, tb);
	sim_run(&S, 5001);
	before = S.f;
	ck_assert_int_eq(sim_reply(&S, P, tp, 200, &n), -1);
	ck_assert_int_eq(sim_reply(&S, P, tp, 0, &n), -1);
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(sim_reply(&S, P, tp2, 200, &n), 0);
	ck_assert_int_eq(S.f.m[P].last_rtt_ms, 1);
	ck_assert_int_eq(S.nst, 1);
}
END_TEST

START_TEST(send_failure_counts_at_once)
{
	/* the start probe's send fails at t=10: FORCE at 10, the backup's start
	 * probe in flight serves as the attempt, with an oos_force deadline */
	sim_default(&S);
	S.peer[P].mode = PEER_SEND_FAIL;
	S.peer[P].fail_delay_ms = 10;
	sim_start(&S, 0);
	sim_run(&S, 9);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	sim_run(&S, 10);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_change(&S, 1, 10, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 1);
	ck_assert_int_eq(S.f.m[P].last_fail_ms, 10);
	ck_assert_sends(&S, B, 0, 0, 10, 0);
	ck_assert_int_eq(S.f.m[B].probe.deadline_ms, 1010);
	sim_run(&S, 20);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 20, P, B, HA_RSN_PROBE);
	sim_run(&S, 5000);
	ck_assert_sends(&S, B, 0, 0, 5000, 0, 5000);

	/* the same with a silent backup: its attempt ends at 10 + oos_force */
	sim_default(&S);
	S.peer[P].mode = PEER_SEND_FAIL;
	S.peer[P].fail_delay_ms = 10;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 1100);
	ck_assert_change(&S, 1, 10, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_sends(&S, P, 0, 0, 1100, 0, 1010);
	ck_assert_sends(&S, B, 0, 0, 1100, 0, 1060);

	/* in the middle of a run */
	sim_started(&S, 4999);
	S.peer[P].mode = PEER_SEND_FAIL;
	S.peer[P].fail_delay_ms = 10;
	sim_run(&S, 5009);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	sim_run(&S, 5010);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_sends(&S, B, 0, 1, 5010, 5010);
	sim_run(&S, 5030);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 5030, P, B, HA_RSN_PROBE);
	sim_check_counters(&S);
}
END_TEST

/* ---- TCP/TLS: a lost connection ---------------------------------------- */

/* The connection of each probe to a TCP/TLS primary is lost 3 ms after the
 * send, before the answer (the race of Kamailio 5.6's TLS, where a healthy
 * connection can be dropped): each probe is sent once more, with a new
 * token and the same deadline, and answered; nothing switches, nothing
 * counts as unanswered, no new probe is counted. */
START_TEST(tcp_lost_connection_is_sent_once_more)
{
	ha_fsm_t before;
	uint32_t first, again;
	int n;

	sim_setup(&S, 5000, 1000, 0, NULL, 1, 1);
	S.peer[P].conn_loss = 1;
	S.peer[P].loss_delay_ms = 3;
	sim_start(&S, 0);
	first = token_at(&S, P, 0);
	sim_run(&S, 3);
	ck_assert_sends(&S, P, 1, 0, 3, 3);
	again = S.f.m[P].probe.token;
	ck_assert_uint_ne(again, 0);
	ck_assert_uint_ne(again, first);
	ck_assert_int_eq(S.f.m[P].probe.sent_ms, 0);
	ck_assert_int_eq(S.f.m[P].probe.tx_ms, 3);
	ck_assert_int_eq(S.f.m[P].probe.deadline_ms, 5000);
	ck_assert_int_eq(S.f.m[P].probes_resent, 1);
	ck_assert_int_eq(S.f.m[P].probes_sent, 1);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_UNKNOWN);
	/* what belonged to the first request is taken no more */
	before = S.f;
	ck_assert_int_eq(sim_reply(&S, P, first, 200, &n), -1);
	ck_assert_int_eq(sim_reply(&S, P, first, -1, &n), -1);
	ck_assert_unchanged(before, &S);
	/* answered on the new connection: the round trip from the first send */
	sim_run(&S, 13);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_UP);
	ck_assert_int_eq(S.f.m[P].last_rtt_ms, 13);
	ck_assert_int_eq(S.f.m[P].probe.token, 0);
	sim_run(&S, 60013);
	ck_assert_int_eq(S.nst, 1);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 0);
	ck_assert_int_eq(S.f.m[P].probes_sent, 13);
	ck_assert_int_eq(S.f.m[P].probes_resent, 13);
	ck_assert_sends(&S, P, 1, 0, 60013, 3, 5003, 10003, 15003, 20003, 25003,
			30003, 35003, 40003, 45003, 50003, 55003, 60003);
	ck_assert_int_eq(S.refused, 0);
	sim_check_counters(&S);
}
END_TEST

/* Every connection is lost: the resend's loss counts, at once. Detection
 * costs one resend (here 3 ms) and no more. */
START_TEST(tcp_second_loss_counts_at_once)
{
	sim_setup(&S, 5000, 1000, 0, NULL, 1, 1);
	S.peer[P].conn_loss = 2;
	S.peer[P].loss_delay_ms = 3;
	sim_start(&S, 0);
	sim_run(&S, 5);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.m[P].probes_resent, 1);
	sim_run(&S, 6);
	ck_assert_change(&S, 1, 6, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 1);
	ck_assert_int_eq(S.f.m[P].last_fail_ms, 6);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_DOWN);
	ck_assert_int_eq(S.f.m[P].probe.token, 0);
	ck_assert_int_eq(S.f.m[P].probe.resent, 0);
	/* the backup's start probe serves as the attempt */
	sim_run(&S, 20);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 20, P, B, HA_RSN_PROBE);
	sim_run(&S, 30000);
	ck_assert_int_eq(S.f.m[P].probes_sent, 1);
	ck_assert_int_eq(S.f.m[P].probes_resent, 1);
	ck_assert_sends(&S, P, 1, 0, 30000, 3);
	sim_check_counters(&S);

	/* in FORCE the same: both lose every connection, each attempt costs
	 * one resend, and the hunt goes on at the attempts' pace */
	sim_setup(&S, 5000, 1000, 0, NULL, 1, 1);
	S.peer[P].conn_loss = 2;
	S.peer[P].loss_delay_ms = 3;
	S.peer[B].conn_loss = 2;
	S.peer[B].loss_delay_ms = 3;
	sim_start(&S, 0);
	sim_run(&S, 200);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 1);
	ck_assert_int_eq(S.f.m[P].probes_resent, S.f.m[P].probes_sent);
	ck_assert_int_eq(S.f.m[B].probes_resent, S.f.m[B].probes_sent);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, S.f.m[P].probes_sent);
	sim_check_counters(&S);
}
END_TEST

/* A resend keeps the probe's deadline: a connection lost just before it
 * leaves the resend that little time; at or past the deadline a loss
 * counts. One resend per probe; a member that is not reliable (UDP) gets
 * none; a token that is not the probe in flight changes nothing. */
START_TEST(tcp_resend_keeps_the_deadline)
{
	ha_fsm_t before;
	ha_actions_t acts;
	uint32_t tp, tb;
	int n;

	sim_setup(&S, 1000, 500, 0, NULL, 1, 0);
	S.peer[P].mode = PEER_SILENT;
	S.peer[P].conn_loss = 1;
	S.peer[P].loss_delay_ms = 999;
	sim_start(&S, 0);
	sim_run(&S, 999);
	ck_assert_sends(&S, P, 1, 0, 999, 999);
	ck_assert_int_eq(S.f.m[P].probe.deadline_ms, 1000);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	sim_run(&S, 1000);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 1);
	ck_assert_int_eq(S.f.m[P].last_fail_ms, 1000);

	/* by hand: the API's answers */
	sim_setup(&S, 1000, 500, 0, NULL, 1, 0);
	S.peer[P].mode = PEER_SILENT;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	tp = token_at(&S, P, 0);
	tb = token_at(&S, B, 0);
	sim_run(&S, 5);
	before = S.f;
	ck_assert_int_eq(sim_reply(&S, P, tp + 1000, -1, &n), -1);
	ck_assert_int_eq(sim_reply(&S, P, 0, -1, &n), -1);
	ck_assert_int_eq(sim_reply(&S, B, tp, -1, &n), -1);
	ck_assert_int_eq(sim_reply(&S, HA_ROLE_NONE, tp, -1, &n), -1);
	ck_assert_int_eq(sim_reply(&S, HA_ROLE_COUNT, tp, -1, &n), -1);
	ck_assert_unchanged(before, &S);
	/* the UDP backup: counted at once, as a failed send */
	ck_assert_int_eq(sim_reply(&S, B, tb, -1, &n), 0);
	ck_assert_int_eq(S.f.m[B].probes_unanswered, 1);
	ck_assert_int_eq(S.f.m[B].probes_resent, 0);
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, B, 1, 5, 5), 0);
	/* the TCP primary: once more, then counted */
	ck_assert_int_eq(sim_reply(&S, P, tp, -1, &n), 1);
	ck_assert_int_eq(n, 1);
	tp = S.f.m[P].probe.token;
	ck_assert_int_eq(sim_reply(&S, P, tp, -1, &n), 0);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 1);
	ck_assert_int_eq(S.f.m[P].probes_resent, 1);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);

	/* at the deadline (a loss the glue saw before the tick ended it) */
	sim_setup(&S, 1000, 500, 0, NULL, 1, 1);
	S.peer[P].mode = PEER_SILENT;
	ha_actions_reset(&acts);
	ha_fsm_init(&S.f, &S.cfg, S.reliable, 1, 0, &acts);
	ha_actions_reset(&acts);
	ha_fsm_tick(&S.f, 0, &acts);
	tp = S.f.m[P].probe.token;
	ha_actions_reset(&acts);
	ck_assert_int_eq(ha_fsm_conn_lost(&S.f, P, tp, 1000, &acts), 0);
	ck_assert_int_eq(acts.unanswered, 1);
	ck_assert_int_eq(acts.resent, 0);
	ck_assert_int_eq(S.f.m[P].probes_resent, 0);
}
END_TEST

/* A FORCE attempt over TCP whose connection is lost is sent once more
 * within the attempt's deadline, and its answer ends the hunt. */
START_TEST(tcp_lost_connection_in_force_attempt)
{
	sim_setup(&S, 5000, 1000, 0, NULL, 1, 1);
	sim_start(&S, 0);
	sim_run(&S, 4999);
	sim_kill(&S, P);
	S.peer[B].conn_loss = 1;
	S.peer[B].loss_delay_ms = 3;
	sim_run(&S, 10000);
	ck_assert_change(&S, 1, 10000, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_sends(&S, B, 0, 5000, 10000, 10000);
	sim_run(&S, 10003);
	ck_assert_sends(&S, B, 1, 10000, 10003, 10003);
	ck_assert_int_eq(S.f.m[B].probe.deadline_ms, 11000);
	sim_run(&S, 10023);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 10023, P, B, HA_RSN_PROBE);
	ck_assert_int_eq(S.f.m[B].probes_unanswered, 0);
	ck_assert_int_eq(S.f.m[B].last_rtt_ms, 23);
	sim_check_counters(&S);
}
END_TEST

START_TEST(alive_codes_2xx_treats_503_as_no_answer)
{
	sim_setup(&S, 5000, 1000, 0, "2xx", 0, 0);
	sim_start(&S, 0);
	sim_run(&S, 4999);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_UP);
	S.peer[P].code = 503;
	sim_run(&S, 5009);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	sim_run(&S, 5010);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_DOWN);
	ck_assert_int_eq(S.f.m[P].last_code, 503);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 1);
	ck_assert_sends(&S, B, 0, 1, 5010, 5010);
	sim_run(&S, 5030);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 5030, P, B, HA_RSN_PROBE);
	ck_assert_int_eq(S.refused, 0);

	/* "2xx,404": 404 is alive */
	sim_setup(&S, 5000, 1000, 0, "2xx,404", 0, 0);
	S.peer[P].code = 404;
	sim_start(&S, 0);
	sim_run(&S, 20000);
	ck_assert_int_eq(S.nst, 1);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_UP);
}
END_TEST

START_TEST(alive_codes_empty_treats_503_as_alive)
{
	sim_setup(&S, 5000, 1000, 0, "", 0, 0);
	S.peer[P].code = 503;
	S.peer[B].code = 503;
	sim_start(&S, 0);
	sim_run(&S, 60000);
	ck_assert_int_eq(S.nst, 1);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_UP);
	ck_assert_int_eq(S.f.m[P].last_code, 503);
	ck_assert_int_eq(S.f.m[B].state, HA_MS_UP);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 0);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
}
END_TEST

START_TEST(provisional_reply_does_not_count)
{
	uint32_t t;

	/* only a 100 Trying: still in flight, no retransmission, fails at the
	 * deadline */
	sim_default(&S);
	S.peer[P].mode = PEER_SILENT;
	S.peer[P].prov_code = 100;
	S.peer[P].prov_delay_ms = 5;
	sim_start(&S, 0);
	t = token_at(&S, P, 0);
	sim_run(&S, 5);
	ck_assert_int_eq(S.refused, 0);
	ck_assert_uint_eq(S.f.m[P].probe.token, t);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_UNKNOWN);
	ck_assert_int_eq(S.f.m[P].last_code, 0);
	sim_run(&S, 4999);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_uint_eq(S.f.m[P].probe.token, t);
	ck_assert_rtx(&S, t);
	sim_run(&S, 5000);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 1);

	/* 180, then 200 */
	sim_default(&S);
	S.peer[P].delay_ms = 3000;
	S.peer[P].prov_code = 180;
	S.peer[P].prov_delay_ms = 5;
	sim_start(&S, 0);
	t = token_at(&S, P, 0);
	sim_run(&S, 30000);
	ck_assert_int_eq(S.nst, 1);
	ck_assert_int_eq(S.f.m[P].last_rtt_ms, 3000);
	ck_assert_int_eq(S.f.m[P].last_code, 200);
	ck_assert_rtx(&S, t);
	ck_assert_int_eq(S.refused, 0);
}
END_TEST

Suite *ha_fsm_probe_suite(void)
{
	Suite *s = suite_create("ha_fsm_probe");
	TCase *tc;

	tc = sim_tcase("probing");
	tcase_add_test(tc, token_zero_is_never_used);
	tcase_add_test(tc, udp_retransmits_at_t1_doubling_oos_check_1000);
	tcase_add_test(tc, udp_retransmits_at_t1_doubling_oos_check_5000);
	tcase_add_test(tc, udp_retransmits_in_force_by_oos_force);
	tcase_add_test(tc, late_tick_retransmits_once_and_rearms_in_the_future);
	tcase_add_test(tc, reliable_members_are_not_retransmitted);
	tcase_add_test(tc, lost_first_transmission_costs_no_switchover);
	tcase_add_test(tc, one_probe_in_flight_per_member);
	tcase_add_test(tc, reply_with_wrong_or_stale_token_is_ignored);
	tcase_add_test(tc, send_failure_counts_at_once);
	tcase_add_test(tc, tcp_lost_connection_is_sent_once_more);
	tcase_add_test(tc, tcp_second_loss_counts_at_once);
	tcase_add_test(tc, tcp_resend_keeps_the_deadline);
	tcase_add_test(tc, tcp_lost_connection_in_force_attempt);
	tcase_add_test(tc, alive_codes_2xx_treats_503_as_no_answer);
	tcase_add_test(tc, alive_codes_empty_treats_503_as_alive);
	tcase_add_test(tc, provisional_reply_does_not_count);
	suite_add_tcase(s, tc);
	return s;
}
