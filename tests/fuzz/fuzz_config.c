/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_config.c - libFuzzer target: the pairs-file parser (ha_config.c).
 *
 * An input whose first byte is 0x01..0x05 goes, as a NUL-terminated string
 * after that byte, to one of the small public parsers: 0x01 durations
 * (ha_duration_parse), 0x02 member URIs (ha_uri_parse), 0x03 alive-code
 * lists (ha_codes_parse, from ha_codes.c, which reads what the config's
 * normaliser wrote), 0x04 pair names (ha_name_valid), 0x05 all four. Any
 * other input is a whole pairs file, loaded from memory with
 * ha_cfg_load_mem() (and, for one input in 64, through a temporary file
 * with ha_cfg_load()).
 *
 * Besides what AddressSanitizer and UBSan see (reads past the buffer, use
 * after free, leaks, overflows), the results are checked and a violation
 * aborts: an accepted file yields pairs that are valid by the documented
 * rules (names, URIs re-parse to the same parts, timings in bounds, alive
 * codes that the state machine parses, distinct non-empty domains); a
 * refused one leaves *out NULL and an error line "<name>:<line>: <reason>"
 * that fits the buffer. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ha_config.h"
#include "ha_fsm.h"

#define NAME "fuzz.xml"

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_config: %s%s%s\n", what, detail ? ": " : "",
			detail ? detail : "");
	abort();
}

#define CHECK(cond, what, detail)   \
	do {                            \
		if(!(cond))                 \
			fail((what), (detail)); \
	} while(0)

/* err has exactly errlen bytes (AddressSanitizer sees a write past it);
 * a short buffer gets a truncated message */
static void check_err(const char *err, size_t errlen, const char *name)
{
	size_t n = strnlen(err, errlen);

	CHECK(n < errlen, "error message not terminated", NULL);
	CHECK(n > 0 || errlen == 1, "refused without a message", NULL);
	if(errlen > strlen(name) + 1)
		CHECK(strncmp(err, name, strlen(name)) == 0 && err[strlen(name)] == ':',
				"error message does not start with the file's name", err);
	CHECK(strchr(err, '\n') == NULL, "error message on several lines", err);
}

static void check_cfg(const ha_cfg_t *cfg)
{
	char err[HA_ERR_MAX];
	ha_codes_t codes;
	ha_uri_t u;
	int i, j, k, r;

	CHECK(cfg != NULL, "accepted without a configuration", NULL);
	CHECK(cfg->npairs >= 0, "negative pair count", NULL);
	CHECK(cfg->npairs == 0 || cfg->pairs != NULL, "pairs missing", NULL);
	for(i = 0; i < cfg->npairs; i++) {
		const ha_cfg_pair_t *p = &cfg->pairs[i];

		CHECK(ha_name_valid(p->name), "accepted pair name invalid", p->name);
		for(j = 0; j < i; j++)
			CHECK(strcmp(cfg->pairs[j].name, p->name) != 0,
					"two pairs of one name", p->name);
		CHECK(p->oos_check_ms >= HA_CHECK_MIN_MS
						&& p->oos_check_ms <= HA_CHECK_MAX_MS,
				"oos-check out of bounds", p->name);
		CHECK(p->oos_force_ms >= HA_FORCE_MIN_MS
						&& p->oos_force_ms <= HA_FORCE_MAX_MS,
				"oos-force out of bounds", p->name);
		CHECK(p->line >= 1, "pair without a line", p->name);
		for(r = 0; r < 2; r++) {
			CHECK(p->uri[r] != NULL, "member without a URI", p->name);
			CHECK(ha_uri_parse(p->uri[r], &u, err, sizeof(err)) == 0,
					"accepted URI does not parse again", p->uri[r]);
			CHECK(strcmp(u.host, p->parsed[r].host) == 0
							&& u.port == p->parsed[r].port
							&& u.transport == p->parsed[r].transport
							&& u.is_ipv6 == p->parsed[r].is_ipv6,
					"URI parsed two ways", p->uri[r]);
			CHECK(u.port >= 0 && u.port <= 65535, "port", p->uri[r]);
			CHECK(u.transport >= 0 && u.transport < HA_TR_COUNT, "transport",
					p->uri[r]);
		}
		if(p->alive_codes != NULL)
			CHECK(ha_codes_parse(p->alive_codes, &codes) == 0 && codes.any == 0,
					"accepted alive-codes the state machine refuses",
					p->alive_codes);
		CHECK(p->ndomains >= 0, "negative domain count", p->name);
		for(j = 0; j < p->ndomains; j++) {
			CHECK(p->domains[j] != NULL && p->domains[j][0] != '\0',
					"empty domain", p->name);
			for(k = 0; k < j; k++)
				CHECK(strcasecmp(p->domains[k], p->domains[j]) != 0,
						"a domain twice in a pair", p->domains[j]);
		}
	}
}

