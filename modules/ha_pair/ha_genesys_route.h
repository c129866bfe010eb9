/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_genesys_route.h - X-Genesys-Route, the next hop a member names
 * for its own request (ha_genesys_route.c). */

#ifndef _HA_GENESYS_ROUTE_H_
#define _HA_GENESYS_ROUTE_H_

#include "../../core/parser/msg_parser.h"

/* Remove every X-Genesys-Route header of msg. When uri is not NULL, the
 * first one's URI goes there. Returns 1 when that URI is valid, 0 when
 * there is no such header, -1 on a malformed value or a parse error (it is
 * removed all the same). */
int ha_genesys_route_take(struct sip_msg *msg, str *uri);

#endif
