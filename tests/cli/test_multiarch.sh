#!/bin/sh
# tests/cli/test_multiarch.sh - the multi-arch sidecar (issue 14 part 2):
# an amd64 and an arm64 package (each with a real ELF datacollector, the
# arm64 one built with Debian's cross compiler) are signed, fetched and
# staged; `render sidecar` with both layouts writes CONTEXT/amd64,
# CONTEXT/arm64 and CONTEXT/build.sh; the refusals (two layouts of one
# architecture, three layouts, no --out, no arm64 checker) exit 2 and write
# nothing. Then build.sh builds both images and their manifest list with
# buildah (private vfs storage under $T); each image's checker is checked
# with `file`, the list's platforms with `buildah manifest inspect`, and the
# amd64 image runs with podman to exit 0.
# Skipped and counted when the cross compiler, the arm64 checker
# (sh mk/deps.sh cross && make) or a container runtime is missing.
. "$(dirname "$0")/../lib.sh"

CROSS_CC=${CROSS_CC:-aarch64-linux-gnu-gcc}
command -v "$CROSS_CC" >/dev/null 2>&1 ||
    skip_all cross "no arm64 cross compiler $CROSS_CC (sh mk/deps.sh cross)"
[ -x "$BUILD/arm64/vetstage-check" ] ||
    skip_all cross "$BUILD/arm64/vetstage-check is not built (sh mk/deps.sh cross && make)"
command -v file >/dev/null 2>&1 || skip_all cross "file(1) is not installed"

H="$T/home"
trust_fixture_keys "$H"

# mkpkg ARCH CC: a signed agent package whose datacollector is an ELF for ARCH
mkpkg() {
    src="$T/src-$1"
    mkdir -p "$src/bin"
    cat >"$src/lacework-sidecar.sh" <<'SH'
#!/bin/sh
here=$(dirname "$0")
"$here/bin/datacollector" &
echo "lacework-sidecar: agent started from $here"
SH
    printf '#include <stdio.h>\nint main(void) { puts("datacollector"); return 0; }\n' >"$T/dc.c"
    "$2" -static -O2 -o "$src/bin/datacollector" "$T/dc.c" || return 1
    chmod 0755 "$src/lacework-sidecar.sh" "$src/bin/datacollector"
    tar -C "$src" --owner=0 --group=0 --numeric-owner -czf "$T/agent-$1-2.0.0.tgz" \
        lacework-sidecar.sh bin || return 1
    sign_both "$T/agent-$1-2.0.0.tgz"
}
mkpkg amd64 "${CC:-cc}" && mkpkg arm64 "$CROSS_CC" || {
    not_ok "cannot make the two packages"; finish; exit 1; }
check "the arm64 package's datacollector is an aarch64 ELF" \
    sh -c "file '$T/src-arm64/bin/datacollector' | grep -q 'ARM aarch64'"

for a in amd64 arm64; do
    expect_rc 0 "fetch the $a package" "$VS" --home "$H" -q fetch "file://$T/agent-$a-2.0.0.tgz"
    expect_rc 0 "stage the $a package" "$VS" --home "$H" -q stage "agent-$a@2.0.0" --dest "$T/lay-$a"
done
if [ ! -d "$T/lay-amd64/current" ] || [ ! -d "$T/lay-arm64/current" ]; then
    not_ok "no staged layouts: cannot go on"; finish; exit 1
fi

# ---- refusals: exit 2, one line, nothing written ---------------------------------
snapshot "$T/ctx" >"$T/snap.before"
expect_rc 2 "two layouts of one architecture are refused" \
    "$VS" render sidecar --layout "$T/lay-amd64" --layout "$T/lay-amd64" --out "$T/ctx"
expect_err_has "is for amd64, and so is" "the refusal names the architecture and both layouts"
expect_err_has "hint: give one layout for amd64 and one for arm64" "the refusal gives a hint"
expect_one_line_err "the refusal is one line"
same_snapshot "nothing written for the same-architecture refusal" "$T/snap.before" "$T/ctx"
expect_rc 2 "three layouts are refused" "$VS" render sidecar --layout "$T/lay-amd64" \
    --layout "$T/lay-arm64" --layout "$T/lay-amd64" --out "$T/ctx"
expect_rc 2 "several layouts without --out are refused" \
    "$VS" render sidecar --layout "$T/lay-amd64" --layout "$T/lay-arm64"
