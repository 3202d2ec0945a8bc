#!/bin/sh
# tests/cli/test_cache.sh - `vetstage cache list|show|path|fsck|gc` on a home
# filled by real fetches (file:// URLs of packages signed with the fixture
# keys): output shapes, refusals with an unchanged cache, fsck naming damaged
# entries, gc --keep removing old versions and their objects only.
. "$(dirname "$0")/../lib.sh"

W="$T/www"
mkdir -p "$W/src"
cp "$FIX/pkg/agent-1.2.3.tgz" "$FIX/pkg/agent-1.2.3.tgz.asc" "$FIX/pkg/agent-1.2.3.tgz.sig" "$W/"
# a second, newer version (and a pre-release that sorts before it)
echo "agent 1.10.0" >"$W/src/VERSION"
tar -C "$W/src" -czf "$W/agent-1.10.0.tgz" VERSION
sign_both "$W/agent-1.10.0.tgz"
echo "agent 1.10.0~rc1" >"$W/src/VERSION"
tar -C "$W/src" -czf "$W/agent-1.10.0~rc1.tgz" VERSION
sign_both "$W/agent-1.10.0~rc1.tgz"

H="$T/home"
trust_fixture_keys "$H"
obj() { echo "$H/cache/objects/sha256/$(echo "$1" | cut -c1-2)/$(echo "$1" | cut -c3-)"; }
S1=$(sha256sum "$W/agent-1.2.3.tgz" | cut -d' ' -f1)
S2=$(sha256sum "$W/agent-1.10.0.tgz" | cut -d' ' -f1)
S3=$(sha256sum "$W/agent-1.10.0~rc1.tgz" | cut -d' ' -f1)

# refuse DESC CODE TEXT ARGS...: exit CODE, message has TEXT, cache unchanged
refuse() {
    _d=$1; _c=$2; _t=$3; shift 3
    snapshot "$H/cache" >"$T/snap.before"
    expect_rc "$_c" "$_d" "$VS" --home "$H" -q cache "$@"
    expect_err_has "$_t" "$_d: message"
    expect_one_line_err "$_d: one line"
    same_snapshot "$_d: cache unchanged" "$T/snap.before" "$H/cache"
}

expect_rc 0 "empty cache: list" "$VS" --home "$H" --json cache list
expect_json "j['ok'] and j['entries'] == []" "empty cache: no entries"
for v in 1.2.3 1.10.0 1.10.0~rc1; do
    expect_rc 0 "fetch agent $v" "$VS" --home "$H" -q fetch "file://$W/agent-$v.tgz"
done

# ---- list / show / path ----------------------------------------------------------
expect_rc 0 "list" "$VS" --home "$H" cache list
expect_out_has "agent@1.2.3" "list: names 1.2.3"
expect_out_has "sha256:$(echo "$S1" | cut -c1-12)" "list: sha256 prefix"
check "list: version order (1.2.3, 1.10.0~rc1, 1.10.0)" test "$(awk '{print $1}' "$T/out" | tr '\n' ' ')" = "agent@1.2.3 agent@1.10.0~rc1 agent@1.10.0 "
expect_rc 0 "list --json" "$VS" --home "$H" cache list --json
expect_json "[e['ref'] for e in j['entries']] == ['agent@1.2.3', 'agent@1.10.0~rc1', 'agent@1.10.0']" "list --json: sorted entries"
expect_json "j['entries'][0]['sha256'] == '$S1' and j['entries'][0]['size'] == $(stat -c %s "$W/agent-1.2.3.tgz") and j['entries'][0]['verified'].endswith('Z')" "list --json: fields"
expect_rc 0 "show --json" "$VS" --home "$H" cache show agent@1.2.3 --json
expect_json "j['ref'] == 'agent@1.2.3' and j['file'] == 'agent-1.2.3.tgz' and j['url'] == 'file://$W/agent-1.2.3.tgz'" "show: name, file, url"
expect_json "j['require'] == ['gpg', 'rsa'] and j['path'] == '$(obj "$S1")' and j['tool'].startswith('vetstage ')" "show: policy, path, tool"
expect_json "sorted(j['signers']) == sorted(['$(cat "$FIX/vendor.fpr")', '$(cat "$FIX/org.fpr")'])" "show: signers"
expect_rc 0 "show (human)" "$VS" --home "$H" cache show agent@1.2.3
expect_out_has "sha256:    $S1" "show: sha256 line"
expect_rc 0 "path" "$VS" --home "$H" cache path agent@1.2.3
check "path: the package object" test "$(cat "$T/out")" = "$(obj "$S1")"
check "path: content is the package" cmp -s "$(cat "$T/out")" "$W/agent-1.2.3.tgz"
refuse "show: not in the cache" 2 "agent@9.9: not in the cache" show agent@9.9
refuse "path: not in the cache" 2 "agent@9.9: not in the cache" path agent@9.9
refuse "show: traversal in name" 2 "../../x@1" show ../../x@1
refuse "show: traversal in version" 2 "agent@../../etc" show agent@../../etc
refuse "show: not NAME@VERSION" 2 "not a NAME@VERSION" show agent
refuse "unknown subcommand" 2 "unknown subcommand" frobnicate
refuse "gc: bad --keep" 2 "--keep" gc --keep -1

