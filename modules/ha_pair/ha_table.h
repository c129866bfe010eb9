/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_table.h - a table of pairs in shared memory (ha_table.c): its pairs,
 * their members and states, built whole from definitions and resolved
 * members, looked up without locks, freed whole. */

#ifndef _HA_TABLE_H_
#define _HA_TABLE_H_

#include "../../core/str.h"
#include "../../core/ip_addr.h"
#include "../../core/locking.h"

#include "ha_fsm.h"
#include "ha_config.h"
#include "ha_settings.h"

/* One member of a pair: fixed for the life of the table (a change of
 * address comes with a new table). */
typedef struct ha_member
{
	str uri;	 /* as configured: the probe R-URI and what $du becomes */
	str host;	 /* host part, for messages */
	int port;	 /* port probes go to (5060/5061 when none given) */
	int proto;	 /* PROTO_UDP, PROTO_TCP or PROTO_TLS */
	int by_name; /* a host name: re-resolved every dns_refresh */
	union sockaddr_union dst; /* where probes go */
	/* every address the member may send from (all the SRV targets' of a
	 * member resolved by SRV, each on its own port) */
	ha_addr_t addrs[HA_MAX_ADDRS];
	int aports[HA_MAX_ADDRS];
	int naddrs;
} ha_member_t;

/* The state of a pair: it outlives tables, since a reload that keeps a
 * pair's identity (name and both member URIs) keeps its state. */
struct ha_waiter;

typedef struct ha_pstate
{
	gen_lock_t lock; /* guards fsm, run_at_ms and the waiters */
	ha_fsm_t fsm;
	int64_t run_at_ms; /* when the prober must run it, a hint read unlocked */
	int refs;		   /* tables holding it; changed under the store's lock */
	/* transactions waiting on the pair (ha_wait.c: a list linked both
	 * ways, and what the continue process last saw of the pair, so that
	 * it walks the list only when a waiter may have a verdict) */
	struct ha_waiter *waiters;
	uint64_t wait_seen; /* the verdict inputs at the last walk */
	int wait_dirty;		/* a waiter came since, or the walk was cut */
	/* how many are in the list: changed under the lock, atomically, read
	 * unlocked as a hint (ha_wait_hint) */
	int nwait;
	uint64_t waited;		/* transactions that waited */
	uint64_t wait_timeouts; /* answered 503 at the bound */
	uint64_t wait_rejected; /* refused at once: the cap was reached */
} ha_pstate_t;

/* A pair as one table has it: fixed for the life of the table. */
typedef struct ha_pair
{
	ha_pstate_t *st;
	/* its settings (ha_pair_settings()), taken whole */
	ha_pair_settings_t set;
	unsigned int gen; /* its table's generation, in its probes' tokens */
	str name;
	str rr_param; /* ";hapair=<name>", the pair tag */
	int index;
	int is_new;		 /* its state was made with this table (it started) */
	int addr_shared; /* a member's address (and port) is another pair's */
	volatile int64_t *run_at_slot; /* its slot of the table's run_at */
	ha_member_t m[HA_ROLE_COUNT];
	str *domains;
	int ndomains;
	int next_by_name; /* hash chain, -1 ends */
} ha_pair_t;

/* An entry of the address index: member role of pair index has address
 * addr (on its port). */
typedef struct ha_addr_ent
{
	ha_addr_t addr;
	int port;
	int pair;
	int role;
	int next; /* hash chain, -1 ends */
} ha_addr_ent_t;

typedef struct ha_dom_ent
{
	str domain; /* points into the pair's domains */
	int pair;
	int next;
} ha_dom_ent_t;

typedef struct ha_table
{
	unsigned int gen; /* generation, part of every probe token */
	/* what it was built from, shared with the tables a DNS refresh builds
	 * from them (a reference, in shared memory) */
	ha_defs_t *defs;
	int npairs;
	ha_pair_t *pairs;
	/* when each pair must be run next (a copy of its st->run_at_ms, dense, so
	 * that the prober's look at every pair each tick stays in cache) */
	volatile int64_t *run_at;
	unsigned int nbuckets; /* a power of two */
	int *name_buckets;
	int *addr_buckets;
	ha_addr_ent_t *addr_ents;
	int naddr_ents;
	int max_per_addr; /* the most entries one address has (any port) */
	int *dom_buckets;
	ha_dom_ent_t *dom_ents;
	int ndom_ents;
	struct ha_table *next; /* in the retired list */
	int64_t retired_ms;	   /* when it was replaced */
} ha_table_t;

/* Shared memory, for definitions kept with the tables (ha_defs_new()). */
extern const ha_alloc_t ha_alloc_shm;

/* Build a table in shared memory from definitions (the one build path of
 * loads, reloads and DNS refreshes: each pair's settings come from
 * ha_pair_settings()) and their members as ha_dns_resolve() resolved them
 * (no DNS here: the store's lock is held). The table takes a reference to
 * defs. A pair with the identity of a pair of old (may be NULL) shares
 * its state; any other starts at now_ms (a new pair's start) and is marked
 * is_new. Call with the store's lock held. Returns the table, or NULL with
 * err filled ("pair 'x': ...") and nothing changed. */
ha_table_t *ha_table_build(ha_defs_t *defs, const ha_member_t *res,
		const ha_table_t *old, unsigned int gen, int64_t now_ms, char *err,
		size_t errlen);

/* Called with each pair state just before it is freed (with the store's
 * lock held), NULL: none. ha_wait.c registers the release of the state's
 * waiting transactions at start-up (ha_wait_mod_init()): the table does
 * not call into the waits. */
typedef void (*ha_state_free_f)(ha_pstate_t *st);
void ha_table_on_state_free(ha_state_free_f f);

/* Free a table that no process uses any more, and the pair states no
 * other table holds. Call with the store's lock held. */
void ha_table_free(ha_table_t *t);

/* Lookups: can't fail, return NULL / -1 / 0 when nothing matches. They
 * read only the fixed parts of the table and take no lock. */
ha_pair_t *ha_table_by_name(ha_table_t *t, const str *name);
ha_pair_t *ha_table_by_domain(ha_table_t *t, const str *host);

/* Members whose address is ip (and whose port is port unless reliable).
 * Fills up to max entries of pairs[] / roles[] and returns how many
 * matched in all. Reads the addresses without the pair locks: the index is
 * built at load time. */
int ha_table_by_addr(ha_table_t *t, const ha_addr_t *ip, int port, int reliable,
		ha_pair_t **pairs, int *roles, int max);

#endif
