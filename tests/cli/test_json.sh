#!/bin/sh
# tests/cli/test_json.sh - every command's --json output, on success and on a
# refusal, against one schema file (tests/data/schema/vetstage-output.schema.json):
# "schema": 1, "ok", the error object (code, message, subject, hint), one
# key name per concept. Plus the keys each command must carry.
. "$(dirname "$0")/../lib.sh"

SCHEMA="$DATA/schema/vetstage-output.schema.json"
PY=""
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import jsonschema' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || skip_all jsonschema "no python3 with jsonschema (apt-get install python3-jsonschema)"

# js DESC CODE EXPR ARGS...: vetstage --json ARGS exits CODE, prints one object
# valid against the schema, and EXPR (python, j = the object) holds
js() {
    _d=$1; _c=$2; _e=$3; shift 3
    run "$VS" --json "$@"
    if [ "$RC" -ne "$_c" ]; then
        not_ok "$_d: expected exit $_c, got $RC"; sed 's/^/    stderr: /' "$T/err" | head -3; return
    fi
    if "$PY" - "$SCHEMA" "$T/out" "$_e" <<'PYEOF' >"$T/why" 2>&1; then ok "$_d"; else not_ok "$_d: $(head -3 "$T/why" | tr '\n' ' ')"; fi
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
dec = json.JSONDecoder()
j, end = dec.raw_decode(text.lstrip())
if text.lstrip()[end:].strip():
    sys.exit("more than one JSON value on stdout")
errs = sorted(jsonschema.Draft202012Validator(schema).iter_errors(j), key=lambda e: list(e.path))
for e in errs[:3]:
    print("/".join(map(str, e.path)) or "(top)", ":", e.message[:200])
if errs:
    sys.exit(1)
try:
    good = eval(sys.argv[3], {"j": j})
except (KeyError, IndexError, TypeError) as e:
    sys.exit("missing key %r in %s" % (e.args[0] if e.args else e, json.dumps(j)[:300]))
if not good:
    sys.exit("expectation failed: %s in %s" % (sys.argv[3], json.dumps(j)[:300]))
PYEOF
}

H="$T/home"
W="$T/www"
mkdir -p "$W"
cp "$FIX/pkg/agent-1.2.3.tgz" "$FIX/pkg/agent-1.2.3.tgz.asc" "$FIX/pkg/agent-1.2.3.tgz.sig" "$W/"
SUM=$(sha256sum "$W/agent-1.2.3.tgz" | cut -d' ' -f1)

