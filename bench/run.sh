#!/bin/sh
# bench/run.sh - `make bench`: vetstage next to the standard tools it replaces,
# side by side, printing wall time, the ratio (vetstage / reference; below 1
# means vetstage is faster) and peak RSS of each. Never run by the tests.
#
#   transfer and hashing, on a BENCH_MB MiB random file served by a loopback nginx:
#     curl -o (HTTP and HTTPS)   vs  vs_fetch_to_file (bench_fetch; hashes and fsyncs)
#     sha256sum                  vs  vs_sha256_fd
#   on a generated agent package (tar.gz of random 1 MiB files) of BENCH_MB and of
#   BENCH_SMALL_MB MiB, keys made here with the real gpg and openssl:
#     vetstage verify --require gpg   vs  gpgv --keyring KEYRING PKG.asc PKG
#     vetstage verify --require rsa   vs  openssl dgst -sha256 -verify pub.pem -signature PKG.sig PKG
#     vetstage verify (both)          vs  gpgv, then openssl dgst (times added, peak = max)
#     vetstage stage NAME@VERSION     vs  tar -xzf PKG -C DIR
#       (after `vetstage fetch file://...`, not timed; stage re-checks the cached
#        package's hash and both signatures, extracts safely, writes the manifest)
#   and, per operation, vetstage's peak RSS at the two sizes (must not grow with size).
#
# Environment: BUILD (default build), BENCH_MB (default 200), BENCH_SMALL_MB
# (default 20), BENCH_RUNS (default 3: each command runs that often; the best
# time and the highest peak RSS are kept).
# Wall time is taken with the shell's nanosecond clock around each command;
# peak RSS with /usr/bin/time -f '%e %M' (package `time`; "n/a" without it).
# Everything lives under one mktemp directory, removed at exit; only 127.0.0.1.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
MB=${BENCH_MB:-200}
SMALL_MB=${BENCH_SMALL_MB:-20}
RUNS=${BENCH_RUNS:-3}
T=$(mktemp -d "${TMPDIR:-/tmp}/vs-bench-XXXXXX")
_hooks=""
at_exit() { _hooks="$_hooks $1"; }
trap 'for h in $_hooks; do "$h" || true; done; rm -rf "$T"' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
. "$ROOT/tests/nginx.sh"

die() { echo "bench: $*" >&2; exit 1; }

