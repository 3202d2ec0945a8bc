#!/bin/sh
# tests/cli/test_keys_upstream.sh - `keys import` on real upstream key files:
# the debian/upstream/signing-key.asc that Debian ships with curl (a DSA-1024
# key beside two RSA-2048 keys), libgcrypt20 (seven keys, DSA-1024 and
# RSA-1024 among them), wget (two expired keys) and xz-utils (one expired
# key), fetched at test time with apt's own clients from the Debian source
# archive this machine's APT is set up for (a private APT state under $T; the
# system's configuration is read, never changed). Then curl's real release
# tarball is verified with the key imported out of its multi-key file.
# When the sources cannot be had, the parts print "skip - ..." and count as
# skipped.
. "$(dirname "$0")/../lib.sh"

export HOME="$T/fakehome"
mkdir -p "$HOME"
unset GNUPGHOME

# ---- a private APT with deb-src entries for this system's Debian release ----------
APT="$T/apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/parts"
CODENAME=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
[ -n "$CODENAME" ] || skip_all keys-upstream "no Debian release named in /etc/os-release"
command -v apt-get >/dev/null 2>&1 || skip_all keys-upstream "apt-get is not installed"
# the system's deb822 stanzas for the release itself, as deb-src
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$CODENAME" '
        BEGIN { RS = ""; FS = "\n" }
        {
            orig = $0; deb = 0; out = ""
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) { deb = 1; $i = "Types: deb-src" }
                if ($i ~ /^Suites:/) { $i = "Suites: " suite; }
                if ($i ~ /^Enabled:[ \t]*no/) deb = 0
                out = out $i "\n"
            }
            if (deb && orig ~ ("Suites:[^\n]*[ \t]" suite "([ \t]|\n|$)")) print out
        }' "$f"
done >"$APT/parts/src.sources"
# one-line sources.list entries, too
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$CODENAME" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i == suite) { $1 = "deb-src"; print; break } }' "$f"
done >"$APT/parts/src.list"
[ -s "$APT/parts/src.sources" ] || [ -s "$APT/parts/src.list" ] ||
    skip_all keys-upstream "no APT source for $CODENAME to take deb-src entries from"
SANDBOX=""
[ "$(id -u)" -eq 0 ] && SANDBOX="-o APT::Sandbox::User=root" # $T is private to root
apt_() {
    apt-get -q $SANDBOX -o Dir::Etc::sourcelist="$APT/parts/src.list" -o Dir::Etc::sourceparts="$APT/parts" \
        -o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" -o APT::Get::List-Cleanup=0 "$@"
}
if [ ! -s "$APT/parts/src.list" ]; then rm -f "$APT/parts/src.list"; : >"$APT/parts/src.list"; fi
apt_ update >"$T/apt-update.log" 2>&1
ls "$APT/lists/"*_Sources* >/dev/null 2>&1 ||
    skip_all keys-upstream "the Debian source index cannot be had ($(grep -E '^(Err:|E:)|Failed' "$T/apt-update.log" | tail -1))"

