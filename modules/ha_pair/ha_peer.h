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
/* a batch of states (sync answers, the periodic broadcast) is kept under
 * this: Kamailio 6.0 drops SIP messages of msg_recv_max_size (32 KB) or
 * more, over TCP too, and the KDMQ request's headers come on top */
#define HA_PEER_CHUNK_MAX 16384

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

/* ---- batches ----------------------------------------------------------
 * {"v":1,"op":"batch","origin":"sip:..","sync":true,"states":[S,S,..],
 *  "last":true}
 * where each S is a state message as ha_peer_encode() writes it (op
 * "state"). sync: an answer to a sync request (true) or the periodic
 * broadcast (false); last: the sender's last batch of that answer or
 * broadcast. A single message of the ops above stays valid: a batch is one
 * more op of version 1 (a proxy that does not know it answers 400 and
 * ignores it).
 * "changes":true (optional; false when absent; never with sync true):
 * the states are changes the sender made, sent together because they were
 * made together (many pairs switching at once); each is taken as a change
 * message (answered when stale or refused), and each must name the
 * batch's origin as its origin. A proxy that does not know the key skips
 * it, as any unknown key, and takes them as states. */

typedef struct ha_peer_batch
{
	char origin[HA_ORIGIN_MAX]; /* the sender's DMQ address */
	int sync;
	int last;
	int changes; /* its states are the sender's changes */
	int n;		 /* states in it */
} ha_peer_batch_t;

/* Write a batch's head into buf (size bytes). Returns its length, or -1
 * (origin empty, too small). */
int ha_peer_batch_begin(char *buf, size_t size, const char *origin, int sync);

/* The same for a batch of changes ("sync":false,"changes":true). */
int ha_peer_batch_begin_changes(char *buf, size_t size, const char *origin);

/* Append state m (its op is taken as state) to the batch of *n bytes in
 * buf, keeping room for ha_peer_batch_end(). Returns 0 (*n grown), or -1
 * when it does not fit or m is not valid (buf and *n unchanged). */
int ha_peer_batch_add(
		char *buf, size_t size, size_t *n, const ha_peer_msg_t *m);

/* Close the batch of *n bytes in buf. Returns its length, or -1 when
 * there is no room (never after ha_peer_batch_add() kept it). */
int ha_peer_batch_end(char *buf, size_t size, size_t *n, int last);

/* Called for each state of a batch, in order (op HA_PEER_CHANGE in a
 * batch of changes, HA_PEER_STATE otherwise). */
typedef void (*ha_peer_state_f)(const ha_peer_msg_t *m, void *arg);

/* Read a batch from the len bytes at buf: strict as ha_peer_decode() (every
 * state as a state message; unknown keys of the batch with a scalar value
 * skipped; "v", "op", "origin", "sync", "last" and "states" required,
 * once each; "changes" optional, once, not with "sync":true, and then
 * every state's origin the batch's). The whole batch is checked before cb
 * is called for any of its states (cb may be NULL). Returns 0 with *b
 * filled, or -1 (cb not called). */
int ha_peer_batch_decode(const char *buf, size_t len, ha_peer_batch_t *b,
		ha_peer_state_f cb, void *arg);

#endif