static void small_parsers(const char *s, int which)
{
	char err[HA_ERR_MAX];
	ha_codes_t c;
	ha_uri_t u;
	int ms, rc, code;

	if(which == 1 || which == 5) {
		ms = -12345;
		rc = ha_duration_parse(s, &ms);
		CHECK(rc == 0 || rc == -1 || rc == -2, "duration: return", s);
		if(rc == 0)
			CHECK(ms >= 0, "negative duration accepted", s);
	}
	if(which == 2 || which == 5) {
		size_t sl = 1 + strlen(s) % 24;
		char *small = malloc(sl);

		/* an error buffer of 1..24 bytes must not be overrun either */
		if(small != NULL) {
			if(ha_uri_parse(s, &u, small, sl) != 0)
				CHECK(memchr(small, '\0', sl) != NULL,
						"short URI error not terminated", s);
			free(small);
		}
		memset(err, 'x', sizeof(err));
		rc = ha_uri_parse(s, &u, err, sizeof(err));
		CHECK(rc == 0 || rc == -1, "uri: return", s);
		if(rc == 0) {
			CHECK(memchr(u.host, '\0', sizeof(u.host)) != NULL,
					"host not terminated", s);
			CHECK(u.host[0] != '\0', "URI accepted without a host", s);
			CHECK(u.port >= 0 && u.port <= 65535, "port out of range", s);
			CHECK(u.transport >= 0 && u.transport < HA_TR_COUNT,
					"transport out of range", s);
		} else {
			CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0',
					"URI refused without a message", s);
		}
	}
	if(which == 3 || which == 5) {
		rc = ha_codes_parse(s, &c);
		CHECK(rc == 0 || rc == -1, "codes: return", s);
		if(rc < 0)
			CHECK(c.any == 1, "a refused list is not 'any'", s);
		for(code = 0; code < 800; code += 7)
			(void)ha_codes_alive(&c, code);
		CHECK(!ha_codes_alive(&c, 199) && !ha_codes_alive(&c, 700),
				"a code outside 200..699 alive", s);
	}
	if(which == 4 || which == 5) {
		rc = ha_name_valid(s);
		CHECK(rc == 0 || rc == 1, "name: return", s);
		if(rc)
			CHECK(strlen(s) >= 1 && strlen(s) <= HA_NAME_MAX,
					"name of a bad length accepted", s);
	}
}

static void load_file(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz_config_XXXXXX";
	char err[HA_ERR_MAX];
	ha_cfg_t *cfg = (ha_cfg_t *)1;
	int fd, rc;

	fd = mkstemp(path);
	if(fd < 0)
		return;
	if(write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return;
	}
	close(fd);
	rc = ha_cfg_load(path, NULL, &cfg, err, sizeof(err));
	unlink(path);
	if(rc == 0) {
		check_cfg(cfg);
		ha_cfg_free(cfg);
	} else {
		CHECK(cfg == NULL, "refused but *out set", NULL);
		check_err(err, sizeof(err), path);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const ha_cfg_defaults_t defs = {3000, 1500};
	ha_cfg_t *cfg = (ha_cfg_t *)1;
	size_t errlen = HA_ERR_MAX;
	char *s, *err;
	int rc;

	if(size > 0 && data[0] >= 1 && data[0] <= 5) {
		s = malloc(size);
		if(s == NULL)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		small_parsers(s, data[0]);
		free(s);
		return 0;
	}

	/* now and then an error buffer of 1..32 bytes */
	if(size > 0 && (data[size - 1] & 0xc0) == 0x40)
		errlen = 1 + data[size - 1] % 32;
	err = malloc(errlen);
	if(err == NULL)
		return 0;
	memset(err, 'x', errlen);
	rc = ha_cfg_load_mem(
			(const char *)data, size, NAME, &defs, &cfg, err, errlen);
	if(rc == 0) {
		check_cfg(cfg);
		ha_cfg_free(cfg);
	} else {
		CHECK(rc < 0, "positive return", NULL);
		CHECK(cfg == NULL, "refused but *out set", NULL);
		check_err(err, errlen, NAME);
	}
	free(err);
	if(size > 0 && (data[size - 1] & 0x3f) == 0x3f)
		load_file(data, size);
	return 0;
}
