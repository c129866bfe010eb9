/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_fsm_pool.c - Check suite for the pair's pool replication
 * (ha_fsm_pool.c): versions, peers' changes and states, claims from
 * them, disagreement, retries and two proxies through a partition. Run by
 * test_ha_fsm.c's main(). */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "ha_fsm.h"
#include "fsm_sim.h"

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

	sim_started(&S, 100);
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
	sim_started(&S, 100);
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

/* The prober reads its clock once a tick, and a dmq worker stamps a claim
 * with its own, later clock: a pair's tick may then run with a time before
 * the claim's. That tick must still probe the claimed member within
 * oos-force (it found the pair with no probe out yet: its start, paced),
 * not send the standby's start probe with oos-check's deadline and let the
 * claim wait on it: a lost answer then held the claim, and every state of
 * the pool naming the same member, for oos-check (30 s in the repeat run
 * where 12 of 2,000 pairs of a restarted proxy stayed apart). */
START_TEST(claim_ticked_with_an_earlier_clock_ends_within_oos_force)
{
	ha_actions_t acts;

	sim_setup(&S, 30000, 2000, 0, NULL, 0, 0);
	S.peer[B].mode = PEER_SILENT; /* its answer is lost */
	ha_actions_reset(&acts);
	ha_fsm_init(&S.f, &S.cfg, S.reliable, S.seed, 0, &acts);
	sim_actions(&S, &acts);
	note_state(&S);
	/* no tick has run the pair yet; a pool state names the backup at 10 */
	S.now = 10;
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 0), HA_PEERV_CLAIM);
	/* the prober's tick, with the time it read at 5 */
	ha_actions_reset(&acts);
	ha_fsm_tick(&S.f, 5, &acts);
	sim_actions(&S, &acts);
	ck_assert_uint_ne(S.f.m[B].probe.token, 0);
	ck_assert_int_le(S.f.m[B].probe.deadline_ms, 10 + 2000);
	/* one probe of the backup, the claim's */
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, B, 0, 0, 10), 1);
	/* unanswered: refused at its oos-force deadline (not at 30 s) */
	sim_run(&S, 2050);
	ck_assert_int_eq(S.f.claim, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.peer_refused, 1);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	/* the pool's next state naming the backup is a claim again (before
	 * the fix it was dropped as stale for 30 s), whose probe ends within
	 * oos-force too */
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 0), HA_PEERV_CLAIM);
	ck_assert_int_le(S.f.m[B].probe.deadline_ms, S.now + 2000);
	sim_run(&S, S.now + 2001);
	/* ended (the same refusal again: neither counted nor answered) */
	ck_assert_int_eq(S.f.claim, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.peer_refused, 1);
	sim_check_counters(&S);
}
END_TEST

/* A claim taking over a UDP probe sent long before (the standby's start
 * probe, unanswered while the member was silent) sends it again at once,
 * same token, instead of waiting for its next retransmission (T1 doubling:
 * 500 ms away there) or, past the claim's oos-force deadline, for none: in
 * a repeat run a pool proxy adopted a switchover 166 ms late so. */
START_TEST(claim_on_an_old_udp_probe_resends_it_at_once)
{
	uint32_t tok;

	sim_setup(&S, 20000, 200, 0, NULL, 0, 0);
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 3000);
	/* the backup's start probe: out since 0, resent at 500 and 1500, the
	 * next resend due at 3500 */
	tok = S.f.m[B].probe.token;
	ck_assert_uint_ne(tok, 0);
	ck_assert_int_eq(S.f.m[B].probe.rtx_ms, 3500);
	/* it is back, and answers (the resends; a first datagram lost) */
	S.peer[B].mode = PEER_ANSWER;
	S.peer[B].drop_first = 1;
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 0), HA_PEERV_CLAIM);
	ck_assert_int_le(S.f.m[B].probe.deadline_ms, 3000 + 200);
	sim_run(&S, 3100);
	ck_assert_int_eq(nact(&S, HA_ACT_SEND, B, 1, 3000, 3005), 1);
	ck_assert_int_eq(S.f.m[B].probe.token == tok || S.f.active == B, 1);
	/* answered 20 ms after the resend: adopted well within oos-force */
	ck_assert_pair(&S, HA_ST_CHECK, B);
	ck_assert_int_le(nth(&S, HA_ACT_SWITCH, 1)->t, 3030);
	ck_assert_int_eq(nth(&S, HA_ACT_SWITCH, 1)->a.reason, HA_RSN_PEER);
	sim_check_counters(&S);
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
	sim_started(&S, 100);
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
	sim_started(&S, 100);
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

