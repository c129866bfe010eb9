/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_config.c - Check suite "ha_config": the pairs file parser. */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "ha_config.h"

/* Defaults that differ from the built-in 5000/5000, so that a test can tell
 * "default applied" from "attribute read". */
static const ha_cfg_defaults_t _defs = {4000, 3000};

/* ---- helpers ----------------------------------------------------------- */

static const char *data_dir(void)
{
	const char *d = getenv("HA_TEST_DATA");
	return (d != NULL && d[0] != '\0') ? d : "tests/data";
}

/* Path of a fixture; valid until the next call. */
static const char *fixture(const char *rel)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s", data_dir(), rel);
	return buf;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

/* The error must be exactly one line "<path>:<line>: ..." containing
 * reason. */
static void check_err(
		const char *err, const char *path, int line, const char *reason)
{
	char prefix[4200];

	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
			"expected prefix '%s', got '%s'", prefix, err);
	ck_assert_msg(strstr(err + strlen(prefix), reason) != NULL,
			"expected '%s' in '%s'", reason, err);
	ck_assert_msg(strchr(err, '\n') == NULL, "not one line: '%s'", err);
	ck_assert_uint_lt(strlen(err), HA_ERR_MAX);
}

/* ha_cfg_load(path) must fail with that line and reason, leaving out NULL. */
static void load_fails(const char *path, int line, const char *reason)
{
	char err[HA_ERR_MAX] = "";
	ha_cfg_t *cfg = (ha_cfg_t *)&cfg; /* must be reset to NULL */
	int rc;

	rc = ha_cfg_load(path, &_defs, &cfg, err, sizeof(err));
	ck_assert_msg(rc < 0, "%s: expected failure, got %d", path, rc);
	ck_assert_ptr_null(cfg);
	check_err(err, path, line, reason);
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

static void check_uri(const ha_uri_t *u, const char *host, int port,
		ha_transport_t tr, int tr_set, int is_ip, int is_ipv6, int secure)
{
	ck_assert_str_eq(u->host, host);
	ck_assert_int_eq(u->port, port);
	ck_assert_str_eq(ha_transports[u->transport].name, ha_transports[tr].name);
	ck_assert_int_eq(u->transport_set, tr_set);
	ck_assert_int_eq(u->is_ip, is_ip);
	ck_assert_int_eq(u->is_ipv6, is_ipv6);
	ck_assert_int_eq(u->secure, secure);
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

/* ---- invalid files ----------------------------------------------------- */

typedef struct bad_case
{
	const char *file; /* under bad/ */
	int line;
	const char *reason;
} bad_case_t;

static const bad_case_t _bad[] = {
		/* not well-formed XML */
		{"empty.xml", 0, "empty file"},
		{"truncated.xml", 5, "XML: Premature end of data in tag pair"},
		{"truncated_attr.xml", 4, "XML: AttValue"},
		{"mismatched_tag.xml", 5, "XML: Opening and ending tag mismatch"},
		{"trailing_garbage.xml", 7, "XML: Extra content at the end"},
		{"non_utf8.xml", 5, "XML: Input is not proper UTF-8"},
		{"undefined_entity.xml", 5, "XML: Entity 'host' not defined"},
		{"whitespace_only.xml", 4, "XML: Start tag expected, '<' not found"},
		{"binary_garbage.xml", 1, "XML: Start tag expected, '<' not found"},
		{"root_only.xml", 1, "XML: Premature end of data in tag ha_pairs"},
		{"nul_byte.xml", 4, "XML: Char 0x0 out of allowed range"},
		{"comment_unterminated.xml", 8, "XML: Comment not terminated"},
		{"attribute_twice.xml", 2, "XML: Attribute name redefined"},
		{"deep_nesting.xml", 2, "XML: Excessive depth in document: 256"},
		/* not a file */
		{"directory.xml", 0, "not a regular file"},
		/* no DTD, no entities */
		{"entity_bomb.xml", 2, "DOCTYPE not allowed (no DTD, no entities)"},
		{"external_entity.xml", 2, "DOCTYPE not allowed (no DTD, no entities)"},
		{"external_dtd.xml", 3, "DOCTYPE not allowed (no DTD, no entities)"},
		{"doctype_plain.xml", 1, "DOCTYPE not allowed (no DTD, no entities)"},
		/* structure: the schema */
		{"wrong_root.xml", 2,
				"schema: Element 'pairs': No matching global declaration"},
		{"wrong_namespace.xml", 1,
				"schema: Element '{urn:example:ha}ha_pairs': No matching"},
		{"unknown_element.xml", 5,
				"schema: Element 'weight': This element is not expected"},
		{"unknown_top_element.xml", 6,
				"schema: Element 'settings': This element is not expected"},
		{"unknown_attribute.xml", 2,
				"schema: Element 'pair', attribute 'weight': The attribute "
				"'weight' is not allowed"},
		{"unknown_member_attribute.xml", 4,
				"schema: Element 'backup', attribute 'priority'"},
		{"missing_name.xml", 2,
				"schema: Element 'pair': The attribute 'name' is required"},
		{"missing_uri.xml", 4,
				"schema: Element 'backup': The attribute 'uri' is required"},
		{"text_in_pair.xml", 2,
				"schema: Element 'pair': Character content other than "
				"whitespace is not allowed"},
		{"text_in_member.xml", 3,
				"schema: Element 'primary': Character content is not allowed"},
		{"xinclude.xml", 6,
				"schema: Element '{http://www.w3.org/2001/XInclude}include': "
				"This element is not expected"},
		/* pairs and members */
		{"duplicate_name.xml", 10,
				"duplicate pair name 'dup' (first defined at line 2)"},
		{"missing_primary.xml", 2, "pair 'p1': missing <primary>"},
		{"missing_backup.xml", 2, "pair 'p1': missing <backup>"},
		{"two_primaries.xml", 5, "pair 'p1': more than one <primary>"},
		{"two_backups.xml", 4, "pair 'p1': more than one <backup>"},
		{"same_uri.xml", 2,
				"pair 'p1': primary and backup have the same URI "
				"'sip:10.0.0.11:5060'"},
		{"same_uri_default_port.xml", 2,
				"primary and backup have the same URI 'sip:10.0.0.11'"},
		{"same_uri_ipv6.xml", 2,
				"primary and backup have the same URI "
				"'sip:[2001:db8::1]:5060'"},
		{"empty_name.xml", 2,
				"bad pair name '': 1 to 64 letters, digits, '-', '_' or '.'"},
		{"long_name.xml", 2,
				"bad pair name "
				"'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
				"nn"
				"nn': 1 to 64"},
		{"name_space.xml", 2, "bad pair name 'my pair': 1 to 64 letters"},
		{"huge_name.xml", 2,
				"bad pair name "
				"'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
				"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...': 1 to 64 letters"},
		{"pair_empty.xml", 2, "pair 'p1': missing <primary>"},
		/* URIs */
		{"bad_scheme.xml", 3,
				"pair 'p1': bad URI 'http://10.0.0.11:5060': scheme must be "
				"sip: or sips:"},
		{"bad_ipv4.xml", 4,
				"bad URI 'sip:10.0.0.256:5060': bad IPv4 address '10.0.0.256'"},
		{"bad_ipv4_parts.xml", 3,
				"bad URI 'sip:10.0.0:5060': bad IPv4 address '10.0.0'"},
		{"bad_ipv6.xml", 4,
				"bad URI 'sip:[2001:db8::zz]:5060': bad IPv6 address "
				"'[2001:db8::zz]'"},
		{"bad_hostname.xml", 3, "bad host name '-bad.example.com'"},
		{"port_zero.xml", 3,
				"bad URI 'sip:10.0.0.11:0': bad port '0': must be 1 to 65535"},
		{"port_70000.xml", 4, "bad port '70000': must be 1 to 65535"},
		{"port_abc.xml", 3, "bad port 'abc': must be 1 to 65535"},
		{"bad_transport.xml", 4, "unsupported transport 'sctp'"},
		{"port_huge.xml", 4,
				"bad port '99999999999999999999': must be 1 to 65535"},
		{"uri_empty.xml", 4, "pair 'p1': bad URI '': empty URI"},
		{"uri_huge_host.xml", 4,
				"pair 'p1': bad URI 'sip:"
				"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
				"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh...': "
				"bad host name"},
		{"sips_udp.xml", 3, "a sips: URI cannot use transport=udp"},
		{"uri_headers.xml", 3, "headers ('?') are not allowed"},
		{"uri_space.xml", 3,
				"bad URI 'sip: 10.0.0.11:5060': URI must not contain spaces"},
		/* durations */
		{"duration_garbage.xml", 2,
				"pair 'p1': bad duration 'abc' for oos-check"},
		{"duration_negative.xml", 2, "bad duration '-5s' for oos-check"},
		{"duration_unit.xml", 2, "bad duration '5m' for oos-check"},
		{"duration_empty.xml", 2, "pair 'p1': bad duration '' for oos-force"},
		{"duration_zero.xml", 2,
				"pair 'p1': oos-force 0ms out of range (50 ms to 32 s)"},
		{"duration_49ms.xml", 2,
				"pair 'p1': oos-check 49ms out of range (50 ms to 300 s)"},
		{"check_301s.xml", 2, "oos-check 301s out of range (50 ms to 300 s)"},
		{"force_33s.xml", 2, "oos-force 33s out of range (50 ms to 32 s)"},
		{"duration_overflow.xml", 2,
				"oos-check '99999999999s' out of range (50 ms to 300 s)"},
		/* alive-codes */
		{"alive_codes_bad.xml", 2,
				"pair 'p1': bad alive-codes '2xx,700': '700' is neither a "
				"code 100-699 nor a class 1xx-6xx"},
		{"alive_codes_empty.xml", 2, "bad alive-codes '': empty list"},
		{"alive_codes_empty_item.xml", 2,
				"bad alive-codes '2xx,,404': empty item"},
		/* member-trust */
		{"member_trust_bad.xml", 2,
				"pair 'p1': bad member-trust 'Confirm': confirm, transport or "
				"any"},
		{"member_trust_empty.xml", 2, "pair 'p1': bad member-trust ''"},
		/* domains */
		{"empty_domain.xml", 5, "pair 'p1': empty <domain>"},
		{"bad_domain.xml", 5,
				"pair 'p1': bad domain 'p1 example.com': bad host name"},
		{"duplicate_domain.xml", 10,
				"pair 'p2': domain 'Shared.Example.COM' already belongs to "
				"pair 'p1' (line 5)"},
};

#define N_BAD ((int)(sizeof(_bad) / sizeof(_bad[0])))

START_TEST(test_bad_fixture_refused_with_line_and_reason)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "bad/%s", _bad[_i].file);
	load_fails(fixture(rel), _bad[_i].line, _bad[_i].reason);
}
END_TEST

