/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_settings.h - a pair's settings (everything per pair that is neither its
 * state nor its members' addresses), derived from its definition in one
 * place, and the definitions every table is built from (pure: no Kamailio
 * headers). */

#ifndef _HA_SETTINGS_H_
#define _HA_SETTINGS_H_

#include <stddef.h>

#include "ha_config.h"
#include "ha_fsm.h"

/* The module parameters a pair falls back on where the pairs file says
 * nothing about it. */
typedef struct ha_mod_defaults
{
	ha_cfg_defaults_t timings; /* oos_check, oos_force: the parser applies
								* them (ha_cfg_load()), so cfg has them */
	/* what every pair's state machine settings start from (alive_codes,
	 * probe_standby, any module-wide one added later); the pair's own
	 * timings and alive-codes replace theirs */
	ha_fsm_cfg_t fc;
} ha_mod_defaults_t;

/* A pair's settings. Flat and pointer-free on purpose: two compare with
 * memcmp(), and a table takes them with one assignment, so a setting added
 * here reaches every table (load, reload, DNS refresh) with no other line
 * to write. */
typedef struct ha_pair_settings
{
	/* what the state machine reads: timings, alive codes, probe_standby */
	ha_fsm_cfg_t fc;
	/* HA_CFG_TRUST_DEFAULT: the module's member_trust, read where a
	 * request is judged */
	ha_cfg_trust_t member_trust;
} ha_pair_settings_t;

/* The settings of the pair defined by cp under the module's defaults mod:
 * the one derivation every table's pairs go through. *out is zeroed first
 * (padding included, so equal settings compare equal with memcmp()).
 * Returns 0; or -1 with err "pair '<name>': bad alive-codes '<list>'" and
 * *out zeroed (a parsed pairs file has its codes checked already). */
int ha_pair_settings(const ha_cfg_pair_t *cp, const ha_mod_defaults_t *mod,
		ha_pair_settings_t *out, char *err, size_t errlen);

/* The definitions a table is built from: the pairs file as parsed and the
 * module's defaults. The module keeps them in shared memory with the
 * tables built from them, so that a DNS refresh (in its own process)
 * builds its table from them exactly as the load did: nothing of a pair's
 * definition is read back from a running table. Never changed once
 * made. */
typedef struct ha_defs
{
	ha_cfg_t *cfg;
	ha_mod_defaults_t mod;
	int refs; /* who holds them (tables, a refresh resolving them); the
			   * module changes it under the store's lock */
} ha_defs_t;

/* Definitions of cfg and mod in a's memory (cfg is copied whole; the
 * caller keeps cfg). One reference, the caller's. Returns NULL when out
 * of memory (nothing left allocated). */
ha_defs_t *ha_defs_new(
		const ha_cfg_t *cfg, const ha_mod_defaults_t *mod, const ha_alloc_t *a);

/* Drop a reference to d (NULL: nothing), made with a; the last one frees
 * d. Can't fail. */
void ha_defs_put(ha_defs_t *d, const ha_alloc_t *a);

#endif
