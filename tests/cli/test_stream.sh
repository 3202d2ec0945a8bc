#!/bin/sh
# tests/cli/test_stream.sh - gpg reading the package while it downloads is
# only a faster way to the same verdict: whatever disturbs the stream (a
# resumed download of another length, gpg killed mid-way), nothing is
# admitted on gpg's word over bytes it did not judge, and a good package
# still gets in (gpg checks the file afterwards).
#
# The hostile peer of case 1 is a small Python HTTP server on 127.0.0.1: no
# real server answers a Range request with another total on purpose (a file
# replaced on a mirror mid-download does it by accident).
. "$(dirname "$0")/../lib.sh"

# ---- 1. a resume whose total differs from the first response ---------------
# The first response says the package's length and drops after 100 bytes;
# the Range request gets the package plus a trailing OpenPGP packet gpg
# would skip (tag 60, experimental). Under --require gpg the stream's
# literal header declared the first length: gpg must not vouch for the rest.
W="$T/www"
mkdir -p "$W"
cp "$FIX/pkg/agent-1.2.3.tgz" "$FIX/pkg/agent-1.2.3.tgz.asc" "$W/"
python3 - "$W" "$T/port" "$ROOT/tests" >"$T/srv.log" 2>&1 <<'EOF' &
import http.server, os, socket, socketserver, sys
W, PORTFILE = sys.argv[1], sys.argv[2]
sys.path.insert(0, sys.argv[3])
from pyserve import serve
PKG = open(os.path.join(W, 'agent-1.2.3.tgz'), 'rb').read()
ASC = open(os.path.join(W, 'agent-1.2.3.tgz.asc'), 'rb').read()
EXTRA = b'\xfc\x0bNOT-SIGNED!'  # new-format packet, tag 60, 11 bytes
FULL = PKG + EXTRA
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a):
        pass
    def body(self, code, b, extra=()):
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        if self.path.endswith('.asc'):
            return self.body(200, ASC)
        rng = self.headers.get('Range')
        if not rng:
            self.send_response(200)
            self.send_header('Content-Length', str(len(PKG)))
            self.end_headers()
            self.wfile.write(PKG[:100])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        start = int(rng.split('=')[1].split('-')[0])
        self.body(206, FULL[start:],
                  [('Content-Range', 'bytes %d-%d/%d' % (start, len(FULL) - 1, len(FULL)))])
serve(H, PORTFILE)
EOF
SRV=$!
PORT=$(wait_port "$T/port")
H="$T/home"
trust_fixture_keys "$H"
"$VS" --home "$H" -q cache list >/dev/null 2>&1
snapshot "$H" >"$T/snap.before"
expect_rc 3 "a resumed download with another total is not admitted on the stream's verdict (--require gpg)" \
    "$VS" --home "$H" fetch --require gpg "http://127.0.0.1:$PORT/agent-1.2.3.tgz"
expect_err_has "bad signature" "gpg over the whole file judges the bytes that arrived"
same_snapshot "the home is unchanged" "$T/snap.before" "$H"
expect_rc 3 "pull: refused the same way" \
    "$VS" --home "$H" pull --require gpg "http://127.0.0.1:$PORT/agent-1.2.3.tgz" --dest "$T/d1"
check "pull: nothing staged" test ! -e "$T/d1"
kill "$SRV" 2>/dev/null
wait "$SRV" 2>/dev/null

# ---- 2. gpg killed while it reads the download ----------------------------
# A stream that ends in a gpgme error is no verdict: gpg checks the file
# afterwards, and a good package is admitted (not "not an OpenPGP signature").
. "$(dirname "$0")/../nginx.sh"
mkdir -p "$T/www2"
nginx_start "$T/www2" || { not_ok "nginx starts"; finish; exit 1; }
head -c 3000000 /dev/urandom >"$T/blob"
mkdir -p "$T/src"
cp "$T/blob" "$T/src/blob"
tar -C "$T/src" -czf "$NGINX_ROOT/big-2.0.0.tgz" blob
sign_both "$NGINX_ROOT/big-2.0.0.tgz"
H2="$T/home2"
trust_fixture_keys "$H2"
"$VS" --home "$H2" --no-progress fetch "$NGINX_HTTP/throttled/big-2.0.0.tgz" \
    --gpg-sig-url "$NGINX_HTTP/big-2.0.0.tgz.asc" --rsa-sig-url "$NGINX_HTTP/big-2.0.0.tgz.sig" \
    >"$T/f2.out" 2>"$T/f2.err" &
FP=$!
killed=no
i=0
while [ $i -lt 100 ] && kill -0 "$FP" 2>/dev/null; do
    g=$(pgrep -f "gpg.*--homedir $H2/trust" | head -1)
    if [ -n "$g" ]; then
        kill -9 "$g" 2>/dev/null && killed=yes
        break
    fi
    sleep 0.1
    i=$((i + 1))
