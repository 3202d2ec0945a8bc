#!/bin/sh
# tests/cli/test_mirror.sh - `vetstage mirror sync|export|import` against a real
# nginx: parallel sync into a static tree that `fetch --mirror` uses, export and
# import of bundles (re-verified against the local trust store), and hostile
# bundles made with Python's tarfile, each refused with one line and no change.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/nginx.sh"

H="$T/home"
trust_fixture_keys "$H"
mkdir -p "$T/srv/bad"
cp "$FIX/pkg/agent-1.2.3.tgz" "$FIX/pkg/agent-1.2.3.tgz.asc" "$FIX/pkg/agent-1.2.3.tgz.sig" "$T/srv/"
# a second package: the same vendor and organisation, another name
mkdir -p "$T/src/bin"
cp "$FIX/pkg-src/lacework-sidecar.sh" "$T/src/"
printf '#!/bin/sh\necho "tool 2.0.0"\n' >"$T/src/bin/tool"
tar -C "$T/src" -czf "$T/srv/tool-2.0.0.tgz" lacework-sidecar.sh bin
sign_both "$T/srv/tool-2.0.0.tgz"
# a tampered package with genuine signatures
mkdir -p "$T/srv/bad"
cp "$T/srv/tool-2.0.0.tgz.asc" "$T/srv/tool-2.0.0.tgz.sig" "$T/srv/bad/"
cp "$T/srv/tool-2.0.0.tgz" "$T/srv/bad/tool-2.0.0.tgz"
printf 'X' | dd of="$T/srv/bad/tool-2.0.0.tgz" bs=1 seek=100 conv=notrunc 2>/dev/null
nginx_start "$T/srv"

no_tmp_left() { [ ! -e "$1/tmp" ] || [ -z "$(ls -A "$1/tmp")" ]; }

# ---- usage ----------------------------------------------------------------------
expect_rc 0 "mirror --help" "$VS" mirror --help
check "--help: usage line" grep -q "^usage: vetstage mirror" "$T/out"
expect_rc 2 "mirror without subcommand" "$VS" --home "$H" mirror
expect_rc 2 "sync without --dest" "$VS" --home "$H" mirror sync "$T/nolist"
expect_rc 2 "sync of a missing list" "$VS" --home "$H" mirror sync "$T/nolist" --dest "$T/m0"
expect_one_line_err "missing list: one line"
expect_rc 2 "sync --jobs 33 refused" "$VS" --home "$H" mirror sync "$T/nolist" --dest "$T/m0" --jobs 33

# ---- sync -----------------------------------------------------------------------
cat >"$T/list" <<EOL
# two packages, one over HTTPS
$NGINX_HTTPS/agent-1.2.3.tgz

$NGINX_HTTP/tool-2.0.0.tgz
EOL
M="$T/mirror"
expect_rc 0 "sync of two packages with --jobs 2" "$VS" --home "$H" --json mirror sync "$T/list" --dest "$M" --jobs 2 --cacert "$NGINX_CA"
expect_json 'j["ok"] is True and j["succeeded"] == 2 and j["failed"] == 0' "sync --json: two succeeded"
for f in agent/1.2.3/agent-1.2.3.tgz agent/1.2.3/agent-1.2.3.tgz.asc agent/1.2.3/agent-1.2.3.tgz.sig \
    tool/2.0.0/tool-2.0.0.tgz tool/2.0.0/tool-2.0.0.tgz.asc tool/2.0.0/tool-2.0.0.tgz.sig index.json; do
    check "sync: $f in the mirror (DIR/NAME/VERSION/FILE)" test -f "$M/$f"
done
check "sync: package bytes as served" cmp -s "$M/agent/1.2.3/agent-1.2.3.tgz" "$T/srv/agent-1.2.3.tgz"
check "sync: nothing else in DIR, no temporary files" sh -c "[ \$(find '$M' | wc -l) -eq 12 ]"
check "sync: index lists both with sha256 and signers" python3 -c "
import json,sys
j=json.load(open('$M/index.json'))
p={x['name']+'@'+x['version']:x for x in j['packages']}
assert set(p)=={'agent@1.2.3','tool@2.0.0'}, p
for x in p.values():
    assert len(x['sha256'])==64 and x['signers'] and x['file'] and x['files']
