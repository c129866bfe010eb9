/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_fsm.c - Check suite for ha_fsm's core (ha_fsm.c): the pair's
 * states (start, CHECK, FORCE), its active member, manual switches and
 * hold; and main(), which runs it with the other suites of the state
 * machine, one a concern:
 *
 *   test_ha_fsm_probe.c   a probe's life: tokens, retransmissions, replies
 *   test_ha_fsm_timing.c  standby probing, split, probe-now, reloaded
 *                         timings, the next due time, counters
 *   test_ha_fsm_req.c     a member's request: passive switchover, claims,
 *                         verification, wait verdicts (ha_fsm_req.c)
 *   test_ha_fsm_pool.c    pool replication: versions, peers' changes,
 *                         disagreement, partitions (ha_fsm_pool.c)
 *   test_ha_fsm_sync.c    the start-up sync (ha_fsm_pool.c)
 *
 * All drive the machine through the simulation in fsm_sim.c. One suite
 * alone: CK_RUN_SUITE=ha_fsm_pool build/unit/test_ha_fsm. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ha_fsm.h"
#include "fsm_sim.h"

/* ---- addresses, names ------------------------------------------------ */

static ha_addr_t v4(int a, int b, int c, int d)
{
	ha_addr_t x;

	memset(&x, 0, sizeof(x));
	x.af = 4;
	x.ip[0] = (uint8_t)a;
	x.ip[1] = (uint8_t)b;
	x.ip[2] = (uint8_t)c;
	x.ip[3] = (uint8_t)d;
	return x;
}

/* 2001:db8::<last> */
static ha_addr_t v6(int last)
{
	ha_addr_t x;

	memset(&x, 0, sizeof(x));
	x.af = 6;
	x.ip[0] = 0x20;
	x.ip[1] = 0x01;
	x.ip[2] = 0x0d;
	x.ip[3] = 0xb8;
	x.ip[15] = (uint8_t)last;
	return x;
}

START_TEST(addr_is_member_ipv4)
{
	ha_addr_t addrs[2], src;

	addrs[0] = v4(10, 0, 0, 11);
	addrs[1] = v4(192, 168, 1, 11);
	src = v4(10, 0, 0, 11);
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 5060, 0), 1);
	/* over UDP the source port must be the member's port */
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 5061, 0), 0);
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 40123, 0), 0);
	/* over TCP/TLS/WS any (ephemeral) port */
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 40123, 1), 1);
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 5060, 1), 1);
	/* any of its addresses */
	src = v4(192, 168, 1, 11);
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 5060, 0), 1);
	ck_assert_int_eq(ha_addr_is_member(addrs, 1, 5060, &src, 5060, 0), 0);
	/* another IP */
	src = v4(10, 0, 0, 12);
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 5060, 0), 0);
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 5060, 1), 0);
	src = v4(11, 0, 0, 11);
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 5060, 1), 0);
	/* no addresses resolved */
	src = v4(10, 0, 0, 11);
	ck_assert_int_eq(ha_addr_is_member(addrs, 0, 5060, &src, 5060, 0), 0);
}
END_TEST

START_TEST(addr_is_member_ipv6_and_family_mismatch)
{
	ha_addr_t addrs[2], src;

	addrs[0] = v4(32, 1, 13, 184); /* the same first 4 bytes as v6() */
	addrs[1] = v6(0x11);
	src = v6(0x11);
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 5060, 0), 1);
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 5070, 0), 0);
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 5070, 1), 1);
	/* all 16 bytes count */
	src = v6(0x12);
	ck_assert_int_eq(ha_addr_is_member(addrs, 2, 5060, &src, 5060, 0), 0);
	/* an IPv6 source never matches an IPv4 address, nor the reverse */
	src = v6(0);
	src.ip[4] = 0;
	ck_assert_int_eq(ha_addr_is_member(addrs, 1, 5060, &src, 5060, 1), 0);
	addrs[0] = v6(0x11);
	src = v4(32, 1, 13, 184);
	ck_assert_int_eq(ha_addr_is_member(addrs, 1, 5060, &src, 5060, 1), 0);
}
END_TEST

