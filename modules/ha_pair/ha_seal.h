/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_seal.h - signed pool messages of ha_pair (pure): the key ring, the
 * HMAC-SHA256 envelope around a peer message, and the per-origin replay
 * window. */

#ifndef _HA_SEAL_H_
#define _HA_SEAL_H_

#include <stddef.h>
#include <stdint.h>

#include "ha_fsm.h" /* HA_ORIGIN_MAX */

/* Nothing here reads a clock, allocates, locks or logs. */

/* The envelope (the body of a KDMQ request):
 *
 *   HAP2 <keyid> <mac>\n
 *   origin=<uri> boot=<n> seq=<n> ts=<n> to=<uri or *>\n
 *   <message: a peer message or batch as ha_peer.h writes it>
 *
 * keyid: HA_KEYID_LEN lower-case hex digits naming the key that signed it
 * (derived from the key, see ha_keyring_parse()); mac: 64 lower-case hex
 * digits, HMAC-SHA256 (RFC 2104) with that key over every byte after the
 * first '\n' (the signed payload), exactly as sent. origin: the sender's
 * DMQ address; boot: when the sender started (ms since the epoch), so that
 * boots are ordered; seq: the sender's counter in that boot, from 1; ts:
 * the wall-clock time of the send (ms since the epoch); to: "*" for the
 * whole pool, else the DMQ address of the one node it is for. */
#define HA_SEAL_MAGIC "HAP2"
#define HA_SEAL_CT "application/x-ha-pair-signed" /* its content type */
#define HA_KEY_MIN 32		 /* characters of a key, at least */
#define HA_KEY_MAX 256		 /* characters of a key, at most */
#define HA_KEYS_MAX 8		 /* keys in a ring, at most */
#define HA_KEYID_LEN 8		 /* hex digits of a key id */
#define HA_MAC_LEN 32		 /* bytes of an HMAC-SHA256 */
#define HA_SEAL_HEAD_MAX 320 /* the two envelope lines, at most (291) */

typedef struct ha_key
{
	unsigned char k[HA_KEY_MAX];
	int len;
	char id[HA_KEYID_LEN + 1];
} ha_key_t;

/* The keys of a pool: key[0] signs, every one verifies. */
typedef struct ha_keyring
{
	int n;
	ha_key_t key[HA_KEYS_MAX];
} ha_keyring_t;

/* ha_keyring_parse() errors */
#define HA_KEYS_ENONE -1	/* no key in the text */
#define HA_KEYS_ESHORT -2	/* a key shorter than HA_KEY_MIN */
#define HA_KEYS_ELONG -3	/* a key longer than HA_KEY_MAX */
#define HA_KEYS_ECHAR -4	/* a key with a space or control character */
#define HA_KEYS_ETOOMANY -5 /* more than HA_KEYS_MAX keys */
#define HA_KEYS_EDUP -6		/* the same key id twice */

/* Read a key file's text (len bytes): one key a line; blank lines and
 * lines whose first non-blank character is '#' are skipped; white space
 * around a key is trimmed; a key is its characters as written (printable
 * ASCII; `openssl rand -hex 32` makes one). A key's id is the first
 * HA_KEYID_LEN hex digits of SHA-256("ha_pair key id\n" + key), so that it
 * names the key without telling it. Returns the number of keys (>= 1) with
 * *kr filled, or an HA_KEYS_E* error with *line set to the offending line
 * (1-based; 0 for ENONE) and *kr cleared. */
int ha_keyring_parse(const char *text, size_t len, ha_keyring_t *kr, int *line);

/* Zero every key of kr (before its memory is let go). */
void ha_keyring_wipe(ha_keyring_t *kr);

/* What the envelope's second line says. */
typedef struct ha_seal_hdr
{
	char origin[HA_ORIGIN_MAX];
	uint64_t boot;
	uint64_t seq;
	int64_t ts;
	char to[HA_ORIGIN_MAX];
} ha_seal_hdr_t;

/* Write msg (mlen bytes) in its envelope, signed with kr->key[0], into out
 * (size bytes; NUL-terminated when it fits). Returns the length written,
 * or -1 (no key, origin or to empty or with a space or control character,
 * seq 0, or no room). An address is printable ASCII (a SIP URI): a byte
 * above 0x7e counts as a control character; ts must not be negative (the
 * line has no sign). msg may lie inside out. On -1 out is unchanged. */
int ha_seal(const ha_keyring_t *kr, const ha_seal_hdr_t *h, const char *msg,
		size_t mlen, char *out, size_t size);

/* ha_unseal() results */
typedef enum ha_unseal_rc
{
	HA_UNSEAL_OK = 0,
	HA_UNSEAL_UNSIGNED,	 /* no envelope (an old proxy's plain message) */
	HA_UNSEAL_MALFORMED, /* an envelope line of the wrong form */
	HA_UNSEAL_KEY,		 /* signed with a key this ring has not */
	HA_UNSEAL_MAC,		 /* the MAC does not match */
	HA_UNSEAL_RC_COUNT
} ha_unseal_rc_t;

extern const char *ha_unseal_rc_names[HA_UNSEAL_RC_COUNT];

/* Check the envelope of the len bytes at buf (not NUL-terminated): the
 * first line's form and key id, then the MAC over the payload exactly as
 * received (compared in constant time), and only then the second line.
 * Returns HA_UNSEAL_OK with *h filled and *msg, *mlen set to the message
 * inside buf, or another result (*h, *msg, *mlen then unspecified). */
ha_unseal_rc_t ha_unseal(const ha_keyring_t *kr, const char *buf, size_t len,
		ha_seal_hdr_t *h, const char **msg, size_t *mlen);

/* ---- replay window ------------------------------------------------------
 * Per origin: the newest boot seen, and of its counters the highest
 * accepted and which of the HA_REPLAY_BITS below it were (as IPsec's
 * anti-replay window, RFC 4303 3.4.3): out of order inside the window is
 * normal (dmq hands messages to several workers). */
#define HA_REPLAY_BITS 1024

typedef struct ha_replay
{
	uint64_t boot;
	uint64_t top; /* the highest seq accepted in boot (0: none) */
	uint64_t map[HA_REPLAY_BITS / 64]; /* bit i: top - i accepted */
} ha_replay_t;

typedef enum ha_replay_verdict
{
	HA_RPL_NEW = 0, /* first seen: recorded now */
	HA_RPL_DUP,		/* accepted before (a retransmission): not again */
	HA_RPL_OLD,		/* below the window, or seq 0 */
	HA_RPL_BOOT,	/* from a boot older than the newest seen */
	HA_RPL_COUNT
} ha_replay_verdict_t;

extern const char *ha_replay_names[HA_RPL_COUNT];

/* Take (boot, seq) through window r (zeroed: nothing seen). A newer boot
 * starts the window anew. Only HA_RPL_NEW changes r. Can't fail. */
ha_replay_verdict_t ha_replay_take(ha_replay_t *r, uint64_t boot, uint64_t seq);

/* Is a message sent at ts (ms since the epoch) more than window_ms away
 * from now (either side)? Returns 1 then, else 0. */
int ha_seal_out_of_time(int64_t ts, int64_t now, int64_t window_ms);

#endif
