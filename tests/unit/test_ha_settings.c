/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_settings.c - Check suite "ha_settings" for a pair's settings
 * (ha_settings.c): the one derivation of every per-pair setting, the
 * definitions a table is built from, and the copy of a configuration they
 * keep (ha_cfg_copy()). That a rebuild (a DNS refresh) gives every pair
 * the very settings the load gave it is compared byte for byte, so a
 * setting added later is covered with no change here. Run by
 * test_ha_config.c's main(). */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ha_config.h"
#include "ha_settings.h"
#include "cfg_util.h"

/* ---- an allocator that counts, poisons and can fail -------------------- */

/* blocks given and not yet released; allocations left before one fails
 * (-1: none fails) */
static int _live = 0;
static int _fail_after = -1;

static void *test_alloc(size_t size)
{
	void *p;

	if(_fail_after == 0)
		return NULL;
	if(_fail_after > 0)
		_fail_after--;
	p = malloc(size);
	if(p == NULL)
		return NULL;
	/* not zeroed: what the code leaves unset shows */
	memset(p, 0xa5, size);
	_live++;
	return p;
}

static void test_release(void *ptr)
{
	_live--;
	free(ptr);
}

static const ha_alloc_t _test_alloc = {test_alloc, test_release};

/* ---- helpers ----------------------------------------------------------- */

static ha_cfg_t *load_settings_xml(void)
{
	char err[HA_ERR_MAX] = "";
	ha_cfg_t *cfg = NULL;

	ck_assert_msg(
			ha_cfg_load(fixture("settings.xml"), &_defs, &cfg, err, sizeof(err))
					== 0,
			"settings.xml: %s", err);
	ck_assert_int_eq(cfg->npairs, 2);
	ck_assert_str_eq(cfg->pairs[0].name, "every");
	ck_assert_str_eq(cfg->pairs[1].name, "bare");
	return cfg;
}

/* Module defaults that differ from the built-in ones too: probe_standby
 * on, alive codes "2xx" (the built-in: any final reply). */
static ha_mod_defaults_t mod_defaults(void)
{
	ha_mod_defaults_t mod;

	memset(&mod, 0, sizeof(mod));
	mod.timings = _defs;
	ck_assert_int_eq(ha_codes_parse("2xx", &mod.fc.alive), 0);
	mod.fc.probe_standby = 1;
	return mod;
}

static ha_pair_settings_t settings_ok(
		const ha_cfg_pair_t *cp, const ha_mod_defaults_t *mod)
{
	ha_pair_settings_t s;
	char err[HA_ERR_MAX] = "";

	ck_assert_msg(ha_pair_settings(cp, mod, &s, err, sizeof(err)) == 0,
			"pair '%s': %s", cp->name, err);
	return s;
}

/* ---- the derivation ---------------------------------------------------- */