START_TEST(names_of_roles_states_reasons)
{
	ck_assert_str_eq(ha_role_name(HA_ROLE_PRIMARY), "primary");
	ck_assert_str_eq(ha_role_name(HA_ROLE_BACKUP), "backup");
	ck_assert_str_eq(ha_role_name(HA_ROLE_NONE), "none");
	ck_assert_str_eq(ha_state_names[HA_ST_CHECK], "CHECK");
	ck_assert_str_eq(ha_state_names[HA_ST_FORCE], "FORCE");
	ck_assert_str_eq(ha_mstate_names[HA_MS_UNKNOWN], "unknown");
	ck_assert_str_eq(ha_mstate_names[HA_MS_UP], "up");
	ck_assert_str_eq(ha_mstate_names[HA_MS_DOWN], "down");
	ck_assert_str_eq(ha_reason_names[HA_RSN_START], "start");
	ck_assert_str_eq(ha_reason_names[HA_RSN_PROBE], "probe");
	ck_assert_str_eq(ha_reason_names[HA_RSN_PASSIVE], "passive");
	ck_assert_str_eq(ha_reason_names[HA_RSN_FAILOVER], "failover");
	ck_assert_str_eq(ha_reason_names[HA_RSN_MANUAL], "manual");
}
END_TEST

/* ---- start ----------------------------------------------------------- */

START_TEST(start_probes_both_members_and_switches_to_primary)
{
	ha_actions_t acts;

	sim_default(&S);
	ha_actions_reset(&acts);
	ha_fsm_init(&S.f, &S.cfg, S.reliable, 1, 0, &acts);
	ck_assert_int_eq(acts.n, 1);
	ck_assert_int_eq(acts.a[0].type, HA_ACT_SWITCH);
	ck_assert_int_eq(acts.a[0].old_role, HA_ROLE_NONE);
	ck_assert_int_eq(acts.a[0].new_role, P);
	ck_assert_int_eq(acts.a[0].reason, HA_RSN_START);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.switchovers, 0);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_START);
	ck_assert_int_eq(S.f.last_switch_ms, 0);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_UNKNOWN);
	ck_assert_int_eq(S.f.m[B].state, HA_MS_UNKNOWN);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 0);

	ha_actions_reset(&acts);
	ha_fsm_tick(&S.f, 0, &acts);
	ck_assert_int_eq(acts.n, 2);
	ck_assert_int_eq(acts.a[0].type, HA_ACT_SEND);
	ck_assert_int_eq(acts.a[0].member, P);
	ck_assert_int_eq(acts.a[0].retransmit, 0);
	ck_assert_int_eq(acts.a[1].type, HA_ACT_SEND);
	ck_assert_int_eq(acts.a[1].member, B);
	ck_assert_int_eq(acts.a[1].retransmit, 0);
	ck_assert_uint_ne(acts.a[0].token, 0);
	ck_assert_uint_ne(acts.a[1].token, 0);
	ck_assert_uint_ne(acts.a[0].token, acts.a[1].token);
	ck_assert_uint_eq(S.f.m[P].probe.token, acts.a[0].token);
	ck_assert_int_eq(S.f.m[P].probe.sent_ms, 0);
	ck_assert_int_eq(S.f.m[P].probe.deadline_ms, 5000);
	ck_assert_uint_eq(S.f.m[B].probe.token, acts.a[1].token);
	ck_assert_int_eq(S.f.m[B].probe.deadline_ms, 5000);
}
END_TEST

START_TEST(start_at_any_time_probes_both_at_that_time)
{
	sim_default(&S);
	sim_start(&S, 123456789);
	ck_assert_int_eq(S.nlog, 3);
	ck_assert_event(
			&S, HA_ACT_SWITCH, 0, 123456789, HA_ROLE_NONE, P, HA_RSN_START);
	ck_assert_sends(&S, P, 0, 0, INT64_MAX, 123456789);
	ck_assert_sends(&S, B, 0, 0, INT64_MAX, 123456789);
	ck_assert_int_eq(S.f.last_switch_ms, 123456789);
}
END_TEST

START_TEST(start_probes_backup_only_once_without_probe_standby)
{
	sim_started(&S, 60000);
	ck_assert_sends(&S, B, 0, 0, 60000, 0);
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, P, 0, 0, 60000), 13);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 0);
	ck_assert_int_eq(nev(&S, HA_ACT_UP), 0);
	ck_assert_int_eq(nev(&S, HA_ACT_SPLIT), 0);
	ck_assert_int_eq(S.nst, 1);
	ck_assert_int_eq(S.f.m[B].state, HA_MS_UP);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_UP);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 0);
	ck_assert_int_eq(S.refused, 0);
	sim_check_counters(&S);
}
END_TEST