/* ---- versions that cannot wrap or be outrun -------------------------- */

/* A local change takes the highest version known plus one, but at
 * UINT64_MAX it stays there: it never wraps to 0, which every peer would
 * take as stale. It is still at least as new as any peer's version, the
 * tie broken by origin as any other. */
START_TEST(local_change_saturates_at_uint64_max)
{
	int n;

	sim_started(&S, 100);
	/* a version near the top, taken from peers in steps within range */
	S.f.version = UINT64_MAX - HA_VERSION_LEAP_MAX - 2;
	S.f.version_seen = S.f.version;
	ck_assert_int_eq(
			sim_peer(&S, P, UINT64_MAX - 2, "sip:peer", 1), HA_PEERV_AGREE);
	ck_assert_uint_eq(S.f.version, UINT64_MAX - 2);
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	ck_assert_uint_eq(S.f.version, UINT64_MAX - 1);
	ck_assert_int_eq(sim_switch(&S, P, HA_RSN_MANUAL, &n), 1);
	ck_assert_uint_eq(S.f.version, UINT64_MAX);
	ck_assert_str_eq(S.f.origin, "");
	/* the operator's next switchover: UINT64_MAX again, not 0 */
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	ck_assert_uint_eq(S.f.version, UINT64_MAX);
	ck_assert_uint_eq(nth(&S, HA_ACT_SWITCH, 3)->a.version, UINT64_MAX);
	ck_assert_int_eq(sim_switch(&S, P, HA_RSN_MANUAL, &n), 1);
	ck_assert_uint_eq(S.f.version, UINT64_MAX);
	ck_assert_uint_eq(nth(&S, HA_ACT_SWITCH, 4)->a.version, UINT64_MAX);
	/* as new as a peer's UINT64_MAX: the greater origin wins ("sip:self"
	 * stands for this proxy's) */
	ck_assert_int_eq(
			sim_peer(&S, B, UINT64_MAX, "sip:peer", 1), HA_PEERV_STALE);
	ck_assert_int_eq(
			sim_peer(&S, B, UINT64_MAX - 1, "sip:zzz", 1), HA_PEERV_STALE);
	ck_assert_int_eq(S.f.claim, HA_ROLE_NONE);
	ck_assert_int_eq(S.f.peer_out_of_range, 0);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	sim_check_counters(&S);
}
END_TEST

/* The same from a version only seen (a refused claim's): the local change
 * takes it, at most UINT64_MAX. */
START_TEST(local_change_saturates_from_version_seen)
{
	int n;

	sim_default(&S);
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 6000);
	S.f.version_seen = UINT64_MAX - 1;
	/* no overflow: known UINT64_MAX - 1, the peer's UINT64_MAX is 1 above */
	ck_assert_int_eq(
			sim_peer(&S, B, UINT64_MAX, "sip:peer", 1), HA_PEERV_CLAIM);
	sim_at(&S, S.now);
	sim_run(&S, 7000);
	ck_assert_int_eq(S.f.peer_refused, 1);
	ck_assert_uint_eq(S.f.version, 0);
	ck_assert_uint_eq(S.f.version_seen, UINT64_MAX);
	S.peer[B].mode = PEER_ANSWER;
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	ck_assert_uint_eq(S.f.version, UINT64_MAX);
	/* the local change ends the record, as any local change does */
	ck_assert_int_eq(S.f.disagree, 0);
	ck_assert_int_eq(ha_fsm_claim_tries_left(&S.f), 0);
	sim_check_counters(&S);
}
END_TEST

/* A peer's version more than 2^32 above the highest this proxy knows (its
 * own or seen) is refused before anything: no version seen, no record, no
 * claim, only counted. Exactly 2^32 above is taken. */
