#!/bin/sh
# tests/unit/fetch/serve.sh start|stop DIR [PID] - nginx for the fetch unit suite.
# start: serves DIR/www with tests/nginx.sh (state under DIR/srv) and writes
# DIR/server.txt: one value a line: NGINX_HTTP, NGINX_HTTPS, NGINX_CA,
# NGINX_ACCESS_LOG, NGINX_PUBKEY, NGINX_OTHER_PUBKEY.
# stop: stops that nginx. PID (start): nginx is stopped when that process
# (the unit runner) is gone, even if it never gets to call `stop`.
set -u
cmd=$1
DIR=$2
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
T="$DIR/srv"
[ $# -ge 3 ] && NGINX_WATCH_PID=$3
mkdir -p "$T"
at_exit() { :; } # the suite calls `stop` itself
. "$ROOT/tests/nginx.sh"
case "$cmd" in
start)
    nginx_start "$DIR/www" || exit 1
    printf '%s\n' "$NGINX_HTTP" "$NGINX_HTTPS" "$NGINX_CA" "$NGINX_ACCESS_LOG" \
        "$NGINX_PUBKEY" "$NGINX_OTHER_PUBKEY" >"$DIR/server.txt.new" &&
        mv "$DIR/server.txt.new" "$DIR/server.txt"
    ;;
stop)
    nginx_stop
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
