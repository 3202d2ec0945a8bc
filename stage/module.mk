# stage/module.mk - the static layout checker `vetstage-check`, run as the
# sidecar image's command (FROM scratch: no shell, no libc). It links only
# the layout check and the libc + libgcrypt parts of common/.
VS_CHECKER := $(BUILD)/vetstage-check
VS_CHECKER_OBJS := $(BUILD)/obj/stage/checker/main.o $(BUILD)/obj/stage/layout.o \
  $(BUILD)/obj/stage/manifest.o $(BUILD)/obj/stage/pathrules.o $(BUILD)/obj/common/error.o \
  $(BUILD)/obj/common/hash.o $(BUILD)/obj/common/cursor.o $(BUILD)/obj/common/fsutil.o \
  $(BUILD)/obj/common/sbuf.o
# sanitizer runtimes cannot be linked statically: SAN=1 builds a dynamic checker
VS_CHECKER_STATIC := $(if $(filter 1,$(SAN)),,-static)

$(VS_CHECKER): $(VS_CHECKER_OBJS)
	$(CC) $(VS_CHECKER_STATIC) $(LDFLAGS) -o $@ $(VS_CHECKER_OBJS) \
	  $$(pkg-config --libs --static libgcrypt) -lpthread

EXTRA_ALL += $(VS_CHECKER)
EXTRA_CHECK_TARGETS += $(VS_CHECKER)
INSTALL_EXTRA_BINS += $(VS_CHECKER)
