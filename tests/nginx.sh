# tests/nginx.sh - a real nginx on loopback for transfer tests.
# Source it after tests/lib.sh (it needs $T and at_exit).
#
# nginx_start ROOTDIR
#   Starts /usr/sbin/nginx as the current user (root or not), all its files
#   under $T/nginx, serving ROOTDIR over HTTP and HTTPS on two free random
#   loopback ports (20000-60000, retried when busy). Returns once both answer.
#   Exports:
#     NGINX_HTTP=http://127.0.0.1:PORT       NGINX_HTTP_PORT
#     NGINX_HTTPS=https://127.0.0.1:PORT2    NGINX_HTTPS_PORT
#     NGINX_CA=$T/nginx/ca.pem               the test CA that signed the server cert
#                                            (subjectAltName IP:127.0.0.1, DNS:localhost)
#     NGINX_PUBKEY=sha256//BASE64            the server key, for --pinned-pubkey
#     NGINX_OTHER_PUBKEY=sha256//BASE64      some other key (a pin that must fail)
#     NGINX_ACCESS_LOG=$T/nginx/access.log   one line per request:
#         "METHOD URI STATUS BODY_BYTES range=RANGE_HEADER scheme=http|https"
#     NGINX_ROOT=ROOTDIR
#   and registers `at_exit nginx_stop`.
#
# Locations (on both servers). FILE below means ROOTDIR/FILE:
#   /FILE                   plain static file
#   /slow/FILE              FILE at 1 byte/s (limit_rate_after 0; limit_rate 1)
#   /stall/FILE             ~700 bytes of FILE (or of the range asked) fast, then 1 byte/s
#   /throttled/FILE         FILE at 200 KiB/s (resume tests: kill a transfer midway)
#   /norange/FILE           FILE, Range ignored (max_ranges 0: always 200 with the whole body)
#   /encoded/FILE           FILE with "Content-Encoding: gzip" (a client must not decode it)
#   /chunked/FILE           FILE without Content-Length (chunked; size known only at the end)
#   /status500/ANY          always HTTP 500
#   /status429/ANY          always HTTP 429
#   /flaky/FILE             HTTP 500 while ROOTDIR/flaky/FILE does not exist, then serves it
#                           (nginx cannot count; a test creates the file after it sees the
#                           first 500 in $NGINX_ACCESS_LOG)
#   /redirect/FILE          302 to /FILE on the same server (same scheme: allowed)
#   /redirect-file/ANY      302 to file:///etc/passwd
#   /redirect-http/FILE     302 to http://127.0.0.1:HTTP_PORT/FILE
#   /redirect-https/FILE    302 to https://127.0.0.1:HTTPS_PORT/FILE
#   /redirect-loop/ANY      302 to itself, forever
#   $NGINX_EXTRA_LOCATIONS  (set before nginx_start) more nginx location blocks a test
#                           needs on both servers (basic auth, its own limit_rate)
#
#   A watchdog stops nginx when process $NGINX_WATCH_PID (default: the calling
#   shell, $$) is gone, so a test killed with -9 does not leave nginx behind.
#
# nginx_stop             stops it (registered with at_exit; safe to call twice)
# nginx_requests PATTERN prints how many access-log lines contain PATTERN (grep -F)

_nginx_port() {
    shuf -i 20000-60000 -n 1
}

_nginx_certs() {
    _d=$1
    [ -f "$_d/server.pem" ] && return 0
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$_d/ca.key" -out "$_d/ca.pem" -days 30 -subj "/CN=vetstage test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 || return 1
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$_d/server.key" -out "$_d/server.csr" -subj "/CN=127.0.0.1" >/dev/null 2>&1 || return 1
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$_d/server.ext"
    openssl x509 -req -in "$_d/server.csr" -CA "$_d/ca.pem" -CAkey "$_d/ca.key" \
        -CAcreateserial -days 30 -extfile "$_d/server.ext" -out "$_d/server.pem" >/dev/null 2>&1 || return 1
    # another key, for a pin that must not match
    openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out "$_d/other.key" >/dev/null 2>&1 || return 1
}

_nginx_pin() {
    openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | openssl dgst -sha256 -binary | openssl base64 -A
}

