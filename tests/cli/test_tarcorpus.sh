#!/bin/sh
# tests/cli/test_tarcorpus.sh - vetstage over archives it did not make.
#
# 1. UTF-8 names as GNU tar --format=posix and Python's tarfile write them
#    (file names, link targets, owner names), staged under LC_ALL=C and
#    LC_ALL=C.UTF-8; the same safety rules for names spelled in UTF-8;
#    .tar.bz2; an unsupported compression names the supported ones.
# 2. Third parties' tar test archives, fetched at test time from Debian
#    packages with apt's own clients: Go's archive/tar testdata (a
#    golang-1.*-src package: apt-get download + dpkg-deb) and libarchive's
#    test/*.uu (its source package: apt-get source --download-only, with a
#    private apt configuration under $T that adds deb-src lines; the system's
#    configuration is never changed). Each is signed by the fixture keys,
#    fetched and staged; the verdict expected for each is written down in
#    the tables below. Skipped when the packages cannot be had.
. "$(dirname "$0")/../lib.sh"
H="$T/home"
P="$T/pkgs"
mkdir -p "$P" "$T/dest"
trust_fixture_keys "$H"
check "fixture keys trusted" test $? -eq 0

# admit NAME FILE: sign FILE both ways and fetch it as NAME@1.0
admit() {
    sign_both "$2" >/dev/null 2>&1
    "$VS" --home "$H" -q fetch "file://$2" --name "$1" --version 1.0 >/dev/null 2>"$T/fetch.err"
}
# staged_ok DESCRIPTION DIR: a complete layout (manifest checks, layout check)
staged_ok() {
    if [ -s "$2/current/.vetstage/MANIFEST.sha256" ]; then
        check "$1: manifest passes sha256sum -c" sh -c "cd '$2/current' && sha256sum --quiet -c .vetstage/MANIFEST.sha256"
    else
        check "$1: no files, an empty manifest" test -f "$2/current/.vetstage/MANIFEST.sha256"
    fi
    expect_rc 0 "$1: layout check" "$VS" --home "$H" layout check "$2"
}

# ---- 1. UTF-8 names, bzip2 --------------------------------------------------
cat >"$T/mk.py" <<'PY'
import io, sys, tarfile
case, out = sys.argv[1], sys.argv[2]
def add(t, n, data=b'', **kw):
    i = tarfile.TarInfo(n); i.size = len(data); i.mtime = 1700000000
    for k, v in kw.items(): setattr(i, k, v)
    t.addfile(i, io.BytesIO(data) if i.isreg() else None)
fmt = tarfile.PAX_FORMAT  # what tarfile writes by default
t = tarfile.open(out, 'w:gz', format=fmt)
if case == 'pyutf8':
    add(t, 'répertoire/', type=tarfile.DIRTYPE, mode=0o755, uname='josé', gname='grüp')
    add(t, 'répertoire/café.txt', b'caf\xc3\xa9\n', uname='josé', gname='grüp')
    add(t, 'répertoire/lien', type=tarfile.SYMTYPE, linkname='café.txt', uname='åsa')
    add(t, '日本語/📦.bin', b'\x00\x01', mode=0o755)
elif case == 'utf8dotdot':
    add(t, 'ok', b'x'); add(t, 'é/../../évasion', b'x')
elif case == 'utf8abs':
    add(t, '/tmp/café', b'x')
elif case == 'utf8symesc':
    add(t, 'lien', type=tarfile.SYMTYPE, linkname='../café')
elif case == 'notutf8':
    i = tarfile.TarInfo('x'); i.size = 1
    i.pax_headers = {'hdrcharset': 'BINARY',
                     'path': b'caf\xe9.txt'.decode('utf-8', 'surrogateescape')}
    t.addfile(i, io.BytesIO(b'x'))
