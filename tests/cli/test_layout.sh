#!/bin/sh
# tests/cli/test_layout.sh - `vetstage layout check` and the static
# `vetstage-check` give the same answers on intact and damaged layouts.
# Layouts are written here by hand (sha256sum + the documented MODES format)
# so that the check is tested independently of the stager.
. "$(dirname "$0")/../lib.sh"
CHK="$BUILD/vetstage-check"
H="$T/home"

# mk_layout DIR: a small flat layout with a file, an executable, a subfolder and a symlink
mk_layout() {
    mkdir -p "$1/bin" "$1/etc" "$1/.vetstage"
    printf '#!/bin/sh\necho hi\n' >"$1/lacework-sidecar.sh"
    printf 'agent\n' >"$1/bin/datacollector"
    printf '{"a": 1}\n' >"$1/etc/config.json"
    ln -s datacollector "$1/bin/dc"
    chmod 0755 "$1" "$1/bin" "$1/etc" "$1/lacework-sidecar.sh" "$1/bin/datacollector"
    chmod 0644 "$1/etc/config.json"
    (cd "$1" && sha256sum lacework-sidecar.sh bin/datacollector etc/config.json >.vetstage/MANIFEST.sha256)
    printf '# vetstage MODES v1\nd 0755 bin\nl 0777 bin/dc\tdatacollector\nf 0755 bin/datacollector\nd 0755 etc\nf 0644 etc/config.json\nf 0755 lacework-sidecar.sh\n' >"$1/.vetstage/MODES"
    echo '{"name": "agent"}' >"$1/.vetstage/provenance.json"
}

# both EXPECTED DESC DIR: vetstage layout check and vetstage-check agree on the exit code
both() {
    expect_rc "$1" "layout check: $2" "$VS" --home "$H" layout check "$3"
    cp "$T/err" "$T/err.vs"
    expect_rc "$1" "vetstage-check: $2" "$CHK" "$3"
}

# -- the static binary
run ldd "$CHK"
STATIC=0
if grep -q libasan "$T/out"; then
    # SAN=1: sanitizer runtimes cannot be linked statically (stage/module.mk)
    ok "sanitizer build: vetstage-check linked dynamically against libasan"
else
    check "vetstage-check is static (ldd: not a dynamic executable)" grep -q "not a dynamic executable" "$T/out" "$T/err"
    STATIC=1
fi
expect_rc 2 "vetstage-check --help is a usage error (no option passes without checking)" "$CHK" --help
expect_err_has "usage: vetstage-check [--manifest-sha256 HEX] [DIR]" "vetstage-check usage line"
expect_rc 2 "vetstage-check with two arguments" "$CHK" a b
expect_rc 0 "layout --help" "$VS" layout --help
expect_out_has "usage: vetstage layout check DIR" "layout --help text"
expect_rc 2 "layout without subcommand" "$VS" --home "$H" layout
expect_rc 2 "layout check without DIR" "$VS" --home "$H" layout check

# -- intact, flat and versioned
mk_layout "$T/flat"
(cd "$T/flat" && sha256sum -c --quiet .vetstage/MANIFEST.sha256) >/dev/null 2>&1
check "hand-made manifest passes sha256sum -c" test $? -eq 0
snapshot "$T/flat" >"$T/flat.before"
both 0 "intact flat layout" "$T/flat"
same_snapshot "layout check changes nothing" "$T/flat.before" "$T/flat"
mkdir -p "$T/ver/versions"
mk_layout "$T/ver/versions/1.2.3"
ln -s versions/1.2.3 "$T/ver/current"
both 0 "intact versioned layout (via current)" "$T/ver"
expect_rc 0 "layout check --json" "$VS" --home "$H" --json layout check "$T/ver"
expect_json 'j["ok"] is True and j["problems"] == []' "JSON: ok, no problems"

