#!/bin/sh
# mk/session.sh - the session shown in README.md and doc/vetstage.1: real
# commands run by the real program on the test fixtures (a success and a
# refusal), printed as "$ COMMAND" followed by what it wrote (stderr and
# stdout, in order) and, when not 0, "[exit N]".
#
#   sh mk/session.sh [BUILD]             print the session (BUILD: default build)
#   sh mk/session.sh --update [BUILD]    put it into README.md and doc/vetstage.1
#                                        (between their "session:begin/end" markers)
#   sh mk/session.sh --normalise FILE    FILE with what changes from run to run
#                                        replaced (fingerprints, hashes, times)
# tests/cli/test_docs.sh regenerates it and compares, normalised, with both.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)

normalise() {
    sed -E -e 's/^\\&//' -e 's/\\-/-/g' -e 's/\\e/\\/g' \
        -e 's/[0-9A-F]{40}/<FINGERPRINT>/g' \
        -e 's/sha256:[0-9a-f]{64}/sha256:<HEX>/g' -e 's/[0-9a-f]{64}/<HEX>/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<TIME>/g' \
        -e 's/[[:space:]]+$//' "$1"
}

if [ "${1:-}" = --normalise ]; then
    normalise "$2"
    exit 0
fi
update=false
if [ "${1:-}" = --update ]; then
    update=true
    shift
fi
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
VS="$BUILD/vetstage"
FIX="$BUILD/fixtures"
[ -x "$VS" ] && [ -f "$FIX/pkg/agent-1.2.3.tgz" ] || {
    echo "mk/session.sh: build vetstage and the fixtures first (make all fixtures)" >&2
    exit 2
}

W=$(mktemp -d "${TMPDIR:-/tmp}/vs-session-XXXXXX")
trap 'rm -rf "$W"' EXIT
cp "$FIX/vendor.asc" "$FIX/org.pub.pem" "$W/"
cp "$FIX/pkg/agent-1.2.3.tgz" "$FIX/pkg/agent-1.2.3.tgz.asc" "$FIX/pkg/agent-1.2.3.tgz.sig" "$W/"
mkdir "$W/incoming"
cp "$FIX/pkg/agent-1.2.3.tgz" "$FIX/pkg/agent-1.2.3.tgz.asc" "$W/incoming/"

# show ARGS...: "$ vetstage ARGS" and what it prints (run in $W, relative paths)
show() {
    echo "\$ vetstage $*"
    set +e
    (cd "$W" && VETSTAGE_HOME="$W/home" "$VS" "$@" 2>&1)
    rc=$?
    set -e
    [ "$rc" -eq 0 ] || echo "[exit $rc]"
}

session() {
    show keys import vendor.asc org.pub.pem
    show verify agent-1.2.3.tgz
    show verify incoming/agent-1.2.3.tgz
}

session >"$W/session.txt"
if ! $update; then
    cat "$W/session.txt"
    exit 0
fi

# README: an indented block between the markers
python3 - "$ROOT/README.md" "$ROOT/doc/vetstage.1" "$W/session.txt" <<'EOF'
import sys
readme, man, sess = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().splitlines()

def put(path, begin, end, lines):
    text = open(path).read()
    a = text.index(begin)
    b = text.index(end, a)
    text = text[:a + len(begin)] + "\n" + "\n".join(lines) + "\n" + text[b:]
    open(path, "w").write(text)

put(readme, "<!-- session:begin -->", "<!-- session:end -->",
    [""] + ["    " + l if l else "" for l in sess] + [""])

def roff(l):
    l = l.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + l if l.startswith((".", "'")) else l

put(man, '.\\" session:begin', '.\\" session:end',
    [".PP", ".RS", ".nf"] + [roff(l) for l in sess] + [".fi", ".RE"])
EOF
echo "mk/session.sh: README.md and doc/vetstage.1 updated"
