/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_fsm.c - Check suite for ha_fsm, the pure probing state machine,
 * driven by the simulation in fsm_sim.c. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ha_fsm.h"
#include "fsm_sim.h"

/* ---- addresses, names ------------------------------------------ */

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

/* ---- start -------------------------------------------------------------- */

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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 60000);
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

/* ---- CHECK --------------------------------------------------------------- */

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

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 4999);
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

/* ---- FORCE --------------------------------------------------------------- */

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

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 4999);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 4999);
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

/* ---- retransmission ------------------------------------------------------- */

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

/* ---- probes and replies ------------------------------------------------------- */

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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 4999);
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

/* ---- stickiness and other triggers ----------------------------------------- */

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

START_TEST(passive_switchover_from_standby)
{
	ha_fsm_t before;
	int n;

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 4999);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 4999);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 4999);
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


/* ---- pool replication: versions and peers' changes ------------------- */

START_TEST(version_order_is_number_then_origin)
{
	ck_assert_int_lt(ha_ver_cmp(1, "sip:b", 2, "sip:a"), 0);
	ck_assert_int_gt(ha_ver_cmp(3, "sip:a", 2, "sip:z"), 0);
	/* a tie: the greater address wins, the same way on every proxy */
	ck_assert_int_gt(
			ha_ver_cmp(2, "sip:127.0.0.3:5090", 2, "sip:127.0.0.2:5090"), 0);
	ck_assert_int_lt(
			ha_ver_cmp(2, "sip:127.0.0.2:5090", 2, "sip:127.0.0.3:5090"), 0);
	ck_assert_int_eq(ha_ver_cmp(2, "sip:a", 2, "sip:a"), 0);
	ck_assert_int_gt(ha_ver_cmp(UINT64_MAX, "", UINT64_MAX - 1, "sip:z"), 0);
}
END_TEST

START_TEST(local_change_takes_highest_version_seen_plus_one)
{
	int n;

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
	ck_assert_int_eq(S.f.version, 0);
	/* a stale peer change (version 0 from a smaller address) still raises
	 * nothing; one with version 7 of the active member is agreed */
	ck_assert_int_eq(sim_peer(&S, P, 7, "sip:peer", 1), HA_PEERV_AGREE);
	ck_assert_int_eq(S.f.version, 7);
	ck_assert_str_eq(S.f.origin, "sip:peer");
	/* agreed, not adopted: nothing moved */
	ck_assert_int_eq(S.f.peer_agreed, 1);
	ck_assert_int_eq(S.f.peer_adopted, 0);
	/* a peer names version 9 for the backup, which does not answer: the
	 * claim is refused, but 9 has been seen */
	S.peer[B].mode = PEER_SILENT;
	ck_assert_int_eq(sim_peer(&S, B, 9, "sip:peer", 1), HA_PEERV_CLAIM);
	sim_run(&S, 1200);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.version, 7);
	/* a manual switch here: version 10, made here */
	S.peer[B].mode = PEER_ANSWER;
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	ck_assert_int_eq(S.f.version, 10);
	ck_assert_str_eq(S.f.origin, "");
	ck_assert_int_eq(nth(&S, HA_ACT_SWITCH, 1)->a.version, 10);
	sim_check_counters(&S);
}
END_TEST

START_TEST(peer_change_adopted_once_its_member_answers)
{
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 1), HA_PEERV_CLAIM);
	/* nothing switched yet; the named member is probed at once */
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 100);
	sim_at(&S, 100);
	ck_assert_sends(&S, B, 0, 100, 100, 100);
	ck_assert_int_eq(S.f.m[B].probe.deadline_ms, 100 + 1000); /* oos-force */
	/* it answers 20 ms later: active, reason peer, the peer's version */
	sim_run(&S, 120);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 120, P, B, HA_RSN_PEER);
	ck_assert_int_eq(nth(&S, HA_ACT_SWITCH, 1)->a.version, 1);
	ck_assert_int_eq(S.f.version, 1);
	ck_assert_str_eq(S.f.origin, "sip:peer");
	ck_assert_int_eq(S.f.last_reason, HA_RSN_PEER);
	ck_assert_int_eq(S.f.peer_adopted, 1);
	ck_assert_int_eq(S.peer_adopted, 1);
	ck_assert_int_eq(S.f.peer_agreed, 0);
	ck_assert_int_eq(S.peer_agreed, 0);
	ck_assert_int_eq(S.f.claims_confirmed, 0); /* a peer's, not a request's */
	ck_assert_int_eq(S.f.disagree, 0);
	ck_assert_str_eq(S.answer_to, "");
	/* the same change again (a retransmission, another path): stale */
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 1), HA_PEERV_STALE);
	ck_assert_int_eq(S.f.peer_stale, 1);
	sim_check_counters(&S);
}
END_TEST

