#!/bin/sh
# tests/cli/test_stage_oneread.sh - stage reads the cached package once: its
# digest is computed while it is extracted, to the end of the file, and the
# hidden tree is placed only when it matched the ref. A cached object altered
# in the middle, or only in the bytes after the archive's end, is refused
# (exit 3, naming NAME@VERSION) with the home and the destination unchanged,
# for a versioned layout with a current version and for --flat. A kill -9 in
# the middle of a large stage leaves the old layout intact.
. "$(dirname "$0")/../lib.sh"
H="$T/home"
D="$T/layout"
trust_fixture_keys "$H"
PKG="$FIX/pkg/agent-1.2.3.tgz"

# refused_unchanged DESCRIPTION DIR CMD...: exit 3 with one error line naming
# the ref and the alteration; neither the home nor DIR changed
refused_unchanged() {
    _d=$1; _dir=$2; shift 2
    snapshot "$H" >"$T/ru.home"; snapshot "$_dir" >"$T/ru.dir"
    expect_rc 3 "$_d" "$@"
    expect_err_has "vetstage: agent@2.0.0: the package in the cache was altered after admission" "$_d: names NAME@VERSION"
    expect_err_has "(hint: run \`vetstage cache fsck\`" "$_d: a hint"
    expect_one_line_err "$_d: one error line"
    same_snapshot "$_d: home unchanged" "$T/ru.home" "$H"
    same_snapshot "$_d: destination unchanged" "$T/ru.dir" "$_dir"
    check "$_d: no work folder left" sh -c "! ls -A '$_dir' 2>/dev/null | grep -q vetstage-tmp"
}
# flip FILE OFFSET: invert one byte (never a no-op)
flip() {
    python3 -c "import sys; f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff])); f.close()" "$1" "$2"
}

# -- a package with bytes after the archive's end (the digest covers them)
mkdir -p "$T/src/bin" "$T/src/data"
tar -C "$T/src" -xzf "$PKG"
head -c 3000000 /dev/urandom >"$T/src/data/blob"
echo 'echo "2.0.0"' >>"$T/src/bin/datacollector"
tar -C "$T/src" -czf "$T/agent-2.0.0.tgz" lacework-sidecar.sh bin etc data
head -c 4096 /dev/zero >>"$T/agent-2.0.0.tgz"
sign_both "$T/agent-2.0.0.tgz"
expect_rc 0 "fetch agent 1.2.3" "$VS" --home "$H" fetch "file://$PKG"
expect_rc 0 "fetch agent 2.0.0 (trailing bytes after the archive)" "$VS" --home "$H" fetch "file://$T/agent-2.0.0.tgz"
expect_rc 0 "stage agent@1.2.3" "$VS" --home "$H" stage agent@1.2.3 --dest "$D"
expect_rc 0 "a package with trailing bytes stages" "$VS" --home "$H" stage agent@2.0.0 --dest "$T/good" --flat
expect_rc 0 "... and its tree checks" "$VS" --home "$H" layout check "$T/good"
SHA=$(sha256sum <"$T/agent-2.0.0.tgz" | cut -d' ' -f1)
cp "$T/good/.vetstage/provenance.json" "$T/out"
expect_json "j['sha256'] == '$SHA'" "provenance: the digest of the whole file, trailing bytes included"

OBJ=$("$VS" --home "$H" cache path agent@2.0.0 2>/dev/null)
check "cache path names the object" test -f "$OBJ"
chmod u+w "$OBJ" 2>/dev/null
cp "$OBJ" "$T/obj.orig"
SIZE=$(stat -c %s "$OBJ")

# -- altered only in the trailing bytes: the tree is built, then refused at the end
flip "$OBJ" $((SIZE - 1))
check "the trailing bytes really changed" sh -c "! cmp -s '$OBJ' '$T/obj.orig'"
refused_unchanged "altered after the archive's end (versioned)" "$D" \
    "$VS" --home "$H" stage agent@2.0.0 --dest "$D"
