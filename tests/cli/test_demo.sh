#!/bin/sh
# tests/cli/test_demo.sh - `make demo` keeps working: the demo script runs end
# to end (a release in the vendor's format behind a redirect, a source for it,
# `pull lacework@6.2.0.1234`, layout check, render), echoes each vetstage
# command with its --home, and leaves a checked layout with stable paths, a
# sidecar build context and a task definition.
. "$(dirname "$0")/../lib.sh"

expect_rc 0 "the demo runs end to end" env BUILD="$BUILD" sh "$ROOT/tests/demo/demo.sh"
DEMO="$BUILD/demo"
cp "$T/err" "$T/demo.err"
check "demo layout: current -> versions/6.2.0.1234" test "$(readlink "$DEMO/volume/current")" = versions/6.2.0.1234
check "demo layout: the start script at the top (strip-components = 1)" test -f "$DEMO/volume/current/lacework-sidecar.sh"
check "demo layout: VERSION/datacollector" test -x "$DEMO/volume/current/6.2.0.1234/datacollector"
check "demo: the release was fetched through a redirect" grep -q "^GET /redirect/releases/download/v6.2.0/6.2.0.1234.tgz 302" "$DEMO/run/nginx/access.log"
check "demo: the source was written" grep -q '^\[source lacework\]' "$DEMO/home/vetstage.conf"
check "demo: the pull command is echoed with its --home" grep -qF "\$ vetstage --home $DEMO/home pull lacework@6.2.0.1234 --dest $DEMO/volume" "$T/demo.err"
check "demo: every vetstage command it ran is echoed (5)" test "$(grep -c '^\$ vetstage --home ' "$T/demo.err")" -ge 5
check "demo: ends with try-next lines" sh -c "sed -n '/^== try next/,\$p' '$T/demo.err' | grep -q 'vetstage --home $DEMO/home cache list'"
check "demo: build output stays out of the way (setup tools in run/build.log)" test -s "$DEMO/run/build.log"
expect_rc 0 "demo layout passes layout check" "$VS" layout check "$DEMO/volume"
expect_rc 0 "demo layout passes the static checker" "$BUILD/vetstage-check" "$DEMO/volume"
check "demo: sidecar context has a Dockerfile" grep -q '^FROM scratch' "$DEMO/sidecar-context/Dockerfile"
check "demo: sidecar context has the checker" test -x "$DEMO/sidecar-context/vetstage-check"
check "demo: task definition adds the sidecar" python3 -c "import json,sys; t=json.load(open(sys.argv[1])); \
c={x['name']: x for x in t['containerDefinitions']}; \
sys.exit(0 if c['datacollector-sidecar']['essential'] is False and \
{'containerName': 'datacollector-sidecar', 'condition': 'SUCCESS'} in c['web']['dependsOn'] else 1)" "$DEMO/task-definition.json"
check "demo state stays under the build folder (no ~/.gnupg use)" test -d "$DEMO/home/trust/gnupg"
check "the demo stopped its nginx" test ! -e "$DEMO/run/nginx/nginx.pid"
finish
