#!/bin/sh
# tests/cli/test_verify.sh - `vetstage verify` end to end: real gpg/openssl
# signatures from the fixtures, every refusal with its exit code, its one-line
# message naming the file and the reason, and an unchanged home.
. "$(dirname "$0")/../lib.sh"

# vs_import HOME [--rsa-scheme S] FILE...: `keys import` into HOME
vs_import() {
    _h=$1; shift
    "$VS" --home "$_h" -q keys import "$@" >/dev/null
}

H="$T/home"
P="$FIX/pkg/agent-1.2.3.tgz"
W="$T/work"
mkdir -p "$W"
trust_fixture_keys "$H"
check "fixture keys imported" test -n "$(ls "$H/trust/rsa" 2>/dev/null)"

# refuse DESC CODE TEXT ARGS...: exit CODE, one-line stderr (with -q) holding
# TEXT (plus at most one "vetstage: hint: " line), and nothing changed in the
# home or the package folder.
refuse() {
    _d=$1; _c=$2; _t=$3; shift 3
    snapshot "$H" >"$T/snap.home"
    snapshot "$W" >"$T/snap.work"
    expect_rc "$_c" "$_d" "$VS" --home "$H" -q verify "$@"
    expect_err_has "$_t" "$_d: message"
    _n=$(grep -cv '^vetstage: hint: ' "$T/err")
    _h=$(grep -c '^vetstage: hint: ' "$T/err")
    if [ "$_n" -eq 1 ] && [ "$_h" -le 1 ] && head -1 "$T/err" | grep -qv '^vetstage: hint: '; then
        ok "$_d: one line (and a hint)"
    else
        not_ok "$_d: stderr is not one line and an optional hint"; sed 's/^/    stderr: /' "$T/err" | head -5
    fi
    same_snapshot "$_d: home unchanged" "$T/snap.home" "$H"
    same_snapshot "$_d: files unchanged" "$T/snap.work" "$W"
}

# ---- good ------------------------------------------------------------------
expect_rc 0 "good package (asc + sig), JSON" "$VS" --home "$H" --json verify "$P"
expect_json "j['ok'] is True and j['verdict'] == 'trusted'" "JSON verdict trusted"
expect_json "j['sha256'] == '$(sha256sum "$P" | cut -d' ' -f1)' and j['size'] == $(stat -c %s "$P")" "JSON sha256 and size"
expect_json "[s['type'] for s in j['signatures']] == ['gpg', 'rsa'] and all(s['valid'] for s in j['signatures'])" "JSON two valid signatures"
expect_json "j['signatures'][0]['fingerprint'] == '$(cat "$FIX/vendor.fpr")' and j['signatures'][0]['created'].endswith('Z')" "JSON gpg signer and time"
expect_json "j['signatures'][1]['fingerprint'] == '$(cat "$FIX/org.fpr")' and j['signatures'][1]['created'] is None" "JSON rsa signer"
expect_rc 0 "good package, human output" "$VS" --home "$H" verify "$P"
expect_err_has "gpg  valid    $(cat "$FIX/vendor.fpr")" "human: gpg line"
expect_err_has "rsa  valid    $(cat "$FIX/org.fpr")" "human: rsa line"
expect_err_has "trusted $P" "human: trusted line"
expect_rc 3 "refusal, human output" "$VS" --home "$H" verify "$P" --rsa-sig "$P.other.sig"
expect_err_has "rsa  INVALID  - not made by any RSA key in the trust store" "human: INVALID rsa line"
expect_err_has "vetstage: $P.other.sig: not made by any RSA key" "human: error line last"
check "human: error line is the last line" sh -c "tail -1 '$T/err' | grep -q '^vetstage: '"

expect_rc 0 "binary OpenPGP signature" "$VS" --home "$H" verify "$P" --gpg-sig "$P.gpgbin"
expect_rc 0 "signed checksum list" "$VS" --home "$H" --json verify "$P" --checksums "$FIX/pkg/checksum_sha256.txt"
expect_json "j['verdict'] == 'trusted' and j['signatures'][0]['file'].endswith('checksum_sha256.txt.asc')" "checksum list: JSON"
expect_rc 0 "base64 RSA signature" "$VS" --home "$H" verify "$P" --rsa-sig "$P.sig.b64"

