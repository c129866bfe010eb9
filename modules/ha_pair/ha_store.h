/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_store.h - the shared-memory table of pairs of ha_pair. */

#ifndef _HA_STORE_H_
#define _HA_STORE_H_

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
	/* transactions waiting on the pair (ha_wait.c) */
	struct ha_waiter *waiters;
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

/* Pins (hazard pointers): the tables one process is reading. A process
 * publishes a table in one of its slots before it uses it, and a replaced
 * table is freed only once no slot of any process holds it. A slot per
 * nesting level (a failure route that the continue process runs while it
 * walks a table pins again): HA_PINS levels are more than any path uses. */
#define HA_PINS 4
typedef struct ha_pin
{
	struct ha_table *volatile t[HA_PINS];			/* __atomic builtins only */
	char pad[64 - (HA_PINS * sizeof(void *)) % 64]; /* a cache line each */
} ha_pin_t;

/* Tables: the running one, and those a reload replaced, kept until no
 * process has them pinned (and, for replies to probes sent before the
 * swap, at least HA_RETIRE_GRACE_MS). */
typedef struct ha_store
{
	gen_lock_t lock; /* loads, the retired list, pair state references */
	ha_table_t *volatile cur; /* __atomic builtins (sequentially consistent) */
	ha_table_t *retired;	  /* newest first */
	unsigned int gen;		  /* the newest table's generation */
	ha_pin_t *pins;			  /* one per process (process_no), or NULL */
	int npins;
} ha_store_t;

extern ha_store_t *_ha_store;

/* A replaced table is kept at least this long after the swap, so that
 * replies to probes sent before it still find their pair; it is freed
 * after that once no process has it pinned (ha_table_pin()). */
#define HA_RETIRE_GRACE_MS 5000

typedef struct ha_pairs_counts
{
	int pairs, kept, added, removed;
} ha_pairs_counts_t;

int ha_store_init(void);
void ha_store_destroy(void);

/* Make the pin slots, one per process: call it once the number of
 * processes is known and before any is forked (child_init(PROC_INIT)).
 * Until then only the main process runs and nothing is freed under it. */
int ha_store_pins_init(int nprocs);

/* The running table, pinned: it is not freed, whatever reloads and DNS
 * refreshes replace it, until this process calls ha_table_unpin() on it.
 * NULL before the first load. No lock: a store to this process's own slot
 * and a re-read of the running table's pointer. Pins nest (up to
 * HA_PINS different tables at a time per process). Every pointer into the
 * table (a pair, a member, a string) is valid only between the two
 * calls. */
ha_table_t *ha_table_pin(void);

/* The table of generation gen, running or replaced, pinned as
 * ha_table_pin() does; NULL when it is no longer kept. Takes the store's
 * lock (for a replaced table's generation, from replies to probes sent
 * before a reload). */
ha_table_t *ha_table_pin_gen(unsigned int gen);

/* Give back a pin of t (NULL: nothing). */
void ha_table_unpin(ha_table_t *t);

/* Read path and make its pairs the running table. A pair whose identity
 * (name and both member URIs) is in the running table keeps its state and
 * takes its new timings from its next probe; a new pair starts (SPEC 2);
 * a pair no longer in the file is no longer probed or matched. On any
 * error -1 is returned with err "<file>:<line>: <reason>" and the running
 * table is untouched. New pairs are marked is_new in the new table, and
 * started (may be NULL) is called for each of them under the store's lock,
 * before the table is installed: once per pair, before anything else can
 * happen to it, whatever loads and refreshes run at the same time. */
int ha_store_load(const char *path, const ha_mod_defaults_t *mod,
		ha_pairs_counts_t *ls, void (*started)(ha_pair_t *p), char *err,
		size_t errlen);

/* Resolve the host names of the running table's members again (with no
 * lock held while DNS answers); when an address changed, install a table
 * built from the running table's definitions (its defs: every setting of
 * every pair as the load made it) with the new addresses (every pair
 * keeps its state). A reload that
 * installs a table meanwhile makes this refresh moot. Returns 1 when it
 * installed one, 0 when nothing changed, -1 with err on failure (the
 * running table stays). */
int ha_store_refresh(char *err, size_t errlen);

/* Free the replaced tables whose grace has passed and that no process has
 * pinned. Returns how many replaced tables are still kept. */
int ha_store_reap(int64_t now_ms);

/* The transport (ha_transports[]) of a Kamailio protocol (PROTO_UDP, ...);
 * UDP for any other. Can't fail. */
ha_transport_t ha_proto_transport(int proto);

/* Resolve every member of cfg (host names through DNS) and check there is
 * a listen socket to probe each from. It may wait on DNS: call it with no
 * lock held. Returns cfg->npairs * HA_ROLE_COUNT members in private memory
 * (pair i's member of role j at i * HA_ROLE_COUNT + j; addresses, port,
 * protocol, no strings), for the caller to free(); or NULL with err filled
 * ("pair 'x' primary: ..."). */
ha_member_t *ha_cfg_resolve(const ha_cfg_t *cfg, char *err, size_t errlen);

/* Shared memory, for definitions kept with the tables (ha_defs_new()). */
extern const ha_alloc_t ha_alloc_shm;

/* Build a table in shared memory from definitions (the one build path of
 * loads, reloads and DNS refreshes: each pair's settings come from
 * ha_pair_settings()) and their members as ha_cfg_resolve() resolved them
 * (no DNS here: the store's lock is held). The table takes a reference to
 * defs. A pair with the identity of a pair of old (may be NULL) shares
 * its state; any other starts at now_ms (a new pair's start) and is marked
 * is_new. Call with the store's lock held. Returns the table, or NULL with
 * err filled ("pair 'x': ...") and nothing changed. */
ha_table_t *ha_table_build(ha_defs_t *defs, const ha_member_t *res,
		const ha_table_t *old, unsigned int gen, int64_t now_ms, char *err,
		size_t errlen);

/* A pair state is about to be freed: its waiting transactions are let
 * go (they end at their bound). In ha_wait.c. */
void ha_wait_orphan(ha_pstate_t *st);

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

/* Is ip (on port, any port when reliable) one of m's addresses? */
int ha_member_has(
		const ha_member_t *m, const ha_addr_t *ip, int port, int reliable);

/* Convert a Kamailio ip_addr to the pure layer's address. */
void ha_addr_from_ip(ha_addr_t *a, const struct ip_addr *ip);

/* Monotonic clock, in milliseconds. */
int64_t ha_now_ms(void);

#endif