START_TEST(peer_version_out_of_range_refused)
{
	ha_fsm_t before;

	sim_default(&S);
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 6000);
	/* from the pair's own version (0) */
	before = S.f;
	ck_assert_int_eq(sim_peer(&S, B, HA_VERSION_LEAP_MAX + 1, "sip:peer", 1),
			HA_PEERV_RANGE);
	ck_assert_int_eq(
			sim_peer(&S, P, UINT64_MAX, "sip:peer", 0), HA_PEERV_RANGE);
	ck_assert_uint_eq(S.f.peer_out_of_range, 2);
	ck_assert_uint_eq(S.f.peer_received, before.peer_received + 2);
	before.peer_out_of_range = 2;
	before.peer_received += 2;
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(sim_peer(&S, P, HA_VERSION_LEAP_MAX, "sip:peer", 1),
			HA_PEERV_AGREE);
	ck_assert_uint_eq(S.f.version, HA_VERSION_LEAP_MAX);
	/* from the highest version seen: a refused claim's (2^33) */
	ck_assert_int_eq(sim_peer(&S, B, 2 * HA_VERSION_LEAP_MAX, "sip:peer", 1),
			HA_PEERV_CLAIM);
	sim_at(&S, S.now);
	sim_run(&S, 7000);
	ck_assert_int_eq(S.f.peer_refused, 1);
	ck_assert_int_eq(S.f.disagree, 1);
	ck_assert_uint_eq(S.f.version_seen, 2 * HA_VERSION_LEAP_MAX);
	before = S.f;
	ck_assert_int_eq(sim_peer(&S, B, 3 * HA_VERSION_LEAP_MAX + 1, "sip:x", 1),
			HA_PEERV_RANGE);
	before.peer_out_of_range++;
	before.peer_received++;
	ck_assert_unchanged(before, &S);
	ck_assert_uint_eq(S.f.disagree_version, 2 * HA_VERSION_LEAP_MAX);
	ck_assert_int_eq(sim_peer(&S, B, 3 * HA_VERSION_LEAP_MAX, "sip:x", 1),
			HA_PEERV_CLAIM);
	sim_at(&S, S.now);
	/* near the top, nothing overflows: 2^32 above UINT64_MAX - 2^32 - 1 is
	 * UINT64_MAX - 1 */
	S.f.version_seen = UINT64_MAX - HA_VERSION_LEAP_MAX - 1;
	ck_assert_int_eq(sim_peer(&S, B, UINT64_MAX, "sip:x", 1), HA_PEERV_RANGE);
	/* in range: the pending claim for the backup (3 * 2^32) takes it */
	ck_assert_int_eq(
			sim_peer(&S, B, UINT64_MAX - 1, "sip:x", 1), HA_PEERV_PENDING);
	ck_assert_uint_eq(S.f.claim_version, UINT64_MAX - 1);
	/* out of range is no answer to the start-up sync */
	ha_fsm_sync_begin(&S.f, S.now + 1000);
	ck_assert_int_eq(ha_fsm_sync_answer(&S.f, HA_PEERV_RANGE), 0);
	ck_assert_int_eq(S.f.syncing, 1);
}
END_TEST

/* ---- bounded retries of a refused claim ------------------------------ */

/* A refused newer version is tried again claim_retries times in all:
 * the retries every oos-check and the messages that name it again
 * together. Then it is still reported, but no probe is spent on it, and
 * its member answering later (a forged claim's member, months later) moves
 * nothing. A new newer version is a claim of its own: its tries start
 * afresh. */
