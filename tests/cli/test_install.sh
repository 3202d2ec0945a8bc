#!/bin/sh
# tests/cli/test_install.sh - `make install PREFIX=... DESTDIR=...` installs the
# binary, the static checker, the library (static and shared), the public
# headers, a working pkg-config file and the man page; a program built from
# the installed files with pkg-config runs against the library.
. "$(dirname "$0")/../lib.sh"

R="$T/root"
expect_rc 0 "make install into DESTDIR" make -s -C "$ROOT" BUILD="$BUILD" install PREFIX=/opt/vs DESTDIR="$R"
for f in bin/vetstage bin/vetstage-check lib/libvetstage.a lib/libvetstage.so.2 \
    include/vetstage/vetstage.h include/vetstage/verify.h lib/pkgconfig/vetstage.pc \
    share/man/man1/vetstage.1 share/man/man1/vetstage-check.1 \
    share/bash-completion/completions/vetstage share/zsh/vendor-completions/_vetstage \
    share/fish/vendor_completions.d/vetstage.fish; do
    check "installed $f" test -f "$R/opt/vs/$f"
done
check "installed vetstage runs" sh -c "'$R/opt/vs/bin/vetstage' --version | grep -q '^vetstage '"
check "pkg-config file names the prefix" grep -q '^prefix=/opt/vs$' "$R/opt/vs/lib/pkgconfig/vetstage.pc"
check "the shared library's soname is libvetstage.so.2" sh -c "objdump -p '$R/opt/vs/lib/libvetstage.so.2' | grep -q 'SONAME *libvetstage.so.2'"
if command -v groff >/dev/null 2>&1; then
    for m in vetstage vetstage-check; do
        check "man page $m(1) renders without warnings" sh -c "groff -man -Tutf8 -ww '$R/opt/vs/share/man/man1/$m.1' 2>&1 >/dev/null | grep -q . && exit 1 || exit 0"
    done
else
    skip groff "man pages not rendered: no groff"
fi

# Debian multiarch: LIBDIR puts the library and vetstage.pc there, and the
# pkg-config file says so.
R2="$T/root2"
expect_rc 0 "make install LIBDIR=/usr/lib/x86_64-linux-gnu" make -s -C "$ROOT" BUILD="$BUILD" install \
    PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu DESTDIR="$R2"
check "LIBDIR: library in the multiarch folder" test -f "$R2/usr/lib/x86_64-linux-gnu/libvetstage.so.2"
check "LIBDIR: nothing in PREFIX/lib" test ! -e "$R2/usr/lib/libvetstage.so.2"
check "LIBDIR: pkg-config file names it" grep -q '^libdir=/usr/lib/x86_64-linux-gnu$' "$R2/usr/lib/x86_64-linux-gnu/pkgconfig/vetstage.pc"
make -s -C "$ROOT" BUILD="$BUILD" "$BUILD/vetstage.pc" >/dev/null 2>&1 || true

# shell completion (bash): commands, subcommands, options from --help
if command -v bash >/dev/null 2>&1; then
    comp() {
        PATH="$R/opt/vs/bin:$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vetstage; echo "${COMPREPLY[*]}"' \
            sh "$R/opt/vs/share/bash-completion/completions/vetstage" "$@"
    }
    [ "$(comp vetstage verif)" = "verify" ] && ok "bash completion: 'verif' -> verify" || not_ok "bash completion: 'verif' -> $(comp vetstage verif)"
    case " $(comp vetstage cache '') " in *" rm "*) ok "bash completion: cache subcommands" ;; *) not_ok "bash completion: cache subcommands" ;; esac
    [ "$(comp vetstage stage --de)" = "--dest" ] && ok "bash completion: stage --de -> --dest" || not_ok "bash completion: stage options: $(comp vetstage stage --de)"
fi


# The program uses the 0.3 API: a context, an opaque cache entry (out-parameter
# first, NULL when not found), and an option struct the library refuses when
# it was not initialised with its _INIT macro.
cat >"$T/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <vetstage/vetstage.h>
int main(int argc, char **argv)
{
    vs_error err = VS_ERROR_INIT;
    if (argc != 2 || vs_lib_init(&err) != VS_OK)
        return 1;
    vs_ctx *ctx = NULL;
    if (vs_ctx_open(&ctx, argv[1], &err) != VS_OK)
        return 1;
    vs_cache_entry *e = NULL;
    vs_status st = vs_cache_lookup(&e, ctx, "agent@1.0", &err);
    if (st != VS_E_USAGE || err.detail != VS_DETAIL_NOT_FOUND || e)
        return 2;
    vs_cache_entry_free(e);
    vs_stage_opts so = VS_STAGE_OPTS_INIT;
    so.opts_version = 0;
    vs_error e2 = VS_ERROR_INIT;
    if (vs_stage_ref(NULL, ctx, "agent@1.0", argv[1], &so, &e2) != VS_E_USAGE ||
        strcmp(e2.subject, "vs_stage_opts") != 0)
        return 3;
    vs_ctx_free(ctx);
    printf("%s %s\n", vs_version(), vs_status_name(VS_E_UNSAFE));
    return 0;
}
C
# a sanitized build (make SAN=1 check) needs the program built the same way
SAN=""
if nm "$R/opt/vs/lib/libvetstage.a" 2>/dev/null | grep -q ' U __asan_'; then
    SAN="-fsanitize=address,undefined"
fi
export PKG_CONFIG_PATH="$R/opt/vs/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$R"
expect_rc 0 "a program builds with pkg-config --cflags --libs vetstage" \
    sh -c "cc $SAN -Wall -Wextra -Werror -o '$T/prog' '$T/prog.c' \$(pkg-config --cflags --libs vetstage)"
expect_rc 0 "it runs against the installed shared library" env LD_LIBRARY_PATH="$R/opt/vs/lib" "$T/prog" "$T/home"
expect_out_has "unsafe" "the public API answers"
check "it loaded libvetstage.so.2" sh -c "LD_LIBRARY_PATH='$R/opt/vs/lib' ldd '$T/prog' | grep -q 'libvetstage.so.2 => $R/opt/vs/lib/'"
# the static library's own dependencies are the ones its .pc names (Requires.private)
check "vetstage.pc names libisal among the static library's dependencies" \
    sh -c "pkg-config --print-requires-private vetstage | grep -qx libisal"
expect_rc 0 "a build against the installed static library" \
    sh -c "cc $SAN -o '$T/prog-static' '$T/prog.c' \$(pkg-config --cflags vetstage) '$R/opt/vs/lib/libvetstage.a' \
        \$(PKG_CONFIG_SYSROOT_DIR= pkg-config --libs \$(pkg-config --print-requires-private vetstage)) -lpthread && '$T/prog-static' '$T/home2'"
finish
