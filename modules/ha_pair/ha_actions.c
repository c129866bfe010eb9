/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_actions.c - what every process does with the actions a state machine
 * call returned, outside the pair's lock: log, count, fire events, and
 * hand the pool's part to ha_dmq_actions(). */

#include "../../core/dprint.h"
#include "../../core/counters.h"

#include "ha_actions.h"
#include "ha_dmq.h"
#include "ha_event.h"
#include "ha_fsm.h"
#include "ha_pair.h"
#include "ha_table.h"

void ha_actions_run(ha_pair_t *p, const ha_actions_t *acts)
{
	const ha_action_t *a;
	int i;

	if(acts->unanswered > 0)
		update_stat(_ha_stat_probes_unanswered, acts->unanswered);
	if(acts->resent > 0)
		update_stat(_ha_stat_probes_resent, acts->resent);
	if(acts->verified_alive > 0)
		update_stat(_ha_stat_verify_alive, acts->verified_alive);
	if(acts->verified_silent > 0)
		update_stat(_ha_stat_verify_silent, acts->verified_silent);
	if(acts->unconfirmed > 0)
		LM_WARN("pair '%.*s': the %s, which a request over UDP said was "
				"active, did not answer its probe: no switchover (a forged "
				"request?)\n",
				p->name.len, p->name.s, ha_role_name(acts->unconfirmed_member));
	for(i = 0; i < acts->n; i++) {
		a = &acts->a[i];
		ha_event_push(p, a);
		switch(a->type) {
			case HA_ACT_SWITCH:
				if(a->reason != HA_RSN_START)
					update_stat(_ha_stat_switchovers, 1);
				LM_NOTICE("pair '%.*s': active member %s -> %s (%s)\n",
						p->name.len, p->name.s, ha_role_name(a->old_role),
						ha_role_name(a->new_role), ha_reason_names[a->reason]);
				break;
			case HA_ACT_DOWN:
				LM_WARN("pair '%.*s': no member answers\n", p->name.len,
						p->name.s);
				break;
			case HA_ACT_UP:
				LM_NOTICE("pair '%.*s': %s answers again\n", p->name.len,
						p->name.s, ha_role_name(a->new_role));
				break;
			case HA_ACT_SPLIT:
				LM_WARN("pair '%.*s': both members answer as alive (split "
						"brain?)\n",
						p->name.len, p->name.s);
				break;
			default:
				break;
		}
	}
	ha_dmq_actions(p, acts);
}
