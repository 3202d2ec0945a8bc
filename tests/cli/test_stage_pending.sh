#!/bin/sh
# tests/cli/test_stage_pending.sh - review of the "pending" layout record
# (5f70e39): what a stage leaves in HOME/staged when it is refused, fails or
# is killed around its commit, and what layout check makes of hostile records
# and of a destination changed while a stage or a check runs.
#
# Failed at 5f70e39 (each names its finding in the review), fixed since:
#   restage-kill  a kill between the exchange that replaces the current
#                 version and the pending record leaves the layout refused
#   fail-switch, fail-flat  a stage that fails after the pending write
#                 leaves the home changed (the pending digest stays)
#   race-place    a tree swapped into versions/V before the home's record is
#                 written becomes the recorded one (already so before 5f70e39)
#   toctou-check  layout check files-checks one tree and digests another
#                 (already so before 5f70e39)
# Failed at 1992baf (round 2), fixed since:
#   unpend-order  a failed restage put the old record back before the old
#                 tree was back in versions/V
#   double-kill   a second interrupted stage replaced the first one's pending
#                 digest while DIR held that tree
# Not covered (older, documented): a --flat stage killed while it removes its
# work folder leaves DIR for the user to clean.
. "$(dirname "$0")/../lib.sh"
H="$T/home"
# strace: no leak sanitizer under it (it cannot run under ptrace)
traced() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace "$@"; }
command -v strace >/dev/null 2>&1 || skip_all strace "no strace: every case here needs its fault injection"
command -v python3 >/dev/null 2>&1 || skip_all python3 "no python3 to craft the unsafe archive"
trust_fixture_keys "$H"
PKG="$FIX/pkg/agent-1.2.3.tgz"
"$VS" --home "$H" -q fetch "file://$PKG" >/dev/null 2>&1
mkdir -p "$T/src"
tar -C "$T/src" -xzf "$PKG"
for v in 1.3.0 1.4.0; do
    echo "echo $v" >>"$T/src/bin/datacollector"
    tar -C "$T/src" -czf "$T/agent-$v.tgz" lacework-sidecar.sh bin etc
    sign_both "$T/agent-$v.tgz"
    expect_rc 0 "fetch agent $v" "$VS" --home "$H" -q fetch "file://$T/agent-$v.tgz"
done
# a signed package with a '..' entry: refused at extraction (exit 5)
python3 - "$T/src" "$T/agent-1.5.0.tgz" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[2], "w:gz") as t:
    for n in ("lacework-sidecar.sh", "bin", "etc"):
        t.add(sys.argv[1] + "/" + n, arcname=n)
    ti = tarfile.TarInfo("../escape.txt"); ti.size = 2
    t.addfile(ti, io.BytesIO(b"x\n"))
EOF
sign_both "$T/agent-1.5.0.tgz"
expect_rc 0 "fetch agent 1.5.0 (unsafe inside)" "$VS" --home "$H" -q fetch "file://$T/agent-1.5.0.tgz"

