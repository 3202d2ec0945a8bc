#!/bin/sh
# tests/run.sh - everything `make check` runs: the Check unit runner, the
# black-box CLI scripts, and the fuzz corpora replayed without libFuzzer.
# Ends with one summary line "check: N passed, M failed".
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export BUILD
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== unit tests (Check)"
if VS_UNIT_COUNTS="$tmp/unit" "$BUILD/tests/unit-runner"; then :; fi
if [ -s "$tmp/unit" ]; then
    read -r p f <"$tmp/unit"
    passed=$((passed + p)); failed=$((failed + f))
else
    echo "unit runner did not report"; failed=$((failed + 1))
fi

echo "== command-line tests"
for t in tests/cli/test_*.sh; do
    [ -f "$t" ] || continue
    if [ -n "${VS_ONLY:-}" ] && ! echo "$t" | grep -q "$VS_ONLY"; then continue; fi
    echo "-- $t"
    sh "$t" >"$tmp/log" 2>&1
    rc=$?
    grep -v '^ok - ' "$tmp/log"
    line=$(grep -E '^[a-z_0-9-]+: [0-9]+ passed, [0-9]+ failed$' "$tmp/log" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
        passed=$((passed + p)); failed=$((failed + f))
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); echo "$t exited $rc"; fi
    else
        echo "$t ended without a summary (exit $rc)"; tail -5 "$tmp/log"; failed=$((failed + 1))
    fi
done

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

echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