# ---- fsck ---------------------------------------------------------------------------
expect_rc 0 "fsck: clean" "$VS" --home "$H" cache fsck
expect_rc 0 "fsck --json: clean" "$VS" --home "$H" --json cache fsck
expect_json "j['ok'] and j['damaged'] == []" "fsck --json: nothing damaged"
O1=$(obj "$S1")
cp "$O1" "$T/orig"
chmod u+w "$O1"
printf 'X' | dd of="$O1" bs=1 seek=10 conv=notrunc 2>/dev/null
snapshot "$H/cache" >"$T/snap.before"
expect_rc 6 "fsck: flipped byte" "$VS" --home "$H" cache fsck
expect_err_has "damaged: agent@1.2.3: package object $S1 is damaged" "fsck: names the entry and the object"
expect_err_has "damaged: $S1: object content does not match its name" "fsck: names the object"
check "fsck: one line per damage, plus the summary" test "$(wc -l <"$T/err")" -eq 3
same_snapshot "fsck: changes nothing" "$T/snap.before" "$H/cache"
expect_rc 6 "fsck --json: flipped byte" "$VS" --home "$H" --json cache fsck
expect_json "j['ok'] is False and j['error']['code'] == 'integrity' and 'agent@1.2.3' in [d['what'] for d in j['damaged']]" "fsck --json: damaged list"
rm -f "$O1"
expect_rc 0 "repair: fetch again after removing the damaged object" "$VS" --home "$H" fetch "file://$W/agent-1.2.3.tgz"
expect_err_has "cached agent@1.2.3 sha256:$S1" "repair: downloaded again, not 'already'"
check "repair: object restored" cmp -s "$O1" "$T/orig"
expect_rc 0 "fsck: clean again after repair" "$VS" --home "$H" cache fsck
# a missing signature object
SIGO=$(obj "$(sha256sum "$W/agent-1.10.0.tgz.sig" | cut -d' ' -f1)")
mv "$SIGO" "$T/sigobj"
expect_rc 6 "fsck: missing signature object" "$VS" --home "$H" cache fsck
expect_err_has "damaged: agent@1.10.0: rsa-sig object" "fsck: names the entry of a missing object"
mv "$T/sigobj" "$SIGO"
# a damaged ref: fsck names it, gc refuses to remove anything
cp "$H/cache/refs/agent/1.10.0.json" "$T/ref.orig"
chmod u+w "$H/cache/refs/agent/1.10.0.json"
echo '{"name": "agent", "version": ' >"$H/cache/refs/agent/1.10.0.json"
expect_rc 6 "fsck: damaged ref" "$VS" --home "$H" cache fsck
expect_err_has "damaged: agent@1.10.0:" "fsck: names the damaged ref"
refuse "gc with a damaged ref" 6 "1.10.0.json" gc --keep 1
cp "$T/ref.orig" "$H/cache/refs/agent/1.10.0.json"