make -s BUILD="$BUILD" "$BUILD/vetstage" "$BUILD/bench/bench_fetch" || exit 1
B="$BUILD/bench/bench_fetch"
VS="$ROOT/$BUILD/vetstage"
case "$BUILD" in /*) VS="$BUILD/vetstage" ;; esac
export GNUPGHOME="$T/no-gnupg" # nothing here may touch ~/.gnupg
mkdir -m 700 "$GNUPGHOME"

HAVE_TIME=0
[ -x /usr/bin/time ] && [ -z "${BENCH_NO_TIME:-}" ] && HAVE_TIME=1 # BENCH_NO_TIME=1: as without it
TABLE="$T/table"
: >"$TABLE"

# run1 CMD...: one run; sets R_S (seconds) and R_K (peak RSS KiB or n/a).
# The command's stdout is in $T/out, its stderr in $T/err.
run1() {
    _s=$(date +%s%N)
    if [ "$HAVE_TIME" = 1 ]; then
        /usr/bin/time -f '%e %M' -o "$T/time" "$@" >"$T/out" 2>"$T/err"
    else
        "$@" >"$T/out" 2>"$T/err"
    fi
    _rc=$?
    _e=$(date +%s%N)
    if [ "$_rc" -ne 0 ]; then
        echo "bench: failed (exit $_rc): $*" >&2
        cat "$T/err" >&2
        return 1
    fi
    R_S=$(awk -v a="$_s" -v b="$_e" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    R_K=n/a
    [ "$HAVE_TIME" = 1 ] && R_K=$(tail -n 1 "$T/time" | cut -d' ' -f2)
    return 0
}

# measure PREP CMD...: BENCH_RUNS runs, PREP (a command) before each;
# sets M_S (best time) and M_K (highest peak RSS).
measure() {
    _prep=$1
    shift
    M_S="" M_K=n/a
    _i=0
    while [ "$_i" -lt "$RUNS" ]; do
        $_prep || return 1
        run1 "$@" || return 1
        M_S=$(awk -v a="$M_S" -v b="$R_S" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
        M_K=$(awk -v a="$M_K" -v b="$R_K" 'BEGIN { print (b == "n/a") ? a : (a == "n/a" || b + 0 > a + 0) ? b : a }')
        _i=$((_i + 1))
    done
}

# row LABEL VS_SECONDS REF_SECONDS VS_KIB REF_KIB
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$TABLE"; }

# ---------------------------------------------------------------- transfer, hashing
mkdir -p "$T/www" "$T/dl"
head -c "$((MB * 1024 * 1024))" /dev/urandom >"$T/www/big.bin"
WANT=$(sha256sum "$T/www/big.bin" | cut -d' ' -f1)
nginx_start "$T/www" || exit 1
echo "bench: transfer and hashing, $MB MiB" >&2
for scheme in http https; do
    if [ "$scheme" = http ]; then U="$NGINX_HTTP/big.bin"; CA=""; else U="$NGINX_HTTPS/big.bin"; CA="$NGINX_CA"; fi
    rm_dl() { rm -f "$T/dl/curl.bin" "$T/dl/vs.bin"; }
    measure rm_dl curl -s -o "$T/dl/curl.bin" ${CA:+--cacert "$CA"} "$U" || exit 1
    rs=$M_S rk=$M_K
    # bench_fetch times the call itself (no process start-up) and prints its own RSS
    best="" vk=""
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        rm_dl
        run1 "$B" fetch "$U" "$T/dl" vs.bin $CA || exit 1
        read -r vsec vhex vrss <"$T/out"
        [ "$vhex" = "$WANT" ] || die "vetstage's hash differs from sha256sum!"
        best=$(awk -v a="$best" -v b="$vsec" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
        [ "$R_K" = n/a ] && R_K=$vrss
        vk=$(awk -v a="$vk" -v b="$R_K" 'BEGIN { print (a == "" || b + 0 > a + 0) ? b : a }')
        i=$((i + 1))
    done
    rm_dl
    row "download $scheme +sha256 (curl -o), $MB MiB" "$best" "$rs" "$vk" "$rk"
done
nginx_stop
measure true sha256sum "$T/www/big.bin" || exit 1
rs=$M_S rk=$M_K
best="" vk=""
i=0
while [ "$i" -lt "$RUNS" ]; do
    run1 "$B" hash "$T/www/big.bin" || exit 1
    read -r vsec vhex vrss <"$T/out"
    [ "$vhex" = "$WANT" ] || die "vs_sha256_fd differs from sha256sum!"
    best=$(awk -v a="$best" -v b="$vsec" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
    [ "$R_K" = n/a ] && R_K=$vrss
    vk=$(awk -v a="$vk" -v b="$R_K" 'BEGIN { print (a == "" || b + 0 > a + 0) ? b : a }')
    i=$((i + 1))
done
row "sha256 (sha256sum), $MB MiB" "$best" "$rs" "$vk" "$rk"
rm -f "$T/www/big.bin"

# ---------------------------------------------------------------- keys
echo "bench: keys (gpg, openssl)" >&2
G="$T/gnupg"
mkdir -m 700 "$G"
gpg_() { gpg --homedir "$G" --batch --yes --no-tty --quiet --pinentry-mode loopback --passphrase '' "$@"; }
H="$T/home"
gpg_stop() {
    gpgconf --homedir "$G" --kill all >/dev/null 2>&1
    [ -d "$H/trust/gnupg" ] && gpgconf --homedir "$H/trust/gnupg" --kill all >/dev/null 2>&1
    return 0
}
at_exit gpg_stop
K="$T/keys"
mkdir -p "$K"
gpg_ --quick-gen-key 'Bench Vendor <vendor@bench.test>' rsa3072 sign 1y 2>/dev/null || die "gpg key generation failed"
FPR=$(gpg_ --with-colons --list-keys vendor@bench.test | awk -F: '/^fpr:/ { print $10; exit }')
gpg_ --armor --export "$FPR" >"$K/vendor.asc"
gpg_ --export "$FPR" >"$K/vendor.gpg" # gpgv's keyring (binary)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$K/org.key" 2>/dev/null || die "openssl genpkey failed"
openssl pkey -in "$K/org.key" -pubout -out "$K/org.pub.pem" || exit 1
"$VS" --home "$H" -q keys import "$K/vendor.asc" "$K/org.pub.pem" || die "vetstage keys import failed"

# ---------------------------------------------------------------- packages
# make_pkg MB: $T/pkg/agent-1.0.MB.tgz (MB MiB of random 1 MiB files in four
# directories, gzip -1) and its signatures in $T/sig (kept apart, so that
# `verify --require gpg` does not also find PKG.sig next to the package)
make_pkg() {
    _mb=$1
    _src="$T/src"
    rm -rf "$_src"
    mkdir -p "$_src/bin" "$_src/lib" "$_src/share" "$_src/data" "$T/pkg" "$T/sig"
    head -c "$((_mb * 1024 * 1024))" /dev/urandom | split -b 1M -d -a 5 - "$_src/data/part-" || return 1
    _n=0
    for _f in "$_src"/data/part-*; do
        case $((_n % 4)) in
            0) mv "$_f" "$_src/bin/" && chmod 0755 "$_src/bin/${_f##*/}" ;;
            1) mv "$_f" "$_src/lib/" ;;
            2) mv "$_f" "$_src/share/" ;;
        esac
        _n=$((_n + 1))
    done
    printf '#!/bin/sh\necho bench agent\n' >"$_src/start.sh"
    chmod 0755 "$_src/start.sh"
    _p="$T/pkg/agent-1.0.$_mb.tgz"
    tar -C "$_src" --owner=0 --group=0 --numeric-owner -cf - start.sh bin lib share data |
        gzip -1 >"$_p" || return 1
    rm -rf "$_src"
    gpg_ --local-user "$FPR!" --armor --detach-sign -o "$T/sig/agent-1.0.$_mb.tgz.asc" "$_p" || return 1
    openssl dgst -sha256 -sign "$K/org.key" -out "$T/sig/agent-1.0.$_mb.tgz.sig" "$_p" || return 1
}

