/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cfg_util.c - what the ha_config Check suites share (see cfg_util.h). */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_config.h"
#include "cfg_util.h"

const ha_cfg_defaults_t _defs = {4000, 3000};

const char *data_dir(void)
{
	const char *d = getenv("HA_TEST_DATA");
	return (d != NULL && d[0] != '\0') ? d : "tests/data";
}

const char *fixture(const char *rel)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s", data_dir(), rel);
	return buf;
}

void check_err(const char *err, const char *path, int line, const char *reason)
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

void check_uri(const ha_uri_t *u, const char *host, int port, ha_transport_t tr,
		int tr_set, int is_ip, int is_ipv6, int secure)
{
	ck_assert_str_eq(u->host, host);
	ck_assert_int_eq(u->port, port);
	ck_assert_str_eq(ha_transports[u->transport].name, ha_transports[tr].name);
	ck_assert_int_eq(u->transport_set, tr_set);
	ck_assert_int_eq(u->is_ip, is_ip);
	ck_assert_int_eq(u->is_ipv6, is_ipv6);
	ck_assert_int_eq(u->secure, secure);
}
