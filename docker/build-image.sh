#!/usr/bin/env bash
# Builds an ACA-Py image without any registry:
#   debootstrap a minimal Debian → venv at /opt/acapy → pip install ACA-Py →
#   `docker import` with the same entrypoint convention as the official image
#   (ENTRYPOINT aca-py, so the container command starts with `start ...`).
#
# Usage: docker/build-image.sh VERSION [TAG]
#   VERSION  ACA-Py version, e.g. 1.3.6, 1.7.0, 0.12.8
#   TAG      image name (default acapy-harness/acapy-agent:VERSION, the name
#            the harness's docker provider looks for)
#
# Environment:
#   ACAPY_HARNESS_CACHE  cache folder (default ~/.cache/acapy-harness); the
#                        debootstrapped rootfs is kept there per Debian suite
#                        (rootfs/SUITE.tar) so a second version is quick
#   DEBIAN_MIRROR        default http://deb.debian.org/debian
#   HOST_CA_BUNDLE       CA bundle used by pip inside the chroot (default
#                        /etc/ssl/certs/ca-certificates.crt; needed where
#                        outbound HTTPS is intercepted); not kept in the image
#   PIP_INDEX_URL        passed through to pip if set
#   REBUILD=1            rebuild even if the image exists
#
# Needs: root (debootstrap and chroot), debootstrap, a reachable Docker engine.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/rootfs.sh"

die() { echo "build-image: $*" >&2; exit 1; }
say() { echo "build-image: $*" >&2; }

# The work is in main, which bash parses whole before running it: editing or
# checking out this file during a build cannot change what the build runs.
main() {
    [[ $# -ge 1 && $# -le 2 ]] || die "usage: $0 VERSION [TAG]"
    VERSION=$1
    [[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+([a-z0-9.+-]*)?$ ]] || die "\`$VERSION\` is not an ACA-Py version like 1.3.6"
    TAG=${2:-acapy-harness/acapy-agent:$VERSION}

    IFS=. read -r MAJOR MINOR _ <<<"$VERSION"
    # Package name and Debian suite (hence Python) per ACA-Py line; see
    # docs/providers.md. trixie has Python 3.13, bookworm 3.11.
    # aries-cloudagent (up to 1.0) needs its askar extra: without it, start
    # fails at `import anoncreds`. acapy-agent depends on those packages.
    if [[ $MAJOR == 0 ]]; then
        [[ $MINOR -ge 12 ]] || die "ACA-Py $VERSION is older than 0.12, not supported"
        REQUIREMENT="aries-cloudagent[askar]==$VERSION"
        SUITE=bookworm
    elif [[ $MAJOR == 1 && $MINOR == 0 ]]; then
        REQUIREMENT="aries-cloudagent[askar]==$VERSION"
        SUITE=trixie
    else
        REQUIREMENT="acapy-agent==$VERSION"
        SUITE=trixie
    fi

    build_tools_at_hand "$@"
    exit_if_built "$TAG"

    MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    CA_BUNDLE=${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
    [[ -r $CA_BUNDLE ]] || die "no CA bundle at $CA_BUNDLE (set HOST_CA_BUNDLE)"
    CACHE=${ACAPY_HARNESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/acapy-harness}
    ROOTFS_TAR=$CACHE/rootfs/$SUITE.tar

    STARTED=$(date +%s)
    work_folder acapy-image

    # 1. The base rootfs, debootstrapped once (docker/rootfs.sh).
    cached_rootfs "$ROOTFS_TAR" "$SUITE" "$MIRROR" --include=python3,python3-venv,ca-certificates

    # 2. ACA-Py in a venv. pip needs DNS and, behind an intercepting proxy, the
    #    host's CA bundle: both are put in for the install and taken out after.
    cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    cp "$CA_BUNDLE" "$ROOTFS/tmp/host-ca.crt"
    say "installing $REQUIREMENT into /opt/acapy ($SUITE: $(chroot "$ROOTFS" python3 --version))"
    pip_env=(PIP_CERT=/tmp/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 HOME=/root)
    [[ -n ${PIP_INDEX_URL:-} ]] && pip_env+=("PIP_INDEX_URL=$PIP_INDEX_URL")
    chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${pip_env[@]}" \
        sh -c "python3 -m venv /opt/acapy && /opt/acapy/bin/pip install --quiet '$REQUIREMENT'" \
        || die "pip install $REQUIREMENT failed"
    REPORTED=$(chroot "$ROOTFS" /opt/acapy/bin/aca-py --version 2>/dev/null | tail -n 1) \
        || die "the installed aca-py does not start"
    say "installed: aca-py $REPORTED"

    # A non-root user with a writable HOME: ACA-Py keeps its wallets under $HOME.
    chroot "$ROOTFS" useradd --create-home --uid 1001 --user-group --shell /bin/sh acapy

    rm -f "$ROOTFS/tmp/host-ca.crt"
    : >"$ROOTFS/etc/resolv.conf" # Docker provides its own at run time
    rm -rf "$ROOTFS"/root/.cache "$ROOTFS"/var/log/*.log

    # 3. The image. /dev, /proc and /sys are supplied by the runtime.
    say "importing as $TAG"
    tar --numeric-owner -C "$ROOTFS" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
        docker import \
            --change 'ENTRYPOINT ["/opt/acapy/bin/aca-py"]' \
            --change 'CMD ["--help"]' \
            --change 'ENV PATH=/opt/acapy/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV HOME=/home/acapy' \
            --change 'ENV PYTHONUNBUFFERED=1' \
            --change 'USER acapy' \
            --change 'WORKDIR /home/acapy' \
            --change 'EXPOSE 8020 8021' \
            --change "LABEL org.opencontainers.image.version=$VERSION acapy-harness.acapy-version=$VERSION acapy-harness.debian-suite=$SUITE" \
            --message "acapy-harness: $REQUIREMENT on Debian $SUITE" \
            - "$TAG" >/dev/null

    # 4. Check that it runs the way the harness runs it.
    # A broken image is untagged so the harness never picks it up.
    RAN=$(docker run --rm --network none "$TAG" --version 2>&1 | tail -n 1) \
        || { docker rmi "$TAG" >/dev/null; die "the image does not start: $RAN"; }
    [[ $RAN == *"$VERSION"* ]] \
        || { docker rmi "$TAG" >/dev/null; die "the image reports \`$RAN\`, not $VERSION"; }
    say "built $TAG (aca-py $RAN, $(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')) in $(( $(date +%s) - STARTED ))s"
}

main "$@"
