#!/bin/sh
# tests/cli/test_images.sh - the rendered build contexts really build and run:
# buildah (vfs storage, chroot isolation) builds the sidecar, an application
# image (FROM scratch + busybox-static + a tiny app) and the embedded image;
# podman (runc, no network) runs them. Checks: the sidecar exits 0; the
# application started with --volumes-from the sidecar and the entry point and
# command of the rendered task definition prints the agent's start line before
# its own output, arguments intact; the embedded image likewise; a layout
# altered after rendering makes the sidecar (and the embedded image) fail.
# Images and containers live in a private storage under $T (no registry).
# When containers cannot run on this machine the script prints a SKIP line
# with the reason and counts nothing.
. "$(dirname "$0")/../lib.sh"

skip_images() { skip_all images "container image tests: $*"; }

BUSYBOX=""
for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then BUSYBOX=$b; break; fi
done
command -v buildah >/dev/null 2>&1 || skip_images "buildah is not installed (sh mk/deps.sh render)"
command -v podman >/dev/null 2>&1 || skip_images "podman is not installed (sh mk/deps.sh render)"
command -v runc >/dev/null 2>&1 || skip_images "runc is not installed (sh mk/deps.sh render)"
[ -n "$BUSYBOX" ] || skip_images "no static busybox (apt-get install busybox-static)"
[ -x "$BUILD/vetstage-check" ] || skip_images "$BUILD/vetstage-check is not built"

S="$T/containers"
mkdir -p "$S/root" "$S/run" "$S/tmp"
BUILDAH="buildah --root $S/root --runroot $S/run --storage-driver vfs"
PODMAN="podman --root $S/root --runroot $S/run --tmpdir $S/tmp --storage-driver vfs \
--cgroup-manager cgroupfs --events-backend file --runtime runc"
RUNOPTS="--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
_vs_containers_cleanup() {
    $PODMAN rm -af >/dev/null 2>&1
    $PODMAN volume prune -f >/dev/null 2>&1
    $BUILDAH rm --all >/dev/null 2>&1
}
at_exit _vs_containers_cleanup

bud() { # TAG CONTEXT
    $BUILDAH bud --isolation chroot --layers=false -q -t "$1" "$2" >"$T/bud.log" 2>&1
}

# ---- can containers work here at all? ------------------------------------------
mkdir -p "$T/probe"
cp "$BUSYBOX" "$T/probe/busybox"
printf 'FROM scratch\nCOPY busybox /busybox\nENTRYPOINT ["/busybox", "echo", "probe-ok"]\n' >"$T/probe/Dockerfile"
bud localhost/vs-probe:test "$T/probe" ||
    skip_images "buildah cannot build here: $(tail -1 "$T/bud.log")"
probe=$($PODMAN run --rm $RUNOPTS localhost/vs-probe:test 2>"$T/probe.err")
[ "$probe" = "probe-ok" ] || skip_images "podman cannot run containers here: $(tail -1 "$T/probe.err")"

# ---- a really staged layout --------------------------------------------------------
H="$T/home"
trust_fixture_keys "$H"
"$VS" --home "$H" -q fetch "file://$FIX/pkg/agent-1.2.3.tgz" >/dev/null 2>&1
expect_rc 0 "stage the agent" "$VS" --home "$H" -q stage agent@1.2.3 --dest "$T/lay"

if [ ! -d "$T/lay/current" ]; then
    not_ok "no staged layout (keys import, fetch or stage failed): cannot go on"
    finish
    exit 1
fi
LDIG=$(cd "$T/lay/current/.vetstage" && sha256sum MANIFEST.sha256 MODES provenance.json | sha256sum | cut -d' ' -f1)
# ---- sidecar ----------------------------------------------------------------------
expect_rc 0 "render the sidecar context" \
    "$VS" render sidecar --layout "$T/lay" --out "$T/sidecar" --checker "$BUILD/vetstage-check"
if bud localhost/vs-sidecar:test "$T/sidecar"; then ok "buildah builds the sidecar"; else
    not_ok "buildah builds the sidecar"; tail -5 "$T/bud.log"; fi
expect_rc 0 "the sidecar (FROM scratch, static checker) exits 0 on an intact layout" \
    $PODMAN run --rm $RUNOPTS localhost/vs-sidecar:test
label=$($PODMAN image inspect --format '{{index .Labels "io.vetstage.layout-digest"}}' localhost/vs-sidecar:test 2>/dev/null)
check "the sidecar image carries the layout digest label" test "$label" = "$LDIG"
label=$($PODMAN image inspect --format '{{index .Labels "io.vetstage.sha256"}}' localhost/vs-sidecar:test 2>/dev/null)
check "the sidecar image carries the package sha256 label" \
    test "$label" = "$(sha256sum <"$FIX/pkg/agent-1.2.3.tgz" | cut -d' ' -f1)"