done
wait "$FP"
rc=$?; cat "$T/f2.err" >&2; (exit $rc)
rc=$?
if [ "$killed" = yes ]; then
    check "gpg killed mid-download: the package is still judged and admitted (exit $rc)" test "$rc" -eq 0
    check "gpg killed mid-download: no blame on the signature file" \
        sh -c "! grep -q 'not an OpenPGP signature' '$T/f2.err'"
    expect_rc 0 "gpg killed mid-download: the cache is sound" "$VS" --home "$H2" cache fsck
else
    skip gpg-kill "the streaming gpg was not seen while the download ran (rc $rc)"
fi
# ---- 3. gpg reads the download once, in either form, and judges it ---------
# vetstage writes the package to gpg's pipe itself (verify/gpgpump.c), not
# through gpgme's data handler. gpg still gets every byte, in order: a good
# package is admitted on that one run, a package changed after signing is
# refused on it, in the signed-message form (one binary signature: one pipe)
# and in the detached form (a text-mode signature: the signature and the
# package on two pipes).
mkdir -p "$NGINX_ROOT/once"
cp "$T/blob" "$T/src/blob"
tar -C "$T/src" -czf "$NGINX_ROOT/once/msg-1.0.0.tgz" blob
sign_both "$NGINX_ROOT/once/msg-1.0.0.tgz"
cp "$NGINX_ROOT/once/msg-1.0.0.tgz" "$NGINX_ROOT/once/det-1.0.0.tgz"
vendor_gpg --local-user "$(cat "$FIX/vendor.fpr")!" --armor --textmode --detach-sign \
    -o "$NGINX_ROOT/once/det-1.0.0.tgz.asc" "$NGINX_ROOT/once/det-1.0.0.tgz"
rsa_sign "$NGINX_ROOT/once/det-1.0.0.tgz"
for form in msg det; do
    # the same name, other bytes: signed before one byte was changed
    cp "$NGINX_ROOT/once/$form-1.0.0.tgz" "$NGINX_ROOT/once/$form-1.0.1.tgz"
    cp "$NGINX_ROOT/once/$form-1.0.0.tgz.asc" "$NGINX_ROOT/once/$form-1.0.1.tgz.asc"
    python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[2000000] ^= 0x01; open(sys.argv[1], "wb").write(d)' \
        "$NGINX_ROOT/once/$form-1.0.1.tgz"
    rsa_sign "$NGINX_ROOT/once/$form-1.0.1.tgz"
done
# gpg_runs FILE: how many times gpg was started to verify (strace's execve log)
gpg_runs() { grep -c 'execve("[^"]*gpg", \[.*"--verify"' "$1"; }
# gpg_pipes FILE: how many of the package's files gpg was told to read from
# pipes ("-&FD" after "--verify --"): 1 for the signed message, 2 detached
gpg_pipes() { grep -o 'execve("[^"]*gpg", \[.*"--verify", "--".*' "$1" | grep -o '"-&[0-9]*"' | wc -l; }
H3="$T/home3"
trust_fixture_keys "$H3"
# LeakSanitizer cannot run under ptrace: the sanitizer build's leak check is
# left to every other run
traced() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -e trace=execve "$@"; }
for form in msg det; do
    pipes=1; [ "$form" = det ] && pipes=2
    expect_rc 0 "$form form: a good package is admitted" \
        traced -o "$T/$form.trace" \
        "$VS" --home "$H3" --no-progress fetch "$NGINX_HTTP/once/$form-1.0.0.tgz"
    check "$form form: gpg verified once, while the package arrived ($(gpg_runs "$T/$form.trace") runs)" \
        test "$(gpg_runs "$T/$form.trace")" -eq 1
    check "$form form: gpg read $pipes pipe(s)" test "$(gpg_pipes "$T/$form.trace")" -eq "$pipes"
    snapshot "$H3" >"$T/snap3.before"
    expect_rc 3 "$form form: one byte changed after signing: refused" \
        traced -o "$T/$form-bad.trace" \
        "$VS" --home "$H3" --no-progress fetch --require gpg "$NGINX_HTTP/once/$form-1.0.1.tgz"
    expect_err_has "bad signature" "$form form: gpg's verdict is named"
    check "$form form: refused on the one run ($(gpg_runs "$T/$form-bad.trace") runs)" \
        test "$(gpg_runs "$T/$form-bad.trace")" -eq 1
    same_snapshot "$form form: the home is unchanged by the refusal" "$T/snap3.before" "$H3"
done
expect_rc 0 "the cache is sound" "$VS" --home "$H3" cache fsck
finish