START_TEST(peer_change_refused_when_its_member_is_silent)
{
	int i;

	sim_default(&S);
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 6000);
	ck_assert_int_eq(sim_peer(&S, B, 5, "sip:peer", 1), HA_PEERV_CLAIM);
	sim_at(&S, 6000);
	/* more of the same, and newer ones, while the probe is out: still
	 * one probe */
	for(i = 0; i < 20; i++) {
		sim_run(&S, 6000 + i * 10);
		ck_assert_int_eq(
				sim_peer(&S, B, 6 + i, "sip:peer", 1), HA_PEERV_PENDING);
	}
	ck_assert_int_eq(sim_peer(&S, B, 3, "sip:peer", 1), HA_PEERV_STALE);
	sim_run(&S, 6999);
	ck_assert_sends(&S, B, 0, 6000, 6999, 6000);
	sim_at(&S, 7000);
	/* refused: own view kept, the disagreement recorded, an answer due */
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.claim, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.peer_refused, 1);
	ck_assert_int_eq(S.peer_refused, 1);
	ck_assert_int_eq(S.f.disagree, 1);
	ck_assert_int_eq(S.f.disagree_member, B);
	ck_assert_int_eq(S.f.disagree_version, 25);
	ck_assert_str_eq(S.f.disagree_origin, "sip:peer");
	ck_assert_str_eq(S.answer_to, "sip:peer");
	ck_assert_int_eq(S.f.version, 0);
	ck_assert_int_eq(S.f.version_seen, 25);
	ck_assert_int_eq(S.unconfirmed, 0);			 /* not a request's claim */
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1); /* the start */
	/* the peer agrees later: the disagreement ends */
	ck_assert_int_eq(sim_peer(&S, P, 26, "sip:peer", 0), HA_PEERV_AGREE);
	ck_assert_int_eq(S.f.disagree, 0);
	sim_check_counters(&S);
}
END_TEST

START_TEST(peer_claim_brings_probe_in_flight_within_oos_force)
{
	sim_default(&S);
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 100);
	/* the backup's start probe is out until 5000 (oos-check) */
	ck_assert_int_eq(S.f.m[B].probe.deadline_ms, 5000);
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 1), HA_PEERV_CLAIM);
	ck_assert_int_eq(S.f.m[B].probe.deadline_ms, 100 + 1000);
	sim_run(&S, 1100);
	ck_assert_int_eq(S.peer_refused, 1);
	ck_assert_sends(&S, B, 0, 1, 1100);
	ck_assert_pair(&S, HA_ST_CHECK, P);
}
END_TEST

/* A state (an answer, a sync) refused is answered once: the peer then
 * records the disagreement too. The same state again is no new refusal:
 * neither counted nor answered. */
START_TEST(peer_state_refused_is_answered_once)
{
	sim_default(&S);
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 6000);
	ck_assert_int_eq(sim_peer(&S, B, 5, "sip:peer", 0), HA_PEERV_CLAIM);
	sim_run(&S, 7100);
	ck_assert_int_eq(S.peer_refused, 1);
	ck_assert_str_eq(S.answer_to, "sip:peer");
	S.answer_to[0] = '\0';
	ck_assert_int_eq(sim_peer(&S, B, 5, "sip:peer", 0), HA_PEERV_CLAIM);
	sim_run(&S, 8200);
	ck_assert_int_eq(S.peer_refused, 1);
	ck_assert_int_eq(S.f.peer_refused, 1);
	ck_assert_str_eq(S.answer_to, "");
	ck_assert_int_eq(S.f.disagree, 1);
}
END_TEST

