/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_config.h - pairs file parser of ha_pair (libxml2, no Kamailio headers);
 * member URIs and transports are in ha_uri.h. */

#ifndef _HA_CONFIG_H_
#define _HA_CONFIG_H_

#include <stddef.h>

#include "ha_uri.h"

#define HA_NAME_MAX 64
#define HA_CHECK_MIN_MS 50
#define HA_CHECK_MAX_MS 300000
#define HA_FORCE_MIN_MS 50
#define HA_FORCE_MAX_MS 32000
/* the defaults of oos_check and oos_force (the module parameters, and
 * the pairs file's without them): the one place they are set */
#define HA_CHECK_DEFAULT_MS 5000
#define HA_FORCE_DEFAULT_MS 5000
#define HA_FILE_MAX_BYTES (16 * 1024 * 1024)
#define HA_ERR_MAX 512

/* A pair's member-trust attribute. HA_CFG_TRUST_DEFAULT (0, what a zeroed
 * pair has): not set, the module parameter member_trust applies. */
typedef enum ha_cfg_trust
{
	HA_CFG_TRUST_DEFAULT = 0,
	HA_CFG_TRUST_ANY,
	HA_CFG_TRUST_TRANSPORT,
	HA_CFG_TRUST_CONFIRM,
	HA_CFG_TRUST_COUNT
} ha_cfg_trust_t;

typedef struct ha_cfg_pair
{
	char name[HA_NAME_MAX + 1];
	char *uri[2]; /* [0] primary, [1] backup, as written */
	ha_uri_t parsed[2];
	int oos_check_ms;
	int oos_force_ms;
	char *alive_codes; /* NULL: module default */
	ha_cfg_trust_t member_trust;
	char **domains;
	int ndomains;
	int line; /* line of <pair> in the file */
} ha_cfg_pair_t;

typedef struct ha_cfg
{
	ha_cfg_pair_t *pairs;
	int npairs;
} ha_cfg_t;

typedef struct ha_cfg_defaults
{
	int oos_check_ms;
	int oos_force_ms;
} ha_cfg_defaults_t;

/* Parse and validate the pairs file at path against the compiled-in schema
 * and the rules of docs/ha_pair.md, The pairs file. On success 0 is returned and *out owns a
 * new configuration (free it with ha_cfg_free()). On failure a negative
 * value is returned, *out is left NULL and err holds one line
 * "<path>:<line>: <reason>" (line 0 when the fault has no line, e.g. an
 * unreadable file). Never fetches from the network, never loads a DTD and
 * refuses any DOCTYPE (so no entity can be expanded). */
int ha_cfg_load(const char *path, const ha_cfg_defaults_t *defs, ha_cfg_t **out,
		char *err, size_t errlen);

/* Same, from a buffer; name is used in messages in place of a path. */
int ha_cfg_load_mem(const char *buf, size_t len, const char *name,
		const ha_cfg_defaults_t *defs, ha_cfg_t **out, char *err,
		size_t errlen);

/* Free a configuration ha_cfg_load() made (NULL: nothing). */
void ha_cfg_free(ha_cfg_t *cfg);

/* Where a configuration's memory comes from: the parser's is malloc()'s
 * (ha_alloc_libc); a copy may live elsewhere (the module keeps one in
 * shared memory). */
typedef struct ha_alloc
{
	void *(*alloc)(size_t size); /* NULL when out of memory */
	void (*release)(void *ptr);
} ha_alloc_t;

extern const ha_alloc_t ha_alloc_libc;

/* A deep copy of cfg in a's memory: every pair whole, its strings copied
 * (nothing shared with cfg). Returns NULL when out of memory (nothing left
 * allocated). Free it with ha_cfg_release(copy, a). */
ha_cfg_t *ha_cfg_copy(const ha_cfg_t *cfg, const ha_alloc_t *a);

/* Free cfg (NULL: nothing), all of whose memory came from a. */
void ha_cfg_release(ha_cfg_t *cfg, const ha_alloc_t *a);

/* Parse a duration: a plain integer (ms), or a number followed by "ms" or
 * "s" (seconds may have a fraction, e.g. "1.5s"). Returns 0 and the value
 * in *ms, -1 when the text is not a duration, -2 when it is one but does
 * not fit an int of milliseconds. */
int ha_duration_parse(const char *s, int *ms);

/* Is name a valid pair name (1..64 of letters, digits, '-', '_', '.')? */
int ha_name_valid(const char *name);

#endif
