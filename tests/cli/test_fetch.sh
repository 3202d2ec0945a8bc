#!/bin/sh
# tests/cli/test_fetch.sh - `vetstage fetch` against a real nginx (HTTP, HTTPS
# with a test CA) and file:// URLs: admission, the instant second run, every
# refusal with its exit code, its one-line message naming the URL, an unchanged
# cache and no quarantine left; mirrors, retries, resume after kill -9,
# concurrent fetches, checksum-list mode.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/nginx.sh"

WWW="$T/www"
mkdir -p "$WWW/bad" "$WWW/mirror" "$WWW/nosig" "$WWW/flaky"
for f in agent-1.2.3.tgz agent-1.2.3.tgz.asc agent-1.2.3.tgz.sig checksum_sha256.txt checksum_sha256.txt.asc; do
    cp "$FIX/pkg/$f" "$WWW/$f"
    cp "$FIX/pkg/$f" "$WWW/mirror/$f"
done
cp "$FIX/pkg/agent-1.2.3.tgz" "$FIX/pkg/agent-1.2.3.tgz.asc" "$WWW/nosig/"
# a tampered package next to the genuine signatures
cp "$FIX/pkg/agent-1.2.3.tgz.asc" "$FIX/pkg/agent-1.2.3.tgz.sig" "$WWW/bad/"
cp "$FIX/pkg/agent-1.2.3.tgz" "$WWW/bad/agent-1.2.3.tgz"
printf 'X' | dd of="$WWW/bad/agent-1.2.3.tgz" bs=1 seek=100 conv=notrunc 2>/dev/null
# a big signed package for the resume test (random bytes: ~5 s at 200 KiB/s)
mkdir -p "$T/bigsrc"
head -c 1000000 /dev/urandom >"$T/bigsrc/payload.bin"
tar -C "$T/bigsrc" -czf "$WWW/big-2.0.0.tgz" payload.bin
sign_both "$WWW/big-2.0.0.tgz"
SUM=$(sha256sum "$FIX/pkg/agent-1.2.3.tgz" | cut -d' ' -f1)

nginx_start "$WWW" || { not_ok "nginx starts"; finish; exit 1; }

n=0
# new_home: a home trusting the fixture keys, its cache initialised (so that
# snapshots before and after a refusal compare like with like)
new_home() {
    n=$((n + 1))
    H="$T/home$n"
    trust_fixture_keys "$H"
    "$VS" --home "$H" -q cache list >/dev/null 2>&1
}
no_quarantine() { [ -z "$(ls -A "$H/cache/quarantine" 2>/dev/null)" ]; }
requests() { wc -l <"$NGINX_ACCESS_LOG"; }

# refuse DESC CODE TEXT URL ARGS...: exit CODE, one line naming TEXT,
# cache unchanged, no quarantine left
refuse() {
    _d=$1; _c=$2; _t=$3; shift 3
    snapshot "$H/cache" >"$T/snap.before"
    expect_rc "$_c" "$_d" "$VS" --home "$H" -q fetch "$@"
    expect_err_has "$_t" "$_d: message names it"
    expect_one_line_err "$_d: one line"
    same_snapshot "$_d: cache unchanged, no quarantine" "$T/snap.before" "$H/cache"
}

# ---- success over HTTP; the second run is instant ----------------------------
new_home
expect_rc 0 "HTTP fetch" "$VS" --home "$H" fetch "$NGINX_HTTP/agent-1.2.3.tgz"
expect_err_has "cached agent@1.2.3 sha256:$SUM" "HTTP: cached line"
check "HTTP: ref written" test -f "$H/cache/refs/agent/1.2.3.json"
check "HTTP: package object is the package" cmp -s "$FIX/pkg/agent-1.2.3.tgz" "$H/cache/objects/sha256/$(echo "$SUM" | cut -c1-2)/$(echo "$SUM" | cut -c3-)"
check "HTTP: object read-only" test "$(stat -c %a "$H/cache/objects/sha256/$(echo "$SUM" | cut -c1-2)/$(echo "$SUM" | cut -c3-)")" = 444
check "HTTP: no quarantine left" no_quarantine
before=$(requests)
snapshot "$H/cache" >"$T/snap.second"
expect_rc 0 "second run" "$VS" --home "$H" fetch "$NGINX_HTTP/agent-1.2.3.tgz"
expect_err_has "agent@1.2.3 already in the cache" "second run: already"
check "second run: no request made" test "$(requests)" -eq "$before"
same_snapshot "second run: cache unchanged" "$T/snap.second" "$H/cache"
expect_rc 0 "second run, JSON" "$VS" --home "$H" --json fetch "$NGINX_HTTP/agent-1.2.3.tgz"
expect_json "j['ok'] and j['already'] is True and j['ref'] == 'agent@1.2.3' and j['sha256'] == '$SUM'" "second run JSON: already"