/* Every file under bad/ has its expected reason in the table, so none is
 * silently untested. */
START_TEST(test_every_bad_fixture_is_listed)
{
	char dir[4096];
	struct dirent *de;
	DIR *d;
	int i, n = 0;

	snprintf(dir, sizeof(dir), "%s", fixture("bad"));
	d = opendir(dir);
	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	while((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if(len < 4 || strcmp(de->d_name + len - 4, ".xml") != 0)
			continue;
		for(i = 0; i < N_BAD; i++) {
			if(strcmp(_bad[i].file, de->d_name) == 0)
				break;
		}
		ck_assert_msg(
				i < N_BAD, "bad/%s has no entry in the table", de->d_name);
		n++;
	}
	closedir(d);
	ck_assert_int_eq(n, N_BAD);
	ck_assert_int_ge(n, 30);
}
END_TEST

/* The entity bomb and friends are refused before any entity or DTD is
 * looked at: it takes no time and fetches nothing. */
START_TEST(test_doctype_refused_quickly)
{
	static const char *files[] = {"bad/entity_bomb.xml",
			"bad/external_entity.xml", "bad/external_dtd.xml"};
	char err[HA_ERR_MAX];
	ha_cfg_t *cfg = NULL;
	double t0, dt;
	size_t i;

	for(i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		t0 = now_s();
		ck_assert_int_lt(
				ha_cfg_load(fixture(files[i]), &_defs, &cfg, err, sizeof(err)),
				0);
		dt = now_s() - t0;
		ck_assert_ptr_null(cfg);
		ck_assert_msg(strstr(err, "DOCTYPE not allowed") != NULL, "%s", err);
		ck_assert_msg(strstr(err, "root:") == NULL, "passwd leaked: %s", err);
		ck_assert_msg(dt < 1.0, "%s took %.3f s", files[i], dt);
	}
}
END_TEST

START_TEST(test_directory_refused)
{
	load_fails(data_dir(), 0, "not a regular file");
}
END_TEST

START_TEST(test_nonexistent_path_refused)
{
	load_fails(fixture("no/such/file.xml"), 0, "No such file or directory");
}
END_TEST

START_TEST(test_unreadable_file_refused)
{
	char path[] = "/tmp/ha_config_test_XXXXXX";
	int fd;

	if(geteuid() == 0) {
		/* root reads a mode 000 file: prove the open error path instead */
		load_fails("/nonexistent/ha_pairs.xml", 0, "No such file or directory");
		return;
	}
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "<ha_pairs/>", 11), 11);
	close(fd);
	ck_assert_int_eq(chmod(path, 0), 0);
	load_fails(path, 0, "Permission denied");
	unlink(path);
}
END_TEST

