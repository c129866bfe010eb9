# SPDX-License-Identifier: GPL-2.0-or-later
# ha_pair: top-level build.
#   make run    install what is missing, build, start kamailio + ha_pair in
#               front of a simulated local pair
#   make test   install what is missing, build, run unit and end-to-end tests
#   make fuzz   libFuzzer targets (pairs-file parser, state machine), each
#               FUZZ_SECONDS (20) seconds
#   make status every pair of a running kamailio (CTL=its ctl socket)
#   make deb    the Debian package of the module (build/deb/*.deb)
#   make test-long  the long tests only (HA_LONG=1, marker "long"): the
#               10-minute soak, the long fault variants, 1,000 reloads,
#               and each fuzzer for 60 s

TOP := $(CURDIR)
BUILD := $(TOP)/build
COREPATH := $(BUILD)/kamailio/src
MODDIR := $(TOP)/modules/ha_pair
MODULE := $(MODDIR)/ha_pair.so
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
# where Debian's kamailio looks for modules (PREFIX does not move it)
MULTIARCH := $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
MODULES_DIR ?= /usr/lib/$(MULTIARCH)/kamailio/modules

.PHONY: all deps module unit test test-unit test-e2e test-long run install \
	uninstall clean distclean format check-format docs fuzz fuzz-build \
	test-fuzz-smoke test-long-fuzz test-unit-valgrind bench bench-long \
	bench-smoke bench-wait deb test-deb-install status

all: module

# deps: Debian packages + Debian's source of the installed kamailio.
# Skipped when everything is there already (the stamp names the version).
deps:
	@$(TOP)/scripts/deps.sh

$(COREPATH)/Makefile.defs:
	@$(TOP)/scripts/deps.sh

# a build with SANITIZE=1 and one without do not share objects: switching
# rebuilds (the flavour is remembered beside the objects)
FLAVOUR = sanitize=$(SANITIZE)
define flavour_check
	@if [ "$$(cat $(1)/.flavour 2>/dev/null)" != "$(FLAVOUR)" ]; then \
		rm -f $(2); mkdir -p $(1); echo "$(FLAVOUR)" >$(1)/.flavour; fi
endef

