#!/bin/sh
# tests/cli/test_pump_hostile.sh - gpg misbehaving while verify/gpgpump.c
# writes the package to its pipe: stopped, killed, never reading. Nothing
# hangs for good, nothing is admitted on a run gpg did not finish, a good
# package still gets in (gpg checks the file afterwards), and many fetches
# in one process leave no eventfd behind.
#
# Case 3: gpg stopped after the last byte of a download small enough for
# the ring and the pipe hung in vs_gpg_stream_end's join, before and after
# the pump; the pump now gives gpg up when it shows no sign of life for the
# stream's stall time, and gpg checks the file.
. "$(dirname "$0")/../lib.sh"
W="$T/www"
mkdir -p "$W" "$T/src"
python3 - "$W" "$T/port" "$ROOT/tests" >"$T/srv.log" 2>&1 <<'PY' &
import http.server, os, sys, time
sys.path.insert(0, sys.argv[3])
from pyserve import serve
W = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a):
        pass
    def do_GET(self):
        mode, name = self.path.strip('/').split('/', 1)
        p = os.path.join(W, name)
        if not os.path.isfile(p):
            self.send_response(404)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        b = open(p, 'rb').read()
        self.send_response(200)
        self.send_header('Content-Length', str(len(b)))
        self.end_headers()
        if mode == 'slow':  # 64 KiB every 50 ms
            for i in range(0, len(b), 65536):
                self.wfile.write(b[i:i + 65536])
                self.wfile.flush()
                time.sleep(0.05)
        elif mode == 'holdlast':  # all but the last 10 bytes, 3 s, the rest
            self.wfile.write(b[:-10])
            self.wfile.flush()
            time.sleep(3)
            self.wfile.write(b[-10:])
        else:
            self.wfile.write(b)
serve(H, sys.argv[2])
PY
SRV=$!
PORT=$(wait_port "$T/port")
U="http://127.0.0.1:$PORT"
[ -n "$PORT" ] || { not_ok "the test server starts"; finish; exit 1; }
mkpkg() { head -c "$2" /dev/urandom >"$T/src/blob"; tar -C "$T/src" -czf "$W/$1" blob; sign_both "$W/$1"; }
# gpg_signal HOME SIG: SIG to the first gpg --verify of HOME once it runs; prints its pid
gpg_signal() {
    _i=0
    while [ $_i -lt 250 ]; do
        _g=$(pgrep -f "gpg.*--homedir $1/trust.*--verify" | head -1)
        if [ -n "$_g" ]; then kill -"$2" "$_g" && echo "$_g"; return; fi
        sleep 0.02
        _i=$((_i + 1))
    done
}

# stopped_fetch HOME MODE FILE DELAY: fetch $U/MODE/FILE (signatures from
# /plain/) and stop its gpg once it runs, DELAY seconds in at the earliest;
# RC is the fetch's exit (124: it hung and timeout ended it), G gpg's pid
stopped_fetch() {
    timeout 60 "$VS" --home "$1" --no-progress fetch "$U/$2/$3" \
        --gpg-sig-url "$U/plain/$3.asc" --rsa-sig-url "$U/plain/$3.sig" >/dev/null 2>"$T/stopped.err" &
    _fp=$!
    sleep "$4"
    G=$(gpg_signal "$1" STOP)
    wait "$_fp"
    RC=$?
    [ -n "$G" ] && { kill -CONT "$G"; kill -9 "$G"; } 2>/dev/null
    [ "$RC" -eq 0 ] || sed 's/^/    stderr: /' "$T/stopped.err" | head -5
}

# ---- 1. gpg stopped as the download begins ---------------------------------
# 3 MB: more than the ring (256 KiB) and gpg's pipe (1 MiB) hold, so the
# download stalls, the stream is voided after 5 s, the loop sees it in poll
# and cancels; gpg over the file admits the package.
mkpkg big-3.0.0.tgz 3000000
H1="$T/h1"
trust_fixture_keys "$H1"
stopped_fetch "$H1" slow big-3.0.0.tgz 0
if [ -n "$G" ]; then
    check "gpg stopped at the start: the stream gives up and gpg over the file admits (exit $RC)" \
        test "$RC" -eq 0
else
    skip gpg-stop "the streaming gpg was not seen (rc $RC)"
fi

# ---- 2. gpg killed while vetstage verify writes the package to it ----------
# Both forms (binary signature: the signed message; text-mode signature: the
# detached pair). gpg killed part-way is no verdict and no hang (the parent
# commit hung in gpgme's own loop here); the signature file is not blamed.
head -c 30000000 /dev/urandom >"$W/k.bin"
rsa_sign "$W/k.bin"
gpg_sign "$W/k.bin"
vendor_gpg --dearmor -o "$T/k.gpg" "$W/k.bin.asc"
vendor_gpg --local-user "$(cat "$FIX/vendor.fpr")!" --armor --textmode --detach-sign \
    -o "$T/k.tasc" "$W/k.bin"
