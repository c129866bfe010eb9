/* ha_rpc.c - RPC commands of ha_pair (kamcmd / jsonrpcs). */

#include <string.h>

#include "../../core/rpc.h"
#include "../../core/rpc_lookup.h"
#include "../../core/dprint.h"

#include "ha_pair.h"

/* Add pair p to the reply as a struct. The state is copied under the
 * pair's lock and printed after it is released, so a slow RPC client never
 * holds up probing or routing. Returns 0, or -1 when the reply is full. */
static int rpc_add_pair(rpc_t *rpc, void *ctx, ha_pair_t *p)
{
	ha_fsm_t f;
	void *st, *arr, *ms;
	int64_t now;
	int i;

	lock_get(&p->lock);
	f = p->fsm;
	lock_release(&p->lock);
	now = ha_now_ms();

	if(rpc->add(ctx, "{", &st) < 0)
		return -1;
	if(rpc->struct_add(st, "Sss", "name", &p->name, "state",
			   ha_state_names[f.state], "active", ha_role_name(f.active))
			< 0)
		return -1;
	if(f.active != HA_ROLE_NONE) {
		if(rpc->struct_add(st, "S", "active_uri", &p->m[f.active].uri) < 0)
			return -1;
	} else if(rpc->struct_add(st, "s", "active_uri", "") < 0) {
		return -1;
	}
	if(rpc->struct_add(st, "ddjs", "oos_check", f.cfg.oos_check_ms, "oos_force",
			   f.cfg.oos_force_ms, "switchovers", (unsigned long)f.switchovers,
			   "last_switchover_reason", ha_reason_names[f.last_reason])
			< 0)
		return -1;
	/* a pair's start counts as its first switch: never negative */
	if(rpc->struct_add(st, "jd", "last_switchover_ago_ms",
			   (unsigned long)(now - f.last_switch_ms), "held", f.held)
			< 0)
		return -1;
	if(rpc->struct_add(st, "[", "members", &arr) < 0)
		return -1;
	for(i = 0; i < HA_ROLE_COUNT; i++) {
		if(rpc->array_add(arr, "{", &ms) < 0)
			return -1;
		if(rpc->struct_add(ms, "sSsddjj", "role", ha_role_name(i), "uri",
				   &p->m[i].uri, "state", ha_mstate_names[f.m[i].state],
				   "last_code", f.m[i].last_code, "last_rtt_ms",
				   f.m[i].last_rtt_ms, "probes_sent",
				   (unsigned long)f.m[i].probes_sent, "probes_unanswered",
				   (unsigned long)f.m[i].probes_unanswered)
				< 0)
			return -1;
	}
	return 0;
}

static const char *ha_rpc_list_doc[] = {
		"List the pairs, or those whose name starts with the given prefix", 0};

static void ha_rpc_list(rpc_t *rpc, void *ctx)
{
	ha_table_t *t = _ha_table;
	str prefix = STR_NULL;
	int i;

	if(rpc->scan(ctx, "*S", &prefix) < 1)
		prefix.len = 0;
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

static void ha_rpc_show(rpc_t *rpc, void *ctx)
{
	ha_table_t *t = _ha_table;
	ha_pair_t *p;
	str name = STR_NULL;

	if(rpc->scan(ctx, "S", &name) < 1) {
		rpc->fault(ctx, 400, "Missing pair name: ha_pair.show <pair>");
		return;
	}
	p = ha_table_by_name(t, &name);
	if(p == NULL) {
		rpc->fault(ctx, 404, "Unknown pair '%.*s'", name.len, name.s);
		return;
	}
	if(rpc_add_pair(rpc, ctx, p) < 0)
		rpc->fault(ctx, 500, "Cannot build the reply");
}

static const char *ha_rpc_switchover_doc[] = {
		"Make the other (or the named) member of a pair active now: "
		"ha_pair.switchover <pair> [primary|backup]",
		0};

static void ha_rpc_switchover(rpc_t *rpc, void *ctx)
{
	ha_pair_t *p;
	ha_actions_t acts;
	str name = STR_NULL, rs = STR_NULL;
	ha_role_t role, old;
	ha_state_t state;
	void *st;
	int rc;

	if(rpc->scan(ctx, "S", &name) < 1) {
		rpc->fault(ctx, 400,
				"Missing pair name: ha_pair.switchover <pair> "
				"[primary|backup]");
		return;
	}
	p = ha_table_by_name(_ha_table, &name);
	if(p == NULL) {
		rpc->fault(ctx, 404, "Unknown pair '%.*s'", name.len, name.s);
		return;
	}
	role = HA_ROLE_NONE;
	if(rpc->scan(ctx, "*S", &rs) == 1) {
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
	lock_get(&p->lock);
	state = p->fsm.state;
	old = p->fsm.active;
	rc = 0;
	if(role == HA_ROLE_NONE && state == HA_ST_CHECK)
		role = old == HA_ROLE_PRIMARY ? HA_ROLE_BACKUP : HA_ROLE_PRIMARY;
	if(role != HA_ROLE_NONE) {
		rc = ha_fsm_switch(&p->fsm, role, HA_RSN_MANUAL, ha_now_ms(), &acts);
		ha_pair_touched(p);
	}
	lock_release(&p->lock);
	ha_actions_run(p, &acts);

	if(role == HA_ROLE_NONE) {
		rpc->fault(ctx, 409,
				"Pair '%.*s' has no active member (FORCE): name the member, "
				"primary or backup",
				p->name.len, p->name.s);
		return;
	}
	if(rpc->add(ctx, "{", &st) < 0)
		return;
	rpc->struct_add(st, "Sssds", "name", &p->name, "old", ha_role_name(old),
			"new", ha_role_name(role), "changed", rc == 1, "message",
			rc == 1 ? "switched; the new active member is probed now"
					: "already the active member: nothing changed");
}

/* clang-format off */
rpc_export_t ha_rpc_cmds[] = {
	{"ha_pair.list", ha_rpc_list, ha_rpc_list_doc, RET_ARRAY},
	{"ha_pair.show", ha_rpc_show, ha_rpc_show_doc, 0},
	{"ha_pair.switchover", ha_rpc_switchover, ha_rpc_switchover_doc, 0},
	{0, 0, 0, 0}
};
/* clang-format on */
