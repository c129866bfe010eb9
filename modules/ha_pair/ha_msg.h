/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_msg.h - per-request helpers of ha_pair's script functions (Kamailio
 * glue): "once per request", since a script may call a function again for
 * the same request, and a pair's name kept with the request in an AVP. */

#ifndef _HA_MSG_H_
#define _HA_MSG_H_

#include "../../core/parser/msg_parser.h"
#include "../../core/usr_avp.h"

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

/* Remember name with the request being routed, in the string AVP avp: tm
 * keeps a request's AVPs with its transaction, so a failure route of the
 * transaction reads it back (ha_msg_name_get()). Returns 0, or -1 when
 * out of memory (the caller says what is lost). */
static inline int ha_msg_name_set(str *avp, str *name)
{
	int_str n, v;

	n.s = *avp;
	v.s = *name;
	return add_avp(AVP_NAME_STR | AVP_VAL_STR, n, v) < 0 ? -1 : 0;
}

/* The name ha_msg_name_set() kept in avp, into *out (pointing into the
 * AVP, valid while the request or transaction is). Returns out, or NULL
 * when there is none. */
static inline str *ha_msg_name_get(str *avp, str *out)
{
	int_str n, v;

	n.s = *avp;
	if(search_first_avp(AVP_NAME_STR | AVP_VAL_STR, n, &v, 0) == NULL)
		return NULL;
	*out = v.s;
	return out;
}

#endif
