# flamenco-manager: a Flamenco v3 compatible render-farm Manager in C.
#
#   make run     build, then start the Manager with flamenco-manager.conf
#   make test    build everything with ASan+UBSan and run every test
#   make bench   run the benchmarks in tests/bench/
#   make fuzz    fuzz the ASan-built Manager with Schemathesis (api/openapi.yaml)
#   make e2e     end-to-end with the real Flamenco add-on and Worker (tests/e2e/)
#
# Every target that builds first makes sure the Debian packages it needs are
# installed (contrib/deps.sh; apt-get as root, sudo otherwise).

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
CONF    ?= flamenco-manager.conf

CC      ?= cc
PKGS     = libmicrohttpd jansson sqlite3 uuid libcrypt libjpeg spng yaml-0.1 \
           libmosquitto
TESTPKGS = check libcurl

GIT_HASH := $(shell git rev-parse --short=8 HEAD 2>/dev/null || echo unknown)
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN = -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wmissing-declarations -Wpointer-arith \
       -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef -Wvla \
       -Wimplicit-fallthrough -fno-common
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -g -pthread $(WARN) \
       -fstack-protector-strong -isystem build/duktape

# Two build trees: release objects for the binary, sanitized ones for tests.
ifeq ($(SAN),1)
OUT     = build/asan
MODE_CFLAGS = -O1 -fno-omit-frame-pointer \
       -fsanitize=address,undefined -fno-sanitize-recover=all
MODE_LDFLAGS = -fsanitize=address,undefined
else
OUT     = build/release
MODE_CFLAGS = -O2 -D_FORTIFY_SOURCE=2
MODE_LDFLAGS =
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread
TEST_CFLAGS = $(shell pkg-config --cflags $(TESTPKGS) 2>/dev/null)
TEST_LIBS   = $(shell pkg-config --libs $(TESTPKGS) 2>/dev/null)

ALL_CFLAGS = $(BASE_CFLAGS) $(MODE_CFLAGS) $(PKG_CFLAGS) -Isrc -I$(OUT)/gen \
       $(CFLAGS)

