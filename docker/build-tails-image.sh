#!/usr/bin/env bash
# Builds a tails-file server image without any registry, for scenarios with
# revocable credentials: ACA-Py uploads each revocation registry's tails
# file to it and holders download the file from it (indy-tails-server, the
# usual one, is not on PyPI).
#   the cached Debian trixie rootfs of build-image.sh (Python 3.13) →
#   docker/tails-server/tails_server.py, standard library only → `docker import`.
#
# Usage: docker/build-tails-image.sh [TAG]
#   TAG  image name (default acapy-harness/tails-server:1)
#
# It is an image of its own rather than a second command of the Indy pool
# image: it does not depend on the ledger (AnonCreds methods without Indy use
# it too), it starts in well under a second, and a scenario that revokes
# nothing does not run it. tails_server.py also runs as it is on any
# Python 3.9+ (no packages), e.g. as a host process.
#
# The container:
#   - listens on 6543 (TAILS_SERVER_PORT), keeps files in /var/lib/tails
#     (TAILS_SERVER_DIR), refuses bodies over 256 MiB (TAILS_SERVER_MAX_MIB).
#   - PUT /{rev_reg_id} (askar wallets) and PUT /hash/{tails_hash}
#     (askar-anoncreds wallets; the hash is checked) take ACA-Py's multipart
#     form (field `tails`) and store its bytes exactly; GET on the same path
#     serves them. So ACA-Py runs with --tails-server-upload-url and
#     --tails-server-base-url both http://ADDRESS:6543.
#   - GET /ready answers 200; logs `tails-server: ready: listening on ...`
#     at start and one line per stored file.
#   - runs as user tails; `docker stop` (SIGTERM) ends it at once.
#
# Environment:
#   ACAPY_HARNESS_CACHE  cache folder (default ~/.cache/acapy-harness); the
#                        debootstrapped trixie (rootfs/trixie.tar) is shared
#                        with build-image.sh
#   DEBIAN_MIRROR        default http://deb.debian.org/debian
#   REBUILD=1            rebuild even if the image exists
#
# Needs: root (debootstrap and chroot), debootstrap, a reachable Docker engine.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/rootfs.sh"

die() { echo "build-tails-image: $*" >&2; exit 1; }
say() { echo "build-tails-image: $*" >&2; }

SUITE=trixie
SERVER_VERSION=1

# The work is in main, which bash parses whole before running it: editing or
# checking out this file during a build cannot change what the build runs.
main() {
    [[ $# -le 1 ]] || die "usage: $0 [TAG]"
    TAG=${1:-acapy-harness/tails-server:$SERVER_VERSION}
    [[ -r $HERE/tails-server/tails_server.py ]] || die "missing $HERE/tails-server/tails_server.py"

    build_tools_at_hand "$@"
    exit_if_built "$TAG"

    OLD_ID=$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true) # removed once replaced
    MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    CACHE=${ACAPY_HARNESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/acapy-harness}
    ROOTFS_TAR=$CACHE/rootfs/$SUITE.tar

    STARTED=$(date +%s)
    work_folder acapy-tails-image

    # 1. The base rootfs, debootstrapped once (docker/rootfs.sh), the same
    #    options as build-image.sh so both use one cached tar.
    cached_rootfs "$ROOTFS_TAR" "$SUITE" "$MIRROR" --include=python3,python3-venv,ca-certificates

    # 2. The server and its user. Nothing is installed: the standard library
    #    is enough.
    install -d "$ROOTFS/opt/tails-server"
    install -m 0644 "$HERE/tails-server/tails_server.py" "$ROOTFS/opt/tails-server/tails_server.py"
    chroot "$ROOTFS" python3 -m py_compile /opt/tails-server/tails_server.py || die "tails_server.py does not compile"
    chroot "$ROOTFS" useradd --create-home --uid 1001 --user-group --shell /bin/sh tails
    chroot "$ROOTFS" install -d -o tails -g tails /var/lib/tails
    REPORTED=$(chroot "$ROOTFS" python3 --version)
    find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    rm -rf "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log
    : >"$ROOTFS/etc/resolv.conf" # Docker provides its own at run time

    # 3. The image. /dev, /proc and /sys are supplied by the runtime.
    say "importing as $TAG"
    tar --numeric-owner -C "$ROOTFS" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
        docker import \
            --change 'ENTRYPOINT ["/usr/bin/python3", "/opt/tails-server/tails_server.py"]' \
            --change 'ENV PYTHONUNBUFFERED=1' \
            --change 'ENV HOME=/home/tails' \
            --change 'USER tails' \
            --change 'WORKDIR /home/tails' \
            --change 'EXPOSE 6543' \
            --change "LABEL org.opencontainers.image.version=$SERVER_VERSION acapy-harness.debian-suite=$SUITE" \
            --message "acapy-harness: tails-file server on Debian $SUITE" \
            - "$TAG" >/dev/null || die "docker import failed"

    # 4. Check that it stores and serves a file byte for byte, under both
    #    shapes of name. A broken image is untagged so the harness never
    #    picks it up.
    CHECK=acapy-tails-check-$$
    docker run -d --name "$CHECK" --network none "$TAG" >/dev/null \
        || { docker rmi "$TAG" >/dev/null; die "the image does not start"; }
    local out status=0
    out=$(docker exec "$CHECK" python3 -c '
import hashlib, os, sys, time, urllib.request
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
data = os.urandom(70000) + b"\r\n--x\r\n"
n, h = int.from_bytes(hashlib.sha256(data).digest(), "big"), ""
while n:
    n, d = divmod(n, 58)
    h = B58[d] + h
boundary = "check" + os.urandom(8).hex()
form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"genesis\"\r\n\r\n{{}}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"tails\"; filename=\"t\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
for _ in range(50):
    try:
        urllib.request.urlopen("http://127.0.0.1:6543/ready", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
for path in ("/Th7MpTaRZVRYnPiabds81Y:4:Th7MpTaRZVRYnPiabds81Y:3:CL:8:default:CL_ACCUM:tag%201", "/hash/" + h):
    put = urllib.request.Request("http://127.0.0.1:6543" + path, data=form, method="PUT",
                                 headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    urllib.request.urlopen(put, timeout=5)
    got = urllib.request.urlopen("http://127.0.0.1:6543" + path, timeout=5).read()
    if got != data:
        sys.exit(f"GET {path} gave {len(got)} other bytes")
print("stored and served back under /REV_REG_ID and /hash/HASH")' 2>&1) || status=$?
    LOG=$(docker logs "$CHECK" 2>&1 | tail -n 20)
    docker rm -f "$CHECK" >/dev/null
    if [[ $status != 0 ]]; then
        echo "$out" >&2
        echo "$LOG" >&2
        docker rmi "$TAG" >/dev/null
        die "the check failed (output and log above)"
    fi
    say "check: $out"
    if [[ -n $OLD_ID && $OLD_ID != $(docker image inspect --format '{{.Id}}' "$TAG") ]]; then
        docker rmi "$OLD_ID" >/dev/null 2>&1 || say "the replaced image $OLD_ID is still in use, not removed"
    fi
    say "built $TAG ($REPORTED, $(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')) in $(( $(date +%s) - STARTED ))s"
}

main "$@"