# ---- HTTPS, file://, JSON -------------------------------------------------------
new_home
expect_rc 0 "HTTPS with --cacert, JSON" "$VS" --home "$H" --json fetch --cacert "$NGINX_CA" "$NGINX_HTTPS/agent-1.2.3.tgz"
expect_json "j['ok'] and j['already'] is False and j['verdict'] == 'trusted' and j['size'] == $(stat -c %s "$FIX/pkg/agent-1.2.3.tgz")" "HTTPS JSON: trusted"
expect_json "[s['type'] for s in j['signatures']] == ['gpg', 'rsa'] and all(s['valid'] for s in j['signatures'])" "HTTPS JSON: both signatures valid"
expect_json "j['signatures'][0]['fingerprint'] == '$(cat "$FIX/vendor.fpr")'" "HTTPS JSON: vendor signer"
check "HTTPS: requests went over https" grep -q "GET /agent-1.2.3.tgz 200 .* scheme=https" "$NGINX_ACCESS_LOG"
new_home
expect_rc 0 "file:// fetch" "$VS" --home "$H" fetch "file://$WWW/agent-1.2.3.tgz"
expect_rc 0 "file:// show" "$VS" --home "$H" --json cache show agent@1.2.3
expect_json "j['url'] == 'file://$WWW/agent-1.2.3.tgz' and sorted(s['kind'] for s in j['signatures']) == ['gpg-sig', 'rsa-sig']" "file://: provenance recorded"
expect_json "sorted(j['signers']) == sorted(['$(cat "$FIX/vendor.fpr")', '$(cat "$FIX/org.fpr")'])" "file://: signers recorded"
expect_rc 0 "--name/--version override" "$VS" --home "$H" -q fetch --name lacework --version 9.9 "file://$WWW/agent-1.2.3.tgz"
check "override: ref under the given name" test -f "$H/cache/refs/lacework/9.9.json"

# ---- refusals -------------------------------------------------------------------
new_home
"$VS" --home "$H" -q fetch "file://$WWW/agent-1.2.3.tgz" --name seed --version 1 >/dev/null 2>&1
refuse "unknown CA" 4 "$NGINX_HTTPS/agent-1.2.3.tgz" "$NGINX_HTTPS/agent-1.2.3.tgz"
refuse "tampered package" 3 "$NGINX_HTTP/bad/agent-1.2.3.tgz" "$NGINX_HTTP/bad/agent-1.2.3.tgz"
check "tampered: no ref" test ! -e "$H/cache/refs/agent"
: >"$NGINX_ACCESS_LOG"
refuse "404" 4 "$NGINX_HTTP/agent-9.9.9.tgz: HTTP 404" "$NGINX_HTTP/agent-9.9.9.tgz"
check "404: the package is named, not its signature" sh -c "! grep -q 'tgz.asc' '$T/err'"
check "404: no signature requested for a missing package" test "$(nginx_requests "agent-9.9.9.tgz.")" -eq 0
refuse "redirect to file://" 4 "$NGINX_HTTP/redirect-file/agent-1.2.3.tgz" "$NGINX_HTTP/redirect-file/agent-1.2.3.tgz"
refuse "over --max-size" 4 "$NGINX_HTTP/agent-1.2.3.tgz" --max-size 100 "$NGINX_HTTP/agent-1.2.3.tgz"
refuse "1 byte/s server, small --timeout" 4 "$NGINX_HTTP/slow/agent-1.2.3.tgz" --timeout 2 --retries 0 "$NGINX_HTTP/slow/agent-1.2.3.tgz"
refuse "missing required .sig" 4 "$NGINX_HTTP/nosig/agent-1.2.3.tgz.sig: HTTP 404" "$NGINX_HTTP/nosig/agent-1.2.3.tgz"
refuse "ftp scheme" 2 "ftp://127.0.0.1/agent-1.2.3.tgz" "ftp://127.0.0.1/agent-1.2.3.tgz"
refuse "name not derivable" 2 "give --name" "$NGINX_HTTP/agent.tgz"
refuse "bad --version" 2 "invalid version" --version ../x "$NGINX_HTTP/agent-1.2.3.tgz"
refuse "untrusted RSA signature" 3 "agent-1.2.3.tgz.other.sig" --rsa-sig-url "file://$FIX/pkg/agent-1.2.3.tgz.other.sig" "$NGINX_HTTP/agent-1.2.3.tgz"
refuse "wrong --pinned-pubkey" 4 "$NGINX_HTTPS/agent-1.2.3.tgz" --cacert "$NGINX_CA" --pinned-pubkey "$NGINX_OTHER_PUBKEY" "$NGINX_HTTPS/agent-1.2.3.tgz"
snapshot "$H/cache" >"$T/snap.before"
expect_rc 3 "tampered package, JSON" "$VS" --home "$H" --json fetch "$NGINX_HTTP/bad/agent-1.2.3.tgz"
expect_json "j['ok'] is False and j['error']['code'] == 'verify' and j['verdict'] == 'rejected' and '$NGINX_HTTP/bad/agent-1.2.3.tgz' in j['error']['message']" "tampered JSON: rejected with the reason"
expect_json "any(s['type'] == 'gpg' and not s['valid'] for s in j['signatures'])" "tampered JSON: the failing signature listed"
same_snapshot "tampered JSON: cache unchanged" "$T/snap.before" "$H/cache"
expect_rc 0 "right --pinned-pubkey" "$VS" --home "$H" -q fetch --cacert "$NGINX_CA" --pinned-pubkey "$NGINX_PUBKEY" --name pinned --version 1 "$NGINX_HTTPS/agent-1.2.3.tgz"
expect_rc 2 "--gpg-sig-url with --checksums-url" "$VS" --home "$H" fetch --gpg-sig-url x --checksums-url y "$NGINX_HTTP/agent-1.2.3.tgz"
expect_rc 0 "--require gpg: a missing .sig is fine" "$VS" --home "$H" fetch --require gpg "$NGINX_HTTP/nosig/agent-1.2.3.tgz"
check "--require gpg: no quarantine left" no_quarantine
expect_rc 0 "--require gpg: recorded" "$VS" --home "$H" --json cache show agent@1.2.3
expect_json "j['require'] == ['gpg'] and [s['kind'] for s in j['signatures']] == ['gpg-sig']" "--require gpg: policy and sigs recorded"