/* ---- CHECK ----------------------------------------------------------- */

START_TEST(check_next_probe_at_send_time_plus_oos_check)
{
	static const int delays[] = {1, 37, 2500, 4999};
	size_t i;

	for(i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		sim_default(&S);
		S.peer[P].delay_ms = delays[i];
		sim_start(&S, 0);
		sim_run(&S, 30000);
		ck_assert_sends(
				&S, P, 0, 0, 30000, 0, 5000, 10000, 15000, 20000, 25000, 30000);
		ck_assert_int_eq(S.nst, 1);
		ck_assert_int_eq(S.f.m[P].last_rtt_ms, delays[i]);
		ck_assert_int_eq(S.f.m[P].last_code, 200);
		ck_assert_int_eq(S.f.m[P].probes_unanswered, 0);
		ck_assert_int_eq(S.refused, 0);
	}
}
END_TEST

START_TEST(check_deadline_goes_to_force_exactly_at_deadline)
{
	ha_fsm_t before;
	int n;
	uint32_t t2;

	sim_started(&S, 4999);
	sim_kill(&S, P);
	sim_run(&S, 5000);
	t2 = token_at(&S, P, 5000);
	ck_assert_uint_ne(t2, 0);
	ck_assert_uint_eq(S.f.m[P].probe.token, t2);
	ck_assert_int_eq(S.f.m[P].probe.deadline_ms, 10000);

	sim_run(&S, 9999);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.nst, 1);

	/* a reply at the deadline is too late, even before the tick */
	S.now = 10000;
	before = S.f;
	ck_assert_int_eq(sim_reply(&S, P, t2, 200, &n), -1);
	ck_assert_int_eq(n, 0);
	ck_assert_unchanged(before, &S);

	sim_at(&S, 10000);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_change(&S, 1, 10000, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_DOWN);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 1);
	ck_assert_int_eq(S.f.m[P].last_fail_ms, 10000);
	/* the hunt starts with the member that did not fail */
	ck_assert_sends(&S, B, 0, 10000, 10000, 10000);
	ck_assert_sends(&S, P, 0, 10000, 10000);
	ck_assert_int_eq(S.f.m[B].probe.deadline_ms, 11000);

	/* and after it */
	sim_at(&S, 10001);
	before = S.f;
	ck_assert_int_eq(sim_reply(&S, P, t2, 200, &n), -1);
	ck_assert_int_eq(n, 0);
	ck_assert_unchanged(before, &S);

	sim_run(&S, 10019);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	sim_run(&S, 10020);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 10020, P, B, HA_RSN_PROBE);
	sim_run(&S, 20000);
	ck_assert_sends(&S, B, 0, 10000, 20000, 10000, 15000, 20000);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 0);
	ck_assert_int_eq(nev(&S, HA_ACT_UP), 0);
	ck_assert_int_eq(S.f.switchovers, 1);
	sim_check_counters(&S);
}
END_TEST

START_TEST(start_with_dead_primary_switches_to_live_backup_at_first_deadline)
{
	int i;

	sim_default(&S);
	S.peer[P].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 4999);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.m[B].state, HA_MS_UP);
	sim_run(&S, 5000);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 5000, P, B, HA_RSN_PROBE);
	ck_assert_sends(&S, B, 0, 1, 5000, 5000);
	sim_run(&S, 20000);
	for(i = 0; i < S.nst; i++)
		ck_assert_int_eq(S.st[i].state, HA_ST_CHECK);
	ck_assert_change(&S, 1, 5000, HA_ST_CHECK, B);
	ck_assert_sends(&S, B, 0, 0, 20000, 0, 5000, 10000, 15000, 20000);
	ck_assert_sends(&S, P, 0, 1, 20000);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 2);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 0);
	ck_assert_int_eq(S.f.switchovers, 1);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_PROBE);
	ck_assert_int_eq(S.f.last_switch_ms, 5000);
	sim_check_counters(&S);
}
END_TEST

/* ---- FORCE ----------------------------------------------------------- */