START_TEST(test_fifo_refused_without_blocking)
{
	char dir[] = "/tmp/ha_config_test_XXXXXX";
	char path[sizeof(dir) + 16];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo.xml", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	load_fails(path, 0, "not a regular file");
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_file_too_large_refused)
{
	char path[] = "/tmp/ha_config_test_XXXXXX";
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	/* sparse: costs no disk */
	ck_assert_int_eq(ftruncate(fd, (off_t)HA_FILE_MAX_BYTES + 1), 0);
	close(fd);
	load_fails(path, 0, "file too large");
	unlink(path);
}
END_TEST

/* ---- ha_cfg_load_mem and the API contract ------------------------------ */

static const char _good_xml[] = "<ha_pairs>\n"
								"  <pair name=\"m\" oos-check=\"100ms\">\n"
								"    <primary uri=\"sip:192.0.2.1\"/>\n"
								"    <backup uri=\"sip:192.0.2.2\"/>\n"
								"  </pair>\n"
								"</ha_pairs>\n";

START_TEST(test_load_mem)
{
	char err[HA_ERR_MAX] = "";
	ha_cfg_t *cfg = NULL;

	ck_assert_int_eq(ha_cfg_load_mem(_good_xml, strlen(_good_xml), "mem",
							 &_defs, &cfg, err, sizeof(err)),
			0);
	ck_assert_int_eq(cfg->npairs, 1);
	ck_assert_int_eq(cfg->pairs[0].oos_check_ms, 100);
	ck_assert_int_eq(cfg->pairs[0].oos_force_ms, 3000);
	ha_cfg_free(cfg);

	/* the name stands in for the path */
	cfg = (ha_cfg_t *)&cfg;
	ck_assert_int_lt(ha_cfg_load_mem(_good_xml, 20, "buffer-name", &_defs, &cfg,
							 err, sizeof(err)),
			0);
	ck_assert_ptr_null(cfg);
	check_err(err, "buffer-name", 2, "XML: ");

	ck_assert_int_lt(
			ha_cfg_load_mem("", 0, "zero", &_defs, &cfg, err, sizeof(err)), 0);
	check_err(err, "zero", 0, "empty file");
}
END_TEST