t.close()
PY
BOX="$T/box"
mkdir -p "$BOX"
python3 "$T/mk.py" pyutf8 "$P/pyutf8-1.0.tgz"
admit pyutf8 "$P/pyutf8-1.0.tgz"
check "tarfile UTF-8 package admitted" test $? -eq 0
for loc in C C.UTF-8; do
    D="$T/dest/pyutf8-$loc"
    expect_rc 0 "tarfile pax, UTF-8 names staged under LC_ALL=$loc" env LC_ALL="$loc" "$VS" --home "$H" stage pyutf8@1.0 --dest "$D"
    check "LC_ALL=$loc: café.txt on disk under its UTF-8 name" test -f "$D/current/$(printf 'r\303\251pertoire/caf\303\251.txt')"
    check "LC_ALL=$loc: the UTF-8 link target kept" test "$(readlink "$D/current/$(printf 'r\303\251pertoire/lien')")" = "$(printf 'caf\303\251.txt')"
    check "LC_ALL=$loc: 日本語/📦.bin staged, 0755" test "$(stat -c %a "$D/current/$(printf '\346\227\245\346\234\254\350\252\236/\360\237\223\246.bin')")" = 755
    check "LC_ALL=$loc: the manifest names it in UTF-8" grep -q "$(printf 'caf\303\251.txt')" "$D/current/.vetstage/MANIFEST.sha256"
    staged_ok "LC_ALL=$loc" "$D"
done

# GNU tar --format=posix (it reads the names it is given in a UTF-8 locale),
# bzip2 compressed, with a UTF-8 owner name
G="$T/gnusrc"
mkdir -p "$G/$(printf 'd\303\251j\303\240')"
printf 'x\n' >"$G/$(printf 'd\303\251j\303\240/\303\251t\303\251')"
ln -s "$(printf '\303\251t\303\251')" "$G/$(printf 'd\303\251j\303\240/lien-\303\251')"
if LC_ALL=C.UTF-8 tar --format=posix --owner="$(printf 'j\303\266rg'):1000" --group="$(printf 'gr\303\274p'):1000" \
    -C "$G" -cf "$T/gnu.tar" . 2>"$T/tar.err" && python3 -c "import bz2, sys; open(sys.argv[2], 'wb').write(bz2.compress(open(sys.argv[1], 'rb').read()))" "$T/gnu.tar" "$P/gnuutf8-1.0.tar.bz2"; then
    admit gnuutf8 "$P/gnuutf8-1.0.tar.bz2"
    check "GNU tar .tar.bz2 admitted" test $? -eq 0
    D="$T/dest/gnuutf8"
    expect_rc 0 "GNU tar --format=posix, bzip2, UTF-8 names and owner, staged under LC_ALL=C" env LC_ALL=C "$VS" --home "$H" stage gnuutf8@1.0 --dest "$D"
    check "GNU tar: the UTF-8 link target kept" test "$(readlink "$D/current/$(printf 'd\303\251j\303\240/lien-\303\251')")" = "$(printf '\303\251t\303\251')"
    staged_ok "GNU tar bzip2" "$D"
else
    not_ok "GNU tar could not write the UTF-8 test archive: $(head -1 "$T/tar.err")"
fi

# the rules hold for names spelled in UTF-8; bytes that are not UTF-8 are refused
# refused CASE ENTRY-TEXT REASON-TEXT
refused() {
    python3 "$T/mk.py" "$1" "$P/$1-1.0.tgz"
    admit "$1" "$P/$1-1.0.tgz"
    check "$1: signed package admitted" test $? -eq 0
    snapshot "$BOX" >"$T/box.before"
    expect_rc 5 "$1: refused" env LC_ALL=C "$VS" --home "$H" stage "$1@1.0" --dest "$BOX/dest"
    expect_one_line_err "$1: one-line message"
    expect_err_has "$2" "$1: the message names the entry"
    expect_err_has "$3" "$1: the message gives the reason"
    same_snapshot "$1: nothing changed" "$T/box.before" "$BOX"
}
refused utf8dotdot "$(printf "'\303\251/../../\303\251vasion'")" "'..' component"
refused utf8abs "$(printf "'/tmp/caf\303\251'")" "absolute path"
refused utf8symesc "'lien'" "symbolic link target leaves the tree"
refused notutf8 "'caf\\xe9.txt'" "name is not valid UTF-8"

# an unsupported compression says which ones are supported
printf '\004\042\115\030\144\100\247garbage' >"$P/lz4-1.0.tar.lz4"
admit lz4 "$P/lz4-1.0.tar.lz4"
expect_rc 5 "LZ4 refused" "$VS" --home "$H" stage lz4@1.0 --dest "$BOX/dest"
expect_err_has "hint: vetstage stages tar archives compressed with gzip, bzip2, xz or zstd" "LZ4: the hint names the supported compressions"
check "LZ4: nothing staged" test ! -e "$BOX/dest"