START_TEST(force_starts_with_other_member_and_alternates_with_oos_force)
{
	int i;

	sim_setup(&S, 5000, 1000, 0, NULL, 1, 1);
	sim_start(&S, 0);
	sim_run(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 15500);
	ck_assert_change(&S, 1, 10000, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_int_eq(S.nst, 2);
	ck_assert_sends(&S, B, 0, 1, 15500, 10000, 12000, 14000);
	ck_assert_sends(&S, P, 0, 1, 15500, 5000, 11000, 13000, 15000);
	ck_assert_int_eq(S.f.m[P].probe.deadline_ms, 16000);
	/* one attempt at a time: never both in flight */
	for(i = 0; i < S.nlog; i++)
		if(S.log[i].t >= 10000 && S.log[i].a.type == HA_ACT_SEND)
			ck_assert_int_eq(S.log[i].t % 1000, 0);
	sim_check_counters(&S);
}
END_TEST

START_TEST(force_after_backup_failed_starts_with_primary)
{
	int n;

	sim_started(&S, 100);
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	sim_at(&S, 100);
	sim_run(&S, 4999);
	sim_kill(&S, B);
	sim_run(&S, 10099);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	sim_run(&S, 10100);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_sends(&S, P, 0, 1, 10100, 10100);
	ck_assert_sends(&S, B, 0, 5101, 10100);
	sim_run(&S, 10110);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_event(&S, HA_ACT_SWITCH, 2, 10110, B, P, HA_RSN_PROBE);
	sim_check_counters(&S);
}
END_TEST

START_TEST(force_attempts_50ms_apart_when_sends_fail_instantly)
{
	const rec_t *r;
	int i, k = 0;

	sim_default(&S);
	S.peer[P].mode = PEER_SEND_FAIL;
	S.peer[B].mode = PEER_SEND_FAIL;
	sim_start(&S, 0);
	sim_run(&S, 999);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, ANY, ANY, 0, 999), 22);
	/* after the two start probes: one attempt every 50 ms, alternating,
	 * starting with the backup */
	for(i = 0; i < S.nlog; i++) {
		r = &S.log[i];
		if(r->a.type != HA_ACT_SEND)
			continue;
		if(k >= 2) {
			ck_assert_int_eq(r->t, 50 * (k - 2));
			ck_assert_int_eq(r->a.member, (k - 2) % 2 == 0 ? B : P);
		}
		k++;
	}
	ck_assert_int_eq(S.f.m[P].probes_sent, 11);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 11);
	ck_assert_int_eq(S.f.m[B].probes_sent, 11);
	ck_assert_int_eq(S.f.m[B].probes_unanswered, 11);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 1);
	ck_assert_event(&S, HA_ACT_DOWN, 0, 50, P, HA_ROLE_NONE, HA_RSN_PROBE);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 1000);
	sim_check_counters(&S);
}
END_TEST

START_TEST(force_first_member_to_answer_becomes_active)
{
	sim_started(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 12999);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	sim_revive(&S, P, 30);
	sim_run(&S, 13029);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	sim_run(&S, 13030);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_UP);
	sim_run(&S, 23000);
	/* the next probe at the answered attempt's send time + oos_check */
	ck_assert_sends(&S, P, 0, 5001, 23000, 11000, 13000, 18000, 23000);
	ck_assert_sends(&S, B, 0, 1, 23000, 10000, 12000);
	/* the same member as before FORCE: not a switchover */
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
	ck_assert_int_eq(S.f.switchovers, 0);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_START);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 1);
	ck_assert_event(&S, HA_ACT_DOWN, 0, 12000, P, HA_ROLE_NONE, HA_RSN_PROBE);
	ck_assert_int_eq(nev(&S, HA_ACT_UP), 1);
	ck_assert_event(&S, HA_ACT_UP, 0, 13030, P, P, HA_RSN_PROBE);
	sim_check_counters(&S);
}
END_TEST

START_TEST(force_ended_by_first_attempt_fires_neither_down_nor_up)
{
	sim_started(&S, 4999);
	sim_kill(&S, P);
	sim_run(&S, 30000);
	ck_assert_change(&S, 1, 10000, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_change(&S, 2, 10020, HA_ST_CHECK, B);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 0);
	ck_assert_int_eq(nev(&S, HA_ACT_UP), 0);
}
END_TEST