H2="$T/home2"
trust_fixture_keys "$H2"
expect_rc 0 "import PSS key" vs_import "$H2" --rsa-scheme pss-sha256 "$FIX/org-pss.pub.pem"
expect_rc 0 "PSS signature with a pss-sha256 key" "$VS" --home "$H2" --json verify "$P" --rsa-sig "$P.pss.sig"
expect_json "j['signatures'][1]['fingerprint'] == '$(cat "$FIX/org-pss.fpr")'" "PSS: signer is the PSS key"
expect_rc 0 "import ed25519 key" vs_import "$H2" "$FIX/ed25519.asc"
expect_rc 0 "ed25519 signature" "$VS" --home "$H2" verify "$P" --gpg-sig "$P.ed.asc"

# ---- refusals ----------------------------------------------------------------
cp "$P" "$P.asc" "$P.sig" "$W/"
WP="$W/agent-1.2.3.tgz"
printf '\001' | dd of="$WP" bs=1 seek=100 conv=notrunc 2>/dev/null
refuse "tampered package" 3 "$WP.asc: bad signature" "$WP"
cp "$P" "$WP"

refuse "unknown OpenPGP key" 3 "$P.other.asc: signed by unknown key" "$P" --gpg-sig "$P.other.asc"
vendor_gpg --local-user "$(cat "$FIX/other.fpr")!" --detach-sign -o "$W/other.gpgbin" "$P"
cat "$P.gpgbin" "$W/other.gpgbin" >"$W/two.sig"
rm -f "$W/other.gpgbin"
# apt's rule: a signature by a key not in the store does not count and is reported
expect_rc 0 "two signatures in one file, one by an unknown key: trusted" "$VS" --home "$H" --json verify "$P" --gpg-sig "$W/two.sig"
expect_json "[s['valid'] for s in j['signatures'] if s['type'] == 'gpg'] == [True, False] and 'signed by unknown key $(cat "$FIX/other.fpr")' in j['signatures'][1]['reason']" "two signatures: each judged, the unknown one reported"
refuse "SHA-1 signature" 3 "$P.sha1.asc: signature made with SHA1, a weak digest" "$P" --gpg-sig "$P.sha1.asc"

H3="$T/home3"
trust_fixture_keys "$H3"
expect_rc 0 "import expired key" vs_import "$H3" "$FIX/expired.asc"
expect_rc 0 "import revoked key and its revocation" vs_import "$H3" "$FIX/revoked.asc" "$FIX/revoked.rev"
Hsave=$H; H=$H3
refuse "expired key" 3 "$P.expired.asc: signed with expired key" "$P" --gpg-sig "$P.expired.asc"
refuse "revoked key" 3 "$P.revoked.asc: signed with revoked key" "$P" --gpg-sig "$P.revoked.asc"
H=$Hsave

