#!/bin/sh
# tests/cli/test_pull.sh - `vetstage pull`: fetch + verify + stage in one
# command against a real nginx (HTTPS with a CA made by the test).
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/nginx.sh"

H="$T/home"
trust_fixture_keys "$H"
mkdir -p "$T/srv/agent"
cp "$FIX/pkg/agent-1.2.3.tgz" "$FIX/pkg/agent-1.2.3.tgz.asc" "$FIX/pkg/agent-1.2.3.tgz.sig" "$T/srv/"
# a newer release, signed by the same vendor and organisation
mkdir -p "$T/src13/bin"
cp "$FIX/pkg-src/lacework-sidecar.sh" "$T/src13/"
printf '#!/bin/sh\necho "datacollector 1.3.0"\n' >"$T/src13/bin/datacollector"
chmod 0755 "$T/src13/bin/datacollector"
tar -C "$T/src13" -czf "$T/srv/agent-1.3.0.tgz" lacework-sidecar.sh bin
sleep 1 # signed strictly after the 1.2.3 fixture (signature times have 1 s resolution)
sign_both "$T/srv/agent-1.3.0.tgz"
# a replay: the genuine, properly signed 1.2.3 served under a newer version's name
mkdir -p "$T/srv/evil"
for f in agent-1.2.3.tgz agent-1.2.3.tgz.asc agent-1.2.3.tgz.sig; do
    cp "$T/srv/$f" "$T/srv/evil/$(echo "$f" | sed 's/1\.2\.3/9.9/')"
done
# a tampered copy of 1.2.3 under another path, with the genuine signatures
mkdir -p "$T/srv/bad"
cp "$T/srv/agent-1.2.3.tgz" "$T/srv/agent-1.2.3.tgz.asc" "$T/srv/agent-1.2.3.tgz.sig" "$T/srv/bad/"
printf 'X' | dd of="$T/srv/bad/agent-1.2.3.tgz" bs=1 seek=100 conv=notrunc 2>/dev/null
nginx_start "$T/srv"

D="$T/box/vol"
mkdir -p "$T/box"

expect_rc 2 "pull without --dest" "$VS" --home "$H" pull "$NGINX_HTTPS/agent-1.2.3.tgz"
expect_err_has "--dest DIR is required" "missing --dest named"
expect_rc 2 "pull without URL" "$VS" --home "$H" pull --dest "$D"

"$VS" --home "$H" -q cache list >/dev/null 2>&1 # creates the empty cache folders
snapshot "$T/box" >"$T/box.before"
snapshot "$H/cache" >"$T/cache.before"
expect_rc 3 "tampered package refused" "$VS" --home "$H" pull "$NGINX_HTTPS/bad/agent-1.2.3.tgz" --cacert "$NGINX_CA" --dest "$D"
expect_one_line_err "tampered: one-line reason"
expect_err_has "agent-1.2.3.tgz" "tampered: message names the package"
same_snapshot "tampered: nothing staged" "$T/box.before" "$T/box"
same_snapshot "tampered: cache unchanged" "$T/cache.before" "$H/cache"

expect_rc 4 "unknown CA refused" "$VS" --home "$H" pull "$NGINX_HTTPS/agent-1.2.3.tgz" --dest "$D"
same_snapshot "unknown CA: nothing staged" "$T/box.before" "$T/box"

expect_rc 0 "pull over HTTPS" "$VS" --home "$H" --json pull "$NGINX_HTTPS/agent-1.2.3.tgz" --cacert "$NGINX_CA" --dest "$D"
expect_json 'j["ok"] is True and j["ref"] == "agent@1.2.3" and j["verdict"] == "trusted"' "pull --json: ref and verdict"
expect_json 'len(j["sha256"]) == 64 and {s["type"] for s in j["signatures"]} == {"gpg", "rsa"}' "pull --json: sha256 and both signatures"
expect_json 'j["path"].endswith("/versions/1.2.3") and j["layout"] == "versioned"' "pull --json: staged path"
check "current points at 1.2.3" test "$(readlink "$D/current")" = "versions/1.2.3"
check "agent start script staged executable" test -x "$D/current/lacework-sidecar.sh"
check "manifest passes sha256sum -c" sh -c "cd '$D/current' && sha256sum -c --quiet .vetstage/MANIFEST.sha256"
expect_rc 0 "layout check on the pulled layout" "$VS" layout check "$D"

n=$(nginx_requests "GET /agent-1.2.3.tgz ")
expect_rc 0 "second pull of the same version" "$VS" --home "$H" pull "$NGINX_HTTPS/agent-1.2.3.tgz" --cacert "$NGINX_CA" --dest "$D"
expect_err_has "already in the cache" "second pull: served from the cache"
check "second pull: package not downloaded again" test "$(nginx_requests "GET /agent-1.2.3.tgz ")" = "$n"

