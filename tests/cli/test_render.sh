#!/bin/sh
# tests/cli/test_render.sh - `vetstage render sidecar|embedded|ecs-task` on a
# layout made by the real pipeline (keys import, fetch file://, stage), its
# refusals (exit 6 before anything is written, exit 2 for bad task
# definitions), and rendered task definitions validated by botocore's ECS model.
. "$(dirname "$0")/../lib.sh"

H="$T/home"
RD="$ROOT/tests/render"
CHECKER="$BUILD/vetstage-check"
trust_fixture_keys "$H"
"$VS" --home "$H" -q fetch "file://$FIX/pkg/agent-1.2.3.tgz" >/dev/null 2>&1
expect_rc 0 "stage a versioned layout for the render tests" \
    "$VS" --home "$H" -q stage agent@1.2.3 --dest "$T/lay"
expect_rc 0 "stage a flat layout" "$VS" --home "$H" -q stage agent@1.2.3 --dest "$T/flat" --flat
if [ ! -d "$T/lay/current" ]; then
    not_ok "no staged layout (keys import, fetch or stage failed): cannot go on"
    finish
    exit 1
fi
PKG_SHA=$(sha256sum <"$FIX/pkg/agent-1.2.3.tgz" | cut -d' ' -f1)
VENDOR_FPR=$(cat "$FIX/vendor.fpr")

# ---- help --------------------------------------------------------------------
expect_rc 0 "render --help" "$VS" render --help
expect_out_has "render ecs-task --task-def FILE --app-container NAME --sidecar-image IMAGE" \
    "help names the ecs-task synopsis"
expect_rc 0 "render sidecar --help" "$VS" render sidecar --help
expect_rc 2 "render without a subcommand" "$VS" render
expect_rc 2 "unknown subcommand" "$VS" render nonsense
expect_err_has "unknown subcommand 'nonsense'" "unknown subcommand named"
expect_rc 2 "an option of another subcommand" "$VS" render sidecar --layout "$T/lay" --app-image x
expect_err_has "--app-image does not apply here" "misplaced option named"

# ---- sidecar -------------------------------------------------------------------
expect_rc 0 "sidecar Dockerfile to stdout" "$VS" render sidecar --layout "$T/lay"
cp "$T/out" "$T/sidecar.Dockerfile"
expect_out_has "FROM scratch" "sidecar is FROM scratch"
expect_out_has 'VOLUME ["/var/lib/lacework-backup"]' "sidecar exports the volume"
LDIG=$(cd "$T/lay/current/.vetstage" && sha256sum MANIFEST.sha256 MODES provenance.json | sha256sum | cut -d' ' -f1)
expect_out_has "ENTRYPOINT [\"/vetstage-check\", \"--manifest-sha256\", \"$LDIG\", \"/var/lib/lacework-backup\"]" "sidecar command is the checker, pinned to the layout digest"
expect_out_has "io.vetstage.layout-digest=\"$LDIG\"" "label carries the layout digest"
expect_out_has "io.vetstage.sha256=\"$PKG_SHA\"" "label carries the package sha256"
expect_out_has "$VENDOR_FPR" "label carries the vendor signer"
expect_out_has 'org.opencontainers.image.version="1.2.3"' "OCI version label"
expect_rc 0 "sidecar --json" "$VS" --json render sidecar --layout "$T/flat" --mount-path /opt/lw
expect_json 'j["ok"] is True and "VOLUME [\"/opt/lw\"]" in j["dockerfile"]' "JSON carries the Dockerfile"

expect_rc 0 "sidecar build context" "$VS" render sidecar --layout "$T/lay" --out "$T/ctx" --checker "$CHECKER"
check "context Dockerfile equals the stdout rendering" cmp -s "$T/ctx/Dockerfile" "$T/sidecar.Dockerfile"
check "context checker is the static checker" cmp -s "$T/ctx/vetstage-check" "$CHECKER"
check "context checker is executable" test -x "$T/ctx/vetstage-check"
expect_rc 0 "context layout passes the layout check" "$CHECKER" "$T/ctx/layout"
check "context layout passes sha256sum -c" sh -c "cd '$T/ctx/layout' && sha256sum -c --quiet .vetstage/MANIFEST.sha256"
check "modes preserved (755 script, 644 config)" \
    test "$(stat -c %a "$T/ctx/layout/lacework-sidecar.sh") $(stat -c %a "$T/ctx/layout/etc/config.json")" = "755 644"
check "no temporary directory left beside the context" test -z "$(ls "$T" | grep 'ctx\.tmp-')"
mkdir "$T/emptyctx"
expect_rc 0 "an empty context directory is accepted" \
    "$VS" render sidecar --layout "$T/flat" --out "$T/emptyctx/" --checker "$CHECKER"