# ---- the policy before the network -------------------------------------------------
# a store without an RSA key cannot meet the default policy: said first, exit 3,
# with the next step, and nothing is downloaded
n=$((n + 1))
H="$T/home$n"
"$VS" --home "$H" -q keys import "$FIX/vendor.asc" >/dev/null 2>&1
"$VS" --home "$H" -q cache list >/dev/null 2>&1
: >"$NGINX_ACCESS_LOG"
snapshot "$H" >"$T/snap.home"
expect_rc 3 "no RSA key, default policy: refused" "$VS" --home "$H" fetch "$NGINX_HTTP/agent-1.2.3.tgz"
expect_err_has "--require" "no RSA key: the hint names --require"
expect_one_line_err "no RSA key: one line"
check "no RSA key: nothing requested" test "$(requests)" -eq 0
same_snapshot "no RSA key: home unchanged" "$T/snap.home" "$H"
expect_rc 3 "no RSA key, JSON: refused" "$VS" --home "$H" --json fetch "$NGINX_HTTP/agent-1.2.3.tgz"
expect_json "j['ok'] is False and j['error']['code'] == 'verify' and '--require' in j['error']['hint']" "no RSA key, JSON: code and hint"
expect_rc 0 "no RSA key, --require gpg: fetched" "$VS" --home "$H" -q fetch --require gpg "$NGINX_HTTP/agent-1.2.3.tgz"
# a package already in the cache is reported only after the arguments were
# checked: the policy the store cannot meet is said, not "already"
new_home
"$VS" --home "$H" -q fetch "$NGINX_HTTP/agent-1.2.3.tgz" >/dev/null 2>&1
"$VS" --home "$H" -q keys remove "$(cat "$FIX/org.fpr")" >/dev/null 2>&1
: >"$NGINX_ACCESS_LOG"
expect_rc 3 "cached, but the policy cannot be met now" "$VS" --home "$H" fetch "$NGINX_HTTP/agent-1.2.3.tgz"
check "cached, policy refused: not reported as already" sh -c "! grep -q 'already' '$T/err'"
check "cached, policy refused: nothing requested" test "$(requests)" -eq 0
expect_rc 2 "cached, but a bad --version" "$VS" --home "$H" fetch --require gpg --version ../x "$NGINX_HTTP/agent-1.2.3.tgz"
expect_rc 0 "cached, --require gpg: already" "$VS" --home "$H" fetch --require gpg "$NGINX_HTTP/agent-1.2.3.tgz"