SRCS     = $(wildcard src/*.c)
LIB_SRCS = $(filter-out src/main.c,$(SRCS))
LIB_OBJS = $(LIB_SRCS:src/%.c=$(OUT)/%.o)
GEN_SRCS = $(OUT)/gen/migrations_gen.c $(OUT)/gen/scripts_gen.c \
	   $(OUT)/gen/jslib_gen.c $(OUT)/gen/api_gen.c $(OUT)/gen/web_gen.c
GEN_OBJS = $(GEN_SRCS:.c=.o)
DUK_OBJ  = build/duktape/duktape.o
LIBFM    = $(OUT)/libfm.a
FUZZ_VENV = build/venv
OPENJD_VENV = build/openjd-venv

TEST_SRCS = $(wildcard tests/check_*.c)
TEST_BINS = $(TEST_SRCS:tests/%.c=$(OUT)/tests/%)
TEST_HELPERS = $(filter-out $(TEST_SRCS),$(wildcard tests/*.c))

MIGRATIONS = $(sort $(wildcard migrations/*.sql))
SCRIPTS    = $(sort $(wildcard scripts/*.js scripts/*.yaml))
WEB_FILES  = $(sort $(wildcard src/web/*))
WEB_GZ     = $(WEB_FILES:src/web/%=build/web/%.gz)
JS_LIBS    = node_modules/buble/dist/buble-browser-deps.umd.js \
	     node_modules/core-js-bundle/index.js \
	     $(sort $(wildcard src/js/*.js))

.PHONY: FORCE all run test test-run bench e2e fuzz fuzz-run deps install clean \
	format check-format check-spec check-headers asan valgrind
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory flamenco-manager

deps:
	@sh contrib/deps.sh

run: all
	./flamenco-manager -c $(CONF)

flamenco-manager: $(OUT)/main.o $(LIBFM)
	@echo "  LD      $@"
	@$(CC) -o $@ $^ $(MODE_LDFLAGS) $(PKG_LIBS) $(LDFLAGS)

$(LIBFM): $(LIB_OBJS) $(GEN_OBJS) $(DUK_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(OUT)/%.o: src/%.c build/duktape/duk_config.h
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The version and commit, rewritten only when they change, so a new commit
# rebuilds the two objects that print it and nothing else.
$(OUT)/gen/version.h: FORCE
	@mkdir -p $(@D)
	@printf '#define FM_VERSION "%s"\n#define FM_GIT_HASH "%s"\n' \
	    '$(VERSION)' '$(GIT_HASH)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

$(OUT)/main.o $(OUT)/api_meta.o: $(OUT)/gen/version.h

$(OUT)/gen/%.o: $(OUT)/gen/%.c
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -Wno-overlength-strings -c -o $@ $<

# Build-time tool that turns files into a C table (never linked in).
build/embed: contrib/embed.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

$(OUT)/gen/migrations_gen.c: build/embed $(MIGRATIONS)
	@mkdir -p $(@D)
	build/embed embedded_migrations $(MIGRATIONS) > $@

$(OUT)/gen/scripts_gen.c: build/embed $(SCRIPTS)
	@mkdir -p $(@D)
	build/embed embedded_scripts $(SCRIPTS) > $@

$(OUT)/gen/api_gen.c: build/embed api/openapi.yaml
	@mkdir -p $(@D)
	build/embed embedded_api api/openapi.yaml > $@

# The dashboard, each file beside a gzip copy made at build time (-n: no
# name or time inside, so the copy only changes with the file).
build/web/%.gz: src/web/%
	@mkdir -p $(@D)
	@gzip -9 -n -c $< > $@

$(OUT)/gen/web_gen.c: build/embed $(WEB_FILES) $(WEB_GZ)
	@mkdir -p $(@D)
	build/embed embedded_web $(WEB_FILES) $(WEB_GZ) > $@
	@echo "  WEB     $(words $(WEB_FILES)) files, $$(cat $(WEB_FILES) | wc -c) bytes, gzip $$(cat $(WEB_GZ) | wc -c) bytes"

$(OUT)/gen/jslib_gen.c: build/embed $(JS_LIBS)
	@mkdir -p $(@D)
	build/embed embedded_jslib $(JS_LIBS) > $@

node_modules/buble/dist/buble-browser-deps.umd.js node_modules/core-js-bundle/index.js: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch node_modules/buble/dist/buble-browser-deps.umd.js node_modules/core-js-bundle/index.js

# Duktape from the duktape-dev package, with interrupts and exec timeouts on.
build/duktape/duk_config.h: /usr/share/duktape/duk_config.h
	@mkdir -p $(@D)
	cp /usr/share/duktape/duktape.c /usr/share/duktape/duktape.h $(@D)/
	sed -e 's|^/\* __OVERRIDE_DEFINES__ \*/|#define DUK_USE_INTERRUPT_COUNTER\n#define DUK_USE_EXEC_TIMEOUT_CHECK(udata) jsenv_timeout_check(udata)\nextern int jsenv_timeout_check(void *udata);\n#undef DUK_USE_JSON_STRINGIFY_FASTPATH\n#define DUK_USE_JSON_STRINGIFY_FASTPATH\n&|' $< > $@

$(DUK_OBJ): build/duktape/duk_config.h
	@echo "  CC      $@ (Duktape from duktape-dev)"
	@$(CC) -O2 -g -std=c99 -w -fPIC -c -o $@ build/duktape/duktape.c

# --- tests -------------------------------------------------------------

test: deps
	@sh contrib/deps.sh browser
	@$(MAKE) --no-print-directory SAN=1 test-run

test-run: flamenco-manager-test $(TEST_BINS) check-spec check-format $(FUZZ_VENV)/.installed $(OPENJD_VENV)/.installed
	@sh tests/run.sh $(OUT)/tests ./build/asan/flamenco-manager

flamenco-manager-test: $(OUT)/flamenco-manager
$(OUT)/flamenco-manager: $(OUT)/main.o $(LIBFM)
	@echo "  LD      $@"
	@$(CC) -o $@ $^ $(MODE_LDFLAGS) $(PKG_LIBS) $(LDFLAGS)

$(OUT)/tests/%: tests/%.c $(TEST_HELPERS) $(LIBFM)
	@mkdir -p $(@D)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -Itests -DFM_SOURCE_DIR='"$(CURDIR)"' \
	    -o $@ $< $(TEST_HELPERS) $(LIBFM) $(MODE_LDFLAGS) $(PKG_LIBS) $(TEST_LIBS)

asan: test

# Every suite under valgrind in a process of its own (tests/valgrind.sh),
# as many at a time as there are CPUs; logs in build/valgrind/.
VALGRIND_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
valgrind: all
	@$(MAKE) --no-print-directory $(TEST_BINS)
	@sh tests/valgrind.sh build/valgrind $(VALGRIND_JOBS) $(TEST_BINS)

check-spec: flamenco-manager-test
	@sh tests/check-spec.sh $(OUT)/flamenco-manager api/openapi.yaml

check-headers:
	@for h in src/*.h; do echo "#include \"$$h\"" | \
	    $(CC) $(BASE_CFLAGS) $(PKG_CFLAGS) -Isrc -fsyntax-only -x c - || exit 1; done

BENCH_BINS = $(patsubst tests/bench/%.c,$(OUT)/bench/%,$(wildcard tests/bench/*.c))

$(OUT)/bench/%: tests/bench/%.c $(LIBFM)
	@mkdir -p $(@D)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBFM) $(MODE_LDFLAGS) $(PKG_LIBS)

bench: all
	@sh contrib/deps.sh bench
	@$(MAKE) --no-print-directory $(BENCH_BINS) build/fm-worker-sim
	@sh tests/bench/run.sh

# End-to-end with the real Flamenco add-on (in Debian's Blender) and Worker.
# Not part of `make test`: it needs the Flamenco sources and a Worker built
# from them, which it does not fetch (FLAMENCO_SRC, see tests/e2e/README.md).
e2e: all
	@sh contrib/deps.sh e2e
	@bash tests/e2e/run.sh

# API fuzz: Schemathesis, pinned with hashes in tests/fuzz/requirements.txt
# (regenerate it with pip-compile, see its header), in a virtualenv of its
# own. tests/run.sh runs it last, so `make test` does too.
$(FUZZ_VENV)/.installed: tests/fuzz/requirements.txt
	@sh contrib/deps.sh fuzz
	@rm -rf $(FUZZ_VENV)
	@echo "  VENV    $(FUZZ_VENV) (schemathesis, tests/fuzz/requirements.txt)"
	@python3 -m venv $(FUZZ_VENV)
	@$(FUZZ_VENV)/bin/pip install -q --disable-pip-version-check \
	    --require-hashes -r tests/fuzz/requirements.txt
	@touch $@

# The OpenJD reference tooling, pinned with hashes, that
# tests/smoke_openjd.sh compares our template expansion with.
$(OPENJD_VENV)/.installed: tests/openjd/requirements.txt
	@sh contrib/deps.sh fuzz
	@rm -rf $(OPENJD_VENV)
	@echo "  VENV    $(OPENJD_VENV) (openjd-cli, tests/openjd/requirements.txt)"
	@python3 -m venv $(OPENJD_VENV)
	@$(OPENJD_VENV)/bin/pip install -q --disable-pip-version-check \
	    --require-hashes -r tests/openjd/requirements.txt
	@touch $@

fuzz: deps
	@$(MAKE) --no-print-directory SAN=1 fuzz-run

fuzz-run: flamenco-manager-test $(FUZZ_VENV)/.installed
	@sh tests/fuzz/run.sh $(OUT)/flamenco-manager

format:
	clang-format -i src/*.c src/*.h tests/*.c contrib/*.c $(wildcard tests/*.h tests/bench/*.[ch])

check-format:
	@clang-format --dry-run --Werror src/*.c src/*.h tests/*.c contrib/*.c $(wildcard tests/*.h tests/bench/*.[ch])

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PREFIX)/share/flamenco-manager
	install -m 755 flamenco-manager $(DESTDIR)$(BINDIR)/
	install -m 644 flamenco-manager.conf $(DESTDIR)$(PREFIX)/share/flamenco-manager/

clean:
	rm -rf build flamenco-manager

-include $(wildcard build/release/*.d build/asan/*.d)

# Test tool: simulated Flamenco Workers (contrib/fm-worker-sim.c).
build/fm-worker-sim: contrib/fm-worker-sim.c
	@mkdir -p $(@D)
	@echo "  CCLD    $@"
	@$(CC) -O2 -g $(WARN) -std=c11 -D_GNU_SOURCE -o $@ $< $(shell pkg-config --cflags --libs libcurl jansson) -pthread
