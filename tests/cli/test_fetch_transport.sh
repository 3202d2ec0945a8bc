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
nginx_start "$WWW" || { not_ok "nginx starts"; finish; exit 1; }

H="$T/home"
trust_fixture_keys "$H"
"$VS" --home "$H" -q cache list >/dev/null 2>&1

refuse() { # refuse DESC CODE TEXT ARGS...
    _d=$1; _c=$2; _t=$3; shift 3
    snapshot "$H/cache" >"$T/snap.before"
    expect_rc "$_c" "$_d" "$VS" --home "$H" -q fetch "$@"
    expect_err_has "$_t" "$_d: message"
    expect_one_line_err "$_d: one line"
    same_snapshot "$_d: cache unchanged" "$T/snap.before" "$H/cache"
}

P="agent-1.2.3.tgz"
refuse "pinned key mismatch" 4 "TLS: the server's public key does not match --pinned-pubkey" \
    --cacert "$NGINX_CA" --pinned-pubkey "$NGINX_OTHER_PUBKEY" "$NGINX_HTTPS/$P"
refuse "http -> https redirect" 4 "$NGINX_HTTP/redirect-https/$P.asc: redirect to another scheme refused (to $NGINX_HTTPS/$P.asc)" \
    --cacert "$NGINX_CA" "$NGINX_HTTP/redirect-https/$P"
refuse "https -> http redirect" 4 "$NGINX_HTTPS/redirect-http/$P.asc: redirect to another scheme refused (to $NGINX_HTTP/$P.asc)" \
    --cacert "$NGINX_CA" "$NGINX_HTTPS/redirect-http/$P"
check "scheme-changing redirects were not followed" test "$(nginx_requests "GET /$P")" -eq 0
refuse "redirect loop" 4 "$NGINX_HTTP/redirect-loop/$P.asc: more than 5 redirects" "$NGINX_HTTP/redirect-loop/$P"
refuse "HTTP 429, retried" 4 "$NGINX_HTTP/status429/$P.asc: HTTP 429" --retries 1 "$NGINX_HTTP/status429/$P"
check "429: 1 + 1 retry requests" test "$(nginx_requests "GET /status429/$P.asc 429")" -eq 2
refuse "--max-size without Content-Length" 4 "$NGINX_HTTP/chunked/$P: larger than --max-size 100 bytes" \
    --max-size 100 "$NGINX_HTTP/chunked/$P"
refuse "missing --cacert file" 2 "$T/nope.pem" --cacert "$T/nope.pem" "$NGINX_HTTPS/$P"
refuse "malformed --pinned-pubkey" 2 "--pinned-pubkey must look like sha256//" \
    --cacert "$NGINX_CA" --pinned-pubkey "md5//abc" "$NGINX_HTTPS/$P"

expect_rc 0 "pinned key match: admitted" "$VS" --home "$H" -q fetch --cacert "$NGINX_CA" --pinned-pubkey "$NGINX_PUBKEY" "$NGINX_HTTPS/$P"
expect_rc 0 "same-scheme redirect: admitted" "$VS" --home "$H" -q fetch --name viaredirect --version 1.2.3 --cacert "$NGINX_CA" "$NGINX_HTTPS/redirect/$P"
expect_rc 0 "chunked body within --max-size: admitted" "$VS" --home "$H" -q fetch --name chunked --version 1.2.3 "$NGINX_HTTP/chunked/$P"
finish