check "empty context filled" test -f "$T/emptyctx/Dockerfile"
snapshot "$T/ctx" >"$T/snap.ctx"
expect_rc 2 "a context that is not empty is refused" \
    "$VS" render sidecar --layout "$T/lay" --out "$T/ctx" --checker "$CHECKER"
expect_err_has "$T/ctx: exists and is not empty" "refusal names the context"
same_snapshot "existing context unchanged" "$T/snap.ctx" "$T/ctx"
expect_rc 2 "a missing checker is refused" \
    "$VS" render sidecar --layout "$T/lay" --out "$T/ctx2" --checker "$T/nope"
check "nothing written without a checker" test ! -e "$T/ctx2"
expect_rc 0 "default checker: vetstage-check next to vetstage" \
    "$VS" render sidecar --layout "$T/lay" --out "$T/ctx3"
check "default checker copied" cmp -s "$T/ctx3/vetstage-check" "$CHECKER"

# ---- vetstage-check and the layout digest ------------------------------------------
# the digest as the README tells anyone to recompute it
LDIG=$(cd "$T/lay/current/.vetstage" && sha256sum MANIFEST.sha256 MODES provenance.json | sha256sum | cut -d' ' -f1)
expect_rc 0 "vetstage-check --manifest-sha256 with the layout's digest" "$CHECKER" --manifest-sha256 "$LDIG" "$T/lay"
expect_err_has "layout intact, digest $LDIG" "checker names the digest it verified"
UPPER=$(echo "$LDIG" | tr a-f A-F)
expect_rc 0 "vetstage-check --manifest-sha256=HEX (either case)" "$CHECKER" "--manifest-sha256=$UPPER" "$T/lay/current"
OTHER=$(printf '%s' "$LDIG" | sha256sum | cut -d' ' -f1)
expect_rc 6 "vetstage-check refuses another digest" "$CHECKER" --manifest-sha256 "$OTHER" "$T/lay"
expect_err_has "differs from the expected $OTHER" "refusal names the expected digest"
expect_one_line_err "one line for a digest mismatch"
for bad in --help -h --skip --force --no-check --version; do
    expect_rc 2 "vetstage-check $bad is a usage error" "$CHECKER" $bad "$T/lay"
done
expect_rc 2 "vetstage-check: a malformed digest" "$CHECKER" --manifest-sha256 xyz "$T/lay"
expect_rc 2 "vetstage-check: the digest twice" "$CHECKER" --manifest-sha256 "$LDIG" --manifest-sha256 "$LDIG" "$T/lay"
expect_rc 2 "vetstage-check: the digest without a value" "$CHECKER" --manifest-sha256
expect_rc 2 "vetstage-check: two directories" "$CHECKER" "$T/lay" "$T/flat"
cp -a "$T/flat" "$T/prov"
sed -i 's/1\.2\.3/9.9.9/' "$T/prov/.vetstage/provenance.json"
expect_rc 0 "a changed provenance passes the bare manifest check (the gap the digest closes)" "$CHECKER" "$T/prov"
FDIG=$(cd "$T/flat/.vetstage" && sha256sum MANIFEST.sha256 MODES provenance.json | sha256sum | cut -d' ' -f1)
expect_rc 6 "... and is refused with the digest of the staged layout" "$CHECKER" --manifest-sha256 "$FDIG" "$T/prov"

# ---- embedded ------------------------------------------------------------------
expect_rc 0 "embedded Dockerfile" "$VS" render embedded --layout "$T/lay" --app-image localhost/app:1 \
    --entrypoint '["/app/run", "a b", "q\"x"]' --cmd '["--port", "8080"]'
expect_out_has 'FROM scratch AS vetstage-layout' "first stage carries the layout"
expect_out_has 'FROM localhost/app:1' "final stage is the app image"
expect_out_has 'COPY --from=vetstage-layout /var/lib/lacework-backup/ /var/lib/lacework-backup/' "layout copied"
expect_out_has 'ENTRYPOINT ["/bin/sh", "-c", "/vetstage-check --manifest-sha256 '"$LDIG"' /var/lib/lacework-backup && \"$0\" && exec \"$@\"", "/var/lib/lacework-backup/lacework-sidecar.sh", "/app/run", "a b", "q\"x"]' \
    "entry point wraps the original, arguments intact"
expect_out_has 'CMD ["--port", "8080"]' "original command kept"
expect_rc 2 "embedded without --app-image" "$VS" render embedded --layout "$T/lay" --cmd '["x"]'
expect_rc 2 "embedded without entry point or command" "$VS" render embedded --layout "$T/lay" --app-image a:1
expect_err_has "--entrypoint and/or --cmd" "missing entry point explained"
expect_rc 2 "embedded with a non-array --cmd" "$VS" render embedded --layout "$T/lay" --app-image a:1 --cmd '"x"'
expect_one_line_err "one-line message for bad JSON"

