/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_config_invalid.c - Check suite for the pairs files the parser
 * refuses (ha_config.c, ha_xml.c, ha_uri.c): every file under
 * tests/data/bad/ with its line and reason (the table _bad[], which
 * tests/e2e/test_bad_pairs_file.py reads too), DTDs refused quickly, and
 * paths that are no pairs file. Run by test_ha_config.c's main(). */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "ha_config.h"
#include "cfg_util.h"

/* ---- helpers ----------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

/* ---- suite ------------------------------------------------------------- */

Suite *ha_config_invalid_suite(void)
{
	Suite *s = suite_create("ha_config_invalid");
	TCase *tc;

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

	return s;
}
