#!/bin/sh
# tests/cli/test_demo.sh - `make demo` keeps working: the demo script runs end
# to end (demo vendor, loopback nginx over HTTPS, pull, layout check, render)
# and leaves a checked layout, a sidecar build context and a task definition.
. "$(dirname "$0")/../lib.sh"

expect_rc 0 "the demo runs end to end" env BUILD="$BUILD" sh "$ROOT/tests/demo/demo.sh"
DEMO="$BUILD/demo"
check "demo layout: current -> versions/1.2.3" test "$(readlink "$DEMO/volume/current")" = versions/1.2.3
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
