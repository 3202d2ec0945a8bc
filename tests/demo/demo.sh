#!/bin/sh
# tests/demo/demo.sh - `make demo`: the main job on a release in the reference
# vendor's format.
#
# A demo vendor (OpenPGP key) and organisation (RSA approval key) made with
# the real gpg and openssl; the release as Lacework publishes it: 6.2.0.1234.tgz
# (top folder = the version, holding the vendor's lacework-sidecar.sh and
# 6.2.0.1234/datacollector) beside checksum_sha256.txt and its .asc under a
# GitHub-like tag path v6.2.0/ that redirects, the organisation's approval
# .sig on its own path; all served over HTTPS by a loopback nginx with a CA
# made here. A source for it in HOME/vetstage.conf, then
# `vetstage pull lacework@6.2.0.1234`. Every vetstage command is echoed with
# the --home it used, so it can be run again by hand. Everything lives under
# BUILD/demo: never the user's home or ~/.gnupg.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
VS="$BUILD/vetstage"
DEMO="$BUILD/demo"
VERSION=6.2.0.1234
TAG=v6.2.0

rm -rf "$DEMO"
mkdir -p "$DEMO/run" "$DEMO/www"
T="$DEMO/run"
LOG="$DEMO/run/build.log" # what the tools say while the demo is set up
_hooks=""
at_exit() { _hooks="$_hooks $1"; }
trap 'for h in $_hooks; do "$h" || true; done' EXIT
H="$DEMO/home"
export GNUPGHOME="$DEMO/run/no-gnupg" # nothing here may touch ~/.gnupg
unset VETSTAGE_HOME VETSTAGE_CONFIG

step() { printf '\n== %s\n' "$*" >&2; }
# vs ARGS...: echo the command as a reader would type it, then run it
vs() {
    printf '$ vetstage --home %s %s\n' "$H" "$*" >&2
    "$VS" --home "$H" "$@"
}
quiet() { "$@" >>"$LOG" 2>&1 || { echo "demo: failed: $* (see $LOG)" >&2; tail -5 "$LOG" >&2; exit 1; }; }

step "1. a demo vendor and organisation: OpenPGP and RSA keys (gpg, openssl)"
quiet sh "$ROOT/tests/fixtures/mkfixtures.sh" "$DEMO/vendor"
V="$DEMO/vendor"
echo "vendor key $(cat "$V/vendor.fpr"), approval key $(cat "$V/org.fpr")" >&2

step "2. the release as the vendor publishes it: $TAG/$VERSION.tgz, checksum_sha256.txt(.asc)"
SRC="$DEMO/run/src"
mkdir -p "$SRC/$VERSION/$VERSION"
# the vendor's own start script, its agent version set to this release's
sed "s/^VERSION=.*/VERSION=$VERSION/" "$ROOT/tests/data/lacework/lacework-sidecar-5.8.sh" \
    >"$SRC/$VERSION/lacework-sidecar.sh"
printf '#!/bin/sh\n# stand-in for the agent binary\necho "datacollector %s"\n' "$VERSION" \
    >"$SRC/$VERSION/$VERSION/datacollector"
chmod 755 "$SRC/$VERSION/lacework-sidecar.sh" "$SRC/$VERSION/$VERSION/datacollector"
REL="$DEMO/www/releases/download/$TAG"
mkdir -p "$REL" "$DEMO/www/approvals/lacework"
tar -C "$SRC" -czf "$REL/$VERSION.tgz" "$VERSION"
(cd "$REL" && sha256sum "$VERSION.tgz" >checksum_sha256.txt)
cp -r "$V/vendor-gnupg" "$T/vendor-gnupg"
chmod 700 "$T/vendor-gnupg"
quiet gpg --homedir "$T/vendor-gnupg" --batch --yes --pinentry-mode loopback --passphrase '' \
    --local-user "$(cat "$V/vendor.fpr")!" --armor --detach-sign -o "$REL/checksum_sha256.txt.asc" \
    "$REL/checksum_sha256.txt"
gpgconf --homedir "$T/vendor-gnupg" --kill gpg-agent 2>/dev/null || true
quiet openssl dgst -sha256 -sign "$V/org.key" -out "$DEMO/www/approvals/lacework/$VERSION.tgz.sig" \
    "$REL/$VERSION.tgz"
tar -tzvf "$REL/$VERSION.tgz" >&2

step "3. serve it from nginx on 127.0.0.1 over HTTPS (the tag path redirects, as GitHub's does)"
. "$ROOT/tests/nginx.sh"
quiet nginx_start "$DEMO/www"
BASE="$NGINX_HTTPS/redirect/releases/download"
echo "release at $BASE/$TAG/$VERSION.tgz" >&2

step "4. describe the source once: $H/vetstage.conf"
mkdir -p "$H"
cat >"$H/vetstage.conf" <<CONF
# the reference vendor's agent, as it is published (see README, "Configure a source")
[source lacework]
url = $BASE/v{major}.{minor}.{patch}/{version}.tgz
checksums-url = $BASE/v{major}.{minor}.{patch}/checksum_sha256.txt
rsa-sig-url = $NGINX_HTTPS/approvals/lacework/{version}.tgz.sig
require = gpg,rsa
keys = $(cat "$V/vendor.fpr") $(cat "$V/org.fpr")
strip-components = 1
cacert = $NGINX_CA
CONF
cat "$H/vetstage.conf" >&2

step "5. pin the vendor's OpenPGP key and the organisation's RSA release-approval key"
vs keys import --expect-fingerprint "$(cat "$V/vendor.fpr")" "$V/vendor.asc"
vs keys import --rsa-scheme pkcs1-sha256 "$V/org.pub.pem"

step "6. the main job: fetch, verify both signatures, cache, stage"
vs pull "lacework@$VERSION" --dest "$DEMO/volume"
(cd "$DEMO/volume" && find . -path ./versions/*/.vetstage -prune -o -print | LC_ALL=C sort) >&2

step "7. check the layout against its manifest"
vs layout check "$DEMO/volume"

step "8. the build flows: a sidecar image context and the ECS task definition"
vs render sidecar --layout "$DEMO/volume" --out "$DEMO/sidecar-context"
# the sidecar image by digest (what `buildah push --digestfile` writes; a placeholder here),
# and the layout it carries, whose digest the sidecar's checker then requires
vs render ecs-task --task-def "$ROOT/tests/render/describe-task-definition.json" \
    --layout "$DEMO/volume" --app-container web \
    --sidecar-image registry.example/lacework-sidecar@sha256:5d41402abc4b2a76b9719d911017c592ae1e0b7e1b6b3d0b5b5a5e1c6b8c9d0e \
    --token-secret arn:aws:secretsmanager:us-east-1:123456789012:secret:lacework-token \
    --out "$DEMO/task-definition.json"
echo "sidecar build context: $DEMO/sidecar-context (buildah bud / docker build)" >&2
echo "task definition: $DEMO/task-definition.json (aws ecs register-task-definition --cli-input-json)" >&2

step "try next"
cat >&2 <<NEXT
vetstage --home $H cache list
vetstage --home $H cache show lacework@$VERSION
vetstage --home $H --json layout check $DEMO/volume
vetstage --home $H mirror export lacework@$VERSION --out $DEMO/lacework.bundle
cat $DEMO/volume/current/.vetstage/provenance.json
(the nginx of the demo has stopped: fetch and pull need it; run make demo again to see them)
NEXT