# ---- 2. third parties' test archives -------------------------------------------
# Verdicts: 0 staged; 5 refused as unsafe or not a (supported) archive. File
# names are as prepared: a plain tar (.tar, .pax) is re-compressed with gzip
# (NAME.tar.gz), a compress(1) one (.Z) is turned into gzip; others are kept.
GO_VERDICTS='
file-and-dir.tar.gz 0
gnu-incremental.tar.gz 5 no end-of-archive marker
gnu-long-nul.tar.gz 0
gnu-multi-hdrs.tar.gz 5 no end-of-archive marker
gnu-nil-sparse-data.tar.gz 0
gnu-nil-sparse-hole.tar.gz 0
gnu-not-utf8.tar.gz 5 not valid UTF-8
gnu-sparse-big.tar.gz 5 exceeds the --max-unpacked limit
gnu-utf8.tar.gz 0
gnu.tar.gz 0
hardlink.tar.gz 5 hard link
hdr-only.tar.gz 5 FIFO
invalid-go17.tar.gz 0
issue10968.tar.gz 5 not an archive
issue11169.tar.gz 5 not an archive
issue12435.tar.gz 5 not an archive
neg-size.tar.gz 5 not an archive
nil-uid.tar.gz 5 no end-of-archive marker
pax-bad-hdr-file.tar.gz 5 no end-of-archive marker
pax-bad-hdr-large.tar.bz2 5 not an archive
pax-bad-mtime-file.tar.gz 5 no end-of-archive marker
pax-global-records.tar.gz 0
pax-multi-hdrs.tar.gz 5 no end-of-archive marker
pax-nil-sparse-data.tar.gz 0
pax-nil-sparse-hole.tar.gz 0
pax-nul-path.tar.gz 0
pax-nul-xattrs.tar.gz 0
pax-path-hdr.tar.gz 5 Damaged tar archive
pax-pos-size-file.tar.gz 5 no end-of-archive marker
pax-records.tar.gz 0
pax-sparse-big.tar.gz 5 exceeds the --max-unpacked limit
pax.tar.gz 0
sparse-formats.tar.gz 0
star.tar.gz 0
trailing-slash.tar.gz 0
ustar-file-devs.tar.gz 0
ustar-file-reg.tar.gz 5 no end-of-archive marker
ustar.tar.gz 0
v7.tar.gz 0
writer-big-long.tar.gz 5 exceeds the --max-unpacked limit
writer-big.tar.gz 5 exceeds the --max-unpacked limit
writer.tar.gz 0
xattrs.tar.gz 0
'
LA_VERDICTS='
test_acl_pax_nfs4.tar.gz 5 duplicate entry
test_acl_pax_posix1e.tar.gz 5 duplicate entry
test_compat_gtar_1.tar.gz 0
test_compat_gtar_2.tar.gz 0
test_compat_lz4_1.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lz4_2.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lz4_3.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lz4_B4.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lz4_B4BD.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lz4_B4BDBX.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lz4_B5.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lz4_B5BD.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lz4_B6.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lz4_B6BD.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lz4_B7.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lz4_B7BD.tar.lz4 5 gzip, bzip2, xz or zstd
test_compat_lzop_1.tar.lzo 5 gzip, bzip2, xz or zstd
test_compat_lzop_2.tar.lzo 5 gzip, bzip2, xz or zstd
test_compat_lzop_3.tar.lzo 5 gzip, bzip2, xz or zstd
test_compat_mac-1.tar.gz 0
test_compat_mac-2.tar.gz 0
test_compat_perl_archive_tar.tar.gz 0
test_compat_plexus_archiver_tar.tar.gz 5 no end-of-archive marker
test_compat_solaris_pax_sparse_1.pax.gz 0
test_compat_solaris_pax_sparse_2.pax.gz 0
test_compat_solaris_tar_acl.tar.gz 0
test_compat_star_acl_nfs4.tar.gz 0
test_compat_star_acl_posix1e.tar.gz 0
test_compat_tar_directory_1.tar.gz 0
test_compat_tar_hardlink_1.tar.gz 5 hard link
test_compat_uudecode_large.tar.gz 0
test_compat_zstd_1.tar.zst 0
test_compat_zstd_2.tar.zst 0
test_pax_filename_encoding.tar.gz 5 not valid UTF-8
test_pax_xattr_header_all.tar.gz 0
test_pax_xattr_header_libarchive.tar.gz 0
test_pax_xattr_header_schily.tar.gz 0
test_read_filter_grzip.tar.grz 5 gzip, bzip2, xz or zstd
test_read_filter_lrzip.tar.lrz 5 gzip, bzip2, xz or zstd
test_read_filter_lzop.tar.lzo 5 gzip, bzip2, xz or zstd
test_read_filter_lzop_multiple_parts.tar.lzo 5 gzip, bzip2, xz or zstd
test_read_format_gtar_filename_cp866.tar.gz 5 not valid UTF-8
test_read_format_gtar_filename_eucjp.tar.gz 5 not valid UTF-8
test_read_format_gtar_filename_koi8r.tar.gz 5 not valid UTF-8
test_read_format_gtar_sparse_1_13.tar.gz 0
test_read_format_gtar_sparse_1_17.tar.gz 0
test_read_format_gtar_sparse_1_17_posix00.tar.gz 0
test_read_format_gtar_sparse_1_17_posix01.tar.gz 0
test_read_format_gtar_sparse_1_17_posix10.tar.gz 0
test_read_format_gtar_sparse_1_17_posix10_modified.tar.gz 0
test_read_format_gtar_sparse_skip_entry.tar.gz 5 exceeds the --max-unpacked limit
test_read_format_rar5_bad_window_sz_in_mltarc_file.rar 5 gzip, bzip2, xz or zstd
test_read_format_tar_concatenated.tar.gz 0
test_read_format_tar_empty_filename.tar.gz 5 empty path
test_read_format_tar_empty_pax.tar.gz 5 no entries
test_read_format_tar_empty_with_gnulabel.tar.gz 5 no entries
test_read_format_tar_filename_koi8r.tar.gz 5 not valid UTF-8
test_read_format_tar_invalid_pax_size.tar.gz 5 not an archive
test_read_format_ustar_filename_cp866.tar.gz 5 not valid UTF-8
test_read_format_ustar_filename_eucjp.tar.gz 5 not valid UTF-8
test_read_format_ustar_filename_koi8r.tar.gz 5 not valid UTF-8
test_read_pax_xattr_rht_security_selinux.tar.gz 0
test_read_pax_xattr_schily.tar.gz 0
test_write_disk_mac_metadata.tar.gz 0
'

