/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_codes.c - Check suite "ha_codes": the alive-codes grammar, one
 * tokenizer read by the module parameter (ha_codes_parse()) and the pairs
 * file (ha_codes_norm()), and the set of codes ha_codes_alive() tests. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ha_codes.h"

/* Lists and what both readers make of them: norm NULL means refused (by
 * both). The refused ones are those each reader refused before the two
 * shared a tokenizer (blanks inside an item, empty items, other blanks than
 * ' ' and '\t', codes out of 100..699). */
static const struct
{
	const char *s;
	const char *norm;
} _lists[] = {
		{"200", "200"},
		{"2xx", "2xx"},
		{"2XX,404", "2xx,404"},
		{"2xX , 404\t,\t503 ", "2xx,404,503"},
		{" \t100,699", "100,699"},
		{"1xx,6xx", "1xx,6xx"},
		{"404,404", "404,404"},
		{"2 xx", NULL},
		{"4 04", NULL},
		{"40 4", NULL},
		{"404 503", NULL},
		{",404", NULL},
		{"404,", NULL},
		{"404,,503", NULL},
		{" ", NULL},
		{"099", NULL},
		{"700", NULL},
		{"7xx", NULL},
		{"0xx", NULL},
		{"4x4", NULL},
		{"x04", NULL},
		{"40", NULL},
		{"4040", NULL},
		{"404\n", NULL},
		{"\n404", NULL},
		{"404;503", NULL},
		{"2xx,abc", NULL},
		{"\xc2\xb2"
		 "00",
				NULL},
};

#define NLISTS (sizeof(_lists) / sizeof(_lists[0]))

START_TEST(parse_and_norm_accept_the_same_lists)
{
	char out[64], why[128];
	ha_codes_t c;
	size_t i;

	for(i = 0; i < NLISTS; i++) {
		int want = _lists[i].norm != NULL ? 0 : -1;
		ck_assert_msg(ha_codes_parse(_lists[i].s, &c) == want,
				"ha_codes_parse('%s'): expected %d", _lists[i].s, want);
		ck_assert_msg(ha_codes_norm(_lists[i].s, out, why, sizeof(why)) == want,
				"ha_codes_norm('%s'): expected %d", _lists[i].s, want);
		if(want == 0)
			ck_assert_str_eq(out, _lists[i].norm);
		else
			ck_assert_msg(why[0] != '\0', "'%s': no reason", _lists[i].s);
	}
}
END_TEST

/* What the module parameter makes of a list is what it makes of the
 * pairs file's normalised form: the same codes alive. */
START_TEST(norm_keeps_the_codes)
{
	char out[64], why[128];
	ha_codes_t a, b;
	size_t i;
	int code;

	for(i = 0; i < NLISTS; i++) {
		if(_lists[i].norm == NULL)
			continue;
		ck_assert_int_eq(ha_codes_norm(_lists[i].s, out, why, sizeof(why)), 0);
		ck_assert_int_eq(ha_codes_parse(_lists[i].s, &a), 0);
		ck_assert_int_eq(ha_codes_parse(out, &b), 0);
		for(code = 200; code <= 699; code++)
			ck_assert_msg(ha_codes_alive(&a, code) == ha_codes_alive(&b, code),
					"'%s' and '%s' differ on %d", _lists[i].s, out, code);
	}
}
END_TEST

START_TEST(next_reads_items_and_their_ranges)
{
	const char *s = " 2Xx ,404\t", *p = s;
	ha_codes_item_t it;

	ck_assert_int_eq(ha_codes_next(&p, &it, NULL, 0), 1);
	ck_assert_str_eq(it.text, "2xx");
	ck_assert_int_eq(it.lo, 200);
	ck_assert_int_eq(it.hi, 299);
	ck_assert_ptr_eq(p, s + 6);
	ck_assert_int_eq(ha_codes_next(&p, &it, NULL, 0), 0);
	ck_assert_str_eq(it.text, "404");
	ck_assert_int_eq(it.lo, 404);
	ck_assert_int_eq(it.hi, 404);
	ck_assert_ptr_eq(p, s + strlen(s));
}
END_TEST

