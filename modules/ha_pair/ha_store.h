/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_store.h - which table of pairs runs (ha_store.c): loads, reloads
 * and DNS refreshes swap tables, readers pin the one they use. */

#ifndef _HA_STORE_H_
#define _HA_STORE_H_

#include "../../core/str.h"
#include "../../core/ip_addr.h"
#include "../../core/locking.h"

#include "ha_table.h"

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
 * takes its new timings from its next probe; a new pair starts (docs/ha_pair.md, How it decides);
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

/* How often the prober frees replaced tables (ha_store_reap()). */
#define HA_REAP_EVERY_MS 1000

/* The "ha_pair dns" process's timer: every dns_refresh seconds, resolve
 * member host names again, and swap in new addresses when they changed. */
void ha_store_refresh_timer(unsigned int ticks, void *param);

#endif