# ---- refusals: exit 6 before anything is written --------------------------------
cp -a "$T/flat" "$T/noscript"
rm "$T/noscript/lacework-sidecar.sh"
expect_rc 6 "layout without the start script" \
    "$VS" render sidecar --layout "$T/noscript" --out "$T/ctx-noscript" --checker "$CHECKER"
expect_err_has "$T/noscript/lacework-sidecar.sh: start script missing" "message names the script"
expect_one_line_err "one-line message (no start script)"
check "nothing written (no start script)" test ! -e "$T/ctx-noscript"
expect_rc 6 "a start script the layout lacks (--start-script)" \
    "$VS" render embedded --layout "$T/lay" --start-script bin/agent.sh --app-image a:1 --cmd '["x"]'
expect_err_has "bin/agent.sh: start script missing" "message names the given script"

cp -a "$T/flat" "$T/altered"
echo 'echo evil' >>"$T/altered/bin/datacollector"
expect_rc 6 "altered layout (sidecar context)" \
    "$VS" render sidecar --layout "$T/altered" --out "$T/ctx-altered" --checker "$CHECKER"
expect_err_has "$T/altered/bin/datacollector: content differs from the manifest" "message names the altered file"
expect_one_line_err "one-line message (altered)"
check "nothing written (altered)" test ! -e "$T/ctx-altered"
check "no temporary directory (altered)" test -z "$(ls "$T" | grep 'ctx-altered')"
expect_rc 6 "altered layout (embedded, stdout)" \
    "$VS" render embedded --layout "$T/altered" --app-image a:1 --cmd '["x"]'
check "no Dockerfile printed for an altered layout" test ! -s "$T/out"

cp -a "$T/flat" "$T/extra"
echo extra >"$T/extra/bin/implant"
expect_rc 6 "layout with an extra file" "$VS" render sidecar --layout "$T/extra"
expect_err_has "bin/implant" "message names the extra file"
cp -a "$T/flat" "$T/chmod"
chmod 0777 "$T/chmod/etc/config.json"
expect_rc 6 "layout with a changed mode" "$VS" render sidecar --layout "$T/chmod"
expect_rc 2 "not a layout" "$VS" render sidecar --layout "$T/home"
expect_err_has "not a layout" "not a layout explained"
expect_rc 2 "bad mount path" "$VS" render sidecar --layout "$T/lay" --mount-path 'var/x'
expect_rc 2 "mount path with .." "$VS" render sidecar --layout "$T/lay" --mount-path '/var/../etc'

# ---- ecs-task -------------------------------------------------------------------
ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:lacework-token
SIDE=localhost/sidecar@sha256:1111111111111111111111111111111111111111111111111111111111111111
ecs() { "$VS" render ecs-task --app-container web --sidecar-image "$SIDE" --token-secret "$ARN" "$@"; }
expect_rc 0 "ecs-task on a describe-task-definition reply" \
    ecs --task-def "$RD/describe-task-definition.json" --server-url https://api.example.test
cp "$T/out" "$T/td1.json"
expect_json '"taskDefinitionArn" not in j and "revision" not in j and "status" not in j and "requiresAttributes" not in j and "compatibilities" not in j and "registeredAt" not in j and "registeredBy" not in j' \
    "read-only fields dropped"
