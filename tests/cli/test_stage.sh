#!/bin/sh
# tests/cli/test_stage.sh - fetch + stage of the fixture agent: versioned
# layout, manifest, provenance, modes, upgrade, downgrade policy, re-stage,
# --flat, an altered cache object, and a kill -9 in the middle of staging.
. "$(dirname "$0")/../lib.sh"
H="$T/home"
D="$T/layout"
# refused_unchanged CODE DESCRIPTION DIR CMD...: exits CODE with one error line,
# and neither the home nor DIR changed
refused_unchanged() {
    _code=$1; _d=$2; _dir=$3; shift 3
    snapshot "$H" >"$T/ru.home"; snapshot "$_dir" >"$T/ru.dir"
    expect_rc "$_code" "$_d" "$@"
    expect_one_line_err "$_d: one error line"
    same_snapshot "$_d: home unchanged" "$T/ru.home" "$H"
    same_snapshot "$_d: destination unchanged" "$T/ru.dir" "$_dir"
}
trust_fixture_keys "$H"
PKG="$FIX/pkg/agent-1.2.3.tgz"

expect_rc 0 "stage --help" "$VS" stage --help
expect_out_has "usage: vetstage stage NAME@VERSION --dest DIR" "stage --help text"
expect_rc 2 "stage without --dest" "$VS" --home "$H" stage agent@1.2.3
expect_rc 2 "stage without a ref" "$VS" --home "$H" stage --dest "$D"
expect_rc 2 "stage of a ref not in the cache" "$VS" --home "$H" stage agent@9.9 --dest "$D"
check "refused stages created nothing" test ! -e "$D"
expect_rc 2 "--max-entries 0 refused" "$VS" --home "$H" stage agent@1.2.3 --dest "$D" --max-entries 0

# -- the good package, versioned
expect_rc 0 "fetch agent 1.2.3" "$VS" --home "$H" fetch "file://$PKG"
expect_rc 0 "stage agent@1.2.3" "$VS" --home "$H" stage agent@1.2.3 --dest "$D"
check "current -> versions/1.2.3" test "$(readlink "$D/current")" = versions/1.2.3
check "start script staged" test -f "$D/current/lacework-sidecar.sh"
check "manifest passes sha256sum -c" sh -c "cd '$D/current' && sha256sum --quiet -c .vetstage/MANIFEST.sha256"
check "manifest lists the three files" test "$(wc -l <"$D/current/.vetstage/MANIFEST.sha256")" -eq 3
mode() { stat -c %a "$1"; }
check "lacework-sidecar.sh 0755" test "$(mode "$D/current/lacework-sidecar.sh")" = 755
check "bin/datacollector 0755" test "$(mode "$D/current/bin/datacollector")" = 755
check "etc/config.json 0644" test "$(mode "$D/current/etc/config.json")" = 644
check "directories 0755" test "$(mode "$D/current/bin")$(mode "$D/versions/1.2.3")" = 755755
check "owned by the running user" test "$(stat -c %u "$D/current/bin/datacollector")" = "$(id -u)"
SHA=$(sha256sum <"$PKG" | cut -d' ' -f1)
cp "$D/current/.vetstage/provenance.json" "$T/out"
expect_json "j['name'] == 'agent' and j['version'] == '1.2.3' and j['sha256'] == '$SHA'" "provenance: name, version, sha256"
expect_json "j['url'] == 'file://$PKG' and sorted(s['kind'] for s in j['signatures']) == ['gpg-sig', 'rsa-sig']" "provenance: source URLs of package and signatures"
expect_json "all(s['url'].startswith('file://') for s in j['signatures'])" "provenance: signature URLs"
expect_json "sorted(s['fingerprint'] for s in j['signers']) == sorted(['$(cat "$FIX/vendor.fpr")', '$(cat "$FIX/org.fpr")'])" "provenance: signer fingerprints"
expect_json "j['verified'].endswith('Z') and j['tool'].startswith('vetstage ')" "provenance: verification time, tool version"
expect_rc 0 "layout check of the staged tree" "$VS" --home "$H" layout check "$D"
expect_rc 0 "vetstage-check of the staged tree" "$BUILD/vetstage-check" "$D"

# -- upgrade to 1.3.0
mkdir -p "$T/src"
tar -C "$T/src" -xzf "$PKG"
echo 'echo "1.3.0"' >>"$T/src/bin/datacollector"
mkdir -p "$T/src/lib"; echo "lib" >"$T/src/lib/libx.so"; ln -s ../lib/libx.so "$T/src/bin/libx.so"
tar -C "$T/src" -czf "$T/agent-1.3.0.tgz" lacework-sidecar.sh bin etc lib
sign_both "$T/agent-1.3.0.tgz"
expect_rc 0 "fetch agent 1.3.0" "$VS" --home "$H" fetch "file://$T/agent-1.3.0.tgz"
expect_rc 0 "stage agent@1.3.0 (--json)" "$VS" --home "$H" --json stage agent@1.3.0 --dest "$D"
expect_json "j['ok'] and j['path'].endswith('/versions/1.3.0') and j['files'] == 4" "stage JSON result"
check "current switched to 1.3.0" test "$(readlink "$D/current")" = versions/1.3.0
check "1.2.3 still there" test -d "$D/versions/1.2.3"
check "symlink staged as recorded" test "$(readlink "$D/current/bin/libx.so")" = ../lib/libx.so
check "MODES records the symlink" grep -q "$(printf 'l 0777 bin/libx.so\t../lib/libx.so')" "$D/current/.vetstage/MODES"
expect_rc 0 "layout check after the upgrade" "$VS" --home "$H" layout check "$D"

# -- downgrade
snapshot "$D" >"$T/d.before"
expect_rc 7 "downgrade to 1.2.3 refused" "$VS" --home "$H" stage agent@1.2.3 --dest "$D"
expect_err_has "1.2.3 is older than the current 1.3.0" "downgrade message"
expect_one_line_err "downgrade: one line"
same_snapshot "downgrade refused: layout unchanged" "$T/d.before" "$D"
expect_rc 0 "downgrade allowed with --allow-downgrade" "$VS" --home "$H" stage agent@1.2.3 --dest "$D" --allow-downgrade
check "current back on 1.2.3" test "$(readlink "$D/current")" = versions/1.2.3
check "the re-staged 1.2.3 passes sha256sum -c" sh -c "cd '$D/current' && sha256sum --quiet -c .vetstage/MANIFEST.sha256"