START_TEST(peer_ties_broken_by_origin)
{
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
	/* version 1 made here ("sip:self") */
	S.f.version = 1;
	/* the same number from a smaller address: stale; from a greater one:
	 * newer */
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:other", 1), HA_PEERV_STALE);
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:zzz", 1), HA_PEERV_CLAIM);
	/* a pending claim is beaten only by a newer one */
	ck_assert_int_eq(sim_peer(&S, P, 1, "sip:yyy", 1), HA_PEERV_STALE);
	sim_run(&S, 200);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_str_eq(S.f.origin, "sip:zzz");
}
END_TEST

START_TEST(peer_change_beaten_by_a_local_change_meanwhile)
{
	int n;

	sim_default(&S);
	S.peer[B].delay_ms = 500;
	sim_start(&S, 0);
	sim_run(&S, 600);
	ck_assert_int_eq(sim_peer(&S, B, 4, "sip:peer", 1), HA_PEERV_CLAIM);
	sim_at(&S, 600);
	/* before the backup answers, an operator makes the primary active
	 * here (it is already): no change. Then a local switch to the backup
	 * and back makes versions 5 and 6 */
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	ck_assert_int_eq(S.f.version, 5);
	ck_assert_int_eq(sim_switch(&S, P, HA_RSN_MANUAL, &n), 1);
	ck_assert_int_eq(S.f.version, 6);
	/* the claim for the backup was taken by the first switch (what it
	 * claimed was so); nothing of it comes back */
	sim_run(&S, 2000);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.version, 6);
	ck_assert_int_eq(S.f.peer_adopted, 0);
}
END_TEST

START_TEST(peer_change_while_held_is_refused_without_probe)
{
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
	ha_fsm_hold(&S.f, 1);
	ck_assert_int_eq(sim_peer(&S, B, 3, "sip:peer", 1), HA_PEERV_HELD);
	ck_assert_int_eq(S.f.claim, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.disagree, 1);
	ck_assert_int_eq(S.f.peer_refused, 1);
	sim_run(&S, 1000);
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, B, 0, 100, 1000), 0);
	ck_assert_int_eq(sim_peer(&S, 5, 3, "sip:peer", 1), HA_PEERV_BAD);
}
END_TEST

START_TEST(peer_change_during_force_adopted_when_member_answers)
{
	sim_default(&S);
	S.peer[P].mode = PEER_SILENT;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	/* the primary failed at 5000: FORCE; the backup's attempt failed at
	 * 6000, the primary's is out until 7000 */
	sim_run(&S, 6100);
	ck_assert_pair(&S, HA_ST_FORCE, HA_ROLE_NONE);
	S.peer[B].mode = PEER_ANSWER;
	ck_assert_int_eq(sim_peer(&S, B, 2, "sip:peer", 1), HA_PEERV_CLAIM);
	sim_run(&S, 6200);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(S.f.version, 2);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_PEER);
	sim_check_counters(&S);
}
END_TEST

/* ---- disagreement and partitions ----------------------------------------- */

/* A peer's newer change whose member does not answer here is refused
 * once (counted, answered), then tried again every oos-check while it is
 * the newest view: each retry a probe, no new refusal, no answer, no
 * switch. Once the member answers, it is adopted (reason peer, the peer's
 * version) within one oos-check, and the peer is told (answer_to). */