expect_json 'j["tags"] == [{"key": "team", "value": "shop"}] and j["family"] == "shop-web" and j["enableFaultInjection"] is False' \
    "tags and other fields kept"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "datacollector-sidecar"] == [{"name": "datacollector-sidecar", "image": "'"$SIDE"'", "essential": False}]' \
    "sidecar container added: not essential, no ports; without a digest the image's own pinned entry point runs"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "web"][0]["entryPoint"] == ["/bin/sh", "-c", "\"$0\" && exec \"$@\"", "/var/lib/lacework-backup/lacework-sidecar.sh"]' \
    "entry point runs the start script then execs"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "web"][0]["command"] == ["/app/bin/shop-web", "--listen", ":8080", "--greeting", "hello \"world\" \u00fcn\u00efcode"]' \
    "command = original entry point + command, exactly"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "web"][0]["dependsOn"] == [{"containerName": "config-init", "condition": "COMPLETE"}, {"containerName": "datacollector-sidecar", "condition": "SUCCESS"}]' \
    "dependsOn kept and SUCCESS added"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "web"][0]["volumesFrom"] == [{"sourceContainer": "config-init", "readOnly": True}, {"sourceContainer": "datacollector-sidecar", "readOnly": True}]' \
    "volumesFrom kept and the sidecar added read-only"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "web"][0]["secrets"] == [{"name": "LaceworkAccessToken", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:lacework-token"}]' \
    "token as a secret"
expect_json 'all(e["name"] != "LaceworkAccessToken" for c in j["containerDefinitions"] for e in c.get("environment", [])) and {"name": "LaceworkServerUrl", "value": "https://api.example.test"} in [c for c in j["containerDefinitions"] if c["name"] == "web"][0]["environment"]' \
    "no token in environment; server URL added"
expect_rc 0 "ecs-task again on its own output" ecs --task-def "$T/td1.json" --server-url https://api.example.test
check "idempotent: the second run changes nothing" cmp -s "$T/out" "$T/td1.json"

expect_rc 0 "bare task definition with the image's entry point" \
    "$VS" render ecs-task --task-def "$RD/bare-task-definition.json" --app-container worker \
    --sidecar-image "$SIDE" --image-entrypoint '["/usr/bin/worker"]' --image-cmd '["--default"]'
cp "$T/out" "$T/td2.json"
expect_json 'j["containerDefinitions"][0]["command"] == ["/usr/bin/worker", "--queue", "jobs"]' \
    "task command replaces the image CMD after the image entry point"
expect_rc 2 "bare task definition without the image's entry point" \
    "$VS" render ecs-task --task-def "$RD/bare-task-definition.json" --app-container worker \
    --sidecar-image "$SIDE"
expect_err_has "sets no entryPoint: give the image's entry point with --image-entrypoint" "missing entry point explained"

expect_rc 2 "unknown app container" "$VS" render ecs-task --task-def "$RD/describe-task-definition.json" \
    --app-container nope --sidecar-image "$SIDE"
expect_err_has "$RD/describe-task-definition.json: no container named \"nope\"" "unknown container named with the file"
expect_one_line_err "one-line message (unknown container)"
check "nothing printed for an unknown container" test ! -s "$T/out"
printf '{"family": "x", "containerDefinitions": [' >"$T/broken.json"
expect_rc 2 "malformed JSON" ecs --task-def "$T/broken.json"
expect_err_has "$T/broken.json: malformed JSON" "malformed JSON named"
expect_rc 2 "token in plain environment refused" \
    "$VS" render ecs-task --task-def "$RD/token-in-environment.json" --app-container app \
    --sidecar-image s:1 --allow-tag --token-secret "$ARN"
expect_err_has "LaceworkAccessToken in plain environment" "plain token refused with the reason"
expect_rc 2 "missing task definition file" ecs --task-def "$T/absent.json"
expect_err_has "$T/absent.json" "missing file named"
head -c 4194305 /dev/zero | tr '\0' ' ' >"$T/huge.json"
expect_rc 2 "task definition over VS_MAX_TASK_DEF" ecs --task-def "$T/huge.json"
expect_err_has "limit" "size limit named"
expect_rc 2 "--task-def missing" "$VS" render ecs-task --app-container web --sidecar-image s:1 --allow-tag

expect_rc 0 "ecs-task --out FILE" ecs --task-def "$RD/describe-task-definition.json" \
    --server-url https://api.example.test --out "$T/td-out.json"
check "nothing on stdout with --out" test ! -s "$T/out"
check "--out holds the same JSON" cmp -s "$T/td-out.json" "$T/td1.json"
expect_rc 0 "ecs-task --json" "$VS" --json render ecs-task --task-def "$RD/describe-task-definition.json" \
    --app-container web --sidecar-image "$SIDE"
expect_json 'j["ok"] is True and j["out"] is None and j["taskDefinition"]["family"] == "shop-web"' "JSON result"

# ---- a hostile task definition cannot switch the gate off (issue 9) ------------------
expect_rc 0 "ecs-task on a hostile task definition" ecs --task-def "$RD/hostile-task-definition.json"
cp "$T/out" "$T/td-hostile.json"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "datacollector-sidecar"] == [{"name": "datacollector-sidecar", "image": "'"$SIDE"'", "essential": False, "memory": 64, "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/sidecar", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}}]' \
    "the sidecar is exactly ours (no --help, privileged, user, mounts, linuxParameters)"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "web"][0]["volumesFrom"] == [{"sourceContainer": "datacollector-sidecar", "readOnly": True}]' \
    "the app mounts the sidecar once, read-only"
expect_json 'all([v for v in c.get("volumesFrom", []) if v.get("sourceContainer") == "datacollector-sidecar"] in ([], [{"sourceContainer": "datacollector-sidecar", "readOnly": True}]) for c in j["containerDefinitions"])' \
    "every other container that mounts the sidecar does so once, read-only"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "web"][0]["dependsOn"] == [{"containerName": "datacollector-sidecar", "condition": "SUCCESS"}]' \
    "the app depends on the sidecar once, SUCCESS"
