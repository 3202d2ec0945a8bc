#!/bin/sh
# tests/cli/test_keys.sh - `vetstage keys import|list|remove` end to end, with
# the real gpg (through gpgme) and the fixtures' keys. Every refusal checks
# the exit code, the one-line message naming the file, and that HOME/trust
# did not change.
. "$(dirname "$0")/../lib.sh"

# The user's own GnuPG home must never be created or touched.
export HOME="$T/fakehome"
mkdir -p "$HOME"
unset GNUPGHOME
H="$T/home"
K="$VS --home $H"
VENDOR=$(cat "$FIX/vendor.fpr")
ED=$(cat "$FIX/ed25519.fpr")
REVOKED=$(cat "$FIX/revoked.fpr")
ORG=$(cat "$FIX/org.fpr")
lower() { echo "$1" | tr 'A-F' 'a-f'; }

# expect_error_line DESC: stderr is one error line, optionally followed by one hint line
expect_error_line() {
    _n=$(grep -vc '^vetstage: hint: ' "$T/err")
    _h=$(grep -c '^vetstage: hint: ' "$T/err")
    if [ "$_n" -eq 1 ] && [ "$_h" -le 1 ]; then ok "$1"; else
        not_ok "$1: stderr has $_n lines and $_h hints"; sed 's/^/    stderr: /' "$T/err" | head -5; fi
}
# refuse CODE DESC FILE-IN-MESSAGE CMD...: exit code, one line naming the file, store unchanged
refuse() {
    _code=$1; _d=$2; _name=$3; shift 3
    _store=${STORE:-$H}
    snapshot "$_store/trust" >"$T/snap.before"
    expect_rc "$_code" "$_d" "$@"
    expect_err_has "$_name" "$_d: message names $_name"
    expect_error_line "$_d: one-line message"
    same_snapshot "$_d: store unchanged" "$T/snap.before" "$_store/trust"
}

# ---- help ------------------------------------------------------------------
expect_rc 0 "keys --help" $VS keys --help
expect_out_has "keys import FILE..." "help shows import"
expect_out_has "--rsa-scheme" "help shows --rsa-scheme"
expect_rc 2 "keys without subcommand" $VS --home "$H" keys
expect_rc 2 "keys import without files" $K keys import

# ---- import of every accepted form -----------------------------------------
expect_rc 0 "import vendor.asc (armored)" $K keys import "$FIX/vendor.asc"
expect_err_has "imported openpgp $VENDOR rsa3072 \"Demo Vendor <vendor@example.test>\"" "import line for vendor"
check "GnuPG home is private (0700)" test "$(stat -c %a "$H/trust/gnupg")" = 700
check "gpg.conf pins trust-model always" grep -qx 'trust-model always' "$H/trust/gnupg/gpg.conf"
check "gpg.conf forbids starting gpg-agent" grep -qx 'no-autostart' "$H/trust/gnupg/gpg.conf"
expect_rc 0 "import vendor.gpg (binary, same key)" $K keys import "$FIX/vendor.gpg"
expect_err_has "$VENDOR" "binary import names the key"
expect_rc 0 "import ed25519.asc" $K keys import "$FIX/ed25519.asc"
expect_err_has "imported openpgp $ED ed25519" "import line for ed25519"
expect_rc 0 "import org.pub.pem" $K keys import "$FIX/org.pub.pem"
expect_err_has "imported rsa $ORG 3072 bits pkcs1-sha256" "import line for the RSA key"
expect_rc 0 "import org.pub.rsa.pem (PKCS#1, same key)" $K keys import "$FIX/org.pub.rsa.pem"
expect_err_has "$ORG" "PKCS#1 gives the same fingerprint"
expect_rc 0 "import org.pub.der (DER, same key)" $K --json keys import "$FIX/org.pub.der"
expect_json "j['ok'] and j['keys'][0]['fingerprint'] == '$ORG' and j['keys'][0]['scheme'] == 'pkcs1-sha256'" "DER import JSON: same fingerprint as the PEM"
check "one RSA file for one key" test "$(ls "$H/trust/rsa" | wc -l)" -eq 1

