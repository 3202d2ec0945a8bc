#!/bin/sh
# tests/cli/test_hostile.sh - hostile archives, each properly signed by the
# trusted fixture vendor and organisation, so that only the extractor stands
# in the way. Every one must be refused with exit 5, a one-line message that
# names the entry and the reason, DIR exactly as before and nothing written
# next to it. Archives are made here with python3's tarfile.
. "$(dirname "$0")/../lib.sh"
H="$T/home"
BOX="$T/box"
DEST="$BOX/dest"
P="$T/pkgs"
mkdir -p "$BOX" "$DEST" "$P"
trust_fixture_keys "$H"
check "fixture keys trusted" test $? -eq 0

cat >"$T/mk.py" <<'PY'
import io, os, sys, tarfile
case, out, box = sys.argv[1], sys.argv[2], sys.argv[3]
mode = 'w:gz'
entries = []
def add(n, data=b'', **kw):
    entries.append((n, data, kw))
if case == 'good':
    add('bin/agent', b'#!/bin/sh\n', mode=0o755); add('etc/conf', b'x=1\n')
elif case == 'abs':
    add('ok', b'x'); add(box + '/pwned', b'x')
elif case == 'dotdot':
    add('ok', b'x'); add('../pwned', b'x')
elif case == 'deepdotdot':
    add('a/b/../../../pwned', b'x')
elif case == 'symabs':
    add('ok', b'x'); add('etcpasswd', type=tarfile.SYMTYPE, linkname='/etc/passwd')
elif case == 'symesc':
    add('ok', b'x'); add('d/up', type=tarfile.SYMTYPE, linkname='../../..')
elif case == 'symthrough':
    add('l', type=tarfile.SYMTYPE, linkname='.'); add('l/pwned', b'x')
elif case == 'hardlink':
    add('a', b'x'); add('b', type=tarfile.LNKTYPE, linkname='a')
elif case == 'chardev':
    add('null', type=tarfile.CHRTYPE, devmajor=1, devminor=3)
elif case == 'fifo':
    add('pipe', type=tarfile.FIFOTYPE)
elif case == 'setuid':
    add('suid', b'#!/bin/sh\n', mode=0o4755)
elif case == 'dup':
    add('bin/agent', b'good'); add('./bin/agent', b'evil')
elif case == 'longpath':
    add('d/' * 520 + 'f', b'x')
elif case == 'many':
    for i in range(11): add('f%02d' % i, b'x')
elif case == 'bomb':
    add('a', b'\0' * 600000); add('b', b'\0' * 600000)
elif case == 'paxbomb':
    # pax records of 900 KB on every entry: headers, not data, yet inflated
    t = tarfile.open(out, 'w:gz', format=tarfile.PAX_FORMAT)
    for k in range(20):
        i = tarfile.TarInfo('f%02d' % k); i.size = 1
        i.pax_headers = {'comment': 'x' * 900000}
        t.addfile(i, io.BytesIO(b'x'))
    t.close()
    sys.exit(0)
elif case == 'skipbomb':
    # a file --strip-components 1 drops whole: its data still counts
    add('top', b'\0' * 3000000); add('v1/ok', b'ok\n')
elif case == 'liesize':
    add('huge', b'\0' * 3000000)
elif case == 'ctrlname':
    add('evil\nname', b'x')
elif case == 'random':
    add('r1', os.urandom(60000)); add('r2', os.urandom(60000))
elif case == 'liar':
    # GNU sparse 1.0 entry whose header says 10 bytes while its map and data
    # make libarchive produce 3 MB: only counting while writing catches it
    smap = b'1\n0\n3000000\n'
    payload = smap + b'\0' * (512 - len(smap)) + b'A' * 3000000
    t = tarfile.open(out, 'w:gz', format=tarfile.PAX_FORMAT)
    i = tarfile.TarInfo('GNUSparseFile.0/liar'); i.size = len(payload)
    i.pax_headers = {'GNU.sparse.major': '1', 'GNU.sparse.minor': '0',
                     'GNU.sparse.name': 'liar', 'GNU.sparse.realsize': '10'}
    t.addfile(i, io.BytesIO(payload)); t.close()
    sys.exit(0)
elif case == 'reserved':
    add('.vetstage/MANIFEST.sha256', b'x')
elif case in ('noend', 'plain'):
    # noend: a gzip stream that stops cleanly at an entry boundary, without
    # tar's end-of-archive blocks; plain: a tar with no compression at all
    import gzip
    buf = io.BytesIO()
    t = tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT)
    for n in ('a', 'b'):
        i = tarfile.TarInfo(n); i.size = 2; i.mtime = 1700000000
        t.addfile(i, io.BytesIO(b'x\n'))
    end = t.offset
    t.close()
    data = buf.getvalue()
    if case == 'noend':
        open(out, 'wb').write(gzip.compress(data[:end]))
    else:
        open(out, 'wb').write(data)
    sys.exit(0)
