#!/bin/sh
# tests/cli/test_ux.sh - day one for a release engineer (issue 12): each
# refusal's hint, the exit codes of the cases found wrong, global options
# (-q -v, --version --json), read-only commands on a missing home, and
# "already present" on re-imports. Every refusal changes nothing.
. "$(dirname "$0")/../lib.sh"

H="$T/home"
trust_fixture_keys "$H"
PKG="$FIX/pkg/agent-1.2.3.tgz"

# ---- global options ------------------------------------------------------------
expect_rc 2 "-q -v together refused" "$VS" -q -v keys list
expect_err_has "-q and -v cannot be used together" "-q -v: says why"
expect_one_line_err "-q -v: one line"
expect_rc 2 "-v -q after the command refused" "$VS" --home "$H" keys list -v -q
expect_err_has "-q and -v cannot be used together" "-v -q after the command: says why"
for order in "--version --json" "--json --version"; do
    # shellcheck disable=SC2086
    expect_rc 0 "$order" "$VS" $order
    expect_json "j['schema'] == 1 and j['ok'] and j['version'] and j['libraries']" "$order prints JSON"
done

# ---- read-only commands never create a missing home ---------------------------
for cmd in "verify $PKG" "keys list" "cache list"; do
    # shellcheck disable=SC2086
    expect_rc 2 "$cmd on a missing --home" "$VS" --home "$T/nohome" $cmd
    expect_err_has "$T/nohome: no vetstage home here" "$cmd: names the home it looked at"
    expect_err_has "nothing was created" "$cmd: says nothing was created"
    check "$cmd: the home was not created" test ! -e "$T/nohome"
done

# ---- hints -----------------------------------------------------------------------
expect_rc 2 "a misspelt command" "$VS" --home "$H" verfy "$PKG"
expect_err_has "verfy: unknown command (hint: did you mean 'verify'?" "did you mean 'verify'?"
expect_one_line_err "misspelt command: one line"
expect_rc 2 "did you mean, JSON" "$VS" --json --home "$H" verfy "$PKG"
expect_json "not j['ok'] and j['error']['subject'] == 'verfy' and j['error']['hint'].startswith(\"did you mean 'verify'?\")" "did you mean: JSON subject and hint"

snapshot "$H" >"$T/home.before"
for p in agent-1.2.3.tgz ./agent-1.2.3.tgz "$PKG"; do
    expect_rc 2 "fetch of a path, not a URL ($p)" "$VS" --home "$H" fetch "$p"
    expect_err_has "(hint: pass file:///abs/path for a local file)" "path $p: the hint says file:///abs/path"
done
same_snapshot "fetch of a path: the home is unchanged" "$T/home.before" "$H"

mkdir -p "$T/nosig"
cp "$PKG" "$PKG.asc" "$T/nosig/"
expect_rc 3 "verify without the RSA signature" "$VS" --home "$H" verify "$T/nosig/agent-1.2.3.tgz"
expect_err_has "use --require gpg" "missing .sig: use --require gpg"
expect_rc 0 "verify --require gpg then passes" "$VS" --home "$H" verify --require gpg "$T/nosig/agent-1.2.3.tgz"

"$VS" --home "$H" -q fetch "file://$PKG" >/dev/null 2>&1
expect_rc 0 "stage a flat layout for render" "$VS" --home "$H" -q stage agent@1.2.3 --dest "$T/flat" --flat
expect_rc 2 "embedded with a bare entry point" "$VS" --home "$H" render embedded --layout "$T/flat" \
    --app-image app:1 --entrypoint /app/server --cmd '[]'
expect_err_has "--entrypoint: not JSON" "bare entry point: says it is not JSON"
expect_err_has "(hint: give the array form: --entrypoint '[\"/app/server\"]')" "bare entry point: the array form"
expect_one_line_err "bare entry point: one line"
expect_rc 2 "embedded with a JSON object as --cmd" "$VS" --home "$H" render embedded --layout "$T/flat" \
    --app-image app:1 --entrypoint '["/app/server"]' --cmd '{"run": "serve"}'
expect_err_has "--cmd: must be a JSON array of strings" "JSON object --cmd: says why"
expect_err_has "give the array form: --cmd '[" "JSON object --cmd: the array form"

python3 - "$ROOT/tests/render/describe-task-definition.json" "$T/td.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
j["taskDefinition"]["containerDefinitions"][1]["name"] = "log-router"
json.dump(j, open(sys.argv[2], "w"))
EOF
SIDE=localhost/sidecar@sha256:1111111111111111111111111111111111111111111111111111111111111111
expect_rc 2 "ecs-task with an unknown container" "$VS" render ecs-task --task-def "$T/td.json" \
    --app-container webb --sidecar-image "$SIDE"