# record_of DIR: the home's record for DIR
record_of() { grep -l "\"dest\": \"$1\"" "$H"/staged/*.json; }
has_pending() { grep -q '"pending"' "$(record_of "$1")"; }
# self_consistent SRC DST: a copy of the tree SRC with a changed binary and a
# manifest that matches it (what someone who can write DIR can make)
self_consistent() {
    cp -a "$1" "$2" && chmod -R u+w "$2" && echo 'echo planted' >>"$2/bin/datacollector" &&
        (cd "$2" && find . -type f ! -path './.vetstage/*' | sed 's|^\./||' | LC_ALL=C sort |
            xargs sha256sum >"$T/m" && mv "$T/m" .vetstage/MANIFEST.sha256)
}

# -- refusals with a record present: the home stays byte-identical
D="$T/ref"
expect_rc 0 "ref: stage 1.3.0" "$VS" --home "$H" -q stage agent@1.3.0 --dest "$D"
F="$T/reflat"
expect_rc 0 "ref: stage 1.2.3 --flat" "$VS" --home "$H" -q stage agent@1.2.3 --dest "$F" --flat
rm -rf "$F" && mkdir "$F" # emptied: a record exists, a new flat stage may go there
refused_home_same() {
    _code=$1; _d=$2; shift 2
    snapshot "$H" >"$T/h.before"
    expect_rc "$_code" "$_d" "$@"
    same_snapshot "$_d: home byte-identical" "$T/h.before" "$H"
}
refused_home_same 7 "ref: downgrade refused" "$VS" --home "$H" stage agent@1.2.3 --dest "$D"
refused_home_same 5 "ref: unsafe archive refused" "$VS" --home "$H" stage agent@1.5.0 --dest "$D"
refused_home_same 5 "ref: unsafe archive refused (--flat)" "$VS" --home "$H" stage agent@1.5.0 --dest "$F" --flat
refused_home_same 5 "ref: --max-entries refused" "$VS" --home "$H" stage agent@1.4.0 --dest "$D" --max-entries 1
refused_home_same 2 "ref: --flat into a versioned layout" "$VS" --home "$H" stage agent@1.4.0 --dest "$D" --flat

# -- failures after the pending write (an I/O error, not a kill): the stage
# takes its tree back, so the home must not keep accepting it
sleep 1
snapshot "$H" >"$T/h.before"
traced -f -o /dev/null -e trace=renameat -e inject=renameat:error=EIO:when=3 \
    "$VS" --home "$H" -q stage agent@1.4.0 --dest "$D" >/dev/null 2>&1
check "fail-switch: current still 1.3.0" test "$(readlink "$D/current")" = versions/1.3.0
check "fail-switch: versions/1.4.0 taken back" test ! -e "$D/versions/1.4.0"
same_snapshot "fail-switch: home byte-identical after the failed stage" "$T/h.before" "$H"
snapshot "$H" >"$T/h.before"
traced -f -o /dev/null -e trace=renameat -e inject=renameat:error=EIO:when=3 \
    "$VS" --home "$H" -q stage agent@1.4.0 --dest "$F" --flat >/dev/null 2>&1
check "fail-flat: nothing moved in" test -z "$(ls -A "$F" | grep -v '^\.vetstage-tmp-')"
same_snapshot "fail-flat: home byte-identical after the failed stage" "$T/h.before" "$H"

# -- kill -9 while staging the current version again: the exchange of
# versions/V (renameat2) is the commit (current already points there); the
# renameat calls are the pending record (before the exchange), current, the
# final record. Killed at the second, the layout is the new tree and must
# pass like the other killpend cases
K="$T/restage"
expect_rc 0 "restage-kill: stage 1.3.0" "$VS" --home "$H" -q stage agent@1.3.0 --dest "$K"
sleep 1 # the new tree's provenance (verified) differs from the old one's
old=$(sha256sum <"$K/versions/1.3.0/.vetstage/provenance.json")
traced -f -o /dev/null -e trace=renameat -e inject=renameat:signal=SIGKILL:when=2 \
    "$VS" --home "$H" -q stage agent@1.3.0 --dest "$K" >/dev/null 2>&1
check "restage-kill: killed after the exchange (a new tree in versions/1.3.0)" \
    test "$(sha256sum <"$K/versions/1.3.0/.vetstage/provenance.json")" != "$old"
expect_rc 0 "restage-kill: layout check passes (the tree this home just staged)" \
    "$VS" --home "$H" layout check "$K"
expect_rc 0 "restage-kill: the next stage commits" "$VS" --home "$H" -q stage agent@1.3.0 --dest "$K"
expect_rc 0 "restage-kill: layout check after it" "$VS" --home "$H" layout check "$K"

# -- a pending digest left by a kill is one of two trees; nothing else passes
P="$T/pend"
expect_rc 0 "pend: stage 1.2.3" "$VS" --home "$H" -q stage agent@1.2.3 --dest "$P"
traced -f -o /dev/null -e trace=renameat -e inject=renameat:signal=SIGKILL:when=3 \
    "$VS" --home "$H" -q stage agent@1.3.0 --dest "$P" >/dev/null 2>&1
check "pend: the record holds a pending digest" has_pending "$P"
expect_rc 0 "pend: the old tree passes" "$VS" --home "$H" layout check "$P"
ln -sfn versions/1.3.0 "$P/current"
expect_rc 0 "pend: the pending tree passes" "$VS" --home "$H" layout check "$P"
self_consistent "$P/versions/1.3.0" "$P/versions/1.3.1"
ln -sfn versions/1.3.1 "$P/current"
expect_rc 6 "pend: a third, self-consistent tree is refused" "$VS" --home "$H" layout check "$P"
expect_rc 6 "pend: render refuses it" "$VS" --home "$H" render sidecar --layout "$P" --out "$T/pend.ctx"
ln -sfn versions/1.3.0 "$P/current"
rm -rf "$P/versions/1.3.1"

# -- hostile records: a malformed "pending" makes the record damaged (6)
R=$(record_of "$P")
cp "$R" "$T/rec"
dg=$(sed -n 's/.*"digest": "\([0-9a-f]*\)".*/\1/p' "$T/rec")
for bad in 'null' '""' '1' '["x"]' "\"${dg#?}\"" "\"${dg}0\"" "\"$dg\\u0000\""; do
    sed "s|\"digest\": \"$dg\",|\"digest\": \"$dg\", \"pending\": $bad,|" "$T/rec" >"$R.new"
    grep -v '"pending": "[0-9a-f]\{64\}",$' "$R.new" >"$R"
    expect_rc 6 "hostile: pending $bad refused as damage" "$VS" --home "$H" layout check "$P"
    expect_err_has "$R" "hostile: pending $bad: the message names the record"
    check "hostile: pending $bad: one line" test "$(grep -c . "$T/err")" -eq 1
done
sed "s|\"digest\": \"$dg\",|\"digest\": \"$dg\", \"pending\": \"$dg\", \"pending\": \"$dg\",|" \
    "$T/rec" | grep -v '"pending": "[0-9a-f]\{64\}",$' >"$R"
expect_rc 6 "hostile: a duplicate pending key is damage" "$VS" --home "$H" layout check "$P"
expect_err_has "$R" "hostile: a duplicate pending key: the message names the record"
rm -f "$R.new"
cp "$T/rec" "$R"
expect_rc 0 "hostile: the record restored passes again" "$VS" --home "$H" layout check "$P"

# -- a symbolic link planted at the record: never followed, the file it
# names outside the home unchanged, whether the stage fails or commits
L="$T/linked"
expect_rc 0 "link: stage 1.2.3" "$VS" --home "$H" -q stage agent@1.2.3 --dest "$L"
LR=$(record_of "$L")
echo "outside the home" >"$T/outside"
rm -f "$LR" && ln -s "$T/outside" "$LR"
traced -f -o /dev/null -e trace=renameat -e inject=renameat:error=EIO:when=2 \
    "$VS" --home "$H" -q stage agent@1.3.0 --dest "$L" >/dev/null 2>&1
check "link: a failed stage left the link as it was" test -L "$LR"
expect_rc 0 "link: stage 1.3.0" "$VS" --home "$H" -q stage agent@1.3.0 --dest "$L"
check "link: the record is a file of its own now" sh -c "test -f '$LR' && ! test -L '$LR'"
check "link: the file outside the home is unchanged" test "$(cat "$T/outside")" = "outside the home"
expect_rc 0 "link: layout check" "$VS" --home "$H" layout check "$L"

# -- race-place: someone who can write DIR swaps versions/V between its
# placement and the switch (strace holds the switch's renameat, the third:
# pending record, placement, current): the home records the digest of what
# it wrote, so the planted tree is refused
Q="$T/race"
expect_rc 0 "race-place: stage 1.3.0" "$VS" --home "$H" -q stage agent@1.3.0 --dest "$Q"
traced -f -o /dev/null -e trace=renameat -e inject=renameat:delay_enter=3000000:when=3 \
    "$VS" --home "$H" -q stage agent@1.4.0 --dest "$Q" >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 200 ] && [ ! -d "$Q/versions/1.4.0" ]; do sleep 0.01; i=$((i + 1)); done