# -- staging a version again replaces it atomically (repairs a damaged copy)
echo tampered >>"$D/versions/1.3.0/etc/config.json"
expect_rc 6 "damaged 1.3.0 seen by layout check once current" sh -c "ln -sfn versions/1.3.0 '$D/current' && '$VS' --home '$H' layout check '$D'"
expect_rc 0 "re-stage 1.3.0 over the damaged copy" "$VS" --home "$H" stage agent@1.3.0 --dest "$D"
expect_rc 0 "layout intact after the re-stage" "$VS" --home "$H" layout check "$D"
check "no temporary directory left" sh -c "! ls -A '$D' | grep -q vetstage-tmp"

# -- flat
expect_rc 0 "--flat into an absent DIR" "$VS" --home "$H" stage agent@1.2.3 --dest "$T/flat" --flat
check "flat: manifest passes sha256sum -c" sh -c "cd '$T/flat' && sha256sum --quiet -c .vetstage/MANIFEST.sha256"
check "flat: no current, no versions" test ! -e "$T/flat/current" -a ! -e "$T/flat/versions"
expect_rc 0 "flat: layout check" "$VS" --home "$H" layout check "$T/flat"
check "flat: nothing left beside DIR" sh -c "! ls -A '$T' | grep -q vetstage-tmp"
expect_rc 0 "--flat under umask 077" sh -c "umask 077 && '$VS' --home '$H' stage agent@1.2.3 --dest '$T/flat077' --flat"
mkdir -p "$T/cf"; echo x >"$T/cf/current"
expect_rc 2 "DIR/current is a regular file: refused" "$VS" --home "$H" stage agent@1.2.3 --dest "$T/cf"
expect_err_has "current: exists but is not a symbolic link" "current-not-a-link message"
expect_one_line_err "current-not-a-link: one line"
check "current-not-a-link: nothing created" test ! -e "$T/cf/versions"
check "umask 077: modes still 0755/0644/0755" test "$(mode "$T/flat077/bin/datacollector")$(mode "$T/flat077/etc/config.json")$(mode "$T/flat077/etc")" = 755644755
mkdir "$T/emptydir"
expect_rc 0 "--flat into an empty DIR" "$VS" --home "$H" stage agent@1.3.0 --dest "$T/emptydir" --flat
expect_rc 0 "flat (was empty): layout check" "$BUILD/vetstage-check" "$T/emptydir"
mkdir -p "$T/full"; echo keep >"$T/full/mine"
snapshot "$T/full" >"$T/full.before"
expect_rc 2 "--flat into a non-empty DIR refused" "$VS" --home "$H" stage agent@1.2.3 --dest "$T/full" --flat
expect_err_has "$T/full: not empty" "not-empty message"
expect_one_line_err "not-empty: one line"
same_snapshot "non-empty DIR unchanged" "$T/full.before" "$T/full"

# -- a refusal deletes nothing; a stage removes only what a vetstage run left
mkdir -p "$T/full/.vetstage-tmp-mine"; echo notes >"$T/full/.vetstage-tmp-mine/notes.txt"
refused_unchanged 2 "--flat into a folder holding .vetstage-tmp-* of the user's" "$T/full" \
    "$VS" --home "$H" stage agent@1.2.3 --dest "$T/full" --flat
cp -a "$D" "$T/withtmp"
mkdir "$T/withtmp/.vetstage-tmp-user"; echo notes >"$T/withtmp/.vetstage-tmp-user/notes.txt"
refused_unchanged 2 "versioned layout holding a .vetstage-tmp-* no run left" "$T/withtmp" \
    "$VS" --home "$H" stage agent@1.3.0 --dest "$T/withtmp"
expect_err_has ".vetstage-tmp-user', which no vetstage run left" "names the stray entry"
# what a run killed at its start or while removing its work folder leaves (the
# lock goes last): an empty folder, or one holding only its lock (no run holds
# it): both are removed by the next stage, which succeeds
rm -rf "$T/withtmp/.vetstage-tmp-user"
mkdir "$T/withtmp/.vetstage-tmp-00000000000000aa" "$T/withtmp/.vetstage-tmp-00000000000000bb"
: >"$T/withtmp/.vetstage-tmp-00000000000000bb/lock"
expect_rc 0 "killed runs' empty and lock-only work folders do not block a stage" \
    "$VS" --home "$H" stage agent@1.3.0 --dest "$T/withtmp"
check "both leftover work folders removed" sh -c "! ls -A '$T/withtmp' | grep -q vetstage-tmp"
# an empty folder that only starts with the prefix is the user's: kept, and
# refused like any other stray entry
mkdir "$T/withtmp/.vetstage-tmp-user"
refused_unchanged 2 "an empty .vetstage-tmp-user is the user's, not a run's" "$T/withtmp" \
    "$VS" --home "$H" stage agent@1.3.0 --dest "$T/withtmp"
rmdir "$T/withtmp/.vetstage-tmp-user"
# a user's folder with the prefix and a file named lock is not a run's either
mkdir -p "$T/withtmp/.vetstage-tmp-notes/sub"; echo data >"$T/withtmp/.vetstage-tmp-notes/lock"
echo precious >"$T/withtmp/.vetstage-tmp-notes/sub/precious"
refused_unchanged 2 "a .vetstage-tmp-notes holding a lock file is the user's" "$T/withtmp" \
    "$VS" --home "$H" stage agent@1.3.0 --dest "$T/withtmp"
rm -rf "$T/withtmp/.vetstage-tmp-notes"
# links planted where a leftover would be: never followed out of DIR
OUT="$T/outside"; mkdir -p "$OUT/sub"; : >"$OUT/lock"; echo precious >"$OUT/sub/precious"
snapshot "$OUT" >"$T/out.before"
ln -s "$OUT" "$T/withtmp/.vetstage-tmp-00000000000000dd"
refused_unchanged 2 "a link with a run's folder name (to a folder holding a lock) is refused" \
    "$T/withtmp" "$VS" --home "$H" stage agent@1.3.0 --dest "$T/withtmp"
rm "$T/withtmp/.vetstage-tmp-00000000000000dd"
mkdir "$T/withtmp/.vetstage-tmp-00000000000000ee"; : >"$T/withtmp/.vetstage-tmp-00000000000000ee/lock"
ln -s "$OUT" "$T/withtmp/.vetstage-tmp-00000000000000ee/tree"
ln -s "$OUT/lock" "$T/withtmp/.vetstage-tmp-00000000000000ee/other"
expect_rc 0 "a leftover whose tree is a link out of DIR is removed" \
    "$VS" --home "$H" stage agent@1.3.0 --dest "$T/withtmp"
check "... the leftover is gone" test ! -e "$T/withtmp/.vetstage-tmp-00000000000000ee"
same_snapshot "... and what its links pointed to outside DIR is unchanged" "$T/out.before" "$OUT"

