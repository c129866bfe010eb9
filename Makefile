# SPDX-License-Identifier: GPL-2.0-or-later
# ha_pair: top-level build.
#   make run    install what is missing, build, start kamailio + ha_pair in
#               front of a simulated local pair
#   make test   install what is missing, build, run unit and end-to-end tests
#   make fuzz   libFuzzer targets (pairs-file parser, state machine, pool
#               replication message, its signed envelope and key file),
#               each FUZZ_SECONDS (20) seconds
#   make status every pair of a running kamailio (CTL=its ctl socket)
#   make deb    the Debian package of the module (build/deb/*.deb)
#   make bench-pool  the pool's agreement times, with and without dmq
#               replication (docs/benchmarks.md)
#   make test-long  the long tests only (HA_LONG=1, marker "long"): the
#               10-minute soak, the long fault variants, 1,000 reloads,
#               and each fuzzer for 60 s

#
# KAMAILIO=5.6 (the default) or KAMAILIO=6.0 picks the Kamailio every target
# builds for, runs and tests with:
#   5.6  Debian 12's package: /usr/sbin/kamailio, the module built in
#        modules/ha_pair/ against Debian's source of the installed version
#   6.0  Debian 13's source package built here (scripts/deps-6.0.sh):
#        build/6.0/prefix/sbin/kamailio; the module built in build/6.0/ha_pair/
#        (its own objects: the two builds never share one)
# make env prints that Kamailio's paths and the module (NAME=/path, four
# lines) and builds nothing.

TOP := $(CURDIR)
BUILD := $(TOP)/build
MODDIR := $(TOP)/modules/ha_pair
KAMAILIO ?= 5.6
ifeq ($(KAMAILIO),6.0)
KBUILD := $(BUILD)/6.0
COREPATH := $(KBUILD)/kamailio/src
KPREFIX := $(KBUILD)/prefix
KAMAILIO_BIN := $(KPREFIX)/sbin/kamailio
KAMCMD := $(KPREFIX)/sbin/kamcmd
KAMAILIO_MODDIR := $(KPREFIX)/lib/kamailio/modules
# the module's objects and ha_pair.so (its sources linked in)
OBJDIR := $(KBUILD)/ha_pair
else ifeq ($(KAMAILIO),5.6)
COREPATH := $(BUILD)/kamailio/src
KAMAILIO_BIN := /usr/sbin/kamailio
KAMCMD := /usr/sbin/kamcmd
OBJDIR := $(MODDIR)
else
$(error KAMAILIO=$(KAMAILIO) is not a target: use KAMAILIO=5.6 (Debian 12's package, the default) or KAMAILIO=6.0 (Debian 13's source, built under build/6.0))
endif
MODULE := $(OBJDIR)/ha_pair.so
UNITDIR := $(BUILD)/unit
# Debian's python3, which has python3-pytest (not one earlier on PATH)
PYTHON ?= /usr/bin/python3
XML_CFLAGS = $(shell pkg-config --cflags libxml-2.0 2>/dev/null)
XML_LIBS = $(shell pkg-config --libs libxml-2.0 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)
UNIT_CFLAGS = -std=gnu99 -Wall -Wextra -Werror -g -O1 -I$(MODDIR) -I$(UNITDIR)
ifeq ($(SANITIZE),1)
UNIT_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
endif

PREFIX ?= /usr
# where that kamailio looks for modules (PREFIX does not move it): Debian's
# folder for 5.6, the private prefix's for 6.0 (never Debian's 5.6 one)
MULTIARCH := $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
ifeq ($(KAMAILIO),5.6)
KAMAILIO_MODDIR := /usr/lib/$(MULTIARCH)/kamailio/modules
endif
MODULES_DIR ?= $(KAMAILIO_MODDIR)
# what the tests and benchmarks run (make env prints the same)
KAMAILIO_ENV = KAMAILIO_BIN='$(KAMAILIO_BIN)' KAMCMD='$(KAMCMD)' \
	KAMAILIO_MODDIR='$(KAMAILIO_MODDIR)' HA_PAIR_SO='$(MODULE)' \
	HA_KAMAILIO='$(KAMAILIO)'