self_consistent "$Q/versions/1.4.0" "$T/planted" && mv "$Q/versions/1.4.0" "$T/gone" &&
    mv "$T/planted" "$Q/versions/1.4.0"
wait $pid
check "race-place: the planted binary is current" grep -q planted "$Q/current/bin/datacollector"
expect_rc 6 "race-place: layout check refuses the planted tree" "$VS" --home "$H" layout check "$Q"

# -- toctou-check: layout check checks the files of one tree and digests
# another (strace holds it between the two; current flips in between)
C="$T/toctou"
expect_rc 0 "toctou-check: stage 1.2.3" "$VS" --home "$H" -q stage agent@1.2.3 --dest "$C"
self_consistent "$C/versions/1.2.3" "$C/versions/9.9.9"
ln -sfn versions/9.9.9 "$C/current"
expect_rc 6 "toctou-check: the planted tree alone is refused" "$VS" --home "$H" layout check "$C"
traced -f -o /dev/null -e trace=readlinkat -e inject=readlinkat:delay_enter=1500000:when=2 \
    "$VS" --home "$H" -q layout check "$C" >/dev/null 2>&1 &
pid=$!
sleep 0.7
ln -sfn versions/1.2.3 "$C/current.t" && mv -T "$C/current.t" "$C/current"
wait $pid
rc=$?
check "toctou-check: a check that read the planted files does not pass (got $rc)" test "$rc" -ne 0

