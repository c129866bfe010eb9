/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_wait.h - transactions that wait for a pair's verdict (ha_wait.c). */

#ifndef _HA_WAIT_H_
#define _HA_WAIT_H_

#include "../../modules/tm/tm_load.h"

#include "ha_pair.h"

#define HA_WAIT_MARGIN_MS 200 /* auto bound: 2 x oos-force + this */
#define HA_WAIT_MAX_MS 30000  /* callers give up at 32 s (Timer F) */

extern struct tm_binds _ha_tmb;
extern int _ha_tm_loaded;	/* tm is loaded and _ha_tmb bound */
extern int _ha_max_wait;	/* ms, 0: 2 x oos-force + margin */
extern int _ha_wait_cap;	/* per pair */
extern int _ha_retry_after; /* s, in the 503s ha_pair sends */

/* The failure a member brought, kept for the caller in case the member
 * turns out alive: status, reason phrase, Retry-After's value. */
typedef struct ha_mfail
{
	int code;
	char reason[64];
	char retry_after[48];
} ha_mfail_t;

/* The transaction the continue process is continuing, and its verdict. */
typedef struct ha_cont
{
	int active;
	unsigned int tindex, tlabel;
	int route;
	ha_verdict_t verdict;
	ha_role_t retry;
	unsigned int fr_ms, fr_inv_ms;
	ha_mfail_t fail;
	char pair[HA_NAME_MAX + 1];
} ha_cont_t;

int ha_wait_mod_init(void);
int ha_wait_fork(void);
void ha_wait_destroy(void);

/* How long a transaction may wait on pair p, in ms. */
int ha_wait_bound_ms(const ha_pair_t *p);

/* Suspend the transaction of msg (in a failure_route, or in a request
 * route once it exists) to wait on pair p: wp is the wait point the
 * verification of its failed member gave (read under the pair's lock
 * with it: the member, the time, force_runs), NULL for a transaction that
 * waits for an active member from now; fail what the member brought (NULL:
 * nothing), route the failure route to continue into. No lock may be
 * held. Returns 0 when it waits, 1 when it was canceled meanwhile, -2
 * when the pair's cap is reached, -1 on error (nothing waits then). */
int ha_wait_suspend(struct sip_msg *msg, ha_pair_t *p, const ha_waitpoint_t *wp,
		const ha_mfail_t *fail, int route);

/* Continue the transactions waiting on p that have a verdict now. No lock
 * may be held. */
void ha_wait_kick(ha_pair_t *p);

/* The transaction being continued in this process, or NULL. */
const ha_cont_t *ha_cont_get(void);

/* Take the waiter of transaction t out of pair's list (its bound passed,
 * timeout 1; or it was canceled, timeout 0). Returns 1 when it was there. */
int ha_wait_take(struct cell *t, const str *pair, int timeout);

/* The pair a waiting transaction waits on (its AVP), or NULL. */
str *ha_wait_pair_avp(str *out);

/* ha_wait(): in a request_route after ha_route() returned -2, the request
 * waits (its transaction suspended, no worker held) until the pair has an
 * active member, then tm runs the failure route armed with t_on_failure(),
 * where ha_failover() sets $du to that member (1); at the bound, or over
 * the pair's cap, ha_failover() / ha_wait() answer 503 themselves. Returns
 * 0 when it waits (the script ends), 1 when the pair has an active member
 * already ($du set), -1 for an ACK or CANCEL (they never wait), -2 when it
 * cannot wait (the cap: the caller is answered 503 by the script), -3 on
 * an error (no ha_route() before, no failure route armed). */
int ha_wait_request(struct sip_msg *msg);

#endif
