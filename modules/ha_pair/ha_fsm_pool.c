/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_fsm_pool.c - pool replication in the pure state machine of ha_pair:
 * the versions of changes and their order, peers' changes and claims, the
 * disagreement and its retries, the start-up sync. */

#include <string.h>
#include <stdint.h>
#include <stdio.h>

#include "ha_fsm.h"
#include "ha_fsm_int.h"

int ha_ver_cmp(uint64_t an, const char *ao, uint64_t bn, const char *bo)
{
	int c;

	if(an != bn)
		return an < bn ? -1 : 1;
	c = strcmp(ao, bo);
	return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

/* Copy the string s into a field of HA_ORIGIN_MAX, cut if longer. */
static void origin_set(char *dst, const char *s)
{
	snprintf(dst, HA_ORIGIN_MAX, "%s", s);
}

/* Is the peer's version (v, o), newer than the pair's version when it
 * came, still newer? A local change since then took a number above it (v
 * was seen); an equal number with an empty origin is the local version it
 * beat; an equal one from a peer is ordered by origin. */
static int still_newer(const ha_fsm_t *f, uint64_t v, const char *o)
{
	if(v != f->version)
		return v > f->version;
	if(f->origin[0] == '\0')
		return 1;
	return strcmp(o, f->origin) > 0;
}

static int claim_still_newer(const ha_fsm_t *f)
{
	return still_newer(f, f->claim_version, f->claim_origin);
}

/* Is the recorded disagreement about member m at version (v, o)? */
static int disagree_is(
		const ha_fsm_t *f, ha_role_t m, uint64_t v, const char *o)
{
	return f->disagree && f->disagree_member == m && f->disagree_version == v
		   && strcmp(f->disagree_origin, o) == 0;
}

/* Record that a peer names member m at version (v, o), newer (1) or not
 * (0) than the pair's version. A newer record is replaced only by a newer
 * one of a newer version, never by an older one: the newest view is the
 * one to retry. */
static void disagree_note(
		ha_fsm_t *f, ha_role_t m, uint64_t v, const char *o, int newer)
{
	if(f->disagree) {
		if(f->disagree_newer && !newer)
			return;
		if(f->disagree_newer == newer
				&& ha_ver_cmp(v, o, f->disagree_version, f->disagree_origin)
						   <= 0)
			return;
	}
	f->disagree = 1;
	f->disagree_newer = newer;
	f->disagree_member = m;
	f->disagree_version = v;
	origin_set(f->disagree_origin, o);
	/* another version: a claim of its own, with all its tries (a repeat
	 * of the recorded one returned above and spends them) */
	f->disagree_tries = newer ? f->cfg.claim_retries : 0;
}

/* Spend one try of the recorded newer disagreement. Returns 1, or 0 when
 * none is left (nothing changed). */
static int disagree_try(ha_fsm_t *f)
{
	if(f->disagree_tries <= 0)
		return 0;
	f->disagree_tries--;
	f->peer_retries++;
	return 1;
}

/* The pair's version changed (f->origin set for a peer's, empty for a
 * local one): a disagreement that is not newer than it is over. A local
 * version is above every number seen, so above any recorded: the peers
 * get it, and a peer that refuses it answers anew. */
static void disagree_recheck(ha_fsm_t *f)
{
	if(!f->disagree)
		return;
	if(f->origin[0] == '\0'
			|| ha_ver_cmp(f->disagree_version, f->disagree_origin, f->version,
					   f->origin)
					   <= 0)
		f->disagree = 0;
}

void ha_fsm_version_switch(ha_fsm_t *f, ha_reason_t reason)
{
	if(reason == HA_RSN_PEER) {
		f->version = f->claim_version;
		memcpy(f->origin, f->claim_origin, sizeof(f->origin));
	} else {
		/* a local change: newer than any version seen; at UINT64_MAX it
		 * stays there rather than wrap to 0, which every peer would take
		 * as stale (only a forged version gets there: out-of-range ones
		 * are refused, ha_fsm_peer()) */
		if(f->version_seen > f->version)
			f->version = f->version_seen;
		if(f->version < UINT64_MAX)
			f->version++;
		f->origin[0] = '\0';
	}
	disagree_recheck(f);
}

int ha_fsm_peer_claim_alive(ha_fsm_t *f, ha_role_t m, ha_actions_t *out)
{
	/* a peer's change, confirmed: adopted, unless a newer version came
	 * meanwhile */
	f->claim = HA_ROLE_NONE;
	f->claim_peer = 0;
	if(f->held || !claim_still_newer(f)) {
		f->peer_stale++;
		return 0;
	}
	/* refused before: the peer recorded this proxy's state as a
	 * disagreement; the state it gets now ends it there */
	if(disagree_is(f, m, f->claim_version, f->claim_origin))
		memcpy(out->answer_to, f->claim_origin, sizeof(out->answer_to));
	if(f->state != HA_ST_CHECK || f->active != m) {
		f->peer_adopted++;
		out->peer_adopted++;
		return 1;
	}
	/* this proxy is on that member already (its own probing found it
	 * meanwhile): the views agree, the version is taken */
	f->peer_agreed++;
	out->peer_agreed++;
	f->version = f->claim_version;
	memcpy(f->origin, f->claim_origin, sizeof(f->origin));
	disagree_recheck(f);
	return 0;
}

void ha_fsm_peer_claim_silent(
		ha_fsm_t *f, ha_role_t m, int64_t now, ha_actions_t *out)
{
	/* a peer's change whose member does not answer this proxy: keep the
	 * own view, say so, and answer the peer (once per version: a retry, or
	 * the same state again, is no new refusal) */
	f->claim = HA_ROLE_NONE;
	f->claim_peer = 0;
	if(!claim_still_newer(f)) {
		f->peer_stale++; /* a local change beat it meanwhile */
	} else {
		if(!disagree_is(f, m, f->claim_version, f->claim_origin)) {
			f->peer_refused++;
			out->peer_refused++;
			memcpy(out->answer_to, f->claim_origin, sizeof(out->answer_to));
		}
		disagree_note(f, m, f->claim_version, f->claim_origin, 1);
	}
	/* the newest view is tried again an oos-check after this try */
	if(f->disagree && f->disagree_newer) {
		f->disagree_retry_ms = f->claim_ms + f->cfg.oos_check_ms;
		if(f->disagree_retry_ms < now)
			f->disagree_retry_ms = now;
	}
}

/* Not while held, nor while a claim is pending (the retry is tried after
 * that one), nor once its tries are spent. */
int ha_fsm_retry_at(const ha_fsm_t *f, int64_t *at)
{
	if(!f->disagree || !f->disagree_newer || f->held || f->claim != HA_ROLE_NONE
			|| f->disagree_tries <= 0)
		return 0;
	*at = f->disagree_retry_ms;
	return 1;
}

void ha_fsm_retry_tick(ha_fsm_t *f, int64_t now)
{
	int64_t at;

	/* a refused newer version: its member may answer now (a partition
	 * healed); try it again as a claim */
	if(!ha_fsm_retry_at(f, &at) || now < at || !disagree_try(f))
		return;
	f->claim = f->disagree_member;
	f->claim_ms = now;
	f->claim_peer = 1;
	f->claim_version = f->disagree_version;
	memcpy(f->claim_origin, f->disagree_origin, sizeof(f->claim_origin));
	f->claim_sent = 0;
	/* the next one, should this one fail too; its probe decides */
	f->disagree_retry_ms = now + f->cfg.oos_check_ms;
	if(f->m[f->claim].probe.token != 0) {
		f->claim_sent = 1;
		ha_fsm_probe_within_force(f, f->claim, now);
	}
}

/* Is a peer's version within HA_VERSION_LEAP_MAX of the highest this
 * proxy knows (its own or seen)? Written so that nothing overflows near
 * UINT64_MAX. */
static int version_in_range(const ha_fsm_t *f, uint64_t version)
{
	uint64_t known =
			f->version > f->version_seen ? f->version : f->version_seen;

	return version <= known || version - known <= HA_VERSION_LEAP_MAX;
}

/* A peer's version (version, origin) not newer than the pair's (cmp <= 0
 * against it): always stale, but it may end or record a disagreement. */
static ha_peer_verdict_t peer_not_newer(ha_fsm_t *f, ha_role_t m,
		uint64_t version, const char *origin, int change, int cmp)
{
	if(f->state == HA_ST_CHECK && f->active == m) {
		/* the peer has this version: the views agree, unless a newer one
		 * is still to be tried here */
		if(cmp == 0 && f->disagree && !f->disagree_newer)
			f->disagree = 0;
	} else if(!change && f->state == HA_ST_CHECK) {
		/* a peer's state (its answer to a change of this proxy's it
		 * refused) names another member: it is behind, and says so */
		disagree_note(f, m, version, origin, 0);
	}
	f->peer_stale++;
	return HA_PEERV_STALE;
}

/* A newer peer version naming member m, not the active one: it is
 * confirmed by a probe of m (a claim made, or a pending one taken over). */
static ha_peer_verdict_t peer_claim(ha_fsm_t *f, ha_role_t m, uint64_t version,
		const char *origin, int64_t now)
{
	/* the refused newer version again (the peer's periodic broadcast,
	 * another peer's sync answer): one more try of it, as its retries are
	 * (its member may serve again), counted with them and spending their
	 * tries; a failure is no new refusal. With none left it is a repeat
	 * of a refused one: stale, no probe (so a forged claim is not adopted
	 * whenever its member answers, months later) */
	if(f->disagree && f->disagree_newer && disagree_is(f, m, version, origin)
			&& !disagree_try(f)) {
		f->peer_stale++;
		return HA_PEERV_STALE;
	}
	f->claim_version = version;
	origin_set(f->claim_origin, origin);
	if(f->claim == m) {
		/* one probe serves: the claim becomes the peer's */
		f->claim_peer = 1;
		return HA_PEERV_PENDING;
	}
	ha_fsm_claim_start(f, m, 1, now);
	return HA_PEERV_CLAIM;
}

ha_peer_verdict_t ha_fsm_peer(ha_fsm_t *f, ha_role_t m, uint64_t version,
		const char *origin, const char *self, int change, int64_t now)
{
	const char *cur = f->origin[0] != '\0' ? f->origin : self;
	int cmp;

	if(m != HA_ROLE_PRIMARY && m != HA_ROLE_BACKUP)
		return HA_PEERV_BAD;
	f->peer_received++;
	if(!version_in_range(f, version)) {
		f->peer_out_of_range++;
		return HA_PEERV_RANGE;
	}
	if(version > f->version_seen)
		f->version_seen = version;
	cmp = ha_ver_cmp(version, origin, f->version, cur);
	if(cmp <= 0)
		return peer_not_newer(f, m, version, origin, change, cmp);
	if(f->claim != HA_ROLE_NONE && f->claim_peer
			&& ha_ver_cmp(version, origin, f->claim_version, f->claim_origin)
					   <= 0) {
		f->peer_stale++;
		return HA_PEERV_STALE; /* a newer claim is being confirmed */
	}
	if(f->state == HA_ST_CHECK && f->active == m) {
		/* the same view, newer: nothing to confirm */
		f->version = version;
		origin_set(f->origin, origin);
		disagree_recheck(f); /* the peer names the member active here */
		f->peer_agreed++;
		return HA_PEERV_AGREE;
	}
	if(f->held) {
		if(disagree_is(f, m, version, origin)) {
			f->peer_stale++; /* refused already */
			return HA_PEERV_STALE;
		}
		f->peer_refused++;
		disagree_note(f, m, version, origin, 1);
		f->disagree_retry_ms = now + f->cfg.oos_check_ms;
		return HA_PEERV_HELD;
	}
	return peer_claim(f, m, version, origin, now);
}

int ha_fsm_claim_tries_left(const ha_fsm_t *f)
{
	return f->disagree && f->disagree_newer ? f->disagree_tries : 0;
}

int ha_fsm_answer_due(ha_fsm_t *f, int64_t now)
{
	if(f->answer_ms >= 0 && now - f->answer_ms < f->cfg.oos_check_ms)
		return 0;
	f->answer_ms = now;
	return 1;
}

/* The start-up sync ends now (see ha_fsm_sync_begin()). */
static void sync_end(ha_fsm_t *f, ha_actions_t *out)
{
	f->syncing = 0;
	f->sync_claim = 0;
	if(out != NULL)
		out->synced = 1;
}

void ha_fsm_sync_check(ha_fsm_t *f, int64_t now, ha_actions_t *out)
{
	if(!f->syncing)
		return;
	if(now >= f->sync_until_ms
			|| (f->sync_claim && (f->claim == HA_ROLE_NONE || !f->claim_peer)))
		sync_end(f, out);
}

void ha_fsm_sync_begin(ha_fsm_t *f, int64_t until)
{
	f->syncing = 1;
	f->sync_claim = 0;
	f->sync_until_ms = until;
}

int ha_fsm_sync_answer(ha_fsm_t *f, ha_peer_verdict_t v)
{
	if(!f->syncing || v == HA_PEERV_BAD || v == HA_PEERV_RANGE)
		return 0; /* no member named, or nothing read: no answer */
	if(v == HA_PEERV_CLAIM || v == HA_PEERV_PENDING) {
		/* its probe decides: the claim's end ends the sync */
		f->sync_claim = 1;
		return 0;
	}
	if(f->sync_claim)
		return 0; /* another answer's claim is still being confirmed */
	sync_end(f, NULL);
	return 1;
}

int ha_fsm_sync_done(ha_fsm_t *f)
{
	if(!f->syncing || f->sync_claim)
		return 0;
	sync_end(f, NULL);
	return 1;
}
