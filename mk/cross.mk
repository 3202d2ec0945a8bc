# mk/cross.mk - the arm64 layout checker build/arm64/vetstage-check, for the
# arm64 half of a multi-arch sidecar (render sidecar with an arm64 layout).
# Built statically with Debian's cross compiler against the arm64 libgcrypt
# and libgpg-error development packages, which `sh mk/deps.sh cross` fetches
# through multiarch and unpacks into CROSS_ROOT (they cannot be installed
# next to the amd64 ones). When the compiler or the libraries are missing,
# `make` leaves it out without an error and render refuses an arm64 layout
# with a hint.
CROSS_ARM64 ?= aarch64-linux-gnu-
CROSS_ROOT ?= /opt/vetstage-cross/arm64
CROSS_ARM64_CC := $(CROSS_ARM64)gcc
CROSS_ARM64_LIBDIR := $(CROSS_ROOT)/usr/lib/aarch64-linux-gnu
VS_CHECKER_ARM64 := $(BUILD)/arm64/vetstage-check

HAVE_CROSS_ARM64 := $(shell command -v $(CROSS_ARM64_CC) >/dev/null 2>&1 && \
  test -f $(CROSS_ARM64_LIBDIR)/libgcrypt.a && test -f $(CROSS_ARM64_LIBDIR)/libgpg-error.a && \
  echo yes)

$(VS_CHECKER_ARM64): $(VS_CHECKER_SRCS) $(wildcard include/vetstage/*.h) $(wildcard */*_int.h) common/banned.h
	@mkdir -p $(dir $@)
	$(CROSS_ARM64_CC) $(STD) -O2 -fstack-protector-strong -fstack-clash-protection -D_FORTIFY_SOURCE=3 \
	  $(WARN) -I. -Iinclude -I$(CROSS_ROOT)/usr/include -I$(CROSS_ROOT)/usr/include/aarch64-linux-gnu \
	  $(BAN) -static $(HARDEN_LD) -o $@ $(VS_CHECKER_SRCS) \
	  -L$(CROSS_ARM64_LIBDIR) -Wl,-Bstatic -lgcrypt -lgpg-error -lpthread

.PHONY: checker-arm64
checker-arm64: $(VS_CHECKER_ARM64)

ifeq ($(HAVE_CROSS_ARM64),yes)
EXTRA_ALL += $(VS_CHECKER_ARM64)
EXTRA_CHECK_TARGETS += $(VS_CHECKER_ARM64)
endif
