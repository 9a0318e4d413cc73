#!/usr/bin/env bash
# Builds an Indy ledger image without any registry, for scenarios that write
# AnonCreds objects (schemas, credential definitions, revocation registries)
# to a real ledger: four indy-node 1.13.2 validators (indy-plenum 1.13.1) in
# one container, with a small HTTP server beside them (docker/indy-pool/).
#   debootstrap a minimal Debian bullseye → venv at /opt/indy → pip install
#   the pinned packages of docker/indy-pool/requirements.txt → drop the
#   compilers → `docker import`.
#
# Usage: docker/build-indy-pool-image.sh [TAG]
#   TAG  image name (default acapy-harness/indy-pool:1.13.2)
#
# Why bullseye (Python 3.9): indy-node 1.13 was made for Python 3.8. Debian
# ships no 3.8, and its 3.11 (bookworm) cannot build several of plenum's C
# extensions as pinned (orderedset, sha3, and pyzmq 22.3.0, which cannot be
# newer: later ones break the zmq.auth.thread that plenum uses). Bullseye's
# own python3 (3.9) builds
# every one of them from PyPI, and its librocksdb 6.11 still has the headers
# that plenum's python-rocksdb 0.7.0 needs (RocksDB 7 dropped
# backupable_db.h; on bookworm, faust-streaming-rocksdb would have to stand
# in). So the image needs no interpreter from the host (pyenv) or from
# outside the Debian and PyPI mirrors. Bullseye is Debian's old-old release:
# when it leaves the main mirror, point DEBIAN_MIRROR at Debian's archive.
#
# python-ursa, which plenum requires for BLS signatures, wraps a native
# libursa that no registry ships: it is left out, and docker/indy-pool/ursa/
# (three small modules) hands plenum the same classes from the indy-bls
# wheel, which carries its own native library.
#
# The container (see docker/indy-pool/pool.py):
#   - at each start writes the genesis for its own address (INDY_POOL_IP, else
#     the address its hostname resolves to: on a Docker network, the
#     container's IP, which the host and the network's other containers both
#     reach without publishing ports); a ledger made for the same address is
#     kept across `docker restart`, one made for another address replaced.
#   - nodes Node1..Node4 on ports 9701..9708 (node and client stack each).
#   - HTTP on 8000 (INDY_POOL_HTTP_PORT): GET /genesis, GET /ready (200 once
#     all four nodes answer a GET_NYM of the trustee, 503 before), GET
#     /status, POST /register {"did","verkey","alias","role"} or
#     {"seed","alias","role"} (the trustee writes the NYM, role ENDORSER if
#     not given, and answers once every node has it), as von-network's.
#   - logs `indy-pool: ready after N s: ...` once, when reads are answered
#     (7 to 18 s after start on 2 cores, most of it the four nodes'
#     Python start-up; longer when the cores are busy).
#   - writes are batched after 0.1 s (INDY_POOL_BATCH_WAIT; plenum's default
#     of 3 s made each of a scenario's successive writes take 3 s).
#   - the trustee is V4SGRU86Z58d6TV7PBUe6f, seed
#     000000000000000000000000Trustee1 (von-network's).
#   - runs as user indy; `docker stop` (SIGTERM) stops the nodes within a
#     second and the container exits 0.
#
# Environment:
#   ACAPY_HARNESS_CACHE  cache folder (default ~/.cache/acapy-harness); the
#                        debootstrapped bullseye is kept there
#                        (rootfs/bullseye.tar, the same kind of rootfs as
#                        build-image.sh's, with Python in it)
#   DEBIAN_MIRROR        default http://deb.debian.org/debian
#   HOST_CA_BUNDLE       CA bundle used by pip inside the chroot (default
#                        /etc/ssl/certs/ca-certificates.crt; needed where
#                        outbound HTTPS is intercepted); not kept in the image
#   PIP_INDEX_URL        passed through to pip if set
#   REBUILD=1            rebuild even if the image exists
#
# Needs: root (debootstrap and chroot), debootstrap, a reachable Docker engine.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/rootfs.sh"

die() { echo "build-indy-pool-image: $*" >&2; exit 1; }
say() { echo "build-indy-pool-image: $*" >&2; }

SUITE=bullseye
NODE_VERSION=1.13.2
# Needed at run time (installed by name, so they are kept when the build
# packages below are purged).
RUNTIME_PACKAGES="librocksdb6.11 libsnappy1v5 liblz4-1 libzstd1 libbz2-1.0 zlib1g libsodium23 procps"
# Needed only to compile plenum's C extensions.
BUILD_PACKAGES="build-essential python3-dev librocksdb-dev libsnappy-dev zlib1g-dev libbz2-dev liblz4-dev libzstd-dev"