# prepare SRC DIR: copy a test archive into DIR in a form vetstage may take
prepare() {
    _b=$(basename "$1")
    case "$_b" in
    *.tar | *.pax) gzip -9nc "$1" >"$2/$_b.gz" ;;
    *.Z) gzip -dc "$1" | gzip -9n >"$2/${_b%.Z}.gz" ;;
    *) cp "$1" "$2/$_b" ;;
    esac
}

# run_corpus TAG DIR TABLE: stage every archive in DIR, compare with TABLE
run_corpus() {
    _tag=$1; _dir=$2; _table=$3; _n=0
    for _f in "$_dir"/*; do
        _b=$(basename "$_f")
        _line=$(printf '%s\n' "$_table" | awk -v f="$_b" '$1 == f')
        if [ -z "$_line" ]; then
            skip "$_tag" "$_b: no verdict written down for it"
            continue
        fi
        _want=$(echo "$_line" | cut -d' ' -f2)
        _why=$(echo "$_line" | cut -d' ' -f3-)
        _name=$(echo "$_b" | sed 's/\..*$//; s/[^A-Za-z0-9._+~-]/-/g')
        admit "$_name" "$_f"
        if [ $? -ne 0 ]; then
            not_ok "$_tag $_b: not admitted: $(head -1 "$T/fetch.err")"
            continue
        fi
        _d="$T/dest/$_tag-$_name"
        expect_rc "$_want" "$_tag $_b" env LC_ALL=C "$VS" --home "$H" stage "$_name@1.0" --dest "$_d"
        if [ "$_want" -eq 0 ]; then
            [ "$RC" -eq 0 ] && staged_ok "$_tag $_b" "$_d"
        else
            expect_one_line_err "$_tag $_b: one-line message"
            [ -n "$_why" ] && expect_err_has "$_why" "$_tag $_b: the reason"
            check "$_tag $_b: nothing staged" test ! -e "$_d"
        fi
        _n=$((_n + 1))
    done
    printf '%s\n' "$_table" | while read -r _b _rest; do
        [ -n "$_b" ] && [ ! -e "$_dir/$_b" ] && echo "note - $_tag: $_b is in the table but not in this package version"
    done
    check "$_tag: archives were staged or refused ($_n)" test "$_n" -gt 0
}

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
    skip_all tarcorpus "apt-get or dpkg-deb not found"
fi

# Go's archive/tar testdata from the newest golang-1.*-src package
mkdir -p "$T/go" "$T/go-prep"
GOPKG=$(apt-cache search --names-only '^golang-1\.[0-9]+-src$' 2>/dev/null | cut -d' ' -f1 | sort -t. -k2,2n | tail -1)
if [ -n "$GOPKG" ] && (cd "$T/go" && apt-get -q download "$GOPKG") >"$T/apt.log" 2>&1 &&
    dpkg-deb --fsys-tarfile "$T/go/"*.deb | tar -C "$T/go" -x --wildcards '*/archive/tar/testdata/*' 2>>"$T/apt.log"; then
    for f in $(find "$T/go" -path '*/archive/tar/testdata/*' -type f ! -name '*.txt'); do prepare "$f" "$T/go-prep"; done
    run_corpus go "$T/go-prep" "$GO_VERDICTS"
else
    skip go-testdata "golang-1.*-src could not be had with apt-get download: $(tail -1 "$T/apt.log" 2>/dev/null)"
fi

# libarchive's test archives from its source package, through a private apt
# configuration that adds deb-src lines for the sources the system uses
A="$T/apt"
mkdir -p "$A/sources.list.d" "$A/lists/partial" "$A/cache/archives/partial" "$A/src" "$T/la-prep"
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*deb\b.*$/Types: deb-src/' "$f" >"$A/sources.list.d/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^deb \(.*\)$/deb-src \1/p' "$f" >>"$A/sources.list.d/system-src.list"
done
APT_PRIVATE="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$A/sources.list.d -o Dir::State::Lists=$A/lists -o Dir::Cache=$A/cache -o Debug::NoLocking=1"
# shellcheck disable=SC2086
if apt-get $APT_PRIVATE -q update >"$T/apt.log" 2>&1 &&
    (cd "$A/src" && apt-get $APT_PRIVATE -q source --download-only libarchive) >>"$T/apt.log" 2>&1 &&
    tar -C "$A/src" -xJf "$A/src/"libarchive_*.orig.tar.xz --wildcards '*/libarchive/test/*.uu' 2>>"$T/apt.log"; then
    cat >"$T/uudecode.py" <<'PY'
import binascii, sys
out = bytearray(); inside = False
for line in open(sys.argv[1], 'rb'):
    if not inside:
        inside = line.startswith(b'begin ')
        continue
    if line.strip() == b'end':
        break
    if not line.strip():
        continue
    try:
        out += binascii.a2b_uu(line)
    except binascii.Error:  # padding past the count some encoders add
        n = (((line[0] - 32) & 63) * 4 + 5) // 3
        out += binascii.a2b_uu(line[:n])
open(sys.argv[2], 'wb').write(out)
PY
    mkdir -p "$T/la"
    for f in $(find "$A/src" -path '*/libarchive/test/*.uu' -name '*tar*' -o -path '*/libarchive/test/*.uu' -name '*pax*'); do
        b=$(basename "$f" .uu)
        python3 "$T/uudecode.py" "$f" "$T/la/$b" && prepare "$T/la/$b" "$T/la-prep"
    done
    run_corpus libarchive "$T/la-prep" "$LA_VERDICTS"
else
    skip libarchive-tests "libarchive's source package could not be had with apt-get source: $(tail -1 "$T/apt.log" 2>/dev/null)"
fi

finish
