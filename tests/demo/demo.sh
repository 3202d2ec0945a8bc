#!/bin/sh
# tests/demo/demo.sh - `make demo`: the main job on a built-in demo release.
#
# Makes a demo vendor (OpenPGP key, organisation RSA key, a signed agent
# release with bin/datacollector and lacework-sidecar.sh) with the real gpg,
# openssl and tar, serves it over HTTPS from a loopback nginx with a CA made
# here, trusts the two keys, and runs `vetstage pull` into a demo volume.
# Everything lives under BUILD/demo: never the user's home or ~/.gnupg.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
VS="$BUILD/vetstage"
DEMO="$BUILD/demo"

rm -rf "$DEMO"
mkdir -p "$DEMO/run" "$DEMO/release"
T="$DEMO/run"
_hooks=""
at_exit() { _hooks="$_hooks $1"; }
trap 'for h in $_hooks; do "$h" || true; done' EXIT
export VETSTAGE_HOME="$DEMO/home"
export GNUPGHOME="$DEMO/run/no-gnupg" # nothing here may touch ~/.gnupg

step() { printf '\n== %s\n' "$*" >&2; }

step "1. a demo vendor: keys and a signed agent release (gpg, openssl, tar)"
sh "$ROOT/tests/fixtures/mkfixtures.sh" "$DEMO/vendor" >/dev/null 2>&1
V="$DEMO/vendor"
cp "$V/pkg/agent-1.2.3.tgz" "$V/pkg/agent-1.2.3.tgz.asc" "$V/pkg/agent-1.2.3.tgz.sig" "$DEMO/release/"
tar -tzvf "$DEMO/release/agent-1.2.3.tgz" >&2

step "2. serve the release from nginx on 127.0.0.1 (HTTPS, CA made for the demo)"
. "$ROOT/tests/nginx.sh"
nginx_start "$DEMO/release"
URL="$NGINX_HTTPS/agent-1.2.3.tgz"
echo "release at $URL" >&2

step "3. pin the vendor's OpenPGP key and the organisation's RSA release-approval key"
"$VS" keys import --expect-fingerprint "$(cat "$V/vendor.fpr")" "$V/vendor.asc"
"$VS" keys import --rsa-scheme pkcs1-sha256 "$V/org.pub.pem"
"$VS" keys list

step "4. vetstage pull: fetch, verify both signatures, cache, stage"
"$VS" pull "$URL" --cacert "$NGINX_CA" --dest "$DEMO/volume"

step "5. the staged layout"
(cd "$DEMO/volume" && find . | LC_ALL=C sort) >&2
step "6. the manifest check (vetstage layout check, and sha256sum -c)"
"$VS" layout check "$DEMO/volume"
(cd "$DEMO/volume/current" && sha256sum -c --quiet .vetstage/MANIFEST.sha256) && echo "sha256sum -c: OK" >&2

step "7. the build flows: a sidecar image context and the ECS task definition"
"$VS" render sidecar --layout "$DEMO/volume" --out "$DEMO/sidecar-context"
ls -l "$DEMO/sidecar-context" >&2
cat "$DEMO/sidecar-context/Dockerfile" >&2
# the sidecar image by digest (what `buildah push --digestfile` writes; a placeholder here),
# and the layout it carries, whose digest the sidecar's checker then requires
"$VS" render ecs-task --task-def "$ROOT/tests/render/describe-task-definition.json" \
    --layout "$DEMO/volume" \
    --app-container web \
    --sidecar-image registry.example/lacework-sidecar@sha256:5d41402abc4b2a76b9719d911017c592ae1e0b7e1b6b3d0b5b5a5e1c6b8c9d0e \
    --token-secret arn:aws:secretsmanager:us-east-1:123456789012:secret:lacework-token \
    --out "$DEMO/task-definition.json"
python3 -c "import json,sys; t=json.load(open(sys.argv[1])); \
c={x['name']: x for x in t['containerDefinitions']}; \
print('web entryPoint:', c['web']['entryPoint']); print('web command:', c['web']['command']); \
print('web dependsOn:', c['web']['dependsOn']); print('web volumesFrom:', c['web']['volumesFrom'])" \
    "$DEMO/task-definition.json" >&2

step "done"
echo "demo volume: $DEMO/volume (current -> $(readlink "$DEMO/volume/current"))" >&2
echo "vetstage home: $VETSTAGE_HOME" >&2
echo "sidecar build context: $DEMO/sidecar-context (buildah bud / docker build)" >&2
echo "task definition: $DEMO/task-definition.json (aws ecs register-task-definition --cli-input-json)" >&2
