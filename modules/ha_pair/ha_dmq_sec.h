/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_dmq_sec.h - what makes a pool message trustworthy: the pool's keys
 * (pool_secret_file), signing what this proxy sends, and checking what it
 * receives (signature, sender, destination, time, replay) before a byte of
 * it is decoded. */

#ifndef _HA_DMQ_SEC_H_
#define _HA_DMQ_SEC_H_

#include <stdint.h>

#include "../../core/str.h"
#include "../../core/parser/msg_parser.h"

#include "ha_seal.h"

/* module parameter pool_secret_file: the pool's keys, one a line */
extern str _ha_pool_secret_file;
/* module parameter pool_time_window: s a message's send time may be away
 * from this proxy's clock */
extern int _ha_pool_time_window;

/* In mod_init with enable_dmq: check the parameters, read the keys (the
 * file must exist, hold at least one key and be readable by its owner
 * only), make the shared state. Returns 0, or -1 (logged). */
int ha_dmq_sec_mod_init(void);
void ha_dmq_sec_destroy(void);

/* Read pool_secret_file into *kr (for ha_pair.reload: nothing changes
 * yet). Returns 0, or -1 with the reason in err (no key in it). */
int ha_dmq_keys_read(ha_keyring_t *kr, char *err, size_t errlen);
/* Make *kr the pool's keys, in every process (kr is wiped). */
void ha_dmq_keys_set(ha_keyring_t *kr);

/* Sign msg (len bytes) for to (a node's DMQ address, "" for the pool)
 * into out (size bytes), with the next counter of this boot. Only the
 * send process calls it. Returns the length, or -1 (logged). */
int ha_dmq_seal(const char *to, const char *msg, int len, char *out, int size);

/* What ha_dmq_open() made of a KDMQ request's body. */
typedef enum ha_dmq_open_rc
{
	HA_OPEN_OK = 0, /* genuine and new: act on it */
	HA_OPEN_DUP,	/* genuine, accepted before (a retransmission): 200 */
	HA_OPEN_BAD,	/* dropped (counted, logged at most once a minute) */
} ha_dmq_open_rc_t;

/* The checked envelope of a message: who sent it, when it booted, and the
 * message inside (in msg's buffer). */
typedef struct ha_dmq_opened
{
	ha_seal_hdr_t h;
	const char *msg;
	size_t len;
	int code; /* HA_OPEN_BAD: the reply's status (400 or 403) */
} ha_dmq_opened_t;

/* Check the body (len bytes) of msg, a KDMQ request from the address of a
 * node of the pool: a known key's MAC over the payload, a signed origin
 * that is the node msg's source address is, a destination that is the pool
 * or this proxy, a send time within pool_time_window, and a counter this
 * origin's replay window has not seen. Counts a rejection by reason. */
ha_dmq_open_rc_t ha_dmq_open(
		struct sip_msg *msg, const char *body, int len, ha_dmq_opened_t *o);

/* Count a message whose envelope was genuine but whose content was not
 * valid (reason "malformed"), logged at most once a minute per source. */
void ha_dmq_reject_content(struct sip_msg *msg);

/* Is this the first sync request of origin's boot? A sync is answered
 * once per (node, boot). Returns 1 (recorded now) or 0. */
int ha_dmq_sync_first(const char *origin, uint64_t boot);

#endif