# ---- list ------------------------------------------------------------------
expect_rc 0 "keys list" $K keys list
expect_out_has "openpgp $VENDOR rsa3072" "list shows vendor"
expect_out_has "openpgp $ED ed25519" "list shows ed25519"
expect_out_has "rsa $ORG 3072 bits pkcs1-sha256" "list shows the RSA key"
check "list: one key per line" test "$(wc -l <"$T/out")" -eq 3
expect_rc 0 "keys list --json" $K keys list --json
expect_json "j['ok'] is True and len(j['keys']) == 3" "list JSON has 3 keys"
expect_json "[k['type'] for k in j['keys']] == ['openpgp', 'openpgp', 'rsa']" "OpenPGP first, then RSA"
expect_json "all(set(k) >= {'type','fingerprint','algorithm','bits','uid','created','expires','revoked','expired'} for k in j['keys'])" "every field present"
expect_json "[k for k in j['keys'] if k['fingerprint'] == '$VENDOR'][0]['algorithm'] == 'rsa' and [k for k in j['keys'] if k['fingerprint'] == '$VENDOR'][0]['bits'] == 3072" "vendor algorithm and bits"
expect_json "[k for k in j['keys'] if k['type'] == 'rsa'][0]['uid'] is None and [k for k in j['keys'] if k['type'] == 'rsa'][0]['created'] is None" "RSA has null uid and times"
expect_json "[k for k in j['keys'] if k['fingerprint'] == '$VENDOR'][0]['created'].endswith('Z')" "ISO times"

# ---- refusals: nothing changes ------------------------------------------------
printf 'this is not a key\n' >"$T/garbage.txt"
refuse 2 "garbage refused" "garbage.txt" $K keys import "$T/garbage.txt"
expect_err_has "not a public key" "garbage: reason"
refuse 2 "secret key refused" "vendor-secret.asc" $K keys import "$FIX/vendor-secret.asc"
expect_err_has "secret" "secret key: reason"
refuse 2 "RSA private key refused" "org.key" $K keys import "$FIX/org.key"
refuse 7 "1024-bit RSA refused by policy" "weak1024.pub.pem" $K keys import "$FIX/weak1024.pub.pem"
expect_err_has "below the minimum of 2048" "weak key: reason"
refuse 7 "exponent 3 refused by policy" "exp3.pub.pem" $K keys import "$FIX/exp3.pub.pem"
refuse 3 "--expect-fingerprint mismatch" "other.asc" $K keys import --expect-fingerprint "$VENDOR" "$FIX/other.asc"
expect_err_has "$VENDOR: named by --expect-fingerprint but not in" "mismatch: reason names the fingerprint"
refuse 3 "--expect-fingerprint mismatch (RSA)" "other-org.pub.pem" $K keys import --expect-fingerprint "$ORG" "$FIX/other-org.pub.pem"
refuse 2 "--expect-fingerprint garbage" "zz" $K keys import --expect-fingerprint zz "$FIX/vendor.asc"
refuse 2 "multi-file import, last file garbage: nothing imported" "garbage.txt" \
    $K keys import "$FIX/other.asc" "$FIX/other-org.pub.pem" "$T/garbage.txt"
refuse 7 "multi-file import, last file weak: nothing imported" "weak1024.pub.pem" \
    $K keys import "$FIX/other.asc" "$FIX/org-pss.pub.pem" "$FIX/weak1024.pub.pem"
refuse 2 "revocation for a key not in the store" "revoked.rev" $K keys import "$FIX/revoked.rev"
expect_err_has "not in the store" "revocation: reason"
refuse 2 "--rsa-scheme bogus" "bogus" $K keys import --rsa-scheme bogus "$FIX/org-pss.pub.pem"
refuse 2 "same RSA key with another scheme" "org.pub.pem" $K keys import --rsa-scheme pss-sha256 "$FIX/org.pub.pem"
expect_err_has "already in the store with scheme pkcs1-sha256; remove it first" "scheme binding: reason"
refuse 2 "missing file" "nonexistent.asc" $K keys import "$T/nonexistent.asc"
head -c 2000000 /dev/zero >"$T/big.pem"
refuse 2 "file over VS_MAX_KEY_FILE" "big.pem" $K keys import "$T/big.pem"
refuse 2 "remove an unknown key" "$(cat "$FIX/other.fpr")" $K keys remove "$(cat "$FIX/other.fpr")"
refuse 2 "remove a non-fingerprint" "abc" $K keys remove abc
check "no scratch GnuPG homes left behind" test -z "$(ls "$H/trust" | grep tmp-)"