_nginx_conf() {
    _d=$1 _root=$2 _hp=$3 _sp=$4
    _user=""
    [ "$(id -u)" -eq 0 ] && _user="user root;"
    _locs="
        location / { }
        location /slow/ { alias $_root/; limit_rate_after 0; limit_rate 1; }
        location /stall/ { alias $_root/; sendfile off; output_buffers 1 1k; limit_rate_after 1000; limit_rate 1; }
        location /throttled/ { alias $_root/; limit_rate_after 0; limit_rate 200k; }
        location /norange/ { alias $_root/; max_ranges 0; }
        location /encoded/ { alias $_root/; add_header Content-Encoding gzip; }
        location /chunked/ { alias $_root/; sub_filter_types *; sub_filter vetstage-no-such-text x; }
        location /status500/ { return 500; }
        location /status429/ { return 429; }
        location /flaky/ { try_files \$uri =500; }
        location ~ ^/redirect/(.*)\$ { return 302 \$scheme://127.0.0.1:\$server_port/\$1; }
        location /redirect-file/ { return 302 file:///etc/passwd; }
        location ~ ^/redirect-http/(.*)\$ { return 302 http://127.0.0.1:$_hp/\$1; }
        location ~ ^/redirect-https/(.*)\$ { return 302 https://127.0.0.1:$_sp/\$1; }
        location ~ ^/redirect-loop/(.*)\$ { return 302 /redirect-loop/\$1; }
        ${NGINX_EXTRA_LOCATIONS:-}"
    cat >"$_d/nginx.conf" <<EOF
$_user
worker_processes 1;
daemon on;
master_process on;
pid $_d/nginx.pid;
error_log $_d/error.log warn;
events { worker_connections 128; }
http {
    log_format vs '\$request_method \$uri \$status \$body_bytes_sent range=\$http_range scheme=\$scheme';
    access_log $_d/access.log vs;
    client_body_temp_path $_d/tmp/body;
    proxy_temp_path $_d/tmp/proxy;
    fastcgi_temp_path $_d/tmp/fastcgi;
    uwsgi_temp_path $_d/tmp/uwsgi;
    scgi_temp_path $_d/tmp/scgi;
    default_type application/octet-stream;
    types { }
    gzip off;
    sendfile on;
    server_tokens off;
    absolute_redirect off;
    root $_root;
    server {
        listen 127.0.0.1:$_hp;
        server_name localhost;
        $_locs
    }
    server {
        listen 127.0.0.1:$_sp ssl;
        server_name localhost;
        ssl_certificate $_d/server.pem;
        ssl_certificate_key $_d/server.key;
        $_locs
    }
}
EOF
}

nginx_start() {
    _root=$(cd "$1" && pwd) || return 1
    _d="$T/nginx"
    mkdir -p "$_d/tmp" || return 1
    _nginx_certs "$_d" || { echo "nginx_start: cannot make certificates" >&2; return 1; }
    _try=0
    while :; do
        _try=$((_try + 1))
        _hp=$(_nginx_port)
        _sp=$(_nginx_port)
        if [ "$_hp" != "$_sp" ]; then
            _nginx_conf "$_d" "$_root" "$_hp" "$_sp"
            rm -f "$_d/nginx.pid"
            if /usr/sbin/nginx -p "$_d" -c "$_d/nginx.conf" -e "$_d/error.log" 2>>"$_d/start.log"; then
                break
            fi
        fi
        if [ "$_try" -ge 20 ]; then
            echo "nginx_start: nginx would not start:" >&2
            tail -5 "$_d/start.log" "$_d/error.log" >&2 2>/dev/null
            return 1
        fi
    done
    at_exit nginx_stop
    # a watchdog stops this nginx if the test dies without its exit hooks
    # (kill -9, a killed CI job); detached, so that `wait` never waits for it
    _watch=${NGINX_WATCH_PID:-$$}
    _pf="$_d/nginx.pid"
    ( (
        while kill -0 "$_watch" 2>/dev/null && [ -f "$_pf" ]; do sleep 1; done
        [ -f "$_pf" ] && kill "$(cat "$_pf")"
    ) >/dev/null 2>&1 </dev/null & )
    NGINX_HTTP_PORT=$_hp
    NGINX_HTTPS_PORT=$_sp
    NGINX_HTTP="http://127.0.0.1:$_hp"
    NGINX_HTTPS="https://127.0.0.1:$_sp"
    NGINX_CA="$_d/ca.pem"
    NGINX_ACCESS_LOG="$_d/access.log"
    NGINX_ROOT=$_root
    NGINX_PUBKEY="sha256//$(_nginx_pin "$_d/server.key")"
    NGINX_OTHER_PUBKEY="sha256//$(_nginx_pin "$_d/other.key")"
    export NGINX_HTTP NGINX_HTTPS NGINX_CA NGINX_ACCESS_LOG NGINX_ROOT NGINX_HTTP_PORT \
        NGINX_HTTPS_PORT NGINX_PUBKEY NGINX_OTHER_PUBKEY
    _n=0
    while [ "$_n" -lt 100 ]; do
        _a=$(curl -s -o /dev/null -w '%{http_code}' "$NGINX_HTTP/status500/ready" 2>/dev/null)
        _b=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$NGINX_CA" "$NGINX_HTTPS/status500/ready" 2>/dev/null)
        if [ "$_a" = 500 ] && [ "$_b" = 500 ]; then
            : >"$NGINX_ACCESS_LOG" # readiness probes are not the test's requests
            return 0
        fi
        _n=$((_n + 1))
        sleep 0.05
    done
    echo "nginx_start: nginx does not answer on $NGINX_HTTP / $NGINX_HTTPS" >&2
    return 1
}

# _nginx_alive PID: running (an exited nginx waits as a zombie until init reaps it)
_nginx_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    case "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" in Z) return 1 ;; esac
    return 0
}

nginx_stop() {
    _pf="$T/nginx/nginx.pid"
    [ -f "$_pf" ] || return 0
    _pid=$(cat "$_pf" 2>/dev/null)
    [ -n "$_pid" ] || return 0
    kill "$_pid" 2>/dev/null
    _n=0
    while _nginx_alive "$_pid" && [ "$_n" -lt 100 ]; do
        sleep 0.05
        _n=$((_n + 1))
    done
    _nginx_alive "$_pid" && kill -9 "$_pid" 2>/dev/null
    rm -f "$_pf"
    return 0
}

nginx_requests() {
    grep -cF -- "$1" "$NGINX_ACCESS_LOG" 2>/dev/null || true
}
