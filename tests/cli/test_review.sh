#!/bin/sh
# tests/cli/test_review.sh - regressions for what the hostile review of this
# round found: each case failed before its fix.
. "$(dirname "$0")/../lib.sh"

# ---- 1. a plain URL is no way around a source's key binding ----------------
H="$T/home"
W="$T/www"
mkdir -p "$W/src"
trust_fixture_keys "$H"
"$VS" --home "$H" -q keys import "$FIX/other.asc" >/dev/null 2>&1
echo evil >"$W/src/x"
tar -C "$W/src" -czf "$W/agent-1.2.3.tgz" x
gpg_sign "$W/agent-1.2.3.tgz" other
rsa_sign "$W/agent-1.2.3.tgz"
conf() {
    printf '[source agent]\nurl = file://%s/agent-{version}.tgz\nkeys = %s %s\n' \
        "$FIX/pkg" "$(cat "$FIX/vendor.fpr")" "$(cat "$FIX/org.fpr")" >"$H/vetstage.conf"
}
conf
# a first package of another name, so the cache exists before the snapshot
echo ok >"$W/src/y"
tar -C "$W/src" -czf "$W/tool-1.0.0.tgz" y
sign_both "$W/tool-1.0.0.tgz"
expect_rc 0 "a package of an unbound name is fetched" "$VS" --home "$H" -q fetch "file://$W/tool-1.0.0.tgz"
snapshot "$H" >"$T/snap.before"
expect_rc 3 "fetch by URL of a package signed by a key the source is not bound to" \
    "$VS" --home "$H" fetch "file://$W/agent-1.2.3.tgz"
expect_err_has "not bound to this source" "fetch by URL: the binding is named"
same_snapshot "fetch by URL: home unchanged" "$T/snap.before" "$H"
expect_rc 3 "pull by URL: refused the same way" "$VS" --home "$H" pull "file://$W/agent-1.2.3.tgz" --dest "$T/d1"
check "pull by URL: nothing staged" test ! -e "$T/d1"

# admitted before the source existed: stage applies the binding now
mv "$H/vetstage.conf" "$T/conf.off"
expect_rc 0 "without a source, the same package is admitted" "$VS" --home "$H" -q fetch "file://$W/agent-1.2.3.tgz"
mv "$T/conf.off" "$H/vetstage.conf"
expect_rc 3 "pull by URL of the admitted package: the binding holds (no 'already in the cache')" \
    "$VS" --home "$H" pull "file://$W/agent-1.2.3.tgz" --dest "$T/d2"
check "pull: nothing staged" test ! -e "$T/d2"
expect_rc 3 "stage of the package admitted before its source was bound" \
    "$VS" --home "$H" stage agent@1.2.3 --dest "$T/d3"
expect_err_has "not one of the keys its source is bound to now" "stage: the binding is named"
check "stage: nothing staged" test ! -e "$T/d3"
expect_rc 0 "a package of a name without a source still stages" "$VS" --home "$H" -q stage tool@1.0.0 --dest "$T/d4"

# ---- 5. render --out is never inside the home, nor inside the layout ------
L="$T/d4"
snapshot "$H" >"$T/snap.h"
snapshot "$L" >"$T/snap.l"
expect_rc 2 "render --out inside the home" "$VS" --home "$H" render sidecar --layout "$L" --out "$H/cache/refs/zz"
expect_err_has "inside the vetstage home" "render --out in the home: reason"
expect_rc 2 "render --out inside the layout" "$VS" --home "$H" render sidecar --layout "$L" --out "$L/current/ctx"
expect_err_has "inside the layout" "render --out in the layout: reason"
expect_rc 2 "render ecs-task --out inside the home" "$VS" --home "$H" render ecs-task \
    --task-def "$ROOT/tests/render/bare-task-definition.json" --app-container worker \
    --sidecar-image "repo@sha256:$(printf '%064d' 0)" --as-root --out "$H/td.json"
same_snapshot "render refusals: home unchanged" "$T/snap.h" "$H"
same_snapshot "render refusals: layout unchanged" "$T/snap.l" "$L"
expect_rc 0 "layout check after the refusals" "$VS" --home "$H" layout check "$L"

# ---- 6. stage --dest inside an existing layout ------------------------------
for sub in current/sub versions/sub versions/1.0.0/x; do
    expect_rc 2 "stage --dest $sub of a layout" "$VS" --home "$H" stage tool@1.0.0 --dest "$L/$sub"
    expect_err_has "inside the vetstage layout" "stage --dest $sub: reason"