module: deps
	$(call flavour_check,$(MODDIR),$(MODDIR)/*.o $(MODDIR)/*.d $(MODULE))
	$(MAKE) -C $(MODDIR) COREPATH=$(COREPATH) SANITIZE=$(SANITIZE)

$(UNITDIR)/ha_xsd.h: config/ha_pairs.xsd scripts/xsd2c.sh
	@mkdir -p $(UNITDIR)
	scripts/xsd2c.sh $< > $@

$(UNITDIR)/test_ha_fsm: tests/unit/test_ha_fsm.c $(MODDIR)/ha_fsm.c $(MODDIR)/ha_fsm.h
	@mkdir -p $(UNITDIR)
	$(CC) $(UNIT_CFLAGS) $(CHECK_CFLAGS) -o $@ tests/unit/test_ha_fsm.c \
		$(MODDIR)/ha_fsm.c $(CHECK_LIBS)

$(UNITDIR)/test_ha_config: tests/unit/test_ha_config.c $(MODDIR)/ha_config.c \
		$(MODDIR)/ha_config.h $(UNITDIR)/ha_xsd.h
	$(CC) $(UNIT_CFLAGS) $(XML_CFLAGS) $(CHECK_CFLAGS) -o $@ \
		tests/unit/test_ha_config.c $(MODDIR)/ha_config.c $(XML_LIBS) \
		$(CHECK_LIBS)

unit: deps
	$(call flavour_check,$(UNITDIR),$(UNITDIR)/test_ha_*)
	$(MAKE) $(UNITDIR)/test_ha_fsm $(UNITDIR)/test_ha_config

test-unit: unit
	$(UNITDIR)/test_ha_fsm
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
	CK_FORK=no HA_TEST_DATA=$(TOP)/tests/data $(VALGRIND) \
		$(UNITDIR)/test_ha_config
endif

test-e2e: module
	cd $(TOP)/tests/e2e && HA_SANITIZE=$(SANITIZE) $(PYTHON) -m pytest -q \
		-p no:cacheprovider $(PYTEST_ARGS) .

test: test-unit test-unit-valgrind test-fuzz-smoke test-e2e bench-smoke

# ---- fuzzing (libFuzzer, clang from Debian) ----------------------------
# Each target runs FUZZ_SECONDS from the committed seeds (tests/fuzz/corpus)
# plus what earlier runs found (build/fuzz/corpus); a crash or a broken
# invariant stops it and leaves the input in build/fuzz/artifacts/
# (replay: build/fuzz/fuzz_<name> build/fuzz/artifacts/crash-...).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_SMOKE_SECONDS ?= 5
FUZZDIR := $(BUILD)/fuzz
FUZZ_TARGETS := fsm config
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	-I$(MODDIR) -I$(UNITDIR)
FUZZ_RUN = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
FUZZ_ARGS_config = -dict=$(TOP)/tests/fuzz/config.dict

$(FUZZDIR)/fuzz_fsm: tests/fuzz/fuzz_fsm.c $(MODDIR)/ha_fsm.c $(MODDIR)/ha_fsm.h \
		$(MODDIR)/ha_config.h
	@mkdir -p $(FUZZDIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_fsm.c $(MODDIR)/ha_fsm.c

$(FUZZDIR)/fuzz_config: tests/fuzz/fuzz_config.c $(MODDIR)/ha_config.c \
		$(MODDIR)/ha_config.h $(MODDIR)/ha_fsm.c $(UNITDIR)/ha_xsd.h
	@mkdir -p $(FUZZDIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(XML_CFLAGS) -o $@ tests/fuzz/fuzz_config.c \
		$(MODDIR)/ha_config.c $(MODDIR)/ha_fsm.c $(XML_LIBS)

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
bench: module
	$(PYTHON) tests/bench/bench.py --profile quick --out docs/benchmarks.md
	$(PYTHON) tests/bench/wait.py --out docs/benchmarks.md

# how long requests wait in a failover (section 5 of docs/benchmarks.md)
bench-wait: module
	$(PYTHON) tests/bench/wait.py --out docs/benchmarks.md

bench-long: module
	$(PYTHON) tests/bench/bench.py --profile long --out docs/benchmarks.md

# a 10-second run of the benchmark harness (it works; no figures kept)
ifeq ($(SANITIZE),1)
bench-smoke:
	@echo "bench-smoke: skipped (SANITIZE=1: the harness runs kamailio without the sanitizer runtimes)"
else
bench-smoke: module
	$(PYTHON) tests/bench/bench.py --profile smoke
endif

# the long tests only (skipped by make test): SOAK_SECONDS=120 shortens the
# soak; the results go to tests/e2e/logs/soak.txt and fault_matrix.txt
test-long: module test-long-fuzz
	cd $(TOP)/tests/e2e && HA_LONG=1 HA_SANITIZE=$(SANITIZE) $(PYTHON) \
		-m pytest -q -s -p no:cacheprovider -m long $(PYTEST_ARGS) .

run: module
	@$(TOP)/scripts/run.sh

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
DEB_MODULE ?= $(MODULE)
DEB_KAMAILIO_VERSION ?= $(shell dpkg-query -W -f='$${Version}' kamailio 2>/dev/null)
DEB_MODULES_DIR ?= $(MODULES_DIR)

deb: module
	@$(TOP)/scripts/mkdeb.sh "$(DEB_MODULE)" "$(DEB_KAMAILIO_VERSION)" \
		"$(DEB_MODULES_DIR)"

# installs the package on this host, starts kamailio with it, purges it
test-deb-install: deb
	$(TOP)/scripts/test_deb_install.sh "$$(ls $(BUILD)/deb/*.deb)" \
		"$(DEB_MODULES_DIR)"

uninstall:
	rm -f $(DESTDIR)$(MODULES_DIR)/ha_pair.so
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/kamailio-ha-pair
	rm -rf $(DESTDIR)$(PREFIX)/share/kamailio-ha-pair

SOURCES = $(filter-out $(MODDIR)/ha_xsd.h,$(wildcard $(MODDIR)/*.[ch])) \
	$(wildcard tests/unit/*.c) $(wildcard tests/fuzz/*.c)

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

clean:
	-[ -f $(COREPATH)/Makefile.defs ] && $(MAKE) -C $(MODDIR) COREPATH=$(COREPATH) clean
	rm -f $(MODDIR)/ha_xsd.h $(MODDIR)/*.o $(MODDIR)/*.d $(MODULE) \
		$(MODDIR)/.flavour
	rm -rf $(UNITDIR) $(FUZZDIR) tests/e2e/logs

distclean: clean
	rm -rf $(BUILD)