.PHONY: all deps module unit test test-unit test-e2e test-long run install \
	uninstall clean distclean format check-format docs fuzz fuzz-build \
	test-fuzz-smoke test-long-fuzz test-unit-valgrind bench bench-long \
	bench-smoke bench-wait deb deb-kamailio-version test-deb-install status

all: module

# deps: Debian packages + Debian's source of the installed kamailio (5.6),
# or Debian 13's kamailio source built into build/6.0/prefix (6.0).
# Skipped when everything is there already (the stamps name the version).
deps:
	@$(TOP)/scripts/deps.sh $(KAMAILIO)

$(COREPATH)/Makefile.defs:
	@$(TOP)/scripts/deps.sh $(KAMAILIO)

# four lines NAME=/absolute/path; builds nothing, fails when a part is missing
.PHONY: env
env:
	@for f in '$(KAMAILIO_BIN)' '$(KAMCMD)' '$(KAMAILIO_MODDIR)/tm.so' \
		'$(MODULE)'; do [ -e "$$f" ] || { echo "make env: $$f is missing:" \
		"run 'make KAMAILIO=$(KAMAILIO) all' first" >&2; exit 1; }; done
	@echo 'KAMAILIO_BIN=$(KAMAILIO_BIN)'
	@echo 'KAMCMD=$(KAMCMD)'
	@echo 'KAMAILIO_MODDIR=$(KAMAILIO_MODDIR)'
	@echo 'HA_PAIR_SO=$(MODULE)'

# a build with SANITIZE=1 and one without do not share objects: switching
# rebuilds (the flavour is remembered beside the objects)
FLAVOUR = sanitize=$(SANITIZE)
define flavour_check
	@if [ "$$(cat $(1)/.flavour 2>/dev/null)" != "$(FLAVOUR)" ]; then \
		rm -f $(2); mkdir -p $(1); echo "$(FLAVOUR)" >$(1)/.flavour; fi
endef

ifeq ($(OBJDIR),$(MODDIR))
module: deps
	$(call flavour_check,$(MODDIR),$(MODDIR)/*.o $(MODDIR)/*.d $(MODULE))
	$(MAKE) -C $(MODDIR) COREPATH=$(COREPATH) SANITIZE=$(SANITIZE)
else
# out of the source folder: the sources (not the generated ha_xsd.h) are
# linked into $(OBJDIR), links of removed files dropped, and the module's
# own Makefile builds there
module: deps
	$(call flavour_check,$(OBJDIR),$(OBJDIR)/*.o $(OBJDIR)/*.d $(MODULE))
	@cd $(OBJDIR) && for f in *; do [ ! -L "$$f" ] || [ -e "$$f" ] || \
		rm -f "$$f"; done && for f in $(MODDIR)/*.[ch] $(MODDIR)/Makefile; do \
		[ "$${f##*/}" = ha_xsd.h ] || ln -sfn "$$f" .; done
	$(MAKE) -C $(OBJDIR) COREPATH=$(COREPATH) SANITIZE=$(SANITIZE) \
		HA_TOP=$(TOP)
endif

$(UNITDIR)/ha_xsd.h: config/ha_pairs.xsd scripts/xsd2c.sh
	@mkdir -p $(UNITDIR)
	scripts/xsd2c.sh $< > $@

# the pure sources each test and fuzzer links: the state machine (its
# probing, requests' and pool replication's files, with the alive-codes
# grammar it reads) and the pairs-file parser
FSM_SRC := $(MODDIR)/ha_fsm.c $(MODDIR)/ha_fsm_req.c $(MODDIR)/ha_fsm_pool.c \
	$(MODDIR)/ha_codes.c $(MODDIR)/ha_text.c $(MODDIR)/ha_addr.c