done
same_snapshot "stage refusals: layout unchanged" "$T/snap.l" "$L"
expect_rc 0 "layout check after the stage refusals" "$VS" --home "$H" layout check "$L"

# ---- 4. modes the manifest does not list, and file capabilities ------------
CHK="$BUILD/vetstage-check"
expect_rc 0 "layout intact before" "$VS" --home "$H" layout check "$L"
V="$L/versions/1.0.0"
for m in 1777 0777 2755; do
    chmod "$m" "$V"
    expect_rc 6 "the tree's top folder at mode $m" "$VS" --home "$H" layout check "$L"
    [ -x "$CHK" ] && expect_rc 6 "vetstage-check: the top folder at mode $m" "$CHK" "$L"
    chmod 00755 "$V"
done
chmod 2777 "$V/.vetstage"
expect_rc 6 ".vetstage at mode 2777" "$VS" --home "$H" layout check "$L"
chmod 00755 "$V/.vetstage"
if command -v setcap >/dev/null 2>&1 && setcap cap_net_raw+ep "$V/y" 2>/dev/null; then
    expect_rc 6 "a file with capabilities" "$VS" --home "$H" layout check "$L"
    expect_err_has "file capabilities" "capabilities: reason"
    setcap -r "$V/y"
else
    skip setcap "no setcap (libcap2-bin) or no xattr support here"
fi
expect_rc 0 "layout intact again" "$VS" --home "$H" layout check "$L"

# ---- provenance names the architecture: --arch, or the ELF machines found ----
mkdir -p "$W/elf/bin"
cp /bin/true "$W/elf/bin/true"
tar -C "$W/elf" -czf "$W/elftool-1.0.0.tgz" bin
sign_both "$W/elftool-1.0.0.tgz"
expect_rc 0 "pull an x86-64 package without --arch" "$VS" --home "$H" -q pull "file://$W/elftool-1.0.0.tgz" --dest "$T/e1"
expect_rc 0 "its provenance lists the machine types found" python3 -c \
    'import json,sys; p=json.load(open(sys.argv[1])); sys.exit(0 if p.get("machines") == ["x86-64"] and "arch" not in p else 1)' \
    "$T/e1/current/.vetstage/provenance.json"
expect_rc 0 "stage --arch amd64" "$VS" --home "$H" -q stage elftool@1.0.0 --dest "$T/e2" --arch amd64
expect_rc 0 "with --arch, provenance records it" python3 -c \
    'import json,sys; p=json.load(open(sys.argv[1])); sys.exit(0 if p.get("arch") == "amd64" else 1)' \
    "$T/e2/current/.vetstage/provenance.json"

# ---- --home "" is refused, never a fall-back to another home ---------------
expect_rc 2 "--home '' before the command" env VETSTAGE_HOME="$H" "$VS" --home "" cache list
expect_err_has "--home" "--home '': named"
expect_rc 2 "--home '' after the command" env VETSTAGE_HOME="$H" "$VS" cache list --home ""

# ---- a clearsigned checksum list through fetch (no LIST.asc beside it) ------
C="$T/cs"
mkdir -p "$C/rel"
cp "$FIX/pkg/agent-1.2.3.tgz" "$C/rel/agent-1.2.3.tgz"
(cd "$C/rel" && sha256sum agent-1.2.3.tgz >"$C/list.txt")
vendor_gpg --local-user "$(cat "$FIX/vendor.fpr")!" --clearsign -o "$C/rel/checksum_sha256.txt" "$C/list.txt"
H2="$T/home-cs"
trust_fixture_keys "$H2"
expect_rc 0 "fetch with a clearsigned checksum list and no .asc" "$VS" --home "$H2" fetch \
    "file://$C/rel/agent-1.2.3.tgz" --checksums-url "file://$C/rel/checksum_sha256.txt" --require gpg
cp "$C/list.txt" "$C/rel/plain.txt"
trust_fixture_keys "$T/home-cs2"
expect_rc 4 "a plain list without its .asc is still refused" "$VS" --home "$T/home-cs2" fetch \
    "file://$C/rel/agent-1.2.3.tgz" --checksums-url "file://$C/rel/plain.txt" --require gpg
expect_err_has "plain.txt.asc" "the missing .asc is named"

# ---- 10. a dangling symbolic link as --dest is a usage error ----------------
ln -s "$T/nowhere/deeper" "$T/dangling"
expect_rc 2 "stage --dest a dangling symbolic link" "$VS" --home "$H" stage tool@1.0.0 --dest "$T/dangling"
check "nothing created behind the dangling link" test ! -e "$T/nowhere"

finish
