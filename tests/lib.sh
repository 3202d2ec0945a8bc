# tests/lib.sh - sourced by every tests/cli/test_*.sh script.
#
# Provides: $VS (the vetstage binary), $FIX (fixtures made by
# tests/fixtures/mkfixtures.sh), $T (a fresh temporary folder removed at exit),
# assertions that count passes and failures, and `finish` which prints
# "NAME: N passed, M failed" and sets the exit status.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
VS="$BUILD/vetstage"
FIX="$BUILD/fixtures"
DATA="$ROOT/tests/data"
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/vs-$TEST_NAME-XXXXXX")
_pass=0
_fail=0
_cleanup_hooks=""
trap '_vs_cleanup' EXIT
_vs_cleanup() {
    for h in $_cleanup_hooks; do "$h" || true; done
    rm -rf "$T"
}
# at_exit FUNCTION: run FUNCTION when the script ends (e.g. stop nginx)
at_exit() { _cleanup_hooks="$_cleanup_hooks $1"; }

ok() { _pass=$((_pass + 1)); echo "ok - $*"; }
not_ok() { _fail=$((_fail + 1)); echo "not ok - $*"; }

# run CMD...: runs it, keeping stdout in $T/out, stderr in $T/err, status in $RC
run() {
    set +e
    "$@" >"$T/out" 2>"$T/err"
    RC=$?
    set -e 2>/dev/null || true
    set +e
    return 0
}

# expect_rc CODE DESCRIPTION CMD...: the command must exit with CODE
expect_rc() {
    _want=$1; _desc=$2; shift 2
    run "$@"
    if [ "$RC" -eq "$_want" ]; then
        ok "$_desc (exit $RC)"
    else
        not_ok "$_desc: expected exit $_want, got $RC"
        sed 's/^/    stderr: /' "$T/err" | head -5
    fi
}

# expect_err_has TEXT DESCRIPTION: the last command's stderr contains TEXT
expect_err_has() {
    if grep -qF -- "$1" "$T/err"; then ok "$2"; else
        not_ok "$2: stderr lacks '$1'"; sed 's/^/    stderr: /' "$T/err" | head -5; fi
}
# expect_out_has TEXT DESCRIPTION: the last command's stdout contains TEXT
expect_out_has() {
    if grep -qF -- "$1" "$T/out"; then ok "$2"; else
        not_ok "$2: stdout lacks '$1'"; sed 's/^/    stdout: /' "$T/out" | head -5; fi
}
# expect_one_line_err DESCRIPTION: stderr of the last command is exactly one line
expect_one_line_err() {
    _n=$(wc -l <"$T/err")
    if [ "$_n" -eq 1 ]; then ok "$1"; else not_ok "$1: stderr has $_n lines"; sed 's/^/    stderr: /' "$T/err" | head -5; fi
}
# expect_json EXPR DESCRIPTION: python3 evaluates EXPR with `j` = stdout parsed as JSON
expect_json() {
    if python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$T/out" 2>"$T/pyerr"; then
        ok "$2"
    else
        not_ok "$2: JSON check failed: $1"; head -c 600 "$T/out" | sed 's/^/    stdout: /'; cat "$T/pyerr" | tail -2
    fi
}
# check COND-CMD... DESCRIPTION-LAST: generic assertion: `check "desc" test -f x`
check() {
    _desc=$1; shift
    if "$@"; then ok "$_desc"; else not_ok "$_desc"; fi
}
# snapshot DIR: a listing of every path, type, mode, size and hash below DIR
snapshot() {
    if [ -e "$1" ]; then
        (cd "$1" && find . -printf '%p %y %m %s %l\n' | LC_ALL=C sort &&
            find . -type f -exec sha256sum {} + | LC_ALL=C sort)
    else
        echo "ABSENT"
    fi
}
# same_snapshot DESCRIPTION BEFORE-FILE DIR
same_snapshot() {
    snapshot "$3" >"$T/snap.after"
    if cmp -s "$2" "$T/snap.after"; then ok "$1"; else
        not_ok "$1: changed"; diff "$2" "$T/snap.after" | head -10 | sed 's/^/    /'; fi
}

# skip TAG REASON: a part of this script cannot run here; counted as skipped.
# In CI, VS_MUST_RUN lists the tags that must not skip: then it is a failure.
_skip=0
_must_run() { case " ${VS_MUST_RUN:-} " in *" $1 "*) return 0 ;; esac; return 1; }
skip() {
    if _must_run "$1"; then
        not_ok "$1 must run here (VS_MUST_RUN) but skipped: $2"
    else
        _skip=$((_skip + 1)); echo "skip - $1: $2"
    fi
}
# skip_all TAG REASON: the whole script cannot run here; ends it.
skip_all() {
    skip "$1" "$2"
    echo "$TEST_NAME: $_pass passed, $_fail failed, $_skip skipped"
    [ "$_fail" -eq 0 ]
    exit $?
}

# wait_port FILE: the port a tests/pyserve.py server wrote to FILE (waits up
# to 10 s; prints nothing if it never came)
wait_port() {
    _i=0
    while [ ! -s "$1" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
    cat "$1" 2>/dev/null
}

finish() {
    echo "$TEST_NAME: $_pass passed, $_fail failed, $_skip skipped"
    [ "$_fail" -eq 0 ] && [ "$_pass" -gt 0 ]
}

# ---- making signed packages in tests --------------------------------------
# vendor_gpg ARGS...: gpg on the fixture vendor's GnuPG home (a copy in $T,
# so that tests never share an agent or a lock with each other)
vendor_gpg() {
    if [ ! -d "$T/vendor-gnupg" ]; then
        cp -r "$FIX/vendor-gnupg" "$T/vendor-gnupg"
        chmod 700 "$T/vendor-gnupg"
        at_exit _vs_kill_vendor_agent
    fi
    gpg --homedir "$T/vendor-gnupg" --batch --yes --no-tty --quiet --pinentry-mode loopback --passphrase '' "$@"
}
_vs_kill_vendor_agent() { gpgconf --homedir "$T/vendor-gnupg" --kill gpg-agent 2>/dev/null; }
# gpg_sign FILE [KEYNAME] [gpg args...]: FILE.asc by fixture key KEYNAME (default vendor)
gpg_sign() {
    _f=$1; _k=${2:-vendor}; shift; [ $# -gt 0 ] && shift
    vendor_gpg "$@" --local-user "$(cat "$FIX/$_k.fpr")!" --armor --detach-sign -o "$_f.asc" "$_f"
}
# rsa_sign FILE [KEYNAME]: FILE.sig, PKCS#1 v1.5 SHA-256 by fixture key KEYNAME.key (default org)
rsa_sign() {
    openssl dgst -sha256 -sign "$FIX/${2:-org}.key" -out "$1.sig" "$1"
}
# sign_both FILE: the default policy's two signatures
sign_both() { gpg_sign "$1" && rsa_sign "$1"; }
# trust_fixture_keys HOME: import the vendor OpenPGP key and the org RSA key into HOME
trust_fixture_keys() {
    "$VS" --home "$1" -q keys import "$FIX/vendor.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
}
