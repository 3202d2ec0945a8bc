#!/bin/sh
# tests/cli/test_progress.sh - the progress line in a real terminal (tmux) at
# 120 and 50 columns during a throttled download from the loopback nginx: it
# advances, fits the width, shows bytes of total, rate and time left, is
# redrawn in place (no stray lines), draws nothing for the small signature
# files; a resumed download says "resuming at"; off a terminal only plain
# lines; nothing at all with -q or --no-progress.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/nginx.sh"

command -v tmux >/dev/null 2>&1 || skip_all tmux "tmux is not installed (mk/deps.sh test installs it)"

WWW="$T/www"
mkdir -p "$WWW"
PKG=big-3.0.0.tgz
# a real archive of 2 MiB of random bytes (gzip cannot shrink it): pull extracts it
mkdir -p "$T/tree/big"
head -c 2097152 /dev/urandom >"$T/tree/big/blob"
tar -C "$T/tree" -czf "$WWW/$PKG" big
sign_both "$WWW/$PKG"
NGINX_EXTRA_LOCATIONS="location /progress/ { alias $WWW/; limit_rate_after 0; limit_rate 256k; }"
nginx_start "$WWW" || { not_ok "nginx starts"; finish; exit 1; }
URL="$NGINX_HTTP/progress/$PKG"

# one tmux server (socket) per session: a new server on a socket whose old
# server is still shutting down may fail to start
_socks=""
new_sock() { SOCK="$T/tmux-$1.sock"; _socks="$_socks $SOCK"; }
_tmux_stop() {
    for _s in $_socks; do tmux -S "$_s" kill-server >/dev/null 2>&1; done
    return 0
}
at_exit _tmux_stop

# capture: the visible pane, trailing blank lines dropped
capture() { tmux -S "$SOCK" capture-pane -p -t vs | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }

# one_width COLUMNS COMMAND: fetch (or pull) in a COLUMNS-wide terminal, captured while it runs
one_width() {
    W=$1 CMD=$2
    H="$T/home-$W"
    trust_fixture_keys "$H"
    new_sock "w$W"
    tmux -S "$SOCK" new-session -d -s vs -x "$W" -y 30 \
        "'$VS' --home '$H' $CMD '$URL'; echo EXIT=\$?; sleep 60" || { not_ok "tmux starts ($W)"; return; }
    # wait for the progress line (the signature files come first and draw nothing)
    _n=0
    while [ "$_n" -lt 300 ]; do
        capture >"$T/cap1-$W"
        grep -q "$PKG" "$T/cap1-$W" && break
        grep -q "EXIT=" "$T/cap1-$W" && break
        sleep 0.1
        _n=$((_n + 1))
    done
    sleep 1.5
    capture >"$T/cap2-$W"
    _n=0
    while [ "$_n" -lt 600 ] && ! grep -q "EXIT=" "$T/cap3-$W" 2>/dev/null; do
        capture >"$T/cap3-$W"
        sleep 0.1
        _n=$((_n + 1))
    done
    for f in "$T/cap1-$W" "$T/cap2-$W" "$T/cap3-$W"; do sed 's/^/    | /' "$f"; done

    check "$W columns: the progress line names the package" grep -q "$PKG" "$T/cap1-$W"
    check "$W columns: while running, the screen holds only the progress line (no stray lines)" \
        test "$(grep -c . "$T/cap1-$W")" -eq 1 -a "$(grep -c . "$T/cap2-$W")" -eq 1
    check "$W columns: no progress line is wider than the terminal" \
        sh -c "! grep -h '$PKG' '$T/cap1-$W' '$T/cap2-$W' '$T/cap3-$W' | awk 'length > $W - 1' | grep -q ."
    check "$W columns: bytes of the total" grep -qE '/ ?2\.0 ?M' "$T/cap2-$W"
    check "$W columns: a percentage" grep -qE '[0-9]+%' "$T/cap2-$W"
    check "$W columns: the rate" grep -qE '[0-9.]+ ?[KM](iB)?/s' "$T/cap2-$W"
    check "$W columns: the time left" grep -qE 'ETA [0-9]+(s|m[0-9]+s)' "$T/cap2-$W"
    b1=$(grep -oE '[0-9.]+ ?(KiB|MiB|B|K|M) ?/' "$T/cap1-$W" | head -1)
    b2=$(grep -oE '[0-9.]+ ?(KiB|MiB|B|K|M) ?/' "$T/cap2-$W" | head -1)
    check "$W columns: the line advances ($b1 -> $b2)" test -n "$b1" -a -n "$b2" -a "$b1" != "$b2"
    check "$W columns: the fetch succeeded" grep -q "EXIT=0" "$T/cap3-$W"
    check "$W columns: one finished download line, at 100%" \
        test "$(grep -v '^extract' "$T/cap3-$W" | grep -c "$PKG.*100%")" -eq 1
    check "$W columns: no progress line for the signature files" \
        sh -c "! grep -qE '\\.(asc|sig)' '$T/cap3-$W'"
    check "$W columns: the result line on a line of its own" grep -q "^cached big@3.0.0" "$T/cap3-$W"
    if [ "$CMD" != fetch ]; then
        check "$W columns: the extract phase has its own line" grep -qE "^extract $PKG .*100%" "$T/cap3-$W"
        check "$W columns: the staged line after it" grep -q "^staged big@3.0.0" "$T/cap3-$W"
    fi
}