"
expect_rc 0 "sync: both in the cache" "$VS" --home "$H" cache show tool@2.0.0

# the mirror tree serves `fetch --mirror` in a fresh home (the URL itself 404s)
H2="$T/home2"
trust_fixture_keys "$H2"
expect_rc 0 "fetch from file:// mirror when the URL 404s" "$VS" --home "$H2" fetch "$NGINX_HTTP/gone/agent-1.2.3.tgz" --mirror "file://$M"
expect_rc 0 "fetched from the mirror: in the cache" "$VS" --home "$H2" cache show agent@1.2.3
mkdir -p "$T/srv/m"
cp -r "$M"/* "$T/srv/m/"
H3="$T/home3"
trust_fixture_keys "$H3"
expect_rc 0 "fetch from the nginx-served mirror" "$VS" --home "$H3" fetch "$NGINX_HTTP/gone/tool-2.0.0.tgz" --mirror "$NGINX_HTTP/m"

# a list with a tampered package: the good one still lands, the bad one does not
H4="$T/home4"
trust_fixture_keys "$H4"
printf '%s\n%s\n' "$NGINX_HTTP/bad/tool-2.0.0.tgz" "$NGINX_HTTP/agent-1.2.3.tgz" >"$T/list2"
M2="$T/mirror2"
expect_rc 3 "sync with a tampered package" "$VS" --home "$H4" mirror sync "$T/list2" --dest "$M2" --jobs 2
expect_err_has "bad/tool-2.0.0.tgz" "tampered: the bad URL named"
check "tampered: one failure line" test "$(grep -c 'bad/tool-2.0.0.tgz' "$T/err")" -eq 1
check "tampered: good package mirrored" test -f "$M2/agent/1.2.3/agent-1.2.3.tgz"
check "tampered: bad package absent" test ! -e "$M2/tool"
check "tampered: index names only the good one" python3 -c "
import json; j=json.load(open('$M2/index.json')); assert [p['name'] for p in j['packages']]==['agent']"
printf '%s\n' "$NGINX_HTTP/nowhere/agent-9.tgz" >"$T/list3"
expect_rc 4 "sync of a URL that 404s" "$VS" --home "$H4" mirror sync "$T/list3" --dest "$M2"
expect_one_line_err "404: one line"

# ---- export / import --------------------------------------------------------------
B="$T/exp/bundle.tgz"
mkdir -p "$T/exp"
expect_rc 2 "export of an unknown NAME@VERSION" "$VS" --home "$H" mirror export agent@1.2.3 nope@9 --out "$B"
expect_one_line_err "unknown ref: one line"
check "unknown ref: no bundle written" test ! -e "$B"
check "unknown ref: no temporary file left" test -z "$(ls -A "$T/exp")"
expect_rc 2 "export without --out" "$VS" --home "$H" mirror export agent@1.2.3
expect_rc 0 "export two packages" "$VS" --home "$H" mirror export agent@1.2.3 tool@2.0.0 --out "$B"
check "bundle is gzip" sh -c "gzip -t '$B'"
check "bundle lists index and files" sh -c "tar -tzf '$B' | sort | tr '\n' ' ' | grep -q 'agent@1.2.3/agent-1.2.3.tgz agent@1.2.3/agent-1.2.3.tgz.asc agent@1.2.3/agent-1.2.3.tgz.sig index.json tool@2.0.0/tool-2.0.0.tgz'"

I="$T/imp"
trust_fixture_keys "$I"
"$VS" --home "$I" -q cache list >/dev/null 2>&1
expect_rc 0 "import into a fresh home" "$VS" --home "$I" mirror import "$B"
expect_rc 0 "imported: cache show agent" "$VS" --home "$I" cache show agent@1.2.3
expect_rc 0 "imported: cache show tool" "$VS" --home "$I" cache show tool@2.0.0
expect_rc 0 "imported: cache fsck clean" "$VS" --home "$I" cache fsck
check "imported: no temp dir left" no_tmp_left "$I"
expect_rc 0 "import again: already cached" "$VS" --home "$I" mirror import "$B"

# a home that does not trust the vendor key
U="$T/untrusting"
"$VS" --home "$U" -q keys import "$FIX/org.pub.pem" >/dev/null 2>&1
"$VS" --home "$U" -q cache list >/dev/null 2>&1
snapshot "$U/cache" >"$T/u.before"
expect_rc 3 "import where the vendor key is not trusted" "$VS" --home "$U" mirror import "$B"
expect_err_has "agent@1.2.3" "untrusted: the package is named"
same_snapshot "untrusted: cache unchanged" "$T/u.before" "$U/cache"
check "untrusted: no temp dir left" no_tmp_left "$U"

# ---- hostile bundles ----------------------------------------------------------------
mkdir -p "$T/x"
tar -xzf "$B" -C "$T/x"
cat >"$T/mk.py" <<'PY'
import io, sys, tarfile, os
kind, out, src = sys.argv[1], sys.argv[2], sys.argv[3]
def add(t, name, data=b"x", typ=tarfile.REGTYPE, **kw):
    ti = tarfile.TarInfo(name); ti.size = len(data) if typ == tarfile.REGTYPE else 0; ti.type = typ
    for k, v in kw.items(): setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if typ == tarfile.REGTYPE else None)
def real(t, names):
    for n in names: t.add(os.path.join(src, n), arcname=n)
if kind == "garbage":
    open(out, "wb").write(os.urandom(3000)); sys.exit(0)
with tarfile.open(out, "w:gz", format=tarfile.GNU_FORMAT) as t:
    real(t, ["index.json"])
    if kind == "absolute": add(t, "/etc/evil")
    elif kind == "dotdot": add(t, "agent@1.2.3/../../evil")
    elif kind == "symlink": add(t, "agent@1.2.3/agent-1.2.3.tgz", typ=tarfile.SYMTYPE, linkname="/etc/passwd")
    elif kind == "device": add(t, "agent@1.2.3/dev", typ=tarfile.CHRTYPE, devmajor=1, devminor=3)
    elif kind == "bigindex": add(t, "index.json", b" " * (300 * 1024))
    elif kind == "dotfile": add(t, "agent@1.2.3/.hidden")
    elif kind == "badname": add(t, "ag/ent@1.2.3/x")
    elif kind == "tampered":
        data = bytearray(open(os.path.join(src, "tool@2.0.0/tool-2.0.0.tgz"), "rb").read()); data[100] ^= 1
        add(t, "tool@2.0.0/tool-2.0.0.tgz", bytes(data))
        real(t, ["tool@2.0.0/tool-2.0.0.tgz.asc", "tool@2.0.0/tool-2.0.0.tgz.sig"])
    if kind != "tampered":
        real(t, ["agent@1.2.3/agent-1.2.3.tgz", "agent@1.2.3/agent-1.2.3.tgz.asc", "agent@1.2.3/agent-1.2.3.tgz.sig"])
PY
# the hostile bundles carry index.json describing both; for the tampered one, keep only tool
python3 - "$T/x/index.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); j["packages"] = [p for p in j["packages"] if p["name"] == "tool"]
json.dump(j, open(sys.argv[1] + ".tool", "w"))
PY
V="$T/victim"
trust_fixture_keys "$V"
"$VS" --home "$V" -q cache list >/dev/null 2>&1
snapshot "$V" >"$T/v.before"
for k in absolute:/etc/evil dotdot:../../evil symlink:agent-1.2.3.tgz device:agent@1.2.3/dev bigindex:index.json dotfile:.hidden badname:ag/ent garbage:garbage.tgz; do
    kind=${k%%:*}; what=${k#*:}
    python3 "$T/mk.py" "$kind" "$T/$kind.tgz" "$T/x"
    run "$VS" --home "$V" mirror import "$T/$kind.tgz"
    if [ "$RC" -eq 5 ] || [ "$RC" -eq 2 ]; then ok "hostile $kind: refused (exit $RC)"; else
        not_ok "hostile $kind: expected exit 5 or 2, got $RC"; sed 's/^/    stderr: /' "$T/err" | head -3; fi
    expect_one_line_err "hostile $kind: one-line message"
    expect_err_has "$what" "hostile $kind: message names the entry"
    [ -n "${VS_SHOW:-}" ] && cat "$T/err"
    same_snapshot "hostile $kind: home unchanged (no temp dir, cache as it was)" "$T/v.before" "$V"
done

# --json errors carry the subject: the bundle and the entry, never a temporary path (issue 10)
run "$VS" --home "$V" --json mirror import "$T/dotdot.tgz"
if [ "$RC" -eq 5 ]; then ok "--json: escaping entry refused (exit 5)"; else not_ok "--json: escaping entry: exit $RC, not 5"; fi
expect_json "not j['ok'] and j['error']['subject'] == '$T/dotdot.tgz(agent@1.2.3/../../evil)' and j['error']['message'].startswith(j['error']['subject'] + ': ')" "--json: an entry that escapes is the subject, as BUNDLE(ENTRY)"
same_snapshot "--json escaping entry: home unchanged" "$T/v.before" "$V"
# a damaged bundle: cut in the middle of a package's bytes
python3 - "$T/x/index.json" "$T/cut.tgz" <<'PY'
import io, os, sys, tarfile
with tarfile.open(sys.argv[2], "w:gz", format=tarfile.GNU_FORMAT) as t:
    t.add(sys.argv[1], arcname="index.json")
    data = os.urandom(256 * 1024)  # incompressible: the cut falls inside these bytes
    ti = tarfile.TarInfo("agent@1.2.3/agent-1.2.3.tgz"); ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
size = os.path.getsize(sys.argv[2])
os.truncate(sys.argv[2], size // 2)
PY
run "$VS" --home "$V" --json mirror import "$T/cut.tgz"
if [ "$RC" -eq 5 ]; then ok "--json: damaged bundle refused (exit 5)"; else not_ok "--json: damaged bundle: exit $RC, not 5"; fi
expect_json "not j['ok'] and j['error']['subject'] == '$T/cut.tgz(agent@1.2.3/agent-1.2.3.tgz)'" "--json: a damaged bundle names the entry it was cut in"
check "--json damaged bundle: no temporary path" sh -c "! grep -q 'import-\\|file://' '$T/out' '$T/err'"
same_snapshot "--json damaged bundle: home unchanged" "$T/v.before" "$V"

# a bundle with a tampered package: not admitted
mkdir -p "$T/xt"
cp "$T/x/index.json.tool" "$T/xt/index.json"
mkdir -p "$T/xt/tool@2.0.0"; cp "$T/x/tool@2.0.0/"* "$T/xt/tool@2.0.0/"
python3 "$T/mk.py" tampered "$T/tampered.tgz" "$T/xt"
expect_rc 3 "bundle with a tampered package" "$VS" --home "$V" mirror import "$T/tampered.tgz"
expect_one_line_err "tampered bundle: one line"
expect_err_has "tool@2.0.0" "tampered bundle: the package is named"
same_snapshot "tampered bundle: home unchanged" "$T/v.before" "$V"

# a bundle that relabels the genuine agent 1.2.3 as agent@9.9.9 (signatures cover
# bytes, not labels): refused by policy, nothing admitted
mkdir -p "$T/xr/agent@9.9.9"
cp "$T/x/agent@1.2.3/"* "$T/xr/agent@9.9.9/"
python3 - "$T/x/index.json" "$T/xr/index.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["packages"] = [p for p in j["packages"] if p["name"] == "agent"]
j["packages"][0]["version"] = "9.9.9"
json.dump(j, open(sys.argv[2], "w"))
PY
(cd "$T/xr" && tar -czf "$T/relabel.tgz" index.json agent@9.9.9/*) # files only: no folder entries
expect_rc 7 "bundle relabelling 1.2.3 as 9.9.9" "$VS" --home "$V" mirror import "$T/relabel.tgz"
expect_err_has "is agent@1.2.3 by its name; a bundle cannot relabel a package" "relabel: reason given"
expect_one_line_err "relabel: one line"
same_snapshot "relabel: home unchanged" "$T/v.before" "$V"

# index.json naming one file twice (to smuggle an undescribed file in)
mkdir -p "$T/xd/agent@1.2.3"
cp "$T/x/agent@1.2.3/agent-1.2.3.tgz" "$T/x/agent@1.2.3/agent-1.2.3.tgz.asc" "$T/xd/agent@1.2.3/"
echo junk >"$T/xd/agent@1.2.3/junk.bin"
python3 - "$T/x/index.json" "$T/xd/index.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["packages"] = [p for p in j["packages"] if p["name"] == "agent"]
p = j["packages"][0]
gpg = [f["file"] for f in p["files"] if f["kind"] == "gpg-sig"][0]
for f in p["files"]:
    if f["kind"] == "rsa-sig":
        f["file"] = gpg
json.dump(j, open(sys.argv[2], "w"))
PY
(cd "$T/xd" && tar -czf "$T/dupname.tgz" index.json agent@1.2.3/*)
expect_rc 5 "index naming a file twice: refused" "$VS" --home "$V" mirror import "$T/dupname.tgz"
expect_err_has "twice" "index naming a file twice: reason given"
same_snapshot "index naming a file twice: home unchanged" "$T/v.before" "$V"

# an uncompressed bundle
(cd "$T/x" && tar -cf "$T/plain.tar" index.json agent@1.2.3/* tool@2.0.0/*)
expect_rc 5 "uncompressed bundle refused" "$VS" --home "$V" mirror import "$T/plain.tar"
expect_one_line_err "uncompressed bundle: one line"
same_snapshot "uncompressed bundle: home unchanged" "$T/v.before" "$V"

# ---- real releases: NAME@VERSION lines, NAME/VERSION/FILE, member names ---------------
# two releases in the reference vendor's format: the same checksum_sha256.txt name
# under two tag paths, the approval .sig on its own path
release() {
    _v=$1
    _tag=v$(echo "$_v" | cut -d. -f1-3)
    _d="$T/srv/releases/download/$_tag"
    mkdir -p "$T/rel-$_v/$_v/$_v" "$_d" "$T/srv/approvals"
    cp "$FIX/pkg-src/lacework-sidecar.sh" "$T/rel-$_v/$_v/"
    printf '#!/bin/sh\necho "datacollector %s"\n' "$_v" >"$T/rel-$_v/$_v/$_v/datacollector"
    tar -C "$T/rel-$_v" -czf "$_d/$_v.tgz" "$_v"
    (cd "$_d" && sha256sum "$_v.tgz" >checksum_sha256.txt)
    gpg_sign "$_d/checksum_sha256.txt"
    rsa_sign "$_d/$_v.tgz"
    mv "$_d/$_v.tgz.sig" "$T/srv/approvals/"
}
release 6.2.0.1234
release 6.2.1.2000
lacework_conf() { # URL-BASE [mirror line]
    printf '%s\n' "[source lacework]" \
        "url = $1/redirect/releases/download/v{major}.{minor}.{patch}/{version}.tgz" \
        "checksums-url = $1/redirect/releases/download/v{major}.{minor}.{patch}/checksum_sha256.txt" \
        "rsa-sig-url = $NGINX_HTTP/approvals/{version}.tgz.sig" \
        "keys = $(cat "$FIX/vendor.fpr") $(cat "$FIX/org.fpr")" "retries = 0" "$2"
}
HR="$T/home-rel"
trust_fixture_keys "$HR"
lacework_conf "$NGINX_HTTP" "" >"$HR/vetstage.conf"
printf '%s\n' "# two releases of a source and a plain URL" lacework@6.2.0.1234 lacework@6.2.1.2000 \
    "$NGINX_HTTP/agent-1.2.3.tgz" >"$T/list-rel"
M3="$T/mirror3"
expect_rc 0 "sync of NAME@VERSION lines of a source" "$VS" --home "$HR" --json mirror sync "$T/list-rel" --dest "$M3"
expect_json 'j["succeeded"] == 3 and [i["item"] for i in j["items"]][:2] == ["lacework@6.2.0.1234", "lacework@6.2.1.2000"]' "sync --json: items named as listed"
for v in 6.2.0.1234 6.2.1.2000; do
    for f in "$v.tgz" checksum_sha256.txt checksum_sha256.txt.asc "$v.tgz.sig"; do
        check "sync: lacework/$v/$f" test -f "$M3/lacework/$v/$f"
    done
done
check "two releases' checksum_sha256.txt side by side, not collided" \
    sh -c "! cmp -s '$M3/lacework/6.2.0.1234/checksum_sha256.txt' '$M3/lacework/6.2.1.2000/checksum_sha256.txt' &&
           cmp -s '$M3/lacework/6.2.1.2000/checksum_sha256.txt' '$T/srv/releases/download/v6.2.1/checksum_sha256.txt'"
check "sync: index.json at the top lists the three" python3 -c "
import json; j=json.load(open('$M3/index.json'))
assert sorted(p['name']+'@'+p['version'] for p in j['packages'])==['agent@1.2.3','lacework@6.2.0.1234','lacework@6.2.1.2000']"
# a second sync into the same tree keeps the first's entries
printf '%s\n' "$NGINX_HTTP/tool-2.0.0.tgz" >"$T/list-tool"
expect_rc 0 "a second sync into the tree" "$VS" --home "$HR" mirror sync "$T/list-tool" --dest "$M3"
check "second sync: index keeps the earlier packages" python3 -c "
import json; j=json.load(open('$M3/index.json')); assert len(j['packages'])==4, j"
# the tree, served by nginx, is a source's mirror (the vendor's URL is dead)
mkdir -p "$T/srv/m3"; cp -r "$M3"/* "$T/srv/m3/"
HM="$T/home-m3"
trust_fixture_keys "$HM"
lacework_conf "http://127.0.0.1:1" "mirror = $NGINX_HTTP/m3" >"$HM/vetstage.conf"
expect_rc 0 "a source's mirror reads NAME/VERSION/FILE" "$VS" --home "$HM" fetch lacework@6.2.1.2000
expect_rc 0 "from the mirror: show" "$VS" --home "$HM" --json cache show lacework@6.2.1.2000
expect_json "j['url'] == '$NGINX_HTTP/m3/lacework/6.2.1.2000/6.2.1.2000.tgz'" "from the mirror: provenance names NAME/VERSION/FILE"
expect_rc 0 "fetch --mirror BASE reads the tree" "$VS" --home "$HM" fetch --retries 0 --mirror "$NGINX_HTTP/m3" "http://127.0.0.1:1/gone/tool-2.0.0.tgz"
# a line naming no source: refused before anything is fetched or created
printf '%s\n' lacework@6.2.0.1234 nosuch@1.0 >"$T/list-bad"
expect_rc 2 "sync of a NAME@VERSION without a source" "$VS" --home "$HR" mirror sync "$T/list-bad" --dest "$T/m-none"
expect_err_has "no [source nosuch]" "no source: named"
check "no source: DIR not created" test ! -e "$T/m-none"
expect_rc 2 "sync --json of a line naming no source" "$VS" --home "$HR" --json mirror sync "$T/list-bad" --dest "$T/m-none"
expect_json "not j['ok'] and j['error']['subject'] == 'nosuch@1.0'" "sync --json: the bad line's NAME@VERSION is the subject"
printf '%s\n' "$NGINX_HTTP/agent-1.2.3.tgz" "http://exa mple/x.tgz" >"$T/list-ctl"
expect_rc 2 "sync --json of a line with a blank in its URL" "$VS" --home "$HR" --json mirror sync "$T/list-ctl" --dest "$T/m-none"
expect_json "not j['ok'] and j['error']['subject'] == '$T/list-ctl:2' and j['error']['message'] == '$T/list-ctl:2: blank or control character in URL'" "sync --json: LIST:LINE is the subject of a bad line"
check "bad lines: DIR not created" test ! -e "$T/m-none"
printf '%s\n' lacework@6.2.0.1234 >"$T/list-one"
expect_rc 2 "NAME@VERSION line without any configuration" "$VS" --home "$H" mirror sync "$T/list-one" --dest "$T/m-none"
expect_rc 0 "--config FILE for sync" "$VS" --home "$H" --config "$HR/vetstage.conf" mirror sync "$T/list-one" --dest "$T/m-cfg"
check "--config: the release in the tree" test -f "$T/m-cfg/lacework/6.2.0.1234/6.2.0.1234.tgz"

# import: messages name BUNDLE(NAME@VERSION/FILE), never the temporary folder
BR="$T/exp/rel.tgz"
expect_rc 0 "export a source's release" "$VS" --home "$HR" mirror export lacework@6.2.0.1234 --out "$BR"
UV="$T/home-vendor-only"
"$VS" --home "$UV" -q keys import "$FIX/vendor.asc" >/dev/null 2>&1
run "$VS" --home "$UV" mirror import "$BR" # the first run makes the empty cache folders
snapshot "$UV" >"$T/uv.before"
expect_rc 3 "import: the approval key is not in the store" "$VS" --home "$UV" mirror import "$BR"
expect_err_has "$BR(lacework@6.2.0.1234" "import failure: names the bundle and the member"
check "import failure: no temporary path in the message" sh -c "! grep -q 'import-\|file://' '$T/err'"
same_snapshot "import failure: home unchanged" "$T/uv.before" "$UV"
UO="$T/home-org-only"
"$VS" --home "$UO" -q keys import "$FIX/org.pub.pem" >/dev/null 2>&1
expect_rc 3 "import: the vendor key is not in the store" "$VS" --home "$UO" --json mirror import "$BR"
# the store cannot meet the policy: refused before any file is looked at, so
# the member named is the package NAME@VERSION (the policy pre-check, issue 11)
expect_json "j['ok'] is False and j['items'][0]['message'].startswith('$BR(lacework@6.2.0.1234)') and '--require' in j['items'][0].get('hint', '') + j['items'][0]['message'] + j['error'].get('hint', '')" "--json: the item names the member and the next step"
check "vendor key missing: no temporary path" sh -c "! grep -q 'import-' '$T/out' '$T/err'"
# a bundle without the approval signature: a missing signature (3), not a download error (4)
mkdir -p "$T/xn"
tar -xzf "$BR" -C "$T/xn"
rm "$T/xn/lacework@6.2.0.1234/6.2.0.1234.tgz.sig"
python3 - "$T/xn/index.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for p in j["packages"]:
    p["files"] = [f for f in p["files"] if f["kind"] != "rsa-sig"]
json.dump(j, open(sys.argv[1], "w"))
PY
(cd "$T/xn" && tar -czf "$T/nosig.tgz" index.json lacework@6.2.0.1234/*)
IN="$T/home-nosig"
trust_fixture_keys "$IN"
snapshot "$IN" >"$T/in.before"
expect_rc 3 "bundle without the RSA signature the policy needs" "$VS" --home "$IN" mirror import "$T/nosig.tgz"
expect_err_has "$T/nosig.tgz(lacework@6.2.0.1234): no RSA signature in the bundle" "no .sig: named, with the reason"
expect_err_has "--require" "no .sig: the hint names --require"
same_snapshot "no .sig: home unchanged" "$T/in.before" "$IN"
expect_rc 0 "the same bundle with --require gpg" "$VS" --home "$IN" mirror import "$T/nosig.tgz" --require gpg
# a file that is no bundle at all is a usage error
head -c 2000 /dev/urandom >"$T/noise.bundle"
expect_rc 2 "not an archive: exit 2" "$VS" --home "$IN" mirror import "$T/noise.bundle"
expect_err_has "$T/noise.bundle: not a gzip-compressed tar archive" "not an archive: says so"
finish
