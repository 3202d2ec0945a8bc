#!/bin/sh
# mk/deps.sh GROUP... - make sure the Debian packages a make target needs are
# installed. As root, installs the missing ones with apt-get; otherwise prints
# the exact apt-get line and fails.
set -eu

build="make gcc pkg-config libgcrypt20-dev libgpg-error-dev libgpgme-dev gnupg libarchive-dev
libcurl4-openssl-dev libjansson-dev libtasn1-6-dev libc6-dev"
test="check libsubunit-dev gpg gpgv openssl nginx tar gzip xz-utils zstd python3 curl tmux
ca-certificates coreutils procps time faketime"
render="buildah podman runc busybox-static python3-botocore"
bench="libarchive-tools gnuplot-nox time curl gpgv openssl nginx"

want=""
for group in "$@"; do
    case "$group" in
    build) want="$want $build" ;;
    test) want="$want $test" ;;
    render) want="$want $render" ;;
    bench) want="$want $bench" ;;
    *) echo "deps.sh: unknown group $group" >&2; exit 2 ;;
    esac
done

missing=""
for p in $want; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *" installed") ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "vetstage needs these Debian packages:$missing" >&2
    echo "run: sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || apt-get update
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null || \
    apt-get install -y --no-install-recommends $missing
