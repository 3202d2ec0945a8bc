# vetstage - one non-recursive Makefile. Components may add rules in
# <folder>/module.mk; sources are found by wildcard so that adding a file
# needs no edit here.

VERSION := 0.3.0
# The shared library's ABI version: bumped whenever a public struct or
# function signature changes (1: structured vs_error, option structs grew;
# 2: opaque vs_cache_entry, opts_version in every option struct,
# out-parameters first).
SOVERSION := 2
PREFIX ?= /usr/local
# Debian multiarch: make install LIBDIR=/usr/lib/x86_64-linux-gnu
LIBDIR ?= $(PREFIX)/lib
DESTDIR ?=
BUILD ?= build
CC ?= cc

PKGS := libgcrypt gpgme libarchive libcurl jansson libtasn1 libisal
# Evaluated lazily: `make deps` must be able to run before pkg-config knows them.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

# Library, CLI and checker: every warning below is an error.
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wformat-nonliteral -Wwrite-strings -Wconversion -Wsign-conversion
# Tests, fuzz harnesses and benchmarks: the same but for the conversion checks.
TEST_WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wwrite-strings \
        -Wno-format-nonliteral
CFLAGS ?= -O2 -g
# Hardening by default (FORTIFY needs optimisation and does not mix with ASan).
HARDEN := -fstack-protector-strong -fstack-clash-protection
HARDEN_LD := -Wl,-z,relro,-z,now
# Header dependencies, generated while compiling.
DEPFLAGS = -MMD -MP
STD := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DVS_VERSION='"$(VERSION)"'
SAN ?=
ifeq ($(SAN),1)
BUILD := build-san
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
HARDEN += -D_FORTIFY_SOURCE=3
endif
CFLAGS += $(HARDEN)
LDFLAGS += $(HARDEN_LD)

LIB_DIRS := common keys verify fetch cache stage render mirror source
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)

LIB_A := $(BUILD)/libvetstage.a
LIB_SO := $(BUILD)/libvetstage.so.$(SOVERSION)
BIN := $(BUILD)/vetstage

# Library code sees its internal headers (-I.); the CLI sees include/ only.
# Library sources get STYLE.md's banned functions poisoned (common/banned.h).
LIB_CPPFLAGS = -I. -Iinclude $(PKG_CFLAGS)
BAN := -include common/banned.h
CLI_CPPFLAGS = -Iinclude

EXTRA_ALL :=
EXTRA_CHECK_TARGETS :=
INSTALL_EXTRA_BINS :=
.DEFAULT_GOAL := all
-include $(wildcard */module.mk)
-include mk/cross.mk

.PHONY: all check demo bench fuzz install clean deps deps-test fixtures unit cli-tests fuzz-replay
all: $(LIB_A) $(LIB_SO) $(BIN) $(BUILD)/vetstage.pc $(EXTRA_ALL)

