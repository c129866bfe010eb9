/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_rpc.c - RPC commands of ha_pair (kamcmd / jsonrpcs). */

#include <string.h>

#include "../../core/rpc.h"
#include "../../core/rpc_lookup.h"
#include "../../core/dprint.h"

#include "ha_rpc.h"
#include "ha_actions.h"
#include "ha_config.h"
#include "ha_dmq.h"
#include "ha_dmq_sec.h"
#include "ha_fsm.h"
#include "ha_pair.h"
#include "ha_route.h"
#include "ha_sched.h"
#include "ha_seal.h"
#include "ha_store.h"
#include "ha_table.h"
#include "ha_time.h"

/* How long ago member role of f's last probe ended (answered, or failed:
 * no alive answer by its deadline, a send failure), in ms; -1: none has
 * ended yet. */
static int64_t member_probe_ago(const ha_fsm_t *f, int role, int64_t now)
{
	int64_t last = f->m[role].last_ok_ms;

	if(f->m[role].last_fail_ms > last)
		last = f->m[role].last_fail_ms;
	return last < 0 ? -1 : now - last;
}

/* The state to show for member role of f, whose last probe ended ago ms
 * ago: what that probe found while it is current, "unknown" once it is
 * older than a member probed on schedule ever lets it get (oos-check from
 * one probe to the next, plus oos-force for the next one to end): a
 * standby not probed (probe_standby 0) is not shown as up or down from a
 * probe made long ago. */
static const char *member_state_name(const ha_fsm_t *f, int role, int64_t ago)
{
	if(ago < 0 || ago > (int64_t)f->cfg.oos_check_ms + f->cfg.oos_force_ms)
		return ha_mstate_names[HA_MS_UNKNOWN];
	return ha_mstate_names[f->m[role].state];
}

/* The pool's fields of a pair whose state is f (enable_dmq): the version
 * of its active member and who made it, any disagreement with a peer,
 * and what became of the peers' changes. Returns 0, or -1. */
static int rpc_add_pool(rpc_t *rpc, void *rpl, const ha_fsm_t *f)
{
	if(rpc->struct_add(rpl, "jss", "version", (unsigned long)f->version,
			   "last_switchover_from",
			   f->origin[0] != '\0' ? f->origin : "local", "disagreement",
			   f->disagree ? "yes" : "no")
			< 0)
		return -1;
	/* waiting for the pool's answer at start-up (requests wait) */
	if(rpc->struct_add(rpl, "s", "syncing", f->syncing ? "yes" : "no") < 0)
		return -1;
	if(f->disagree
			&& rpc->struct_add(rpl, "sjs", "disagreement_member",
					   ha_role_name(f->disagree_member), "disagreement_version",
					   (unsigned long)f->disagree_version, "disagreement_from",
					   f->disagree_origin)
					   < 0)
		return -1;
	if(rpc->struct_add(rpl, "jjjjjj", "peer_received",
			   (unsigned long)f->peer_received, "peer_adopted",
			   (unsigned long)f->peer_adopted, "peer_agreed",
			   (unsigned long)f->peer_agreed, "peer_refused",
			   (unsigned long)f->peer_refused, "peer_stale",
			   (unsigned long)f->peer_stale, "peer_retries",
			   (unsigned long)f->peer_retries)
			< 0)
		return -1;
	if(rpc->struct_add(rpl, "dj", "claim_tries_left",
			   ha_fsm_claim_tries_left(f), "peer_out_of_range",
			   (unsigned long)f->peer_out_of_range)
			< 0)
		return -1;
	return 0;
}

/* Add pair p to the reply as a struct. The state is copied under the
 * pair's lock and printed after it is released, so a slow RPC client never
 * holds up probing or routing. Returns 0, or -1 when the reply is full. */
static int rpc_add_pair(rpc_t *rpc, void *ctx, ha_pair_t *p)
{
	ha_fsm_t f;
	void *rpl, *arr, *ms;
	uint64_t waited, wait_timeouts, wait_rejected;
	int64_t now, ago;
	int i, nwait;

	lock_get(&p->st->lock);
	f = p->st->fsm;
	nwait = p->st->nwait;
	waited = p->st->waited;
	wait_timeouts = p->st->wait_timeouts;
	wait_rejected = p->st->wait_rejected;
	lock_release(&p->st->lock);
	now = ha_now_ms();

	if(rpc->add(ctx, "{", &rpl) < 0)
		return -1;
	if(rpc->struct_add(rpl, "Sss", "name", &p->name, "state",
			   ha_state_names[f.state], "active", ha_role_name(f.active))
			< 0)
		return -1;
	if(f.active != HA_ROLE_NONE) {
		if(rpc->struct_add(rpl, "S", "active_uri", &p->m[f.active].uri) < 0)
			return -1;
	} else if(rpc->struct_add(rpl, "s", "active_uri", "") < 0) {
		return -1;
	}
	/* its own member-trust, else the module's: what a forged UDP request
	 * from a member's address may do to it */
	if(rpc->struct_add(rpl, "s", "member_trust", ha_pair_trust_name(p)) < 0)
		return -1;
	if(rpc->struct_add(rpl, "ddjs", "oos_check", f.cfg.oos_check_ms,
			   "oos_force", f.cfg.oos_force_ms, "switchovers",
			   (unsigned long)f.switchovers, "last_switchover_reason",
			   ha_reason_names[f.last_reason])
			< 0)
		return -1;
	/* a pair's start counts as its first switch: never negative */
	if(rpc->struct_add(rpl, "jd", "last_switchover_ago_ms",
			   (unsigned long)(now - f.last_switch_ms), "held", f.held)
			< 0)
		return -1;
	if(rpc->struct_add(rpl, "sjj", "claim", ha_role_name(f.claim),
			   "claims_confirmed", (unsigned long)f.claims_confirmed,
			   "claims_unconfirmed", (unsigned long)f.claims_unconfirmed)
			< 0)
		return -1;
	if(rpc->struct_add(rpl, "jjj", "verifications", (unsigned long)f.verifies,
			   "verify_alive", (unsigned long)f.verify_alive, "verify_silent",
			   (unsigned long)f.verify_silent)
			< 0)
		return -1;
	if(_ha_enable_dmq && rpc_add_pool(rpc, rpl, &f) < 0)
		return -1;
	if(rpc->struct_add(rpl, "djjj", "waiting", nwait, "waited",
			   (unsigned long)waited, "wait_timeouts",
			   (unsigned long)wait_timeouts, "wait_rejected",
			   (unsigned long)wait_rejected)
			< 0)
		return -1;
	if(rpc->struct_add(rpl, "[", "members", &arr) < 0)
		return -1;
	for(i = 0; i < HA_ROLE_COUNT; i++) {
		if(rpc->array_add(arr, "{", &ms) < 0)
			return -1;
		ago = member_probe_ago(&f, i, now);
		if(rpc->struct_add(ms, "sSsslddjjj", "role", ha_role_name(i), "uri",
				   &p->m[i].uri, "state", member_state_name(&f, i, ago),
				   "last_result", ha_mstate_names[f.m[i].state],
				   "last_probe_ago_ms", (long)ago, "last_code",
				   f.m[i].last_code, "last_rtt_ms", f.m[i].last_rtt_ms,
				   "probes_sent", (unsigned long)f.m[i].probes_sent,
				   "probes_unanswered", (unsigned long)f.m[i].probes_unanswered,
				   "probes_resent", (unsigned long)f.m[i].probes_resent)
				< 0)
			return -1;
	}
	return 0;
}

/* The reply could not be built (out of memory in the RPC transport): say
 * so, rather than leave the client with a half reply or none. What the
 * command did stays done. */
static void rpc_reply_failed(rpc_t *rpc, void *ctx)
{
	rpc->fault(ctx, 500, "Cannot build the reply");
}

/* the longest fault text sent: ctl's binrpc drops longer ones (5.6) */
#define HA_RPC_FAULT_MAX 240

/* Arguments are read as strings whatever their type ('.': kamcmd sends
 * 123 as an integer, and a pair may be named 123; a role given as 1 is a
 * bad role, not a missing one). */

