/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_config.c - Check suite "ha_config" for the pairs file parser
 * (ha_config.c): valid pairs files and what is read from them; and
 * main(), which runs it with the parser's other suites, one a concern:
 *
 *   test_ha_config_invalid.c  files refused, each with file:line: reason
 *                             (every file under tests/data/bad/), paths
 *                             that are no pairs file
 *   test_ha_config_api.c      ha_cfg_load_mem(), the error buffer,
 *                             libxml2's handlers, out of memory,
 *                             ha_duration_parse(), ha_name_valid()
 *   test_ha_config_uri.c      member URIs and hosts, the transports
 *                             table (ha_uri.c)
 *   test_ha_settings.c        a pair's settings derived in one place, the
 *                             definitions a rebuild builds from
 *                             (ha_settings.c, ha_cfg_copy())
 *
 * cfg_util.c/.h is what they share (fixtures, defaults, checks). One suite
 * alone: CK_RUN_SUITE=ha_config_uri build/unit/test_ha_config. */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "ha_config.h"
#include "cfg_util.h"

/* ---- helpers ----------------------------------------------------------- */

static ha_cfg_t *load_ok(const char *rel)
{
	char err[HA_ERR_MAX] = "";
	ha_cfg_t *cfg = NULL;
	const char *path = fixture(rel);
	int rc;

	rc = ha_cfg_load(path, &_defs, &cfg, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: expected success, got %d: %s", path, rc, err);
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

static const ha_cfg_pair_t *find_pair(const ha_cfg_t *cfg, const char *name)
{
	int i;

	for(i = 0; i < cfg->npairs; i++) {
		if(strcmp(cfg->pairs[i].name, name) == 0)
			return &cfg->pairs[i];
	}
	ck_abort_msg("pair '%s' not found", name);
	return NULL;
}

/* ---- valid files ------------------------------------------------------- */

START_TEST(test_minimal_pair_gets_defaults)
{
	ha_cfg_t *cfg = load_ok("minimal.xml");
	const ha_cfg_pair_t *p;

	ck_assert_int_eq(cfg->npairs, 1);
	p = &cfg->pairs[0];
	ck_assert_str_eq(p->name, "p1");
	ck_assert_int_eq(p->line, 2);
	ck_assert_int_eq(p->oos_check_ms, 4000);
	ck_assert_int_eq(p->oos_force_ms, 3000);
	ck_assert_ptr_null(p->alive_codes);
	ck_assert_str_eq(p->uri[0], "sip:10.0.0.11:5060");
	ck_assert_str_eq(p->uri[1], "sip:10.0.0.12:5060");
	check_uri(&p->parsed[0], "10.0.0.11", 5060, HA_TR_UDP, 0, 1, 0, 0);
	check_uri(&p->parsed[1], "10.0.0.12", 5060, HA_TR_UDP, 0, 1, 0, 0);
	ck_assert_int_eq(p->ndomains, 0);
	ck_assert_ptr_null(p->domains);
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_null_defaults_mean_5s)
{
	char err[HA_ERR_MAX] = "";
	ha_cfg_t *cfg = NULL;

	ck_assert_int_eq(
			ha_cfg_load(fixture("minimal.xml"), NULL, &cfg, err, sizeof(err)),
			0);
	ck_assert_int_eq(cfg->pairs[0].oos_check_ms, 5000);
	ck_assert_int_eq(cfg->pairs[0].oos_force_ms, 5000);
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_member_trust_read)
{
	ha_cfg_t *cfg = load_ok("member_trust.xml");

	ck_assert_int_eq(cfg->npairs, 4);
	/* absent: the module parameter decides */
	ck_assert_int_eq(cfg->pairs[0].member_trust, HA_CFG_TRUST_DEFAULT);
	ck_assert_int_eq(cfg->pairs[1].member_trust, HA_CFG_TRUST_ANY);
	ck_assert_int_eq(cfg->pairs[2].member_trust, HA_CFG_TRUST_TRANSPORT);
	ck_assert_int_eq(cfg->pairs[3].member_trust, HA_CFG_TRUST_CONFIRM);
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_all_attributes_read)
{
	ha_cfg_t *cfg = load_ok("all_attrs.xml");
	const ha_cfg_pair_t *p;

	ck_assert_int_eq(cfg->npairs, 1);
	p = &cfg->pairs[0];
	ck_assert_str_eq(p->name, "all-attrs_1.x");
	/* libxml2 numbers an element by the line where its start tag ends */
	ck_assert_int_eq(p->line, 4);
	ck_assert_int_eq(p->oos_check_ms, 2500);
	ck_assert_int_eq(p->oos_force_ms, 750);
	/* blanks dropped, classes in lower case */
	ck_assert_str_eq(p->alive_codes, "2xx,404,5xx");
	ck_assert_int_eq(p->member_trust, HA_CFG_TRUST_TRANSPORT);
	check_uri(&p->parsed[1], "10.0.0.12", 5070, HA_TR_TCP, 1, 1, 0, 0);
	ck_assert_int_eq(p->ndomains, 1);
	ck_assert_str_eq(p->domains[0], "sip.example.com");
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_duration_bounds_accepted)
{
	ha_cfg_t *cfg = load_ok("durations.xml");
	const ha_cfg_pair_t *p;

	ck_assert_int_eq(cfg->npairs, 3);
	p = find_pair(cfg, "lowest");
	ck_assert_int_eq(p->oos_check_ms, 50);
	ck_assert_int_eq(p->oos_force_ms, 50);
	check_uri(&p->parsed[0], "10.0.0.1", 0, HA_TR_UDP, 0, 1, 0, 0);
	p = find_pair(cfg, "highest");
	ck_assert_int_eq(p->oos_check_ms, 300000);
	ck_assert_int_eq(p->oos_force_ms, 32000);
	p = find_pair(cfg, "plain");
	ck_assert_int_eq(p->oos_check_ms, 1234);
	ck_assert_int_eq(p->oos_force_ms, 1001);
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_uri_kinds)
{
	ha_cfg_t *cfg = load_ok("uris.xml");
	const ha_cfg_pair_t *p;

	ck_assert_int_eq(cfg->npairs, 4);
	p = find_pair(cfg, "v4");
	check_uri(&p->parsed[0], "10.0.0.11", 5060, HA_TR_UDP, 0, 1, 0, 0);
	check_uri(&p->parsed[1], "10.0.0.12", 0, HA_TR_UDP, 0, 1, 0, 0);
	p = find_pair(cfg, "v6");
	ck_assert_str_eq(p->uri[0], "sip:[2001:db8::11]:5060");
	check_uri(&p->parsed[0], "2001:db8::11", 5060, HA_TR_UDP, 0, 1, 1, 0);
	check_uri(&p->parsed[1], "2001:DB8::12", 0, HA_TR_TCP, 1, 1, 1, 0);
	p = find_pair(cfg, "names");
	check_uri(&p->parsed[0], "sip-a.example.com", 5080, HA_TR_TLS, 1, 0, 0, 0);
	check_uri(&p->parsed[1], "sip-b.example.com.", 0, HA_TR_UDP, 0, 0, 0, 0);
	p = find_pair(cfg, "secure");
	check_uri(&p->parsed[0], "10.0.0.21", 5061, HA_TR_TLS, 0, 1, 0, 1);
	check_uri(&p->parsed[1], "10.0.0.22", 0, HA_TR_TLS, 1, 1, 0, 1);
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_multiple_domains_trimmed)
{
	ha_cfg_t *cfg = load_ok("domains.xml");
	const ha_cfg_pair_t *p = &cfg->pairs[0];

	ck_assert_int_eq(p->ndomains, 3);
	ck_assert_str_eq(p->domains[0], "one.example.com");
	ck_assert_str_eq(p->domains[1], "two.example.com");
	ck_assert_str_eq(p->domains[2], "10.1.2.3");
	ck_assert_str_eq(p->uri[0], "sip:10.0.0.11");
	ck_assert_str_eq(p->uri[1], "sip:10.0.0.12");
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_several_pairs_in_file_order)
{
	ha_cfg_t *cfg = load_ok("several.xml");

	ck_assert_int_eq(cfg->npairs, 3);
	ck_assert_str_eq(cfg->pairs[0].name, "a");
	ck_assert_int_eq(cfg->pairs[0].line, 5);
	ck_assert_int_eq(cfg->pairs[0].oos_check_ms, 1000);
	ck_assert_int_eq(cfg->pairs[0].oos_force_ms, 3000);
	ck_assert_str_eq(cfg->pairs[1].name, "b");
	ck_assert_int_eq(cfg->pairs[1].line, 11);
	ck_assert_int_eq(cfg->pairs[1].oos_check_ms, 4000);
	ck_assert_int_eq(cfg->pairs[1].oos_force_ms, 100);
	/* backup written first: still uri[1] */
	ck_assert_str_eq(cfg->pairs[1].uri[0], "sip:10.0.0.3:5060");
	ck_assert_str_eq(cfg->pairs[1].uri[1], "sip:10.0.0.4:5060");
	ck_assert_str_eq(cfg->pairs[1].domains[0], "b.example.com");
	ck_assert_str_eq(cfg->pairs[2].name, "c");
	ck_assert_str_eq(cfg->pairs[2].alive_codes, "200");
	ck_assert_int_eq(cfg->pairs[2].ndomains, 0);
	ha_cfg_free(cfg);
}
END_TEST

/* Saved by a Windows editor: byte order mark and CRLF line ends. */
START_TEST(test_bom_and_crlf_accepted)
{
	ha_cfg_t *cfg = load_ok("bom_crlf.xml");

	ck_assert_int_eq(cfg->npairs, 1);
	ck_assert_str_eq(cfg->pairs[0].name, "win");
	ck_assert_int_eq(cfg->pairs[0].line, 4);
	ck_assert_str_eq(cfg->pairs[0].uri[1], "sip:10.0.0.12:5060");
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_empty_ha_pairs_is_valid)
{
	ha_cfg_t *cfg = load_ok("empty_pairs.xml");

	ck_assert_int_eq(cfg->npairs, 0);
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_example_config_loads)
{
	const char *path = getenv("HA_TEST_CONFIG");
	char err[HA_ERR_MAX] = "";
	ha_cfg_t *cfg = NULL;
	const ha_cfg_pair_t *p;

	if(path == NULL || path[0] == '\0')
		path = "config/ha_pairs.xml";
	ck_assert_msg(
			ha_cfg_load(path, &_defs, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg->npairs, 1);
	p = &cfg->pairs[0];
	ck_assert_str_eq(p->name, "sipserver1");
	ck_assert_int_eq(p->oos_check_ms, 1000);
	ck_assert_int_eq(p->oos_force_ms, 500);
	ck_assert_str_eq(p->uri[0], "sip:127.0.0.2:5060");
	ck_assert_str_eq(p->uri[1], "sip:127.0.0.3:5060");
	ck_assert_int_eq(p->ndomains, 1);
	ck_assert_str_eq(p->domains[0], "sipserver1.example.com");
	ha_cfg_free(cfg);
}
END_TEST

START_TEST(test_loading_twice_gives_the_same)
{
	ha_cfg_t *a = load_ok("several.xml");
	ha_cfg_t *b = load_ok("several.xml");
	int i;

	ck_assert_int_eq(a->npairs, b->npairs);
	for(i = 0; i < a->npairs; i++) {
		ck_assert_str_eq(a->pairs[i].name, b->pairs[i].name);
		ck_assert_str_eq(a->pairs[i].uri[0], b->pairs[i].uri[0]);
		ck_assert_int_eq(a->pairs[i].oos_check_ms, b->pairs[i].oos_check_ms);
	}
	ha_cfg_free(a);
	ha_cfg_free(b);
}
END_TEST

/* ---- suite ------------------------------------------------------------- */

Suite *ha_config_suite(void)
{
	Suite *s = suite_create("ha_config");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_test(tc, test_minimal_pair_gets_defaults);
	tcase_add_test(tc, test_null_defaults_mean_5s);
	tcase_add_test(tc, test_all_attributes_read);
	tcase_add_test(tc, test_member_trust_read);
	tcase_add_test(tc, test_duration_bounds_accepted);
	tcase_add_test(tc, test_uri_kinds);
	tcase_add_test(tc, test_multiple_domains_trimmed);
	tcase_add_test(tc, test_several_pairs_in_file_order);
	tcase_add_test(tc, test_bom_and_crlf_accepted);
	tcase_add_test(tc, test_empty_ha_pairs_is_valid);
	tcase_add_test(tc, test_example_config_loads);
	tcase_add_test(tc, test_loading_twice_gives_the_same);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ha_config_suite());
	int failed;

	srunner_add_suite(sr, ha_config_invalid_suite());
	srunner_add_suite(sr, ha_config_api_suite());
	srunner_add_suite(sr, ha_config_uri_suite());
	srunner_add_suite(sr, ha_settings_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	xmlCleanupParser();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
