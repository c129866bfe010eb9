/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_text.c - Check suite "ha_text": ha_printable(), the printable
 * copy of a peer's text that log lines carry. */

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ha_text.h"

/* ha_printable() of n bytes of s into a buffer of size bytes, compared
 * with want; bytes past the copy's NUL stay as they were. */
static void check_printable(
		const char *s, size_t n, size_t size, const char *want)
{
	char buf[512];
	const char *got;

	ck_assert_uint_le(size, sizeof(buf) - 1);
	memset(buf, '#', sizeof(buf));
	got = ha_printable(s, n, buf, size);
	ck_assert_ptr_eq(got, buf);
	ck_assert_str_eq(got, want);
	ck_assert_uint_le(strlen(got) + 1, size);
	ck_assert_int_eq(buf[size], '#');
}

START_TEST(printable_text_unchanged)
{
	const char *s = "sipserver1 sip:127.0.0.2:5060;transport=tcp ~!";

	check_printable(s, strlen(s), HA_PRINTABLE_SIZE(strlen(s)), s);
	check_printable("", 0, 1, "");
}
END_TEST

START_TEST(printable_escapes_controls_and_non_ascii)
{
	/* what \u escapes of a pool message decode to, and raw bytes */
	const char s[] = "a\nb\rc\td\\e\x1b[31m\x7f\x01\xc3\xa9";

	check_printable(s, sizeof(s) - 1, HA_PRINTABLE_SIZE(sizeof(s) - 1),
			"a\\nb\\rc\\td\\\\e\\x1b[31m\\x7f\\x01\\xc3\\xa9");
	/* a NUL inside the text is a byte like another */
	check_printable("x\0y", 3, 16, "x\\x00y");
}
END_TEST

START_TEST(printable_cut_at_a_whole_escape)
{
	const char s[] = "abcdef\x01gh";

	/* fits exactly: 6 + 4 + 2 bytes and the NUL */
	check_printable(s, sizeof(s) - 1, 13, "abcdef\\x01gh");
	/* one byte short: cut, "..." after what fits whole */
	check_printable(s, sizeof(s) - 1, 12, "abcdef...");
	check_printable(s, sizeof(s) - 1, 10, "abcdef...");
	check_printable(s, sizeof(s) - 1, 9, "abcde...");
	check_printable(s, sizeof(s) - 1, 4, "...");
	/* too small for "...": what fits */
	check_printable(s, sizeof(s) - 1, 3, "ab");
	check_printable(s, sizeof(s) - 1, 1, "");
	/* never half an escape */
	check_printable("\n\n\n\n", 4, 8, "\\n\\n...");
	check_printable("\x02\x03", 2, 8, "\\x02...");
}
END_TEST

START_TEST(printable_size_0)
{
	char c = '#';

	ck_assert_str_eq(ha_printable("abc", 3, &c, 0), "");
	ck_assert_int_eq(c, '#');
}
END_TEST

START_TEST(printable_every_byte)
{
	char s[256], buf[HA_PRINTABLE_SIZE(256)];
	size_t i;

	for(i = 0; i < sizeof(s); i++)
		s[i] = (char)i;
	ha_printable(s, sizeof(s), buf, sizeof(buf));
	/* nothing a terminal or a log reader would take as a control */
	for(i = 0; buf[i] != '\0'; i++)
		ck_assert(buf[i] >= 0x20 && buf[i] < 0x7f);
	/* 95 printable bytes (the backslash doubled: 96), 3 two-byte escapes,
	 * 158 four-byte ones */
	ck_assert_uint_eq(strlen(buf), 96 + 3 * 2 + 158 * 4);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ha_text");
	TCase *tc = tcase_create("printable");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, printable_text_unchanged);
	tcase_add_test(tc, printable_escapes_controls_and_non_ascii);
	tcase_add_test(tc, printable_cut_at_a_whole_escape);
	tcase_add_test(tc, printable_size_0);
	tcase_add_test(tc, printable_every_byte);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
