#!/bin/sh
# tests/cli/test_sigpar.sh - the signature-side files of a fetch come side by
# side while the package waits, and a policy they already show cannot be met
# stops the fetch before the package body was downloaded.
#
# The peer is a small Python HTTP server on 127.0.0.1 that holds responses
# back and records what it did (no real server holds a body until another
# request came). Paths say how the package is served:
#   /hold/F    the first 64 KiB, then the rest once F.asc and F.sig were
#              both served; F.asc itself is answered only once F.sig was
#              asked for (fetched one after another, neither would come)
#   /close/F   the first 64 KiB, then nothing until the client closes the
#              connection (logged with the bytes sent) - or, when it never
#              does, the rest after a while (logged as complete)
#   /stall/F   as /close/, and F.asc is never answered
#   /plain/F   at once
# Nothing here asserts on time: the log says who waited for whom and how
# many bytes of the package were sent.
. "$(dirname "$0")/../lib.sh"

W="$T/www"
mkdir -p "$W/src"
head -c 4000000 /dev/urandom >"$W/src/blob"
# pkg VERSION: agent-VERSION.tgz, its own bytes (no two versions are one package)
pkg() {
    echo "$1" >"$W/src/version"
    tar -C "$W/src" -czf "$W/agent-$1.tgz" blob version
}
pkg 1.2.3 && sign_both "$W/agent-1.2.3.tgz"
pkg 1.2.4 && gpg_sign "$W/agent-1.2.4.tgz" ed25519 && rsa_sign "$W/agent-1.2.4.tgz" # a stored key the source is not bound to
pkg 1.2.5 && rsa_sign "$W/agent-1.2.5.tgz"                                         # no .asc at all (404)
pkg 1.2.6 && gpg_sign "$W/agent-1.2.6.tgz"                                         # no .sig (404): fine under --require gpg
pkg 1.2.7 && rsa_sign "$W/agent-1.2.7.tgz"
cp "$FIX/vendor.asc" "$W/agent-1.2.7.tgz.asc"                                      # an armored public key, not a signature
pkg 1.2.8 && gpg_sign "$W/agent-1.2.8.tgz" other && rsa_sign "$W/agent-1.2.8.tgz"  # a key not in the store
pkg 1.2.9 && sign_both "$W/agent-1.2.9.tgz"
{ cat "$W/agent-1.2.9.tgz.asc"; head -c 40000 /dev/zero | tr '\0' ' '; } >"$T/big.asc"   # over the cap
mv "$T/big.asc" "$W/agent-1.2.9.tgz.asc"
pkg 1.3.0 && sign_both "$W/agent-1.3.0.tgz"                                        # .asc behind a redirect to another host name

python3 - "$W" "$T/port" "$ROOT/tests" >"$T/srv.log" 2>"$T/srv.err" <<'EOF' &
import http.server, os, select, socketserver, sys, threading
W, PORTFILE = sys.argv[1], sys.argv[2]
sys.path.insert(0, sys.argv[3])
from pyserve import serve
lock = threading.Lock()
cond = threading.Condition(lock)
served = set()     # (base, kind) of signature files answered
asked = set()      # (base, kind) of signature files asked for
def log(msg):
    with lock:
        sys.stdout.write(msg + '\n')
        sys.stdout.flush()