# -- destinations: absent, empty, or a layout of the same kind; never the home
refused_unchanged 2 "--dest inside the home (cache/refs)" "$H/cache" \
    "$VS" --home "$H" stage agent@1.2.3 --dest "$H/cache/refs"
expect_err_has "is inside the vetstage home" "inside the home: reason"
expect_err_has "(hint: stage into a folder outside the home" "inside the home: a hint"
refused_unchanged 2 "--dest the home itself" "$H" "$VS" --home "$H" stage agent@1.2.3 --dest "$H"
refused_unchanged 2 "--dest a new folder inside the home" "$H" "$VS" --home "$H" stage agent@1.2.3 --dest "$H/new"
ls -A / >"$T/root.before"
expect_rc 2 "--dest / refused" "$VS" --home "$H" stage agent@1.2.3 --dest /
expect_err_has "/: not empty and not a vetstage versioned layout" "--dest /: names DIR and the reason"
check "--dest /: nothing written into /" sh -c "ls -A / | cmp -s - '$T/root.before'"
mkdir -p "$T/others/docs"; echo mine >"$T/others/docs/a.txt"; echo x >"$T/others/b"
refused_unchanged 2 "a folder of someone else's files" "$T/others" "$VS" --home "$H" stage agent@1.2.3 --dest "$T/others"
expect_err_has "not empty and not a vetstage versioned layout (found '" "others: names what it found"
refused_unchanged 2 "a versioned stage into a --flat layout" "$T/flat" "$VS" --home "$H" stage agent@1.3.0 --dest "$T/flat"
expect_err_has "$T/flat: is a --flat layout already" "versioned into flat: reason"
refused_unchanged 2 "a --flat stage into a versioned layout" "$D" "$VS" --home "$H" stage agent@1.2.3 --dest "$D" --flat
expect_err_has "$D: is a versioned layout" "flat into versioned: reason"
refused_unchanged 2 "a --flat stage into a --flat layout" "$T/flat" "$VS" --home "$H" stage agent@1.2.3 --dest "$T/flat" --flat
cp -a "$D" "$T/vfile"; rm -rf "$T/vfile/versions/1.2.3"; echo x >"$T/vfile/versions/1.2.3"
refused_unchanged 2 "versions/V is a regular file" "$T/vfile" "$VS" --home "$H" stage agent@1.2.3 --dest "$T/vfile"
expect_err_has "$T/vfile/versions/1.2.3: is not a directory, not a version vetstage staged" "versions/V a file: the right reason"
check "versions/V a file: no stale errno in the message" sh -c "! grep -q 'File exists' '$T/err'"

# -- --keep N: all but the N newest versions go, after current switched, never current
for v in 1.0.1 1.0.2 1.0.3; do
    echo "$v" >"$T/src/etc/version"
    tar -C "$T/src" -czf "$T/agent-$v.tgz" lacework-sidecar.sh bin etc; sign_both "$T/agent-$v.tgz"
    "$VS" --home "$H" -q fetch "file://$T/agent-$v.tgz" >/dev/null 2>&1
done
expect_rc 0 "stage 1.0.1" "$VS" --home "$H" stage agent@1.0.1 --dest "$T/keep"
expect_rc 0 "stage 1.0.2" "$VS" --home "$H" stage agent@1.0.2 --dest "$T/keep"
expect_rc 0 "stage 1.0.3 --keep 2" "$VS" --home "$H" stage agent@1.0.3 --dest "$T/keep" --keep 2
check "--keep 2: the two newest remain" test "$(ls "$T/keep/versions" | tr '\n' ' ')" = "1.0.2 1.0.3 "
check "--keep 2: current -> 1.0.3" test "$(readlink "$T/keep/current")" = versions/1.0.3
check "--keep 2: nothing left behind" sh -c "! ls -A '$T/keep' | grep -q vetstage-tmp"
expect_rc 0 "stage 1.2.3 then back to 1.0.2 --keep 1" sh -c "'$VS' --home '$H' -q stage agent@1.2.3 --dest '$T/keep' --allow-downgrade && '$VS' --home '$H' stage agent@1.0.2 --dest '$T/keep' --allow-downgrade --keep 1"
check "--keep 1: the newest and the current one remain" test "$(ls "$T/keep/versions" | tr '\n' ' ')" = "1.0.2 1.2.3 "
expect_rc 0 "--keep: layout check" "$VS" --home "$H" layout check "$T/keep"
expect_rc 2 "--keep with --flat refused" "$VS" --home "$H" stage agent@1.2.3 --dest "$T/kf" --flat --keep 1
expect_rc 2 "--keep without a number refused" "$VS" --home "$H" stage agent@1.2.3 --dest "$T/kf" --keep x

# -- the vendor's format: the top folder is the version; --strip-components 1 stages stable paths
mkdir -p "$T/vendor/6.2.0.1234/6.2.0.1234"
cp "$T/src/lacework-sidecar.sh" "$T/vendor/6.2.0.1234/"
cp /bin/true "$T/vendor/6.2.0.1234/6.2.0.1234/datacollector"
tar -C "$T/vendor" -czf "$T/6.2.0.1234.tgz" 6.2.0.1234
sign_both "$T/6.2.0.1234.tgz"
expect_rc 0 "fetch a release named VERSION.tgz" "$VS" --home "$H" fetch "file://$T/6.2.0.1234.tgz" --name lacework --version 6.2.0.1234
expect_rc 0 "stage --strip-components 1" "$VS" --home "$H" stage lacework@6.2.0.1234 --dest "$T/lw" --strip-components 1
check "strip: the start script at the top of the version" test -x "$T/lw/current/lacework-sidecar.sh"
check "strip: VERSION/datacollector below it" test -x "$T/lw/current/6.2.0.1234/datacollector"
check "strip: no version folder on top" test ! -e "$T/lw/current/6.2.0.1234/lacework-sidecar.sh"
expect_rc 0 "strip: layout check" "$VS" --home "$H" layout check "$T/lw"
expect_rc 2 "--strip-components without a number refused" "$VS" --home "$H" stage lacework@6.2.0.1234 --dest "$T/lw2" --strip-components x
# --arch: every ELF file must be for it, and the provenance records it
refused_unchanged 7 "--arch arm64 with an x86-64 datacollector" "$T/lw" \
    "$VS" --home "$H" stage lacework@6.2.0.1234 --dest "$T/lw" --strip-components 1 --arch arm64