/* 1 (after a fault) when an argument is left over: a typo such as
 * "ha_pair.switchover p1 backup now" is refused, not half obeyed. */
static int rpc_extra_arg(rpc_t *rpc, void *ctx, const char *usage)
{
	str x = STR_NULL;

	if(rpc->scan(ctx, "*.S", &x) == 1) {
		rpc->fault(ctx, 400, "Too many arguments ('%.*s'...): %s",
				x.len > 32 ? 32 : x.len, x.s, usage);
		return 1;
	}
	return 0;
}

/* The pair named by the first argument, or NULL after a fault. */
static ha_pair_t *rpc_pair_arg(
		rpc_t *rpc, void *ctx, ha_table_t *t, const char *usage)
{
	ha_pair_t *p;
	str name = STR_NULL;

	if(rpc->scan(ctx, ".S", &name) < 1) {
		rpc->fault(ctx, 400, "Missing pair name: %s", usage);
		return NULL;
	}
	p = ha_table_by_name(t, &name);
	if(p == NULL)
		rpc->fault(ctx, 404, "Unknown pair '%.*s'",
				name.len > HA_NAME_MAX ? HA_NAME_MAX : name.len, name.s);
	return p;
}

static const char *ha_rpc_list_doc[] = {
		"List the pairs, or those whose name starts with the given prefix", 0};

static void ha_rpc_list(rpc_t *rpc, void *ctx, ha_table_t *t)
{
	str prefix = STR_NULL;
	int i;

	if(rpc->scan(ctx, "*.S", &prefix) < 1)
		prefix.len = 0;
	else if(rpc_extra_arg(rpc, ctx, "ha_pair.list [name-prefix]"))
		return;
	if(t == NULL) {
		rpc->fault(ctx, 500, "No pairs loaded");
		return;
	}
	for(i = 0; i < t->npairs; i++) {
		if(prefix.len > 0
				&& (t->pairs[i].name.len < prefix.len
						|| memcmp(t->pairs[i].name.s, prefix.s, prefix.len)
								   != 0))
			continue;
		if(rpc_add_pair(rpc, ctx, &t->pairs[i]) < 0) {
			rpc->fault(ctx, 500,
					"Reply too large: list fewer pairs with a name prefix");
			return;
		}
	}
}

static const char *ha_rpc_show_doc[] = {
		"Show one pair: ha_pair.show <pair>", 0};

static void ha_rpc_show(rpc_t *rpc, void *ctx, ha_table_t *t)
{
	ha_pair_t *p;

	p = rpc_pair_arg(rpc, ctx, t, "ha_pair.show <pair>");
	if(p == NULL || rpc_extra_arg(rpc, ctx, "ha_pair.show <pair>"))
		return;
	if(rpc_add_pair(rpc, ctx, p) < 0)
		rpc_reply_failed(rpc, ctx);
}

static const char *ha_rpc_switchover_doc[] = {
		"Make the other (or the named) member of a pair active now: "
		"ha_pair.switchover <pair> [primary|backup]",
		0};