START_TEST(test_every_attribute_is_read)
{
	ha_cfg_t *cfg = load_settings_xml();
	ha_mod_defaults_t mod = mod_defaults();
	ha_pair_settings_t s = settings_ok(&cfg->pairs[0], &mod);

	ck_assert_int_eq(s.fc.oos_check_ms, 2500);
	ck_assert_int_eq(s.fc.oos_force_ms, 750);
	ck_assert_int_eq(s.fc.probe_standby, 1);
	ck_assert_int_eq(s.fc.alive.any, 0);
	ck_assert(ha_codes_alive(&s.fc.alive, 404));
	ck_assert(ha_codes_alive(&s.fc.alive, 503));
	/* the pair's list replaces the module's, it does not add to it */
	ck_assert(!ha_codes_alive(&s.fc.alive, 200));
	ck_assert_int_eq(s.member_trust, HA_CFG_TRUST_CONFIRM);
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_bare_pair_takes_the_module_defaults)
{
	ha_cfg_t *cfg = load_settings_xml();
	ha_mod_defaults_t mod = mod_defaults();
	ha_pair_settings_t every = settings_ok(&cfg->pairs[0], &mod);
	ha_pair_settings_t bare = settings_ok(&cfg->pairs[1], &mod);

	ck_assert_int_eq(bare.fc.oos_check_ms, _defs.oos_check_ms);
	ck_assert_int_eq(bare.fc.oos_force_ms, _defs.oos_force_ms);
	ck_assert_int_eq(bare.fc.probe_standby, 1);
	ck_assert_mem_eq(&bare.fc.alive, &mod.fc.alive, sizeof(mod.fc.alive));
	ck_assert_int_eq(bare.member_trust, HA_CFG_TRUST_DEFAULT);
	/* and every setting "every" has is its own: none is a default */
	ck_assert_int_ne(every.fc.oos_check_ms, bare.fc.oos_check_ms);
	ck_assert_int_ne(every.fc.oos_force_ms, bare.fc.oos_force_ms);
	ck_assert(memcmp(&every.fc.alive, &bare.fc.alive, sizeof(bare.fc.alive))
			  != 0);
	ck_assert_int_ne(every.member_trust, bare.member_trust);
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_settings_zeroed_whole)
{
	ha_cfg_t *cfg = load_settings_xml();
	ha_mod_defaults_t mod = mod_defaults();
	ha_pair_settings_t dirty, clean;
	char err[HA_ERR_MAX];

	/* padding and all: what was in *out before does not show */
	memset(&dirty, 0xff, sizeof(dirty));
	memset(&clean, 0, sizeof(clean));
	ck_assert_int_eq(
			ha_pair_settings(&cfg->pairs[0], &mod, &dirty, err, sizeof(err)),
			0);
	ck_assert_int_eq(
			ha_pair_settings(&cfg->pairs[0], &mod, &clean, err, sizeof(err)),
			0);
	ck_assert_mem_eq(&dirty, &clean, sizeof(clean));
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_bad_codes_fail_with_out_zeroed)
{
	ha_cfg_pair_t cp;
	ha_mod_defaults_t mod = mod_defaults();
	ha_pair_settings_t s, zero;
	char err[HA_ERR_MAX] = "";

	memset(&cp, 0, sizeof(cp));
	strcpy(cp.name, "p");
	cp.alive_codes = "2xx,bogus";
	memset(&s, 0xff, sizeof(s));
	memset(&zero, 0, sizeof(zero));
	ck_assert_int_eq(ha_pair_settings(&cp, &mod, &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "pair 'p': bad alive-codes '2xx,bogus'");
	ck_assert_mem_eq(&s, &zero, sizeof(zero));
}
END_TEST

/* ---- a rebuild, as a DNS refresh makes one ----------------------------- */

/* The load derives each pair's settings from the parsed file and keeps
 * the definitions (in shared memory: here in memory that is poisoned when
 * given); the parsed file is freed. A refresh resolves the members again
 * and builds from the kept definitions: the settings it derives must be
 * the load's, byte for byte. The members' addresses are no input of the
 * derivation, so new ones cannot change them. */
START_TEST(test_rebuild_keeps_every_setting)
{
	ha_cfg_t *cfg = load_settings_xml();
	ha_mod_defaults_t mod = mod_defaults();
	ha_pair_settings_t loaded[2], rebuilt;
	ha_defs_t *defs;
	const ha_cfg_pair_t *cp;
	char name[2][HA_NAME_MAX + 1];
	int i;

	for(i = 0; i < cfg->npairs; i++) {
		loaded[i] = settings_ok(&cfg->pairs[i], &mod);
		strcpy(name[i], cfg->pairs[i].name);
	}
	defs = ha_defs_new(cfg, &mod, &_test_alloc);
	ck_assert_ptr_nonnull(defs);
	ck_assert_int_eq(defs->refs, 1);
	ha_cfg_free(cfg); /* the definitions share nothing with it */
	ck_assert_mem_eq(&defs->mod, &mod, sizeof(mod));
	ck_assert_int_eq(defs->cfg->npairs, 2);
	for(i = 0; i < defs->cfg->npairs; i++) {
		cp = &defs->cfg->pairs[i];
		ck_assert_str_eq(cp->name, name[i]);
		rebuilt = settings_ok(cp, &defs->mod);
		ck_assert_mem_eq(&rebuilt, &loaded[i], sizeof(rebuilt));
	}
	/* and what is no setting: the members and domains, as written */
	cp = &defs->cfg->pairs[0];
	ck_assert_str_eq(cp->uri[0], "sip:primary.example.com:5060");
	ck_assert_str_eq(cp->uri[1], "sip:backup.example.com:5070;transport=tcp");
	ck_assert_str_eq(cp->parsed[0].host, "primary.example.com");
	ck_assert_int_eq(cp->parsed[1].transport, HA_TR_TCP);
	ck_assert_int_eq(cp->ndomains, 2);
	ck_assert_str_eq(cp->domains[0], "sip.example.com");
	ck_assert_str_eq(cp->domains[1], "sip2.example.com");
	ck_assert_ptr_null(defs->cfg->pairs[1].alive_codes);
	ck_assert_ptr_null(defs->cfg->pairs[1].domains);
	ha_defs_put(defs, &_test_alloc);
	ck_assert_int_eq(_live, 0);
}
END_TEST

START_TEST(test_defs_freed_with_the_last_reference)
{
	ha_cfg_t *cfg = load_settings_xml();
	ha_mod_defaults_t mod = mod_defaults();
	ha_defs_t *defs = ha_defs_new(cfg, &mod, &_test_alloc);

	ha_cfg_free(cfg);
	ck_assert_ptr_nonnull(defs);
	defs->refs++; /* a table takes it */
	ha_defs_put(defs, &_test_alloc);
	ck_assert_int_gt(_live, 0);
	ck_assert_int_eq(defs->refs, 1);
	ha_defs_put(defs, &_test_alloc);
	ck_assert_int_eq(_live, 0);
	ha_defs_put(NULL, &_test_alloc);
}
END_TEST

/* Out of memory at each allocation in turn: NULL, and nothing left
 * allocated. */
START_TEST(test_defs_out_of_memory)
{
	ha_cfg_t *cfg = load_settings_xml();
	ha_mod_defaults_t mod = mod_defaults();
	ha_defs_t *defs;
	int n;

	for(n = 0;; n++) {
		_fail_after = n;
		defs = ha_defs_new(cfg, &mod, &_test_alloc);
		_fail_after = -1;
		if(defs != NULL)
			break;
		ck_assert_int_eq(_live, 0);
	}
	/* defs, cfg, pairs, every's 2 URIs, codes, domain list, 2 domains,
	 * bare's 2 URIs */
	ck_assert_int_eq(n, 11);
	ha_defs_put(defs, &_test_alloc);
	ck_assert_int_eq(_live, 0);
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_copy_of_no_pairs)
{
	ha_cfg_t empty = {NULL, 0};
	ha_cfg_t *c = ha_cfg_copy(&empty, &_test_alloc);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->npairs, 0);
	ck_assert_ptr_null(c->pairs);
	ha_cfg_release(c, &_test_alloc);
	ck_assert_int_eq(_live, 0);
}
END_TEST

/* ---- suite ------------------------------------------------------------- */

static void reset_alloc(void)
{
	_live = 0;
	_fail_after = -1;
}

Suite *ha_settings_suite(void)
{
	Suite *s = suite_create("ha_settings");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, reset_alloc, NULL);
	tcase_add_test(tc, test_every_attribute_is_read);
	tcase_add_test(tc, test_bare_pair_takes_the_module_defaults);
	tcase_add_test(tc, test_settings_zeroed_whole);
	tcase_add_test(tc, test_bad_codes_fail_with_out_zeroed);
	tcase_add_test(tc, test_rebuild_keeps_every_setting);
	tcase_add_test(tc, test_defs_freed_with_the_last_reference);
	tcase_add_test(tc, test_defs_out_of_memory);
	tcase_add_test(tc, test_copy_of_no_pairs);
	suite_add_tcase(s, tc);
	return s;
}