# --json refusal
run $K --json keys import "$T/garbage.txt"
expect_json "j['ok'] is False and j['error']['code'] == 'usage' and 'garbage.txt' in j['error']['message']" "JSON refusal"

# ---- expect-fingerprint match, schemes, revocation ------------------------------
expect_rc 0 "--expect-fingerprint match (lower case)" $K keys import --expect-fingerprint "$(lower "$(cat "$FIX/other.fpr")")" "$FIX/other.asc"
expect_rc 0 "--rsa-scheme pss-sha256" $K keys import --rsa-scheme pss-sha256 "$FIX/org-pss.pub.pem"
expect_err_has "$(cat "$FIX/org-pss.fpr") 2048 bits pss-sha256" "scheme in the import line"
expect_rc 0 "import revoked.asc then revoked.rev in one call" $K keys import "$FIX/revoked.asc" "$FIX/revoked.rev"
expect_err_has "revoked openpgp $REVOKED" "revocation line"
expect_rc 0 "list after revocation" $K --json keys list
expect_json "[k for k in j['keys'] if k['fingerprint'] == '$REVOKED'][0]['revoked'] is True" "list shows the key revoked"
expect_json "[k for k in j['keys'] if k['fingerprint'] == '$VENDOR'][0]['revoked'] is False" "others not revoked"
expect_rc 0 "expired key imports and lists as expired" $K keys import "$FIX/expired.asc"
run $K --json keys list
expect_json "[k for k in j['keys'] if k['fingerprint'] == '$(cat "$FIX/expired.fpr")'][0]['expired'] is True" "expired flag"

# ---- remove ---------------------------------------------------------------------
expect_rc 0 "remove OpenPGP key (lower case)" $K keys remove "$(lower "$VENDOR")"
expect_rc 0 "remove RSA key (upper case)" $K keys remove "$(echo "$ORG" | tr 'a-f' 'A-F')"
run $K --json keys list
expect_json "'$VENDOR' not in [k['fingerprint'] for k in j['keys']] and '$ORG' not in [k['fingerprint'] for k in j['keys']]" "removed keys gone"
expect_json "'$ED' in [k['fingerprint'] for k in j['keys']]" "other keys stay"
refuse 2 "remove twice" "$VENDOR" $K keys remove "$VENDOR"
expect_rc 0 "re-import after remove, now with another scheme" $K keys import --rsa-scheme pkcs1-sha512 "$FIX/org.pub.der"
expect_err_has "pkcs1-sha512" "rebound scheme"

# ---- a damaged RSA file is reported (exit 6), never trusted --------------------------
RF="$H/trust/rsa/${ORG#sha256:}.pem"
check "RSA key file named by its fingerprint" test -f "$RF"
check "RSA key file records its scheme" grep -qx 'scheme: pkcs1-sha512' "$RF"
sed -i '3s/^..../AAAA/' "$RF"
expect_rc 6 "list with a damaged RSA key file" $K keys list
expect_err_has "$RF" "damage message names the file"
expect_one_line_err "damage: one-line message"
expect_rc 0 "a damaged key can still be removed" $K keys remove "$ORG"
expect_rc 0 "list works again" $K keys list

# ---- what an interrupted import left is cleaned up by the next one --------------------
mkdir -p "$H/trust/tmp-deadbeef/sub" && echo x >"$H/trust/tmp-deadbeef/sub/pubring.kbx"
echo x >"$H/trust/rsa/.tmp-0123456789abcdef"
expect_rc 0 "import after an interrupted one" $K keys import "$FIX/org.pub.pem"
check "stale scratch home removed" test ! -e "$H/trust/tmp-deadbeef"
check "stale staged key file removed" test ! -e "$H/trust/rsa/.tmp-0123456789abcdef"

