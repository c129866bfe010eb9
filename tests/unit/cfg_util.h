/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cfg_util.h - what the ha_config Check suites share
 * (tests/unit/test_ha_config*.c): the fixtures under tests/data, the
 * defaults they load with, and the checks of an error message and of a
 * parsed URI. */

#ifndef CFG_UTIL_H
#define CFG_UTIL_H

#include <check.h>

#include "ha_config.h"

/* Defaults that differ from the built-in 5000/5000, so that a test can tell
 * "default applied" from "attribute read". */
extern const ha_cfg_defaults_t _defs;

/* The fixtures' directory: $HA_TEST_DATA, else tests/data. */
const char *data_dir(void);

/* Path of a fixture; valid until the next call. */
const char *fixture(const char *rel);

/* The error must be exactly one line "<path>:<line>: ..." containing
 * reason. */
void check_err(const char *err, const char *path, int line, const char *reason);

/* The parsed URI u has these parts. */
void check_uri(const ha_uri_t *u, const char *host, int port, ha_transport_t tr,
		int tr_set, int is_ip, int is_ipv6, int secure);

/* The pairs file parser's suites, one a file, run by test_ha_config.c's
 * main(). */
Suite *ha_config_suite(void);
Suite *ha_config_invalid_suite(void);
Suite *ha_config_api_suite(void);
Suite *ha_config_uri_suite(void);
/* a pair's settings and the definitions tables are built from
 * (test_ha_settings.c) */
Suite *ha_settings_suite(void);

#endif