expect_rc 0 "upgrade to 1.3.0" "$VS" --home "$H" pull "$NGINX_HTTP/agent-1.3.0.tgz" --dest "$D"
check "current switched to 1.3.0" test "$(readlink "$D/current")" = "versions/1.3.0"
check "1.2.3 kept beside it" test -d "$D/versions/1.2.3"

snapshot "$D" >"$T/d.before"
expect_rc 7 "downgrade refused" "$VS" --home "$H" pull "file://$T/srv/agent-1.2.3.tgz" --dest "$D"
expect_err_has "downgrade" "downgrade: reason given"
same_snapshot "downgrade: layout unchanged" "$T/d.before" "$D"
expect_rc 0 "downgrade allowed with --allow-downgrade" "$VS" --home "$H" pull "file://$T/srv/agent-1.2.3.tgz" --dest "$D" --allow-downgrade
check "current back on 1.2.3" test "$(readlink "$D/current")" = "versions/1.2.3"

# replay of an old signed release under a newer name: refused at admission when the
# cache knows the bytes as another version, and at staging by signature time
snapshot "$D" >"$T/d.before"
snapshot "$H/cache" >"$T/cache.before"
expect_rc 7 "replayed 1.2.3 as 9.9: refused" "$VS" --home "$H" pull "$NGINX_HTTP/evil/agent-9.9.tgz" --dest "$D"
expect_err_has "already in the cache as agent@1.2.3" "replay: names the version the bytes really are"
expect_one_line_err "replay: one-line reason"
same_snapshot "replay: layout unchanged" "$T/d.before" "$D"
same_snapshot "replay: cache unchanged" "$T/cache.before" "$H/cache"
H2="$T/home2"
trust_fixture_keys "$H2"
D2="$T/box/vol2"
expect_rc 0 "fresh home: pull 1.3.0" "$VS" --home "$H2" pull "$NGINX_HTTP/agent-1.3.0.tgz" --dest "$D2"
snapshot "$D2" >"$T/d2.before"
expect_rc 7 "fresh home: replayed 1.2.3 as 9.9 refused at staging" "$VS" --home "$H2" pull "$NGINX_HTTP/evil/agent-9.9.tgz" --dest "$D2"
expect_err_has "rollback refused" "rollback: reason given"
expect_err_has "before the current 1.3.0" "rollback: names the current version"
same_snapshot "rollback: layout unchanged" "$T/d2.before" "$D2"
expect_rc 0 "rollback allowed with --allow-downgrade" "$VS" --home "$H2" stage agent@9.9 --dest "$D2" --allow-downgrade
check "current on the forced version" test "$(readlink "$D2/current")" = "versions/9.9"

expect_rc 0 "pull --flat into an absent folder" "$VS" --home "$H" pull "$NGINX_HTTP/agent-1.3.0.tgz" --dest "$T/flat" --flat
check "flat: start script at the top" test -x "$T/flat/lacework-sidecar.sh"
check "flat: provenance written" test -f "$T/flat/.vetstage/provenance.json"
# progress bars: on a terminal only, and never with --no-progress
H3="$T/home3"
trust_fixture_keys "$H3"
if command -v script >/dev/null 2>&1; then
    script -qec "'$VS' --home '$H3' fetch '$NGINX_HTTP/agent-1.3.0.tgz'" /dev/null >"$T/tty.out" 2>&1
    # a package under 64 KiB draws no bar (issue 12: no bars for small files);
    # tests/cli/test_progress.sh checks real bars in a terminal at two widths
    check "on a terminal: no bar for a small package" sh -c "! grep -q '%' '$T/tty.out'"
    check "on a terminal: the result line" grep -q 'cached agent@1.3.0' "$T/tty.out"
    "$VS" --home "$H3" -q cache gc --keep 0 >/dev/null 2>&1
    script -qec "'$VS' --home '$H3' --no-progress fetch '$NGINX_HTTP/agent-1.3.0.tgz'" /dev/null >"$T/tty.out" 2>&1
    check "on a terminal with --no-progress: no bar" sh -c "! grep -q '100%' '$T/tty.out'"
fi
"$VS" --home "$H3" -q cache gc --keep 0 >/dev/null 2>&1
expect_rc 0 "not a terminal: no progress bar" "$VS" --home "$H3" fetch "$NGINX_HTTP/agent-1.3.0.tgz"
check "not a terminal: stderr has no bar" sh -c "! grep -q '%' '$T/err'"
expect_err_has "cached agent@1.3.0" "not a terminal: downloaded again after gc"

expect_rc 0 "pull --help" "$VS" pull --help
expect_out_has "--allow-downgrade" "pull --help lists stage options"
expect_out_has "--mirror" "pull --help lists fetch options"
finish