expect_rc 0 "ecs-task --fail-open on the hostile definition" ecs --task-def "$RD/hostile-task-definition.json" --fail-open
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "web"][0]["dependsOn"] == [{"containerName": "datacollector-sidecar", "condition": "START"}]' \
    "--fail-open: START, once"
expect_err_has "note: --fail-open" "--fail-open is said, not silent"
expect_rc 0 "ecs-task --manifest-sha256 puts the layout digest into the sidecar's command" \
    ecs --task-def "$RD/hostile-task-definition.json" --manifest-sha256 "$LDIG"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "datacollector-sidecar"][0]["command"] == ["--manifest-sha256", "'"$LDIG"'", "/var/lib/lacework-backup"]' \
    "sidecar command: --manifest-sha256 DIGEST P"
printf '%s' '{"family": "f", "containerDefinitions": [{"name": "web", "image": "i", "entryPoint": ["/x"], "mountPoints": [{"sourceVolume": "v", "containerPath": "/var/lib/lacework-backup"}]}], "volumes": [{"name": "v"}]}' >"$T/shadow.json"
expect_rc 2 "a volume of the app's own over the layout path is refused" ecs --task-def "$T/shadow.json"
expect_err_has "over the agent layout" "shadowing mount explained"

# ---- the sidecar image by digest (issue 14) -----------------------------------------
expect_rc 2 "a sidecar image by tag is refused" \
    "$VS" render ecs-task --task-def "$RD/describe-task-definition.json" --app-container web \
    --sidecar-image registry.example/lacework-sidecar:latest-sidecar
expect_err_has "not given by digest" "tag refusal explained"
expect_err_has "(hint: " "tag refusal has a hint"
expect_err_has "--allow-tag" "the hint names --allow-tag"
expect_rc 0 "... and accepted with --allow-tag" \
    "$VS" render ecs-task --task-def "$RD/describe-task-definition.json" --app-container web \
    --sidecar-image registry.example/lacework-sidecar:latest-sidecar --allow-tag
expect_rc 2 "a malformed --manifest-sha256" ecs --task-def "$RD/describe-task-definition.json" --manifest-sha256 abc

# ---- what the vendor's agent needs (issue 15) ---------------------------------------
NR="$RD/nonroot-readonly-task-definition.json"
api() { "$VS" render ecs-task --app-container api --sidecar-image "$SIDE" --token-secret "$ARN" "$@"; }
snapshot "$RD" >"$T/snap.rd"
expect_rc 2 "a non-root application container is refused" api --task-def "$NR" --out "$T/nr.json"
expect_err_has 'runs as user "1000:1000", but the agent'"'"'s start script must run as root (the vendor requires it)' "the refusal says why"
expect_err_has "(hint: add --as-root" "the hint names --as-root"
expect_one_line_err "the non-root refusal is one line, with its hint"
check "nothing written for a refusal" test ! -e "$T/nr.json"
expect_rc 0 "--as-root" api --task-def "$NR" --as-root
cp "$T/out" "$T/td-root.json"
expect_err_has "note: --as-root: the application runs as root" "--as-root is said, with the reason"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "api"][0]["user"] == "root"' "user root"
expect_json 'j["volumes"] == [{"name": "vetstage-lacework-lib"}, {"name": "vetstage-lacework-log"}] and all("host" not in v for v in j["volumes"])' \
    "read-only root file system: two task volumes without a host path"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "api"][0]["mountPoints"] == [{"sourceVolume": "vetstage-lacework-lib", "containerPath": "/var/lib/lacework", "readOnly": False}, {"sourceVolume": "vetstage-lacework-log", "containerPath": "/var/log/lacework", "readOnly": False}]' \
    "... mounted read-write where the agent writes"
expect_json 'json.loads([e for e in [c for c in j["containerDefinitions"] if c["name"] == "api"][0]["environment"] if e["name"] == "LaceworkConfig"][0]["value"]) == {"tags": {"team": "shop"}, "proxyurl": "http://proxy.internal:3128", "autoupgrade": "disable"}' \
    "LaceworkConfig merged: its keys kept, autoupgrade disabled"
expect_rc 0 "--as-root on its own output changes nothing" api --task-def "$T/td-root.json" --as-root
check "idempotent with the agent's needs" cmp -s "$T/out" "$T/td-root.json"
expect_rc 2 "--no-writable-paths refuses a read-only root file system" api --task-def "$NR" --as-root --no-writable-paths
expect_err_has "read-only root file system" "the refusal says why"
expect_err_has "(hint: " "... with a hint"
expect_rc 2 "a LaceworkConfig turning autoupgrade on is refused" \
    api --task-def "$RD/autoupgrade-on-task-definition.json"
