#!/bin/sh
# tests/cli/test_sync_progress.sh - `mirror sync --jobs 2` shows one
# aggregate progress line in a real terminal (tmux) at 120 and 50 columns
# while three packages come from the throttled loopback nginx: it names the
# sync, advances, fits the width, is redrawn in place (no stray lines), ends
# at 100% with bytes, and the per-package lines follow it; off a terminal
# only plain lines; nothing at all with -q or --no-progress.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/nginx.sh"

command -v tmux >/dev/null 2>&1 || skip_all tmux "tmux is not installed (mk/deps.sh test installs it)"

WWW="$T/www"
mkdir -p "$WWW"
: >"$T/list"
for n in one two three; do
    mkdir -p "$T/tree/$n"
    head -c 786432 /dev/urandom >"$T/tree/$n/blob" # gzip cannot shrink it
    tar -C "$T/tree" -czf "$WWW/$n-1.0.0.tgz" "$n"
    sign_both "$WWW/$n-1.0.0.tgz"
done
nginx_start "$WWW" || { not_ok "nginx starts"; finish; exit 1; }
for n in one two three; do echo "$NGINX_HTTP/throttled/$n-1.0.0.tgz" >>"$T/list"; done

_socks=""
new_sock() { SOCK="$T/tmux-$1.sock"; _socks="$_socks $SOCK"; }
_tmux_stop() {
    for _s in $_socks; do tmux -S "$_s" kill-server >/dev/null 2>&1; done
    return 0
}
at_exit _tmux_stop
capture() { tmux -S "$SOCK" capture-pane -p -t vs | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }
LABEL="mirror sync (3 packages)"

one_width() {
    W=$1
    H="$T/home-$W"
    trust_fixture_keys "$H"
    new_sock "w$W"
    tmux -S "$SOCK" new-session -d -s vs -x "$W" -y 30 \
        "'$VS' --home '$H' mirror sync '$T/list' --dest '$T/mirror-$W' --jobs 2; echo EXIT=\$?; sleep 60" ||
        { not_ok "tmux starts ($W)"; return; }
    _n=0
    while [ "$_n" -lt 300 ]; do
        capture >"$T/cap1-$W"
        grep -q "KiB\|MiB\|[0-9]K\|[0-9]M" "$T/cap1-$W" && break
        grep -q "EXIT=" "$T/cap1-$W" && break
        sleep 0.1
        _n=$((_n + 1))
    done
    sleep 1.5
    capture >"$T/cap2-$W"
    _n=0
    while [ "$_n" -lt 900 ] && ! grep -q "EXIT=" "$T/cap3-$W" 2>/dev/null; do
        capture >"$T/cap3-$W"
        sleep 0.1
        _n=$((_n + 1))
    done
    for f in "$T/cap1-$W" "$T/cap2-$W" "$T/cap3-$W"; do sed 's/^/    | /' "$f"; done

    check "$W columns: the line names the sync" grep -q "mirror sync" "$T/cap1-$W"
    check "$W columns: while running, the screen holds only the progress line (no stray lines)" \
        test "$(grep -c . "$T/cap1-$W")" -eq 1 -a "$(grep -c . "$T/cap2-$W")" -eq 1
    check "$W columns: no progress line is wider than the terminal" \
        sh -c "! grep -h '^mirror syn' '$T/cap1-$W' '$T/cap2-$W' '$T/cap3-$W' | awk 'length > $W - 1' | grep -q ."
    check "$W columns: the rate" grep -qE '[0-9.]+ ?[KM](iB)?/s' "$T/cap2-$W"
    b1=$(grep -oE '[0-9.]+ ?(KiB|MiB|B|K|M)' "$T/cap1-$W" | head -1)
    b2=$(grep -oE '[0-9.]+ ?(KiB|MiB|B|K|M)' "$T/cap2-$W" | head -1)
    check "$W columns: the line advances ($b1 -> $b2)" test -n "$b1" -a -n "$b2" -a "$b1" != "$b2"
    check "$W columns: the sync succeeded" grep -q "EXIT=0" "$T/cap3-$W"
    check "$W columns: one finished aggregate line, at 100%, first" \
        test "$(grep -c "^mirror syn.*100%" "$T/cap3-$W")" -eq 1 -a \
        "$(head -1 "$T/cap3-$W" | grep -c "^mirror syn.*100%")" -eq 1
    check "$W columns: then one line per package" test "$(grep -c '^mirrored ' "$T/cap3-$W")" -eq 3
    check "$W columns: no per-file progress lines" sh -c "! grep -qE '\\.(tgz|asc|sig) .*%' '$T/cap3-$W'"
}

one_width 120
check "120 columns: the full label" grep -q "$LABEL" "$T/cap2-120"
one_width 50

# off a terminal: plain lines only
H="$T/home-plain"
trust_fixture_keys "$H"
expect_rc 0 "off a terminal: the sync succeeds" "$VS" --home "$H" mirror sync "$T/list" --dest "$T/mirror-plain" --jobs 2
check "off a terminal: no carriage return, no percentage" \
    sh -c "! grep -q \"$(printf '\r')\" '$T/err' && ! grep -q '%' '$T/err'"
check "off a terminal: one plain line per package" test "$(grep -c '^mirrored ' "$T/err")" -eq 3

# -q and --no-progress: nothing but the result lines (-q: not even those), even in a terminal
for flag in -q --no-progress; do
    H="$T/home-quiet$flag"
    trust_fixture_keys "$H"
    new_sock "q$flag"
    tmux -S "$SOCK" new-session -d -s vs -x 120 -y 30 \
        "'$VS' --home '$H' $flag mirror sync '$T/list' --dest '$T/mirror-q$flag' --jobs 2 2>'$T/quiet.err'; echo EXIT=\$?; sleep 60"
    _n=0
    : >"$T/capq"
    while [ "$_n" -lt 900 ] && ! grep -q "EXIT=" "$T/capq"; do
        capture >"$T/capq"
        sleep 0.1
        _n=$((_n + 1))
    done
    check "$flag in a terminal: the sync succeeded" grep -q "EXIT=0" "$T/capq"
    check "$flag in a terminal: no progress on stderr" \
        sh -c "! grep -q '%' '$T/quiet.err' && ! grep -q \"$(printf '\r')\" '$T/quiet.err' && ! grep -q 'mirror sync' '$T/quiet.err'"
done
check "--no-progress keeps the per-package lines" test "$(grep -c '^mirrored ' "$T/quiet.err")" -eq 3
finish