# The work is in main, which bash parses whole before running it: editing or
# checking out this file during a build cannot change what the build runs.
main() {
    [[ $# -le 1 ]] || die "usage: $0 [TAG]"
    TAG=${1:-acapy-harness/indy-pool:$NODE_VERSION}
    for f in pool.py indy_config.py requirements.txt ursa/__init__.py ursa/bls.py ursa/indy_error.py; do
        [[ -r $HERE/indy-pool/$f ]] || die "missing $HERE/indy-pool/$f"
    done

    build_tools_at_hand "$@"
    exit_if_built "$TAG"

    OLD_ID=$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true) # removed once replaced
    MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    CA_BUNDLE=${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
    [[ -r $CA_BUNDLE ]] || die "no CA bundle at $CA_BUNDLE (set HOST_CA_BUNDLE)"
    CACHE=${ACAPY_HARNESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/acapy-harness}
    ROOTFS_TAR=$CACHE/rootfs/$SUITE.tar

    STARTED=$(date +%s)
    work_folder acapy-indy-pool-image

    # 1. The base rootfs, debootstrapped once (docker/rootfs.sh).
    cached_rootfs "$ROOTFS_TAR" "$SUITE" "$MIRROR" --include=python3,python3-venv,ca-certificates

    # 2. Debian packages: the libraries the nodes load, and (for now) the
    #    compilers and headers. Nothing is started in the chroot.
    cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/acapy-harness-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
EOF
    printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
    chmod +x "$ROOTFS/usr/sbin/policy-rc.d"
    say "installing Debian packages"
    apt_env=(PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive HOME=/root LANG=C.UTF-8)
    chroot "$ROOTFS" /usr/bin/env -i "${apt_env[@]}" sh -c "
        apt-get -q update &&
        apt-get -q install -y --no-install-recommends $RUNTIME_PACKAGES $BUILD_PACKAGES" >"$WORK/apt.log" 2>&1 \
        || { tail -n 20 "$WORK/apt.log" >&2; die "apt-get install failed (log above)"; }

    # 3. The venv. pip needs DNS and, behind an intercepting proxy, the host's
    #    CA bundle: both are put in for the install and taken out after.
    #    Cython < 3 compiles the old extensions; --no-build-isolation makes
    #    them use it, --no-deps keeps pip to the pinned list.
    cp "$CA_BUNDLE" "$ROOTFS/tmp/host-ca.crt"
    cp "$HERE/indy-pool/requirements.txt" "$ROOTFS/tmp/requirements.txt"
    say "installing indy-node $NODE_VERSION into /opt/indy ($SUITE: $(chroot "$ROOTFS" python3 --version))"
    pip_env=(PATH=/usr/sbin:/usr/bin:/sbin:/bin PIP_CERT=/tmp/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 HOME=/root)
    [[ -n ${PIP_INDEX_URL:-} ]] && pip_env+=("PIP_INDEX_URL=$PIP_INDEX_URL")
    chroot "$ROOTFS" /usr/bin/env -i "${pip_env[@]}" sh -c "
        set -e
        python3 -m venv /opt/indy
        /opt/indy/bin/pip install pip==24.3.1 setuptools==75.3.0 wheel==0.45.1 'Cython==0.29.37'
        /opt/indy/bin/pip install --no-deps --no-build-isolation -r /tmp/requirements.txt
        /opt/indy/bin/pip uninstall -y Cython" >"$WORK/pip.log" 2>&1 \
        || { grep -iE 'error|failed' "$WORK/pip.log" | tail -n 20 >&2; die "pip install failed (lines above; the whole log is lost with the work folder)"; }
    SITE=$(chroot "$ROOTFS" /opt/indy/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    install -d "$ROOTFS$SITE/ursa"
    install -m 0644 "$HERE"/indy-pool/ursa/*.py "$ROOTFS$SITE/ursa/"
    install -d "$ROOTFS/opt/indy-pool" "$ROOTFS/etc/indy"
    install -m 0644 "$HERE/indy-pool/pool.py" "$ROOTFS/opt/indy-pool/pool.py"
    install -m 0644 "$HERE/indy-pool/indy_config.py" "$ROOTFS/etc/indy/indy_config.py"
    chroot "$ROOTFS" /opt/indy/bin/python -m compileall -q "$SITE/ursa" /opt/indy-pool >/dev/null

    # 4. The compilers and headers go, with everything they brought in; the
    #    libraries named in step 2 stay. By default apt's autoremove keeps
    #    what some installed package suggests or recommends, which here kept
    #    gcc, make, binutils and perl (over 200 MB). Documentation that came with debootstrap goes too.
    chroot "$ROOTFS" /usr/bin/env -i "${apt_env[@]}" sh -c "
        apt-get -q purge -y --auto-remove \
            -o APT::AutoRemove::SuggestsImportant=false -o APT::AutoRemove::RecommendsImportant=false \
            $BUILD_PACKAGES &&
        apt-get clean" >"$WORK/purge.log" 2>&1 \
        || { tail -n 20 "$WORK/purge.log" >&2; die "removing the build packages failed (log above)"; }
    find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    rm -rf "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/*
    REPORTED=$(chroot "$ROOTFS" /opt/indy/bin/python -c '
import indy_node.__metadata__ as n, plenum.__metadata__ as p
import rocksdb, zmq, ursa.bls, ursa.indy_error, indy_vdr, libnacl, sha3, orderedset, ujson, leveldb
print(f"indy-node {n.__version__}, indy-plenum {p.__version__}, pyzmq {zmq.__version__}, indy-vdr {indy_vdr.version()}")') \
        || die "the installed packages do not import"
    say "installed: $REPORTED"

    # 5. A user for the nodes, owning their folders and the config file
    #    (generate_indy_pool_transactions rewrites its NETWORK_NAME line).
    chroot "$ROOTFS" useradd --create-home --uid 1001 --user-group --shell /bin/sh indy
    chroot "$ROOTFS" install -d -o indy -g indy /var/lib/indy /var/log/indy
    chroot "$ROOTFS" chown -R indy:indy /etc/indy

    rm -f "$ROOTFS/usr/sbin/policy-rc.d" "$ROOTFS/tmp/host-ca.crt" "$ROOTFS/tmp/requirements.txt"
    : >"$ROOTFS/etc/resolv.conf" # Docker provides its own at run time
    rm -rf "$ROOTFS"/root/.cache "$ROOTFS"/var/log/*.log "$ROOTFS"/var/log/apt/* \
        "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/debconf/*-old

    # 6. The image. /dev, /proc and /sys are supplied by the runtime.
    say "importing as $TAG"
    tar --numeric-owner -C "$ROOTFS" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
        docker import \
            --change 'ENTRYPOINT ["/opt/indy/bin/python", "/opt/indy-pool/pool.py"]' \
            --change 'ENV PATH=/opt/indy/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV HOME=/home/indy' \
            --change 'ENV PYTHONUNBUFFERED=1' \
            --change 'ENV LANG=C.UTF-8' \
            --change 'USER indy' \
            --change 'WORKDIR /home/indy' \
            --change 'EXPOSE 8000 9701 9702 9703 9704 9705 9706 9707 9708' \
            --change "LABEL org.opencontainers.image.version=$NODE_VERSION acapy-harness.indy-node-version=$NODE_VERSION acapy-harness.debian-suite=$SUITE" \
            --message "acapy-harness: indy-node $NODE_VERSION pool of 4 on Debian $SUITE" \
            - "$TAG" >/dev/null || die "docker import failed"

    # 7. Check that a pool starts and answers a read (on the loopback
    #    address: no network is needed). A broken image is untagged so the
    #    harness never picks it up.
    say "checking that the pool starts"
    CHECK=acapy-indy-pool-check-$$
    docker run -d --name "$CHECK" --network none "$TAG" >/dev/null \
        || { docker rmi "$TAG" >/dev/null; die "the image does not start"; }
    local ready=""
    for _ in $(seq 1 120); do
        if docker exec "$CHECK" python -c '
import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen("http://127.0.0.1:8000/ready", timeout=2).status == 200 else 1)
except Exception:
    sys.exit(1)' 2>/dev/null; then
            ready=yes
            break
        fi
        [[ $(docker inspect --format '{{.State.Running}}' "$CHECK") == true ]] || break
        sleep 1
    done
    LOG=$(docker logs "$CHECK" 2>&1 | tail -n 30)
    docker rm -f "$CHECK" >/dev/null
    if [[ -z $ready ]]; then
        echo "$LOG" >&2
        docker rmi "$TAG" >/dev/null
        die "the pool did not answer a read within 120 s (its log above)"
    fi
    say "$(grep -m1 'ready after' <<<"$LOG" || echo 'the pool is ready')"
    if [[ -n $OLD_ID && $OLD_ID != $(docker image inspect --format '{{.Id}}' "$TAG") ]]; then
        docker rmi "$OLD_ID" >/dev/null 2>&1 || say "the replaced image $OLD_ID is still in use, not removed"
    fi
    say "built $TAG ($REPORTED, $(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')) in $(( $(date +%s) - STARTED ))s"
}

main "$@"