START_TEST(down_once_per_force_and_up_only_after_down)
{
	const rec_t *d, *u;

	sim_default(&S);
	S.peer[P].mode = PEER_SILENT;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 6999);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 0);
	sim_run(&S, 7000);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 1);
	ck_assert_event(&S, HA_ACT_DOWN, 0, 7000, P, HA_ROLE_NONE, HA_RSN_PROBE);
	sim_run(&S, 30000);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 1);
	ck_assert_int_eq(nev(&S, HA_ACT_UP), 0);
	ck_assert_sends(&S, B, 0, 1, 30000, 5000, 7000, 9000, 11000, 13000, 15000,
			17000, 19000, 21000, 23000, 25000, 27000, 29000);

	sim_revive(&S, B, 20);
	sim_run(&S, 31020);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(nev(&S, HA_ACT_UP), 1);
	ck_assert_event(&S, HA_ACT_UP, 0, 31020, P, B, HA_RSN_PROBE);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 31020, P, B, HA_RSN_PROBE);
	d = nth(&S, HA_ACT_DOWN, 0);
	u = nth(&S, HA_ACT_UP, 0);
	ck_assert_int_lt(d->t, u->t);

	/* a new FORCE: a new DOWN after its full round, once */
	sim_run(&S, 31500);
	sim_kill(&S, B);
	sim_run(&S, 60000);
	ck_assert_change(&S, 3, 41000, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_sends(&S, P, 0, 31000, 43000, 41000, 43000);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 2);
	ck_assert_event(&S, HA_ACT_DOWN, 1, 43000, B, HA_ROLE_NONE, HA_RSN_PROBE);
	ck_assert_int_eq(nev(&S, HA_ACT_UP), 1);
	sim_check_counters(&S);
}
END_TEST

/* ---- stickiness, manual switches, hold ------------------------------- */

START_TEST(active_member_is_sticky)
{
	sim_setup(&S, 5000, 1000, 1, NULL, 0, 0);
	sim_start(&S, 0);
	sim_run(&S, 4999);
	sim_kill(&S, P);
	sim_run(&S, 10000);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 10000, P, B, HA_RSN_PROBE);
	sim_run(&S, 12000);
	sim_revive(&S, P, 10);
	sim_run(&S, 120000);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(S.nst, 2);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 2);
	ck_assert_int_eq(S.f.switchovers, 1);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_UP);
	/* the recovered primary is probed as the standby, every oos_check */
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, P, 0, 15000, 120000), 22);
	ck_assert_int_eq(S.f.m[P].last_ok_ms, 115010);
	sim_check_counters(&S);
}
END_TEST

START_TEST(manual_switch)
{
	ha_fsm_t before;
	int n;

	sim_started(&S, 100);
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	ck_assert_int_eq(n, 1);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 100, P, B, HA_RSN_MANUAL);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_MANUAL);
	ck_assert_int_eq(S.f.last_switch_ms, 100);
	sim_at(&S, 100);
	ck_assert_sends(&S, B, 0, 100, 100, 100);
	/* to the active member: nothing */
	sim_run(&S, 200);
	before = S.f;
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_unchanged(before, &S);
	sim_check_counters(&S);

	/* in FORCE */
	sim_started(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 11100);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	sim_revive(&S, B, 20);
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 11100, P, B, HA_RSN_MANUAL);
	sim_at(&S, 11100);
	ck_assert_sends(&S, B, 0, 11100, 11100, 11100);
	sim_run(&S, 11120);
	ck_assert_pair(&S, HA_ST_CHECK, B);

	/* in FORCE, to the member active before it */
	sim_started(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 10100);
	ck_assert_int_eq(sim_switch(&S, P, HA_RSN_MANUAL, &n), 1);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	sim_at(&S, 10100);
	ck_assert_sends(&S, P, 0, 10100, 10100, 10100);
}
END_TEST

START_TEST(switch_to_a_non_member_role_is_refused)
{
	ha_fsm_t f, before;
	ha_fsm_cfg_t cfg = {.oos_check_ms = 1000, .oos_force_ms = 500};
	int rel[2] = {0, 0};
	ha_actions_t a;

	ha_codes_parse(NULL, &cfg.alive);
	ha_actions_reset(&a);
	ha_fsm_init(&f, &cfg, rel, 1, 0, &a);
	before = f;
	ha_actions_reset(&a);
	ck_assert_int_eq(ha_fsm_switch(&f, HA_ROLE_NONE, HA_RSN_MANUAL, 5, &a), -1);
	ck_assert_int_eq(ha_fsm_passive(&f, HA_ROLE_NONE, 5, &a), 0);
	ck_assert_int_eq(a.n, 0);
	ck_assert(memcmp(&f, &before, sizeof(f)) == 0);
}
END_TEST