refuse "RSA signature by an untrusted key" 3 "$P.other.sig: not made by any RSA key in the trust store" "$P" --rsa-sig "$P.other.sig"
cp "$P.sig" "$W/flip.sig"
printf '\004' | dd of="$W/flip.sig" bs=1 seek=10 conv=notrunc 2>/dev/null
cmp -s "$P.sig" "$W/flip.sig" && not_ok "bit flip did not change the signature"
refuse "RSA signature with a flipped bit" 3 "$W/flip.sig: bad signature" "$P" --rsa-sig "$W/flip.sig"
: >"$W/empty.asc"
refuse "empty OpenPGP signature file" 3 "$W/empty.asc: not an OpenPGP signature" "$P" --gpg-sig "$W/empty.asc"
: >"$W/empty.sig"
refuse "empty RSA signature file" 3 "$W/empty.sig: not an RSA signature" "$P" --rsa-sig "$W/empty.sig"
echo "this is not a signature" >"$W/garbage.asc"
refuse "garbage OpenPGP signature" 3 "$W/garbage.asc: not an OpenPGP signature" "$P" --gpg-sig "$W/garbage.asc"
printf '\211\001\000garbage-packet' >"$W/garbage-bin.asc"
refuse "garbage binary OpenPGP packet" 3 "$W/garbage-bin.asc: not an OpenPGP signature" "$P" --gpg-sig "$W/garbage-bin.asc"
# malformed RSA signature files say what is wrong with them
cp "$P.sig" "$W/nl.sig"; echo >>"$W/nl.sig"
refuse "raw RSA signature with a trailing newline" 3 "$W/nl.sig: malformed RSA signature file: 385 bytes, a 384-byte raw signature followed by a newline" "$P" --rsa-sig "$W/nl.sig"
tail -c +2 "$P.sig" >"$W/short.sig"
refuse "RSA signature with its leading byte stripped" 3 "$W/short.sig: malformed RSA signature file: 383 bytes, 1 short of the 384-byte modulus" "$P" --rsa-sig "$W/short.sig"
base64 "$W/short.sig" >"$W/short.sig.b64"
refuse "base64 RSA signature one byte short" 3 "malformed RSA signature file: base64 of 383 bytes, 1 short of the 384-byte modulus" "$P" --rsa-sig "$W/short.sig.b64"
head -c 100 "$P.sig" >"$W/cut.sig"
refuse "RSA signature of no modulus length" 3 "$W/cut.sig: not an RSA signature: 100 bytes, neither raw nor base64 of a modulus length (the stored keys' moduli are 384 bytes)" "$P" --rsa-sig "$W/cut.sig"
echo "this is not a signature" >"$W/garbage.sig"
refuse "garbage RSA signature" 3 "$W/garbage.sig: not an RSA signature" "$P" --rsa-sig "$W/garbage.sig"
head -c 17000 /dev/zero | tr '\0' 'A' >"$W/big.asc"
refuse "oversized OpenPGP signature" 3 "$W/big.asc: larger than the limit of 16384 bytes" "$P" --gpg-sig "$W/big.asc"
cp "$W/big.asc" "$W/big.sig"
refuse "oversized RSA signature" 3 "$W/big.sig: larger than the limit of 16384 bytes" "$P" --rsa-sig "$W/big.sig"
refuse "explicit OpenPGP signature not found" 3 "$W/none.asc: no OpenPGP signature: the file does not exist" "$P" --gpg-sig "$W/none.asc"

mkdir -p "$W/nosig"
cp "$P" "$P.asc" "$W/nosig/"
refuse "missing .sig under the default policy" 3 "$W/nosig/agent-1.2.3.tgz.sig: no RSA signature: the file does not exist" "$W/nosig/agent-1.2.3.tgz"
expect_err_has "(hint: give the RSA signature with --rsa-sig, or use --require gpg" "missing .sig: the hint names --require"
expect_rc 0 "--require gpg passes without .sig" "$VS" --home "$H" verify --require gpg "$W/nosig/agent-1.2.3.tgz"
mkdir -p "$W/noasc"
cp "$P" "$P.sig" "$W/noasc/"
refuse "missing .asc under the default policy" 3 "$W/noasc/agent-1.2.3.tgz.asc: no OpenPGP signature: the file does not exist" "$W/noasc/agent-1.2.3.tgz"
expect_err_has "or use --require rsa" "missing .asc: the hint names --require"
expect_rc 0 "--require rsa passes without .asc" "$VS" --home "$H" verify --require rsa "$W/noasc/agent-1.2.3.tgz"
expect_rc 0 "a bad signature of a kind not required is reported, not fatal" "$VS" --home "$H" --json verify --require gpg "$P" --rsa-sig "$P.other.sig"
expect_json "j['verdict'] == 'trusted' and j['signatures'][1]['valid'] is False and 'not made by any RSA key' in j['signatures'][1]['reason']" "not-required bad RSA signature shown as invalid"
refuse "first failing required check gives the status" 3 "$P.other.asc: signed by unknown key" "$P" --gpg-sig "$P.other.asc" --rsa-sig "$P.other.sig"