expect_err_has "would replace itself" "the refusal says why"
expect_err_has "--allow-autoupgrade" "the hint names --allow-autoupgrade"
expect_rc 0 "... accepted with --allow-autoupgrade, untouched" \
    api --task-def "$RD/autoupgrade-on-task-definition.json" --allow-autoupgrade
expect_json 'json.loads([e for e in j["containerDefinitions"][0]["environment"] if e["name"] == "LaceworkConfig"][0]["value"])["autoupgrade"] == "enable"' \
    "--allow-autoupgrade keeps the user's setting"
same_snapshot "the input task definitions are never written" "$T/snap.rd" "$RD"

# the rendered entry point, run with stand-ins for the start script and the app
mkdir -p "$T/mnt"
cat >"$T/mnt/lacework-sidecar.sh" <<'SH'
#!/bin/sh
echo "stand-in start script"
exit "${START_RC:-0}"
SH
chmod 0755 "$T/mnt/lacework-sidecar.sh"
cat >"$T/app.sh" <<'SH'
#!/bin/sh
echo "app ran with $# arguments: $*" >"$APP_MARK"
SH
chmod 0755 "$T/app.sh"
printf '{"family": "f", "containerDefinitions": [{"name": "web", "image": "i", "entryPoint": ["%s"], "command": ["a b", "c"]}]}' "$T/app.sh" >"$T/td-run.json"
run_entry() { # TD-OUTPUT START_RC MARK
    python3 -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["containerDefinitions"] if c["name"]=="web"][0]; print("\n".join(c["entryPoint"]+c["command"]))' "$1" >"$T/argv.txt"
    set --
    while IFS= read -r a; do set -- "$@" "$a"; done <"$T/argv.txt"
    run env START_RC="$START_RC" APP_MARK="$APP_MARK" "$@"
}
if printf '%s' "$T/mnt" | grep -q '^/[A-Za-z0-9._/+-]*$'; then
    expect_rc 0 "render for the stand-ins" ecs --task-def "$T/td-run.json" --mount-path "$T/mnt"
    cp "$T/out" "$T/td-closed.json"
    expect_rc 0 "render --fail-open for the stand-ins" ecs --task-def "$T/td-run.json" --mount-path "$T/mnt" --fail-open
    cp "$T/out" "$T/td-open.json"
    START_RC=0 APP_MARK="$T/mark1"
    run_entry "$T/td-closed.json"
    check "fail-closed, start script ok: the application runs with its arguments" grep -qx 'app ran with 2 arguments: a b c' "$T/mark1"
    START_RC=3 APP_MARK="$T/mark2"
    run_entry "$T/td-closed.json"
    check "fail-closed: a failing start script keeps the application down (exit $RC)" test "$RC" -ne 0 -a ! -e "$T/mark2"
    START_RC=3 APP_MARK="$T/mark3"
    run_entry "$T/td-open.json"
    check "fail-open: a failing start script does not stop the application" grep -qx 'app ran with 2 arguments: a b c' "$T/mark3"
    expect_err_has "agent start script $T/mnt/lacework-sidecar.sh failed (exit 3); starting the application without the agent (--fail-open)" \
        "fail-open: the failure is reported"
else
    skip "running the rendered entry point: the temporary path has characters a mount path may not"
fi

# ---- the layout matches its start script (issue 15) -----------------------------------
sh "$RD/mklayout.sh" "$T/vendor" --flat
cp "$ROOT/tests/data/lacework/lacework-sidecar-5.8.sh" "$T/vendor/lacework-sidecar.sh"
chmod 0755 "$T/vendor/lacework-sidecar.sh"
remanifest() { # DIR: MANIFEST.sha256 from the files, MODES from the tree
    (cd "$1" && find . -path ./.vetstage -prune -o -type f -print | LC_ALL=C sort | sed 's|^\./||' |
        xargs sha256sum >.vetstage/MANIFEST.sha256 &&
        { echo '# vetstage MODES v1: TYPE MODE PATH[<TAB>SYMLINK-TARGET]'
          find . -path ./.vetstage -prune -o ! -name . -printf '%y 0%m %P\n' | LC_ALL=C sort -k3; } >.vetstage/MODES)
}
remanifest "$T/vendor"
expect_rc 0 "the hand-made layout is intact" "$CHECKER" "$T/vendor"
expect_rc 6 "a start script whose VERSION folder is not in the layout is refused" \
    "$VS" render sidecar --layout "$T/vendor" --out "$T/ctx-vendor" --checker "$CHECKER"
