#!/bin/sh
# bench/run.sh - `make bench`: vetstage's transfer and hashing next to the
# tools people would otherwise use. Serves a BENCH_MB (default 200) MiB random
# file from a local nginx and compares
#   curl -o (HTTP and HTTPS)  with  vs_fetch_to_file (hashes while it writes)
#   sha256sum                 with  vs_sha256_fd
# printing wall time, the ratio (vetstage / reference; below 1 is faster) and
# peak RSS of each. Never run by the tests.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
MB=${BENCH_MB:-200}
T=$(mktemp -d "${TMPDIR:-/tmp}/vs-bench-XXXXXX")
_hooks=""
at_exit() { _hooks="$_hooks $1"; }
trap 'for h in $_hooks; do "$h" || true; done; rm -rf "$T"' EXIT
. "$ROOT/tests/nginx.sh"

make -s BUILD="$BUILD" "$BUILD/bench/bench_fetch" || exit 1
B="$BUILD/bench/bench_fetch"
mkdir -p "$T/www" "$T/dl"
head -c "$((MB * 1024 * 1024))" /dev/urandom >"$T/www/big.bin"
WANT=$(sha256sum "$T/www/big.bin" | cut -d' ' -f1)
nginx_start "$T/www" || exit 1

TIMEFMT="%e %M"
# timed CMD...: runs CMD under /usr/bin/time (or the shell's clock); prints "SECONDS MAXRSS_KB"
timed() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "$TIMEFMT" -o "$T/time" "$@" >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; return 1; }
        cat "$T/time"
    else
        _s=$(date +%s.%N)
        "$@" >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; return 1; }
        echo "$(echo "$(date +%s.%N) - $_s" | bc) ?"
    fi
}

row() { # row LABEL REF_SECONDS REF_RSS VS_SECONDS VS_RSS
    awk -v l="$1" -v rs="$2" -v rr="$3" -v vs="$4" -v vr="$5" 'BEGIN {
        ratio = (rs > 0) ? vs / rs : 0
        printf "%-28s ref %7.3f s %8s KiB | vetstage %7.3f s %8s KiB | ratio %.2f\n", l, rs, rr, vs, vr, ratio }'
}

echo "bench: $MB MiB, nginx on loopback, $(nproc) cores"
for scheme in http https; do
    if [ "$scheme" = http ]; then U="$NGINX_HTTP/big.bin"; CA=""; else U="$NGINX_HTTPS/big.bin"; CA="$NGINX_CA"; fi
    sync
    set -- $(timed curl -s -o "$T/dl/curl.bin" ${CA:+--cacert "$CA"} "$U") || exit 1
    rs=$1 rr=$2
    rm -f "$T/dl/curl.bin"
    set -- $(timed "$B" fetch "$U" "$T/dl" vs.bin $CA) || exit 1
    vrss=$2
    read -r vsec vhex _ <"$T/out"
    [ "$vhex" = "$WANT" ] || { echo "bench: vetstage's hash differs from sha256sum!" >&2; exit 1; }
    rm -f "$T/dl/vs.bin"
    row "download $scheme (+sha256)" "$rs" "$rr" "$vsec" "$vrss"
done
set -- $(timed sha256sum "$T/www/big.bin") || exit 1
rs=$1 rr=$2
set -- $(timed "$B" hash "$T/www/big.bin") || exit 1
vrss=$2
read -r vsec vhex _ <"$T/out"
[ "$vhex" = "$WANT" ] || { echo "bench: vs_sha256_fd differs from sha256sum!" >&2; exit 1; }
row "sha256 of the file" "$rs" "$rr" "$vsec" "$vrss"
echo "(vetstage times are taken around the call, without process start-up; its download"
echo " includes hashing and fsync, curl -o does neither; RSS from /usr/bin/time or getrusage)"