# -- damage, one kind at a time
damage() { # NAME COMMAND... : copy of the flat layout damaged by COMMAND (run inside it)
    rm -rf "$T/d-$1"; cp -a "$T/flat" "$T/d-$1"; _n=$1; shift
    (cd "$T/d-$_n" && "$@")
}
damage extra touch extra.txt
both 6 "extra file" "$T/d-extra"
expect_err_has "extra.txt: unexpected file" "extra file named"
grep -q "1 problem found" "$T/err.vs"; check "summary line last (layout check)" test $? -eq 0
check "summary is the last line" sh -c "tail -1 '$T/err.vs' | grep -q 'layout damaged: 1 problem found'"
damage extradir mkdir newdir
both 6 "extra directory" "$T/d-extradir"
expect_err_has "newdir: unexpected directory" "extra directory named"
damage extralink ln -s etc/config.json sneaky
both 6 "extra symlink" "$T/d-extralink"
damage modified sh -c 'echo evil >>bin/datacollector'
both 6 "modified file" "$T/d-modified"
expect_err_has "bin/datacollector: content differs" "modified file named"
damage mode chmod 0777 etc/config.json
both 6 "mode changed" "$T/d-mode"
expect_err_has "etc/config.json: mode 0777, recorded 0644" "mode change named"
damage missing rm etc/config.json
both 6 "missing file" "$T/d-missing"
expect_err_has "etc/config.json: missing" "missing file named"
damage relink sh -c 'rm bin/dc && ln -s ../etc/config.json bin/dc'
both 6 "symlink retargeted" "$T/d-relink"
expect_err_has "bin/dc: symbolic link target differs" "retargeted link named"
damage swap sh -c 'rm bin/datacollector && ln -s ../lacework-sidecar.sh bin/datacollector'
both 6 "file replaced by a symlink" "$T/d-swap"
damage meta sh -c 'echo x >.vetstage/notes'
both 6 "extra file in .vetstage" "$T/d-meta"
damage badman sh -c 'echo "garbage line" >>.vetstage/MANIFEST.sha256'
both 6 "damaged manifest" "$T/d-badman"
expect_err_has "MANIFEST.sha256: line 4" "damaged manifest line named"
damage escape sh -c 'echo "0000000000000000000000000000000000000000000000000000000000000000  ../../etc/passwd" >>.vetstage/MANIFEST.sha256'
both 6 "manifest naming a path outside the tree" "$T/d-escape"
damage two sh -c 'touch x y'
both 6 "two problems" "$T/d-two"
check "two problem lines + summary" test "$(wc -l <"$T/err")" -eq 3
expect_rc 6 "--json on damage" "$VS" --home "$H" --json layout check "$T/d-two"
expect_json 'j["ok"] is False and j["error"]["code"] == "integrity" and len(j["problems"]) == 2' "JSON: problems listed"
# versioned: current pointing nowhere
mkdir -p "$T/dangling"; ln -s versions/9.9 "$T/dangling/current"
both 6 "current points at a missing version" "$T/dangling"

# -- the static checker in an empty root (as in a FROM scratch image): needs root for chroot
if [ "$STATIC" = 1 ] && [ "$(id -u)" -eq 0 ] && command -v chroot >/dev/null 2>&1; then
    mkdir -p "$T/scratch/var/lib"
    cp "$CHK" "$T/scratch/vetstage-check"
    cp -a "$T/ver" "$T/scratch/var/lib/lacework-backup"
    expect_rc 0 "vetstage-check in an empty root (no /etc, /proc, /dev, libc)" chroot "$T/scratch" /vetstage-check /var/lib/lacework-backup
    echo evil >>"$T/scratch/var/lib/lacework-backup/versions/1.2.3/etc/config.json"
    expect_rc 6 "vetstage-check in an empty root: damage found" chroot "$T/scratch" /vetstage-check
    expect_err_has "vetstage-check: /var/lib/lacework-backup: etc/config.json: content differs" "default DIR and problem line"
else
    skip chroot "chroot test needs root and a static checker"
fi

