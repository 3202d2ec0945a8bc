#!/bin/sh
# tests/cli/test_homeboundary.sh - the home is a boundary. A symbolic link
# planted at every directory level of the home (cache, its objects, refs,
# quarantine, the trust store, tmp), pointing to an outside folder that holds
# a copy of what was there plus a user's files, must never be followed: every
# command that reaches it refuses (exit 6, naming the path inside the home),
# every other command works as before, and nothing outside the home changes.
. "$(dirname "$0")/../lib.sh"

W="$T/www"
mkdir -p "$W/src"
cp "$FIX/pkg/agent-1.2.3.tgz" "$FIX/pkg/agent-1.2.3.tgz.asc" "$FIX/pkg/agent-1.2.3.tgz.sig" "$W/"
echo "agent 1.3.0" >"$W/src/VERSION"
tar -C "$W/src" -czf "$W/agent-1.3.0.tgz" VERSION
sign_both "$W/agent-1.3.0.tgz"
SUM=$(sha256sum "$W/agent-1.2.3.tgz" | cut -d' ' -f1)
AB=$(echo "$SUM" | cut -c1-2)

# the template home: keys and agent@1.2.3 in the cache; a bundle of
# agent@1.3.0 made elsewhere, so that importing it admits something new
H0="$T/home0"
trust_fixture_keys "$H0"
run "$VS" --home "$H0" -q fetch "file://$W/agent-1.2.3.tgz"
check "template home: agent@1.2.3 fetched" test "$RC" -eq 0
trust_fixture_keys "$T/homeb"
run "$VS" --home "$T/homeb" -q fetch "file://$W/agent-1.3.0.tgz"
run "$VS" --home "$T/homeb" -q mirror export agent@1.3.0 --out "$T/bundle.tar"
check "a bundle of agent@1.3.0 exported" test "$RC" -eq 0

H="$T/home"
O="$T/outside"
D="$T/dest"

# (HOME/staged, the layout digests stage records, is opened by stage itself,
# one level below the home with O_NOFOLLOW.)
# plant LEVEL: a fresh copy of the template home whose LEVEL is a symbolic
# link to $O; $O holds what LEVEL held plus a user's notes and folder
plant() {
    rm -rf "$H" "$O" "$D"
    cp -a "$H0" "$H"
    mkdir -p "$O"
    if [ -d "$H/$1" ]; then
        cp -a "$H/$1/." "$O/"
        chmod -R u+w "$H/$1" && rm -rf "${H:?}/$1"
    fi
    echo "my notes" >"$O/notes.txt"
    mkdir -p "$O/userdir" && echo "mine" >"$O/userdir/file"
    mkdir -p "$(dirname "$H/$1")"
    ln -s "$O" "$H/$1"
}

# cmd NAME: run one command on $H (output in $T/out, $T/err, status in $RC)
cmd() {
    case $1 in
    fetch) run "$VS" --home "$H" -q fetch "file://$W/agent-1.3.0.tgz" ;;
    gc) run "$VS" --home "$H" -q cache gc --keep 0 ;;
    fsck) run "$VS" --home "$H" -q cache fsck ;;
    stage) run "$VS" --home "$H" -q stage agent@1.2.3 --dest "$D" ;;
    import) run "$VS" --home "$H" -q mirror import "$T/bundle.tar" ;;
    keys) run "$VS" --home "$H" -q keys import "$FIX/vendor.asc" ;;
    esac
}

# case LEVEL CMD WANT: WANT is 6 (the command reaches LEVEL and refuses),
# 0 (it does not reach it and works) or "0|6" (it may or may not reach it)
case_() {
    _l=$1; _c=$2; _w=$3
    plant "$_l"
    snapshot "$O" >"$T/snap.before"
    cmd "$_c"
    case "|$_w|" in
    *"|$RC|"*) ok "$_c with $_l a link: exit $RC" ;;
    *) not_ok "$_c with $_l a link: expected exit $_w, got $RC"; sed 's/^/    stderr: /' "$T/err" | head -3 ;;
    esac
    if [ "$RC" -eq 6 ]; then
        # the refusal names a path inside the home, with the next step
        if grep -q "inside the home" "$T/err" && grep -q "(hint: the home must not contain symbolic links" "$T/err"; then
            ok "$_c with $_l a link: names the link, hint"
        elif [ "$_c" = import ] && grep -q "$_l: a symbolic link inside the home" "$T/err"; then
            ok "$_c with $_l a link: names the link"
        elif [ "$_l" = staged ] && grep -q "$_l: .*a symbolic link inside the home" "$T/err"; then
            ok "$_c with $_l a link: names the link"
        elif [ "$_c" = fsck ] || [ "$_c" = gc ]; then
            # fsck and gc report a damaged ref for a linked refs/NAME
            if grep -q "refs/" "$T/err"; then ok "$_c with $_l a link: names the ref"; else
                not_ok "$_c with $_l a link: message"; sed 's/^/    stderr: /' "$T/err" | head -3; fi
        else
            not_ok "$_c with $_l a link: message"; sed 's/^/    stderr: /' "$T/err" | head -3
        fi
        check "$_c with $_l a link: nothing staged" test ! -e "$D"
    fi
    same_snapshot "$_c with $_l a link: nothing outside the home changed" "$T/snap.before" "$O"
    check "$_c with $_l a link: the link is still there" test -L "$H/$_l"
}

