#!/bin/sh
# tests/cli/test_credentials.sh - a login for a protected server (nginx
# auth_basic on loopback) given as user:password@ in the URL or in a
# --netrc-file, and presigned-URL style tokens in the query: the transfer
# works, and the secrets never land on disk (home, layout, rendered build
# context) or in output (stdout, stderr, JSON, -v logs, refusals).
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/nginx.sh"

PW=S3cretPW
SIG=SiGsEcReT0123
TOK=ToKeNsEcReT456
secrets="$PW $SIG $TOK"

WWW="$T/www"
mkdir -p "$WWW"
for f in agent-1.2.3.tgz agent-1.2.3.tgz.asc agent-1.2.3.tgz.sig checksum_sha256.txt checksum_sha256.txt.asc; do
    cp "$FIX/pkg/$f" "$WWW/$f"
done
printf 'alice:%s\n' "$(openssl passwd -apr1 "$PW")" >"$T/htpasswd"
NGINX_EXTRA_LOCATIONS="location /auth/ { alias $WWW/; auth_basic \"vetstage test\"; auth_basic_user_file $T/htpasswd; }"
nginx_start "$WWW" || { not_ok "nginx starts"; finish; exit 1; }
HOSTPORT=${NGINX_HTTP#http://}
AUTH="http://alice:$PW@$HOSTPORT/auth"
Q="X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=$SIG&token=$TOK&v=1"

# no_secret DESC PATH...: none of the secrets in any file below PATH (binary too)
no_secret() {
    _d=$1; shift
    _hits=""
    for _s in $secrets; do
        _h=$(grep -r -a -l -F -- "$_s" "$@" 2>/dev/null | head -3)
        [ -n "$_h" ] && _hits="$_hits $_h"
    done
    if [ -z "$_hits" ]; then ok "$_d"; else not_ok "$_d: found in$_hits"; fi
}
# last_no_secret DESC: the last command's stdout and stderr hold no secret
last_no_secret() { no_secret "$1" "$T/out" "$T/err"; }

H="$T/home"
trust_fixture_keys "$H"
"$VS" --home "$H" -q cache list >/dev/null 2>&1

# ---- the server really wants the login ----------------------------------------
snapshot "$H/cache" >"$T/snap.before"
expect_rc 4 "no login: refused by the server" "$VS" --home "$H" fetch "$NGINX_HTTP/auth/agent-1.2.3.tgz"
expect_err_has "HTTP 401" "no login: HTTP 401 named"
same_snapshot "no login: cache unchanged" "$T/snap.before" "$H/cache"

# ---- user:password@ in the URL, tokens in the query -------------------------------
expect_rc 0 "login in the URL: fetched" "$VS" --home "$H" -v --json fetch "$AUTH/agent-1.2.3.tgz?$Q"
last_no_secret "login in the URL: no secret in stdout (JSON) or stderr (-v)"
check "the server got the login (200 for the package)" \
    test "$(nginx_requests "GET /auth/agent-1.2.3.tgz 200")" -ge 1
expect_rc 0 "cache show" "$VS" --home "$H" cache show agent@1.2.3
last_no_secret "cache show: no secret"
expect_out_has "http://$HOSTPORT/auth/agent-1.2.3.tgz?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&token=REDACTED&v=1" \
    "cache show: the URL without login, its tokens REDACTED"
expect_rc 0 "cache show --json" "$VS" --home "$H" --json cache show agent@1.2.3
last_no_secret "cache show --json: no secret"
expect_json "j['url'].startswith('http://$HOSTPORT/auth/agent-1.2.3.tgz?')" "cache show --json: url kept, redacted"
expect_rc 0 "cache list --json" "$VS" --home "$H" --json cache list
last_no_secret "cache list --json: no secret"

D="$T/layout"
expect_rc 0 "stage the package" "$VS" --home "$H" stage agent@1.2.3 --dest "$D"
last_no_secret "stage: no secret in output"
check "provenance names the URL" grep -qF "http://$HOSTPORT/auth/agent-1.2.3.tgz" "$D/current/.vetstage/provenance.json"
expect_rc 0 "render the sidecar build context" "$VS" --home "$H" render sidecar --layout "$D" --out "$T/ctx"
last_no_secret "render: no secret in output"

# ---- a refusal naming the URL: the replay of the same bytes as another version ----
snapshot "$H/cache" >"$T/snap.before"
expect_rc 7 "replay refusal" "$VS" --home "$H" fetch --version 9.9.9 "$AUTH/agent-1.2.3.tgz?$Q"
expect_err_has "http://$HOSTPORT/auth/agent-1.2.3.tgz" "replay refusal: names the URL"
last_no_secret "replay refusal: no secret in the message"
same_snapshot "replay refusal: cache unchanged" "$T/snap.before" "$H/cache"

# ---- a failing source, then a mirror with a login (-v logs "trying mirror") -----
expect_rc 0 "mirror with a login after a failing source" "$VS" --home "$H" -v fetch --name viamirror \
    --version 1.2.3 --mirror "$AUTH/" "http://bob:$PW@$HOSTPORT/status500/agent-1.2.3.tgz?token=$TOK"
expect_err_has "trying mirror http://$HOSTPORT/auth" "-v: the mirror named without its login"
last_no_secret "failing source and mirror: no secret in stderr (-v)"

# ---- --netrc-file --------------------------------------------------------------------
H2="$T/home2"
trust_fixture_keys "$H2"
printf 'machine 127.0.0.1\n  login alice\n  password %s\n' "$PW" >"$T/netrc"
chmod 600 "$T/netrc"
expect_rc 0 "--netrc-file: fetched" "$VS" --home "$H2" --json fetch --netrc-file "$T/netrc" \
    "$NGINX_HTTP/auth/agent-1.2.3.tgz"
last_no_secret "--netrc-file: no secret in output"
snapshot "$H2" >"$T/snap.before"
expect_rc 2 "--netrc-file that does not exist" "$VS" --home "$H2" fetch --netrc-file "$T/nope" \
    --name other --version 1 "$NGINX_HTTP/auth/agent-1.2.3.tgz"
expect_err_has "$T/nope" "missing netrc: names the file"
expect_one_line_err "missing netrc: one line"
expect_rc 2 "--netrc-file that is a directory" "$VS" --home "$H2" fetch --netrc-file "$T" \
    --name other --version 1 "$NGINX_HTTP/auth/agent-1.2.3.tgz"
same_snapshot "bad --netrc-file: home unchanged" "$T/snap.before" "$H2"

# ---- nothing on disk ------------------------------------------------------------------
no_secret "no secret anywhere in the homes" "$H" "$H2"
no_secret "no secret in the staged layout" "$D"
no_secret "no secret in the rendered build context" "$T/ctx"
# ---- the success line and JSON name the checksum list and signatures by URL ---------
# (this round: the signer line says a checksum list was used, and fetch JSON
# names each signature file by its URL): never with the login or the tokens
HC="$T/home-cs"
trust_fixture_keys "$HC"
expect_rc 0 "checksum list behind a login: fetched" "$VS" --home "$HC" fetch --require gpg \
    "$AUTH/agent-1.2.3.tgz?$Q" --checksums-url "$AUTH/checksum_sha256.txt?$Q"
last_no_secret "checksum list behind a login: the success line holds no secret"
expect_err_has "checksum" "checksum list behind a login: the success line says a checksum list was used"
"$VS" --home "$HC" -q cache rm agent@1.2.3 >/dev/null 2>&1
expect_rc 0 "checksum list behind a login: fetch --json" "$VS" --home "$HC" --json fetch --require gpg \
    "$AUTH/agent-1.2.3.tgz?$Q" --checksums-url "$AUTH/checksum_sha256.txt?$Q"
last_no_secret "fetch --json with a checksum list: no secret in the signatures' URLs or checksums"
expect_json "all(s['file'].startswith('http://$HOSTPORT/auth/') for s in j['signatures'])" \
    "fetch --json: each signature file is its URL, without the login"
no_secret "checksum list behind a login: nothing in the home" "$HC"

finish