START_TEST(refused_claim_retried_claim_retries_times_in_all)
{
	sim_default(&S);
	S.cfg.claim_retries = 5;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 6000);
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 1), HA_PEERV_CLAIM);
	sim_at(&S, S.now);
	ck_assert_int_eq(ha_fsm_claim_tries_left(&S.f), 0); /* none recorded */
	sim_run(&S, 7000);
	ck_assert_int_eq(S.f.peer_refused, 1);
	ck_assert_int_eq(ha_fsm_claim_tries_left(&S.f), 5);
	/* timer retries at 11000 and 16000 */
	sim_run(&S, 18000);
	ck_assert_int_eq(ha_fsm_claim_tries_left(&S.f), 3);
	/* a periodic broadcast names it again: one try more */
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 0), HA_PEERV_CLAIM);
	sim_at(&S, S.now);
	ck_assert_int_eq(ha_fsm_claim_tries_left(&S.f), 2);
	/* the timer's next one an oos-check after that try: 23000 */
	sim_run(&S, 24500);
	ck_assert_int_eq(ha_fsm_claim_tries_left(&S.f), 1);
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 0), HA_PEERV_CLAIM);
	sim_at(&S, S.now);
	ck_assert_int_eq(ha_fsm_claim_tries_left(&S.f), 0);
	sim_run(&S, 26000);
	ck_assert_sends(
			&S, B, 0, 1, 26000, 6000, 11000, 16000, 18000, 23000, 24500);
	ck_assert_int_eq(S.f.peer_retries, 5);
	/* spent: no timer retry, a repeat is stale and costs no probe */
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 0), HA_PEERV_STALE);
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 1), HA_PEERV_STALE);
	sim_run(&S, 60000);
	ck_assert_sends(&S, B, 0, 24501, 60000);
	ck_assert_int_eq(S.f.peer_retries, 5);
	ck_assert_int_eq(S.f.peer_refused, 1);
	/* still reported */
	ck_assert_int_eq(S.f.disagree, 1);
	ck_assert_int_eq(S.f.disagree_newer, 1);
	ck_assert_int_eq(S.f.disagree_version, 1);
	/* its member answers from now on: nothing moves */
	sim_revive(&S, B, 20);
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 0), HA_PEERV_STALE);
	sim_run(&S, 120000);
	ck_assert_sends(&S, B, 0, 24501, 120000);
	ck_assert_pair(&S, HA_ST_CHECK, P);
	ck_assert_int_eq(nev(&S, HA_ACT_SWITCH), 1);
	/* a new newer version: its own claim, refused, its tries afresh */
	sim_kill(&S, B);
	ck_assert_int_eq(sim_peer(&S, B, 2, "sip:peer", 1), HA_PEERV_CLAIM);
	sim_at(&S, S.now);
	sim_run(&S, 121000);
	ck_assert_int_eq(S.f.peer_refused, 2);
	ck_assert_int_eq(S.f.disagree_version, 2);
	ck_assert_int_eq(ha_fsm_claim_tries_left(&S.f), 5);
	sim_run(&S, 200000);
	ck_assert_sends(&S, B, 0, 120000, 200000, 120000, 125000, 130000, 135000,
			140000, 145000);
	ck_assert_int_eq(S.f.peer_retries, 10);
	ck_assert_int_eq(ha_fsm_claim_tries_left(&S.f), 0);
	sim_check_counters(&S);
}
END_TEST

/* claim_retries 0: a refused newer version is never tried again, by the
 * timer or by a message naming it again. */
START_TEST(claim_retries_zero_never_retries)
{
	sim_default(&S);
	S.cfg.claim_retries = 0;
	S.peer[B].mode = PEER_SILENT;
	sim_start(&S, 0);
	sim_run(&S, 6000);
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 1), HA_PEERV_CLAIM);
	sim_at(&S, S.now);
	sim_run(&S, 7000);
	ck_assert_int_eq(S.f.peer_refused, 1);
	ck_assert_int_eq(S.f.disagree, 1);
	ck_assert_int_eq(ha_fsm_claim_tries_left(&S.f), 0);
	ck_assert_int_eq(sim_peer(&S, B, 1, "sip:peer", 0), HA_PEERV_STALE);
	sim_run(&S, 60000);
	ck_assert_sends(&S, B, 0, 6001, 60000);
	ck_assert_int_eq(S.f.peer_retries, 0);
	ck_assert_int_eq(S.f.disagree, 1);
}
END_TEST

/* ---- answers to stale changes ---------------------------------------- */

/* A stale (or held) change is answered at most once per pair per
 * oos-check: a flood of them costs one answer each 5 s here. */
