# perfgate's build.  `make` builds build/perfgate; `make test` runs every test;
# `make demo` runs the main job on the embedded database; `make deps` installs
# the Debian packages perfgate needs.  See README.md.

ifeq ($(SANITIZE),1)
BUILD     ?= build-asan
endif
BUILD     ?= build
PREFIX    ?= /usr/local
CC        ?= cc
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0-dev)

# Debian packages: name of the pkg-config module -> package that provides it.
PKG_MODULES := libpq libcurl libgit2 libcjson gsl zlib
deb_libpq    := libpq-dev
deb_libcurl  := libcurl4-openssl-dev
deb_libgit2  := libgit2-dev
deb_libcjson := libcjson-dev
deb_gsl      := libgsl-dev
deb_zlib     := zlib1g-dev
deb_cmocka   := libcmocka-dev

# Everything the build, the tests, the demo and the benchmarks use.
BUILD_DEBS := pkg-config libpq-dev libcurl4-openssl-dev libgit2-dev libcjson-dev libgsl-dev \
	      libhttp-parser-dev zlib1g-dev
TEST_DEBS  := libcmocka-dev postgresql python3 python3-yaml python3-jsonschema python3-scipy \
	      gnuplot-nox git curl nginx-light hyperfine
# perfgate ingest's tests build and run the real harnesses (golang-go is big: skipped when absent)
TEST_DEBS  += g++ libbenchmark-dev python3-pytest-benchmark
TEST_DEBS  += openssl
# "measure": ["instructions"] falls back to valgrind where the kernel has no counters (most CI VMs)
TEST_DEBS  += valgrind
# the HTML report and the history site are opened in a real headless browser
TEST_DEBS  += chromium
BENCH_DEBS := hyperfine wrk nginx-light
DEMO_DEBS  := postgresql gnuplot-nox python3
DEMO_DEBS  += valgrind # examples/quickstart.json counts instructions (valgrind without hardware counters)

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wundef -Wvla
OPT  ?= -O2
CFLAGS ?= $(OPT) -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DPERFGATE_VERSION='"$(VERSION)"' $(WARN) \
	      -include core/banned.h -MMD -MP $(CFLAGS)
ifeq ($(DEVELOPER),1)
ALL_CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Only resolve libraries for targets that compile (not for `make deps`).
NODEP_GOALS := deps clean help
ifeq ($(filter-out $(NODEP_GOALS),$(or $(MAKECMDGOALS),all)),)
else
MISSING := $(strip $(foreach m,$(PKG_MODULES),$(if $(shell pkg-config --exists $(m) 2>/dev/null && echo y),,$(m))))
ifneq ($(MISSING),)
$(error missing libraries: $(MISSING); install the Debian packages $(foreach m,$(MISSING),$(deb_$(m))) (or run 'make deps'))
endif
ifeq ($(wildcard /usr/include/http_parser.h),)
$(error missing http-parser; install the Debian package libhttp-parser-dev (or run 'make deps'))
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKG_MODULES))
PKG_LIBS   := $(shell pkg-config --libs $(PKG_MODULES)) -lhttp_parser -lm -lpthread
endif

# core/ and its family subfolders (core/http/, core/ingest/, ...).
CORE_SRC := $(sort $(wildcard core/*.c core/*/*.c))
DB_SRC   := $(sort $(wildcard db/*.c))
CMD_SRC  := $(filter-out cmd/main.c,$(sort $(wildcard cmd/*.c)))
MIGRATIONS := $(sort $(wildcard db/migrations/*.sql))

LIB_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o) $(DB_SRC:%.c=$(BUILD)/%.o) \
	   $(CMD_SRC:%.c=$(BUILD)/%.o) $(BUILD)/db/migrations.o
LIB     := $(BUILD)/libperfgate.a
BIN     := $(BUILD)/perfgate

UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit integration demo bench fuzz install clean help check-test-deps
all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# Migrations are compiled into the binary as an ordered table of SQL strings.
$(BUILD)/db/migrations.c: $(MIGRATIONS) tools/embed-migrations.sh
	@mkdir -p $(dir $@)
	sh tools/embed-migrations.sh $(MIGRATIONS) > $@

# A migration is one string; C11 only promises 4095 characters of one.
$(BUILD)/db/migrations.o: ALL_CFLAGS += -Wno-overlength-strings
$(BUILD)/db/migrations.o: $(BUILD)/db/migrations.c
	$(CC) $(ALL_CFLAGS) -Idb -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/cmd/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) $(shell pkg-config --cflags cmocka 2>/dev/null) \
		-o $@ $< $(LIB) $(LDFLAGS) $(PKG_LIBS) $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

# `make deps`: install whatever Debian packages are missing (needs root).
deps:
	@sh tools/deps.sh $(BUILD_DEBS) $(TEST_DEBS) $(DEMO_DEBS) $(BENCH_DEBS)

check-test-deps:
	@sh tools/deps.sh $(BUILD_DEBS) $(TEST_DEBS)

test: check-test-deps
	@$(MAKE) --no-print-directory all unit-bins
	@BUILD=$(BUILD) PERFGATE=$(abspath $(BIN)) sh tests/run.sh $(UNIT_BINS)

.PHONY: unit-bins
unit-bins: $(UNIT_BINS)

demo:
	@sh tools/deps.sh $(BUILD_DEBS) $(DEMO_DEBS)
	@$(MAKE) --no-print-directory all
	@PERFGATE=$(abspath $(BIN)) sh examples/demo.sh

bench:
	@sh tools/deps.sh $(BUILD_DEBS) $(BENCH_DEBS) $(TEST_DEBS)
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory perf-bins
	@PERFGATE=$(abspath $(BIN)) sh tests/perf/run.sh

fuzz:
	@$(MAKE) --no-print-directory -f tests/fuzz/Makefile BUILD=$(BUILD)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/perfgate
	install -m 0644 docs/perfgate.1 $(DESTDIR)$(PREFIX)/share/man/man1/perfgate.1

clean:
	rm -rf $(BUILD)

help:
	@echo "targets: all (default), deps, test, demo, bench, fuzz, install, clean"
	@echo "variables: BUILD=dir DEVELOPER=1 (-Werror) SANITIZE=1 (ASan+UBSan) PREFIX=dir"

-include $(LIB_OBJ:.o=.d) $(BUILD)/cmd/main.d

# Perf programs (tests/perf/*.c), built by `make bench` (tests/perf/run.sh runs them).
PERF_SRC  := $(sort $(wildcard tests/perf/*.c))
PERF_BINS := $(PERF_SRC:tests/perf/%.c=$(BUILD)/perf/%)
.PHONY: perf-bins
perf-bins: $(PERF_BINS)
$(BUILD)/perf/%: tests/perf/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(PKG_LIBS)
