/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_failover.h - ha_failover() (ha_failover.c): a failed
 * branch to a member, retried on the other or made to wait for a verdict. */

#ifndef _HA_FAILOVER_H_
#define _HA_FAILOVER_H_

#include "../../core/parser/msg_parser.h"

/* ha_failover() (docs/ha_pair.md), in a failure_route. Returns 1 with $du set to
 * the member to retry on; 0 when the transaction waits for a verdict (it
 * is suspended: the script ends here, and tm runs this failure route again
 * with the verdict) or when it answered the caller itself; -1 when the
 * failure is none of its business (not a pair member, not a member's
 * failure, canceled); -2 when there is no member to retry on (held); -3 on
 * an internal error. */
int ha_failover_request(struct sip_msg *msg);
#endif