# ---- a user id with terminal escapes is shown defanged ---------------------------------
EG="$T/evil-gnupg"
mkdir -p "$EG" && chmod 700 "$EG"
_kill_evil_agent() { gpgconf --homedir "$EG" --kill gpg-agent 2>/dev/null; }
at_exit _kill_evil_agent
gpg --homedir "$EG" --batch --quiet --passphrase '' --pinentry-mode loopback \
    --quick-gen-key "$(printf 'Evil \033[31mRed <evil@example.test>')" ed25519 sign 1y 2>/dev/null
gpg --homedir "$EG" --armor --export >"$T/evil.asc"
gpg --homedir "$EG" --batch --quiet --passphrase '' --pinentry-mode loopback \
    --quick-gen-key 'Weak Vendor <weak@example.test>' rsa1024 sign 1y 2>/dev/null
gpg --homedir "$EG" --armor --export weak@example.test >"$T/weak-pgp.asc"
_kill_evil_agent
refuse 7 "OpenPGP rsa1024 key refused by policy" "weak-pgp.asc" $K keys import "$T/weak-pgp.asc"
expect_err_has "1024-bit RSA primary key, below the minimum of 2048 bits" "weak OpenPGP key: reason"
expect_rc 0 "import a key whose user id holds an escape sequence" $K keys import "$T/evil.asc"
expect_err_has 'Evil ?[31mRed' "escape shown as ?"
check "no escape character reaches the terminal" sh -c "! grep -q \"\$(printf '\033')\" '$T/err'"
run $K --json keys list
expect_json "any(k['uid'] == 'Evil ?[31mRed <evil@example.test>' for k in j['keys'])" "user id sanitised in JSON"

# ---- two imports at once: the lock serialises them, no update is lost ------------
H2="$T/home2"
$VS --home "$H2" -q keys import "$FIX/org.pub.pem" >/dev/null 2>&1
$VS --home "$H2" -q keys import "$FIX/vendor.asc" >"$T/p1.out" 2>&1 &
p1=$!
$VS --home "$H2" -q keys import "$FIX/ed25519.asc" >"$T/p2.out" 2>&1 &
p2=$!
$VS --home "$H2" -q keys import "$FIX/other.asc" "$FIX/other-org.pub.pem" >"$T/p3.out" 2>&1
wait $p1; r1=$?
wait $p2; r2=$?
check "concurrent imports all succeed" test "$r1$r2" = "00"
run $VS --home "$H2" --json keys list
expect_json "len(j['keys']) == 5" "concurrent imports: every key is in the store"

# ---- key files with several keys (as upstreams ship them) ----------------------------
# Made by the real gpg: the fixture vendor's home (a copy) gets an old DSA-1024
# key, an RSA-1024 key and an encryption subkey on the vendor key; one export
# then holds vendor (RSA-3072 + subkey), DSA-1024, RSA-1024, the expired key.
OLD_DSA_UID='Old DSA Maintainer <dsa@example.test>'
vendor_gpg --quick-gen-key "$OLD_DSA_UID" dsa1024 sign never 2>/dev/null
vendor_gpg --quick-gen-key 'Old RSA1024 <rsa1024@example.test>' rsa1024 sign never 2>/dev/null
vendor_gpg --quick-add-key "$VENDOR" rsa3072 encr 3y 2>/dev/null
fpr_in_vendor() { vendor_gpg --with-colons --list-keys "$1" | awk -F: '/^fpr:/ {print $10; exit}'; }
DSA=$(fpr_in_vendor dsa@example.test)
R1024=$(fpr_in_vendor rsa1024@example.test)
EXPIRED=$(cat "$FIX/expired.fpr")
SUBKEY=$(vendor_gpg --with-colons --list-keys "$VENDOR" | awk -F: '/^fpr:/ {n++} /^fpr:/ && n == 2 {print $10}')
vendor_gpg --armor --export "$DSA" "$VENDOR" "$R1024" "$EXPIRED" >"$T/multi.asc"
check "the multi-key file holds four keys (gpg says)" \
    test "$(gpg --homedir "$T/vendor-gnupg" --show-keys --with-colons "$T/multi.asc" 2>/dev/null | grep -c '^pub:')" -eq 4