one_width 120 "pull --dest $T/layout"
one_width 50 fetch

# ---- a resumed download: "resuming at" (in a terminal and off one) ------------
H="$T/home-resume"
trust_fixture_keys "$H"
"$VS" --home "$H" -q fetch "$URL" >/dev/null 2>&1 &
pid=$!
_n=0
part=""
while [ "$_n" -lt 300 ]; do
    part=$(find "$H/cache/quarantine" -name 'pkg-*' -size +300k 2>/dev/null | head -1)
    [ -n "$part" ] && break
    sleep 0.1
    _n=$((_n + 1))
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
check "resume: a partial download was left" test -n "$part"
expect_rc 0 "resume off a terminal: the next run completes" "$VS" --home "$H" fetch "$URL"
expect_err_has "$PKG: resuming at " "resume off a terminal: a plain line says it resumed"
check "resume off a terminal: resumed at the partial size in KiB" grep -qE "resuming at [0-9]+\\.[0-9] KiB" "$T/err"
check "off a terminal: no carriage return, no bar" sh -c "! grep -q \"$(printf '\r')\" '$T/err' && ! grep -q '%' '$T/err'"

# -q and --no-progress: nothing at all, even in a terminal and when resuming
for flag in -q --no-progress; do
    H="$T/home-quiet$flag"
    trust_fixture_keys "$H"
    new_sock "q$flag"
    tmux -S "$SOCK" new-session -d -s vs -x 120 -y 30 \
        "'$VS' --home '$H' $flag fetch '$URL' 2>'$T/quiet.err'; echo EXIT=\$?; sleep 60"
    _n=0
    : >"$T/capq"
    while [ "$_n" -lt 600 ] && ! grep -q "EXIT=" "$T/capq"; do
        capture >"$T/capq"
        sleep 0.1
        _n=$((_n + 1))
    done
    check "$flag in a terminal: the fetch succeeded" grep -q "EXIT=0" "$T/capq"
    check "$flag in a terminal: no progress on stderr" sh -c "! grep -q '%' '$T/quiet.err' && ! grep -q \"$(printf '\r')\" '$T/quiet.err'"
done
test -s "$T/quiet.err" && grep -q '^cached' "$T/quiet.err" && ok "--no-progress keeps the result line" ||
    not_ok "--no-progress keeps the result line"
finish
