/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ha_config_uri.c - Check suite for members' URIs (ha_uri.c):
 * ha_uri_parse() on valid and invalid URIs, the limits of host names and
 * URIs, and the one transports table with its default ports. Run by
 * test_ha_config.c's main(). */

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "ha_config.h"
#include "cfg_util.h"

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

/* host names: labels up to 63, names up to 253 characters */
static void check_host_name_limits(void)
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
static void check_uri_length_limit(void)
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
	check_host_name_limits();
	check_uri_length_limit();
	ck_assert_int_eq(ha_uri_parse(NULL, NULL, NULL, 0), -1);
}
END_TEST

/* ---- the transports table ---------------------------------------------- */

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

Suite *ha_config_uri_suite(void)
{
	Suite *s = suite_create("ha_config_uri");
	TCase *tc;

	tc = tcase_create("uri");
	tcase_add_test(tc, test_uri_parse_valid);
	tcase_add_test(tc, test_uri_parse_invalid);
	tcase_add_test(tc, test_transport_table);
	suite_add_tcase(s, tc);

	return s;
}