expect_err_has "datacollector" "--arch: names the file"
expect_rc 0 "--arch amd64" "$VS" --home "$H" stage lacework@6.2.0.1234 --dest "$T/lwa" --strip-components 1 --arch amd64
cp "$T/lwa/current/.vetstage/provenance.json" "$T/out"
expect_json "j['arch'] == 'amd64'" "provenance records --arch"
cp "$T/lw/current/.vetstage/provenance.json" "$T/out"
check "without --arch: no arch recorded" python3 -c "import json,sys; sys.exit('arch' in json.load(open('$T/out')))"
expect_rc 2 "--arch of another name refused" "$VS" --home "$H" stage lacework@6.2.0.1234 --dest "$T/lwb" --arch sparc

# -- two stages at once into one DIR are serialised (flock on DIR)
"$VS" --home "$H" -q stage agent@1.2.3 --dest "$T/par" --allow-downgrade >/dev/null 2>"$T/par1.err" &
p1=$!
"$VS" --home "$H" -q stage agent@1.3.0 --dest "$T/par" --allow-downgrade >/dev/null 2>"$T/par2.err" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
check "parallel stages both succeed" test "$r1$r2" = 00
check "parallel: both versions complete" sh -c "cd '$T/par/versions/1.2.3' && sha256sum --quiet -c .vetstage/MANIFEST.sha256 && cd '$T/par/versions/1.3.0' && sha256sum --quiet -c .vetstage/MANIFEST.sha256"
expect_rc 0 "parallel: layout check" "$VS" --home "$H" layout check "$T/par"

# -- the cached package altered on disk: exit 3 before anything is extracted
H2="$T/home2"; D2="$T/layout2"
trust_fixture_keys "$H2"
"$VS" --home "$H2" -q fetch "file://$PKG" >/dev/null 2>&1
"$VS" --home "$H2" -q fetch "file://$T/agent-1.3.0.tgz" >/dev/null 2>&1
expect_rc 0 "stage 1.2.3 in a second home" "$VS" --home "$H2" stage agent@1.2.3 --dest "$D2"
OBJ=$("$VS" --home "$H2" cache path agent@1.3.0 2>/dev/null)
check "cache path names the object" test -f "$OBJ"
sum_before=$(sha256sum <"$OBJ")
chmod u+w "$OBJ" 2>/dev/null
# flip one byte (never a no-op, unlike writing a fixed byte)
python3 -c "import sys; f = open(sys.argv[1], 'r+b'); f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 0xff])); f.close()" "$OBJ"
check "the cache object really changed" test "$(sha256sum <"$OBJ")" != "$sum_before"
snapshot "$D2" >"$T/d2.before"
expect_rc 3 "altered cache object refused" "$VS" --home "$H2" stage agent@1.3.0 --dest "$D2"
expect_err_has "vetstage: agent@1.3.0: the package in the cache was altered" "altered object: names NAME@VERSION"
check "altered object: the message does not name the object path" sh -c "! grep -qF '$OBJ' '$T/err'"
expect_one_line_err "altered object: one line"
expect_err_has "(hint: run \`vetstage cache fsck\`" "altered object: a hint"
same_snapshot "altered object: layout unchanged" "$T/d2.before" "$D2"

# -- the re-check at stage: the bytes against the ref, each signer against the store
# (no second signature check: a key that expired after admission does not block)
if command -v faketime >/dev/null 2>&1; then
    # faketime preloads its library: a sanitizer build must not insist on coming first
    fake() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" faketime "$@"; }
    H3="$T/home3"
    fake '2020-07-01 00:00:00' "$VS" --home "$H3" -q keys import "$FIX/expired.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
    expect_rc 0 "fetch in 2020 while the vendor key was valid (faketime)" fake '2020-07-01 00:00:00' "$VS" --home "$H3" fetch "file://$PKG" --gpg-sig-url "file://$PKG.expired.asc"
    expect_rc 3 "the same signature checked now: the key has expired" "$VS" --home "$H3" verify "$PKG" --gpg-sig "$PKG.expired.asc"
    expect_rc 0 "staged now, after the key expired" "$VS" --home "$H3" stage agent@1.2.3 --dest "$T/exp"
    check "expired after admission: current -> 1.2.3" test "$(readlink "$T/exp/current")" = versions/1.2.3
    cp "$T/exp/current/.vetstage/provenance.json" "$T/out"
    expect_json "j['signed'] == '2020-06-01T00:00:00Z' and j['admitted'].startswith('2020-07-01T')" "provenance: signature and admission times"
else
    echo "skip - faketime not installed (apt-get install faketime)"