#            level                       fetch gc  fsck stage import keys
for row in \
    "cache                               6     6   6    6     6      0" \
    "cache/objects                       6     6   6    6     6      0" \
    "cache/objects/sha256                6     6   6    6     6      0" \
    "cache/objects/sha256/$AB            0|6   6   6    6     0|6    0" \
    "cache/refs                          6     6   6    6     6      0" \
    "cache/refs/agent                    6     6   6    6     6      0" \
    "cache/quarantine                    6     6   6    6     6      0" \
    "trust                               6     0   0    6     6      6" \
    "trust/gnupg                         6     0   0    6     6      6" \
    "trust/rsa                           6     0   0    6     6      6" \
    "staged                              0     0   0    6     0      0" \
    "tmp                                 0     0   0    0     6      0"; do
    set -- $row
    l=$1; shift
    for c in fetch gc fsck stage import keys; do
        case_ "$l" "$c" "$1"
        shift
    done
done

# ---- the issue's reproductions, by name -------------------------------------------
plant cache/quarantine
run "$VS" --home "$H" cache gc
check "gc with a linked quarantine: exit 6" test "$RC" -eq 6
check "gc with a linked quarantine: the user's notes survive" test -f "$O/notes.txt"
check "gc with a linked quarantine: the user's folder survives" test -f "$O/userdir/file"
expect_err_has "cache/quarantine: a symbolic link inside the home $H" "gc: names the link inside the home"
expect_err_has "mount it at HOME/cache or point --home there" "gc: says how to put the cache elsewhere"
plant cache/refs/agent
run "$VS" --home "$H" fetch "file://$W/agent-1.3.0.tgz"
check "fetch with a linked refs/NAME: exit 6" test "$RC" -eq 6
check "fetch with a linked refs/NAME: no VERSION.json outside" test ! -e "$O/1.3.0.json"
check "fetch with a linked refs/NAME: refused before downloading" test -z "$(ls -A "$H/cache/quarantine")"
plant cache/refs/agent
rm -f "$O/1.2.3.json"
cp "$H0/cache/refs/agent/1.2.3.json" "$O/1.2.3.json"
run "$VS" --home "$H" --json cache show agent@1.2.3
check "show through a linked refs/NAME: exit 6" test "$RC" -eq 6
expect_json "j['ok'] is False and j['error']['subject'] == 'cache/refs/agent' and 'symbolic links' in j['error']['hint']" "show --json: subject and hint"
# a link as a file is refused as well: the ref itself, an object
rm -rf "$H" && cp -a "$H0" "$H"
mv "$H/cache/refs/agent/1.2.3.json" "$T/ref.json" && ln -s "$T/ref.json" "$H/cache/refs/agent/1.2.3.json"
run "$VS" --home "$H" cache show agent@1.2.3
check "a linked ref file: exit 6" test "$RC" -eq 6
expect_err_has "cache/refs/agent/1.2.3.json: a symbolic link inside the home" "a linked ref file: named"
rm -rf "$H" && cp -a "$H0" "$H"
OBJ="$H/cache/objects/sha256/$AB/$(echo "$SUM" | cut -c3-)"
mv "$OBJ" "$T/obj" && ln -s "$T/obj" "$OBJ"
run "$VS" --home "$H" stage agent@1.2.3 --dest "$D"
check "a linked package object: stage refuses" test "$RC" -ne 0 -a ! -e "$D"
run "$VS" --home "$H" cache fsck
check "a linked package object: fsck exit 6" test "$RC" -eq 6
# a FIFO planted as the lock or as an object does not hang anything
rm -rf "$H" && cp -a "$H0" "$H"
chmod u+w "$H/cache/objects/sha256/$AB"
rm -f "$OBJ" && mkfifo "$OBJ"
run timeout 20 "$VS" --home "$H" cache fsck
check "a FIFO as an object: fsck exit 6, no hang" test "$RC" -eq 6

# ---- the home itself may be reached through a link the user named ----------------
rm -rf "$H" && cp -a "$H0" "$H"
ln -s "$H" "$T/homelink"
expect_rc 0 "--home through a link: fetch" "$VS" --home "$T/homelink" -q fetch "file://$W/agent-1.3.0.tgz"
expect_rc 0 "--home through a link: fsck" "$VS" --home "$T/homelink" -q cache fsck
expect_rc 0 "--home through a link: gc" "$VS" --home "$T/homelink" -q cache gc --keep 1
# a cache on another file system is a mount, not a link: a bind mount when we may
if [ "$(id -u)" -eq 0 ] && mkdir -p "$T/disk" && cp -a "$H/cache/." "$T/disk/" &&
    mount --bind "$T/disk" "$H/cache" 2>/dev/null; then
    expect_rc 0 "a cache mounted at HOME/cache: fsck" "$VS" --home "$H" -q cache fsck
    expect_rc 0 "a cache mounted at HOME/cache: fetch" "$VS" --home "$H" -q fetch "file://$W/agent-1.2.3.tgz"
    umount "$H/cache"
else
    echo "skip - a bind mount needs root"
fi

finish