# bench_pkg MB: the verify and stage rows for one package size
bench_pkg() {
    _mb=$1
    P="$T/pkg/agent-1.0.$_mb.tgz"
    A="$T/sig/agent-1.0.$_mb.tgz.asc"
    S="$T/sig/agent-1.0.$_mb.tgz.sig"
    cat "$P" >/dev/null # both sides start from a warm page cache
    sfx="$_mb MiB"

    measure true gpgv --keyring "$K/vendor.gpg" "$A" "$P" || return 1
    g_s=$M_S g_k=$M_K
    measure true "$VS" --home "$H" -q verify "$P" --gpg-sig "$A" --require gpg || return 1
    row "verify OpenPGP (gpgv), $sfx" "$M_S" "$g_s" "$M_K" "$g_k"
    echo "gpg $_mb $M_K" >>"$T/rss"

    measure true openssl dgst -sha256 -verify "$K/org.pub.pem" -signature "$S" "$P" || return 1
    o_s=$M_S o_k=$M_K
    grep -q '^Verified OK' "$T/out" || die "openssl dgst did not say Verified OK"
    measure true "$VS" --home "$H" -q verify "$P" --rsa-sig "$S" --require rsa || return 1
    row "verify RSA (openssl dgst), $sfx" "$M_S" "$o_s" "$M_K" "$o_k"
    echo "rsa $_mb $M_K" >>"$T/rss"

    b_s=$(awk -v a="$g_s" -v b="$o_s" 'BEGIN { printf "%.3f", a + b }')
    b_k=$(awk -v a="$g_k" -v b="$o_k" 'BEGIN { print (a == "n/a") ? a : (a + 0 > b + 0) ? a : b }')
    measure true "$VS" --home "$H" -q verify "$P" --gpg-sig "$A" --rsa-sig "$S" || return 1
    row "verify both (gpgv+openssl), $sfx" "$M_S" "$b_s" "$M_K" "$b_k"
    echo "both $_mb $M_K" >>"$T/rss"

    # fetch into the cache (not timed), then stage alone
    "$VS" --home "$H" -q fetch "file://$P" --name agent --version "1.0.$_mb" \
        --gpg-sig-url "file://$A" --rsa-sig-url "file://$S" --require gpg,rsa \
        --max-size "$((_mb * 2 * 1024 * 1024 + 64 * 1024 * 1024))" || die "vetstage fetch failed"
    D="$T/dest-vs" D2="$T/dest-tar"
    prep_tar() { rm -rf "$D2" && mkdir -p "$D2"; }
    measure prep_tar tar -xzf "$P" -C "$D2" || return 1
    t_s=$M_S t_k=$M_K
    prep_vs() { rm -rf "$D"; }
    measure prep_vs "$VS" --home "$H" -q stage "agent@1.0.$_mb" --dest "$D" \
        --max-unpacked "$((_mb * 2 * 1024 * 1024 + 64 * 1024 * 1024))" || return 1
    row "stage, re-verifies (tar -xzf), $sfx" "$M_S" "$t_s" "$M_K" "$t_k"
    echo "stage $_mb $M_K" >>"$T/rss"
    # the staged tree is the archive's (plus vetstage's manifest)
    diff -r -x .vetstage "$D/current" "$D2" >/dev/null || die "staged tree differs from tar -xzf's"
    rm -rf "$D" "$D2" "$P"
}