static void ha_rpc_switchover(rpc_t *rpc, void *ctx, ha_table_t *t)
{
	ha_pair_t *p;
	ha_actions_t acts;
	str rs = STR_NULL;
	ha_role_t role, old;
	ha_state_t state;
	const char *msg;
	void *rpl;
	int rc;

	p = rpc_pair_arg(rpc, ctx, t, "ha_pair.switchover <pair> [primary|backup]");
	if(p == NULL)
		return;
	role = HA_ROLE_NONE;
	if(rpc->scan(ctx, "*.S", &rs) == 1) {
		if(rpc_extra_arg(
				   rpc, ctx, "ha_pair.switchover <pair> [primary|backup]"))
			return;
		if(rs.len == 7 && strncasecmp(rs.s, "primary", 7) == 0)
			role = HA_ROLE_PRIMARY;
		else if(rs.len == 6 && strncasecmp(rs.s, "backup", 6) == 0)
			role = HA_ROLE_BACKUP;
		else {
			rpc->fault(ctx, 400, "Bad role '%.*s': primary or backup",
					rs.len > 32 ? 32 : rs.len, rs.s);
			return;
		}
	}

	ha_actions_reset(&acts);
	lock_get(&p->st->lock);
	state = p->st->fsm.state;
	old = p->st->fsm.active;
	rc = 0;
	if(role == HA_ROLE_NONE && state == HA_ST_CHECK)
		role = old == HA_ROLE_PRIMARY ? HA_ROLE_BACKUP : HA_ROLE_PRIMARY;
	if(role != HA_ROLE_NONE) {
		rc = ha_fsm_switch(
				&p->st->fsm, role, HA_RSN_MANUAL, ha_now_ms(), &acts);
		ha_sched_update(p);
	}
	lock_release(&p->st->lock);
	ha_actions_run(p, &acts);

	if(role == HA_ROLE_NONE) {
		rpc->fault(ctx, 409,
				"Pair '%.*s' has no active member (FORCE): name the member, "
				"primary or backup",
				p->name.len, p->name.s);
		return;
	}
	msg = rc == 1 ? "switched; the new active member is probed now"
				  : "already the active member: nothing changed";
	if(rpc->add(ctx, "{", &rpl) < 0
			|| rpc->struct_add(rpl, "Sssds", "name", &p->name, "old",
					   ha_role_name(old), "new", ha_role_name(role), "changed",
					   rc == 1, "message", msg)
					   < 0)
		rpc_reply_failed(rpc, ctx);
}

static const char *ha_rpc_hold_doc[] = {
		"Maintenance hold: pin the active member of a pair (no automatic "
		"switchover; probing goes on): ha_pair.hold <pair> [on|off]",
		0};

static void ha_rpc_hold(rpc_t *rpc, void *ctx, ha_table_t *t)
{
	ha_pair_t *p;
	str v = STR_NULL;
	int on = 1, was;
	void *rpl;

	p = rpc_pair_arg(rpc, ctx, t, "ha_pair.hold <pair> [on|off]");
	if(p == NULL)
		return;
	if(rpc->scan(ctx, "*.S", &v) == 1) {
		if(rpc_extra_arg(rpc, ctx, "ha_pair.hold <pair> [on|off]"))
			return;
		if(v.len == 2 && strncasecmp(v.s, "on", 2) == 0)
			on = 1;
		else if(v.len == 3 && strncasecmp(v.s, "off", 3) == 0)
			on = 0;
		else {
			rpc->fault(ctx, 400, "Bad value '%.*s': on or off",
					v.len > 32 ? 32 : v.len, v.s);
			return;
		}
	}
	lock_get(&p->st->lock);
	was = p->st->fsm.held;
	ha_fsm_hold(&p->st->fsm, on);
	ha_sched_update(p);
	lock_release(&p->st->lock);
	if(was != on)
		LM_NOTICE("pair '%.*s': maintenance hold %s\n", p->name.len, p->name.s,
				on ? "on" : "off");
	if(rpc->add(ctx, "{", &rpl) < 0
			|| rpc->struct_add(rpl, "Sdd", "name", &p->name, "held", on,
					   "changed", was != on)
					   < 0)
		rpc_reply_failed(rpc, ctx);
}

static const char *ha_rpc_probe_doc[] = {
		"Probe the members of a pair now, outside the schedule: "
		"ha_pair.probe <pair>",
		0};

static void ha_rpc_probe(rpc_t *rpc, void *ctx, ha_table_t *t)
{
	ha_pair_t *p;
	ha_state_t state;
	const char *msg;
	void *rpl;

	p = rpc_pair_arg(rpc, ctx, t, "ha_pair.probe <pair>");
	if(p == NULL || rpc_extra_arg(rpc, ctx, "ha_pair.probe <pair>"))
		return;
	lock_get(&p->st->lock);
	ha_fsm_probe_now(&p->st->fsm, ha_now_ms());
	state = p->st->fsm.state;
	ha_sched_update(p);
	lock_release(&p->st->lock);
	msg = state == HA_ST_CHECK
				  ? "probing both members now; see ha_pair.show"
				  : "FORCE: the next attempt starts now; see ha_pair.show";
	if(rpc->add(ctx, "{", &rpl) < 0
			|| rpc->struct_add(rpl, "Ss", "name", &p->name, "message", msg) < 0)
		rpc_reply_failed(rpc, ctx);
}

