/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_peer.h - the pool replication message of ha_pair (JSON), pure. */

#ifndef _HA_PEER_H_
#define _HA_PEER_H_

#include <stddef.h>
#include <stdint.h>

#include "ha_fsm.h"

/* Nothing here reads a clock, allocates, locks or logs. */

#define HA_PEER_VERSION 1	  /* the "v" of the messages this code writes */
#define HA_PEER_NAME_MAX 64	  /* a pair name, as the pairs file allows */
#define HA_PEER_URI_MAX 256	  /* a member URI (longer: not replicated) */
#define HA_PEER_BODY_MAX 1024 /* room for the longest message */

typedef enum ha_peer_op
{
	HA_PEER_CHANGE = 0, /* a change made by the sender: answer if refused */
	HA_PEER_STATE,		/* the sender's state: an answer, or a sync */
	HA_PEER_SYNC,		/* a starting proxy asks for every pair's state (only v,
				   * op and origin, its DMQ address, are sent) */
	HA_PEER_OP_COUNT
} ha_peer_op_t;

extern const char *ha_peer_op_names[HA_PEER_OP_COUNT];

/* One message: pair (name and identity, its member URIs), the member the
 * sender has active, why, and the version of that (number and origin, the
 * DMQ address of the proxy that made it). */
typedef struct ha_peer_msg
{
	ha_peer_op_t op;
	char pair[HA_PEER_NAME_MAX + 1];
	char uri[HA_ROLE_COUNT][HA_PEER_URI_MAX];
	ha_role_t active;
	ha_reason_t reason;
	uint64_t version;
	char origin[HA_ORIGIN_MAX];
} ha_peer_msg_t;

/* Write m as a JSON object into buf (size bytes, NUL-terminated):
 * {"v":1,"op":"change","pair":"p1","primary":"sip:..","backup":"sip:..",
 *  "active":"backup","reason":"passive","version":7,"origin":"sip:.."}
 * (a sync: {"v":1,"op":"sync","origin":"sip:.."})
 * Returns its length, or -1 when it does not fit or m is not valid (a
 * member role active, an empty pair name or origin); buf is then "". */
int ha_peer_encode(const ha_peer_msg_t *m, char *buf, size_t size);

/* Read a message from the len bytes at buf (not NUL-terminated). Keys may
 * come in any order; unknown keys with a string, number, true, false or
 * null value are skipped (a later version may add some); a value too long
 * for its field, a string with a NUL or a control character, a duplicate
 * or missing key (a sync needs only v, op and origin), a key longer than 63 characters, a "v" other than HA_PEER_VERSION, an unknown op, role
 * or reason, or anything after the object but white space is an error.
 * Returns 0, or -1 with m left in an unspecified state. */
int ha_peer_decode(const char *buf, size_t len, ha_peer_msg_t *m);

#endif