START_TEST(refused_newer_change_retried_every_oos_check)
{
	uint64_t t;

	sim_default(&S);
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 6000);
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 1), HA_PEERV_CLAIM);
	sim_at(&S, 6000);
	sim_run(&S, 7000);
	ck_assert_int_eq(S.f.peer_refused, 1);
	ck_assert_str_eq(S.answer_to, "sip:peer");
	ck_assert_int_eq(S.f.disagree, 1);
	ck_assert_int_eq(S.f.disagree_newer, 1);
	ck_assert_int_eq(ha_fsm_next_due(&S.f), 10000); /* primary, and retry */
	S.answer_to[0] = '\0';
	sim_run(&S, 60000);
	/* a retry every oos-check from the claim: 11000, 16000, ... */
	ck_assert_sends(&S, B, 0, 6000, 60000, 6000, 11000, 16000, 21000, 26000,
			31000, 36000, 41000, 46000, 51000, 56000);
	ck_assert_int_eq(S.f.peer_retries, 10);
	ck_assert_int_eq(S.f.peer_refused, 1);
	ck_assert_int_eq(S.peer_refused, 1);
	ck_assert_str_eq(S.answer_to, "");
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(S.f.disagree, 1);
	/* the backup answers from 60000: the retry at 61000 adopts it */
	sim_revive(&S, B, 20);
	sim_run(&S, 61019);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	sim_run(&S, 61020);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_event(&S, HA_ACT_SWITCH, 1, 61020, P, B, HA_RSN_PEER);
	ck_assert_int_eq(S.f.version, 1);
	ck_assert_str_eq(S.f.origin, "sip:peer");
	ck_assert_int_eq(S.f.disagree, 0);
	ck_assert_int_eq(S.f.peer_adopted, 1);
	ck_assert_str_eq(S.answer_to, "sip:peer");
	/* and no more retries */
	t = S.f.peer_retries;
	sim_run(&S, 80000);
	ck_assert_int_eq(S.f.peer_retries, t);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 2);
	sim_check_counters(&S);
}
END_TEST

/* A proxy that made a newer version gets a peer's older state naming the
 * other member (the peer refused its change): recorded, not adopted, not
 * retried, no probe. The peer's later state at this version, naming this
 * proxy's member, ends it. A stale change is not recorded (it is
 * answered: the peer's refusal of that answer is what reports). */
START_TEST(stale_state_naming_another_member_is_recorded)
{
	int n;

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	ck_assert_int_eq(S.f.version, 1);
	sim_run(&S, 200);
	ck_assert_int_eq(sim_peer(&S, P, 0, "sip:peer", 1), HA_PEERV_STALE);
	ck_assert_int_eq(S.f.disagree, 0);
	ck_assert_int_eq(sim_peer(&S, P, 0, "sip:peer", 0), HA_PEERV_STALE);
	ck_assert_int_eq(S.f.disagree, 1);
	ck_assert_int_eq(S.f.disagree_newer, 0);
	ck_assert_int_eq(S.f.disagree_member, P);
	ck_assert_int_eq(S.f.disagree_version, 0);
	ck_assert_str_eq(S.f.disagree_origin, "sip:peer");
	ck_assert_int_eq(S.f.claim, HA_ROLE_NONE);
	sim_run(&S, 30000);
	ck_assert_sends(&S, P, 0, 101, 30000);
	ck_assert_int_eq(S.f.peer_retries, 0);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	/* a state naming this proxy's member at an older version: nothing */
	ck_assert_int_eq(sim_peer(&S, B, 0, "sip:peer", 0), HA_PEERV_STALE);
	ck_assert_int_eq(S.f.disagree, 1);
	/* at this proxy's version ("sip:self" stands for the local origin):
	 * the views agree */
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:self", 0), HA_PEERV_STALE);
	ck_assert_int_eq(S.f.disagree, 0);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 2);
}
END_TEST

/* A held pair refuses without a probe; once released, the refused newer
 * version is tried (its retry is due) and adopted when its member
 * answers. The same change again while held is stale, not refused anew. */
START_TEST(held_refusal_retried_once_released)
{
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
	ha_fsm_hold(&S.f, 1);
	ck_assert_int_eq(sim_peer(&S, B, 3, "sip:peer", 1), HA_PEERV_HELD);
	ck_assert_int_eq(sim_peer(&S, B, 3, "sip:peer", 1), HA_PEERV_STALE);
	ck_assert_int_eq(S.f.peer_refused, 1);
	sim_run(&S, 20000);
	ck_assert_sends(&S, B, 0, 101, 20000);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ha_fsm_hold(&S.f, 0);
	ck_assert_int_le(ha_fsm_next_due(&S.f), 20000); /* overdue: now */
	sim_at(&S, 20000);
	ck_assert_sends(&S, B, 0, 20000, 20000, 20000);
	sim_run(&S, 20020);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_PEER);
	ck_assert_int_eq(S.f.version, 3);
	ck_assert_int_eq(S.f.disagree, 0);
	ck_assert_str_eq(S.answer_to, "sip:peer");
}
END_TEST