/* NUL bytes inside the buffer are an XML error, not a silent truncation. */
START_TEST(test_load_mem_nul_byte)
{
	static const char buf[] = "<ha_pairs>\0</ha_pairs>";
	char err[HA_ERR_MAX] = "";
	ha_cfg_t *cfg = NULL;

	ck_assert_int_lt(ha_cfg_load_mem(buf, sizeof(buf) - 1, "nul", &_defs, &cfg,
							 err, sizeof(err)),
			0);
	ck_assert_ptr_null(cfg);
	check_err(err, "nul", 1, "XML: ");
}
END_TEST

/* A huge value is quoted clipped, so the reason still fits the buffer. */
START_TEST(test_long_value_clipped_in_message)
{
	static const char head[] = "<ha_pairs><pair name=\"p\">"
							   "<primary uri=\"sip:10.0.0.1:";
	static const char tail[] = "\"/><backup uri=\"sip:10.0.0.2\"/>"
							   "</pair></ha_pairs>";
	char err[HA_ERR_MAX] = "";
	ha_cfg_t *cfg = NULL;
	size_t n = 10000;
	char *buf;

	buf = malloc(sizeof(head) + n + sizeof(tail));
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, head, sizeof(head) - 1);
	memset(buf + sizeof(head) - 1, '7', n);
	memcpy(buf + sizeof(head) - 1 + n, tail, sizeof(tail));
	ck_assert_int_lt(ha_cfg_load_mem(buf, strlen(buf), "long", &_defs, &cfg,
							 err, sizeof(err)),
			0);
	free(buf);
	check_err(err, "long", 1, "...': bad port '7777");
	ck_assert_msg(strstr(err, "must be 1 to 65535") != NULL, "%s", err);
}
END_TEST

START_TEST(test_null_err_buffer_tolerated)
{
	ha_cfg_t *cfg = NULL;
	char err[4] = "xyz";

	ck_assert_int_lt(ha_cfg_load(fixture("bad/missing_backup.xml"), &_defs,
							 &cfg, NULL, 0),
			0);
	ck_assert_ptr_null(cfg);
	/* a tiny buffer gets a truncated, terminated message */
	ck_assert_int_lt(ha_cfg_load(fixture("bad/missing_backup.xml"), &_defs,
							 &cfg, err, sizeof(err)),
			0);
	ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
}
END_TEST

START_TEST(test_free_null_is_noop)
{
	ha_cfg_free(NULL);
}
END_TEST

static int _foreign_calls;

static void foreign_structured(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
	_foreign_calls++;
}

static void foreign_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
	_foreign_calls++;
}

/* libxml2 reports through globals: the loader must route them to itself
 * while it runs, print nothing, and give back what was installed. */
