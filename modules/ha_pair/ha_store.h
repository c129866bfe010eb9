/* ha_store.h - the shared-memory table of pairs of ha_pair. */

#ifndef _HA_STORE_H_
#define _HA_STORE_H_

#include "../../core/str.h"
#include "../../core/ip_addr.h"
#include "../../core/locking.h"

#include "ha_fsm.h"
#include "ha_config.h"

/* One member of a pair: fixed for the life of the table (a change of
 * address comes with a new table). */
typedef struct ha_member
{
	str uri;	  /* as configured: the probe R-URI and what $du becomes */
	str host;	  /* host part, for messages */
	int port;	  /* port probes go to (5060/5061 when none given) */
	int proto;	  /* PROTO_UDP, PROTO_TCP or PROTO_TLS */
	int resolved; /* dst is usable */
	union sockaddr_union dst; /* where probes go */
	ha_addr_t addrs[HA_MAX_ADDRS];
	int naddrs;
} ha_member_t;

typedef struct ha_pair
{
	gen_lock_t lock; /* guards fsm and the members' addresses */
	str name;
	str rr_param; /* ";hapair=<name>", the pair tag */
	int index;
	ha_member_t m[HA_ROLE_COUNT];
	ha_fsm_t fsm;
	int64_t due_ms; /* ha_fsm_next_due(fsm), a hint read without lock */
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
	int npairs;
	ha_pair_t *pairs;
	unsigned int nbuckets; /* a power of two */
	int *name_buckets;
	int *addr_buckets;
	ha_addr_ent_t *addr_ents;
	int naddr_ents;
	int *dom_buckets;
	ha_dom_ent_t *dom_ents;
	int ndom_ents;
} ha_table_t;

/* The running table; set once at start-up (and swapped by reload). */
extern ha_table_t *_ha_table;

/* Build a table in shared memory from a parsed configuration, resolving
 * every member and starting every pair at now_ms (SPEC 2, start). Returns
 * the table, or NULL with err filled ("pair 'x': ...") and nothing left
 * allocated. */
ha_table_t *ha_table_build(const ha_cfg_t *cfg, const ha_codes_t *alive,
		int probe_standby, unsigned int gen, int64_t now_ms, char *err,
		size_t errlen);

/* Free a table that no process uses any more. */
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

/* Convert a Kamailio ip_addr to the pure layer's address. */
void ha_addr_from_ip(ha_addr_t *a, const struct ip_addr *ip);

/* Monotonic clock, in milliseconds. */
int64_t ha_now_ms(void);

#endif