check "the DSA key is 1024 bits" test "$(vendor_gpg --with-colons --list-keys "$DSA" | awk -F: '/^pub:/ {print $4 "/" $3}')" = "17/1024"
# the way gpg --fingerprint prints it: groups of four, two spaces in the middle
VENDOR_GPG_STYLE=$(vendor_gpg --fingerprint "$VENDOR" | sed -n 2p)
check "gpg --fingerprint prints groups of four" sh -c "echo '$VENDOR_GPG_STYLE' | grep -q '[0-9A-F]\{4\}  [0-9A-F]\{4\}'"
M="$T/multi-home"
MK="$VS --home $M"
PSS=$(cat "$FIX/org-pss.fpr")
$MK -q keys import --rsa-scheme pss-sha256 "$FIX/org-pss.pub.pem" >/dev/null 2>&1 # a store to snapshot
pgp_keys() { echo "[k['fingerprint'] for k in j['keys'] if k['type'] == 'openpgp']"; }

STORE=$M refuse 7 "several keys, one weak, nothing named: refused" "multi.asc" $MK keys import "$T/multi.asc"
expect_err_has "1024-bit DSA primary key, below the minimum of 2048 bits" "weak key among several: reason"
expect_err_has "(hint: $T/multi.asc holds 4 keys: name the ones to import with --expect-fingerprint" "hint names --expect-fingerprint"
STORE=$M refuse 7 "the weak DSA key named: refused" "multi.asc" $MK keys import --expect-fingerprint "$DSA" "$T/multi.asc"
STORE=$M refuse 7 "the weak RSA-1024 key named: refused" "multi.asc" $MK keys import --expect-fingerprint "$R1024" "$T/multi.asc"
expect_err_has "1024-bit RSA primary key" "RSA-1024: reason"
STORE=$M refuse 3 "a named key in no file: exit 3, nothing imported" "$ED" \
    $MK keys import --expect-fingerprint "$VENDOR" --expect-fingerprint "$ED" "$T/multi.asc"
expect_err_has "not in $T/multi.asc (it holds" "not found: the file's keys listed"
STORE=$M refuse 3 "a subkey's fingerprint named: exit 3" "$SUBKEY" $MK keys import --expect-fingerprint "$SUBKEY" "$T/multi.asc"
expect_err_has "a subkey of $VENDOR" "subkey: names the primary key"
STORE=$M refuse 2 "a long key id is not a fingerprint" "$(echo "$VENDOR" | cut -c25-)" \
    $MK keys import --expect-fingerprint "$(echo "$VENDOR" | cut -c25-)" "$T/multi.asc"
expect_err_has "a key id, not a fingerprint" "key id: reason"
STORE=$M refuse 2 "a fingerprint with a group split wrongly" "not a fingerprint" \
    $MK keys import --expect-fingerprint "$(echo "$VENDOR" | sed 's/^\(...\)/\1 /')" "$T/multi.asc"

expect_rc 0 "named good key out of a file with weak and expired keys (gpg --fingerprint spelling)" \
    $MK keys import --expect-fingerprint "$VENDOR_GPG_STYLE" "$T/multi.asc"
expect_err_has "imported openpgp $VENDOR rsa3072" "the named key is imported"
expect_err_has "skipped openpgp $DSA dsa1024 \"$OLD_DSA_UID\" (not named; OpenPGP key $DSA has a 1024-bit DSA primary key, below the minimum of 2048 bits; in $T/multi.asc)" "the DSA-1024 key is listed as skipped, with why"
expect_err_has "skipped openpgp $R1024 rsa1024" "the RSA-1024 key is listed as skipped"
expect_err_has "skipped openpgp $EXPIRED rsa3072" "the expired key is listed as skipped"
run $MK --json keys list
expect_json "$(pgp_keys) == ['$VENDOR']" "the store holds exactly the named key"
G2="$T/peek-gnupg"; cp -r "$M/trust/gnupg" "$G2"; chmod 700 "$G2"
check "its subkey came with it" sh -c "gpg --homedir '$G2' --batch --with-colons --list-keys 2>/dev/null | grep '^fpr:' | grep -q '$SUBKEY'"
check "no other key's material is in the keyring" test "$(gpg --homedir "$G2" --batch --with-colons --list-keys 2>/dev/null | grep -c '^pub:')" -eq 1
gpgconf --homedir "$G2" --kill gpg-agent 2>/dev/null

