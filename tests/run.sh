#!/bin/sh
# tests/run.sh [unit] [cli] [fuzz] - what `make check` runs: the Check unit
# runner, the black-box CLI scripts (in parallel, VS_JOBS at a time, default
# the number of cores; each has its own temporary folder and random ports),
# and the fuzz corpora replayed without libFuzzer. With no argument, all
# three. VS_ONLY=PATTERN keeps the CLI scripts whose path matches.
# Ends with one summary line "check: N passed, M failed, K skipped".
# Skips are counted; in CI (VS_MUST_RUN lists the skip tags that must not
# happen there) a required suite that skipped counts as a failure.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export BUILD
passed=0
failed=0
skipped=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
parts=${*:-unit cli fuzz}
want() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }
started=$(date +%s)

if want unit; then
    echo "== unit tests (Check)"
    # Check's per-test timeout (4 s) is too short for sanitized builds on a busy machine
    if CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60} VS_UNIT_COUNTS="$tmp/unit" "$BUILD/tests/unit-runner" ${VS_SUITE:+"$VS_SUITE"}; then :; fi
    if [ -s "$tmp/unit" ]; then
        read -r p f <"$tmp/unit"
        passed=$((passed + p)); failed=$((failed + f))
    else
        echo "unit runner did not report"; failed=$((failed + 1))
    fi
fi

if want cli; then
    jobs=${VS_JOBS:-$(nproc 2>/dev/null || echo 2)}
    echo "== command-line tests ($jobs at a time)"
    : >"$tmp/list"
    for t in tests/cli/test_*.sh; do
        [ -f "$t" ] || continue
        if [ -n "${VS_ONLY:-}" ] && ! echo "$t" | grep -q "$VS_ONLY"; then continue; fi
        echo "$t" >>"$tmp/list"
    done
    mkdir -p "$tmp/cli"
    # one log and one exit status per script; printed in order afterwards
    xargs -P "$jobs" -I{} sh -c 'n=$(basename "$1" .sh); s=$(date +%s); sh "$1" >"$2/$n.log" 2>&1; echo "$? $(( $(date +%s) - s ))" >"$2/$n.rc"' sh {} "$tmp/cli" <"$tmp/list"
    while read -r t; do
        n=$(basename "$t" .sh)
        read -r rc secs <"$tmp/cli/$n.rc" || { rc=1; secs=0; }
        echo "-- $t (${secs}s)"
        grep -v '^ok - ' "$tmp/cli/$n.log"
        line=$(grep -E '^[a-z_0-9-]+: [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$tmp/cli/$n.log" | tail -n 1)
        if [ -n "$line" ]; then
            p=$(echo "$line" | sed -E 's/^[^:]*: ([0-9]+) passed.*/\1/')
            f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
            s=0
            case "$line" in *skipped) s=$(echo "$line" | sed -E 's/.* ([0-9]+) skipped$/\1/') ;; esac
            passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
            if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); echo "$t exited $rc"; fi
        else
            echo "$t ended without a summary (exit $rc)"; tail -5 "$tmp/cli/$n.log"; failed=$((failed + 1))
        fi
    done <"$tmp/list"
fi

if want fuzz; then
    echo "== fuzz corpora replay"
    for r in "$BUILD"/fuzz/replay_*; do
        [ -x "$r" ] || continue
        name=${r##*/replay_}
        if [ -d "fuzz/corpus/$name" ] && "$r" "fuzz/corpus/$name" >"$tmp/log" 2>&1; then
            passed=$((passed + 1)); echo "ok - fuzz $name: $(tail -1 "$tmp/log")"
        else
            failed=$((failed + 1)); echo "not ok - fuzz $name"; tail -5 "$tmp/log"
        fi
    done
fi

echo "(wall time $(( $(date +%s) - started ))s)"
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