expect_err_has "$T/td.json: no container named \"webb\"" "unknown container: named with the file"
expect_err_has "(hint: the containers are: web, log-router)" "unknown container: the containers are listed"
check "unknown container: nothing on stdout" test ! -s "$T/out"

# ---- exit codes of mirror export / import ------------------------------------------
mkdir "$T/bundles"
snapshot "$T/bundles" >"$T/bundles.before"
snapshot "$H" >"$T/home.before"
expect_rc 2 "mirror export --out a directory" "$VS" --home "$H" mirror export agent@1.2.3 --out "$T/bundles"
expect_err_has "$T/bundles: is a directory" "export to a directory: names the directory"
expect_err_has "(hint: name the file to write" "export to a directory: hint"
expect_one_line_err "export to a directory: one line"
same_snapshot "export to a directory: the directory is unchanged" "$T/bundles.before" "$T/bundles"
same_snapshot "export to a directory: the home is unchanged" "$T/home.before" "$H"

printf 'not an archive\n' >"$T/notabundle.tgz"
expect_rc 2 "mirror import of a non-archive" "$VS" --home "$H" mirror import "$T/notabundle.tgz"
expect_err_has "$T/notabundle.tgz: not a gzip-compressed tar archive" "non-archive: named"
same_snapshot "non-archive: the home is unchanged" "$T/home.before" "$H"

# ---- re-imports say "already present" -------------------------------------------------
expect_rc 0 "re-import a key" "$VS" --home "$H" keys import "$FIX/vendor.asc"
expect_err_has "already present openpgp $(cat "$FIX/vendor.fpr")" "re-imported key: already present"
expect_rc 0 "export a bundle" "$VS" --home "$H" mirror export agent@1.2.3 --out "$T/bundles/b.tgz"
snapshot "$H" >"$T/home.before"
expect_rc 0 "re-import a bundle already in the cache" "$VS" --home "$H" mirror import "$T/bundles/b.tgz"
expect_err_has "already present agent@1.2.3 sha256:" "re-imported bundle: already present"
same_snapshot "re-imported bundle: the home is unchanged" "$T/home.before" "$H"
expect_rc 0 "re-import a bundle, JSON" "$VS" --json --home "$H" mirror import "$T/bundles/b.tgz"
expect_json "j['ok'] and j['items'][0]['already'] is True" "re-imported bundle, JSON: already true"
trust_fixture_keys "$T/home2"
expect_rc 0 "import into a new home" "$VS" --json --home "$T/home2" mirror import "$T/bundles/b.tgz"
expect_json "j['ok'] and j['items'][0]['already'] is False" "first import, JSON: already false"

# ---- render --force: replaces only a build context vetstage rendered ------------------
CK="$BUILD/vetstage-check"
expect_rc 0 "render a build context" "$VS" --home "$H" render sidecar --layout "$T/flat" --out "$T/ctx" --checker "$CK"
snapshot "$T/ctx" >"$T/ctx.before"
expect_rc 2 "render again without --force" "$VS" --home "$H" render sidecar --layout "$T/flat" --out "$T/ctx" --checker "$CK"
expect_err_has "$T/ctx: exists and is not empty: a build context rendered before (hint: add --force to replace it)" "without --force: says --force replaces it"
same_snapshot "without --force: the context is unchanged" "$T/ctx.before" "$T/ctx"
printf 'old\n' >"$T/ctx/layout/left-over"
old_inode=$(stat -c %i "$T/ctx")
expect_rc 0 "render --force over it" "$VS" --home "$H" render sidecar --layout "$T/flat" --out "$T/ctx" --checker "$CK" --force
check "--force: a new folder took its place" test "$(stat -c %i "$T/ctx")" != "$old_inode"
check "--force: nothing of the old context is left" test ! -e "$T/ctx/layout/left-over"
expect_rc 0 "--force: the new context's layout passes the checker" "$CK" "$T/ctx/layout"
check "--force: nothing left beside it" test -z "$(ls "$T" | grep -E '^ctx\.(tmp|old)-')"
expect_rc 0 "embedded --force over the sidecar context" "$VS" --home "$H" render embedded --layout "$T/flat" \
    --app-image app:1 --entrypoint '["/app/server"]' --cmd '[]' --out "$T/ctx" --checker "$CK" --force
check "embedded --force: the Dockerfile is the embedded one" grep -q '^FROM app:1' "$T/ctx/Dockerfile"