CONFIG_SRC := $(MODDIR)/ha_config.c $(MODDIR)/ha_xml.c $(MODDIR)/ha_uri.c \
	$(MODDIR)/ha_codes.c $(MODDIR)/ha_text.c $(MODDIR)/ha_settings.c
PURE_HDR := $(MODDIR)/ha_fsm.h $(MODDIR)/ha_fsm_int.h $(MODDIR)/ha_codes.h \
	$(MODDIR)/ha_text.h $(MODDIR)/ha_addr.h $(MODDIR)/ha_time.h \
	$(MODDIR)/ha_config.h $(MODDIR)/ha_xml.h $(MODDIR)/ha_uri.h \
	$(MODDIR)/ha_hash.h $(MODDIR)/ha_token.h $(MODDIR)/ha_settings.h

# the state machine's suites (one a file, main() in test_ha_fsm.c) and the
# simulation they drive it with
FSM_TEST_SRC := $(addprefix tests/unit/,test_ha_fsm.c test_ha_fsm_probe.c \
	test_ha_fsm_timing.c test_ha_fsm_req.c test_ha_fsm_pool.c \
	test_ha_fsm_sync.c fsm_sim.c)

$(UNITDIR)/test_ha_fsm: $(FSM_TEST_SRC) tests/unit/fsm_sim.h $(FSM_SRC) \
		$(PURE_HDR)
	@mkdir -p $(UNITDIR)
	$(CC) $(UNIT_CFLAGS) $(CHECK_CFLAGS) -o $@ $(FSM_TEST_SRC) \
		$(FSM_SRC) $(CHECK_LIBS)

$(UNITDIR)/test_ha_peer: tests/unit/test_ha_peer.c $(MODDIR)/ha_peer.c \
		$(MODDIR)/ha_peer.h $(FSM_SRC) $(PURE_HDR)
	@mkdir -p $(UNITDIR)
	$(CC) $(UNIT_CFLAGS) $(CHECK_CFLAGS) -o $@ tests/unit/test_ha_peer.c \
		$(MODDIR)/ha_peer.c $(FSM_SRC) $(CHECK_LIBS)

# the pairs file parser's suites (one a file, main() in test_ha_config.c)
# and what they share
CONFIG_TEST_SRC := $(addprefix tests/unit/,test_ha_config.c \
	test_ha_config_invalid.c test_ha_config_api.c test_ha_config_uri.c \
	test_ha_settings.c cfg_util.c)

$(UNITDIR)/test_ha_config: $(CONFIG_TEST_SRC) tests/unit/cfg_util.h \
		$(CONFIG_SRC) $(PURE_HDR) $(UNITDIR)/ha_xsd.h
	$(CC) $(UNIT_CFLAGS) $(XML_CFLAGS) $(CHECK_CFLAGS) -o $@ \
		$(CONFIG_TEST_SRC) $(CONFIG_SRC) $(XML_LIBS) $(CHECK_LIBS)

$(UNITDIR)/test_ha_codes: tests/unit/test_ha_codes.c $(MODDIR)/ha_codes.c \
		$(MODDIR)/ha_text.c $(PURE_HDR)
	@mkdir -p $(UNITDIR)
	$(CC) $(UNIT_CFLAGS) $(CHECK_CFLAGS) -o $@ tests/unit/test_ha_codes.c \
		$(MODDIR)/ha_codes.c $(MODDIR)/ha_text.c $(CHECK_LIBS)

$(UNITDIR)/test_ha_text: tests/unit/test_ha_text.c $(MODDIR)/ha_text.c \
		$(MODDIR)/ha_text.h
	@mkdir -p $(UNITDIR)
	$(CC) $(UNIT_CFLAGS) $(CHECK_CFLAGS) -o $@ tests/unit/test_ha_text.c \
		$(MODDIR)/ha_text.c $(CHECK_LIBS)

