#!/bin/sh
# tests/cli/test_source.sh - sources in the configuration file, against a real
# nginx with releases in the reference vendor's format made by real gpg,
# openssl and tar: a GitHub-like tag path (v6.2.0/6.2.0.1234.tgz) behind a
# redirect, the same checksum_sha256.txt(.asc) name in every release, the
# organisation's approval .sig on another path. `fetch NAME@VERSION`, `pull
# NAME@VERSION`, --config FILE, $VETSTAGE_CONFIG, command-line precedence,
# and every bad line refused with FILE:LINE, exit 2 and nothing changed.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/nginx.sh"

W="$T/www"
VFPR=$(cat "$FIX/vendor.fpr")
OFPR=$(cat "$FIX/org.fpr")

# release VERSION [SIGNER...]: publish VERSION.tgz (top folder = VERSION) under
# releases/download/vMAJOR.MINOR.PATCH/ with checksum_sha256.txt signed by the
# SIGNERs (default: vendor), and the approval at approvals/lacework/VERSION.tgz.sig
release() {
    _v=$1; shift
    _tag=v$(echo "$_v" | cut -d. -f1-3)
    _src="$T/src-$_v"
    mkdir -p "$_src/$_v/$_v" "$W/releases/download/$_tag" "$W/approvals/lacework"
    cp "$FIX/pkg-src/lacework-sidecar.sh" "$_src/$_v/lacework-sidecar.sh"
    printf '#!/bin/sh\necho "datacollector %s"\n' "$_v" >"$_src/$_v/$_v/datacollector"
    chmod 755 "$_src/$_v/$_v/datacollector" "$_src/$_v/lacework-sidecar.sh"
    _d="$W/releases/download/$_tag"
    tar -C "$_src" -czf "$_d/$_v.tgz" "$_v"
    (cd "$_d" && sha256sum "$_v.tgz" >checksum_sha256.txt)
    _signers=""
    [ $# -gt 0 ] || set -- vendor
    for _k in "$@"; do _signers="$_signers --local-user $(cat "$FIX/$_k.fpr")!"; done
    # shellcheck disable=SC2086
    vendor_gpg $_signers --armor --detach-sign -o "$_d/checksum_sha256.txt.asc" "$_d/checksum_sha256.txt"
    rsa_sign "$_d/$_v.tgz"
    mv "$_d/$_v.tgz.sig" "$W/approvals/lacework/$_v.tgz.sig"
}
release 6.2.0.1234
release 6.2.1.2000
release 6.2.2.1 vendor other # the checksum list signed by the vendor and by a key not in the store
release 6.3.0.1 ed25519         # signed only by a trusted key the source is not bound to
nginx_start "$W"

H="$T/home"
trust_fixture_keys "$H"
"$VS" --home "$H" -q keys import "$FIX/ed25519.asc" >/dev/null 2>&1

write_conf() { # FILE [extra lines]
    _f=$1; shift
    {
        echo "# the reference vendor, as GitHub serves it (downloads are redirected)"
        echo "[source lacework]"
        echo "url = $NGINX_HTTPS/redirect/releases/download/v{major}.{minor}.{patch}/{version}.tgz"
        echo "checksums-url = $NGINX_HTTPS/redirect/releases/download/v{major}.{minor}.{patch}/checksum_sha256.txt"
        echo "rsa-sig-url = $NGINX_HTTPS/approvals/{name}/{version}.tgz.sig"
        echo "require = gpg,rsa"
        echo "keys = $VFPR $OFPR"
        echo "cacert = $NGINX_CA"
        echo "retries = 0"
        for _l in "$@"; do echo "$_l"; done
    } >"$_f"
}
write_conf "$H/vetstage.conf"

# ---- fetch and pull NAME@VERSION ---------------------------------------------------
expect_rc 0 "fetch lacework@6.2.0.1234 from the source" "$VS" --home "$H" fetch lacework@6.2.0.1234
expect_err_has "cached lacework@6.2.0.1234" "fetch: cached under the source's name"
check "fetch: the tag path was redirected (302)" \
    sh -c "grep -q '^GET /redirect/releases/download/v6.2.0/6.2.0.1234.tgz 302' '$NGINX_ACCESS_LOG'"
check "fetch: the package came from the redirect target" \
    sh -c "grep -q '^GET /releases/download/v6.2.0/6.2.0.1234.tgz 200' '$NGINX_ACCESS_LOG'"
check "fetch: the approval came from its own path" \
    sh -c "grep -q '^GET /approvals/lacework/6.2.0.1234.tgz.sig 200' '$NGINX_ACCESS_LOG'"
expect_rc 0 "cache show" "$VS" --home "$H" --json cache show lacework@6.2.0.1234
expect_json "j['name'] == 'lacework' and j['version'] == '6.2.0.1234'" "cache show: name and version from the source"
expect_json "sorted(s['kind'] for s in j['signatures']) == ['checksums', 'checksums-sig', 'rsa-sig']" "cache show: checksum list and approval kept"
expect_json "sorted(j['signers']) == sorted(['$VFPR', '$OFPR'])" "cache show: signers"
expect_rc 0 "fetch again: already cached" "$VS" --home "$H" fetch lacework@6.2.0.1234
expect_err_has "already in the cache" "fetch again: said so"

D="$T/dest"
expect_rc 0 "pull lacework@6.2.1.2000 --dest" "$VS" --home "$H" pull lacework@6.2.1.2000 --dest "$D"
check "pull: staged" test -f "$D/current/6.2.1.2000/6.2.1.2000/datacollector" -o -f "$D/current/6.2.1.2000/datacollector"
expect_rc 0 "layout check" "$VS" --home "$H" layout check "$D"
expect_rc 0 "a checksum list signed by the vendor and by a key not in the store: accepted" \
    "$VS" --home "$H" fetch lacework@6.2.2.1
expect_rc 0 "two signers: show" "$VS" --home "$H" --json cache show lacework@6.2.2.1
expect_json "'$VFPR' in j['signers'] and '$(cat "$FIX/other.fpr")' not in j['signers']" \
    "two signers: only the vendor's signature counts"

# a key pinned in the store, but not one the source is bound to: refused, nothing cached
snapshot "$H" >"$T/snap-bind"
expect_rc 3 "a release signed by a pinned key the source is not bound to: refused" \
    "$VS" --home "$H" fetch lacework@6.3.0.1
expect_err_has "not bound" "not bound: says why"
same_snapshot "not bound: home unchanged" "$T/snap-bind" "$H"
expect_rc 2 "not bound: not in the cache" "$VS" --home "$H" cache show lacework@6.3.0.1

# ---- --config FILE and $VETSTAGE_CONFIG ------------------------------------------
H2="$T/home2"
trust_fixture_keys "$H2"
write_conf "$T/elsewhere.conf"
expect_rc 2 "no source without a configuration" "$VS" --home "$H2" fetch lacework@6.2.0.1234
expect_err_has "no [source lacework] in $H2/vetstage.conf" "no source: names the file"
expect_err_has "hint:" "no source: a hint"
expect_rc 0 "--config FILE" "$VS" --home "$H2" --config "$T/elsewhere.conf" fetch lacework@6.2.0.1234
rm -rf "$H2"; trust_fixture_keys "$H2"
expect_rc 0 "\$VETSTAGE_CONFIG" env VETSTAGE_CONFIG="$T/elsewhere.conf" "$VS" --home "$H2" fetch lacework@6.2.0.1234
rm -rf "$H2"; trust_fixture_keys "$H2"
printf '[source lacework]\nurl = http://127.0.0.1:1/{version}.tgz\n' >"$T/dead.conf"
expect_rc 0 "--config wins over \$VETSTAGE_CONFIG" env VETSTAGE_CONFIG="$T/dead.conf" "$VS" --home "$H2" --config "$T/elsewhere.conf" fetch lacework@6.2.0.1234
expect_rc 0 "--config after the command" "$VS" --home "$H2" fetch --config "$T/elsewhere.conf" lacework@6.2.0.1234

# ---- command-line options win over the file ----------------------------------------
H3="$T/home3"
trust_fixture_keys "$H3"
cp "$H/vetstage.conf" "$H3/vetstage.conf"
snapshot "$H3" >"$T/snap3"
expect_rc 4 "--rsa-sig-url on the command line wins" "$VS" --home "$H3" fetch --rsa-sig-url "$NGINX_HTTPS/nowhere/x.sig" lacework@6.2.0.1234
expect_err_has "$NGINX_HTTPS/nowhere/x.sig" "--rsa-sig-url: its URL is the one that failed"
expect_rc 0 "--require gpg on the command line wins" "$VS" --home "$H3" --json fetch --require gpg --rsa-sig-url "$NGINX_HTTPS/nowhere/x.sig" lacework@6.2.0.1234
expect_rc 0 "--require gpg: recorded" "$VS" --home "$H3" --json cache show lacework@6.2.0.1234
expect_json "j['require'] == ['gpg']" "--require gpg: the policy recorded is the command line's"
expect_rc 2 "--name with NAME@VERSION" "$VS" --home "$H3" fetch --name x lacework@6.2.0.1234

# ---- old command lines keep working ---------------------------------------------------
H4="$T/home4"
trust_fixture_keys "$H4"
cp "$H/vetstage.conf" "$H4/vetstage.conf"
expect_rc 0 "fetch URL with options, a source configured" "$VS" --home "$H4" fetch --cacert "$NGINX_CA" --name lacework \
    --checksums-url "$NGINX_HTTPS/releases/download/v6.2.0/checksum_sha256.txt" \
    --rsa-sig-url "$NGINX_HTTPS/approvals/lacework/6.2.0.1234.tgz.sig" \
    "$NGINX_HTTPS/releases/download/v6.2.0/6.2.0.1234.tgz"
expect_rc 0 "fetch URL: cached as the name given" "$VS" --home "$H4" cache show lacework@6.2.0.1234

# ---- a source's mirror: BASE/NAME/VERSION/FILE ---------------------------------------
MB="$W/mirror/lacework/6.2.0.1234"
mkdir -p "$MB"
cp "$W/releases/download/v6.2.0/6.2.0.1234.tgz" "$W/releases/download/v6.2.0/checksum_sha256.txt" \
    "$W/releases/download/v6.2.0/checksum_sha256.txt.asc" "$W/approvals/lacework/6.2.0.1234.tgz.sig" "$MB/"
H5="$T/home5"
trust_fixture_keys "$H5"
cat >"$H5/vetstage.conf" <<EOF
[source lacework]
url = http://127.0.0.1:1/v{major}.{minor}.{patch}/{version}.tgz
checksums-url = http://127.0.0.1:1/v{major}.{minor}.{patch}/checksum_sha256.txt
mirror = $NGINX_HTTP/mirror/
retries = 0
keys = $VFPR
keyring = /etc/x.gpg
EOF
expect_rc 2 "an unknown key is refused" "$VS" --home "$H5" fetch lacework@6.2.0.1234
expect_err_has "$H5/vetstage.conf:7: unknown key 'keyring'" "unknown key: FILE:LINE"
sed -i '$d' "$H5/vetstage.conf"
echo "keys = $VFPR $OFPR" >>"$H5/vetstage.conf"
expect_rc 2 "keys given twice is refused" "$VS" --home "$H5" fetch lacework@6.2.0.1234
expect_err_has "$H5/vetstage.conf:7: 'keys' given twice" "keys twice: FILE:LINE"
sed -i '$d' "$H5/vetstage.conf"
sed -i "s/^keys = .*/keys = $VFPR $OFPR/" "$H5/vetstage.conf"
expect_rc 0 "the source's mirror serves NAME/VERSION/FILE" "$VS" --home "$H5" fetch lacework@6.2.0.1234
expect_rc 0 "mirror: show" "$VS" --home "$H5" --json cache show lacework@6.2.0.1234
expect_json "j['url'] == '$NGINX_HTTP/mirror/lacework/6.2.0.1234/6.2.0.1234.tgz'" "mirror: the package came from NAME/VERSION/FILE"
H6="$T/home6"
trust_fixture_keys "$H6"
expect_rc 0 "fetch URL --mirror BASE reads NAME/VERSION/FILE too" "$VS" --home "$H6" fetch --retries 0 --name lacework \
    --mirror "$NGINX_HTTP/mirror" --checksums-url http://127.0.0.1:1/v6.2.0/checksum_sha256.txt http://127.0.0.1:1/v6.2.0/6.2.0.1234.tgz

# ---- refusals: FILE:LINE, exit 2, nothing changed ------------------------------------
HB="$T/homeb"
trust_fixture_keys "$HB"
bad_conf() { # DESCRIPTION LINE TEXT CONTENT
    printf '%b' "$4" >"$HB/vetstage.conf"
    snapshot "$HB" >"$T/snapb"
    expect_rc 2 "$1: exit 2" "$VS" --home "$HB" fetch lacework@6.2.0.1234
    expect_err_has "$HB/vetstage.conf:$2: $3" "$1: names FILE:LINE and the reason"
    same_snapshot "$1: home unchanged" "$T/snapb" "$HB"
}
bad_conf "unknown placeholder" 2 "url: unknown placeholder {build}" \
    '[source lacework]\nurl = https://x/{build}.tgz\n'
bad_conf "malformed line" 3 "malformed line" \
    '[source lacework]\nurl = https://x/{version}.tgz\nrequire gpg\n'
bad_conf "duplicate section" 3 "[source lacework] given twice (first at line 1)" \
    '[source lacework]\nurl = https://x/{version}.tgz\n[source lacework]\nurl = https://y/{version}.tgz\n'
bad_conf "unknown section" 1 "unknown section [sources lacework]" \
    '[sources lacework]\nurl = https://x/{version}.tgz\n'
bad_conf "no url" 1 "[source lacework] has no url" \
    '[source lacework]\nrequire = gpg\n'
bad_conf "bad fingerprint" 3 "keys: 'ABCD' is not a fingerprint" \
    '[source lacework]\nurl = https://x/{version}.tgz\nkeys = ABCD\n'
printf '[source lacework]\nurl = https://x/{patch}/{version}.tgz\n' >"$HB/vetstage.conf"
expect_rc 2 "a version without the parts a template uses" "$VS" --home "$HB" fetch lacework@6.2
expect_err_has "$HB/vetstage.conf:2: version '6.2' has no patch part for {patch}" "missing part: FILE:LINE"
rm -f "$HB/vetstage.conf"
ln -s "$T/elsewhere.conf" "$HB/vetstage.conf"
snapshot "$HB" >"$T/snapb"
expect_rc 2 "HOME/vetstage.conf as a symbolic link is refused" "$VS" --home "$HB" fetch lacework@6.2.0.1234
expect_err_has "symbolic link" "symlinked config: says why"
same_snapshot "symlinked config: home unchanged" "$T/snapb" "$HB"
rm -f "$HB/vetstage.conf"
expect_rc 2 "--config of an absent file" "$VS" --home "$HB" --config "$T/absent.conf" fetch lacework@6.2.0.1234
expect_err_has "$T/absent.conf" "absent --config: names it"
expect_rc 2 "a NAME@VERSION that is no source" "$VS" --home "$HB" --config "$T/elsewhere.conf" pull nosuch@1.0 --dest "$T/nd"
check "no source: no destination created" test ! -e "$T/nd"
printf '[source lacework]\nurl = https://x/{version}.tgz\nbogus = 1\n' >"$T/bogus.conf"
expect_rc 2 "--json: unknown key" "$VS" --home "$HB" --json --config "$T/bogus.conf" fetch lacework@1.0
expect_json "j['ok'] is False and j['error']['code'] == 'usage' and j['error']['subject'] == '$T/bogus.conf:3' and 'url' in j['error']['hint']" \
    "--json: subject FILE:LINE and a hint listing the keys"

finish
