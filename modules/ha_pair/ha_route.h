/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_route.h - ha_route() (ha_route.c): which pair a request
 * belongs to, a request from a member, $du to the active member. */

#ifndef _HA_ROUTE_H_
#define _HA_ROUTE_H_

#include "../../core/parser/msg_parser.h"

#include "ha_table.h"

extern str _ha_passive_methods;
extern str _ha_member_trust;
/* Parse passive_methods and member_trust, bind rr (when loaded). */
int ha_route_mod_init(void);
/* The member_trust that applies to p ("any", "transport", "confirm"): its
 * own member-trust, else the module parameter. Can't fail. */
const char *ha_pair_trust_name(const ha_pair_t *p);
/* ha_route() / ha_route(pair) (docs/ha_pair.md, ha_route(); name NULL without argument):
 * 1 $du is the pair's active member; 2 the request came from a pair member
 * (passive switchover applied, X-Genesys-Route obeyed); -1 no pair; -2 no
 * active member right now; -3 an error. */
int ha_route_request(struct sip_msg *msg, str *name);
/* The pair of pinned table t that ha_route() found for msg, into *p (when
 * a reload came in between: the pair of the same name, NULL when there is
 * none now). Returns 0, or -1 when ha_route() found no pair for msg. */
int ha_route_found(const struct sip_msg *msg, ha_table_t *t, ha_pair_t **p);
/* The pair ha_route() sent the current transaction's request to, when it
 * remembered it (a pair with a member address shared with another pair),
 * or NULL. */
ha_pair_t *ha_route_remembered(ha_table_t *t);
/* Add p's pair tag to the Record-Route of msg (with rr loaded). */
void ha_route_tag(struct sip_msg *msg, ha_pair_t *p);

#endif