# checksum lists signed by the vendor, made here
mkdir -p "$W/ck"
(cd "$FIX/pkg" && sha256sum agent-1.2.3.tgz) | sed 's/agent-1.2.3.tgz/agent-9.9.9.tgz/' >"$W/ck/other-name.txt"
gpg_sign "$W/ck/other-name.txt"
refuse "checksum list not naming the package" 3 "$W/ck/other-name.txt: no SHA-256 entry for agent-1.2.3.tgz" "$P" --checksums "$W/ck/other-name.txt"
echo "$(printf '%064d' 0)  agent-1.2.3.tgz" >"$W/ck/wrong-hash.txt"
gpg_sign "$W/ck/wrong-hash.txt"
refuse "checksum list with a wrong hash" 3 "$W/ck/wrong-hash.txt: SHA-256 of agent-1.2.3.tgz does not match the list" "$P" --checksums "$W/ck/wrong-hash.txt"
(cd "$FIX/pkg" && sha1sum agent-1.2.3.tgz) >"$W/ck/sha1-only.txt"
gpg_sign "$W/ck/sha1-only.txt"
refuse "checksum list with only a SHA-1 hash" 3 "$W/ck/sha1-only.txt: the entry for agent-1.2.3.tgz on line 1 is not a SHA-256 hash" "$P" --checksums "$W/ck/sha1-only.txt"
cp "$FIX/pkg/checksum_sha256.txt" "$W/ck/sha1sig.txt"
vendor_gpg --digest-algo SHA1 --local-user "$(cat "$FIX/vendor.fpr")!" --armor --detach-sign -o "$W/ck/sha1sig.txt.asc" "$W/ck/sha1sig.txt"
refuse "checksum list signed with SHA-1" 3 "$W/ck/sha1sig.txt.asc: signature made with SHA1, a weak digest" "$P" --checksums "$W/ck/sha1sig.txt"
cp "$FIX/pkg/checksum_sha256.txt" "$W/ck/unsigned.txt"
refuse "checksum list without its signature" 3 "$W/ck/unsigned.txt.asc: no OpenPGP signature: the file does not exist" "$P" --checksums "$W/ck/unsigned.txt"
cp "$FIX/pkg/checksum_sha256.txt" "$W/ck/tampered.txt"
cp "$FIX/pkg/checksum_sha256.txt.asc" "$W/ck/tampered.txt.asc"
echo "$(printf '%064d' 1)  extra.tgz" >>"$W/ck/tampered.txt"
refuse "altered checksum list" 3 "$W/ck/tampered.txt.asc: bad signature" "$P" --checksums "$W/ck/tampered.txt"

# checksum lists as upstreams publish them, written by the real sha256sum
vfpr=$(cat "$FIX/vendor.fpr"); ofpr=$(cat "$FIX/other.fpr")
mkdir -p "$W/pub"
cp "$P" "$W/pub/agent-1.2.3.tgz"
echo "other file" >"$W/pub/README"
(cd "$W/pub" && sha256sum agent-1.2.3.tgz README) >"$W/pub/plain.txt"
(cd "$W/pub" && sha256sum --tag README agent-1.2.3.tgz) >"$W/pub/tag.txt"
(cd "$W/pub" && sha512sum --tag agent-1.2.3.tgz && md5sum --tag README && sha256sum --tag agent-1.2.3.tgz) >"$W/pub/mixed.txt"
(cd "$W/pub" && sha256sum -b ./agent-1.2.3.tgz ./README) >"$W/pub/dotslash.txt"
{ echo "# release 1.2.3"; echo "this line is for nobody"; echo "SHA256 (README) = not-hex"; (cd "$W/pub" && sha256sum agent-1.2.3.tgz); echo "deadbeef  other.tgz"; } >"$W/pub/malformed.txt"
for l in plain tag mixed dotslash malformed; do
    (cd "$W/pub" && sha256sum -c --ignore-missing "$l.txt" >/dev/null 2>&1) || [ "$l" = malformed ] || [ "$l" = mixed ] || not_ok "sha256sum -c refuses $l.txt"
    gpg_sign "$W/pub/$l.txt"
    expect_rc 0 "checksum list ($l), detached signature" "$VS" --home "$H" verify --require gpg "$W/pub/agent-1.2.3.tgz" --checksums "$W/pub/$l.txt"
    vendor_gpg -u "$vfpr!" --clearsign -o "$W/pub/$l.clear.txt" "$W/pub/$l.txt"
    expect_rc 0 "checksum list ($l), clearsigned" "$VS" --home "$H" --json verify --require gpg "$W/pub/agent-1.2.3.tgz" --checksums "$W/pub/$l.clear.txt"