js "--version" 0 "j['ok'] and j['version']" --version
js "keys import" 0 "j['ok']" --home "$H" keys import "$FIX/vendor.asc" "$FIX/org.pub.pem"
js "keys import: garbage refused" 2 "not j['ok'] and j['error']['code'] == 'usage' and j['error'].get('subject')" --home "$H" keys import /etc/hostname
js "keys list" 0 "j['ok'] and j['keys'] and all('fingerprint' in k for k in j['keys'])" --home "$H" keys list
js "verify: trusted" 0 "j['ok'] and j['verdict'] == 'trusted' and j['sha256'] == '$SUM' and j['package'] and j['signatures']" --home "$H" verify "$W/agent-1.2.3.tgz"
cp "$W/agent-1.2.3.tgz" "$T/tampered-1.2.3.tgz"; printf x >>"$T/tampered-1.2.3.tgz"
cp "$W/agent-1.2.3.tgz.asc" "$T/tampered-1.2.3.tgz.asc"; cp "$W/agent-1.2.3.tgz.sig" "$T/tampered-1.2.3.tgz.sig"
js "verify: rejected" 3 "not j['ok'] and j['error']['code'] == 'verify' and j['verdict'] == 'rejected'" --home "$H" verify "$T/tampered-1.2.3.tgz"
js "verify: missing file" 2 "not j['ok'] and j['error']['subject']" --home "$H" verify "$T/absent.tgz"
js "fetch" 0 "j['ok'] and j['name'] == 'agent' and j['version'] == '1.2.3' and j['sha256'] == '$SUM'" --home "$H" fetch "file://$W/agent-1.2.3.tgz"
js "fetch: already present" 0 "j['ok'] and j['sha256'] == '$SUM'" --home "$H" fetch "file://$W/agent-1.2.3.tgz"
js "fetch: bad scheme" 2 "not j['ok'] and j['error']['code'] == 'usage'" --home "$H" fetch "ftp://127.0.0.1/agent-1.2.3.tgz"
js "cache list" 0 "j['ok'] and j['entries'][0]['name'] == 'agent' and j['entries'][0]['sha256'] == '$SUM'" --home "$H" cache list
js "cache show" 0 "j['ok'] and j['name'] == 'agent' and j['version'] == '1.2.3' and j['sha256'] == '$SUM'" --home "$H" cache show agent@1.2.3
js "cache show: not in the cache" 2 "not j['ok'] and j['error']['subject']" --home "$H" cache show agent@9.9.9
js "cache path" 0 "j['ok'] and j['path']" --home "$H" cache path agent@1.2.3
js "cache fsck" 0 "j['ok']" --home "$H" cache fsck
js "stage" 0 "j['ok'] and j['name'] == 'agent' and j['version'] == '1.2.3' and j['sha256'] == '$SUM'" --home "$H" stage agent@1.2.3 --dest "$T/layout"
js "stage: not in the cache" 2 "not j['ok']" --home "$H" stage agent@9.9.9 --dest "$T/layout2"
js "layout check" 0 "j['ok']" --home "$H" layout check "$T/layout"
js "layout check: not a layout" 2 "not j['ok'] and j['error']['subject']" --home "$H" layout check "$T"
js "pull" 0 "j['ok'] and j['name'] == 'agent' and j['sha256'] == '$SUM'" --home "$H" pull "file://$W/agent-1.2.3.tgz" --dest "$T/layout3"
js "render sidecar" 0 "j['ok']" --home "$H" render sidecar --layout "$T/layout" --out "$T/ctx"
js "render: no layout" 2 "not j['ok']" --home "$H" render sidecar --layout "$T/nolayout"
# errors carry their subject: the file, FILE:LINE, the directory (issue 10)
js "render: no layout names it" 2 "not j['ok'] and j['error']['subject'].endswith('/nolayout')" --home "$H" render sidecar --layout "$T/nolayout" --out "$T/ctx-none"
printf '{"containerDefinitions": 1}\n' >"$T/bad-td.json"
js "render ecs-task: the task definition is the subject" 2 "not j['ok'] and j['error']['subject'].endswith('bad-td.json') and j['error']['message'].startswith(j['error']['subject'] + ': ')" --home "$H" render ecs-task --task-def "$T/bad-td.json" --app-container app --sidecar-image sidecar:1 --allow-tag --layout "$T/layout"
printf '[source agent]\nurl = https://example.com/{name}-{version}.tgz\nretries = many\n' >"$T/bad.conf"
js "source: FILE:LINE is the subject" 2 "not j['ok'] and j['error']['subject'] == '$T/bad.conf:3'" --home "$H" --config "$T/bad.conf" fetch agent@1.2.3
printf 'https://127.0.0.1/a.tgz\nhttps://127.0.0.1/b c.tgz\n' >"$T/bad.list"
js "mirror: LIST:LINE is the subject" 2 "not j['ok'] and j['error']['subject'] == '$T/bad.list:2'" --home "$H" mirror sync "$T/bad.list" --dest "$T/m-none"
js "mirror export" 0 "j['ok']" --home "$H" mirror export agent@1.2.3 --out "$T/bundle.tar.gz"
trust_fixture_keys "$T/home2"
js "mirror import" 0 "j['ok']" --home "$T/home2" mirror import "$T/bundle.tar.gz"
js "cache gc" 0 "j['ok']" --home "$H" cache gc
js "render sidecar --force" 0 "j['ok'] and j['context']" --home "$H" render sidecar --layout "$T/layout" --out "$T/ctx" --force
js "render sidecar: a rendered context without --force" 2 "not j['ok'] and j['error']['code'] == 'usage' and '--force' in j['error']['hint']" --home "$H" render sidecar --layout "$T/layout" --out "$T/ctx"
js "render embedded" 0 "j['ok'] and 'FROM app:1' in j['dockerfile']" --home "$H" render embedded --layout "$T/layout" --app-image app:1 --entrypoint '["/app/server"]' --cmd '[]'
js "render embedded: a bare entry point" 2 "not j['ok'] and j['error']['subject'] == '--entrypoint' and j['error']['hint'].startswith('give the array form')" --home "$H" render embedded --layout "$T/layout" --app-image app:1 --entrypoint /app/server
SIDE=localhost/sidecar@sha256:1111111111111111111111111111111111111111111111111111111111111111
js "render ecs-task" 0 "j['ok']" --home "$H" render ecs-task --task-def "$ROOT/tests/render/describe-task-definition.json" --app-container web --sidecar-image "$SIDE" --out "$T/task.json"
js "render ecs-task: an unknown container" 2 "not j['ok'] and j['error']['hint'].startswith('the containers are: ')" --home "$H" render ecs-task --task-def "$ROOT/tests/render/describe-task-definition.json" --app-container nope --sidecar-image "$SIDE"
printf 'file://%s/agent-1.2.3.tgz\n' "$W" >"$T/list"
js "mirror sync" 0 "j['ok'] and j['items'][0]['sha256'] == '$SUM' and j['succeeded'] == 1" --home "$H" mirror sync "$T/list" --dest "$T/mirror"
js "mirror sync: no list" 2 "not j['ok'] and j['error']['code'] == 'usage'" --home "$H" mirror sync "$T/nolist" --dest "$T/mirror"
js "mirror import: already present" 0 "j['ok'] and j['items'][0]['already'] is True" --home "$T/home2" mirror import "$T/bundle.tar.gz"
js "mirror export: --out a directory" 2 "not j['ok'] and j['error']['subject'] == '$T/mirror'" --home "$H" mirror export agent@1.2.3 --out "$T/mirror"
js "cache rm" 0 "j['ok']" --home "$T/home2" cache rm agent@1.2.3
js "keys remove" 0 "j['ok']" --home "$T/home2" keys remove "$(cat "$FIX/vendor.fpr")"
js "keys remove: unknown key" 2 "not j['ok'] and j['error']['subject']" --home "$T/home2" keys remove 0000000000000000000000000000000000000000
js "unknown command: hint" 2 "not j['ok'] and 'verify' in j['error']['hint']" --home "$H" verfy
js "-q with -v" 2 "not j['ok']" -q -v --home "$H" cache list
js "read-only command on an absent home" 2 "not j['ok'] and j['error']['subject'].endswith('absent-home')" --home "$T/absent-home" cache list
check "the read-only command created nothing" test ! -e "$T/absent-home"

finish