def wait_for(pred, secs):
    with cond:
        return cond.wait_for(pred, timeout=secs)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a):
        pass
    def send_file(self, name, extra=()):
        path = os.path.join(W, name)
        if not os.path.isfile(path):
            self.send_response(404)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return False
        b = open(path, 'rb').read()
        self.send_response(200)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(b)))
        self.end_headers()
        self.wfile.write(b)
        return True
    def held_package(self, mode, name):
        path = os.path.join(W, name)
        b = open(path, 'rb').read()
        self.send_response(200)
        self.send_header('Content-Length', str(len(b)))
        self.end_headers()
        first = 65536
        self.wfile.write(b[:first])
        self.wfile.flush()
        if mode == 'hold':
            got = wait_for(lambda: {(name, 'asc'), (name, 'sig')} <= served, 30)
            log('pkg %s released: %s' % (name, 'sigs served' if got else 'cap'))
        else:
            # wait for the client to close (EOF on the socket), at most 30 s
            # (a client that leaves with unread bytes resets the connection)
            r, _, _ = select.select([self.connection], [], [], 30)
            try:
                left = bool(r) and not self.connection.recv(1, 0x40)  # MSG_DONTWAIT: b'' is EOF
            except OSError:
                left = True
            if left:
                log('pkg %s closed after %d of %d' % (name, first, len(b)))
                self.close_connection = True
                return
            log('pkg %s released: cap' % name)
        try:
            self.wfile.write(b[first:])
            self.wfile.flush()
            log('pkg %s complete %d' % (name, len(b)))
        except OSError:
            log('pkg %s closed after >%d of %d' % (name, first, len(b)))
    def do_GET(self):
        parts = self.path.split('?')[0].split('/')
        mode, name = parts[1], parts[-1]
        auth = 'yes' if self.headers.get('Authorization') else 'no'
        kind = 'asc' if name.endswith('.asc') else 'sig' if name.endswith('.sig') else 'pkg'
        base = name[:-4] if kind != 'pkg' else name
        log('GET %s %s host=%s auth=%s' % (mode, name, self.headers.get('Host', '').split(':')[0], auth))
        if kind == 'pkg':
            if mode in ('hold', 'close', 'stall'):
                return self.held_package(mode, name)
            return self.send_file(name)
        with cond:
            asked.add((base, kind))
            cond.notify_all()
        if mode == 'stall' and kind == 'asc':
            r, _, _ = select.select([self.connection], [], [], 60)
            log('asc %s stalled until the client left' % base)
            self.close_connection = True
            return
        if mode == 'hold' and kind == 'asc':
            got = wait_for(lambda: (base, 'sig') in asked, 30)
            log('asc %s released: %s' % (base, 'sig requested' if got else 'cap'))
        if mode == 'redir' and kind == 'asc':
            port = self.server.server_address[1]
            self.send_response(302)
            self.send_header('Location', 'http://localhost:%d/plain/%s' % (port, name))
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        self.send_file(name)
        with cond:
            served.add((base, kind))
            cond.notify_all()