done
expect_json "j['verdict'] == 'trusted' and j['signatures'][0]['file'].endswith('malformed.clear.txt') and j['signatures'][0]['fingerprint'] == '$vfpr'" "clearsigned list: JSON names the list and the signer"
check "clearsigned list without a .asc beside it" test ! -e "$W/pub/plain.clear.txt.asc"
# a clearsigned list signed by the vendor and by a key not in the store
vendor_gpg -u "$vfpr!" -u "$ofpr!" --clearsign -o "$W/pub/two.clear.txt" "$W/pub/plain.txt"
expect_rc 0 "clearsigned list, vendor + unknown signer" "$VS" --home "$H" --json verify --require gpg "$W/pub/agent-1.2.3.tgz" --checksums "$W/pub/two.clear.txt"
expect_json "sorted(s['valid'] for s in j['signatures']) == [False, True]" "clearsigned, two signers: the unknown one reported"
# clearsigned refusals
vendor_gpg -u "$vfpr!" --digest-algo SHA1 --clearsign -o "$W/pub/sha1.clear.txt" "$W/pub/plain.txt" 2>/dev/null
refuse "clearsigned list made with SHA-1" 3 "$W/pub/sha1.clear.txt: clearsigned with a weak or unknown hash (Hash: SHA1)" --require gpg "$W/pub/agent-1.2.3.tgz" --checksums "$W/pub/sha1.clear.txt"
sed 's/^\([0-9a-f]*\)  README/0000000000000000000000000000000000000000000000000000000000000000  README/' "$W/pub/plain.clear.txt" >"$W/pub/altered.clear.txt"
cmp -s "$W/pub/plain.clear.txt" "$W/pub/altered.clear.txt" && not_ok "the alteration changed nothing"
refuse "clearsigned list altered" 3 "$W/pub/altered.clear.txt: bad signature" --require gpg "$W/pub/agent-1.2.3.tgz" --checksums "$W/pub/altered.clear.txt"
# unsigned text beside the signed message is never read: it is refused
{ echo "$(printf '%064d' 7)  agent-1.2.3.tgz"; cat "$W/pub/plain.clear.txt"; } >"$W/pub/before.clear.txt"
refuse "text before a clearsigned message" 3 "$W/pub/before.clear.txt: not a clearsigned message (line 1 precedes its first line)" --require gpg "$W/pub/agent-1.2.3.tgz" --checksums "$W/pub/before.clear.txt"
(cd "$W/pub" && printf '%064d  agent-1.2.3.tgz\n' 7) >"$W/pub/evil.txt"
vendor_gpg -u "$ofpr!" --clearsign -o "$W/pub/evil.clear.txt" "$W/pub/evil.txt"
cat "$W/pub/plain.clear.txt" "$W/pub/evil.clear.txt" >"$W/pub/twomsg.clear.txt"
refuse "a second clearsigned message appended" 3 "only one signed message is accepted" --require gpg "$W/pub/agent-1.2.3.tgz" --checksums "$W/pub/twomsg.clear.txt"
cp "$W/pub/plain.clear.txt" "$W/pub/after.clear.txt"; echo "$(printf '%064d' 7)  agent-1.2.3.tgz" >>"$W/pub/after.clear.txt"
refuse "text after a clearsigned message" 3 "text after its signature" --require gpg "$W/pub/agent-1.2.3.tgz" --checksums "$W/pub/after.clear.txt"
vendor_gpg -u "$ofpr!" --clearsign -o "$W/pub/other.clear.txt" "$W/pub/plain.txt"
refuse "clearsigned list by an unknown key only" 3 "$W/pub/other.clear.txt: signed by unknown key" --require gpg "$W/pub/agent-1.2.3.tgz" --checksums "$W/pub/other.clear.txt"
vendor_gpg -u "$vfpr!" --clearsign -o "$W/pub/wrong.clear.txt" "$W/ck/wrong-hash.txt"
refuse "clearsigned list with a wrong hash" 3 "$W/pub/wrong.clear.txt: SHA-256 of agent-1.2.3.tgz does not match the list" --require gpg "$W/pub/agent-1.2.3.tgz" --checksums "$W/pub/wrong.clear.txt"
# a clearsigned file given where a detached signature belongs
refuse "clearsigned file as --gpg-sig" 3 "$W/pub/plain.clear.txt: a clearsigned file, not a detached signature" --require gpg "$W/pub/agent-1.2.3.tgz" --gpg-sig "$W/pub/plain.clear.txt"
expect_err_has "(hint: a clearsigned checksum list is given with --checksums FILE" "clearsigned as --gpg-sig: hint names --checksums"