START_TEST(next_refuses_with_a_reason_and_does_not_move)
{
	const char *s = "4o4,200", *p = s;
	ha_codes_item_t it;
	char why[128];

	ck_assert_int_eq(ha_codes_next(&p, &it, why, sizeof(why)), -1);
	ck_assert_ptr_eq(p, s);
	ck_assert_str_eq(
			why, "'4o4' is neither a code 100-699 nor a class 1xx-6xx");
	p = s = " ,200";
	ck_assert_int_eq(ha_codes_next(&p, &it, why, sizeof(why)), -1);
	ck_assert_ptr_eq(p, s);
	ck_assert_str_eq(why, "empty item");
	ck_assert_int_eq(ha_codes_norm("", why, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "empty list");
}
END_TEST

/* The module parameter's empty list (and none) means any final reply; a
 * refused list leaves c meaning the same. */
START_TEST(parse_empty_is_any_and_refused_leaves_any)
{
	ha_codes_t c;

	ck_assert_int_eq(ha_codes_parse(NULL, &c), 0);
	ck_assert_int_eq(c.any, 1);
	ck_assert_int_eq(ha_codes_parse("", &c), 0);
	ck_assert_int_eq(c.any, 1);
	ck_assert_int_eq(ha_codes_parse("404,2 xx", &c), -1);
	ck_assert_int_eq(c.any, 1);
	ck_assert_int_eq(ha_codes_alive(&c, 404), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 503), 1);
}
END_TEST

START_TEST(codes_parse_accepts_codes_and_classes)
{
	ha_codes_t c;

	ck_assert_int_eq(ha_codes_parse("2xx,404", &c), 0);
	ck_assert_int_eq(c.any, 0);
	ck_assert_int_eq(ha_codes_alive(&c, 200), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 299), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 404), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 403), 0);
	ck_assert_int_eq(ha_codes_alive(&c, 405), 0);
	ck_assert_int_eq(ha_codes_alive(&c, 300), 0);
	ck_assert_int_eq(ha_codes_alive(&c, 503), 0);

	ck_assert_int_eq(ha_codes_parse(" 2xx , 404 ", &c), 0);
	ck_assert_int_eq(c.any, 0);
	ck_assert_int_eq(ha_codes_alive(&c, 202), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 404), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 480), 0);

	ck_assert_int_eq(ha_codes_parse("6xx", &c), 0);
	ck_assert_int_eq(ha_codes_alive(&c, 600), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 699), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 200), 0);
	ck_assert_int_eq(ha_codes_alive(&c, 599), 0);

	ck_assert_int_eq(ha_codes_parse("2XX,503", &c), 0);
	ck_assert_int_eq(ha_codes_alive(&c, 250), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 503), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 502), 0);

	/* a provisional reply is never an answer, even when listed */
	ck_assert_int_eq(ha_codes_parse("1xx,2xx", &c), 0);
	ck_assert_int_eq(ha_codes_alive(&c, 180), 0);
	ck_assert_int_eq(ha_codes_alive(&c, 200), 1);
}
END_TEST

START_TEST(codes_parse_null_or_empty_means_any_final_reply)
{
	ha_codes_t c;

	ck_assert_int_eq(ha_codes_parse(NULL, &c), 0);
	ck_assert_int_eq(c.any, 1);
	ck_assert_int_eq(ha_codes_alive(&c, 200), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 503), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 699), 1);
	ck_assert_int_eq(ha_codes_alive(&c, 100), 0);
	ck_assert_int_eq(ha_codes_alive(&c, 183), 0);

	ck_assert_int_eq(ha_codes_parse("", &c), 0);
	ck_assert_int_eq(c.any, 1);
	ck_assert_int_eq(ha_codes_alive(&c, 404), 1);
}
END_TEST

START_TEST(codes_parse_rejects_bad_lists)
{
	static const char *bad[] = {"2x", "700", "099", "2xx,", "abc", ",2xx",
			"2xx 404", "20x", "2xxx", "1000", "2xx,,404", "0xx", "7xx", "x2x",
			"2xx;404", " ", "40 4"};
	ha_codes_t c;
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0x55, sizeof(c));
		ck_assert_msg(
				ha_codes_parse(bad[i], &c) == -1, "'%s' accepted", bad[i]);
		/* on error the result is "any" */
		ck_assert_msg(c.any == 1, "'%s': not any after the error", bad[i]);
		ck_assert_int_eq(ha_codes_alive(&c, 503), 1);
	}
}
END_TEST

static Suite *ha_codes_suite(void)
{
	Suite *s = suite_create("ha_codes");
	TCase *tc = tcase_create("grammar");

	tcase_add_test(tc, parse_and_norm_accept_the_same_lists);
	tcase_add_test(tc, norm_keeps_the_codes);
	tcase_add_test(tc, next_reads_items_and_their_ranges);
	tcase_add_test(tc, next_refuses_with_a_reason_and_does_not_move);
	tcase_add_test(tc, parse_empty_is_any_and_refused_leaves_any);
	tcase_add_test(tc, codes_parse_accepts_codes_and_classes);
	tcase_add_test(tc, codes_parse_null_or_empty_means_any_final_reply);
	tcase_add_test(tc, codes_parse_rejects_bad_lists);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ha_codes_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
