# ha_pair: top-level build.
#   make run    install what is missing, build, start kamailio + ha_pair in
#               front of a simulated local pair
#   make test   install what is missing, build, run unit and end-to-end tests
#   make test-long  the long end-to-end tests only (HA_LONG=1, marker
#               "long"): the 10-minute soak and the long fault variants

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
UNIT_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
endif

PREFIX ?= /usr
# where Debian's kamailio looks for modules (PREFIX does not move it)
MULTIARCH := $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
MODULES_DIR ?= /usr/lib/$(MULTIARCH)/kamailio/modules

.PHONY: all deps module unit test test-unit test-e2e test-long run install \
	uninstall \
	clean distclean format check-format docs

all: module

# deps: Debian packages + Debian's source of the installed kamailio.
# Skipped when everything is there already (the stamp names the version).
deps:
	@$(TOP)/scripts/deps.sh

$(COREPATH)/Makefile.defs:
	@$(TOP)/scripts/deps.sh

module: deps
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
	$(MAKE) $(UNITDIR)/test_ha_fsm $(UNITDIR)/test_ha_config

test-unit: unit
	$(UNITDIR)/test_ha_fsm
	HA_TEST_DATA=$(TOP)/tests/data $(UNITDIR)/test_ha_config

test-e2e: module
	cd $(TOP)/tests/e2e && $(PYTHON) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) .

test: test-unit test-e2e

# the long tests only (skipped by make test): SOAK_SECONDS=120 shortens the
# soak; the results go to tests/e2e/logs/soak.txt and fault_matrix.txt
test-long: module
	cd $(TOP)/tests/e2e && HA_LONG=1 $(PYTHON) -m pytest -q -s \
		-p no:cacheprovider -m long $(PYTEST_ARGS) .

run: module
	@$(TOP)/scripts/run.sh

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

uninstall:
	rm -f $(DESTDIR)$(MODULES_DIR)/ha_pair.so
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/kamailio-ha-pair
	rm -rf $(DESTDIR)$(PREFIX)/share/kamailio-ha-pair

SOURCES = $(filter-out $(MODDIR)/ha_xsd.h,$(wildcard $(MODDIR)/*.[ch])) \
	$(wildcard tests/unit/*.c)

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
	rm -f $(MODDIR)/ha_xsd.h $(MODDIR)/*.o $(MODDIR)/*.d $(MODULE)
	rm -rf $(UNITDIR) tests/e2e/logs

distclean: clean
	rm -rf $(BUILD)