# signature age: a key and a signature made in the past (faked system time)
vendor_gpg --faked-system-time '20200101T000000!' --quick-gen-key 'Old Vendor <old@example.test>' ed25519 sign never 2>/dev/null
old_fpr=$(vendor_gpg --with-colons --list-keys old@example.test | awk -F: '/^fpr:/ {print $10; exit}')
vendor_gpg --armor --export "$old_fpr" >"$T/old.asc"
cp "$P" "$W/old.tgz"
vendor_gpg --faked-system-time '20250101T000000!' --local-user "$old_fpr!" --armor --detach-sign -o "$W/old.tgz.asc" "$W/old.tgz" 2>/dev/null
H4="$T/home4"
vs_import "$H4" "$T/old.asc"
expect_rc 0 "old signature without --max-sig-age" "$VS" --home "$H4" verify --require gpg "$W/old.tgz"
Hsave=$H; H=$H4
refuse "signature older than --max-sig-age" 7 "$W/old.tgz.asc: signature is older than the allowed 1 days" --require gpg --max-sig-age 1 "$W/old.tgz"
# a signature dated two days ahead of this machine's clock
cp "$P" "$W/future.tgz"
vendor_gpg --faked-system-time "$(date -u -d '+2 days' +%Y%m%dT%H%M%S)!" --local-user "$old_fpr!" --armor --detach-sign -o "$W/future.tgz.asc" "$W/future.tgz" 2>/dev/null
refuse "signature dated in the future" 3 "$W/future.tgz.asc: signature is dated in the future" --require gpg "$W/future.tgz"
H=$Hsave

# ---- several signatures in one file, made by one real `gpg -u A -u B --detach-sign`
vfpr=$(cat "$FIX/vendor.fpr"); efpr=$(cat "$FIX/ed25519.fpr"); ofpr=$(cat "$FIX/other.fpr")
mkdir -p "$W/multi"
cp "$P" "$W/multi/pkg.tgz"
vendor_gpg -u "$vfpr!" -u "$ofpr!" --armor --detach-sign -o "$W/multi/vo.asc" "$W/multi/pkg.tgz"
check "gpg wrote two signatures into one .asc" sh -c "gpg --list-packets '$W/multi/vo.asc' 2>/dev/null | grep -c '^:signature packet' | grep -qx 2"
expect_rc 0 "vendor + unknown signer in one .asc: trusted" "$VS" --home "$H" --json verify --require gpg "$W/multi/pkg.tgz" --gpg-sig "$W/multi/vo.asc"
expect_json "sorted((s['valid'], s['fingerprint'] or '') for s in j['signatures']) == [(False, ''), (True, '$vfpr')] and any('signed by unknown key' in s['reason'] and '$ofpr'[-16:] in s['reason'] for s in j['signatures'])" "vendor + unknown: the unknown one reported, not counted"
Hm="$T/home-multi"
trust_fixture_keys "$Hm"
vs_import "$Hm" "$FIX/ed25519.asc"
vendor_gpg -u "$vfpr!" -u "$efpr!" --detach-sign -o "$W/multi/ve.sig" "$W/multi/pkg.tgz"
expect_rc 0 "two pinned signers, both good: trusted" "$VS" --home "$Hm" --json verify --require gpg "$W/multi/pkg.tgz" --gpg-sig "$W/multi/ve.sig"
expect_json "len(j['signatures']) == 2 and all(s['valid'] for s in j['signatures'])" "two pinned signers: both valid"
# one pinned signer's signature over other bytes: rejects although the other is good
echo "other bytes" >"$W/multi/other.txt"
vendor_gpg -u "$efpr!" --detach-sign -o "$W/multi/e-other.sig" "$W/multi/other.txt"
vendor_gpg -u "$vfpr!" --detach-sign -o "$W/multi/v.sig" "$W/multi/pkg.tgz"
cat "$W/multi/v.sig" "$W/multi/e-other.sig" >"$W/multi/v-ebad.sig"
Hsave=$H; H=$Hm
refuse "a pinned key's signature that does not match rejects" 3 "$W/multi/v-ebad.sig: bad signature" --require gpg "$W/multi/pkg.tgz" --gpg-sig "$W/multi/v-ebad.sig"
H=$Hsave
expect_rc 0 "the same file where that key is not in the store: trusted" "$VS" --home "$H" verify --require gpg "$W/multi/pkg.tgz" --gpg-sig "$W/multi/v-ebad.sig"
# a revoked signer beside a current one (home3 holds the vendor key and the revoked one)
rfpr=$(cat "$FIX/revoked.fpr")
vendor_gpg -u "$vfpr!" -u "$rfpr!" --armor --detach-sign -o "$W/multi/vr.asc" "$W/multi/pkg.tgz"
expect_rc 0 "current + revoked signer in one .asc: trusted" "$VS" --home "$H3" --json verify --require gpg "$W/multi/pkg.tgz" --gpg-sig "$W/multi/vr.asc"
expect_json "sorted(s['valid'] for s in j['signatures']) == [False, True] and any('signed with revoked key $rfpr' in s['reason'] for s in j['signatures'])" "current + revoked: the revoked one reported, not counted"
# an expired signer beside a current one, both signing at a time when both were valid
vendor_gpg --faked-system-time '20200101T000000!' --quick-gen-key 'Steady Vendor <steady@example.test>' ed25519 sign never 2>/dev/null
sfpr=$(vendor_gpg --with-colons --list-keys steady@example.test | awk -F: '/^fpr:/ {print $10; exit}')
vendor_gpg --armor --export "$sfpr" >"$T/steady.asc"
xfpr=$(cat "$FIX/expired.fpr")
vendor_gpg --faked-system-time '20200601T000000!' -u "$sfpr!" -u "$xfpr!" --armor --detach-sign -o "$W/multi/sx.asc" "$W/multi/pkg.tgz" 2>/dev/null
Hx="$T/home-expired"
vs_import "$Hx" "$T/steady.asc"
vs_import "$Hx" "$FIX/expired.asc"
expect_rc 0 "current + expired signer in one .asc: trusted" "$VS" --home "$Hx" --json verify --require gpg "$W/multi/pkg.tgz" --gpg-sig "$W/multi/sx.asc"
expect_json "sorted(s['valid'] for s in j['signatures']) == [False, True] and any('signed with expired key $xfpr' in s['reason'] for s in j['signatures'])" "current + expired: the expired one reported, not counted"
vendor_gpg --faked-system-time '20200601T000000!' -u "$xfpr!" --armor --detach-sign -o "$W/multi/x.asc" "$W/multi/pkg.tgz" 2>/dev/null
Hsave=$H; H=$Hx
refuse "only an expired signer" 3 "$W/multi/x.asc: signed with expired key $xfpr" --require gpg "$W/multi/pkg.tgz" --gpg-sig "$W/multi/x.asc"
H=$Hsave

