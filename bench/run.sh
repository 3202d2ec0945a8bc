#!/bin/sh
# bench/run.sh - `make bench`: the main job's commands next to the shell chain a
# user would write instead, side by side in one run, as ratios of medians
# (vetstage / chain; below 1 means vetstage is faster), plus peak RSS at two
# package sizes. Never run by the tests; nothing here asserts on time.
#
#   verify  vetstage verify PKG (OpenPGP + RSA)      gpgv && openssl dgst -verify
#   fetch   vetstage fetch URL (download, verify,     curl x3 (package, .asc, .sig), gpgv,
#           admit into the cache)                     openssl dgst -verify
#   stage   vetstage stage NAME@VERSION (re-check,    bsdtar -xzf
#           safe extraction, manifest)
#   pull    vetstage pull URL --dest D (the main job) curl x3, gpgv, openssl, bsdtar -xzf
#
# The package: BENCH_MB MiB (default 128) = 3/4 random data + 1/4 real binaries
# from /usr (as an agent ships), tar.gz; an RSA-3072 OpenPGP signature (gpg) and
# an RSA-3072 PKCS#1 v1.5 SHA-256 approval (openssl), served by a loopback nginx.
# Each command: one warm-up, then BENCH_RUNS runs (default 5), median kept.
# Peak RSS (/usr/bin/time) of every vetstage command at BENCH_SMALL_MB (default
# 20) and BENCH_MB. Results: printed, written to bench/results.tsv, drawn into
# bench/ratios.png (gnuplot) and into bench/README.md between the result markers
# when BENCH_WRITE=1 (what `make bench` sets).
#
# For quick measurements while working: BENCH_OPS="verify fetch" runs only
# those rows (stage without fetch admits the package once, untimed);
# BENCH_RUNS=3 fewer runs; BENCH_SMALL_MB=0 skips the second size (no RSS
# column then). The output format stays the same for the rows run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
MB=${BENCH_MB:-128}
SMALL_MB=${BENCH_SMALL_MB:-20}
RUNS=${BENCH_RUNS:-5}
OPS=${BENCH_OPS:-verify fetch stage pull}
for op in $OPS; do
    case $op in verify | fetch | stage | pull) ;; *) echo "bench: BENCH_OPS: unknown operation '$op'" >&2; exit 2 ;; esac
done
want() { case " $OPS " in *" $1 "*) return 0 ;; esac; return 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/vs-bench-XXXXXX")
_hooks=""
at_exit() { _hooks="$_hooks $1"; }
trap 'for h in $_hooks; do "$h" || true; done; rm -rf "$T"' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
. "$ROOT/tests/nginx.sh"
die() { echo "bench: $*" >&2; exit 1; }