H2="$T/h2"
trust_fixture_keys "$H2"
for s in k.gpg k.tasc; do
    timeout 30 "$VS" --home "$H2" --no-progress verify "$W/k.bin" --gpg-sig "$T/$s" \
        --rsa-sig "$W/k.bin.sig" >/dev/null 2>"$T/v.err" &
    VP=$!
    G=$(gpg_signal "$H2" STOP)
    sleep 0.3
    [ -n "$G" ] && kill -9 "$G" 2>/dev/null
    wait "$VP"
    rc=$?
    if [ -n "$G" ]; then
        check "$s: gpg killed mid-read: refused, no hang (exit $rc)" test "$rc" -eq 3
        check "$s: gpg killed mid-read: one line, the signature file not blamed" \
            sh -c "[ \$(grep -c '^vetstage: ' '$T/v.err') -eq 1 ] && ! grep -q 'not an OpenPGP signature' '$T/v.err'"
    else
        skip gpg-kill "gpg was not seen during verify (rc $rc)"
    fi
done

# ---- 2b. gpg ending early on its own: its word, not a broken pipe ----------
# A truncated signature makes gpg stop before reading the 30 MB package: the
# pump's write fails, and gpg's own status (no signature data) is what is
# reported, as it was before the pump; a flipped bit in the signature value
# is read to the end and is a bad signature.
python3 - "$T/k.gpg" "$T" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
open(sys.argv[2] + '/k.trunc', 'wb').write(d[:len(d) // 2])
b = bytearray(d); b[-10] ^= 0x01
open(sys.argv[2] + '/k.flip', 'wb').write(bytes(b))
PY
for c in "k.trunc:not an OpenPGP signature" "k.flip:bad signature"; do
    f=${c%%:*}; want=${c#*:}
    expect_rc 3 "$f: refused" "$VS" --home "$H2" --no-progress verify "$W/k.bin" --gpg-sig "$T/$f" \
        --rsa-sig "$W/k.bin.sig"
    expect_err_has "$T/$f: $want" "$f: '$want'"
done

# ---- 3. gpg stopped, the download ends ------------------------------------
mkpkg small-1.0.0.tgz 100000
H3="$T/h3"
trust_fixture_keys "$H3"
stopped_fetch "$H3" holdlast small-1.0.0.tgz 0.5
if [ -n "$G" ]; then
    check "gpg stopped before the end of a small download: the fetch ends and admits (exit $RC, 124 = hung)" \
        test "$RC" -eq 0
else
    skip gpg-stop3 "the streaming gpg was not seen before the download ended (rc $RC)"
fi

# ---- 4. many fetches in one process: every eventfd is closed ---------------
: >"$T/list"
for i in 1 2 3 4 5 6; do
    mkpkg "p$i-1.0.$i.tgz" 300000
    echo "$U/plain/p$i-1.0.$i.tgz" >>"$T/list"
done
mkpkg bad-1.0.0.tgz 300000
python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[1000] ^= 0x20; open(sys.argv[1], "wb").write(d)' "$W/bad-1.0.0.tgz"
rsa_sign "$W/bad-1.0.0.tgz"
echo "$U/plain/bad-1.0.0.tgz" >>"$T/list"
H4="$T/h4"
trust_fixture_keys "$H4"
if command -v strace >/dev/null 2>&1; then
    # no leak sanitizer under strace (it cannot run under ptrace)
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -qq -e trace=eventfd2,close,clone,clone3,fork,vfork -o "$T/m.trace" \
        "$VS" --home "$H4" --no-progress mirror sync "$T/list" --dest "$T/mir" --jobs 3 \
        >/dev/null 2>"$T/m.err"
    rc=$?
    check "mirror sync: 6 admitted, the tampered one refused (exit $rc)" test "$rc" -eq 3
    [ "$rc" -eq 3 ] || sed 's/^/    stderr: /' "$T/m.err" | head -12
    # every eventfd2 result is closed later by vetstage itself (its threads,
    # not gpgme's children, which close every descriptor they inherit);
    # strace -f splits calls into "<unfinished ...>" and "<... resumed>"
    python3 - "$T/m.trace" >"$T/m.count" <<'PY'
import re, sys
pending, live, made, mine = {}, set(), 0, set()
for line in open(sys.argv[1]):
    m = re.match(r'(\d+)\s+(.*)', line)
    if not m:
        continue
    pid, rest = m.groups()
    if not mine:
        mine.add(pid)
    r = re.match(r'<\.\.\. (\w+) resumed>.*= (-?\d+)', rest)
    if rest.startswith('<...') and not r:
        pending.pop(pid, None)
        continue
    if r:
        call, text = pending.pop(pid, (r.group(1), ''))
        ret = r.group(2)
    else:
        c = re.match(r'(\w+)\((.*)', rest)
        if not c:
            continue
        call, text = c.group(1), c.group(2)
        if '<unfinished' in rest:
            pending[pid] = (call, text)
            continue
        r = re.search(r'= (-?\d+)', rest)
        if not r:
            continue
        ret = r.group(1)
    if pid not in mine:
        continue
    if call in ('clone', 'clone3') and 'CLONE_THREAD' in text and int(ret) > 0:
        mine.add(ret)
    elif call == 'eventfd2' and int(ret) >= 0:
        made += 1
        live.add(ret)
    elif call == 'close' and ret == '0':
        fd = re.match(r'\s*(\d+)', text)
        if fd:
            live.discard(fd.group(1))
print(made, len(live))
PY
    read -r made left <"$T/m.count"
    check "mirror sync: one eventfd per streamed package ($made)" test "$made" -eq 7
    check "mirror sync: no eventfd left open ($left left)" test "$left" -eq 0
else
    skip strace "strace is not installed"
fi
kill "$SRV" 2>/dev/null
wait "$SRV" 2>/dev/null
finish