# ---- the application image ------------------------------------------------------------
A="$T/appctx"
mkdir -p "$A/bin" "$A/app"
cp "$BUSYBOX" "$A/bin/busybox"
for applet in sh dirname cat sleep; do ln -s busybox "$A/bin/$applet"; done
cat >"$A/app/run" <<'SH'
#!/bin/sh
echo "app: started with $# arguments"
for a in "$@"; do echo "app arg: [$a]"; done
SH
chmod 0755 "$A/app/run"
cat >"$A/Dockerfile" <<'DF'
FROM scratch
COPY bin/ /bin/
COPY app/ /app/
ENTRYPOINT ["/app/run"]
CMD ["default", "two words"]
DF
if bud localhost/vs-app:test "$A"; then ok "buildah builds the application image"; else
    not_ok "buildah builds the application image"; tail -5 "$T/bud.log"; fi

# started-before CHECKNAME FILE: the agent's start line comes before the app's first line
started_before() {
    s=$(grep -n '^lacework-sidecar: agent started' "$2" | head -1 | cut -d: -f1)
    a=$(grep -n '^app: started' "$2" | head -1 | cut -d: -f1)
    if [ -n "$s" ] && [ -n "$a" ] && [ "$s" -lt "$a" ]; then ok "$1"; else
        not_ok "$1 (agent line ${s:-none}, app line ${a:-none})"; sed 's/^/    out: /' "$2" | head -8; fi
}

# ---- ECS flow: sidecar volume + the rendered entry point and command --------------------
cat >"$T/td.json" <<'JS'
{"family": "demo", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
 "cpu": "256", "memory": "512",
 "containerDefinitions": [{"name": "app", "image": "localhost/vs-app:test", "essential": true,
   "command": ["from-task", "a b", "q\"uote"]}]}
JS
SDIG=$($PODMAN image inspect --format '{{.Digest}}' localhost/vs-sidecar:test 2>/dev/null)
check "the sidecar image has a digest ($SDIG)" sh -c "echo '$SDIG' | grep -qE '^sha256:[0-9a-f]{64}\$'"
expect_rc 0 "render the task definition (sidecar by digest, layout pinned)" "$VS" render ecs-task --task-def "$T/td.json" \
    --app-container app --sidecar-image "localhost/vs-sidecar@$SDIG" --layout "$T/lay" \
    --image-entrypoint '["/app/run"]' --image-cmd '["default", "two words"]'
cp "$T/out" "$T/td-out.json"
EP=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); c=[c for c in j["containerDefinitions"] if c["name"]=="app"][0]; print(json.dumps(c["entryPoint"]))' "$T/td-out.json")
# the command, one argument per line (none of ours holds a newline)
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); c=[c for c in j["containerDefinitions"] if c["name"]=="app"][0]; print("\n".join(c["command"]))' "$T/td-out.json" >"$T/cmd.txt"

# the sidecar as the task definition runs it: its entry point and command
SEP=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); c=[c for c in j["containerDefinitions"] if c["name"]=="datacollector-sidecar"][0]; print(json.dumps(c["entryPoint"]))' "$T/td-out.json")
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); c=[c for c in j["containerDefinitions"] if c["name"]=="datacollector-sidecar"][0]; print("\n".join(c["command"]))' "$T/td-out.json" >"$T/scmd.txt"
set --
while IFS= read -r arg; do set -- "$@" "$arg"; done <"$T/scmd.txt"
check "the task pins the layout digest in the sidecar's command" test "$1 $2" = "--manifest-sha256 $LDIG"
expect_rc 0 "the sidecar container runs to success (dependsOn SUCCESS)" \
    $PODMAN run --name vs-sidecar $RUNOPTS --entrypoint "$SEP" localhost/vs-sidecar:test "$@"
# run the app with the task definition's entry point and command
set --
while IFS= read -r arg; do set -- "$@" "$arg"; done <"$T/cmd.txt"
run $PODMAN run --rm $RUNOPTS --volumes-from vs-sidecar:ro --entrypoint "$EP" localhost/vs-app:test "$@"
if [ "$RC" -eq 0 ]; then ok "application with the rendered task definition exits 0"; else
    not_ok "application with the rendered task definition: exit $RC"; sed 's/^/    /' "$T/err" | head -5; fi
cp "$T/out" "$T/ecs-run.out"
started_before "ECS flow: the agent starts before the application" "$T/ecs-run.out"
check "ECS flow: the task's command reached the app intact" \
    sh -c "grep -qxF 'app arg: [a b]' '$T/ecs-run.out' && grep -qxF 'app arg: [q\"uote]' '$T/ecs-run.out' && grep -qxF 'app: started with 3 arguments' '$T/ecs-run.out'"

