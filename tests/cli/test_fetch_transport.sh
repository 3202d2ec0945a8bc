#!/bin/sh
# tests/cli/test_fetch_transport.sh - transport refusals of `vetstage fetch`
# that tests/cli/test_fetch.sh does not cover: TLS pinning, redirects that
# change scheme either way, redirect loops, HTTP 429, the size limit on a body
# without Content-Length, and bad --cacert / --pinned-pubkey arguments. Each:
# the exit code, one line naming the URL (or file) and reason, cache unchanged.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/nginx.sh"

WWW="$T/www"
mkdir -p "$WWW"
for f in agent-1.2.3.tgz agent-1.2.3.tgz.asc agent-1.2.3.tgz.sig; do cp "$FIX/pkg/$f" "$WWW/$f"; done
# /bighdr/: a 2 MB response header line (built from nginx variables: a config
# token may not be that long); /manyhdr/: 40 headers of 4000 bytes (160 KB in all)
_k=$(head -c 4000 /dev/zero | tr '\0' k)
_b='$a$a$a$a$a$a$a$a$a$a'
_c=$(printf '$b%.0s' $(seq 50))
_many=""
for _i in $(seq 40); do _many="$_many add_header X-Many-$_i \$a always;"; done
NGINX_EXTRA_LOCATIONS="
        location /bighdr/ { alias $WWW/; set \$a $_k; set \$b \"$_b\"; set \$c \"$_c\"; add_header X-Big \$c always; }
        location /manyhdr/ { alias $WWW/; set \$a $_k; $_many }"
nginx_start "$WWW" || { not_ok "nginx starts"; finish; exit 1; }

H="$T/home"
trust_fixture_keys "$H"
"$VS" --home "$H" -q cache list >/dev/null 2>&1

refuse() { # refuse DESC CODE TEXT ARGS...
    _d=$1; _c=$2; _t=$3; shift 3
    snapshot "$H/cache" >"$T/snap.before"
    expect_rc "$_c" "$_d" "$VS" --home "$H" -q fetch "$@"
    expect_err_has "$_t" "$_d: message"
    # one line naming subject and reason, and at most a "hint:" line after it
    grep -v '^vetstage: hint: ' "$T/err" >"$T/err.nohint"
    check "$_d: one line (and a hint)" test "$(wc -l <"$T/err.nohint")" -eq 1
    same_snapshot "$_d: cache unchanged" "$T/snap.before" "$H/cache"
}

P="agent-1.2.3.tgz"
refuse "pinned key mismatch" 4 "TLS: the server's public key does not match --pinned-pubkey" \
    --cacert "$NGINX_CA" --pinned-pubkey "$NGINX_OTHER_PUBKEY" "$NGINX_HTTPS/$P"
refuse "http -> https redirect" 4 "$NGINX_HTTP/redirect-https/$P: redirect to another scheme refused (to $NGINX_HTTPS/$P)" \
    --cacert "$NGINX_CA" "$NGINX_HTTP/redirect-https/$P"
refuse "https -> http redirect" 4 "$NGINX_HTTPS/redirect-http/$P: redirect to another scheme refused (to $NGINX_HTTP/$P)" \
    --cacert "$NGINX_CA" "$NGINX_HTTPS/redirect-http/$P"
check "scheme-changing redirects were not followed" test "$(nginx_requests "GET /$P")" -eq 0
refuse "redirect loop" 4 "$NGINX_HTTP/redirect-loop/$P: more than 5 redirects" "$NGINX_HTTP/redirect-loop/$P"
refuse "HTTP 429, retried" 4 "$NGINX_HTTP/status429/$P: HTTP 429" --retries 1 "$NGINX_HTTP/status429/$P"
check "429: 1 + 1 retry requests" test "$(nginx_requests "GET /status429/$P 429")" -eq 2
refuse "--max-size without Content-Length" 4 "$NGINX_HTTP/chunked/$P: larger than --max-size 100 bytes" \
    --max-size 100 "$NGINX_HTTP/chunked/$P"
refuse "missing --cacert file" 2 "$T/nope.pem" --cacert "$T/nope.pem" "$NGINX_HTTPS/$P"
refuse "malformed --pinned-pubkey" 2 "--pinned-pubkey must look like sha256//" \
    --cacert "$NGINX_CA" --pinned-pubkey "md5//abc" "$NGINX_HTTPS/$P"

refuse "a 2 MB response header" 4 "$NGINX_HTTP/bighdr/$P: response headers larger than 65536 bytes" \
    "$NGINX_HTTP/bighdr/$P"
refuse "160 KB of response headers" 4 "$NGINX_HTTP/manyhdr/$P: response headers larger than 65536 bytes" \
    "$NGINX_HTTP/manyhdr/$P"

# ---- local files: never waited on, only regular files ------------------------------
mkfifo "$T/fifo.tgz" "$T/fifo.asc"
mkdir "$T/adir"
cp "$WWW/$P" "$WWW/$P.sig" "$T/"
refuse "file:// of a FIFO (the package)" 2 "file://$T/fifo.tgz: a FIFO, not a regular file" \
    --name fifo --version 1 --gpg-sig-url "file://$WWW/$P.asc" --rsa-sig-url "file://$WWW/$P.sig" --timeout 5 "file://$T/fifo.tgz"
refuse "file:// of a FIFO (the .asc)" 2 "file://$T/fifo.asc: a FIFO, not a regular file" \
    --gpg-sig-url "file://$T/fifo.asc" --timeout 5 "file://$T/$P"
refuse "file:// of a directory" 2 "file://$T/adir: is a directory, not a file" \
    --name adir --version 1 --gpg-sig-url "file://$WWW/$P.asc" --rsa-sig-url "file://$WWW/$P.sig" "file://$T/adir"
refuse "file:// of a directory as the .asc" 2 "file://$T/adir: is a directory, not a file" \
    --gpg-sig-url "file://$T/adir" "file://$T/$P"
refuse "file:// naming a host" 2 "a file:// URL may not name a host" "file://example.com$T/$P"

# ---- URLs with bytes that are not UTF-8 or are control characters: refused up front --
: >"$NGINX_ACCESS_LOG"
refuse "a non-UTF-8 byte in the URL" 2 "not valid UTF-8" "$(printf '%s/agent-1.2.3\377.tgz' "$NGINX_HTTP")"
expect_err_has "hint: percent-encode it (%FF)" "non-UTF-8: the hint says how"
refuse "an escape in --rsa-sig-url, even when RSA is not required" 2 "control character" \
    --require gpg --rsa-sig-url "$(printf '%s/x\033[2J.sig' "$NGINX_HTTP")" "$NGINX_HTTP/$P"
refuse "a non-UTF-8 --mirror" 2 "not valid UTF-8" --mirror "$(printf '%s/m\300\257' "$NGINX_HTTP")" "$NGINX_HTTP/$P"
check "bad URLs: nothing was downloaded" test "$(grep -c . "$NGINX_ACCESS_LOG")" -eq 0

# ---- numbers: digits and the documented suffixes only -----------------------------
for bad in " -1" "-1" "+5" "1X" "0x10" "1 G" "" "99999999999999999999" "1GG"; do
    refuse "--max-size '$bad'" 2 "--max-size: '$bad' is not a size" --max-size "$bad" "$NGINX_HTTP/$P"
done
for bad in " -1" "2x" "5 s" "0" "8d"; do
    refuse "--timeout '$bad'" 2 "--timeout: '$bad'" --timeout "$bad" "$NGINX_HTTP/$P"
done
refuse "--retries ' 1'" 2 "--retries" --retries " 1" "$NGINX_HTTP/$P"
head -c 3000 /dev/urandom >"$WWW/big-1.0.tgz"
cp "$WWW/$P.asc" "$WWW/big-1.0.tgz.asc"
cp "$WWW/$P.sig" "$WWW/big-1.0.tgz.sig"
refuse "--max-size 2K: a size suffix counts" 4 "larger than --max-size 2048 bytes" \
    --max-size 2K "$NGINX_HTTP/big-1.0.tgz"
expect_rc 2 "stage --max-entries ' -1'" "$VS" --home "$H" stage agent@1.2.3 --dest "$T/lay" --max-entries " -1"
expect_err_has "--max-entries: ' -1' is not a positive number" "--max-entries ' -1': named"
expect_rc 2 "stage --max-unpacked ' -1'" "$VS" --home "$H" stage agent@1.2.3 --dest "$T/lay" --max-unpacked " -1"
check "refused stages wrote nothing" test ! -e "$T/lay"
expect_rc 0 "--max-size 1G --timeout 2m: accepted" "$VS" --home "$H" -q fetch --max-size 1G --timeout 2m \
    --name suffixes --version 1 "$NGINX_HTTP/$P"
expect_rc 0 "stage --max-unpacked 512MiB --max-entries 1000" "$VS" --home "$H" -q stage suffixes@1 \
    --dest "$T/lay2" --max-unpacked 512MiB --max-entries 1000

# ---- names: a release tag folder is never the package name ----------------------------
mkdir -p "$WWW/releases/download/v6.2.0" "$WWW/agents"
cp "$WWW/$P" "$WWW/releases/download/v6.2.0/6.2.0.1234.tgz"
sign_both "$WWW/releases/download/v6.2.0/6.2.0.1234.tgz"
tar -C "$T" -cjf "$WWW/agents/bz-agent-2.0.1.tar.bz2" adir
sign_both "$WWW/agents/bz-agent-2.0.1.tar.bz2"
REL="$NGINX_HTTP/releases/download/v6.2.0/6.2.0.1234.tgz"
refuse "VERSION.tgz under a v6.2.0 tag folder: no name" 2 "looks like a version" "$REL"
check "the refused name downloaded nothing" test "$(nginx_requests "GET /releases/")" -eq 0
expect_rc 0 "--name alone is enough for VERSION.tgz" "$VS" --home "$H" --json fetch --name lacework "$REL"
expect_json "j['name'] == 'lacework' and j['version'] == '6.2.0.1234'" "cached as lacework@6.2.0.1234"
expect_rc 0 "a .tar.bz2 names itself" "$VS" --home "$H" --json fetch "$NGINX_HTTP/agents/bz-agent-2.0.1.tar.bz2"
expect_json "j['name'] == 'bz-agent' and j['version'] == '2.0.1'" "cached as bz-agent@2.0.1"

expect_rc 0 "pinned key match: admitted" "$VS" --home "$H" -q fetch --cacert "$NGINX_CA" --pinned-pubkey "$NGINX_PUBKEY" "$NGINX_HTTPS/$P"
expect_rc 0 "same-scheme redirect: admitted" "$VS" --home "$H" -q fetch --name viaredirect --version 1.2.3 --cacert "$NGINX_CA" "$NGINX_HTTPS/redirect/$P"
expect_rc 0 "chunked body within --max-size: admitted" "$VS" --home "$H" -q fetch --name chunked --version 1.2.3 "$NGINX_HTTP/chunked/$P"
finish