fi
# a signer revoked after admission (its revocation certificate imported later)
H4="$T/home4"
"$VS" --home "$H4" -q keys import "$FIX/revoked.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
expect_rc 0 "fetch signed by a key not yet revoked" "$VS" --home "$H4" fetch "file://$PKG" --gpg-sig-url "file://$PKG.revoked.asc"
expect_rc 0 "import the revocation certificate" "$VS" --home "$H4" keys import "$FIX/revoked.rev"
snapshot "$H4" >"$T/h4.before"
expect_rc 3 "signer revoked after admission: refused" "$VS" --home "$H4" stage agent@1.2.3 --dest "$T/rev"
expect_err_has "vetstage: agent@1.2.3: signer key $(cat "$FIX/revoked.fpr") has been revoked" "revoked: names NAME@VERSION and the key"
check "revoked: nothing staged" test ! -e "$T/rev"
same_snapshot "revoked: home unchanged" "$T/h4.before" "$H4"
# stage asks the key states keys import wrote (trust/keystate), not gpg; a
# change made behind vetstage's back (gpg itself on the store's keyring)
# changes the keyring's stamp, so it is still seen
H7="$T/home7"
"$VS" --home "$H7" -q keys import "$FIX/revoked.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
check "keys import wrote the key states" grep -q "^key $(cat "$FIX/revoked.fpr") valid$" "$H7/trust/keystate"
expect_rc 0 "fetch signed by a key not yet revoked (key states)" "$VS" --home "$H7" fetch "file://$PKG" --gpg-sig-url "file://$PKG.revoked.asc"
expect_rc 0 "staged from the key states" "$VS" --home "$H7" -v stage agent@1.2.3 --dest "$T/ks1"
expect_err_has "keyring unchanged" "stage used the key states (no gpg)"
cp "$H7/trust/keystate" "$T/keystate.before"
expect_rc 0 "revocation imported by gpg itself, not vetstage" gpg --homedir "$H7/trust/gnupg" --batch --no-tty --quiet --import "$FIX/revoked.rev"
check "the key states still say valid (stale)" grep -q "^key $(cat "$FIX/revoked.fpr") valid$" "$H7/trust/keystate"
snapshot "$H7" >"$T/h7.before"
expect_rc 3 "revoked behind vetstage's back: refused" "$VS" --home "$H7" stage agent@1.2.3 --dest "$T/ks2"
expect_err_has "signer key $(cat "$FIX/revoked.fpr") has been revoked" "revoked behind vetstage's back: names the key"
check "revoked behind vetstage's back: nothing staged" test ! -e "$T/ks2"
same_snapshot "revoked behind vetstage's back: home unchanged (the stage writes no key states)" "$T/h7.before" "$H7"
# a damaged or foreign key-states file is never believed: gpg is asked
printf 'vetstage-keystate 1\nkey %s valid\n' "$(cat "$FIX/revoked.fpr")" >"$H7/trust/keystate"
expect_rc 3 "forged key states without the store's stamp: still refused" "$VS" --home "$H7" stage agent@1.2.3 --dest "$T/ks2"
head -c 100 /dev/urandom >"$H7/trust/keystate"
expect_rc 3 "garbage key states: still refused" "$VS" --home "$H7" stage agent@1.2.3 --dest "$T/ks2"
check "garbage key states: nothing staged" test ! -e "$T/ks2"
ln -sf /etc/passwd "$H7/trust/keystate.link" && mv -f "$H7/trust/keystate.link" "$H7/trust/keystate"
expect_rc 3 "key states as a symlink: not followed, still refused" "$VS" --home "$H7" stage agent@1.2.3 --dest "$T/ks2"
# keys import writes the key states: a link planted there is replaced, the
# file it points to outside the home is left as it was
echo "outside the home" >"$T/outside-keystate"
rm -f "$H7/trust/keystate" && ln -s "$T/outside-keystate" "$H7/trust/keystate"
expect_rc 0 "keys import with a link planted at trust/keystate" "$VS" --home "$H7" keys import "$FIX/org.pub.pem"
check "planted link: the file outside the home is unchanged" test "$(cat "$T/outside-keystate")" = "outside the home"
check "planted link: trust/keystate is now a plain file of ours" sh -c "test -f '$H7/trust/keystate' && test ! -L '$H7/trust/keystate' && head -n 1 '$H7/trust/keystate' | grep -q '^vetstage-keystate '"
rm -f "$H7/trust/keystate" && mkfifo "$H7/trust/keystate"
expect_rc 3 "key states as a FIFO: not read (no hang), still refused" timeout 60 "$VS" --home "$H7" stage agent@1.2.3 --dest "$T/ks2"
rm -f "$H7/trust/keystate"
# a FIFO where gpg expects its keyring would leave gpg waiting forever:
# every command refuses it (exit 6, the file named), nothing waits
for f in pubring.kbx pubring.gpg; do
    HF="$T/home-fifo-$f"
    trust_fixture_keys "$HF"
    "$VS" --home "$HF" -q fetch "file://$PKG" >/dev/null 2>&1
    [ "$f" = pubring.kbx ] && mv "$HF/trust/gnupg/pubring.kbx" "$T/kbx.aside.$f"
    mkfifo "$HF/trust/gnupg/$f"
    snapshot "$HF" >"$T/hf.before"
    expect_rc 6 "$f as a FIFO: stage refuses, no hang" timeout 60 "$VS" --home "$HF" stage agent@1.2.3 --dest "$T/ksf"
    expect_err_has "trust/gnupg/$f: not a regular file" "$f as a FIFO: named"
    expect_rc 6 "$f as a FIFO: keys import refuses, no hang" timeout 60 "$VS" --home "$HF" keys import "$FIX/other.asc"
    expect_rc 6 "$f as a FIFO: keys remove refuses, no hang" timeout 60 "$VS" --home "$HF" keys remove "$(cat "$FIX/vendor.fpr")"
    same_snapshot "$f as a FIFO: home unchanged" "$T/hf.before" "$HF"
    check "$f as a FIFO: nothing staged" test ! -e "$T/ksf"