expect_err_has "$T/vendor/lacework-sidecar.sh: sets VERSION=5.8.1000.8548 but the layout has no $T/vendor/5.8.1000.8548/datacollector" \
    "the refusal names the script, the version and the missing file"
check "nothing written (VERSION folder missing)" test ! -e "$T/ctx-vendor"
mkdir "$T/vendor/5.8.1000.8548"
printf '#!/bin/sh\necho stand-in datacollector\n' >"$T/vendor/5.8.1000.8548/datacollector"
chmod 0755 "$T/vendor/5.8.1000.8548/datacollector"
remanifest "$T/vendor"
expect_rc 0 "with VERSION/datacollector in the layout it renders" \
    "$VS" render sidecar --layout "$T/vendor" --out "$T/ctx-vendor" --checker "$CHECKER"

# ---- a layout changed after stage (issue 14) -------------------------------------------
cp -a "$T/flat" "$T/tamper"
FDIG=$(cd "$T/flat/.vetstage" && sha256sum MANIFEST.sha256 MODES provenance.json | sha256sum | cut -d' ' -f1)
echo 'echo implanted' >>"$T/tamper/bin/datacollector"
NEWSHA=$(sha256sum <"$T/tamper/bin/datacollector" | cut -d' ' -f1)
sed -i "s|^[0-9a-f]*  bin/datacollector\$|$NEWSHA  bin/datacollector|" "$T/tamper/.vetstage/MANIFEST.sha256"
sed -i 's/"version": *"1\.2\.3"/"version": "1.2.4"/' "$T/tamper/.vetstage/provenance.json"
expect_rc 0 "binary + manifest line + provenance changed together pass the bare manifest check" "$CHECKER" "$T/tamper"
expect_rc 6 "render refuses the changed layout given the staged digest" \
    "$VS" render sidecar --layout "$T/tamper" --manifest-sha256 "$FDIG" --out "$T/ctx-tamper" --checker "$CHECKER"
expect_err_has "differs from the expected $FDIG" "the refusal names the expected digest"
check "nothing written (changed layout)" test ! -e "$T/ctx-tamper"
expect_rc 6 "vetstage-check refuses it with the staged digest" "$CHECKER" --manifest-sha256 "$FDIG" "$T/tamper"
expect_rc 6 "render ecs-task --layout refuses it too" \
    ecs --task-def "$RD/describe-task-definition.json" --layout "$T/tamper" --manifest-sha256 "$FDIG"
# the digest this home recorded at stage, with no --manifest-sha256
expect_rc 0 "stage a layout to change after stage" "$VS" --home "$H" -q stage agent@1.2.3 --dest "$T/lay2"
expect_rc 0 "render takes the untouched layout (its digest as recorded)" \
    "$VS" --home "$H" render sidecar --layout "$T/lay2"
L2="$T/lay2/current"
echo 'echo implanted' >>"$L2/bin/datacollector"
NEWSHA=$(sha256sum <"$L2/bin/datacollector" | cut -d' ' -f1)
sed -i "s|^[0-9a-f]*  bin/datacollector\$|$NEWSHA  bin/datacollector|" "$L2/.vetstage/MANIFEST.sha256"
sed -i 's/"version": *"1\.2\.3"/"version": "1.2.4"/' "$L2/.vetstage/provenance.json"
expect_rc 6 "render refuses a layout changed after this home staged it" \
    "$VS" --home "$H" render sidecar --layout "$T/lay2" --out "$T/ctx-lay2" --checker "$CHECKER"
expect_err_has "layout digest" "the refusal is about the layout digest"
check "nothing written (changed after stage)" test ! -e "$T/ctx-lay2"
expect_rc 6 "render ecs-task --layout refuses it too" \
    "$VS" --home "$H" render ecs-task --task-def "$RD/describe-task-definition.json" \
    --app-container web --sidecar-image "$SIDE" --layout "$T/lay2"
expect_rc 6 "and layout check" "$VS" --home "$H" layout check "$T/lay2"
expect_rc 0 "render sidecar accepts the untouched layout with its digest" \
    "$VS" render sidecar --layout "$T/flat" --manifest-sha256 "$FDIG"
expect_rc 0 "render ecs-task --layout takes the digest from the layout" \
    ecs --task-def "$RD/describe-task-definition.json" --layout "$T/lay"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "datacollector-sidecar"][0]["command"] == ["--manifest-sha256", "'"$LDIG"'", "/var/lib/lacework-backup"]' \
    "the sidecar's command pins the layout's digest"