static const char *ha_rpc_reload_doc[] = {
		"Re-read pairs_file (and, with enable_dmq, pool_secret_file); on any "
		"error the running pairs and keys stay as they are",
		0};

static void ha_rpc_reload(rpc_t *rpc, void *ctx)
{
	ha_keyring_t kr = {0};
	ha_pairs_counts_t ls;
	char err[HA_ERR_MAX];
	void *rpl;

	if(rpc_extra_arg(rpc, ctx, "ha_pair.reload (no arguments)"))
		return;
	/* the pool's keys first (a pool rotates them with a reload): nothing
	 * changes unless both they and the pairs file are good */
	if(_ha_enable_dmq && ha_dmq_keys_read(&kr, err, sizeof(err)) < 0) {
		LM_ERR("reload refused, the running pairs and pool keys stay: %s\n",
				err);
		rpc->fault(ctx, 500, "%.*s", HA_RPC_FAULT_MAX, err);
		return;
	}
	if(ha_pairs_load(err, sizeof(err), &ls, 1) < 0) {
		if(_ha_enable_dmq)
			ha_keyring_wipe(&kr);
		LM_ERR("reload refused, the running pairs stay: %s\n", err);
		/* ctl (binrpc) loses a fault of 256 bytes or more altogether:
		 * kamcmd would get no answer. The file, line and reason come
		 * first; the log has the whole text. */
		if(strlen(err) > HA_RPC_FAULT_MAX)
			rpc->fault(ctx, 500, "%.*s... (cut; the log has it all)",
					HA_RPC_FAULT_MAX - 32, err);
		else
			rpc->fault(ctx, 500, "%s", err);
		return;
	}
	if(_ha_enable_dmq)
		ha_dmq_keys_set(&kr);
	LM_NOTICE("reloaded %.*s: %d pairs, %d kept, %d added, %d removed\n",
			_ha_pairs_file.len, _ha_pairs_file.s, ls.pairs, ls.kept, ls.added,
			ls.removed);
	if(rpc->add(ctx, "{", &rpl) < 0
			|| rpc->struct_add(rpl, "dddd", "pairs", ls.pairs, "kept", ls.kept,
					   "added", ls.added, "removed", ls.removed)
					   < 0)
		rpc_reply_failed(rpc, ctx);
}

/* The commands that read pairs get the running table pinned for the whole
 * command: its pairs, names and URIs stay valid while the reply is built,
 * whatever reloads happen meanwhile. */
#define HA_RPC_PINNED(f)                          \
	static void f##_pinned(rpc_t *rpc, void *ctx) \
	{                                             \
		ha_table_t *t = ha_table_pin();           \
		f(rpc, ctx, t);                           \
		ha_table_unpin(t);                        \
	}
HA_RPC_PINNED(ha_rpc_list)
HA_RPC_PINNED(ha_rpc_show)
HA_RPC_PINNED(ha_rpc_switchover)
HA_RPC_PINNED(ha_rpc_hold)
HA_RPC_PINNED(ha_rpc_probe)

/* clang-format off */
rpc_export_t ha_rpc_cmds[] = {
	{"ha_pair.list", ha_rpc_list_pinned, ha_rpc_list_doc, RET_ARRAY},
	{"ha_pair.show", ha_rpc_show_pinned, ha_rpc_show_doc, 0},
	{"ha_pair.switchover", ha_rpc_switchover_pinned, ha_rpc_switchover_doc, 0},
	{"ha_pair.hold", ha_rpc_hold_pinned, ha_rpc_hold_doc, 0},
	{"ha_pair.probe", ha_rpc_probe_pinned, ha_rpc_probe_doc, 0},
	{"ha_pair.reload", ha_rpc_reload, ha_rpc_reload_doc, 0},
	{0, 0, 0, 0}
};
/* clang-format on */