# ---- the policy pre-check: a policy the store cannot meet, before any hashing
H5="$T/home5"
vs_import "$H5" "$FIX/vendor.asc"
Hsave=$H; H=$H5
refuse "default policy, no RSA key in the store" 3 "RSA signature: required, but the trust store holds no RSA key" "$P"
expect_err_has "(hint: use --require gpg" "no RSA key: the hint names --require gpg"
refuse "--require rsa, no RSA key in the store" 3 "RSA signature: required, but the trust store holds no RSA key" --require rsa "$P"
expect_err_has "--require" "--require rsa: the hint names --require"
refuse "policy check before reading the package" 3 "RSA signature: required" --require rsa "$W/absent.tgz"
expect_rc 3 "policy pre-check, JSON" "$VS" --home "$H5" --json verify "$P"
expect_json "j['ok'] is False and j['error']['code'] == 'verify' and j['error']['subject'] == 'RSA signature' and '--require gpg' in j['error']['hint']" "policy pre-check: JSON subject and hint"
expect_rc 0 "--require gpg with only an OpenPGP key" "$VS" --home "$H5" verify --require gpg "$P"
H=$Hsave

# ---- usage ----------------------------------------------------------------------
refuse "--require bogus" 2 "--require: 'bogus' is not gpg,rsa, gpg or rsa" --require bogus "$P"
refuse "--max-sig-age garbage" 2 "--max-sig-age: 'x' is not a number of days" --max-sig-age x "$P"
refuse "missing package" 2 "$W/absent.tgz" "$W/absent.tgz"
refuse "no package" 2 "no PACKAGE given" --require gpg
expect_rc 3 "refusal with --json" "$VS" --home "$H" --json verify "$P" --rsa-sig "$P.other.sig"
expect_json "j['ok'] is False and j['error']['code'] == 'verify' and j['verdict'] == 'rejected' and j['signatures'][1]['valid'] is False" "refusal JSON: error and verdict"
expect_rc 0 "--help" "$VS" verify --help
expect_out_has "not required" "--help documents the not-required choice"

finish