elif case in ('badcrc', 'badlen', 'bigbadcrc', 'gzpad', 'twomembers', 'gztrail', 'gzgz'):
    # gzip framing: a damaged trailer (CRC-32, length) is refused; members
    # in a row, bytes after the last member and gzip inside gzip stage as
    # libarchive reads them. bigbadcrc: the tar archive is followed by 4 MiB
    # of zero padding (tar allows it), so the damaged trailer lies far past
    # where the entries end: only reading the stream to its end finds it;
    # gzpad: 20 MiB of padding, intact, over what may follow the tar's end
    import gzip
    buf = io.BytesIO()
    t = tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT)
    blob = os.urandom(200000)
    for n, d in (('bin/agent', b'#!/bin/sh\necho agent\n'), ('data/blob', blob)):
        i = tarfile.TarInfo(n); i.size = len(d); i.mtime = 1700000000; i.mode = 0o755
        t.addfile(i, io.BytesIO(d))
    t.close()
    pad = {'bigbadcrc': 4 << 20, 'gzpad': 20 << 20}.get(case, 0)
    data = buf.getvalue() + b'\0' * pad
    open(out + '.tar', 'wb').write(data)
    gz = bytearray(gzip.compress(data, mtime=0))
    if case in ('badcrc', 'bigbadcrc'):
        gz[-8] ^= 1
    elif case == 'badlen':
        gz[-1] ^= 0x40
    elif case == 'twomembers':
        half = len(data) // 2 + 77
        gz = gzip.compress(data[:half], mtime=0) + gzip.compress(data[half:], mtime=0)
    elif case == 'gztrail':
        gz += b'trailing bytes, not a gzip member\n'
    elif case == 'gzgz':
        gz = gzip.compress(bytes(gz), mtime=0)
    open(out, 'wb').write(bytes(gz))
    sys.exit(0)
t = tarfile.open(out, mode, format=tarfile.GNU_FORMAT)
for n, data, kw in entries:
    i = tarfile.TarInfo(n); i.size = len(data); i.mtime = 1700000000
    for k, v in kw.items(): setattr(i, k, v)
    t.addfile(i, io.BytesIO(data) if i.isreg() else None)
t.close()
PY

# package CASE [python|raw]: $P/CASE-1.0.tgz, signed both ways and fetched as CASE@1.0
package() {
    _f="$P/$1-1.0.tgz"
    if [ "$1" = notarchive ]; then
        head -c 4096 /dev/urandom >"$_f"
    elif [ "$1" = sparsebomb ]; then
        # a 123-byte archive that unpacks to 2 GiB (GNU sparse file)
        mkdir -p "$T/sparse" && truncate -s 2G "$T/sparse/zeros" &&
            tar -C "$T/sparse" --sparse -czf "$_f" zeros && rm -rf "$T/sparse"
    elif [ "$1" = truncated ]; then
        python3 "$T/mk.py" random "$_f.full" "$BOX" && head -c 90000 "$_f.full" >"$_f" && rm -f "$_f.full"
    else
        python3 "$T/mk.py" "$1" "$_f" "$BOX"
    fi
    sign_both "$_f" >/dev/null 2>&1
    "$VS" --home "$H" -q fetch "file://$_f" --name "$1" --version 1.0 >/dev/null 2>"$T/fetch.err"
}

# refused CASE ENTRY-TEXT REASON-TEXT [stage options...]
refused() {
    _c=$1; _e=$2; _r=$3; shift 3
    package "$_c"
    check "$_c: signed package admitted to the cache" test $? -eq 0
    snapshot "$BOX" >"$T/box.before"
    expect_rc 5 "$_c: refused" "$VS" --home "$H" stage "$_c@1.0" --dest "$DEST" "$@"
    expect_one_line_err "$_c: one-line message"
    [ -n "$_e" ] && expect_err_has "$_e" "$_c: message names the entry"
    expect_err_has "$_r" "$_c: message gives the reason"
    same_snapshot "$_c: DIR and its surroundings unchanged" "$T/box.before" "$BOX"
}

refused abs "'$BOX/pwned'" "absolute path"
refused dotdot "'../pwned'" "'..' component"
refused deepdotdot "'a/b/../../../pwned'" "'..' component"
refused symabs "'etcpasswd'" "symbolic link target is absolute"
refused symesc "'d/up'" "symbolic link target leaves the tree"
refused symthrough "'l/pwned'" "path goes through 'l', which is a symbolic link"
refused hardlink "'b'" "hard link"
refused chardev "'null'" "device node"
refused fifo "'pipe'" "FIFO"
refused setuid "'suid'" "setuid"
refused dup "'./bin/agent'" "duplicate entry"
refused longpath "'d/d/d/" "path longer than 1024 bytes"
refused many "'f10'" "--max-entries limit of 10" --max-entries 10
refused bomb "'b'" "--max-unpacked limit of 1000000" --max-unpacked 1000000
refused liesize "'huge'" "declared size 3000000 exceeds" --max-unpacked 1000000
refused skipbomb "'top'" "--max-unpacked limit of 1000000 bytes (with the entries --strip-components drops)" \
    --max-unpacked 1000000 --strip-components 1