# ---- 500 then retry ------------------------------------------------------------
new_home
: >"$NGINX_ACCESS_LOG"
refuse "HTTP 500 after retries" 4 "HTTP 500" --retries 2 "$NGINX_HTTP/status500/agent-1.2.3.tgz"
check "500: request retried (3 attempts)" test "$(nginx_requests "GET /status500/agent-1.2.3.tgz 500")" -eq 3
"$VS" --home "$H" -v fetch --retries 8 "$NGINX_HTTP/flaky/agent-1.2.3.tgz" >"$T/flaky.out" 2>"$T/flaky.err" &
pid=$!
i=0
while [ "$(nginx_requests "/flaky/agent-1.2.3.tgz 500")" -lt 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
cp "$WWW/agent-1.2.3.tgz" "$WWW/agent-1.2.3.tgz.asc" "$WWW/agent-1.2.3.tgz.sig" "$WWW/flaky/"
wait $pid
check "flaky server: fetched after a 500 (exit 0)" test $? -eq 0
check "flaky server: the log shows a 500 then a 200" sh -c "grep -q 'flaky/agent-1.2.3.tgz 500' '$NGINX_ACCESS_LOG' && grep -q 'flaky/agent-1.2.3.tgz 200' '$NGINX_ACCESS_LOG'"
check "flaky server: retries logged" grep -qi "retry" "$T/flaky.err"

# ---- mirrors --------------------------------------------------------------------
new_home
expect_rc 0 "dead first source, good mirror" "$VS" --home "$H" fetch --retries 0 --mirror "$NGINX_HTTP/mirror" "http://127.0.0.1:1/agent-1.2.3.tgz"
expect_rc 0 "mirror: show" "$VS" --home "$H" --json cache show agent@1.2.3
expect_json "j['url'] == '$NGINX_HTTP/mirror/agent-1.2.3.tgz'" "mirror: provenance names the mirror"
check "mirror: no quarantine left" no_quarantine
new_home
expect_rc 0 "tampered first source, good mirror" "$VS" --home "$H" fetch --mirror "$NGINX_HTTP/nowhere" --mirror "$NGINX_HTTP/mirror" "$NGINX_HTTP/bad/agent-1.2.3.tgz"
new_home
"$VS" --home "$H" -q fetch "file://$WWW/agent-1.2.3.tgz" --name seed --version 1 >/dev/null 2>&1
snapshot "$H/cache" >"$T/snap.before"
expect_rc 3 "all sources fail: the first source's error" "$VS" --home "$H" fetch --mirror "$NGINX_HTTP/nowhere" "$NGINX_HTTP/bad/agent-1.2.3.tgz"
expect_err_has "vetstage: $NGINX_HTTP/bad/agent-1.2.3.tgz" "all fail: message names the first URL"
expect_err_has "warning: $NGINX_HTTP/nowhere/agent-1.2.3.tgz: HTTP 404" "all fail: the mirror's failure logged as a warning"
same_snapshot "all fail: cache unchanged" "$T/snap.before" "$H/cache"

# ---- checksum-list mode -----------------------------------------------------------
new_home
: >"$NGINX_ACCESS_LOG"
expect_rc 0 "checksum list" "$VS" --home "$H" fetch --checksums-url "$NGINX_HTTP/checksum_sha256.txt" "$NGINX_HTTP/agent-1.2.3.tgz"
check "checksum list: list and its signature fetched" test "$(nginx_requests "GET /checksum_sha256.txt.asc 200")" -eq 1
check "checksum list: no detached .asc requested" test "$(nginx_requests "GET /agent-1.2.3.tgz.asc ")" -eq 0
expect_rc 0 "checksum list: show" "$VS" --home "$H" --json cache show agent@1.2.3
expect_json "sorted(s['kind'] for s in j['signatures']) == ['checksums', 'checksums-sig', 'rsa-sig']" "checksum list kept with the package"
new_home
expect_rc 0 "checksum list from a mirror" "$VS" --home "$H" fetch --retries 0 --mirror "$NGINX_HTTP/mirror" --checksums-url "http://127.0.0.1:1/checksum_sha256.txt" "http://127.0.0.1:1/agent-1.2.3.tgz"
expect_rc 0 "checksum list from a mirror: show" "$VS" --home "$H" --json cache show agent@1.2.3
expect_json "sorted(s['url'] for s in j['signatures'] if s['kind'].startswith('checksums')) == ['$NGINX_HTTP/mirror/checksum_sha256.txt', '$NGINX_HTTP/mirror/checksum_sha256.txt.asc']" "checksum list from a mirror: provenance"
new_home
"$VS" --home "$H" -q fetch "file://$WWW/agent-1.2.3.tgz" --name seed --version 1 >/dev/null 2>&1
printf '%s  agent-1.2.3.tgz\n' "0000000000000000000000000000000000000000000000000000000000000000" >"$WWW/bad/checksum_sha256.txt"
refuse "checksum list without its signature" 4 "$NGINX_HTTP/bad/checksum_sha256.txt.asc: HTTP 404" --checksums-url "$NGINX_HTTP/bad/checksum_sha256.txt" "$NGINX_HTTP/agent-1.2.3.tgz"

# ---- resume after kill -9 -----------------------------------------------------------
new_home
: >"$NGINX_ACCESS_LOG"
"$VS" --home "$H" -q fetch "$NGINX_HTTP/throttled/big-2.0.0.tgz" >/dev/null 2>&1 &
pid=$!
i=0
part=0
while [ $i -lt 100 ]; do
    part=$(find "$H/cache/quarantine" -name 'pkg-*' -size +100k 2>/dev/null | head -1)
    [ -n "$part" ] && break
    sleep 0.1
    i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check "resume: a partial package was in quarantine when killed" test -n "$part"
check "resume: no ref after the kill" test ! -e "$H/cache/refs/big"
expect_rc 0 "resume: the next run completes" "$VS" --home "$H" fetch "$NGINX_HTTP/throttled/big-2.0.0.tgz"
check "resume: the server answered 206 to a Range request" grep -q "GET /throttled/big-2.0.0.tgz 206 .*range=bytes=" "$NGINX_ACCESS_LOG"
check "resume: cached package is the package" cmp -s "$WWW/big-2.0.0.tgz" "$("$VS" --home "$H" cache path big@2.0.0)"
check "resume: no quarantine left" no_quarantine
expect_rc 0 "resume: fsck clean" "$VS" --home "$H" cache fsck

# a stale partial (bytes that are not the package's) is resumed, fails
# verification, and is downloaded again from the start
new_home
: >"$NGINX_ACCESS_LOG"
U="$NGINX_HTTP/agent-1.2.3.tgz"
QID=$(printf '%s' "$U" | sha256sum | cut -d' ' -f1)
mkdir -p "$H/cache/quarantine/$QID"
head -c 100 /dev/zero >"$H/cache/quarantine/$QID/pkg-$(echo "$QID" | cut -c1-16)"
expect_rc 0 "stale partial: fetch succeeds" "$VS" --home "$H" fetch "$U"
check "stale partial: resumed first (206)" grep -q "GET /agent-1.2.3.tgz 206" "$NGINX_ACCESS_LOG"
check "stale partial: then downloaded whole (200)" grep -q "GET /agent-1.2.3.tgz 200" "$NGINX_ACCESS_LOG"
check "stale partial: cached package is the package" cmp -s "$FIX/pkg/agent-1.2.3.tgz" "$("$VS" --home "$H" cache path agent@1.2.3)"
check "stale partial: no quarantine left" no_quarantine

# ---- four concurrent fetches of one package into one home ---------------------------
new_home
for k in 1 2 3 4; do
    "$VS" --home "$H" -q fetch "$NGINX_HTTP/agent-1.2.3.tgz" >/dev/null 2>"$T/conc$k.err" &
    eval "pid$k=\$!"
done
fails=0
for k in 1 2 3 4; do
    eval "wait \$pid$k" || fails=$((fails + 1))
done
check "concurrent: all four exit 0" test "$fails" -eq 0
check "concurrent: one ref" test "$(find "$H/cache/refs" -name '*.json' | wc -l)" -eq 1
check "concurrent: three objects" test "$(find "$H/cache/objects" -type f | wc -l)" -eq 3
check "concurrent: no quarantine left" no_quarantine
expect_rc 0 "concurrent: fsck clean" "$VS" --home "$H" cache fsck

expect_rc 0 "fetch --help" "$VS" fetch --help
expect_out_has "--checksums-url" "fetch --help lists options"

# fetch --json names the signature files by their URLs: the quarantine paths
# the verdict was made on are gone when the caller reads them (issue 12)
HJ="$T/home-json"
trust_fixture_keys "$HJ"
expect_rc 0 "fetch --json of a good package" "$VS" --home "$HJ" --json fetch "file://$FIX/pkg/agent-1.2.3.tgz"
expect_json "len(j['signatures']) == 2 and all(s['file'].startswith('file://') and s['file'].endswith(('.asc', '.sig')) for s in j['signatures'])" \
    "fetch --json: each signature's file is its URL"
expect_json "'quarantine' not in json.dumps(j)" "fetch --json: no quarantine path in the output"

finish