done
# the stamp is the keyring's bytes, not its times: a keyring changed in
# place (same inode, same size, the old modification time put back) is not
# the keyring the key states were written for
H8="$T/home8"
trust_fixture_keys "$H8"
"$VS" --home "$H8" -q fetch "file://$PKG" >/dev/null 2>&1
expect_rc 0 "staged from the key states of keys import" "$VS" --home "$H8" -v stage agent@1.2.3 --dest "$T/ks3"
expect_err_has "keyring unchanged" "the key states were used"
python3 - "$H8/trust/gnupg/pubring.kbx" <<'PY'
import os, sys
p = sys.argv[1]
st = os.stat(p)
with open(p, "r+b") as f:  # in place: same inode, same size
    f.seek(st.st_size - 1)
    b = f.read(1)
    f.seek(st.st_size - 1)
    f.write(bytes([b[0] ^ 0x01]))
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
expect_rc 0 "a keyring changed in place: staged after asking gpg" "$VS" --home "$H8" -v stage agent@1.2.3 --dest "$T/ks3"
check "a keyring changed in place: the key states were not believed" sh -c "! grep -q 'keyring unchanged' '$T/err'"
# an RSA key file rewritten in place (same inode, folder untouched) is read
# each time, never taken from the key states: a swapped key is noticed
H9="$T/home9"
trust_fixture_keys "$H9"
"$VS" --home "$H9" -q fetch "file://$PKG" >/dev/null 2>&1
RSAF=$(ls "$H9"/trust/rsa/*.pem | head -n 1)
cat "$FIX/other-org.pub.pem" >"$RSAF"
snapshot "$H9" >"$T/h9.before"
expect_rc 6 "an RSA key file swapped in place: refused" "$VS" --home "$H9" stage agent@1.2.3 --dest "$T/ks4"
check "an RSA key file swapped in place: nothing staged" test ! -e "$T/ks4"
same_snapshot "an RSA key file swapped in place: home unchanged" "$T/h9.before" "$H9"

# a signing subkey revoked after admission: the key itself stays good, but
# the subkey that made the signature is revoked (another subkey revoked is
# no reason to refuse)
GS="$T/gsub"; mkdir -m 700 "$GS"
gq() { gpg --homedir "$GS" --batch --no-tty --quiet --pinentry-mode loopback --passphrase '' "$@"; }
revoke_sub() { # revoke_sub N: the Nth subkey (creation order), reason 0
    printf 'key %s\nrevkey\ny\n0\n\ny\nsave\n' "$1" |
        gpg --homedir "$GS" --no-tty --quiet --command-fd 0 --pinentry-mode loopback --passphrase '' --edit-key "$SP" >/dev/null 2>&1
}
gq --quick-gen-key 'Sub Signer <sub@example.test>' ed25519 cert never 2>/dev/null
SP=$(gq --with-colons --list-keys sub@example.test | awk -F: '/^fpr:/ { print $10; exit }')
gq --quick-add-key "$SP" ed25519 sign never 2>/dev/null
gq --quick-add-key "$SP" ed25519 sign never 2>/dev/null
S1=$(gq --with-colons --list-keys "$SP" | awk -F: '/^fpr:/ { n++; if (n == 2) { print $10; exit } }')
gq --armor --detach-sign -u "$S1!" -o "$T/sub.asc" "$PKG"
gq --armor --export "$SP" >"$T/sub-key.asc"
H10="$T/home10"
"$VS" --home "$H10" -q keys import "$T/sub-key.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
expect_rc 0 "fetch signed by a signing subkey" "$VS" --home "$H10" fetch "file://$PKG" --gpg-sig-url "file://$T/sub.asc"
revoke_sub 2 && gq --armor --export "$SP" >"$T/sub-rev2.asc"
expect_rc 0 "import: another subkey of the signer revoked" "$VS" --home "$H10" keys import "$T/sub-rev2.asc"
expect_rc 0 "another subkey revoked: staged" "$VS" --home "$H10" stage agent@1.2.3 --dest "$T/ks5"
revoke_sub 1 && gq --armor --export "$SP" >"$T/sub-rev1.asc"
expect_rc 0 "import: the signing subkey revoked" "$VS" --home "$H10" keys import "$T/sub-rev1.asc"
snapshot "$H10" >"$T/h10.before"
expect_rc 3 "signing subkey revoked after admission: refused" "$VS" --home "$H10" stage agent@1.2.3 --dest "$T/ks6"
expect_err_has "signer key $SP: its signing subkey $S1 has been revoked" "signing subkey revoked: names the key and the subkey"
check "signing subkey revoked: nothing staged" test ! -e "$T/ks6"
same_snapshot "signing subkey revoked: home unchanged" "$T/h10.before" "$H10"
rm -f "$H10/trust/keystate"
expect_rc 3 "signing subkey revoked, asked of gpg (no key states): refused" "$VS" --home "$H10" stage agent@1.2.3 --dest "$T/ks6"

# the signing subkey's fate is read from the signatures the cache keeps,
# whatever form they came in; what cannot be read is refused, never assumed
gqh() { _h=$1; shift; gpg --homedir "$_h" --batch --no-tty --quiet --pinentry-mode loopback --passphrase '' "$@"; }
# new_signer DIR: a certify-only key with two signing subkeys; XP, X1, X2
new_signer() {
    mkdir -m 700 "$1"
    gqh "$1" --quick-gen-key "Signer $(basename "$1") <s@example.test>" ed25519 cert never 2>/dev/null
    XP=$(gqh "$1" --with-colons --list-keys | awk -F: '/^fpr:/ { print $10; exit }')
    gqh "$1" --quick-add-key "$XP" ed25519 sign never 2>/dev/null
    gqh "$1" --quick-add-key "$XP" ed25519 sign never 2>/dev/null
    X1=$(gqh "$1" --with-colons --list-keys "$XP" | awk -F: '/^fpr:/ { n++; if (n == 2) { print $10; exit } }')
}
edit_key() { # edit_key DIR KEY COMMANDS...
    _h=$1; _k=$2; shift 2
    printf '%s\n' "$@" | gpg --homedir "$_h" --no-tty --quiet --command-fd 0 --pinentry-mode loopback --passphrase '' --edit-key "$_k" >/dev/null 2>&1
}
# a clearsigned checksum list signed by the subkey
G2="$T/gsub2"; new_signer "$G2"
(cd "$(dirname "$PKG")" && sha256sum "$(basename "$PKG")") >"$T/SUMS.txt"
gqh "$G2" --clearsign -u "$X1!" -o "$T/SUMS" "$T/SUMS.txt"
gqh "$G2" --armor --export "$XP" >"$T/k2.asc"
H12="$T/home12"
"$VS" --home "$H12" -q keys import "$T/k2.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
expect_rc 0 "fetch through a clearsigned list signed by a subkey" "$VS" --home "$H12" fetch "file://$PKG" --checksums-url "file://$T/SUMS"
edit_key "$G2" "$XP" "key 1" revkey y 0 "" y save
gqh "$G2" --armor --export "$XP" >"$T/k2-rev.asc"
"$VS" --home "$H12" -q keys import "$T/k2-rev.asc" >/dev/null 2>&1
expect_rc 3 "clearsigned list's signing subkey revoked: refused" "$VS" --home "$H12" stage agent@1.2.3 --dest "$T/ks8"
expect_err_has "its signing subkey $X1 has been revoked" "clearsigned list: names the subkey"
# a signature file gpg accepts but the re-check cannot read whole (a junk
# packet after the signature): refused, not assumed good
G3="$T/gsub3"; new_signer "$G3"
gqh "$G3" --detach-sign -u "$X1!" -o "$T/junk.sig" "$PKG"
printf '\210\003\006\000\000' >>"$T/junk.sig"
gqh "$G3" --armor --export "$XP" >"$T/k3.asc"
H13="$T/home13"
"$VS" --home "$H13" -q keys import "$T/k3.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
if "$VS" --home "$H13" -q fetch "file://$PKG" --gpg-sig-url "file://$T/junk.sig" >/dev/null 2>&1; then
    expect_rc 3 "a cached signature the re-check cannot read whole: refused" "$VS" --home "$H13" stage agent@1.2.3 --dest "$T/ks9"
    expect_err_has "cannot be read whole" "unreadable signature: says why"
else
    check "a signature with a junk packet is refused already at fetch" true
fi
# the signing subkey removed (the key re-imported without it)
G4="$T/gsub4"; new_signer "$G4"
gqh "$G4" --armor --detach-sign -u "$X1!" -o "$T/s4.asc" "$PKG"
gqh "$G4" --armor --export "$XP" >"$T/k4.asc"
H14="$T/home14"
"$VS" --home "$H14" -q keys import "$T/k4.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
expect_rc 0 "fetch signed by a subkey (to be removed)" "$VS" --home "$H14" fetch "file://$PKG" --gpg-sig-url "file://$T/s4.asc"
edit_key "$G4" "$XP" "key 1" delkey y save
gqh "$G4" --armor --export "$XP" >"$T/k4-stripped.asc"
"$VS" --home "$H14" -q keys remove "$XP" >/dev/null 2>&1
"$VS" --home "$H14" -q keys import "$T/k4-stripped.asc" >/dev/null 2>&1
expect_rc 3 "the signing subkey removed from the store: refused" "$VS" --home "$H14" stage agent@1.2.3 --dest "$T/ks10"
expect_err_has "the key that made its signature was removed" "removed subkey: says so"
# a decoy signature packet appended to the .asc, naming a good subkey only
# in its unhashed area (which no signature covers, and which gpg does not
# read for the key's name): gpg ignores it at admission (its key ID is
# unknown), and the re-check must not take the good subkey's name from it
G5="$T/gsub5"; new_signer "$G5"
X2=$(gqh "$G5" --with-colons --list-keys "$XP" | awk -F: '/^fpr:/ { n++; if (n == 3) { print $10; exit } }')
gqh "$G5" --detach-sign -u "$X1!" -o "$T/decoy.sig" "$PKG"
python3 - "$T/decoy.sig" "$X2" 0123456789ABCDEF <<'PY'
import os, sys
fpr, kid = bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
def sub(t, d):
    b = bytes([t]) + d
    return bytes([len(b)]) + b
unhashed = sub(16, kid) + sub(33, b"\x04" + fpr)
def mpi(b):
    return int.from_bytes(b, "big").bit_length().to_bytes(2, "big") + b
body = (bytes([4, 0x00, 22, 8]) + (0).to_bytes(2, "big") + len(unhashed).to_bytes(2, "big") +
        unhashed + b"\x12\x34" + mpi(b"\x7f" + os.urandom(31)) + mpi(b"\x7f" + os.urandom(31)))
open(sys.argv[1], "ab").write(bytes([0xC2, len(body)]) + body)
PY
gqh "$G5" --armor --export "$XP" >"$T/k5.asc"
H15="$T/home15"
"$VS" --home "$H15" -q keys import "$T/k5.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
expect_rc 0 "fetch with a decoy packet after the subkey's signature" "$VS" --home "$H15" fetch "file://$PKG" --gpg-sig-url "file://$T/decoy.sig"
edit_key "$G5" "$XP" "key 1" revkey y 0 "" y save
gqh "$G5" --armor --export "$XP" >"$T/k5-rev.asc"
"$VS" --home "$H15" -q keys import "$T/k5-rev.asc" >/dev/null 2>&1
expect_rc 3 "decoy naming a good subkey in the unhashed area: still refused" "$VS" --home "$H15" stage agent@1.2.3 --dest "$T/ks11"
expect_err_has "its signing subkey $X1 has been revoked" "decoy: the revoked subkey named"
# no false refusals: two armored signatures one after the other (cat a.asc
# b.asc), and armor headers other than Version and Comment
GA="$T/gka"; mkdir -m 700 "$GA"
gqh "$GA" --quick-gen-key 'Alpha <a@example.test>' ed25519 sign never 2>/dev/null
gqh "$GA" --quick-gen-key 'Beta <b@example.test>' ed25519 sign never 2>/dev/null
gqh "$GA" --armor --detach-sign -u a@example.test -o "$T/a.asc" "$PKG"
gqh "$GA" --armor --detach-sign -u b@example.test -o "$T/b.asc" "$PKG"
cat "$T/a.asc" "$T/b.asc" >"$T/ab.asc"
awk 'NR == 2 { print "Hash: SHA256"; print "Charset: UTF-8" } { print }' "$T/a.asc" >"$T/ah.asc"
gqh "$GA" --armor --export >"$T/kab.asc"
for f in ab ah; do
    HX="$T/home-$f"
    "$VS" --home "$HX" -q keys import "$T/kab.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
    expect_rc 0 "fetch with $f.asc" "$VS" --home "$HX" fetch "file://$PKG" --gpg-sig-url "file://$T/$f.asc"
    expect_rc 0 "stage with $f.asc: no false refusal" "$VS" --home "$HX" stage agent@1.2.3 --dest "$T/ks-$f"
done

# gpg opens versioned option files too: a FIFO there is refused, not waited on
mkfifo "$H14/trust/gnupg/gpg.conf-2"
rm -f "$H14/trust/keystate"
expect_rc 6 "a FIFO at gpg.conf-2: stage refuses, no hang" timeout 60 "$VS" --home "$H14" stage agent@1.2.3 --dest "$T/ks10"
expect_err_has "trust/gnupg/gpg.conf-2: not a regular file" "gpg.conf-2 FIFO: named"
expect_rc 6 "a FIFO at gpg.conf-2: keys import refuses, no hang" timeout 60 "$VS" --home "$H14" keys import "$T/k4.asc"

# gpg run on the store directly while vetstage imports (it does not take
# vetstage's lock): the import must not rename its copy of the keyring over
# the changed one (a revocation imported with gpg would be undone). gdb
# stops the import at its second keyring stamp (the one before the commit).
if command -v gdb >/dev/null 2>&1; then
    H11="$T/home11"
    "$VS" --home "$H11" -q keys import "$FIX/revoked.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
    "$VS" --home "$H11" -q fetch "file://$PKG" --gpg-sig-url "file://$PKG.revoked.asc" >/dev/null 2>&1
    cat >"$T/gdbcmds" <<EOF
set breakpoint pending on
break vs_keys_keyring_stamp
run
continue
shell gpg --homedir $H11/trust/gnupg --batch --no-tty --quiet --import $FIX/revoked.rev 2>/dev/null
continue
EOF
    gdb -q -batch -x "$T/gdbcmds" --args "$VS" --home "$H11" keys import "$FIX/other.asc" >"$T/gdb.out" 2>&1
    check "import racing gpg on the store: refused, naming the keyring" grep -q "trust/gnupg: the keyring changed while the keys were being imported" "$T/gdb.out"
    check "import racing gpg on the store: exit 1" grep -q "exited with code 01" "$T/gdb.out"
    check "import racing gpg on the store: the revocation gpg imported stays" sh -c "gpg --homedir '$H11/trust/gnupg' --with-colons --list-keys 2>/dev/null | grep -q '^pub:r:'"
    check "import racing gpg on the store: the other key was not imported" sh -c "! gpg --homedir '$H11/trust/gnupg' --with-colons --list-keys 2>/dev/null | grep -q '$(cat "$FIX/other.fpr")'"
    check "import racing gpg on the store: no scratch copy left" sh -c "! ls -d '$H11'/trust/tmp-* 2>/dev/null | grep -q ."
    expect_rc 3 "import racing gpg on the store: stage then refuses the revoked signer" "$VS" --home "$H11" stage agent@1.2.3 --dest "$T/ks7"
else
    echo "skip - gdb not installed (the import-versus-gpg race test needs it)"
fi

# a signer removed from the store after admission
H5="$T/home5"
trust_fixture_keys "$H5"
"$VS" --home "$H5" -q fetch "file://$PKG" >/dev/null 2>&1
expect_rc 0 "keys remove the vendor key" "$VS" --home "$H5" keys remove "$(cat "$FIX/vendor.fpr")"
expect_rc 3 "signer removed after admission: refused" "$VS" --home "$H5" --json stage agent@1.2.3 --dest "$T/rm"
expect_json "j['error']['subject'] == 'agent@1.2.3' and 'removed from the trust store' in j['error']['message'] and j['error']['hint']" "removed: JSON error names NAME@VERSION, reason and hint"
check "removed: nothing staged" test ! -e "$T/rm"

# a ref bound to keys (a source's `keys`) whose signer is not among them
H6="$T/home6"
trust_fixture_keys "$H6"
"$VS" --home "$H6" -q fetch "file://$PKG" >/dev/null 2>&1
python3 - "$H6/cache/refs/agent/1.2.3.json" "$(cat "$FIX/other.fpr")" <<'PY'
import json, sys
p, fpr = sys.argv[1], sys.argv[2]
j = json.load(open(p))
j["keys"] = [fpr.strip().lower()]
open(p, "w").write(json.dumps(j, indent=2) + "\n")
PY
expect_rc 3 "signer not in the ref's key binding: refused" "$VS" --home "$H6" stage agent@1.2.3 --dest "$T/bound"
expect_err_has "agent@1.2.3: signer key $(cat "$FIX/vendor.fpr") is not one of the keys its source is bound to" "binding: names NAME@VERSION and the key"
check "binding: nothing staged" test ! -e "$T/bound"

# -- kill -9 in the middle of staging a large package
mkdir -p "$T/big/bin"
head -c 100000000 /dev/urandom >"$T/big/bin/blob"
cp "$T/src/lacework-sidecar.sh" "$T/big/"
tar -C "$T/big" -cf - lacework-sidecar.sh bin | zstd -q -1 -o "$T/agent-2.0.0.tar.zst"
rm -rf "$T/big"
sign_both "$T/agent-2.0.0.tar.zst"
expect_rc 0 "fetch a 100 MB package" "$VS" --home "$H" fetch "file://$T/agent-2.0.0.tar.zst" --name agent --version 2.0.0
before=$(readlink "$D/current")
"$VS" --home "$H" -q stage agent@2.0.0 --dest "$D" >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 3000 ] && ! ls -A "$D" | grep -q '^\.vetstage-tmp-'; do sleep 0.01; i=$((i + 1)); done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check "the temporary tree had appeared before the kill" test $i -lt 3000
check "after kill -9: current still on the old version" test "$(readlink "$D/current")" = "$before"
check "after kill -9: no half version visible" test ! -e "$D/versions/2.0.0"
expect_rc 0 "after kill -9: layout check passes" "$VS" --home "$H" layout check "$D"
expect_rc 0 "the next stage succeeds" "$VS" --home "$H" stage agent@2.0.0 --dest "$D"
check "current -> 2.0.0" test "$(readlink "$D/current")" = versions/2.0.0
check "the leftover temporary tree was removed" sh -c "! ls -A '$D' | grep -q vetstage-tmp"
expect_rc 0 "2.0.0 layout intact" "$BUILD/vetstage-check" "$D"

# -- kill -9 right after the switch (the first unlinkat: removing the work
# folder and what --keep prunes): the home already records the new layout's
# digest, so `layout check` passes; before, the record came last and a kill
# here left a correct layout that layout check and render refused (exit 6)
if command -v strace >/dev/null 2>&1; then
    K="$T/killrec"
    expect_rc 0 "killrec: stage 1.2.3" "$VS" --home "$H" -q stage agent@1.2.3 --dest "$K"
    strace -f -o /dev/null -e trace=unlinkat -e inject=unlinkat:signal=SIGKILL:when=1 \
        "$VS" --home "$H" -q stage agent@1.3.0 --dest "$K" --keep 1 >/dev/null 2>&1
    check "killrec: killed after the switch (current -> 1.3.0)" test "$(readlink "$K/current")" = versions/1.3.0
    expect_rc 0 "killrec: layout check passes after the kill" "$VS" --home "$H" layout check "$K"
    expect_rc 0 "killrec: the next stage cleans up" "$VS" --home "$H" -q stage agent@1.3.0 --dest "$K" --keep 1
    check "killrec: nothing left behind" sh -c "! ls -A '$K' | grep -q vetstage-tmp"
    # -- kill -9 around the switch: the renameat calls of staging a new version
    # are the pending record, the version into versions/, current, the final
    # record; killed at the third (not switched) or the fourth (switched, not
    # recorded), the record already holds the new tree's digest as "pending",
    # so the layout, switched or not, is the one this home staged
    for when in 3 4; do
        K2="$T/killpend$when"
        expect_rc 0 "killpend$when: stage 1.2.3" "$VS" --home "$H" -q stage agent@1.2.3 --dest "$K2"
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -o /dev/null \
            -e trace=renameat -e inject=renameat:signal=SIGKILL:when=$when \
            "$VS" --home "$H" -q stage agent@1.3.0 --dest "$K2" >/dev/null 2>&1
        want=1.2.3; [ "$when" = 4 ] && want=1.3.0
        check "killpend$when: killed with current -> $want" test "$(readlink "$K2/current")" = "versions/$want"
        check "killpend$when: the record holds a pending digest" \
            sh -c "grep -l '\"dest\": \"$K2\"' '$H'/staged/*.json | xargs grep -q '\"pending\"'"
        expect_rc 0 "killpend$when: layout check passes" "$VS" --home "$H" layout check "$K2"
        expect_err_has "a stage here was interrupted" "killpend$when: layout check says a stage was interrupted"
        expect_rc 0 "killpend$when: render takes it (the digest it holds the layout to)" \
            "$VS" --home "$H" render sidecar --layout "$K2" --out "$T/killpend$when.ctx"
        expect_rc 0 "killpend$when: the rendered checker passes the layout" \
            "$BUILD/vetstage-check" --manifest-sha256 "$(sed -n 's/.*--manifest-sha256[ "=,]*\([0-9a-f]\{64\}\).*/\1/p' "$T/killpend$when.ctx/Dockerfile" | head -1)" "$K2"
        # a layout that is neither tree is still refused
        chmod u+w "$K2/current/lacework-sidecar.sh" && echo '# changed' >>"$K2/current/lacework-sidecar.sh"
        expect_rc 6 "killpend$when: a changed layout is still refused" "$VS" --home "$H" layout check "$K2"
        expect_rc 0 "killpend$when: the next stage commits" "$VS" --home "$H" -q stage agent@1.3.0 --dest "$K2"
        check "killpend$when: the final record has no pending digest" \
            sh -c "! grep -l '\"dest\": \"$K2\"' '$H'/staged/*.json | xargs grep -q '\"pending\"'"
        expect_rc 0 "killpend$when: layout check passes after it" "$VS" --home "$H" layout check "$K2"
    done
else
    skip strace "no strace: the kill-after-switch case needs its fault injection"
fi

finish