refused liar "'liar'" "unpacks to more than the --max-unpacked limit of 1000000" --max-unpacked 1000000
refused sparsebomb "'zeros'" "declared size 2147483648 exceeds the --max-unpacked limit of 1073741824"
refused ctrlname "" "control character"
refused reserved "'.vetstage/MANIFEST.sha256'" "reserved name"
refused notarchive "" "not an archive"
refused truncated "" "ends early"
refused noend "" "ends early"
refused plain "" "not a gzip, bzip2, xz or zstd compressed tar archive"
refused badcrc "" "gzip data fails its CRC-32 or length check"
refused badlen "" "gzip data fails its CRC-32 or length check"
refused bigbadcrc "" "gzip data fails its CRC-32 or length check"
refused gzpad "" "--max-unpacked limit of 16777216 bytes (after the archive's end)" --max-unpacked 1000000
refused paxbomb "" "its headers unpack to more than the --max-unpacked limit of 16777216 bytes" --max-unpacked 1000000

# padding after the tar's end has a limit of its own: a `tar -b 2048` package
# (a 1 MiB record) whose files fit under --max-unpacked stages
mkdir -p "$T/bpad" && head -c 400000 /dev/urandom >"$T/bpad/f" &&
    tar -b 2048 -C "$T/bpad" -czf "$P/bpad-1.0.tgz" f && sign_both "$P/bpad-1.0.tgz" >/dev/null 2>&1 &&
    "$VS" --home "$H" -q fetch "file://$P/bpad-1.0.tgz" --name bpad --version 1.0 >/dev/null 2>&1
check "bpad: signed package admitted" test $? -eq 0
expect_rc 0 "bpad: a 1 MiB tar record with 400000 bytes of files stages under --max-unpacked 500000" \
    "$VS" --home "$H" stage bpad@1.0 --dest "$T/ok-bpad" --flat --max-unpacked 500000
check "bpad: the file is the tar's" cmp "$T/bpad/f" "$T/ok-bpad/f"

# gzip framing that stages, as libarchive's gzip filter reads it: the tree
# is the tar's, byte for byte (compared with bsdtar-free python extraction)
for c in twomembers gztrail gzgz; do
    package "$c"
    check "$c: signed package admitted" test $? -eq 0
    expect_rc 0 "$c: stages" "$VS" --home "$H" stage "$c@1.0" --dest "$T/ok-$c" --flat
    mkdir -p "$T/ref-$c" && python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
        "$P/$c-1.0.tgz.tar" "$T/ref-$c"
    check "$c: the staged files are the tar's" diff -r -x .vetstage "$T/ref-$c" "$T/ok-$c"
    check "$c: the manifest holds both files" test "$(grep -c -e ' bin/agent$' -e ' data/blob$' "$T/ok-$c/.vetstage/MANIFEST.sha256")" -eq 2
done

# the same box takes a good package: only the extractor stood in the way
package good
check "good: admitted" test $? -eq 0
expect_rc 0 "good package stages into the same DIR" "$VS" --home "$H" stage good@1.0 --dest "$DEST"
check "good: current points at the version" test "$(readlink "$DEST/current")" = versions/1.0
check "no temporary directory left" sh -c "! ls -A '$DEST' '$BOX' | grep -q vetstage-tmp"
# and after that, a refusal leaves the staged layout exactly as it was, even
# what a killed run left (removed only by a stage that commits)
mkdir "$DEST/.vetstage-tmp-00000000000000cc" && : >"$DEST/.vetstage-tmp-00000000000000cc/lock"
snapshot "$BOX" >"$T/box.before"
expect_rc 5 "refusal after a good stage" "$VS" --home "$H" stage dotdot@1.0 --dest "$DEST"
same_snapshot "staged layout untouched by the refusal (a killed run's folder too)" "$T/box.before" "$BOX"
expect_rc 0 "a good stage afterwards" "$VS" --home "$H" stage good@1.0 --dest "$DEST"
check "... removes the killed run's folder" test ! -e "$DEST/.vetstage-tmp-00000000000000cc"
# --flat refusals leave an absent DIR absent
snapshot "$BOX" >"$T/box.before"
expect_rc 5 "--flat refusal" "$VS" --home "$H" stage symesc@1.0 --dest "$BOX/flat" --flat
same_snapshot "--flat: nothing appears" "$T/box.before" "$BOX"

finish