VS="$ROOT/$BUILD/vetstage"
case "$BUILD" in /*) VS="$BUILD/vetstage" ;; esac
[ -x "$VS" ] || die "build first: make BUILD=$BUILD all"
for t in gpgv openssl curl bsdtar /usr/bin/time; do command -v "$t" >/dev/null || die "needs $t"; done
export GNUPGHOME="$T/no-gnupg" # nothing here may touch ~/.gnupg
mkdir -m 700 "$GNUPGHOME"
RES="$T/results"
: >"$RES"

# run1 CMD...: one run; R_S seconds, R_K peak RSS (KiB) of the largest process
run1() {
    _s=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$T/time" "$@" >"$T/out" 2>"$T/err"
    _rc=$?
    _e=$(date +%s%N)
    if [ "$_rc" -ne 0 ]; then
        echo "bench: failed (exit $_rc): $*" >&2; tail -5 "$T/err" >&2; return 1
    fi
    R_S=$(awk -v a="$_s" -v b="$_e" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    R_K=$(tail -n 1 "$T/time")
}
# measure PREP CMD...: a warm-up, then RUNS runs with PREP (untimed) before each;
# M_S the median time, M_K the highest peak RSS. The preparation ends with a
# `sync`, so that no run pays for the previous one's writes: vetstage's stage
# makes its tree durable (syncfs) and would otherwise also flush the tree
# bsdtar just left in the page cache.
measure() {
    _prep=$1; shift
    $_prep && sync && run1 "$@" || return 1
    : >"$T/times"; M_K=0; _i=0
    while [ "$_i" -lt "$RUNS" ]; do
        $_prep && sync || return 1
        run1 "$@" || return 1
        echo "$R_S" >>"$T/times"
        [ "$R_K" -gt "$M_K" ] && M_K=$R_K
        _i=$((_i + 1))
    done
    M_S=$(sort -n "$T/times" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
}

# ---------------------------------------------------------------- keys
echo "bench: keys (gpg RSA-3072, openssl RSA-3072)" >&2
G="$T/gnupg"; mkdir -m 700 "$G"
gpg_() { gpg --homedir "$G" --batch --yes --no-tty --quiet --pinentry-mode loopback --passphrase '' "$@"; }
gpg_stop() {
    gpgconf --homedir "$G" --kill all >/dev/null 2>&1
    for h in "$T"/home*/trust/gnupg; do [ -d "$h" ] && gpgconf --homedir "$h" --kill all >/dev/null 2>&1; done
    return 0
}
at_exit gpg_stop
K="$T/keys"; mkdir -p "$K"
gpg_ --quick-gen-key 'Bench Vendor <vendor@bench.test>' rsa3072 sign 1y 2>/dev/null || die "gpg key generation failed"
FPR=$(gpg_ --with-colons --list-keys vendor@bench.test | awk -F: '/^fpr:/ { print $10; exit }')
gpg_ --armor --export "$FPR" >"$K/vendor.asc"
gpg_ --export "$FPR" >"$K/vendor.gpg"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$K/org.key" 2>/dev/null || die "openssl genpkey failed"
openssl pkey -in "$K/org.key" -pubout -out "$K/org.pub.pem" || exit 1
# new_home DIR: an empty vetstage home that trusts both keys
new_home() { rm -rf "$1" && "$VS" --home "$1" -q keys import "$K/vendor.asc" "$K/org.pub.pem"; }

# ---------------------------------------------------------------- packages
# make_pkg MB VERSION: $W/agent-VERSION.tgz with .asc and .sig beside it
W="$T/www"; mkdir -p "$W"
make_pkg() {
    _mb=$1; _v=$2; _src="$T/src"
    rm -rf "$_src"; mkdir -p "$_src/data" "$_src/bin"
    head -c "$((_mb * 1024 * 1024 * 3 / 4))" /dev/urandom | split -b 1M -d -a 5 - "$_src/data/part-" || return 1
    # a quarter of real binaries, as an agent ships them
    _want=$((_mb * 1024 * 1024 / 4)); _have=0
    for f in /usr/bin/* /usr/lib/x86_64-linux-gnu/*.so* /usr/libexec/*/* ; do
        [ -f "$f" ] && [ ! -L "$f" ] || continue
        [ "$_have" -lt "$_want" ] || break
        _n=$(stat -c %s "$f"); [ "$_n" -gt 0 ] || continue
        cp "$f" "$_src/bin/$(echo "$f" | tr / _)" 2>/dev/null || continue
        _have=$((_have + _n))
    done
    printf '#!/bin/sh\necho bench agent\n' >"$_src/lacework-sidecar.sh"
    chmod 0755 "$_src/lacework-sidecar.sh"
    tar -C "$_src" --owner=0 --group=0 --numeric-owner -czf "$W/agent-$_v.tgz" . || return 1
    rm -rf "$_src"
    gpg_ --local-user "$FPR!" --armor --detach-sign -o "$W/agent-$_v.tgz.asc" "$W/agent-$_v.tgz" || return 1
    openssl dgst -sha256 -sign "$K/org.key" -out "$W/agent-$_v.tgz.sig" "$W/agent-$_v.tgz" || return 1
}

nginx_start "$W" || exit 1
LIMIT=$((MB * 4 * 1024 * 1024))

