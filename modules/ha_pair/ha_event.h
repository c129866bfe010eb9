/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_event.h - events: event_route[ha_pair:...] or the KEMI
 * callback, run by a process of their own, and $hapair (ha_event.c). */

#ifndef _HA_EVENT_H_
#define _HA_EVENT_H_

#include "../../core/parser/msg_parser.h"
#include "../../core/pvar.h"

#include "ha_table.h"

extern str _ha_event_callback;
/* Look up the event routes; when the script has some (or event_callback
 * is set), make the queue and reserve the event process. */
int ha_event_mod_init(int npairs);
int ha_event_fork(void);
void ha_event_destroy(void);
/* Queue event a of pair p (SWITCH, DOWN, UP, SPLIT); never blocks for
 * long, never runs the route itself. Call it outside p's lock. */
void ha_event_push(ha_pair_t *p, const ha_action_t *a);
int ha_pv_parse_name(pv_spec_t *sp, str *in);
int ha_pv_get(struct sip_msg *msg, pv_param_t *param, pv_value_t *res);

#endif