run $MK --json keys import --expect-fingerprint "0x$(lower "$VENDOR")" "$T/multi.asc"
expect_json "j['ok'] and len(j['keys']) == 4" "JSON lists every key of the file"
expect_json "[k['status'] for k in j['keys'] if k['fingerprint'] == '$VENDOR'] == ['already present']" "re-import: status already present"
expect_json "[k['reason'] for k in j['keys'] if k['fingerprint'] == '$DSA'][0].startswith('not named; ')" "JSON: skipped with a reason"
expect_json "all(k['status'] == 'skipped' and k['file'] == '$T/multi.asc' for k in j['keys'] if k['fingerprint'] != '$VENDOR')" "JSON: the others skipped, with their file"
expect_rc 0 "re-import in text" $MK keys import --expect-fingerprint "$VENDOR" "$T/multi.asc"
expect_err_has "already present openpgp $VENDOR" "re-import says already present"

expect_rc 0 "a second --expect-fingerprint adds (0x, lower case), never replaces" \
    $MK keys import --expect-fingerprint "$VENDOR" --expect-fingerprint "0x$(lower "$EXPIRED")" "$T/multi.asc"
expect_err_has "imported openpgp $EXPIRED" "the second named key is imported"
expect_err_has "already present openpgp $VENDOR" "the first is still taken"
expect_err_has "vetstage: warning: $EXPIRED: expired on 20" "expired key: warning with the date"
expect_err_has "it can verify nothing" "expired key: says it can verify nothing"
run $MK --json keys list
expect_json "sorted($(pgp_keys)) == sorted(['$VENDOR', '$EXPIRED'])" "both named keys, nothing else"

# the same key with a new subkey: updated, not "already present"
vendor_gpg --quick-add-key "$VENDOR" ed25519 sign 2y 2>/dev/null
vendor_gpg --armor --export "$VENDOR" >"$T/vendor-newsub.asc"
run $MK --json keys import "$T/vendor-newsub.asc"
expect_json "j['ok'] and [k['status'] for k in j['keys']] == ['updated']" "a stored key with a new subkey: status updated"
expect_rc 0 "the same file again" $MK keys import "$T/vendor-newsub.asc"
expect_err_has "already present openpgp $VENDOR" "then already present"

# a key exported after its revocation: imported with a warning
vendor_gpg --import "$FIX/revoked.rev" 2>/dev/null
vendor_gpg --armor --export "$REVOKED" >"$T/revoked-key.asc"
run $MK --json keys import "$T/revoked-key.asc"
expect_json "j['ok'] and j['keys'][0]['status'] == 'imported' and j['keys'][0]['revoked'] is True and 'revoked: it can verify nothing' in j['keys'][0]['warning']" "revoked key: imported, JSON warning"
# several keys, all good, nothing named: all imported (as before)
vendor_gpg --armor --export "$ED" "$(cat "$FIX/other.fpr")" >"$T/two-good.asc"
expect_rc 0 "several good keys, nothing named: all imported" $MK keys import "$T/two-good.asc"
expect_err_has "imported openpgp $ED" "first of two"
expect_err_has "imported openpgp $(cat "$FIX/other.fpr")" "second of two"
# named keys spread over several files, one named key in each
run $MK --json keys import --expect-fingerprint "$ED" --expect-fingerprint "$VENDOR" "$T/multi.asc" "$T/two-good.asc"
expect_json "j['ok'] and sorted(k['fingerprint'] for k in j['keys'] if k['status'] != 'skipped') == sorted(['$ED', '$VENDOR'])" "named keys found over two files"
STORE=$M refuse 7 "two files, the named weak key in the second" "multi.asc" \
    $MK keys import --expect-fingerprint "$(cat "$FIX/other.fpr")" --expect-fingerprint "$R1024" "$FIX/other.asc" "$T/multi.asc"
