/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_config_api.c - Check suite for the pairs file parser's API
 * (ha_config.h): ha_cfg_load_mem(), the error buffer, ha_cfg_free(),
 * libxml2's error handlers given back, allocation failures, and the value
 * parsers ha_duration_parse() and ha_name_valid(). Run by
 * test_ha_config.c's main(). */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "ha_config.h"
#include "cfg_util.h"

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

/* ---- ha_name_valid ----------------------------------------------------- */

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

/* ---- suite ------------------------------------------------------------- */

Suite *ha_config_api_suite(void)
{
	Suite *s = suite_create("ha_config_api");
	TCase *tc;

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
	tcase_add_test(tc, test_name_valid);
	suite_add_tcase(s, tc);

	return s;
}