mkdir -p "$T/theirs/layout/.vetstage"
printf 'FROM x\n' >"$T/theirs/Dockerfile"
printf 'x\n' >"$T/theirs/vetstage-check"
printf 'x\n' >"$T/theirs/layout/.vetstage/MANIFEST.sha256"
printf 'keep me\n' >"$T/theirs/notes.txt"
snapshot "$T/theirs" >"$T/theirs.before"
expect_rc 2 "--force over a folder of someone else's files" "$VS" --home "$H" render sidecar --layout "$T/flat" --out "$T/theirs" --checker "$CK" --force
expect_err_has "$T/theirs: exists and is not empty, and is not a build context vetstage rendered" "someone else's folder: says why"
expect_one_line_err "someone else's folder: one line"
same_snapshot "someone else's folder: unchanged" "$T/theirs.before" "$T/theirs"
check "someone else's folder: nothing left beside it" test -z "$(ls "$T" | grep -E '^theirs\.(tmp|old)-')"
ln -s "$T/ctx" "$T/ctxlink"
snapshot "$T/ctx" >"$T/ctx.before"
expect_rc 2 "--force through a symbolic link to a context" "$VS" --home "$H" render sidecar --layout "$T/flat" --out "$T/ctxlink" --checker "$CK" --force
same_snapshot "symbolic link: the context it points to is unchanged" "$T/ctx.before" "$T/ctx"
check "symbolic link: still a link" test -L "$T/ctxlink"
expect_rc 2 "--force without --out" "$VS" --home "$H" render sidecar --layout "$T/flat" --force
expect_err_has "--force only applies with --out CONTEXT" "--force without --out: says why"

# ---- success lines say who signed, and that a checksum list was used ------------------
VFPR=$(cat "$FIX/vendor.fpr")
VUID="Demo Vendor <vendor@example.test>"
H3="$T/home3"
trust_fixture_keys "$H3"
ORG=$("$VS" --home "$H3" --json keys list | python3 -c 'import json,sys; print([k["fingerprint"] for k in json.load(sys.stdin)["keys"] if k["fingerprint"].startswith("sha256:")][0])')
SIGNED="signed by \"$VUID\" $VFPR (OpenPGP); approved by RSA key $ORG"
VIALIST="signed by \"$VUID\" $VFPR (OpenPGP, through the checksum list checksum_sha256.txt); approved by RSA key $ORG"
expect_rc 0 "verify" "$VS" --home "$H3" verify "$PKG"
expect_err_has "trusted $PKG: $SIGNED" "verify: the success line names the signer's user id and fingerprint"
expect_rc 0 "verify with a checksum list" "$VS" --home "$H3" verify "$PKG" --checksums "$FIX/pkg/checksum_sha256.txt"
expect_err_has "trusted $PKG: $VIALIST" "verify --checksums: the success line says the checksum list was used"
expect_rc 0 "verify --json with a checksum list" "$VS" --home "$H3" --json verify "$PKG" --checksums "$FIX/pkg/checksum_sha256.txt"
expect_json "j['checksums'] == '$FIX/pkg/checksum_sha256.txt' and [(s['type'], s['uid']) for s in j['signatures']] == [('gpg', '$VUID'), ('rsa', None)]" "verify --json: checksums and each signer's uid"
expect_rc 0 "fetch" "$VS" --home "$H3" fetch "file://$PKG"
expect_err_has "cached agent@1.2.3 sha256:$(sha256sum <"$PKG" | cut -d' ' -f1): $SIGNED" "fetch: the success line names the signers"
"$VS" --home "$H3" -q cache rm agent@1.2.3 >/dev/null 2>&1
expect_rc 0 "fetch with a checksum list" "$VS" --home "$H3" --json fetch "file://$PKG" --checksums-url "file://$FIX/pkg/checksum_sha256.txt"
expect_json "j['checksums'] == 'file://$FIX/pkg/checksum_sha256.txt' and j['signatures'][0]['uid'] == '$VUID'" "fetch --json: checksums and the signer's uid"
"$VS" --home "$H3" -q cache rm agent@1.2.3 >/dev/null 2>&1
expect_rc 0 "pull with a checksum list" "$VS" --home "$H3" pull "file://$PKG" --checksums-url "file://$FIX/pkg/checksum_sha256.txt" --dest "$T/pulled"
expect_err_has "cached agent@1.2.3 sha256:" "pull: the cached line"
expect_err_has ": $VIALIST" "pull: the success line names the signers and the checksum list"

finish