# ---- the layout's architecture against the task's (issue 14) ------------------------------
cp -a "$T/flat" "$T/arm"
python3 -c 'import json,sys; p=sys.argv[1]; j=json.load(open(p)); j["arch"]="arm64"; json.dump(j, open(p, "w"))' \
    "$T/arm/.vetstage/provenance.json"
expect_rc 2 "an arm64 layout for an X86_64 task is refused" \
    ecs --task-def "$RD/describe-task-definition.json" --layout "$T/arm"
expect_err_has "the task runs on X86_64 (runtimePlatform.cpuArchitecture) but the layout was staged for arm64" \
    "the refusal names both architectures"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["taskDefinition"]; j["runtimePlatform"]={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}; [j.pop(k) for k in ("taskDefinitionArn","revision","status","requiresAttributes","compatibilities","registeredAt","registeredBy") if k in j]; print(json.dumps(j))' \
    "$RD/describe-task-definition.json" >"$T/td-arm.json"
expect_rc 0 "an arm64 layout for an ARM64 task" ecs --task-def "$T/td-arm.json" --layout "$T/arm"
cp "$T/out" "$T/td-arm-out.json"
cp -a "$T/flat" "$T/amd"
python3 -c 'import json,sys; p=sys.argv[1]; j=json.load(open(p)); j["arch"]="amd64"; json.dump(j, open(p, "w"))' \
    "$T/amd/.vetstage/provenance.json"
expect_rc 2 "an amd64 layout for an ARM64 task is refused" ecs --task-def "$T/td-arm.json" --layout "$T/amd"
expect_rc 0 "... and taken for an X86_64 one" ecs --task-def "$RD/describe-task-definition.json" --layout "$T/amd"

# ---- long values and deep trees (issue 9, low) -------------------------------------------
LONGMP=/$(python3 -c 'print("/".join(["mountpath"] * 50))')
expect_rc 0 "a ${#LONGMP}-byte --mount-path renders" \
    "$VS" render embedded --layout "$T/flat" --mount-path "$LONGMP" --app-image a:1 --cmd '["x"]'
expect_out_has "COPY --from=vetstage-layout $LONGMP/ $LONGMP/" "the long mount path is in the Dockerfile"
LONGIMG=registry.example.test/$(python3 -c 'print("/".join(["team"] * 200))')/app:1
expect_rc 0 "a ${#LONGIMG}-byte image reference renders" \
    "$VS" render embedded --layout "$T/flat" --app-image "$LONGIMG" --cmd '["x"]'
expect_rc 2 "a --mount-path over the limit is usage, not out of memory" \
    "$VS" render sidecar --layout "$T/flat" --mount-path "/$(python3 -c 'print("a" * 600)')"
expect_err_has "at most 512 bytes" "the limit is named"
sh "$RD/mklayout.sh" "$T/deep" --flat
DEEP=$(python3 -c 'print("/".join(["d"] * 500))')
mkdir -p "$T/deep/$DEEP"
echo deep >"$T/deep/$DEEP/f"
remanifest "$T/deep"
expect_rc 0 "a 500-level layout is intact" "$CHECKER" "$T/deep"
expect_rc 0 "render copies a 500-level layout (stage accepts it)" \
    "$VS" render sidecar --layout "$T/deep" --out "$T/ctx-deep" --checker "$CHECKER"
expect_rc 0 "... and the copy is intact" "$CHECKER" "$T/ctx-deep/layout"

# ---- botocore's ECS model accepts what we render ------------------------------------
PY=""
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import botocore.session, botocore.validate' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
    skip botocore "botocore validation: no python3 with botocore (apt-get install python3-botocore)"
else
    validate() {
        "$PY" -c '
import json, sys, botocore.session, botocore.validate
model = botocore.session.get_session().get_service_model("ecs")
shape = model.operation_model("RegisterTaskDefinition").input_shape
botocore.validate.validate_parameters(json.load(open(sys.argv[1])), shape)
' "$1"
    }
    check "botocore: describe reply rendered is a valid RegisterTaskDefinition input" validate "$T/td1.json"
    check "botocore: bare definition rendered is valid" validate "$T/td2.json"
    check "botocore: the hostile definition rendered is valid" validate "$T/td-hostile.json"
    check "botocore: --as-root, task volumes and LaceworkConfig are valid" validate "$T/td-root.json"
    check "botocore: an ARM64 task with runtimePlatform is valid" validate "$T/td-arm-out.json"
    python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["taskDefinition"]))' \
        "$RD/describe-task-definition.json" >"$T/raw.json"
    if validate "$T/raw.json" 2>/dev/null; then
        not_ok "botocore: the raw describe reply should be refused (the validator must bite)"
    else
        ok "botocore refuses the unpatched describe reply (read-only fields)"
    fi
fi

finish
