/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_settings.c - a pair's settings derived from its definition, and the
 * definitions a table is built from (pure: no Kamailio headers, no
 * logging). */

#include <stdio.h>
#include <string.h>

#include "ha_settings.h"
#include "ha_codes.h"
#include "ha_config.h"

int ha_pair_settings(const ha_cfg_pair_t *cp, const ha_mod_defaults_t *mod,
		ha_pair_settings_t *out, char *err, size_t errlen)
{
	/* zeroed whole, not field by field: padding too, so that equal
	 * settings are equal bytes */
	memset(out, 0, sizeof(*out));
	/* the module's, bytes and all, then what the pair says */
	memcpy(&out->fc, &mod->fc, sizeof(out->fc));
	out->fc.oos_check_ms = cp->oos_check_ms;
	out->fc.oos_force_ms = cp->oos_force_ms;
	if(cp->alive_codes != NULL
			&& ha_codes_parse(cp->alive_codes, &out->fc.alive) < 0) {
		snprintf(err, errlen, "pair '%s': bad alive-codes '%s'", cp->name,
				cp->alive_codes);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->member_trust = cp->member_trust;
	return 0;
}

ha_defs_t *ha_defs_new(
		const ha_cfg_t *cfg, const ha_mod_defaults_t *mod, const ha_alloc_t *a)
{
	ha_defs_t *d;

	d = a->alloc(sizeof(*d));
	if(d == NULL)
		return NULL;
	memset(d, 0, sizeof(*d));
	d->cfg = ha_cfg_copy(cfg, a);
	if(d->cfg == NULL) {
		a->release(d);
		return NULL;
	}
	memcpy(&d->mod, mod, sizeof(d->mod)); /* padding too */
	d->refs = 1;
	return d;
}

void ha_defs_put(ha_defs_t *d, const ha_alloc_t *a)
{
	if(d == NULL || --d->refs > 0)
		return;
	ha_cfg_release(d->cfg, a);
	a->release(d);
}