# bench_size MB: every row at one size (VERSION 1.0.MB)
bench_size() {
    _mb=$1; V="1.0.$_mb"; P="$W/agent-$V.tgz"; U="$NGINX_HTTP/agent-$V.tgz"
    H="$T/home"; D="$T/dest"; D2="$T/dest-chain"; C="$T/chain"
    cat "$P" >/dev/null
    new_home "$H" || die "keys import failed"

    if want verify; then
    measure true env P="$P" K="$K" sh -c 'gpgv --keyring "$K/vendor.gpg" "$P.asc" "$P" 2>/dev/null && openssl dgst -sha256 -verify "$K/org.pub.pem" -signature "$P.sig" "$P" >/dev/null' || return 1
    c_s=$M_S c_k=$M_K
    measure true "$VS" --home "$H" -q verify "$P" --gpg-sig "$P.asc" --rsa-sig "$P.sig" || return 1
    echo "verify $_mb $M_S $c_s $M_K $c_k" >>"$RES"
    fi

    prep_fetch() { new_home "$H"; }
    prep_chain() { rm -rf "$C" && mkdir -p "$C"; }
    if want fetch; then
    measure prep_chain env U="$U" C="$C" K="$K" sh -c 'cd "$C" && curl -sf -o p.tgz "$U" && curl -sf -o p.tgz.asc "$U.asc" && curl -sf -o p.tgz.sig "$U.sig" && gpgv --keyring "$K/vendor.gpg" p.tgz.asc p.tgz 2>/dev/null && openssl dgst -sha256 -verify "$K/org.pub.pem" -signature p.tgz.sig p.tgz >/dev/null' || return 1
    c_s=$M_S c_k=$M_K
    measure prep_fetch "$VS" --home "$H" -q --no-progress fetch "$U" --max-size "$LIMIT" || return 1
    echo "fetch $_mb $M_S $c_s $M_K $c_k" >>"$RES"
    fi

    prep_tar() { rm -rf "$D2" && mkdir -p "$D2"; }
    if want stage; then
    if ! want fetch; then
        prep_fetch && "$VS" --home "$H" -q --no-progress fetch "$U" --max-size "$LIMIT" || die "fetch failed"
    fi
    measure prep_tar bsdtar -xzf "$P" -C "$D2" || return 1
    c_s=$M_S c_k=$M_K
    prep_stage() { rm -rf "$D"; }
    measure prep_stage "$VS" --home "$H" -q stage "agent@$V" --dest "$D" --max-unpacked "$LIMIT" || return 1
    echo "stage $_mb $M_S $c_s $M_K $c_k" >>"$RES"
    diff -r -x .vetstage "$D/current" "$D2" >/dev/null || die "staged tree differs from bsdtar's"
    fi

    prep_pullchain() { prep_chain && prep_tar; }
    if want pull; then
    measure prep_pullchain env U="$U" C="$C" K="$K" D2="$D2" sh -c 'cd "$C" && curl -sf -o p.tgz "$U" && curl -sf -o p.tgz.asc "$U.asc" && curl -sf -o p.tgz.sig "$U.sig" && gpgv --keyring "$K/vendor.gpg" p.tgz.asc p.tgz 2>/dev/null && openssl dgst -sha256 -verify "$K/org.pub.pem" -signature p.tgz.sig p.tgz >/dev/null && bsdtar -xzf p.tgz -C "$D2"' || return 1
    c_s=$M_S c_k=$M_K
    prep_pull() { new_home "$H" && rm -rf "$D"; }
    measure prep_pull "$VS" --home "$H" -q --no-progress pull "$U" --dest "$D" --max-size "$LIMIT" --max-unpacked "$LIMIT" || return 1
    echo "pull $_mb $M_S $c_s $M_K $c_k" >>"$RES"
    fi
    rm -rf "$D" "$D2" "$C"
}

