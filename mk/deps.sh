#!/bin/sh
# mk/deps.sh GROUP... - make sure the Debian packages a make target needs are
# installed. As root, installs the missing ones with apt-get; otherwise prints
# the exact apt-get line and fails.
set -eu

build="make gcc pkg-config libgcrypt20-dev libgpg-error-dev libgpgme-dev gnupg libarchive-dev
libcurl4-openssl-dev libjansson-dev libtasn1-6-dev libisal-dev libc6-dev"
test="check libsubunit-dev gpg gpgv openssl nginx tar gzip xz-utils zstd python3 curl tmux
ca-certificates coreutils procps time faketime libcap2-bin gdb strace"
render="buildah podman runc busybox-static python3-botocore"
bench="libarchive-tools gnuplot-nox time curl gpgv openssl nginx"
# The arm64 checker (build/arm64/vetstage-check): Debian's cross compiler, and
# the arm64 libgcrypt/libgpg-error development packages through multiarch
# (dpkg --add-architecture arm64). Those two cannot be installed next to the
# amd64 ones (bookworm: not co-installable, apt would remove libgpgme-dev), so
# they are downloaded with apt-get and unpacked into CROSS_ROOT instead.
cross="gcc-aarch64-linux-gnu libc6-dev-arm64-cross file"
cross_debs="libgcrypt20-dev:arm64 libgpg-error-dev:arm64"
CROSS_ROOT=${CROSS_ROOT:-/opt/vetstage-cross/arm64}

want=""
with_cross=0
for group in "$@"; do
    case "$group" in
    build) want="$want $build" ;;
    test) want="$want $test" ;;
    render) want="$want $render" ;;
    bench) want="$want $bench" ;;
    cross) want="$want $cross"; with_cross=1 ;;
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

# cross_libs: unpack the arm64 libgcrypt/libgpg-error development packages
# into CROSS_ROOT (the headers and static libraries mk/cross.mk links).
cross_libs() {
    [ -f "$CROSS_ROOT/usr/lib/aarch64-linux-gnu/libgcrypt.a" ] &&
        [ -f "$CROSS_ROOT/usr/lib/aarch64-linux-gnu/libgpg-error.a" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "vetstage needs the arm64 libgcrypt in $CROSS_ROOT" >&2
        echo "run: sudo sh mk/deps.sh cross" >&2
        exit 1
    fi
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        dpkg --add-architecture arm64
        apt-get update -q >/dev/null || apt-get update
    fi
    dl=$(mktemp -d)
    # shellcheck disable=SC2086
    if ! (cd "$dl" && apt-get download -q $cross_debs >/dev/null 2>&1); then
        apt-get update -q >/dev/null || apt-get update
        # shellcheck disable=SC2086
        (cd "$dl" && apt-get download $cross_debs)
    fi
    mkdir -p "$CROSS_ROOT"
    for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$CROSS_ROOT"; done
    rm -rf "$dl"
    echo "arm64 libgcrypt unpacked in $CROSS_ROOT" >&2
}

if [ -z "$missing" ]; then
    [ "$with_cross" -eq 1 ] && cross_libs
    exit 0
fi

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
[ "$with_cross" -eq 1 ] && cross_libs
exit 0
