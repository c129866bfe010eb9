/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_msg.h - "once per request" for the script functions of ha_pair, which
 * a script may call again for the same request (Kamailio glue). */

#ifndef _HA_MSG_H_
#define _HA_MSG_H_

#include "../../core/parser/msg_parser.h"

/* True the first time it is asked about msg with this *last_id, which then
 * remembers msg: a guard (one static per thing done once) makes a count or
 * a record happen once per request however often the script asks. Message
 * ids are unique per process, and each process has its own statics. Can't
 * fail. Inline: it is on every request's path. */
static inline int ha_msg_first(unsigned int *last_id, const struct sip_msg *msg)
{
	if(msg->id == *last_id)
		return 0;
	*last_id = msg->id;
	return 1;
}

#endif