vendor_gpg --export "$VENDOR" "$DSA" >"$T/multi.gpg"
expect_rc 0 "binary multi-key file, named key" $MK keys import --expect-fingerprint "$VENDOR" "$T/multi.gpg"
expect_err_has "skipped openpgp $DSA" "binary: weak key skipped"
STORE=$M refuse 3 "RSA file not holding the named RSA key" "$ORG" $MK keys import --expect-fingerprint "$ORG" "$FIX/other-org.pub.pem"
expect_rc 0 "weak RSA file next to a named RSA key: skipped" \
    $MK keys import --expect-fingerprint "$ORG" "$FIX/weak1024.pub.pem" "$FIX/org.pub.pem"
expect_err_has "skipped rsa" "weak RSA file: listed as skipped"
expect_err_has "not named; RSA key of 1024 bits is below the minimum of 2048" "weak RSA file: why"
expect_err_has "imported rsa $ORG" "named RSA key imported"

# ---- an import killed between its renames is finished by the next user ------------------
# The commit record is written before the first rename; here we leave it as a
# kill -9 right after it would: a staged RSA key file and the record.
C="$T/commit-home"
$VS --home "$T/donor" -q keys import "$FIX/org.pub.pem" >/dev/null 2>&1
$VS --home "$C" -q keys import --rsa-scheme pss-sha256 "$FIX/org-pss.pub.pem" >/dev/null 2>&1
HEX=${ORG#sha256:}
cp "$T/donor/trust/rsa/$HEX.pem" "$C/trust/rsa/.tmp-00112233445566ff"
printf 'vetstage-trust-commit 1\nrsa .tmp-00112233445566ff %s.pem\n' "$HEX" >"$C/trust/commit"
expect_rc 0 "keys list after an interrupted commit" $VS --home "$C" --json keys list
expect_json "sorted(k['fingerprint'] for k in j['keys']) == sorted(['$ORG', '$PSS'])" "the interrupted import is finished, not lost"
check "the commit record is gone" test ! -e "$C/trust/commit"
check "the staged file was renamed" test ! -e "$C/trust/rsa/.tmp-00112233445566ff"
printf 'vetstage-trust-commit 1\nrsa ../../etc/passwd x.pem\n' >"$C/trust/commit"
expect_rc 6 "a damaged commit record is reported, never followed" $VS --home "$C" keys list
expect_err_has "trust/commit" "damaged record: message names it"
rm -f "$C/trust/commit"

# ---- a gpg that answers its version, then garbage --------------------------------
# gpgme finds gpg through gpgconf on PATH; this one names a script that lists
# a key without any fingerprint. keys list must not show it as a key.
mkdir -p "$T/fakegpg"
cat >"$T/fakegpg/gpg" <<'EOF2'
#!/bin/sh
for a in "$@"; do case $a in --version) echo "gpg (GnuPG) 2.2.40"; exit 0 ;; esac; done
for a in "$@"; do case $a in --list-keys | --list-secret-keys)
    echo "pub:u:3072:1:A380812ABB8909A7:1700000000:::u:::scESC::::::23::0:"
    echo "uid:u::::1700000000::X::Fake <fake@example.test>::::::::::0:"
    exit 0 ;; esac; done
exit 2
EOF2
printf '#!/bin/sh\n/usr/bin/gpgconf "$@" | sed "s|^gpg:OpenPGP:.*|gpg:OpenPGP:%s/gpg|"\n' "$T/fakegpg" >"$T/fakegpg/gpgconf"
chmod +x "$T/fakegpg/gpg" "$T/fakegpg/gpgconf"
snapshot "$H" >"$T/snap.fake"
expect_rc 1 "a gpg that lists a key without a fingerprint: refused" \
    env PATH="$T/fakegpg:$PATH" "$VS" --home "$H" keys list
expect_err_has "gpg listed a key without a valid fingerprint" "the message says what gpg did"
check "no key with an empty fingerprint is printed" sh -c "! grep -q 'Fake' '$T/out'"
same_snapshot "the home is unchanged" "$T/snap.fake" "$H"

# ---- the user's GnuPG home ---------------------------------------------------------
check "~/.gnupg was never created" test ! -e "$HOME/.gnupg"
check "no gpg-agent socket in the store" test -z "$(find "$H/trust" -name 'S.*')"

finish