SIZES=$MB
[ "$SMALL_MB" -gt 0 ] 2>/dev/null && SIZES="$MB $SMALL_MB"
for size in $SIZES; do
    echo "bench: $size MiB package: make, sign, then verify, fetch, stage, pull" >&2
    make_pkg "$size" "1.0.$size" || die "cannot make the $size MiB package"
    bench_size "$size" || exit 1
    rm -f "$W/agent-1.0.$size.tgz"*
done

# ---------------------------------------------------------------- report
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MACHINE="$(nproc) cores ($CPU), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
goal() { case $1 in verify) echo 0.85 ;; fetch) echo 0.80 ;; stage) echo 1.15 ;; pull) echo 0.75 ;; esac; }
{
    echo "| operation | what a user would chain instead | vetstage s | chain s | ratio | goal | vetstage peak RSS ($SMALL_MB MiB / $MB MiB) |"
    echo "|---|---|---|---|---|---|---|"
    for op in verify fetch stage pull; do
        want "$op" || continue
        case $op in
            verify) ref='`gpgv && openssl dgst -verify`' ;;
            fetch) ref='`curl` x3, `gpgv`, `openssl dgst`' ;;
            stage) ref='`bsdtar -xzf`' ;;
            pull) ref='`curl` x3, `gpgv`, `openssl`, `bsdtar -xzf`' ;;
        esac
        awk -v op="$op" -v mb="$MB" -v small="$SMALL_MB" -v ref="$ref" -v goal="$(goal "$op")" '
            $1 == op && $2 == mb { vs = $3; ch = $4; kb = $5 }
            $1 == op && $2 == small { ks = $5 }
            END { r = vs / ch; if (ks == "") ks = 0; printf "| %s | %s | %.3f | %.3f | %.2fx %s | <= %sx | %.1f / %.1f MiB |\n",
                  op, ref, vs, ch, r, (r <= goal) ? "(met)" : "(not met)", goal, ks / 1024, kb / 1024 }' "$RES"
    done
} >"$T/table.md"
echo "vetstage bench $(date -u +%Y-%m-%d): $MB MiB package (and $SMALL_MB MiB for RSS), median of $RUNS runs after a warm-up; $MACHINE"
cat "$T/table.md"
awk -v mb="$MB" '$2 == mb { print $1, $3 / $4 }' "$RES" >"$T/ratios.dat"
cp "$RES" "$ROOT/bench/results.tsv"
if command -v gnuplot >/dev/null 2>&1; then
    awk '{ g = ($1 == "verify") ? 0.85 : ($1 == "fetch") ? 0.80 : ($1 == "stage") ? 1.15 : 0.75; print $1, $2, g }' "$T/ratios.dat" >"$T/plot.dat"
    gnuplot <<GP || echo "bench: gnuplot failed; no chart" >&2
set terminal png size 800,420
set output "$ROOT/bench/ratios.png"
set title "vetstage / the shell chain it replaces, $MB MiB package (lower is faster)"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.6
set yrange [0:*]
set ylabel "time ratio (median of $RUNS runs)"
set grid ytics
set key top left
plot "$T/plot.dat" using 2:xtic(1) title "vetstage / chain" lc rgb "#3b6ea5", \
     "" using 0:3 with points pt 7 ps 1.5 lc rgb "#c0392b" title "goal", \
     1 with lines dt 2 lc rgb "#555555" title "as fast as the chain"
GP
fi
if [ "${BENCH_WRITE:-0}" = 1 ]; then
    {
        echo "<!-- bench results: written by bench/run.sh -->"
        echo "Last run: $(date -u +%Y-%m-%d), $MB MiB package, median of $RUNS runs after a warm-up, on $MACHINE."
        echo
        cat "$T/table.md"
        echo
        echo "![ratios](ratios.png)"
        echo "<!-- end of bench results -->"
    } >"$T/section.md"
    awk -v f="$T/section.md" '
        /^<!-- bench results/ { while ((getline l < f) > 0) print l; skip = 1; next }
        /^<!-- end of bench results -->/ { skip = 0; next }
        !skip { print }' "$ROOT/bench/README.md" >"$T/README.md" && cp "$T/README.md" "$ROOT/bench/README.md"
fi