/* A newer version that names this proxy's member ends the retries of an
 * older refused one: the pool moved on. */
START_TEST(retries_end_when_a_newer_version_agrees)
{
	sim_default(&S);
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 6000);
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 1), HA_PEERV_CLAIM);
	sim_run(&S, 12000);
	ck_assert_int_eq(S.f.peer_retries, 1);
	/* an agreeing version older than the disagreement keeps it */
	S.f.version_seen = 1;
	ck_assert_int_eq(sim_peer(&S, P, 1, "sip:other", 1), HA_PEERV_AGREE);
	ck_assert_int_eq(S.f.disagree, 1);
	ck_assert_int_eq(sim_peer(&S, P, 2, "sip:other", 1), HA_PEERV_AGREE);
	ck_assert_int_eq(S.f.disagree, 0);
	sim_run(&S, 60000);
	ck_assert_int_eq(S.f.peer_retries, 1);
	ck_assert_sends(&S, B, 0, 12000, 60000);
	ck_assert_int_eq(S.f.peer_refused, 1);
}
END_TEST

/* A change lost on its way (dmq cut): the pair keeps its member and knows
 * of no disagreement. A state naming the change, arriving any time later
 * (a sync), is a claim like the change would have been: adopted once its
 * member answers, with no answer sent back (nothing was refused); the
 * same state again is stale and costs nothing. */
START_TEST(state_after_a_lost_change_is_adopted_once_confirmed)
{
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 30000);
	ck_assert_int_eq(S.f.disagree, 0);
	ck_assert_int_eq(sim_peer(&S, B, 4, "sip:peer", 0), HA_PEERV_CLAIM);
	sim_at(&S, 30000);
	sim_run(&S, 30020);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_eq(S.f.version, 4);
	ck_assert_int_eq(S.f.last_reason, HA_RSN_PEER);
	ck_assert_str_eq(S.answer_to, "");
	ck_assert_int_eq(sim_peer(&S, B, 4, "sip:peer", 0), HA_PEERV_STALE);
	sim_run(&S, 31000);
	ck_assert_sends(&S, B, 0, 30001, 31000);
	ck_assert_int_eq(S.f.disagree, 0);
}
END_TEST

/* Two proxies of a pool, each a simulation, wired as ha_dmq.c wires them:
 * a local switch is a change for the other, answer_to and a stale change
 * are answered with the own state; each message arrives 1 ms later. */
static sim_t T;

typedef struct pool_msg
{
	int64_t at;
	sim_t *to;
	ha_role_t m;
	uint64_t version;
	char origin[HA_ORIGIN_MAX];
	int change;
} pool_msg_t;

static pool_msg_t _pq[4096];
static int _npq;
static int _pool_msgs;

static const char *pool_self(const sim_t *s)
{
	return s == &S ? "sip:a" : "sip:b";
}

static void pool_send_state(sim_t *from, sim_t *to, int64_t now)
{
	pool_msg_t *q;

	if(from->f.active == HA_ROLE_NONE)
		return;
	ck_assert_int_lt(_npq, 4096);
	q = &_pq[_npq++];
	q->at = now + 1;
	q->to = to;
	q->m = from->f.active;
	q->version = from->f.version;
	snprintf(q->origin, sizeof(q->origin), "%s",
			from->f.origin[0] ? from->f.origin : pool_self(from));
	q->change = 0;
}