# ---- embedded flow ------------------------------------------------------------------------
expect_rc 0 "render the embedded context" \
    "$VS" render embedded --layout "$T/lay" --app-image localhost/vs-app:test \
    --entrypoint '["/app/run"]' --cmd '["default", "two words"]' --out "$T/embedded" \
    --checker "$BUILD/vetstage-check"
if bud localhost/vs-embedded:test "$T/embedded"; then ok "buildah builds the embedded image"; else
    not_ok "buildah builds the embedded image"; tail -5 "$T/bud.log"; fi
run $PODMAN run --rm $RUNOPTS localhost/vs-embedded:test
if [ "$RC" -eq 0 ]; then ok "embedded image exits 0"; else
    not_ok "embedded image: exit $RC"; sed 's/^/    /' "$T/err" | head -5; fi
cp "$T/out" "$T/emb-run.out"
started_before "embedded: the agent starts before the application" "$T/emb-run.out"
check "embedded: the image's CMD reached the app intact" \
    sh -c "grep -qxF 'app arg: [two words]' '$T/emb-run.out' && grep -qxF 'app: started with 2 arguments' '$T/emb-run.out'"
run $PODMAN run --rm $RUNOPTS localhost/vs-embedded:test "x y" z
check "embedded: arguments given at run time replace CMD, intact" \
    sh -c "grep -qxF 'app arg: [x y]' '$T/out' && grep -qxF 'app: started with 2 arguments' '$T/out'"

# ---- a layout altered after rendering ------------------------------------------------------
cp -a "$T/sidecar" "$T/sidecar-bad"
echo 'echo implanted' >>"$T/sidecar-bad/layout/bin/datacollector"
if bud localhost/vs-sidecar-bad:test "$T/sidecar-bad"; then ok "buildah builds the altered sidecar"; else
    not_ok "buildah builds the altered sidecar"; fi
run $PODMAN run --rm $RUNOPTS localhost/vs-sidecar-bad:test
check "a sidecar with an altered layout exits non-zero (exit $RC)" test "$RC" -ne 0
check "the checker names the altered file" grep -q "bin/datacollector" "$T/err"
cp -a "$T/embedded" "$T/embedded-bad"
echo 'echo implanted' >>"$T/embedded-bad/layout/lacework-sidecar.sh"
bud localhost/vs-embedded-bad:test "$T/embedded-bad" >/dev/null 2>&1
run $PODMAN run --rm $RUNOPTS localhost/vs-embedded-bad:test
check "an embedded image with an altered layout exits non-zero (exit $RC)" test "$RC" -ne 0
check "... and the application never starts" sh -c "! grep -q '^app: started' '$T/out'"

# ---- a build context changed between render and build (issue 14) -----------------------
# binary, its manifest line and provenance's version changed together: the bare manifest
# check passes, the pinned digest does not
cp -a "$T/sidecar" "$T/sidecar-forged"
L="$T/sidecar-forged/layout"
echo 'echo implanted' >>"$L/bin/datacollector"
NEWSHA=$(sha256sum <"$L/bin/datacollector" | cut -d' ' -f1)
sed -i "s|^[0-9a-f]*  bin/datacollector\$|$NEWSHA  bin/datacollector|" "$L/.vetstage/MANIFEST.sha256"
sed -i 's/"version": *"1\.2\.3"/"version": "1.2.4"/' "$L/.vetstage/provenance.json"
expect_rc 0 "the forged context passes the bare manifest check" "$BUILD/vetstage-check" "$L"
if bud localhost/vs-sidecar-forged:test "$T/sidecar-forged"; then ok "buildah builds the forged sidecar"; else
    not_ok "buildah builds the forged sidecar"; fi
run $PODMAN run --rm $RUNOPTS localhost/vs-sidecar-forged:test
check "the forged sidecar refuses to start (exit $RC)" test "$RC" -eq 6
check "... naming the digest it expected" grep -q "differs from the expected $LDIG" "$T/err"
cp -a "$T/embedded" "$T/embedded-forged"
L="$T/embedded-forged/layout"
echo 'echo implanted' >>"$L/lacework-sidecar.sh"
NEWSHA=$(sha256sum <"$L/lacework-sidecar.sh" | cut -d' ' -f1)
sed -i "s|^[0-9a-f]*  lacework-sidecar.sh\$|$NEWSHA  lacework-sidecar.sh|" "$L/.vetstage/MANIFEST.sha256"
bud localhost/vs-embedded-forged:test "$T/embedded-forged" >/dev/null 2>&1
run $PODMAN run --rm $RUNOPTS localhost/vs-embedded-forged:test
check "a forged embedded image exits non-zero (exit $RC)" test "$RC" -ne 0
check "... the forged start script never runs" sh -c "! grep -q 'implanted' '$T/out'"
check "... nor the application" sh -c "! grep -q '^app: started' '$T/out'"