$(UNITDIR)/test_ha_token: tests/unit/test_ha_token.c $(MODDIR)/ha_token.c \
		$(MODDIR)/ha_token.h
	@mkdir -p $(UNITDIR)
	$(CC) $(UNIT_CFLAGS) $(CHECK_CFLAGS) -o $@ tests/unit/test_ha_token.c \
		$(MODDIR)/ha_token.c $(CHECK_LIBS)

# the signed envelope: ha_seal.c, ha_hmac.c and the core's SHA-256, which
# the kamailio binary exports to the module; the sources include it as
# "../../core/crypto/sha256.h", resolved against a module folder as the
# module's own Makefile does
SEAL_SRC := $(MODDIR)/ha_seal.c $(MODDIR)/ha_hmac.c
SEAL_HDR := $(MODDIR)/ha_seal.h $(MODDIR)/ha_hmac.h $(MODDIR)/ha_fsm.h
SHA256_SRC = $(COREPATH)/core/crypto/sha256.c
SEAL_CFLAGS = -I$(COREPATH)/modules/rr

# Kamailio's sha256.c is not ours to change and does not build under
# -Werror (gcc's -Wold-style-declaration: "const static"): its own object,
# with the warnings but without -Werror
$(UNITDIR)/ha_core_sha256.o: $(SHA256_SRC) $(COREPATH)/Makefile.defs
	@mkdir -p $(UNITDIR)
	$(CC) $(filter-out -Werror,$(UNIT_CFLAGS)) -Wno-old-style-declaration \
		-c -o $@ $(SHA256_SRC)

$(UNITDIR)/test_ha_seal: tests/unit/test_ha_seal.c $(SEAL_SRC) $(SEAL_HDR) \
		$(UNITDIR)/ha_core_sha256.o
	@mkdir -p $(UNITDIR)
	$(CC) $(UNIT_CFLAGS) $(SEAL_CFLAGS) $(CHECK_CFLAGS) -o $@ \
		tests/unit/test_ha_seal.c $(SEAL_SRC) $(UNITDIR)/ha_core_sha256.o \
		$(CHECK_LIBS)