# fetch PKG PATTERN...: the package's source files whose names match, with
# apt's own downloader checking each against the signed index; prints dir
fetch_src() {
    _pkg=$1; shift
    _d="$T/src/$_pkg"
    mkdir -p "$_d"
    apt_ --print-uris source "$_pkg" 2>/dev/null | grep "^'" >"$_d/uris" || return 1
    for _pat in "$@"; do
        grep -E "^'[^']*' $_pat " "$_d/uris" | while read -r _u _f _s _h; do
            _u=${_u#\'}; _u=${_u%\'}
            /usr/lib/apt/apt-helper $SANDBOX download-file "$_u" "$_d/$_f" "$_h" >/dev/null 2>&1 || exit 1
        done || return 1
    done
    return 0
}
# signing_key PKG: $T/src/PKG/signing-key.asc out of the Debian packaging
signing_key() {
    fetch_src "$1" "${1}_[^ ]*\.debian\.tar\.xz" || return 1
    tar -C "$T/src/$1" -xJf "$T/src/$1/"*.debian.tar.xz debian/upstream/signing-key.asc 2>/dev/null || return 1
    cp "$T/src/$1/debian/upstream/signing-key.asc" "$T/src/$1/signing-key.asc"
}
count_keys() { gpg --homedir "$T/show-gnupg" --show-keys --with-colons "$1" 2>/dev/null | grep -c '^pub:'; }
mkdir -p "$T/show-gnupg" && chmod 700 "$T/show-gnupg"

# ---- curl: DSA-1024 + two RSA-2048 keys; the release is signed by Daniel Stenberg's ----
CURL_DSA=914C533DF9B2ADA2204F586D78E11C6B279D5C91
CURL_OTHER=4461EAF0F8E9097F48AF0555F9FEAFF9D34A1BDB
CURL_KEY="27ED EAF2 2F3A BCEB 50DB  9A12 5CC9 08FD B71E 12C2" # as curl.se publishes it
CURL_FPR=27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2
H="$T/home"
if signing_key curl; then
    K="$T/src/curl/signing-key.asc"
    check "curl's key file holds several keys" test "$(count_keys "$K")" -ge 3
    $VS --home "$H" -q keys import "$FIX/org.pub.pem" >/dev/null 2>&1 # a store to snapshot
    snapshot "$H/trust" >"$T/snap.before"
    expect_rc 7 "curl key file, nothing named: refused (a DSA-1024 key in it)" $VS --home "$H" keys import "$K"
    expect_err_has "$CURL_DSA has a 1024-bit DSA primary key" "the weak key is named"
    expect_err_has "(hint: " "a hint follows"
    expect_err_has "--expect-fingerprint" "the hint names --expect-fingerprint"
    same_snapshot "refused: store unchanged" "$T/snap.before" "$H/trust"
    expect_rc 0 "curl key file with the release key named as published" \
        $VS --home "$H" keys import --expect-fingerprint "$CURL_KEY" "$K"
    expect_err_has "imported openpgp $CURL_FPR rsa2048" "the release key is imported"
    expect_err_has "skipped openpgp $CURL_DSA dsa1024" "the DSA-1024 key is skipped"
    expect_err_has "below the minimum of 2048 bits" "... and why"
    expect_err_has "skipped openpgp $CURL_OTHER rsa2048" "the other key is skipped (not named)"
    run $VS --home "$H" --json keys list
    expect_json "[k['fingerprint'] for k in j['keys'] if k['type'] == 'openpgp'] == ['$CURL_FPR']" "only the named OpenPGP key is in the store"
    if fetch_src curl 'curl_[^ ]*\.orig\.tar\.gz' 'curl_[^ ]*\.orig\.tar\.gz\.asc'; then
        TGZ=$(ls "$T/src/curl/"curl_*.orig.tar.gz)
        expect_rc 0 "curl's real release verifies with the key taken out of the multi-key file" \
            $VS --home "$H" verify "$TGZ" --gpg-sig "$TGZ.asc" --require gpg
        # and stages: a real upstream .tar.gz through stage's gzip reader,
        # file for file what tar extracts
        expect_rc 0 "curl's release is admitted" \
            $VS --home "$H" -q fetch "file://$TGZ" --name curl --version 1.0 --require gpg
        expect_rc 0 "curl's release stages (--strip-components 1)" \
            $VS --home "$H" -q stage curl@1.0 --dest "$T/curl-staged" --flat --strip-components 1
        mkdir -p "$T/curl-tar" && tar -C "$T/curl-tar" --strip-components 1 -xzf "$TGZ"
        check "curl's staged files are tar's, byte for byte" \
            diff -r -x .vetstage "$T/curl-tar" "$T/curl-staged"
    else
        skip keys-upstream "curl's release tarball cannot be had"
    fi
else
    skip keys-upstream "curl's Debian packaging cannot be had"
fi

# ---- libgcrypt20: seven keys over 25 years, two --expect-fingerprint ------------------
GC1=5B80C5754298F0CB55D8ED6ABCEF7E294B092E28 # Andre Heinecke, rsa3072
GC2=6DAA6E64A76D2840571B4902528897B826403ADA # Werner Koch (dist signing 2020), ed25519
if signing_key libgcrypt20; then
    K="$T/src/libgcrypt20/signing-key.asc"
    H2="$T/home-gcrypt"
    run $VS --home "$H2" --json keys import --expect-fingerprint "$GC1" --expect-fingerprint "0x$GC2" "$K"
    expect_json "j['ok'] and sorted(k['fingerprint'] for k in j['keys'] if k['status'] == 'imported') == sorted(['$GC1', '$GC2'])" "libgcrypt: both named keys imported"
    expect_json "len([k for k in j['keys'] if k['status'] == 'skipped']) == len(j['keys']) - 2 and len(j['keys']) >= 4" "libgcrypt: every other key skipped"
    expect_json "any(k['status'] == 'skipped' and k['algorithm'] == 'dsa' and 'below the minimum' in k['reason'] for k in j['keys'])" "libgcrypt: the DSA-1024 key skipped as weak"
    expect_json "any(k['status'] == 'skipped' and k['algorithm'] == 'rsa' and k['bits'] == 1024 for k in j['keys'])" "libgcrypt: the RSA-1024 key skipped"
else
    skip keys-upstream "libgcrypt20's Debian packaging cannot be had"
fi

# ---- wget: two keys, both long expired; xz-utils: one expired key -----------------------
WGET=7845120B07CBD8D6ECE5FF2B2A1743EDA91A35B6
WGET_OLD=1CB27DBC98614B2D5841646D08302DB6A2670428
if signing_key wget; then
    H3="$T/home-wget"
    expect_rc 0 "wget: the named expired key is imported" \
        $VS --home "$H3" keys import --expect-fingerprint "$WGET" "$T/src/wget/signing-key.asc"
    expect_err_has "imported openpgp $WGET" "wget: imported"
    expect_err_has "vetstage: warning: $WGET: expired on 2018-" "wget: warned that it expired, with the date"
    expect_err_has "it can verify nothing" "wget: says it can verify nothing"
    expect_err_has "skipped openpgp $WGET_OLD" "wget: the other key skipped"
    expect_rc 0 "wget: importing it again" \
        $VS --home "$H3" keys import --expect-fingerprint "$WGET" "$T/src/wget/signing-key.asc"
    expect_err_has "already present openpgp $WGET" "wget: already present"
else
    skip keys-upstream "wget's Debian packaging cannot be had"
fi
if signing_key xz-utils; then
    H4="$T/home-xz"
    run $VS --home "$H4" --json keys import "$T/src/xz-utils/signing-key.asc"
    expect_json "j['ok'] and len(j['keys']) >= 1 and all(k['status'] == 'imported' for k in j['keys'])" "xz-utils: a single-key file imports without naming it"
    expect_json "all(k['expired'] is False or 'it can verify nothing' in k['warning'] for k in j['keys'])" "xz-utils: an expired key carries the warning"
else
    skip keys-upstream "xz-utils' Debian packaging cannot be had"
fi

check "~/.gnupg was never created" test ! -e "$HOME/.gnupg"
gpgconf --homedir "$T/show-gnupg" --kill gpg-agent 2>/dev/null
finish