/* Run both to t_end, 1 ms at a time. */
static void pool_run(int64_t t_end)
{
	sim_t *sims[2] = {&S, &T}, *s, *o;
	pool_msg_t msg;
	ha_peer_verdict_t v;
	int64_t t;
	int i, j, k, nlog;

	for(t = S.now + 1; t <= t_end; t++) {
		for(i = 0; i < _npq;) {
			if(_pq[i].at > t) {
				i++;
				continue;
			}
			msg = _pq[i];
			memmove(&_pq[i], &_pq[i + 1], (_npq - i - 1) * sizeof(msg));
			_npq--;
			_pool_msgs++;
			s = msg.to;
			o = s == &S ? &T : &S;
			s->now = t;
			v = ha_fsm_peer(&s->f, msg.m, msg.version, msg.origin, pool_self(s),
					msg.change, t);
			note_state(s);
			if((v == HA_PEERV_STALE || v == HA_PEERV_HELD) && msg.change)
				pool_send_state(s, o, t);
		}
		for(j = 0; j < 2; j++) {
			s = sims[j];
			o = sims[1 - j];
			nlog = s->nlog;
			s->answer_to[0] = '\0';
			sim_at(s, t);
			for(k = nlog; k < s->nlog; k++) {
				const ha_action_t *a = &s->log[k].a;
				if(a->type != HA_ACT_SWITCH || a->reason == HA_RSN_START
						|| a->reason == HA_RSN_PEER)
					continue;
				ck_assert_int_lt(_npq, 4096);
				_pq[_npq].at = t + 1;
				_pq[_npq].to = o;
				_pq[_npq].m = a->new_role;
				_pq[_npq].version = a->version;
				snprintf(_pq[_npq].origin, HA_ORIGIN_MAX, "%s", pool_self(s));
				_pq[_npq].change = 1;
				_npq++;
			}
			if(s->answer_to[0] != '\0') {
				ck_assert_str_eq(s->answer_to, pool_self(o));
				pool_send_state(s, o, t);
			}
		}
	}
}

/* Proxy A (S) reaches only the primary, proxy B (T) only the backup, for
 * 60 s, B's state also reaching A every 7 s (as a periodic sync would):
 * B switches once, A never; each keeps the member it reaches; both
 * report the disagreement; no flapping, a refusal counted once. The split
 * heals: both are on the backup within one oos-check, no disagreement. */
START_TEST(partition_each_keeps_its_member_then_converges)
{
	int64_t t, healed, conv;
	uint64_t msgs;

	_npq = 0;
	_pool_msgs = 0;
	memset(&T, 0, sizeof(T));
	sim_default(&S);
	sim_default(&T);
	T.seed = 1000;
	sim_start(&S, 0);
	sim_start(&T, 0);
	pool_run(1000);
	sim_kill(&S, B);
	sim_kill(&T, P);
	for(t = 2000; t <= 61000; t += 1000) {
		pool_run(t);
		if(t % 7000 == 0)
			pool_send_state(&T, &S, t);
	}
	/* B: one switch, to the backup (its probe of the primary failed) */
	ck_assert_int_eq(nev(&T, HA_ACT_SWITCH), 2);
	ck_assert_event(&T, HA_ACT_SWITCH, 1, 10020, P, B, HA_RSN_PROBE);
	ck_assert_pair(&T, HA_ST_CHECK, B);
	ck_assert_int_eq(T.f.version, 1);
	/* A: none */
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	/* both report it */
	ck_assert_int_eq(S.f.disagree, 1);
	ck_assert_int_eq(S.f.disagree_member, B);
	ck_assert_int_eq(S.f.disagree_version, 1);
	ck_assert_str_eq(S.f.disagree_origin, "sip:b");
	ck_assert_int_eq(T.f.disagree, 1);
	ck_assert_int_eq(T.f.disagree_member, P);
	/* A's version: its start, or B's start (the greater origin) once B's
	 * first state came */
	ck_assert_int_eq(T.f.disagree_version, 0);
	ck_assert_str_eq(T.f.disagree_origin, S.f.origin[0] ? S.f.origin : "sip:a");
	/* counted once: one change, one refusal, one answer each way */
	ck_assert_int_eq(S.f.peer_refused, 1);
	ck_assert_int_eq(T.f.peer_refused, 0);
	/* tried again at every oos-check, and at each of B's periodic states
	 * (8 here): never more often, not spinning */
	ck_assert_int_ge(S.f.peer_retries, 4);
	ck_assert_int_le(S.f.peer_retries, 10 + 8);
	msgs = _pool_msgs;
	ck_assert_int_eq(msgs, 2 + 8); /* change, answer, the syncs */
	/* heal */
	healed = S.now;
	sim_revive(&S, B, 20);
	sim_revive(&T, P, 10);
	pool_run(healed + 5000 + 100);
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_pair(&T, HA_ST_CHECK, B);
	conv = nth(&S, HA_ACT_SWITCH, 1)->t;
	ck_assert_int_le(conv - healed, 5000 + 20);
	ck_assert_int_eq(nth(&S, HA_ACT_SWITCH, 1)->a.reason, HA_RSN_PEER);
	ck_assert_int_eq(S.f.version, T.f.version);
	ck_assert_int_eq(S.f.disagree, 0);
	ck_assert_int_eq(T.f.disagree, 0);
	ck_assert_int_eq(nev(&T, HA_ACT_SWITCH), 2);
	/* and it stays so */
	pool_run(healed + 60000);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 2);
	ck_assert_int_eq(nev(&T, HA_ACT_SWITCH), 2);
	ck_assert_int_eq(S.f.disagree + T.f.disagree, 0);
	sim_check_counters(&S);
	sim_check_counters(&T);
}
END_TEST