unit: deps
	$(call flavour_check,$(UNITDIR),$(UNITDIR)/test_ha_* $(UNITDIR)/*.o)
	$(MAKE) $(UNITDIR)/test_ha_fsm $(UNITDIR)/test_ha_config \
		$(UNITDIR)/test_ha_peer $(UNITDIR)/test_ha_codes \
		$(UNITDIR)/test_ha_token $(UNITDIR)/test_ha_seal \
		$(UNITDIR)/test_ha_text

test-unit: unit
	$(UNITDIR)/test_ha_fsm
	$(UNITDIR)/test_ha_peer
	$(UNITDIR)/test_ha_codes
	$(UNITDIR)/test_ha_token
	$(UNITDIR)/test_ha_seal
	$(UNITDIR)/test_ha_text
	HA_TEST_DATA=$(TOP)/tests/data $(UNITDIR)/test_ha_config

# the unit tests under valgrind: no invalid access, no leak (CK_FORK=no:
# the tests run in the process valgrind watches)
VALGRIND = valgrind -q --leak-check=full --error-exitcode=1 \
	--errors-for-leak-kinds=definite,indirect
ifeq ($(SANITIZE),1)
test-unit-valgrind:
	@echo "test-unit-valgrind: skipped (SANITIZE=1: the unit tests ran under ASan/UBSan)"
else
test-unit-valgrind: unit
	CK_FORK=no $(VALGRIND) $(UNITDIR)/test_ha_fsm
	CK_FORK=no $(VALGRIND) $(UNITDIR)/test_ha_peer
	CK_FORK=no $(VALGRIND) $(UNITDIR)/test_ha_codes
	CK_FORK=no $(VALGRIND) $(UNITDIR)/test_ha_token
	CK_FORK=no $(VALGRIND) $(UNITDIR)/test_ha_seal
	CK_FORK=no $(VALGRIND) $(UNITDIR)/test_ha_text
	CK_FORK=no HA_TEST_DATA=$(TOP)/tests/data $(VALGRIND) \
		$(UNITDIR)/test_ha_config
endif

# PYTEST_ARGS: e.g. 'test_failover.py -x' runs that file only (none: all)
# (tests/e2e/pytest.ini adds -rfEsx: every skip listed with its reason above
# the closing "N passed, ..." line)
test-e2e: module
	cd $(TOP)/tests/e2e && $(KAMAILIO_ENV) HA_SANITIZE=$(SANITIZE) \
		$(PYTHON) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# the edit-compile-test loop (under 3 minutes): the unit tests and a smoke
# subset of the end-to-end suite (one test of each main path: probing and
# failover, waiting requests, the pool, TLS, RPC, the harness itself)
QUICK_TESTS := test_harness.py test_failover.py \
	test_routing_rules.py \
	test_pool_dmq.py::test_passive_switchover_adopted_by_the_pool_within_100ms \
	test_wakeup.py test_tls_member.py::test_tls_probes_routing_and_frozen_primary \
	test_rpc_bad_args.py test_clean_stop.py test_tcp_member.py test_reload.py
.PHONY: test-quick
test-quick: test-unit module
	cd $(TOP)/tests/e2e && $(KAMAILIO_ENV) HA_SANITIZE=$(SANITIZE) \
		$(PYTHON) -m pytest -q -p no:cacheprovider $(QUICK_TESTS)

# make test-repeat [TESTS='test_pool_sync.py -k batches'] [RUNS=10] [LOAD=0]
# runs end-to-end tests RUNS times pinned to two CPUs (taskset), with
# stress-ng busy on one of them unless LOAD=0, and prints per test: runs,
# passes, failures, the slowest wait against its bound (tests/repeat.py;
# REPEAT_OUT: where the markdown table goes). Not part of make test.
RUNS ?= 10
LOAD ?= 1
.PHONY: test-repeat
test-repeat: module
	cd $(TOP)/tests/e2e && $(KAMAILIO_ENV) HA_SANITIZE=$(SANITIZE) \
		$(PYTHON) $(TOP)/tests/repeat.py --runs $(RUNS) \
		$(if $(filter 0,$(LOAD)),--no-load,--load) \
		$(if $(REPEAT_OUT),--out $(REPEAT_OUT)) $(TESTS)

# KAMAILIO=6.0: the unit tests (they do not involve Kamailio, but cost
# seconds), the end-to-end suite and the benchmark smoke against 6.0;
# valgrind over the unit tests and the fuzz smoke run with the default
# target only (the same code, nothing of Kamailio in it)
ifeq ($(KAMAILIO),5.6)
test: check-map test-unit test-unit-valgrind test-fuzz-smoke test-e2e bench-smoke
else
test: check-map test-unit test-e2e bench-smoke
endif

# ---- fuzzing (libFuzzer, clang from Debian) ----------------------------
# Each target runs FUZZ_SECONDS from the committed seeds (tests/fuzz/corpus)
# plus what earlier runs found (build/fuzz/corpus); a crash or a broken
# invariant stops it and leaves the input in build/fuzz/artifacts/
# (replay: build/fuzz/fuzz_<name> build/fuzz/artifacts/crash-...).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_SMOKE_SECONDS ?= 5
FUZZDIR := $(BUILD)/fuzz
FUZZ_TARGETS := fsm config peer seal
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	-I$(MODDIR) -I$(UNITDIR)
FUZZ_RUN = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
FUZZ_ARGS_config = -dict=$(TOP)/tests/fuzz/config.dict

$(FUZZDIR)/fuzz_fsm: tests/fuzz/fuzz_fsm.c $(FSM_SRC) $(PURE_HDR)
	@mkdir -p $(FUZZDIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_fsm.c $(FSM_SRC)

$(FUZZDIR)/fuzz_config: tests/fuzz/fuzz_config.c $(CONFIG_SRC) \
		$(PURE_HDR) $(UNITDIR)/ha_xsd.h
	@mkdir -p $(FUZZDIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(XML_CFLAGS) -o $@ tests/fuzz/fuzz_config.c \
		$(CONFIG_SRC) $(XML_LIBS)

$(FUZZDIR)/fuzz_peer: tests/fuzz/fuzz_peer.c $(MODDIR)/ha_peer.c \
		$(MODDIR)/ha_peer.h $(FSM_SRC) $(PURE_HDR)
	@mkdir -p $(FUZZDIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_peer.c \
		$(MODDIR)/ha_peer.c $(FSM_SRC)

$(FUZZDIR)/fuzz_seal: tests/fuzz/fuzz_seal.c $(SEAL_SRC) $(SEAL_HDR) \
		$(SHA256_SRC)
	@mkdir -p $(FUZZDIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SEAL_CFLAGS) -o $@ tests/fuzz/fuzz_seal.c \
		$(SEAL_SRC) $(SHA256_SRC)

fuzz-build: deps
	$(MAKE) $(patsubst %,$(FUZZDIR)/fuzz_%,$(FUZZ_TARGETS))

# run every target $(FUZZ_SECONDS) seconds, one after the other
fuzz: fuzz-build
	@$(MAKE) --no-print-directory -j1 $(patsubst %,fuzz-run-%,$(FUZZ_TARGETS))

fuzz-run-%:
	@mkdir -p $(FUZZDIR)/corpus/$* $(FUZZDIR)/artifacts
	@echo "fuzz: $* for $(FUZZ_SECONDS) s"
	@$(FUZZ_RUN) $(FUZZDIR)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=$(FUZZDIR)/artifacts/ $(FUZZ_ARGS_$*) \
		$(FUZZDIR)/corpus/$* $(TOP)/tests/fuzz/corpus/$* \
		>$(FUZZDIR)/$*.log 2>&1 || { tail -n 40 $(FUZZDIR)/$*.log; \
		echo "fuzz: $* FAILED (log $(FUZZDIR)/$*.log)"; exit 1; }
	@grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' \
		$(FUZZDIR)/$*.log

# the committed seeds replayed, then a few seconds of fuzzing each
test-fuzz-smoke: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		$(FUZZ_RUN) $(FUZZDIR)/fuzz_$$t -runs=0 \
			$(TOP)/tests/fuzz/corpus/$$t >$(FUZZDIR)/$$t-replay.log 2>&1 \
			|| { tail -n 40 $(FUZZDIR)/$$t-replay.log; exit 1; }; \
	done
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

# for make test-long: a minute each
test-long-fuzz:
	$(MAKE) fuzz FUZZ_SECONDS=60

# Benchmarks against Kamailio's dispatcher (tests/bench/, docs/benchmarks.md)
# KAMAILIO=6.0 make bench-cost: the cost per request (callgrind) only, for
# the table of both versions in docs/benchmarks.md
ifeq ($(KAMAILIO),5.6)
bench: module
	$(KAMAILIO_ENV) $(PYTHON) tests/bench/bench.py --profile quick \
		--out docs/benchmarks.md
	$(KAMAILIO_ENV) $(PYTHON) tests/bench/wait.py --out docs/benchmarks.md

bench-long: module
	$(KAMAILIO_ENV) $(PYTHON) tests/bench/bench.py --profile long \
		--out docs/benchmarks.md
else
bench bench-long:
	@echo "make $@ measures Kamailio 5.6 (the report's reference);" \
		"with KAMAILIO=$(KAMAILIO): make KAMAILIO=$(KAMAILIO) bench-cost" >&2
	@exit 1
endif

# how long requests wait in a failover (section 5 of docs/benchmarks.md)
bench-wait: module
	$(KAMAILIO_ENV) $(PYTHON) tests/bench/wait.py --out docs/benchmarks.md

.PHONY: bench-cost
bench-cost: module
	$(KAMAILIO_ENV) $(PYTHON) tests/bench/bench.py --profile quick \
		--only callgrind --versions-table docs/benchmarks.md

# what signing costs a pool message (docs/benchmarks.md, "Signed pool
# messages"): ha_seal()/ha_unseal() timed, built -O2 as the module is
.PHONY: bench-seal
bench-seal: deps
	@mkdir -p $(BUILD)/bench
	$(CC) -std=gnu99 -O2 -Wall -I$(MODDIR) $(SEAL_CFLAGS) \
		-Wno-old-style-declaration -o $(BUILD)/bench/seal_cost \
		tests/bench/seal_cost.c $(SEAL_SRC) $(SHA256_SRC)
	$(BUILD)/bench/seal_cost

# the pool's agreement times (docs/benchmarks.md, "Pool agreement"): with
# dmq replication (as make test runs them) and without it (HA_LONG=1,
# about two minutes); the figures go to tests/e2e/logs/pool_agreement.txt
.PHONY: bench-pool
bench-pool: module
	rm -f $(TOP)/tests/e2e/logs/pool_agreement.txt
	cd $(TOP)/tests/e2e && $(KAMAILIO_ENV) HA_LONG=1 $(PYTHON) -m pytest -q \
		-p no:cacheprovider test_pool_dmq.py -k \
		"within_100ms or found_by_probes or without_replication"
	cat $(TOP)/tests/e2e/logs/pool_agreement.txt

# a 10-second run of the benchmark harness (it works; no figures kept), and
# wait.py's imports (its runs take minutes: make bench-wait)
ifeq ($(SANITIZE),1)
bench-smoke:
	@echo "bench-smoke: skipped (SANITIZE=1: the harness runs kamailio without the sanitizer runtimes)"
else
bench-smoke: module
	$(KAMAILIO_ENV) $(PYTHON) tests/bench/bench.py --profile smoke
	$(KAMAILIO_ENV) $(PYTHON) tests/bench/wait.py --help >/dev/null
endif

# the long tests only (skipped by make test): SOAK_SECONDS=120 shortens the
# soak; the results go to tests/e2e/logs/soak.txt and fault_matrix.txt
test-long: module test-long-fuzz
	cd $(TOP)/tests/e2e && $(KAMAILIO_ENV) HA_LONG=1 \
		HA_SANITIZE=$(SANITIZE) $(PYTHON) -m pytest -q -s \
		-p no:cacheprovider -m long $(PYTEST_ARGS)

run: module
	@$(KAMAILIO_ENV) $(TOP)/scripts/run.sh

# every pair of a running kamailio as a table (make status CTL=unix:run/kamailio_ctl)
CTL ?= unix:/run/kamailio/kamailio_ctl
status:
	@$(TOP)/scripts/ha_status -s "$(CTL)"

install: module
	install -d $(DESTDIR)$(MODULES_DIR)
	install -m 0644 $(MODULE) $(DESTDIR)$(MODULES_DIR)/ha_pair.so
	install -d $(DESTDIR)$(PREFIX)/share/doc/kamailio-ha-pair
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/kamailio-ha-pair/
	install -d $(DESTDIR)$(PREFIX)/share/doc/kamailio-ha-pair/img
	install -m 0644 docs/img/* $(DESTDIR)$(PREFIX)/share/doc/kamailio-ha-pair/img/
	install -d $(DESTDIR)$(PREFIX)/share/kamailio-ha-pair
	install -m 0644 config/kamailio.cfg config/ha_pairs.xml config/ha_pairs.xsd \
		$(DESTDIR)$(PREFIX)/share/kamailio-ha-pair/

# The Debian package (scripts/mkdeb.sh, debian/): the module DEB_MODULE, for
# the kamailio of Debian version DEB_KAMAILIO_VERSION, installed into
# DEB_MODULES_DIR. The defaults are Debian's own kamailio.
# For KAMAILIO=6.0 the package is for Debian 13's kamailio package (the
# version whose source make deps builds), in Debian's module folder.
DEB_MODULE ?= $(MODULE)
ifeq ($(KAMAILIO),6.0)
K60_DEBVER ?= 6.0.1-1+deb13u1
DEB_KAMAILIO_VERSION ?= $(K60_DEBVER)
DEB_MODULES_DIR ?= /usr/lib/$(MULTIARCH)/kamailio/modules
else
DEB_KAMAILIO_VERSION ?= $(shell dpkg-query -W -f='$${Version}' kamailio 2>/dev/null)
DEB_MODULES_DIR ?= $(MODULES_DIR)
endif

deb: module
	@$(TOP)/scripts/mkdeb.sh "$(DEB_MODULE)" "$(DEB_KAMAILIO_VERSION)" \
		"$(DEB_MODULES_DIR)"

# the kamailio version make deb's package depends on (for the tests)
deb-kamailio-version:
	@echo "$(DEB_KAMAILIO_VERSION)"

# installs the package on this host, starts kamailio with it, purges it
ifeq ($(KAMAILIO),6.0)
test-deb-install:
	@echo "make test-deb-install: the 6.0 package is for Debian 13's" \
		"kamailio package, which this Debian 12 host does not have" >&2
	@exit 1
else
test-deb-install: deb
	$(TOP)/scripts/test_deb_install.sh "$$($(MAKE) -s deb | tail -n 1)" \
		"$(DEB_MODULES_DIR)"
endif

uninstall:
	rm -f $(DESTDIR)$(MODULES_DIR)/ha_pair.so
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/kamailio-ha-pair
	rm -rf $(DESTDIR)$(PREFIX)/share/kamailio-ha-pair

SOURCES = $(filter-out $(MODDIR)/ha_xsd.h,$(wildcard $(MODDIR)/*.[ch])) \
	$(wildcard tests/unit/*.[ch]) $(wildcard tests/fuzz/*.c) \
	$(wildcard tests/bench/*.c)

# the state machine's picture (Graphviz)
docs: docs/img/ha_fsm.png

docs/img/ha_fsm.png: docs/img/ha_fsm.dot
	@command -v dot >/dev/null || { \
		echo "installing graphviz"; \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq graphviz; }
	dot -Tpng -Gdpi=110 $< -o $@

format:
	clang-format -i $(SOURCES)

check-format:
	@clang-format --dry-run --Werror $(SOURCES)

# the module's file-to-file call map in docs/design.md (scripts/callmap.py):
# make map writes it; make check-map (part of make test) fails when it is
# stale, when files call each other in a cycle (but the state machine's
# ha_fsm*.c), or when a call goes around its owner's own header
.PHONY: map check-map
map:
	$(PYTHON) scripts/callmap.py --write

check-map:
	$(PYTHON) scripts/callmap.py --self-test
	$(PYTHON) scripts/callmap.py --check

clean:
	-[ -f $(COREPATH)/Makefile.defs ] && $(MAKE) -C $(MODDIR) COREPATH=$(COREPATH) clean
	rm -f $(MODDIR)/ha_xsd.h $(MODDIR)/*.o $(MODDIR)/*.d $(MODDIR)/ha_pair.so \
		$(MODDIR)/.flavour
	rm -rf $(UNITDIR) $(FUZZDIR) tests/e2e/logs $(BUILD)/6.0/ha_pair

distclean: clean
	rm -rf $(BUILD)
