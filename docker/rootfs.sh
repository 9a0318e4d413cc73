# Sourced by the image builds (build-image.sh, build-postgres-image.sh), not
# run: a work folder removed at exit, and a Debian rootfs debootstrapped
# once and cached as a tar. The callers define `say` and `die`.

# build_tools_at_hand ARGS...: root, debootstrap, the docker CLI and an
# engine that answers, or a message saying which is missing.
build_tools_at_hand() {
    [[ $(id -u) == 0 ]] || die "must run as root (debootstrap and chroot need it): sudo $0 $*"
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    command -v docker >/dev/null || die "the docker CLI is not installed"
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
        || die "Docker engine not reachable: $(docker version 2>&1 | tail -n 1)"
}

# exit_if_built TAG: an image that is already there is kept (REBUILD=1
# builds it again).
exit_if_built() {
    if [[ ${REBUILD:-0} != 1 ]] && docker image inspect "$1" >/dev/null 2>&1; then
        say "image $1 already exists (REBUILD=1 to rebuild)"
        exit 0
    fi
}

# work_folder PREFIX: makes WORK (and names ROOTFS=$WORK/rootfs), removed at
# exit. debootstrap mounts /proc (and sometimes /sys, /dev/pts) in the target
# while it installs and may leave them mounted if it fails: whatever is
# mounted under $WORK is unmounted, deepest first, before removing it;
# --one-file-system is a second guard so a mount that could not be undone is
# never recursed into.
work_folder() {
    WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/$1.XXXXXX")
    ROOTFS=$WORK/rootfs
    trap remove_work_folder EXIT
}

remove_work_folder() {
    local m
    awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$WORK"
}

# cached_rootfs TAR SUITE MIRROR [DEBOOTSTRAP OPTIONS...]: unpacks TAR into
# $ROOTFS, debootstrapping it first if it is not there. A lock keeps two
# concurrent builds from debootstrapping it twice; the tar is written aside
# and renamed, so a reader never sees half of it.
cached_rootfs() {
    local tar=$1 suite=$2 mirror=$3
    shift 3
    mkdir -p "$(dirname "$tar")"
    exec 9>"$tar.lock"
    flock 9
    if [[ ! -s $tar ]]; then
        say "debootstrapping Debian $suite into $tar (once, about a minute)"
        debootstrap --variant=minbase "$@" "$suite" "$ROOTFS" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
            || { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap $suite failed (log above)"; }
        rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
        tar --numeric-owner -C "$ROOTFS" -cf "$tar.tmp" .
        mv "$tar.tmp" "$tar"
    else
        say "using the cached $suite rootfs $tar"
        mkdir -p "$ROOTFS"
        tar --numeric-owner -C "$ROOTFS" -xf "$tar"
    fi
    flock -u 9
}
