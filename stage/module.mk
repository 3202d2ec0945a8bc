# stage/module.mk - the static layout checker `vetstage-check`, run as the
# sidecar image's command (FROM scratch: no shell, no libc). It links only
# the layout check and the libc + libgcrypt parts of common/.
#
# It is always built static and without sanitizers (their runtimes cannot be
# linked statically), also in SAN=1 builds, so that the image tests can run
# it in a FROM scratch image; the same code runs sanitized in `vetstage layout
# check` and the unit tests.
VS_CHECKER := $(BUILD)/vetstage-check
# every common/ file but the context and backend initialisation (gpgme, curl)
VS_CHECKER_SRCS := stage/checker/main.c stage/layout_check.c stage/layout_digest.c stage/manifest.c \
  stage/pathrules.c \
  $(filter-out common/ctx.c common/init.c,$(wildcard common/*.c))

$(VS_CHECKER): $(VS_CHECKER_SRCS) $(wildcard include/vetstage/*.h) $(wildcard */*_int.h) common/banned.h
	@mkdir -p $(dir $@)
	$(CC) $(STD) -O2 $(HARDEN) $(WARN) -I. -Iinclude $(PKG_CFLAGS) $(BAN) -static $(HARDEN_LD) -o $@ $(VS_CHECKER_SRCS) \
	  $$(pkg-config --libs --static libgcrypt) -lpthread

EXTRA_ALL += $(VS_CHECKER)
EXTRA_CHECK_TARGETS += $(VS_CHECKER)
INSTALL_EXTRA_BINS += $(VS_CHECKER)