check "current still on 1.2.3" test "$(readlink "$D/current")" = versions/1.2.3
check "no versions/2.0.0" test ! -e "$D/versions/2.0.0"
mkdir "$T/flat"
refused_unchanged "altered after the archive's end (--flat)" "$T/flat" \
    "$VS" --home "$H" stage agent@2.0.0 --dest "$T/flat" --flat
refused_unchanged "altered after the archive's end (--flat, DIR absent)" "$T/flat-new" \
    "$VS" --home "$H" stage agent@2.0.0 --dest "$T/flat-new" --flat
cp "$T/obj.orig" "$OBJ"

# -- altered in the middle (inside the compressed stream)
flip "$OBJ" $((SIZE / 2))
refused_unchanged "altered in the middle (versioned)" "$D" \
    "$VS" --home "$H" stage agent@2.0.0 --dest "$D"
check "current still on 1.2.3 (middle)" test "$(readlink "$D/current")" = versions/1.2.3
refused_unchanged "altered in the middle (--flat)" "$T/flat" \
    "$VS" --home "$H" stage agent@2.0.0 --dest "$T/flat" --flat
cp "$T/obj.orig" "$OBJ"

# -- one byte appended, one byte cut: the size differs from the ref's
printf 'x' >>"$OBJ"
refused_unchanged "one byte appended" "$D" "$VS" --home "$H" stage agent@2.0.0 --dest "$D"
head -c $((SIZE - 1)) "$T/obj.orig" >"$OBJ"
refused_unchanged "one byte cut" "$D" "$VS" --home "$H" stage agent@2.0.0 --dest "$D"
cp "$T/obj.orig" "$OBJ"
expect_rc 0 "restored: stage agent@2.0.0" "$VS" --home "$H" stage agent@2.0.0 --dest "$D"
check "current -> 2.0.0" test "$(readlink "$D/current")" = versions/2.0.0
expect_rc 0 "layout check after the refusals" "$VS" --home "$H" layout check "$D"

# -- kill -9 while a large package is being written
mkdir -p "$T/big/bin"
head -c 120000000 /dev/urandom >"$T/big/bin/blob"
cp "$T/src/lacework-sidecar.sh" "$T/big/"
tar -C "$T/big" -czf "$T/agent-3.0.0.tgz" lacework-sidecar.sh bin
rm -rf "$T/big"
sign_both "$T/agent-3.0.0.tgz"
expect_rc 0 "fetch a 120 MB package" "$VS" --home "$H" fetch "file://$T/agent-3.0.0.tgz" --name agent --version 3.0.0
snapshot "$D" >"$T/kill.before"
"$VS" --home "$H" -q stage agent@3.0.0 --dest "$D" >/dev/null 2>&1 &
pid=$!
# wait until the hidden tree holds part of the blob (the middle of the extraction)
i=0
while [ $i -lt 3000 ]; do
    n=$(find "$D" -path '*vetstage-tmp-*/bin/blob' -size +1M 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01; i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
if [ "$n" -gt 0 ]; then
    ok "killed in the middle of writing the large file"
    check "after kill -9: current still on 2.0.0" test "$(readlink "$D/current")" = versions/2.0.0
    check "after kill -9: no versions/3.0.0" test ! -e "$D/versions/3.0.0"
    snapshot "$D" | grep -v vetstage-tmp >"$T/kill.after"
    grep -v vetstage-tmp "$T/kill.before" >"$T/kill.before2"
    check "after kill -9: the old layout is unchanged (the work folder aside)" cmp -s "$T/kill.before2" "$T/kill.after"
    expect_rc 0 "after kill -9: layout check passes" "$VS" --home "$H" layout check "$D"
else
    skip stage-kill "the stage ended before its large file was half written"
fi
expect_rc 0 "the next stage succeeds" "$VS" --home "$H" stage agent@3.0.0 --dest "$D"
check "current -> 3.0.0" test "$(readlink "$D/current")" = versions/3.0.0
check "the leftover work folder was removed" sh -c "! ls -A '$D' | grep -q vetstage-tmp"
expect_rc 0 "3.0.0 layout intact" "$BUILD/vetstage-check" "$D"
check "the staged blob is the packaged one" sh -c "cd '$D/current' && sha256sum --quiet -c .vetstage/MANIFEST.sha256"

finish