expect_rc 2 "render embedded still takes one --layout" "$VS" render embedded \
    --layout "$T/lay-amd64" --layout "$T/lay-arm64" --app-image x --cmd '[]'
mkdir -p "$T/bin"
cp "$VS" "$T/bin/vetstage"
cp "$BUILD/vetstage-check" "$T/bin/vetstage-check"
expect_rc 2 "an arm64 layout without an arm64 checker is refused" \
    "$T/bin/vetstage" render sidecar --layout "$T/lay-amd64" --layout "$T/lay-arm64" --out "$T/ctx"
expect_err_has "mk/deps.sh cross" "the refusal says how to build the arm64 checker"
same_snapshot "nothing written without an arm64 checker" "$T/snap.before" "$T/ctx"
expect_rc 2 "a checker for the wrong machine is refused" \
    "$VS" render sidecar --layout "$T/lay-amd64" --layout "$T/lay-arm64" --out "$T/ctx" \
    --checker "$BUILD/arm64/vetstage-check"
same_snapshot "nothing written for the wrong checker" "$T/snap.before" "$T/ctx"

expect_rc 2 "--manifest-sha256 with several layouts is refused" \
    "$VS" render sidecar --layout "$T/lay-amd64" --layout "$T/lay-arm64" --out "$T/ctx" \
    --manifest-sha256 0000000000000000000000000000000000000000000000000000000000000000
# a layout changed after stage (binary and its manifest line both): the digest this home
# recorded no longer matches, refused with exit 6
expect_rc 0 "stage the arm64 package a second time" \
    "$VS" --home "$H" -q stage "agent-arm64@2.0.0" --dest "$T/lay-bad"
B="$T/lay-bad/current"
chmod -R u+w "$T/lay-bad" 2>/dev/null
printf 'tampered' >"$B/bin/datacollector"
new=$(sha256sum <"$B/bin/datacollector" | cut -d' ' -f1)
sed -i "s|^[0-9a-f]\{64\}\(  *bin/datacollector\)\$|$new\1|" "$B/.vetstage/MANIFEST.sha256"
check "the tampered manifest line matches the tampered binary" grep -q "^$new" "$B/.vetstage/MANIFEST.sha256"
snapshot "$T/ctx" >"$T/snap.before"
expect_rc 6 "a layout changed after stage is refused" \
    "$VS" --home "$H" render sidecar --layout "$T/lay-amd64" --layout "$T/lay-bad" --out "$T/ctx"
same_snapshot "nothing written for the changed layout" "$T/snap.before" "$T/ctx"

# ---- the multi-arch context ---------------------------------------------------------
expect_rc 0 "render sidecar with an arm64 and an amd64 layout" \
    "$VS" render sidecar --layout "$T/lay-arm64" --layout "$T/lay-amd64" --out "$T/ctx"
for a in amd64 arm64; do
    check "$a/ is a complete build context" test -f "$T/ctx/$a/Dockerfile" -a \
        -f "$T/ctx/$a/layout/lacework-sidecar.sh" -a -x "$T/ctx/$a/vetstage-check"
    check "$a/layout is the $a layout" cmp -s "$T/ctx/$a/layout/bin/datacollector" \
        "$T/src-$a/bin/datacollector"
done
check "amd64/vetstage-check is a static x86-64 program" sh -c \
    "file '$T/ctx/amd64/vetstage-check' | grep 'x86-64' | grep -q 'statically linked'"
check "arm64/vetstage-check is a static aarch64 program" sh -c \
    "file '$T/ctx/arm64/vetstage-check' | grep 'ARM aarch64' | grep -q 'statically linked'"
check "build.sh is executable" test -x "$T/ctx/build.sh"
check "build.sh builds with --platform and makes a manifest list" sh -c \
    "grep -q -- '--platform' '$T/ctx/build.sh' && grep -q 'manifest create' '$T/ctx/build.sh'"
"$VS" render sidecar --layout "$T/lay-amd64" --out "$T/one" >/dev/null 2>&1
check "with one layout the context is as before (no per-architecture folders)" \
    test -f "$T/one/Dockerfile" -a ! -e "$T/one/amd64" -a ! -e "$T/one/build.sh"