START_TEST(stale_change_answered_once_per_oos_check)
{
	ha_fsm_t before;
	int n;

	sim_started(&S, 100);
	ck_assert_int_eq(sim_switch(&S, B, HA_RSN_MANUAL, &n), 1);
	ck_assert_int_eq(sim_peer(&S, P, 0, "sip:peer", 1), HA_PEERV_STALE);
	ck_assert_int_eq(ha_fsm_answer_due(&S.f, 100), 1);
	sim_run(&S, 110);
	ck_assert_int_eq(sim_peer(&S, P, 0, "sip:peer", 1), HA_PEERV_STALE);
	before = S.f;
	ck_assert_int_eq(ha_fsm_answer_due(&S.f, 110), 0);
	ck_assert_unchanged(before, &S);
	ck_assert_int_eq(ha_fsm_answer_due(&S.f, 100 + 4999), 0);
	/* an oos-check after the answer: due again */
	ck_assert_int_eq(ha_fsm_answer_due(&S.f, 100 + 5000), 1);
	ck_assert_int_eq(ha_fsm_answer_due(&S.f, 100 + 5001), 0);
	/* a held pair's refusals share the same budget */
	sim_run(&S, 6000);
	ha_fsm_hold(&S.f, 1);
	ck_assert_int_eq(sim_peer(&S, P, 7, "sip:peer", 1), HA_PEERV_HELD);
	ck_assert_int_eq(ha_fsm_answer_due(&S.f, 6000), 0);
	ck_assert_int_eq(ha_fsm_answer_due(&S.f, 10100), 1);
}
END_TEST

/* ---- disagreement and partitions ------------------------------------- */

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

	sim_started(&S, 100);
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
	sim_started(&S, 100);
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
	sim_started(&S, 30000);
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
			if((v == HA_PEERV_STALE || v == HA_PEERV_HELD) && msg.change
					&& ha_fsm_answer_due(&s->f, t))
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

Suite *ha_fsm_pool_suite(void)
{
	Suite *s = suite_create("ha_fsm_pool");
	TCase *tc;

	tc = sim_tcase("versions_and_changes");
	tcase_add_test(tc, version_order_is_number_then_origin);
	tcase_add_test(tc, local_change_takes_highest_version_seen_plus_one);
	tcase_add_test(tc, peer_change_adopted_once_its_member_answers);
	tcase_add_test(tc, peer_change_refused_when_its_member_is_silent);
	tcase_add_test(tc, peer_claim_brings_probe_in_flight_within_oos_force);
	tcase_add_test(
			tc, claim_ticked_with_an_earlier_clock_ends_within_oos_force);
	tcase_add_test(tc, claim_on_an_old_udp_probe_resends_it_at_once);
	tcase_add_test(tc, peer_state_refused_is_answered_once);
	tcase_add_test(tc, peer_ties_broken_by_origin);
	tcase_add_test(tc, peer_change_beaten_by_a_local_change_meanwhile);
	tcase_add_test(tc, peer_change_while_held_is_refused_without_probe);
	tcase_add_test(tc, peer_change_during_force_adopted_when_member_answers);
	suite_add_tcase(s, tc);

	tc = sim_tcase("disagreement");
	tcase_add_test(tc, refused_newer_change_retried_every_oos_check);
	tcase_add_test(tc, stale_state_naming_another_member_is_recorded);
	tcase_add_test(tc, held_refusal_retried_once_released);
	tcase_add_test(tc, retries_end_when_a_newer_version_agrees);
	tcase_add_test(tc, state_after_a_lost_change_is_adopted_once_confirmed);
	tcase_add_test(tc, partition_each_keeps_its_member_then_converges);
	suite_add_tcase(s, tc);

	tc = sim_tcase("bounds");
	tcase_add_test(tc, local_change_saturates_at_uint64_max);
	tcase_add_test(tc, local_change_saturates_from_version_seen);
	tcase_add_test(tc, peer_version_out_of_range_refused);
	tcase_add_test(tc, refused_claim_retried_claim_retries_times_in_all);
	tcase_add_test(tc, claim_retries_zero_never_retries);
	tcase_add_test(tc, stale_change_answered_once_per_oos_check);
	suite_add_tcase(s, tc);
	return s;
}
