#!/bin/sh
# tests/render/mklayout.sh DIR [--flat] - a staged layout made by hand (the
# demo agent: lacework-sidecar.sh, bin/datacollector, etc/config.json) with
# .vetstage/MANIFEST.sha256 from sha256sum, MODES and a provenance.json
# (in the stage component's formats), for render
# tests that must not depend on fetch/stage. Versioned by default
# (DIR/versions/1.2.3 + DIR/current); --flat writes the tree to DIR.
set -eu
dir=$1
flat=${2:-}
if [ "$flat" = "--flat" ]; then tree=$dir; else tree=$dir/versions/1.2.3; fi
mkdir -p "$tree/bin" "$tree/etc" "$tree/.vetstage"
cat >"$tree/lacework-sidecar.sh" <<'SH'
#!/bin/sh
# demo agent start script: starts the agent in the background, then returns
here=$(dirname "$0")
"$here/bin/datacollector" &
echo "lacework-sidecar: agent started from $here"
SH
cat >"$tree/bin/datacollector" <<'SH'
#!/bin/sh
echo "datacollector: demo agent running (pid $$)"
SH
echo '{"tokens": {"AccessToken": "set-at-runtime"}}' >"$tree/etc/config.json"
chmod 0755 "$tree/lacework-sidecar.sh" "$tree/bin/datacollector" "$tree/bin" "$tree/etc"
chmod 0644 "$tree/etc/config.json"
(cd "$tree" && find . -path ./.vetstage -prune -o -type f -print | LC_ALL=C sort |
    sed 's|^\./||' | xargs sha256sum >.vetstage/MANIFEST.sha256)
{
    echo '# vetstage MODES v1: TYPE MODE PATH[<TAB>SYMLINK-TARGET]'
    echo 'd 0755 bin'
    echo 'f 0755 bin/datacollector'
    echo 'd 0755 etc'
    echo 'f 0644 etc/config.json'
    echo 'f 0755 lacework-sidecar.sh'
} >"$tree/.vetstage/MODES"
cat >"$tree/.vetstage/provenance.json" <<'JS'
{"name": "agent", "version": "1.2.3",
 "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
 "signers": ["AAAABBBBCCCCDDDDEEEEFFFF0000111122223333", "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"]}
JS
if [ "$flat" != "--flat" ]; then ln -sfn versions/1.2.3 "$dir/current"; fi