expect_rc 2 "a non-empty context is refused" \
    "$VS" render sidecar --layout "$T/lay-arm64" --layout "$T/lay-amd64" --out "$T/ctx"
expect_rc 0 "--json reports both architectures" \
    "$VS" --json render sidecar --layout "$T/lay-arm64" --layout "$T/lay-amd64" --out "$T/ctx2"
expect_json 'j["architectures"] == ["amd64", "arm64"] and j["context"].endswith("ctx2")' \
    "the JSON names the context and both architectures"

# ---- build both images and the manifest list -----------------------------------------
command -v buildah >/dev/null 2>&1 || { skip images "buildah is not installed (sh mk/deps.sh render)"; finish; exit $?; }
command -v podman >/dev/null 2>&1 || { skip images "podman is not installed (sh mk/deps.sh render)"; finish; exit $?; }
command -v runc >/dev/null 2>&1 || { skip images "runc is not installed (sh mk/deps.sh render)"; finish; exit $?; }
S="$T/containers"
mkdir -p "$S/root" "$S/run" "$S/tmp"
BUILDAH="buildah --root $S/root --runroot $S/run --storage-driver vfs"
PODMAN="podman --root $S/root --runroot $S/run --tmpdir $S/tmp --storage-driver vfs \
--cgroup-manager cgroupfs --events-backend file --runtime runc"
_vs_multiarch_cleanup() {
    $PODMAN rm -af >/dev/null 2>&1
    $BUILDAH rm --all >/dev/null 2>&1
}
at_exit _vs_multiarch_cleanup
IMG=localhost/vs-multi:test
if BUILDAH="$BUILDAH" BUD_OPTS="--isolation chroot --layers=false -q" \
    "$T/ctx/build.sh" "$IMG" >"$T/build.log" 2>&1; then
    ok "build.sh builds both images and the manifest list"
else
    if grep -qi 'operation not permitted\|cannot\|unshare' "$T/build.log" &&
        ! $BUILDAH images >/dev/null 2>&1; then
        skip images "buildah cannot build here: $(tail -1 "$T/build.log")"; finish; exit $?
    fi
    not_ok "build.sh builds both images and the manifest list"; tail -5 "$T/build.log" | sed 's/^/    /'
fi
$BUILDAH manifest inspect "$IMG" >"$T/list.json" 2>/dev/null
check "the manifest list has linux/amd64 and linux/arm64" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
p = sorted((x["platform"]["os"], x["platform"]["architecture"]) for x in m["manifests"])
sys.exit(0 if p == [("linux", "amd64"), ("linux", "arm64")] else 1)' "$T/list.json"
for a in amd64 arm64; do
    arch=$($BUILDAH inspect --type image --format '{{.OCIv1.Architecture}}' "$IMG-$a" 2>/dev/null)
    check "the $a image says architecture $a" test "$arch" = "$a"
    # the image's files as the registry would get them: the layer of a dir: copy
    rm -rf "$T/img-$a"
    $BUILDAH push -q "$IMG-$a" "dir:$T/img-$a" >/dev/null 2>&1
    layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][-1]["digest"].split(":")[1])' \
        "$T/img-$a/manifest.json" 2>/dev/null)
    mkdir -p "$T/x-$a"
    [ -n "$layer" ] && tar -xf "$T/img-$a/$layer" -C "$T/x-$a" vetstage-check 2>/dev/null
    cp "$T/x-$a/vetstage-check" "$T/ck-$a" 2>/dev/null
done
check "the amd64 image's checker is a static x86-64 program" sh -c \
    "file '$T/ck-amd64' | grep 'x86-64' | grep -q 'statically linked'"
check "the arm64 image's checker is a static aarch64 program" sh -c \
    "file '$T/ck-arm64' | grep 'ARM aarch64' | grep -q 'statically linked'"
RUNOPTS="--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
if $PODMAN run --rm $RUNOPTS "$IMG-amd64" >"$T/run.out" 2>"$T/run.err"; then
    ok "the amd64 sidecar runs and its checker exits 0"
elif grep -qi 'permission\|not permitted\|cgroup' "$T/run.err"; then
    skip images "podman cannot run containers here: $(tail -1 "$T/run.err")"
else
    not_ok "the amd64 sidecar runs and its checker exits 0"; tail -3 "$T/run.err" | sed 's/^/    /'
fi
finish
