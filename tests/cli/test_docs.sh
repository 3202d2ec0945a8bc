#!/bin/sh
# tests/cli/test_docs.sh - keep --help, the man page and the README true to
# each other: every command answers --help, and every option a command's
# --help names is in the man page; every command is in the README.
. "$(dirname "$0")/../lib.sh"

MAN="$ROOT/doc/vetstage.1"
# the man page as plain text, with roff escapes for '-' undone
sed -e 's/\\-/-/g' -e 's/\\(em/-/g' "$MAN" >"$T/man.txt"

expect_rc 0 "vetstage --help" "$VS" --help
for cmd in keys verify fetch cache stage pull layout render mirror; do
    expect_rc 0 "$cmd --help" "$VS" "$cmd" --help
    check "$cmd --help prints a usage line" grep -q "^usage: vetstage $cmd" "$T/out"
    check "vetstage --help lists $cmd" sh -c "'$VS' --help | grep -q '^  $cmd '"
    check "the man page describes $cmd" grep -q "^\.SS $cmd" "$T/man.txt"
    check "the README names $cmd" grep -q "\`$cmd" "$ROOT/README.md"
    for opt in $(grep -oE -- '--[a-z][a-z0-9-]+' "$T/out" | sort -u); do
        case "$opt" in --help | --home | --json | --cli-input-json) continue ;; esac
        check "the man page names $cmd $opt" grep -qF -- "$opt" "$T/man.txt"
    done
done
for code in "0 ok" "1 internal" "2 usage" "3 verify" "4 fetch" "5 unsafe" "6 integrity" "7 policy"; do
    n=${code%% *}; name=${code#* }
    check "README documents exit code $n ($name)" grep -q "^| $n | $name |" "$ROOT/README.md"
    check "the man page documents exit code $n ($name)" grep -A1 "^\.B $n\$" "$T/man.txt" | grep -q "$name"
done
# a bad option: exit 2 and one line of ours naming it (not getopt's own message)
for cmd in "" "keys import" "verify" "fetch" "cache list" "stage" "pull" "layout check" \
    "render sidecar" "mirror sync"; do
    # shellcheck disable=SC2086
    expect_rc 2 "vetstage $cmd --bogus" "$VS" $cmd --bogus
    expect_one_line_err "vetstage $cmd --bogus: one line"
    expect_err_has "'--bogus'" "vetstage $cmd --bogus: names the option"
done
expect_rc 2 "an option without its value" "$VS" stage agent@1 --dest
expect_err_has "'--dest' is unknown or lacks its value" "missing value: names the option"

expect_rc 0 "vetstage --version" "$VS" --version
expect_out_has "libgcrypt" "--version names the linked libraries"
expect_rc 2 "an unknown command is a usage error" "$VS" frobnicate
expect_one_line_err "unknown command: one line"
# ---- the session README and the man page show is what the program prints now ----
# (mk/session.sh runs it again; fingerprints, hashes and times normalised)
if sh "$ROOT/mk/session.sh" "$BUILD" >"$T/session.now" 2>"$T/session.err"; then
    sh "$ROOT/mk/session.sh" --normalise "$T/session.now" | grep . >"$T/session.want"
    sed -n '/^<!-- session:begin -->$/,/^<!-- session:end -->$/p' "$ROOT/README.md" |
        sed -e '1d' -e '$d' -e 's/^    //' >"$T/session.readme"
    sed -n '/^\.\\" session:begin$/,/^\.\\" session:end$/p' "$MAN" |
        sed -n '/^\.nf$/,/^\.fi$/p' | sed -e '1d' -e '$d' >"$T/session.man"
    for doc in readme man; do
        sh "$ROOT/mk/session.sh" --normalise "$T/session.$doc" | grep . >"$T/session.$doc.n"
        check "the $doc shows a session (a success and a refusal)" \
            sh -c "grep -q '^\\\$ vetstage verify' '$T/session.$doc.n' && grep -q '^trusted ' '$T/session.$doc.n' && grep -q '^\\[exit 3\\]' '$T/session.$doc.n'"
        if cmp -s "$T/session.want" "$T/session.$doc.n"; then
            ok "the $doc's session is what vetstage prints now"
        else
            not_ok "the $doc's session is not what vetstage prints now (run sh mk/session.sh --update)"
            diff "$T/session.$doc.n" "$T/session.want" | head -10 | sed 's/^/    /'
        fi
    done
else
    not_ok "mk/session.sh runs: $(head -2 "$T/session.err")"
fi

finish