# -- the layout digest: what this home staged there, or --manifest-sha256 HEX
HS="$T/home-staged"
trust_fixture_keys "$HS"
"$VS" --home "$HS" -q fetch "file://$FIX/pkg/agent-1.2.3.tgz" >/dev/null 2>&1
expect_rc 0 "stage a layout (records its digest in the home)" "$VS" --home "$HS" stage agent@1.2.3 --dest "$T/st"
digest_of() { (cd "$1/.vetstage" && sha256sum MANIFEST.sha256 MODES provenance.json | sha256sum | cut -d' ' -f1); }
D0=$(digest_of "$T/st/current")
check "the home holds one record naming the destination" sh -c "grep -l '\"digest\": \"$D0\"' '$HS'/staged/*.json | xargs grep -q '\"dest\": \"$T/st\"'"
expect_rc 0 "layout check of the staged layout" "$VS" --home "$HS" --json layout check "$T/st"
expect_json "j['ok'] and j['manifest_sha256'] == '$D0'" "layout check --json: the digest"
# a binary and its manifest line changed after stage, and provenance's version
V="$T/st/current"
echo 'echo evil' >>"$V/bin/datacollector"
NEW=$(sha256sum <"$V/bin/datacollector" | cut -d' ' -f1)
sed -i "s/^[0-9a-f]*  bin\/datacollector\$/$NEW  bin\/datacollector/" "$V/.vetstage/MANIFEST.sha256"
sed -i 's/"version": "1.2.3"/"version": "1.2.4"/' "$V/.vetstage/provenance.json"
expect_rc 0 "the tampered tree still matches its own manifest" "$CHK" "$T/st"
D1=$(digest_of "$V")
snapshot "$T/st" >"$T/st.before"
expect_rc 6 "tampered layout refused: digest differs from what this home staged" "$VS" --home "$HS" layout check "$T/st"
expect_err_has "layout digest $D1 differs from $D0 (recorded when this home staged it)" "names both digests"
expect_one_line_err "digest mismatch: one line"
same_snapshot "digest mismatch: layout unchanged" "$T/st.before" "$T/st"
expect_rc 6 "tampered layout refused with the staged digest given" "$VS" --home "$HS" layout check "$T/st" --manifest-sha256 "$D0"
expect_err_has "(given with --manifest-sha256)" "given digest named as such"
expect_rc 0 "--manifest-sha256 with the layout's own digest (staged elsewhere)" "$VS" --home "$HS" layout check "$T/st" --manifest-sha256 "$(echo "$D1" | tr a-f A-F)"
expect_rc 0 "another home never staged there: the manifest check alone" "$VS" --home "$H" layout check "$T/st"
expect_rc 2 "--manifest-sha256 that is not a digest" "$VS" --home "$HS" layout check "$T/st" --manifest-sha256 abc
expect_rc 0 "staged again: the record follows" sh -c "'$VS' --home '$HS' -q stage agent@1.2.3 --dest '$T/st' && '$VS' --home '$HS' layout check '$T/st'"
# the record folder is below the home: never followed through a symbolic link
mkdir -p "$T/elsewhere"
mv "$HS/staged" "$T/elsewhere/staged"; ln -s "$T/elsewhere/staged" "$HS/staged"
snapshot "$T/elsewhere" >"$T/else.before"
expect_rc 6 "HOME/staged a symbolic link: stage refused" "$VS" --home "$HS" stage agent@1.2.3 --dest "$T/st2"
expect_err_has "a symbolic link inside the home is refused" "symlink in the home: reason"
check "symlink in the home: nothing staged" test ! -e "$T/st2"
same_snapshot "symlink in the home: nothing written through it" "$T/else.before" "$T/elsewhere"

# -- not a layout
mkdir -p "$T/empty"
both 2 "empty directory is not a layout" "$T/empty"
expect_err_has "not a layout" "not-a-layout reason"
both 2 "absent directory" "$T/absent"

finish
