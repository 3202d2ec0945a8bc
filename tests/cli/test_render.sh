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
expect_out_has 'ENTRYPOINT ["/vetstage-check", "/var/lib/lacework-backup"]' "sidecar command is the checker"
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
expect_out_has 'ENTRYPOINT ["/bin/sh", "-c", "/vetstage-check /var/lib/lacework-backup && \"$0\" && exec \"$@\"", "/var/lib/lacework-backup/lacework-sidecar.sh", "/app/run", "a b", "q\"x"]' \
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
ecs() { "$VS" render ecs-task --app-container web --sidecar-image localhost/sidecar:1 --token-secret "$ARN" "$@"; }
expect_rc 0 "ecs-task on a describe-task-definition reply" \
    ecs --task-def "$RD/describe-task-definition.json" --server-url https://api.example.test
cp "$T/out" "$T/td1.json"
expect_json '"taskDefinitionArn" not in j and "revision" not in j and "status" not in j and "requiresAttributes" not in j and "compatibilities" not in j and "registeredAt" not in j and "registeredBy" not in j' \
    "read-only fields dropped"
expect_json 'j["tags"] == [{"key": "team", "value": "shop"}] and j["family"] == "shop-web" and j["enableFaultInjection"] is False' \
    "tags and other fields kept"
expect_json '[c for c in j["containerDefinitions"] if c["name"] == "datacollector-sidecar"] == [{"name": "datacollector-sidecar", "image": "localhost/sidecar:1", "essential": False}]' \
    "sidecar container added, not essential, no ports"
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
    --sidecar-image localhost/sidecar:1 --image-entrypoint '["/usr/bin/worker"]' --image-cmd '["--default"]'
cp "$T/out" "$T/td2.json"
expect_json 'j["containerDefinitions"][0]["command"] == ["/usr/bin/worker", "--queue", "jobs"]' \
    "task command replaces the image CMD after the image entry point"
expect_rc 2 "bare task definition without the image's entry point" \
    "$VS" render ecs-task --task-def "$RD/bare-task-definition.json" --app-container worker \
    --sidecar-image localhost/sidecar:1
expect_err_has "sets no entryPoint: give the image's entry point with --image-entrypoint" "missing entry point explained"

expect_rc 2 "unknown app container" "$VS" render ecs-task --task-def "$RD/describe-task-definition.json" \
    --app-container nope --sidecar-image localhost/sidecar:1
expect_err_has "$RD/describe-task-definition.json: no container named \"nope\"" "unknown container named with the file"
expect_one_line_err "one-line message (unknown container)"
check "nothing printed for an unknown container" test ! -s "$T/out"
printf '{"family": "x", "containerDefinitions": [' >"$T/broken.json"
expect_rc 2 "malformed JSON" ecs --task-def "$T/broken.json"
expect_err_has "$T/broken.json: malformed JSON" "malformed JSON named"
expect_rc 2 "token in plain environment refused" \
    "$VS" render ecs-task --task-def "$RD/token-in-environment.json" --app-container app \
    --sidecar-image s:1 --token-secret "$ARN"
expect_err_has "LaceworkAccessToken in plain environment" "plain token refused with the reason"
expect_rc 2 "missing task definition file" ecs --task-def "$T/absent.json"
expect_err_has "$T/absent.json" "missing file named"
head -c 4194305 /dev/zero | tr '\0' ' ' >"$T/huge.json"
expect_rc 2 "task definition over VS_MAX_TASK_DEF" ecs --task-def "$T/huge.json"
expect_err_has "limit" "size limit named"
expect_rc 2 "--task-def missing" "$VS" render ecs-task --app-container web --sidecar-image s:1

expect_rc 0 "ecs-task --out FILE" ecs --task-def "$RD/describe-task-definition.json" \
    --server-url https://api.example.test --out "$T/td-out.json"
check "nothing on stdout with --out" test ! -s "$T/out"
check "--out holds the same JSON" cmp -s "$T/td-out.json" "$T/td1.json"
expect_rc 0 "ecs-task --json" "$VS" --json render ecs-task --task-def "$RD/describe-task-definition.json" \
    --app-container web --sidecar-image localhost/sidecar:1
expect_json 'j["ok"] is True and j["out"] is None and j["taskDefinition"]["family"] == "shop-web"' "JSON result"

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
    python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["taskDefinition"]))' \
        "$RD/describe-task-definition.json" >"$T/raw.json"
    if validate "$T/raw.json" 2>/dev/null; then
        not_ok "botocore: the raw describe reply should be refused (the validator must bite)"
    else
        ok "botocore refuses the unpatched describe reply (read-only fields)"
    fi
fi

finish