# ---- round 2 (review of 1992baf). Each case below failed at 1992baf.
# -- unpend-order: a restage that fails after the exchange of versions/V puts
# the record back (vs_staged_unpend) before it exchanges the old tree back;
# killed in between (or the exchange back failing), DIR holds the new tree,
# which this home staged, and the record no longer names it: refused (6), the
# old tree already deleted with the work folder. The record must be put back
# only once DIR is back to the old tree.
for how in signal=SIGKILL error=EIO; do
    U="$T/unpend-${how%%=*}"
    expect_rc 0 "unpend-order ($how): stage 1.3.0" "$VS" --home "$H" -q stage agent@1.3.0 --dest "$U"
    sleep 1
    old=$(sha256sum <"$U/versions/1.3.0/.vetstage/provenance.json")
    # renameat: pending record, current (fails), the record put back;
    # renameat2: the exchange, the exchange back (killed / fails)
    traced -f -o /dev/null -e trace=renameat,renameat2 -e inject=renameat:error=EIO:when=2 \
        -e inject=renameat2:$how:when=2 \
        "$VS" --home "$H" -q stage agent@1.3.0 --dest "$U" >/dev/null 2>&1
    check "unpend-order ($how): DIR holds the new tree" \
        test "$(sha256sum <"$U/versions/1.3.0/.vetstage/provenance.json")" != "$old"
    expect_rc 0 "unpend-order ($how): layout check passes (the tree this home staged)" \
        "$VS" --home "$H" layout check "$U"
done

# -- double-kill: a stage killed after its switch leaves the new tree with its
# digest pending; the next stage, killed after its own pending write (before
# its placement), replaces that pending digest with its own: the layout, the
# tree the first stage switched to, is then refused although this home staged it
B="$T/dblkill"
expect_rc 0 "double-kill: stage 1.2.3" "$VS" --home "$H" -q stage agent@1.2.3 --dest "$B"
traced -f -o /dev/null -e trace=renameat -e inject=renameat:signal=SIGKILL:when=4 \
    "$VS" --home "$H" -q stage agent@1.3.0 --dest "$B" >/dev/null 2>&1
check "double-kill: first kill after the switch" test "$(readlink "$B/current")" = versions/1.3.0
expect_rc 0 "double-kill: layout check passes after the first kill" "$VS" --home "$H" layout check "$B"
traced -f -o /dev/null -e trace=renameat -e inject=renameat:signal=SIGKILL:when=2 \
    "$VS" --home "$H" -q stage agent@1.4.0 --dest "$B" >/dev/null 2>&1
check "double-kill: second kill before its placement" test "$(readlink "$B/current")" = versions/1.3.0
expect_rc 0 "double-kill: layout check passes after the second kill (1.3.0 as staged)" \
    "$VS" --home "$H" layout check "$B"

finish