START_TEST(test_xml_error_handlers_restored_and_silent)
{
	static const char *files[] = {"bad/truncated.xml", "bad/wrong_root.xml",
			"bad/entity_bomb.xml", "bad/non_utf8.xml", "bad/missing_name.xml"};
	char tmpl[] = "/tmp/ha_config_stderr_XXXXXX";
	char err[HA_ERR_MAX];
	ha_cfg_t *cfg = NULL;
	struct stat st;
	int fd, saved;
	size_t i;

	xmlSetStructuredErrorFunc(&_foreign_calls, foreign_structured);
	xmlSetGenericErrorFunc(&_foreign_calls, foreign_generic);
	fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved = dup(2);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	for(i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		ha_cfg_load(fixture(files[i]), &_defs, &cfg, err, sizeof(err));
	ha_cfg_load(fixture("several.xml"), &_defs, &cfg, err, sizeof(err));
	ha_cfg_free(cfg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ck_assert_int_eq(fstat(fd, &st), 0);
	close(fd);
	unlink(tmpl);

	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(_foreign_calls, 0);
	ck_assert_msg(
			xmlStructuredError == (xmlStructuredErrorFunc)foreign_structured,
			"structured handler not restored");
	ck_assert_ptr_eq(xmlStructuredErrorContext, &_foreign_calls);
	ck_assert_msg(xmlGenericError == (xmlGenericErrorFunc)foreign_generic,
			"generic handler not restored");
	ck_assert_ptr_eq(xmlGenericErrorContext, &_foreign_calls);
	xmlSetStructuredErrorFunc(NULL, NULL);
	xmlSetGenericErrorFunc(NULL, NULL);
}
END_TEST

/* ---- out of memory ----------------------------------------------------- */

/* Allocation failures are injected by interposing malloc, calloc and strdup
 * for calls made from this executable (ha_config.c is linked into it), so
 * that every allocation of the parser itself fails once in turn. libxml2's
 * own allocations are left alone: libxml2 2.9 does not survive failures
 * inside its schema compiler. glibc only; not with sanitizers, which have
 * their own malloc. Under valgrind, which replaces malloc and calloc even
 * here, only the strdup points are swept unless valgrind runs with
 * --soname-synonyms=somalloc=nouserintercepts. */
#if defined(__GLIBC__) && defined(__linux__) && defined(__GNUC__) \
		&& !defined(__SANITIZE_ADDRESS__)
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define HA_TEST_NO_OOM
#endif
#endif
#else
#define HA_TEST_NO_OOM
#endif

#ifndef HA_TEST_NO_OOM
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern char __executable_start[], etext[];

static long _oom_countdown = -1; /* < 0: no injection */
static long _oom_injected;

static int oom_now(const void *caller)
{
	if(_oom_countdown < 0 || (const char *)caller < __executable_start
			|| (const char *)caller >= etext)
		return 0;
	if(_oom_countdown-- > 0)
		return 0;
	_oom_injected++;
	return 1;
}

void *malloc(size_t n)
{
	return oom_now(__builtin_return_address(0)) ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	return oom_now(__builtin_return_address(0)) ? NULL : __libc_calloc(n, size);
}

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d;

	if(oom_now(__builtin_return_address(0)))
		return NULL;
	d = __libc_malloc(n);
	if(d != NULL)
		memcpy(d, s, n);
	return d;
}
#endif

/* Fail the 1st, 2nd, ... allocation of a load until one load runs with no
 * failure: every failed load must return an error "out of memory" at line
 * 0 and leave *out NULL (valgrind checks that it frees everything). */
START_TEST(test_out_of_memory_fails_cleanly)
{
#ifdef HA_TEST_NO_OOM
	return;
#else
	static const char *files[] = {"several.xml", "domains.xml", "uris.xml",
			"all_attrs.xml", "empty_pairs.xml", "bad/duplicate_domain.xml",
			"bad/two_primaries.xml", "bad/alive_codes_bad.xml"};
	char err[HA_ERR_MAX], path[4096];
	size_t f;

	for(f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		long n, before;
		int rc, rc_ok;
		ha_cfg_t *cfg = NULL;

		snprintf(path, sizeof(path), "%s", fixture(files[f]));
		rc_ok = ha_cfg_load(path, &_defs, &cfg, err, sizeof(err));
		ha_cfg_free(cfg);
		for(n = 0;; n++) {
			before = _oom_injected;
			cfg = (ha_cfg_t *)&cfg;
			_oom_countdown = n;
			rc = ha_cfg_load(path, &_defs, &cfg, err, sizeof(err));
			_oom_countdown = -1;
			if(_oom_injected == before)
				break; /* past the last allocation */
			ck_assert_msg(
					rc < 0, "%s: allocation %ld failed unnoticed", path, n);
			ck_assert_ptr_null(cfg);
			check_err(err, path, 0, "out of memory");
		}
		if(rc == 0)
			ha_cfg_free(cfg);
		ck_assert_int_eq(rc, rc_ok);
	}
	ck_assert_msg(_oom_injected > 0, "no allocation was ever failed");
#endif
}
END_TEST

/* ---- ha_duration_parse ------------------------------------------------- */

START_TEST(test_duration_parse)
{
	static const struct
	{
		const char *s;
		int rc;
		int ms;
	} t[] = {
			{"500", 0, 500},
			{"500ms", 0, 500},
			{"5s", 0, 5000},
			{"1.5s", 0, 1500},
			{"0.05s", 0, 50},
			{"0.001s", 0, 1},
			{"0", 0, 0},
			{"007ms", 0, 7},
			{"2147483647", 0, 2147483647},
			{"2147483.647s", 0, 2147483647},
			{"", -1, 0},
			{"abc", -1, 0},
			{"-5", -1, 0},
			{"+5", -1, 0},
			{"5 s", -1, 0},
			{" 5s", -1, 0},
			{"5s ", -1, 0},
			{"5m", -1, 0},
			{"5S", -1, 0},
			{"5sec", -1, 0},
			{"1.5ms", -1, 0},
			{"1.5", -1, 0},
			{"1.2345s", -1, 0},
			{"1.s", -1, 0},
			{".5s", -1, 0},
			{"s", -1, 0},
			{"1e3", -1, 0},
			{"99999999999s", -2, 0},
			{"9999999999999", -2, 0},
			{"2147483648", -2, 0},
			{"2147484s", -2, 0},
			{"99999999999999999999999999999999999999s", -2, 0},
	};
	size_t i;

	for(i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int ms = -12345, rc = ha_duration_parse(t[i].s, &ms);
		ck_assert_msg(
				rc == t[i].rc, "'%s': rc %d, expected %d", t[i].s, rc, t[i].rc);
		if(rc == 0)
			ck_assert_msg(ms == t[i].ms, "'%s': %d ms, expected %d", t[i].s, ms,
					t[i].ms);
		else
			ck_assert_msg(ms == -12345, "'%s': *ms written on failure", t[i].s);
	}
	ck_assert_int_eq(ha_duration_parse(NULL, NULL), -1);
}
END_TEST

/* ---- ha_uri_parse ------------------------------------------------------ */

START_TEST(test_uri_parse_valid)
{
	static const struct
	{
		const char *s;
		const char *host;
		int port;
		ha_transport_t tr;
		int tr_set, is_ip, is_ipv6, secure;
	} t[] = {
			{"sip:10.0.0.11:5060", "10.0.0.11", 5060, HA_TR_UDP, 0, 1, 0, 0},
			{"sip:10.0.0.11", "10.0.0.11", 0, HA_TR_UDP, 0, 1, 0, 0},
			{"SIP:255.255.255.255:65535", "255.255.255.255", 65535, HA_TR_UDP,
					0, 1, 0, 0},
			{"sip:0.0.0.0:1", "0.0.0.0", 1, HA_TR_UDP, 0, 1, 0, 0},
			{"sip:[::1]", "::1", 0, HA_TR_UDP, 0, 1, 1, 0},
			{"sip:[2001:db8::1]:5070;transport=tcp", "2001:db8::1", 5070,
					HA_TR_TCP, 1, 1, 1, 0},
			{"sip:[::ffff:10.0.0.1]:5060", "::ffff:10.0.0.1", 5060, HA_TR_UDP,
					0, 1, 1, 0},
			{"sip:pbx.example.com", "pbx.example.com", 0, HA_TR_UDP, 0, 0, 0,
					0},
			{"sip:pbx-1.example.com.:5080", "pbx-1.example.com.", 5080,
					HA_TR_UDP, 0, 0, 0, 0},
			{"sip:localhost", "localhost", 0, HA_TR_UDP, 0, 0, 0, 0},
			{"sip:user@10.0.0.1:5060", "10.0.0.1", 5060, HA_TR_UDP, 0, 1, 0, 0},
			{"sip:user:secret@pbx.example.com", "pbx.example.com", 0, HA_TR_UDP,
					0, 0, 0, 0},
			{"sip:10.0.0.1;transport=TLS", "10.0.0.1", 0, HA_TR_TLS, 1, 1, 0,
					0},
			{"sip:10.0.0.1;lr;Transport=Udp;foo=bar", "10.0.0.1", 0, HA_TR_UDP,
					1, 1, 0, 0},
			{"sip:10.0.0.1;maddr=10.0.0.2", "10.0.0.1", 0, HA_TR_UDP, 0, 1, 0,
					0},
			{"sips:10.0.0.1", "10.0.0.1", 0, HA_TR_TLS, 0, 1, 0, 1},
			{"SIPS:pbx.example.com:5061;transport=tcp", "pbx.example.com", 5061,
					HA_TR_TLS, 1, 0, 0, 1},
			{"sips:[::1];transport=tls", "::1", 0, HA_TR_TLS, 1, 1, 1, 1},
	};
	size_t i;

	for(i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[HA_ERR_MAX] = "";
		ha_uri_t u;
		int rc = ha_uri_parse(t[i].s, &u, err, sizeof(err));
		ck_assert_msg(rc == 0, "'%s': %s", t[i].s, err);
		check_uri(&u, t[i].host, t[i].port, t[i].tr, t[i].tr_set, t[i].is_ip,
				t[i].is_ipv6, t[i].secure);
	}
}
END_TEST

START_TEST(test_uri_parse_invalid)
{
	static const struct
	{
		const char *s;
		const char *reason;
	} t[] = {
			{"", "empty URI"},
			{"tel:+4930123", "scheme must be sip: or sips:"},
			{"http://10.0.0.1", "scheme must be sip: or sips:"},
			{"10.0.0.1:5060", "scheme must be sip: or sips:"},
			{"sip:", "missing host"},
			{"sip::5060", "missing host"},
			{"sip:@10.0.0.1", "empty user part"},
			{"sip:10.0.0.256", "bad IPv4 address '10.0.0.256'"},
			{"sip:10.0.0", "bad IPv4 address"},
			{"sip:10.0.0.1.2", "bad IPv4 address"},
			{"sip:10.0.0.", "bad IPv4 address"},
			{"sip:10..0.1", "bad IPv4 address"},
			{"sip:1000.0.0.1", "bad IPv4 address"},
			{"sip:10.0.0.1a", "bad host name '10.0.0.1a'"},
			{"sip:[2001:db8::zz]", "bad IPv6 address '[2001:db8::zz]'"},
			{"sip:[2001:db8::1",
					"bad IPv6 address '[2001:db8::1': missing ']'"},
			{"sip:[]", "bad IPv6 address"},
			{"sip:[10.0.0.1]", "bad IPv6 address"},
			{"sip:2001:db8::1", "an IPv6 address needs brackets"},
			{"sip:2001:db8::1;transport=tcp", "an IPv6 address needs brackets"},
			{"sip:[::1]x", "unexpected 'x' after the host"},
			{"sip:-pbx.example.com", "bad host name"},
			{"sip:pbx-.example.com", "bad host name"},
			{"sip:pbx..example.com", "bad host name"},
			{"sip:pbx_1.example.com", "bad host name"},
			{"sip:pbx.example.123", "bad host name"},
			{"sip:a@b@c", "bad host name 'b@c'"},
			{"sip:10.0.0.1:0", "bad port '0': must be 1 to 65535"},
			{"sip:10.0.0.1:65536", "bad port '65536'"},
			{"sip:10.0.0.1:70000", "bad port '70000'"},
			{"sip:10.0.0.1:000005060", "bad port '000005060'"},
			{"sip:10.0.0.1:abc", "bad port 'abc'"},
			{"sip:10.0.0.1:-1", "bad port '-1'"},
			{"sip:10.0.0.1:", "bad port ''"},
			{"sip:10.0.0.1;transport=sctp", "unsupported transport 'sctp'"},
			{"sip:10.0.0.1;transport=ws", "unsupported transport 'ws'"},
			{"sip:10.0.0.1;transport", "unsupported transport ''"},
			{"sip:10.0.0.1;transport=", "unsupported transport ''"},
			{"sip:10.0.0.1;transport=tcp;transport=udp",
					"transport given twice"},
			{"sip:10.0.0.1;;lr", "empty URI parameter"},
			{"sip:10.0.0.1;=x", "empty URI parameter"},
			{"sips:10.0.0.1;transport=udp",
					"a sips: URI cannot use transport=udp"},
			{"sip:10.0.0.1?Subject=x", "headers ('?') are not allowed"},
			{"sip:10.0.0.1 ", "URI must not contain spaces"},
			{"sip:10.0.0.1\t", "URI must not contain spaces"},
			{"sip:10.0.0.\xc3\xa9", "bad character in URI"},
	};
	size_t i;

	for(i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[HA_ERR_MAX] = "";
		ha_uri_t u, before;
		int rc;

		memset(&u, 0x5a, sizeof(u));
		before = u;
		rc = ha_uri_parse(t[i].s, &u, err, sizeof(err));
		ck_assert_msg(rc == -1, "'%s': accepted", t[i].s);
		ck_assert_msg(strstr(err, t[i].reason) != NULL,
				"'%s': expected '%s', got '%s'", t[i].s, t[i].reason, err);
		ck_assert_msg(memcmp(&u, &before, sizeof(u)) == 0,
				"'%s': result written on failure", t[i].s);
	}
	/* host names: labels up to 63, names up to 253 characters */
	{
		char s[300], err[HA_ERR_MAX] = "";
		ha_uri_t u;

		strcpy(s, "sip:");
		memset(s + 4, 'a', 63);
		strcpy(s + 4 + 63, ".example.com");
		ck_assert_msg(ha_uri_parse(s, &u, err, sizeof(err)) == 0, "%s", err);
		memset(s + 4, 'a', 64);
		strcpy(s + 4 + 64, ".example.com");
		ck_assert_int_eq(ha_uri_parse(s, &u, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "bad host name"));

		/* 3 labels of 63 + 3 dots + 61 = 253 */
		memset(s + 4, 'a', 253);
		s[4 + 63] = s[4 + 127] = s[4 + 191] = '.';
		s[4 + 253] = '\0';
		ck_assert_msg(ha_uri_parse(s, &u, err, sizeof(err)) == 0, "%s", err);
		ck_assert_uint_eq(strlen(u.host), 253);
		strcat(s, "."); /* a final dot is not counted */
		ck_assert_msg(ha_uri_parse(s, &u, err, sizeof(err)) == 0, "%s", err);
		s[4 + 253] = 'a'; /* 254 */
		ck_assert_int_eq(ha_uri_parse(s, &u, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "bad host name"));
	}
	/* URIs up to HA_URI_MAX characters (events carry them whole) */
	{
		char s[HA_URI_MAX + 2], err[HA_ERR_MAX] = "";
		ha_uri_t u;

		memset(s, 'u', sizeof(s));
		memcpy(s, "sip:", 4);
		strcpy(s + HA_URI_MAX - 8, "@h.local"); /* HA_URI_MAX long */
		ck_assert_uint_eq(strlen(s), HA_URI_MAX);
		ck_assert_msg(ha_uri_parse(s, &u, err, sizeof(err)) == 0, "%s", err);
		strcpy(s + HA_URI_MAX - 8, "@hh.local"); /* one more */
		ck_assert_int_eq(ha_uri_parse(s, &u, err, sizeof(err)), -1);
		ck_assert_str_eq(err, "URI longer than 512 characters");
	}
	ck_assert_int_eq(ha_uri_parse(NULL, NULL, NULL, 0), -1);
}
END_TEST

/* ---- ha_name_valid and the names table --------------------------------- */

START_TEST(test_name_valid)
{
	static const struct
	{
		const char *s;
		int ok;
	} t[] = {
			{"sipserver1", 1},
			{"a", 1},
			{"A-b_c.9", 1},
			{"1234567890123456789012345678901234567890123456789012345678901234",
					1},
			{"1234567890123456789012345678901234567890123456789012345678901234"
			 "5",
					0},
			{"", 0},
			{"my pair", 0},
			{"pair/1", 0},
			{"pair;1", 0},
			{"caf\xc3\xa9", 0},
			{"tab\t", 0},
	};
	size_t i;

	for(i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(ha_name_valid(t[i].s) == t[i].ok, "'%s': expected %d",
				t[i].s, t[i].ok);
	ck_assert_int_eq(ha_name_valid(NULL), 0);
}
END_TEST

/* The one transport table: what the URI parser accepts, the Via and SRV
 * names the resolver and prober use, the default ports. */
START_TEST(test_transport_table)
{
	static const struct
	{
		ha_transport_t tr;
		const char *name, *via, *srv;
		int port;
	} t[] = {
			{HA_TR_UDP, "udp", "UDP", "_sip._udp.", 5060},
			{HA_TR_TCP, "tcp", "TCP", "_sip._tcp.", 5060},
			{HA_TR_TLS, "tls", "TLS", "_sips._tcp.", 5061},
	};
	char err[HA_ERR_MAX], uri[64];
	ha_uri_t u;
	size_t i;

	ck_assert_int_eq(HA_TR_COUNT, 3);
	for(i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_str_eq(ha_transports[t[i].tr].name, t[i].name);
		ck_assert_str_eq(ha_transports[t[i].tr].via, t[i].via);
		ck_assert_str_eq(ha_transports[t[i].tr].srv, t[i].srv);
		ck_assert_int_eq(ha_transports[t[i].tr].port, t[i].port);
		/* every name in the table is one the parser takes, and no port
		 * in the URI means the table's */
		snprintf(uri, sizeof(uri), "sip:10.0.0.1;transport=%s", t[i].name);
		ck_assert_msg(ha_uri_parse(uri, &u, err, sizeof(err)) == 0, "%s", err);
		ck_assert_int_eq(u.transport, t[i].tr);
		ck_assert_int_eq(u.port, 0);
		ck_assert_int_eq(ha_uri_port(&u), t[i].port);
	}
	ck_assert_msg(
			ha_uri_parse("sips:h.example.com:5070", &u, err, sizeof(err)) == 0,
			"%s", err);
	ck_assert_int_eq(ha_uri_port(&u), 5070);
	ck_assert_msg(ha_uri_parse("sips:h.example.com", &u, err, sizeof(err)) == 0,
			"%s", err);
	ck_assert_int_eq(ha_uri_port(&u), 5061);
}
END_TEST

/* ---- suite ------------------------------------------------------------- */

static Suite *ha_config_suite(void)
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

	tc = tcase_create("invalid");
	tcase_add_loop_test(
			tc, test_bad_fixture_refused_with_line_and_reason, 0, N_BAD);
	tcase_add_test(tc, test_every_bad_fixture_is_listed);
	tcase_add_test(tc, test_doctype_refused_quickly);
	tcase_add_test(tc, test_directory_refused);
	tcase_add_test(tc, test_nonexistent_path_refused);
	tcase_add_test(tc, test_unreadable_file_refused);
	tcase_add_test(tc, test_fifo_refused_without_blocking);
	tcase_add_test(tc, test_file_too_large_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, test_load_mem);
	tcase_add_test(tc, test_load_mem_nul_byte);
	tcase_add_test(tc, test_long_value_clipped_in_message);
	tcase_add_test(tc, test_null_err_buffer_tolerated);
	tcase_add_test(tc, test_free_null_is_noop);
	tcase_add_test(tc, test_xml_error_handlers_restored_and_silent);
	tcase_add_test(tc, test_out_of_memory_fails_cleanly);
	suite_add_tcase(s, tc);

	tc = tcase_create("parts");
	tcase_add_test(tc, test_duration_parse);
	tcase_add_test(tc, test_uri_parse_valid);
	tcase_add_test(tc, test_uri_parse_invalid);
	tcase_add_test(tc, test_name_valid);
	tcase_add_test(tc, test_transport_table);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ha_config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	xmlCleanupParser();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