# ---- a non-root application image (issue 15) --------------------------------------------
N="$T/nonroot"
mkdir -p "$N/bin" "$N/app" "$N/etc"
cp "$BUSYBOX" "$N/bin/busybox"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\n' >"$N/etc/passwd"
for applet in sh dirname cat id; do ln -s busybox "$N/bin/$applet"; done
cat >"$N/app/run" <<'SH'
#!/bin/sh
echo "app: started as uid $(id -u)"
SH
chmod 0755 "$N/app/run"
printf 'FROM scratch\nCOPY bin/ /bin/\nCOPY etc/ /etc/\nCOPY app/ /app/\nUSER 1000\nENTRYPOINT ["/app/run"]\n' >"$N/Dockerfile"
if bud localhost/vs-nonroot:test "$N"; then ok "buildah builds a non-root application image"; else
    not_ok "buildah builds a non-root application image"; tail -5 "$T/bud.log"; fi
AUSER=$($PODMAN image inspect --format '{{.Config.User}}' localhost/vs-nonroot:test 2>/dev/null)
check "docker image inspect shows its user ($AUSER)" test "$AUSER" = "1000"
expect_rc 2 "embedded: a non-root image user is refused" \
    "$VS" render embedded --layout "$T/lay" --app-image localhost/vs-nonroot:test --app-user "$AUSER" \
    --entrypoint '["/app/run"]' --out "$T/emb-nonroot" --checker "$BUILD/vetstage-check"
expect_err_has "must run as root (the vendor requires it)" "the refusal says why"
check "nothing written for the refusal" test ! -e "$T/emb-nonroot"
expect_rc 0 "embedded --as-root" \
    "$VS" render embedded --layout "$T/lay" --app-image localhost/vs-nonroot:test --app-user "$AUSER" \
    --as-root --entrypoint '["/app/run"]' --out "$T/emb-nonroot" --checker "$BUILD/vetstage-check"
if bud localhost/vs-emb-nonroot:test "$T/emb-nonroot"; then ok "buildah builds the embedded image --as-root"; else
    not_ok "buildah builds the embedded image --as-root"; tail -5 "$T/bud.log"; fi
run $PODMAN run --rm $RUNOPTS localhost/vs-emb-nonroot:test
check "embedded --as-root: agent started, then the application as root (exit $RC)" \
    sh -c "test $RC -eq 0 && grep -q '^lacework-sidecar: agent started' '$T/out' && grep -qx 'app: started as uid 0' '$T/out'"
printf '{"family": "demo", "containerDefinitions": [{"name": "app", "image": "localhost/vs-nonroot:test", "user": "1000"}]}' >"$T/td-nonroot.json"
expect_rc 2 "ecs-task: a non-root application container is refused" "$VS" render ecs-task \
    --task-def "$T/td-nonroot.json" --app-container app --sidecar-image "localhost/vs-sidecar@$SDIG" \
    --image-entrypoint '["/app/run"]'
expect_rc 0 "ecs-task --as-root" "$VS" render ecs-task --task-def "$T/td-nonroot.json" \
    --app-container app --sidecar-image "localhost/vs-sidecar@$SDIG" --image-entrypoint '["/app/run"]' --as-root
cp "$T/out" "$T/td-nonroot-out.json"
EP=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); c=[c for c in j["containerDefinitions"] if c["name"]=="app"][0]; print(json.dumps(c["entryPoint"]))' "$T/td-nonroot-out.json")
TU=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); c=[c for c in j["containerDefinitions"] if c["name"]=="app"][0]; print(c["user"])' "$T/td-nonroot-out.json")
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); c=[c for c in j["containerDefinitions"] if c["name"]=="app"][0]; print("\n".join(c["command"]))' "$T/td-nonroot-out.json" >"$T/cmd.txt"
set --
while IFS= read -r arg; do set -- "$@" "$arg"; done <"$T/cmd.txt"
run $PODMAN run --rm $RUNOPTS --user "$TU" --volumes-from vs-sidecar:ro --entrypoint "$EP" localhost/vs-nonroot:test "$@"
check "ECS --as-root: the agent starts, then the application as root (exit $RC)" \
    sh -c "test $RC -eq 0 && grep -q '^lacework-sidecar: agent started' '$T/out' && grep -qx 'app: started as uid 0' '$T/out'"
run $PODMAN run --rm $RUNOPTS --volumes-from vs-sidecar:ro --entrypoint "$EP" localhost/vs-nonroot:test "$@"
check "as the image's user 1000 instead, the application reports uid 1000 (what --as-root changes)" \
    grep -qx 'app: started as uid 1000' "$T/out"

finish