: >"$T/rss"
for size in "$MB" "$SMALL_MB"; do
    echo "bench: package of $size MiB: make, sign, verify, stage" >&2
    make_pkg "$size" || die "cannot make the $size MiB package"
    bench_pkg "$size" || exit 1
done

# ---------------------------------------------------------------- report
echo "vetstage bench: $(date -u +%Y-%m-%d), $(nproc) cores, best of $RUNS runs, ratio = vetstage/reference (<1: vetstage faster)"
awk -F'\t' '
    function fmt(x) { return (x == "n/a") ? x : sprintf("%d", x) }
    BEGIN { printf "%-44s %10s %12s %6s %12s %13s\n", "operation (reference)", "vetstage s", "reference s", "ratio", "vetstage KiB", "reference KiB" }
    { r = ($3 > 0) ? sprintf("%.2f", $2 / $3) : "-"
      printf "%-44s %10.3f %12.3f %6s %12s %13s\n", $1, $2, $3, r, fmt($4), fmt($5) }' "$TABLE"
echo "peak RSS of vetstage, $SMALL_MB MiB vs $MB MiB package:"
for op in gpg rsa both stage; do
    awk -v op="$op" -v s="$SMALL_MB" -v b="$MB" '
        $1 == op && $2 == s { ks = $3 } $1 == op && $2 == b { kb = $3 }
        END { n["gpg"] = "verify OpenPGP"; n["rsa"] = "verify RSA"; n["both"] = "verify both"; n["stage"] = "stage"
              if (ks == "n/a" || kb == "n/a" || ks == "") { printf "  %-16s n/a (no /usr/bin/time)\n", n[op]; exit }
              printf "  %-16s %8d KiB at %d MiB, %8d KiB at %d MiB (x%.2f for x%.0f the size)\n", n[op], ks, s, kb, b, kb / ks, b / s }' "$T/rss"
done
echo "(packages: tar.gz, gzip -1, of BENCH_MB random 1 MiB files in 4 directories plus a script."
echo " download, sha256: vetstage times from bench_fetch around the library call, without process"
echo " start-up; its download also hashes and fsyncs, curl -o does neither. Other rows: whole"
echo " processes; peak RSS is the largest single process (vetstage's gpg child counts)."
echo " stage re-checks the cached package's hash and both signatures, extracts with path checks"
echo " and writes manifest, modes and provenance; tar -xzf only extracts.)"