# ---- gc ---------------------------------------------------------------------------------
expect_rc 0 "gc without --keep" "$VS" --home "$H" --json cache gc
expect_json "j['refs_removed'] == 0 and j['objects_removed'] == 0" "gc without --keep removes nothing referenced"
# an unreferenced object and a stale quarantine are garbage
mkdir -p "$H/cache/quarantine/0000" && echo partial >"$H/cache/quarantine/0000/pkg-x"
echo '{' >"$H/cache/refs/agent/.tmp-0123456789abcdef"
mkdir -p "$H/cache/objects/sha256/ab" && echo x >"$H/cache/objects/sha256/ab/.tmp-0123456789abcdef"
echo junk >"$T/junk"
JO=$(obj "$(sha256sum "$T/junk" | cut -d' ' -f1)")
mkdir -p "$(dirname "$JO")" && cp "$T/junk" "$JO"
expect_rc 0 "gc --keep 1" "$VS" --home "$H" --json cache gc --keep 1
expect_json "j['refs_removed'] == 2" "gc --keep 1: two old versions removed"
check "gc: unreferenced object removed" test ! -e "$JO"
check "gc: newest kept" test -f "$H/cache/refs/agent/1.10.0.json"
check "gc: 1.2.3 ref gone" test ! -e "$H/cache/refs/agent/1.2.3.json"
check "gc: 1.10.0~rc1 ref gone" test ! -e "$H/cache/refs/agent/1.10.0~rc1.json"
check "gc: old package objects gone" test ! -e "$(obj "$S1")" -a ! -e "$(obj "$S3")"
check "gc: kept package object still there" test -f "$(obj "$S2")"
check "gc: only the kept entry's three objects remain" test "$(find "$H/cache/objects" -type f | wc -l)" -eq 3
check "gc: stale quarantine removed" test ! -e "$H/cache/quarantine/0000"
check "gc: a killed writer's temporary ref removed" test ! -e "$H/cache/refs/agent/.tmp-0123456789abcdef"
check "gc: a killed writer's temporary object removed" test ! -e "$H/cache/objects/sha256/ab/.tmp-0123456789abcdef"
expect_rc 0 "gc: fsck clean afterwards" "$VS" --home "$H" cache fsck
expect_rc 0 "gc: kept entry still verifies by path" "$VS" --home "$H" cache path agent@1.10.0
expect_rc 0 "gc --keep 0" "$VS" --home "$H" cache gc --keep 0
check "gc --keep 0: nothing left" test "$(find "$H/cache/objects" "$H/cache/refs" -type f | wc -l)" -eq 0

# ---- rm -------------------------------------------------------------------------------
for v in 1.2.3 1.10.0 1.10.0~rc1; do
    "$VS" --home "$H" -q fetch "file://$W/agent-$v.tgz" >/dev/null 2>&1
done
# the same bytes under another name share every object
"$VS" --home "$H" -q fetch --name copy --version 1 "file://$W/agent-1.2.3.tgz" >/dev/null 2>&1
check "rm: four refs to start with" test "$(find "$H/cache/refs" -name '*.json' | wc -l)" -eq 4
refuse "rm: an unknown ref removes nothing" 2 "agent@9.9: not in the cache" rm agent@1.2.3 agent@9.9
refuse "rm: a malformed ref removes nothing" 2 "not a NAME@VERSION" rm agent@1.2.3 agent
refuse "rm: no ref" 2 "NAME@VERSION" rm
expect_rc 0 "rm agent@1.2.3 (its objects shared with copy@1)" "$VS" --home "$H" --json cache rm agent@1.2.3
expect_json "j['ok'] and j['removed'] == ['agent@1.2.3'] and j['objects_removed'] == 0" "rm: shared objects stay"
check "rm: the ref is gone" test ! -e "$H/cache/refs/agent/1.2.3.json"
check "rm: the shared package object stays" test -f "$(obj "$S1")"
expect_rc 0 "rm: copy@1 still stages from the cache" "$VS" --home "$H" cache path copy@1
expect_rc 0 "rm two refs" "$VS" --home "$H" cache rm copy@1 agent@1.10.0~rc1
expect_err_has "removed copy@1" "rm: says what it removed"
check "rm: the last user's objects go" test ! -e "$(obj "$S1")" -a ! -e "$(obj "$S3")"
check "rm: the kept version's objects stay" test -f "$(obj "$S2")"
check "rm: refs/copy is gone with its last ref" test ! -e "$H/cache/refs/copy"
check "rm: one ref and its three objects left" test "$(find "$H/cache/refs" -name '*.json' | wc -l)$(find "$H/cache/objects" -type f | wc -l)" = 13
expect_rc 0 "rm: fsck clean afterwards" "$VS" --home "$H" cache fsck

expect_rc 0 "cache --help" "$VS" cache --help
expect_out_has "cache gc [--keep N]" "cache --help lists gc"

finish