/* ---- member_trust confirm: claims ------------------------------------- */

START_TEST(claim_switches_only_when_the_member_answers)
{
	ha_fsm_t before;

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 5);
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

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 4999);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 4999);
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

START_TEST(manual_switch)
{
	ha_fsm_t before;
	int n;

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 4999);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 4999);
	sim_kill(&S, P);
	sim_kill(&S, B);
	sim_run(&S, 10100);
	ck_assert_int_eq(sim_switch(&S, P, HA_RSN_MANUAL, &n), 1);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	sim_at(&S, 10100);
	ck_assert_sends(&S, P, 0, 10100, 10100, 10100);
}
END_TEST

START_TEST(verify_answered_changes_nothing)
{
	ha_waitpoint_t w;
	ha_role_t r;

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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

START_TEST(verify_silent_hunts_with_reason_failover)
{
	ha_waitpoint_t w;
	ha_role_t r;

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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

START_TEST(hold_keeps_failed_active_member)
{
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
	ha_fsm_hold(&S.f, 1);
	S.peer[P].mode = PEER_SEND_FAIL;
	sim_run(&S, 20000);
	ck_assert_int_eq(S.nst, 1);
	ck_assert_sends(&S, P, 0, 0, 20000, 0, 5000, 10000, 15000, 20000);
	ck_assert_int_eq(S.f.m[P].probes_unanswered, 4);
}
END_TEST

/* ---- probe_standby and split ------------------------------------------------------ */

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

	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 60000);
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

/* ---- probe_now, set_cfg, next_due, resolution, counters ------------------- */

START_TEST(probe_now_probes_both_members_at_next_tick)
{
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 1000);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 100);
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
	sim_default(&S);
	sim_start(&S, 0);
	sim_run(&S, 14999);
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


/* ---- start-up sync (pool replication) ----------------------------------- */

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
	/* SPEC 2 goes on: the primary's next probe at 5000 */
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