serve(H, PORTFILE)
EOF
SRV=$!
stop_srv() { kill "$SRV" 2>/dev/null; }
at_exit stop_srv
PORT=$(wait_port "$T/port")
[ -n "$PORT" ] || { not_ok "the test server starts: $(cat "$T/srv.err")"; finish; exit 1; }
U="http://127.0.0.1:$PORT"
H="$T/home"
trust_fixture_keys "$H"
"$VS" --home "$H" -q keys import "$FIX/ed25519.asc" >/dev/null 2>&1
"$VS" --home "$H" -q cache list >/dev/null 2>&1
VFPR=$(cat "$FIX/vendor.fpr")
EDFPR=$(cat "$FIX/ed25519.fpr")
OTHERFPR=$(cat "$FIX/other.fpr")
# the log lines for one package name, as the server wrote them
srvlog() { grep -F " $1" "$T/srv.log"; }
in_order() { # in_order NAME LINE1 LINE2: LINE1 came before LINE2 in the server's log
    awk -v a="$2" -v b="$3" 'index($0, a) && !sa { sa = NR } index($0, b) && !sb { sb = NR }
        END { exit !(sa && sb && sa < sb) }' "$T/srv.log"
}
# refused NAME: the package's body was cut short, and the home did not change
cut_short() {
    # the server logs once it saw the client leave (or sent it all): wait for that line
    i=0
    while ! grep -q "^pkg $1 \(closed\|complete\)" "$T/srv.log" && [ $i -lt 400 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    check "$1: the package body was not downloaded (server: $(srvlog "$1" | grep '^pkg' | tr '\n' ' '))" \
        sh -c "grep -q '^pkg $1 closed after' '$T/srv.log' && ! grep -q '^pkg $1 complete' '$T/srv.log'"
}
no_quarantine() {
    check "$1: no quarantine left" sh -c "[ -z \"\$(ls -A '$H/cache/quarantine' 2>/dev/null)\" ]"
}

# ---- 1. the signature files come side by side while the package waits ---------------
expect_rc 0 "a package held after its first bytes: fetched and admitted" \
    "$VS" --home "$H" --no-progress fetch "$U/hold/agent-1.2.3.tgz"
check "the .asc was answered only because the .sig was asked for meanwhile (in parallel)" \
    grep -q '^asc agent-1.2.3.tgz released: sig requested' "$T/srv.log"
check "the package's body was released because both signature files were served" \
    grep -q '^pkg agent-1.2.3.tgz released: sigs served' "$T/srv.log"
check "both signature requests came before the package body completed" \
    sh -c "in_order() { awk -v a=\"\$1\" -v b=\"\$2\" 'index(\$0, a) && !sa { sa = NR } index(\$0, b) && !sb { sb = NR } END { exit !(sa && sb && sa < sb) }' '$T/srv.log'; }
           in_order 'GET hold agent-1.2.3.tgz.sig' 'pkg agent-1.2.3.tgz complete' &&
           in_order 'GET hold agent-1.2.3.tgz.asc' 'pkg agent-1.2.3.tgz complete'"
expect_rc 0 "admitted: cache show" "$VS" --home "$H" cache show agent@1.2.3

# ---- 2. a key the source is not bound to: refused before the body -------------------
printf '[source agent]\nurl = %s/close/agent-{version}.tgz\nkeys = %s %s\n' \
    "$U" "$VFPR" "$(cat "$FIX/org.fpr")" >"$H/vetstage.conf"
snapshot "$H" >"$T/snap.before"
expect_rc 3 "signed by a stored key the source is not bound to: refused" \
    "$VS" --home "$H" --no-progress fetch agent@1.2.4
expect_err_has "$U/close/agent-1.2.4.tgz.asc: signed by key $EDFPR, which is not bound to this source" \
    "the .asc URL, the key that signed it"
expect_err_has "(bound: $VFPR)" "and the OpenPGP keys allowed"
expect_err_has "vetstage keys import" "with the next step"
cut_short agent-1.2.4.tgz
same_snapshot "bound-key mismatch: home unchanged" "$T/snap.before" "$H"
no_quarantine "bound-key mismatch"
rm "$H/vetstage.conf"

snapshot "$H" >"$T/snap.before"
expect_rc 3 "signed by a key not in the store: refused" \
    "$VS" --home "$H" --no-progress fetch "$U/close/agent-1.2.8.tgz"
expect_err_has "$U/close/agent-1.2.8.tgz.asc: signed by unknown key $OTHERFPR (not in the trust store)" \
    "unknown key: named as verify names it"
cut_short agent-1.2.8.tgz
same_snapshot "unknown key: home unchanged" "$T/snap.before" "$H"

# ---- 3. a missing, oversized or wrong required .asc: refused before the body ----------
snapshot "$H" >"$T/snap.before"
expect_rc 4 "a 404 required .asc: refused" "$VS" --home "$H" --no-progress fetch "$U/close/agent-1.2.5.tgz"
expect_err_has "$U/close/agent-1.2.5.tgz.asc: HTTP 404" "the .asc URL is the subject"
cut_short agent-1.2.5.tgz
same_snapshot "404 .asc: home unchanged" "$T/snap.before" "$H"
no_quarantine "404 .asc"

snapshot "$H" >"$T/snap.before"
expect_rc 3 "an armored public key where the .asc should be: refused" \
    "$VS" --home "$H" --no-progress fetch "$U/close/agent-1.2.7.tgz"
expect_err_has "$U/close/agent-1.2.7.tgz.asc: not an OpenPGP signature" "the .asc URL, verify's words"
cut_short agent-1.2.7.tgz
same_snapshot "a key as .asc: home unchanged" "$T/snap.before" "$H"

snapshot "$H" >"$T/snap.before"
expect_rc 4 "an .asc over its cap: refused" "$VS" --home "$H" --no-progress fetch "$U/close/agent-1.2.9.tgz"
expect_err_has "$U/close/agent-1.2.9.tgz.asc: larger than the limit" "the .asc URL and the cap"
cut_short agent-1.2.9.tgz
same_snapshot "oversized .asc: home unchanged" "$T/snap.before" "$H"

# ---- 4. optional files missing are still fine ---------------------------------------
expect_rc 0 "--require gpg and no .sig: admitted" \
    "$VS" --home "$H" --no-progress -v fetch --require gpg "$U/plain/agent-1.2.6.tgz"
expect_err_has "agent-1.2.6.tgz.sig: HTTP 404 (not required; going on without it)" "the missing .sig is logged"

# ---- 5. credentials: sent with every file, never shown -------------------------------
CU="http://vsuser:s3cr3tpw@127.0.0.1:$PORT"
snapshot "$H" >"$T/snap.before"
expect_rc 4 "with credentials, a 404 .asc is refused" \
    "$VS" --home "$H" --no-progress -v fetch "$CU/close/agent-1.2.5.tgz?access_token=t0k3nXYZ"
check "credentials never in the output" sh -c "! grep -q -e s3cr3tpw -e t0k3nXYZ -e vsuser '$T/out' '$T/err'"
expect_err_has "$U/close/agent-1.2.5.tgz.asc?access_token=REDACTED: HTTP 404" "the .asc URL, redacted"
same_snapshot "credentials: home unchanged" "$T/snap.before" "$H"
check "credentials never on disk" sh -c "! grep -rq -e s3cr3tpw -e t0k3nXYZ '$H'"
check "the signature requests carried the login, as the package's did" \
    sh -c "grep -q 'GET close agent-1.2.5.tgz.asc host=127.0.0.1 auth=yes' '$T/srv.log' &&
           grep -q 'GET close agent-1.2.5.tgz.sig host=127.0.0.1 auth=yes' '$T/srv.log'"

# ---- 6. hostile signature servers ---------------------------------------------------
# a redirect to another host: followed (same scheme), the login not sent there
expect_rc 0 "an .asc behind a redirect to another host name: admitted" \
    "$VS" --home "$H" --no-progress fetch "$CU/redir/agent-1.3.0.tgz"
check "the redirected .asc request went to the other host without the login" \
    grep -q 'GET plain agent-1.3.0.tgz.asc host=localhost auth=no' "$T/srv.log"
check "credentials never in the output (redirect)" sh -c "! grep -q -e s3cr3tpw '$T/out' '$T/err'"

# a signature server that never answers: the package's --timeout still ends it all
snapshot "$H" >"$T/snap.before"
expect_rc 4 "an .asc that never comes: the fetch ends by --timeout" \
    timeout 120 "$VS" --home "$H" --no-progress fetch --retries 0 --timeout 3 "$U/stall/agent-1.2.3.tgz" \
    --name stalled --version 1.0
expect_err_has "timed out after 3 s (--timeout)" "a timeout, by the package's deadline"
same_snapshot "stalled .asc: home unchanged" "$T/snap.before" "$H"
no_quarantine "stalled .asc"

# ---- 7. a signing subkey of a bound key: not refused early, and gpg accepts it --------
# (the issuer named is the subkey's: only the store knows whose it is)
vendor_gpg --quick-add-key "$VFPR" ed25519 sign 1y
SUBFPR=$(vendor_gpg --with-colons --list-keys "$VFPR" | awk -F: '$1 == "fpr" { print $10 }' | sed -n 2p)
vendor_gpg --armor --export "$VFPR" >"$T/vendor-sub.asc"
H3="$T/home3"
"$VS" --home "$H3" -q keys import "$T/vendor-sub.asc" "$FIX/org.pub.pem" >/dev/null 2>&1
pkg 1.3.1
vendor_gpg --local-user "$SUBFPR!" --armor --detach-sign -o "$W/agent-1.3.1.tgz.asc" "$W/agent-1.3.1.tgz"
rsa_sign "$W/agent-1.3.1.tgz"
check "the subkey's signature names the subkey ($SUBFPR), not the bound primary key" \
    sh -c "[ -n '$SUBFPR' ] && [ '$SUBFPR' != '$VFPR' ] &&
           gpg --list-packets '$W/agent-1.3.1.tgz.asc' 2>/dev/null | grep -q 'issuer fpr v4 $SUBFPR'"
printf '[source agent]\nurl = %s/plain/agent-{version}.tgz\nkeys = %s %s\n' \
    "$U" "$VFPR" "$(cat "$FIX/org.fpr")" >"$H3/vetstage.conf"
expect_rc 0 "signed by a signing subkey of the bound key: admitted" \
    "$VS" --home "$H3" --no-progress fetch agent@1.3.1
finish