START_TEST(hold_keeps_failed_active_member)
{
	sim_started(&S, 100);
	ha_fsm_hold(&S.f, 1);
	sim_run(&S, 4999);
	sim_kill(&S, P);
	sim_run(&S, 60000);
	ck_assert_int_eq(S.nst, 1);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_DOWN);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 11);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
	ck_assert_int_eq(nev(&S, HA_ACT_DOWN), 0);
	/* probing goes on */
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, P, 0, 0, 60000), 13);
	ck_assert_sends(&S, P, 0, 50000, 60000, 50000, 55000, 60000);

	ha_fsm_hold(&S.f, 0);
	ck_assert_int_eq(S.f.held, 0);
	sim_run(&S, 64999);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	sim_run(&S, 65020);
	ck_assert_change(&S, 1, 65000, HA_ST_FORCE, HA_ROLE_NONE);
	ck_assert_change(&S, 2, 65020, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 65020, P, B, HA_RSN_PROBE);
	sim_check_counters(&S);

	/* with probe_standby the answering standby does not take over either */
	sim_setup(&S, 5000, 1000, 1, NULL, 0, 0);
	sim_start(&S, 0);
	sim_run(&S, 100);
	ha_fsm_hold(&S.f, 1);
	sim_run(&S, 4999);
	sim_kill(&S, P);
	sim_run(&S, 60000);
	ck_assert_int_eq(S.nst, 1);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
	ck_assert_int_eq(S.f.m[B].state, HA_MS_UP);
	ck_assert_int_eq(S.f.m[P].state, HA_MS_DOWN);
	ha_fsm_hold(&S.f, 0);
	sim_run(&S, 65000);
	/* the standby answered since the failed probe went out: no FORCE */
	ck_assert_int_eq(S.nst, 2);
	ck_assert_change(&S, 1, 65000, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 65000, P, B, HA_RSN_PROBE);
	sim_check_counters(&S);
}
END_TEST

START_TEST(held_pair_with_instant_send_failures_does_not_spin)
{
	sim_started(&S, 100);
	ha_fsm_hold(&S.f, 1);
	S.peer[P].mode = PEER_SEND_FAIL;
	sim_run(&S, 20000);
	ck_assert_int_eq(S.nst, 1);
	ck_assert_sends(&S, P, 0, 0, 20000, 0, 5000, 10000, 15000, 20000);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 4);
}
END_TEST

Suite *ha_fsm_suite(void)
{
	Suite *s = suite_create("ha_fsm");
	TCase *tc;

	tc = tcase_create("codes_addr");
	tcase_add_test(tc, addr_is_member_ipv4);
	tcase_add_test(tc, addr_is_member_ipv6_and_family_mismatch);
	tcase_add_test(tc, names_of_roles_states_reasons);
	suite_add_tcase(s, tc);

	tc = sim_tcase("states");
	tcase_add_test(tc, start_probes_both_members_and_switches_to_primary);
	tcase_add_test(tc, start_at_any_time_probes_both_at_that_time);
	tcase_add_test(tc, start_probes_backup_only_once_without_probe_standby);
	tcase_add_test(tc, check_next_probe_at_send_time_plus_oos_check);
	tcase_add_test(tc, check_deadline_goes_to_force_exactly_at_deadline);
	tcase_add_test(tc,
			start_with_dead_primary_switches_to_live_backup_at_first_deadline);
	tcase_add_test(
			tc, force_starts_with_other_member_and_alternates_with_oos_force);
	tcase_add_test(tc, force_after_backup_failed_starts_with_primary);
	tcase_add_test(tc, force_attempts_50ms_apart_when_sends_fail_instantly);
	tcase_add_test(tc, force_first_member_to_answer_becomes_active);
	tcase_add_test(tc, force_ended_by_first_attempt_fires_neither_down_nor_up);
	tcase_add_test(tc, down_once_per_force_and_up_only_after_down);
	tcase_add_test(tc, active_member_is_sticky);
	tcase_add_test(tc, manual_switch);
	tcase_add_test(tc, switch_to_a_non_member_role_is_refused);
	tcase_add_test(tc, hold_keeps_failed_active_member);
	tcase_add_test(tc, held_pair_with_instant_send_failures_does_not_spin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ha_fsm_suite());
	int failed;

	srunner_add_suite(sr, ha_fsm_probe_suite());
	srunner_add_suite(sr, ha_fsm_timing_suite());
	srunner_add_suite(sr, ha_fsm_req_suite());
	srunner_add_suite(sr, ha_fsm_pool_suite());
	srunner_add_suite(sr, ha_fsm_sync_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