static Suite *ha_fsm_suite(void)
{
	Suite *s = suite_create("ha_fsm");
	TCase *tc;

	tc = tcase_create("codes_addr");
	tcase_add_test(tc, addr_is_member_ipv4);
	tcase_add_test(tc, addr_is_member_ipv6_and_family_mismatch);
	tcase_add_test(tc, names_of_roles_states_reasons);
	suite_add_tcase(s, tc);

	tc = tcase_create("probing");
	tcase_add_checked_fixture(tc, sim_fixture, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, start_probes_both_members_and_switches_to_primary);
	tcase_add_test(tc, start_at_any_time_probes_both_at_that_time);
	tcase_add_test(tc, start_probes_backup_only_once_without_probe_standby);
	tcase_add_test(tc, token_zero_is_never_used);
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
	tcase_add_test(tc, udp_retransmits_at_t1_doubling_oos_check_1000);
	tcase_add_test(tc, udp_retransmits_at_t1_doubling_oos_check_5000);
	tcase_add_test(tc, udp_retransmits_in_force_by_oos_force);
	tcase_add_test(tc, late_tick_retransmits_once_and_rearms_in_the_future);
	tcase_add_test(tc, reliable_members_are_not_retransmitted);
	tcase_add_test(tc, lost_first_transmission_costs_no_switchover);
	tcase_add_test(tc, one_probe_in_flight_per_member);
	tcase_add_test(tc, reply_with_wrong_or_stale_token_is_ignored);
	tcase_add_test(tc, send_failure_counts_at_once);
	tcase_add_test(tc, alive_codes_2xx_treats_503_as_no_answer);
	tcase_add_test(tc, alive_codes_empty_treats_503_as_alive);
	tcase_add_test(tc, provisional_reply_does_not_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("triggers");
	tcase_add_checked_fixture(tc, sim_fixture, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, active_member_is_sticky);
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
	tcase_add_test(tc, manual_switch);
	tcase_add_test(tc, version_order_is_number_then_origin);
	tcase_add_test(tc, local_change_takes_highest_version_seen_plus_one);
	tcase_add_test(tc, peer_change_adopted_once_its_member_answers);
	tcase_add_test(tc, sync_waits_for_the_answer_adopted_after_its_probe);
	tcase_add_test(tc, sync_ends_when_the_answers_claim_is_refused);
	tcase_add_test(tc, sync_ends_at_once_on_an_answer_with_nothing_to_confirm);
	tcase_add_test(tc, sync_ends_when_a_complete_answer_does_not_name_the_pair);
	tcase_add_test(tc, sync_times_out_on_its_own_without_an_answer);
	tcase_add_test(tc, sync_a_stale_answer_while_a_claim_is_out_keeps_waiting);
	tcase_add_test(tc, sync_in_force_waits_like_a_hunt_after_it_ends);
	tcase_add_test(tc, peer_change_refused_when_its_member_is_silent);
	tcase_add_test(tc, peer_state_refused_is_answered_once);
	tcase_add_test(tc, refused_newer_change_retried_every_oos_check);
	tcase_add_test(tc, stale_state_naming_another_member_is_recorded);
	tcase_add_test(tc, held_refusal_retried_once_released);
	tcase_add_test(tc, retries_end_when_a_newer_version_agrees);
	tcase_add_test(tc, state_after_a_lost_change_is_adopted_once_confirmed);
	tcase_add_test(tc, partition_each_keeps_its_member_then_converges);
	tcase_add_test(tc, peer_claim_brings_probe_in_flight_within_oos_force);
	tcase_add_test(tc, peer_ties_broken_by_origin);
	tcase_add_test(tc, peer_change_beaten_by_a_local_change_meanwhile);
	tcase_add_test(tc, peer_change_while_held_is_refused_without_probe);
	tcase_add_test(tc, peer_change_during_force_adopted_when_member_answers);
	tcase_add_test(tc, verify_answered_changes_nothing);
	tcase_add_test(tc, verify_silent_hunts_with_reason_failover);
	tcase_add_test(tc, verify_silent_with_fresh_standby_switches_at_once);
	tcase_add_test(
			tc, verify_joins_probe_in_flight_and_brings_deadline_forward);
	tcase_add_test(tc, verify_nothing_to_do_off_the_active_member);
	tcase_add_test(tc, verify_held_pair);
	tcase_add_test(tc, verify_pending_dropped_when_pair_moved);
	tcase_add_test(tc, hold_keeps_failed_active_member);
	tcase_add_test(tc, held_pair_with_instant_send_failures_does_not_spin);
	suite_add_tcase(s, tc);

	tc = tcase_create("standby_and_timing");
	tcase_add_checked_fixture(tc, sim_fixture, NULL);
	tcase_set_timeout(tc, 120);
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
	tcase_add_test(tc, switch_to_a_non_member_role_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ha_fsm_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
