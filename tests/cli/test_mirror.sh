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
for f in agent-1.2.3.tgz agent-1.2.3.tgz.asc agent-1.2.3.tgz.sig tool-2.0.0.tgz tool-2.0.0.tgz.asc tool-2.0.0.tgz.sig index.json; do
    check "sync: $f in the mirror" test -f "$M/$f"
done
check "sync: package bytes as served" cmp -s "$M/agent-1.2.3.tgz" "$T/srv/agent-1.2.3.tgz"
check "sync: no temporary files left in DIR" sh -c "[ \$(ls -A '$M' | wc -l) -eq 7 ]"
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
cp "$M"/* "$T/srv/m/"
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
check "tampered: good package mirrored" test -f "$M2/agent-1.2.3.tgz"
check "tampered: bad package absent" test ! -e "$M2/tool-2.0.0.tgz"
check "tampered: bad signatures absent" test ! -e "$M2/tool-2.0.0.tgz.asc"
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
finish