$(BUILD)/obj/cli/%.o: cli/%.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(DEPFLAGS) $(CLI_CPPFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c common/banned.h
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(DEPFLAGS) -fPIC -fvisibility=hidden $(LIB_CPPFLAGS) $(BAN) -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libvetstage.so.$(SOVERSION) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread
	ln -sf libvetstage.so.$(SOVERSION) $(BUILD)/libvetstage.so

$(BIN): $(CLI_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB_A) $(PKG_LIBS) -lpthread

# vetstage.pc for PREFIX; regenerated when PREFIX changes (install writes its own).
PC_LIBDIR = $(if $(filter $(PREFIX)/lib,$(LIBDIR)),$${prefix}/lib,$(LIBDIR))
PC_LINES = 'prefix=$(PREFIX)' 'libdir=$(PC_LIBDIR)' 'includedir=$${prefix}/include' '' \
  'Name: vetstage' 'Description: vet, cache and stage signed agent packages' \
  'Version: $(VERSION)' 'Requires.private: $(PKGS)' \
  'Libs: -L$${libdir} -lvetstage' 'Cflags: -I$${includedir}'
$(BUILD)/vetstage.pc: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' $(PC_LINES) > $@.new
	@cmp -s $@.new $@ || mv $@.new $@; rm -f $@.new

# ---- tests ---------------------------------------------------------------
UNIT_DIRS := $(patsubst tests/unit/%/,%,$(wildcard tests/unit/*/))
UNIT_SRCS := $(wildcard tests/unit/*/*.c) tests/unit/main.c
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(BUILD)/tests/unit-runner

$(BUILD)/tests/suites.h: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' $(foreach d,$(UNIT_DIRS),'VS_SUITE($(d))') > $@.new
	@cmp -s $@.new $@ || mv $@.new $@; rm -f $@.new

$(BUILD)/obj/tests/%.o: tests/%.c $(BUILD)/tests/suites.h
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(TEST_WARN) $(DEPFLAGS) $(LIB_CPPFLAGS) -I$(BUILD)/tests -Itests/unit $(CHECK_CFLAGS) -c $< -o $@

$(UNIT_BIN): $(UNIT_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(LIB_A) $(PKG_LIBS) $(CHECK_LIBS) -lpthread

FIXTURES := $(BUILD)/fixtures/.done
$(FIXTURES): tests/fixtures/mkfixtures.sh
	rm -rf $(BUILD)/fixtures
	mkdir -p $(BUILD)/fixtures
	sh tests/fixtures/mkfixtures.sh $(BUILD)/fixtures
	touch $@
fixtures: $(FIXTURES)

FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)
$(BUILD)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/standalone.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(TEST_WARN) $(LIB_CPPFLAGS) $(LDFLAGS) -o $@ $< fuzz/standalone.c $(LIB_A) $(PKG_LIBS) -lpthread

# libFuzzer builds (clang), for real fuzzing: make fuzz; build/fuzz/fuzz_NAME fuzz/corpus/NAME
FUZZ_CC ?= clang
fuzz: $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(STD) -g -O1 -fsanitize=fuzzer,address,undefined -Wno-unused-command-line-argument \
	  $(LIB_CPPFLAGS) -o $@ $< $(LIB_SRCS) $(PKG_LIBS) -lpthread

check: deps-test
	$(MAKE) all $(UNIT_BIN) $(FUZZ_REPLAY) $(EXTRA_CHECK_TARGETS) fixtures
	BUILD=$(BUILD) sh tests/run.sh

# The fast loop: `make unit [SUITE=stage]`, `make cli-tests [T=stage]`,
# `make fuzz-replay`. Each builds only what it runs.
unit: $(UNIT_BIN) fixtures
	BUILD=$(BUILD) VS_SUITE=$(SUITE) sh tests/run.sh unit
cli-tests: all $(EXTRA_CHECK_TARGETS) fixtures
	BUILD=$(BUILD) VS_ONLY=$(T) sh tests/run.sh cli
fuzz-replay: $(FUZZ_REPLAY)
	BUILD=$(BUILD) sh tests/run.sh fuzz

deps:
	@sh mk/deps.sh build
deps-test:
	@sh mk/deps.sh build test render

demo: deps-test
	$(MAKE) all
	BUILD=$(BUILD) sh tests/demo/demo.sh

bench: deps-test
	@sh mk/deps.sh bench
	$(MAKE) all
	BUILD=$(BUILD) BENCH_WRITE=1 sh bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig \
	  $(DESTDIR)$(PREFIX)/include/vetstage $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/vetstage
	for f in $(INSTALL_EXTRA_BINS); do install -m 0755 $$f $(DESTDIR)$(PREFIX)/bin/; done
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libvetstage.a
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libvetstage.so.$(SOVERSION)
	ln -sf libvetstage.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libvetstage.so
	install -m 0644 include/vetstage/*.h $(DESTDIR)$(PREFIX)/include/vetstage/
	install -m 0644 $(BUILD)/vetstage.pc $(DESTDIR)$(LIBDIR)/pkgconfig/vetstage.pc
	install -m 0644 doc/vetstage.1 doc/vetstage-check.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 doc/completions/vetstage.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vetstage
	install -m 0644 doc/completions/_vetstage $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_vetstage
	install -m 0644 doc/completions/vetstage.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/vetstage.fish

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

FORCE:

