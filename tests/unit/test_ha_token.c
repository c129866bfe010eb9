/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_token.c - Check suite "ha_token": the probe identifier a Via
 * branch and a Call-ID carry, written and read back. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ha_token.h"

START_TEST(write_gives_the_documented_form)
{
	ha_probe_id_t id = {0x1f, 7, 1, 0xdeadbeef};
	char buf[HA_PROBE_ID_SIZE];

	ck_assert_int_eq(ha_probe_id_write(buf, sizeof(buf), &id), 15);
	ck_assert_str_eq(buf, "1f.7.1.deadbeef");
	ck_assert_str_eq(HA_BRANCH_PREFIX, "z9hG4bKhap.");
}
END_TEST

START_TEST(read_gives_back_what_write_wrote)
{
	static const ha_probe_id_t ids[] = {
			{0, 0, 0, 1},
			{1, 2, 1, 3},
			{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
			{0x80000000u, 12345, 0, 0x0000abcdu},
	};
	char buf[HA_PROBE_ID_SIZE];
	ha_probe_id_t r;
	size_t i;
	int n;

	for(i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		n = ha_probe_id_write(buf, sizeof(buf), &ids[i]);
		ck_assert_int_gt(n, 0);
		ck_assert_int_lt(n, HA_PROBE_ID_SIZE);
		memset(&r, 0x55, sizeof(r));
		ck_assert_int_eq(ha_probe_id_read(buf, (size_t)n, &r), 0);
		ck_assert_uint_eq(r.gen, ids[i].gen);
		ck_assert_uint_eq(r.pair, ids[i].pair);
		ck_assert_uint_eq(r.role, ids[i].role);
		ck_assert_uint_eq(r.token, ids[i].token);
	}
}
END_TEST

/* Only what the writer can produce is read: a branch someone else made up
 * (or cut short) leaves *id alone. */
START_TEST(read_refuses_other_forms)
{
	static const char *bad[] = {"", "1.2.3", "1.2.3.", ".1.2.3", "1..2.3",
			"1.2.3.4.", "1.2.3.4.5", "1.2.3.4;x", "1.2.3.G", "1.2.3.A",
			"123456789.1.1.1", "1.1.1.123456789", "1 .2.3.4", "-1.2.3.4"};
	ha_probe_id_t r, before;
	size_t i;

	memset(&before, 0x55, sizeof(before));
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = before;
		ck_assert_msg(ha_probe_id_read(bad[i], strlen(bad[i]), &r) == -1,
				"'%s' was read", bad[i]);
		ck_assert_msg(
				memcmp(&r, &before, sizeof(r)) == 0, "'%s' changed id", bad[i]);
	}
	/* the length given is the end, not a NUL */
	ck_assert_int_eq(ha_probe_id_read("1.2.3.4.5", 7, &r), 0);
	ck_assert_uint_eq(r.token, 4);
}
END_TEST

static Suite *ha_token_suite(void)
{
	Suite *s = suite_create("ha_token");
	TCase *tc = tcase_create("probe id");

	tcase_add_test(tc, write_gives_the_documented_form);
	tcase_add_test(tc, read_gives_back_what_write_wrote);
	tcase_add_test(tc, read_refuses_other_forms);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ha_token_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
