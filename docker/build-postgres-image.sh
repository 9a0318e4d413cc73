#!/usr/bin/env bash
# Builds a PostgreSQL image without any registry, for scenarios that keep
# ACA-Py wallets in Postgres (--wallet-storage-type postgres_storage):
#   debootstrap a minimal Debian bookworm → apt-get install postgresql-15 →
#   initdb at build time (the data folder is in the image) → `docker import`.
#
# Usage: docker/build-postgres-image.sh [TAG]
#   TAG  image name (default acapy-harness/postgres:15)
#
# The container:
#   - POSTGRES_PASSWORD (required; the container exits with a message if it
#     is unset, empty or multi-line) becomes the password of the superuser
#     `postgres`, checked with scram-sha-256 over TCP from any address
#     (pg_hba.conf: host all all 0.0.0.0/0 and ::/0). The socket inside the
#     container is trusted.
#   - listens on 0.0.0.0:5432 (and :: where the network has IPv6); runs in the
#     foreground as user postgres: the entrypoint sets the password in
#     single-user mode, then `exec`s postgres, which is PID 1. STOPSIGNAL is
#     SIGINT (fast shutdown), so `docker stop` ends it at once even with
#     clients connected (SIGTERM would wait for every client to leave).
#   - logs to stderr; `database system is ready to accept connections`
#     appears once per start, when TCP connections are accepted (the harness
#     waits for that line). The cluster is made at build time, so a start
#     takes well under a second.
#   - takes postgres options as its command (`docker run ... IMAGE -c
#     log_statement=all`); max_connections is 200.
#   - is a test database: fsync, synchronous_commit and full_page_writes are
#     off (a clean stop keeps everything; a host crash may not). Data lives in
#     /var/lib/postgresql/data, inside the container unless a volume is mounted
#     there (a volume must then hold a cluster made by this image).
#
# Environment:
#   ACAPY_HARNESS_CACHE  cache folder (default ~/.cache/acapy-harness); the
#                        debootstrapped minimal bookworm is kept there
#                        (rootfs/bookworm-minbase.tar, not the build-image.sh
#                        rootfs, which has Python in it)
#   DEBIAN_MIRROR        default http://deb.debian.org/debian
#   REBUILD=1            rebuild even if the image exists
#
# Needs: root (debootstrap and chroot), debootstrap, a reachable Docker engine.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/rootfs.sh"

die() { echo "build-postgres-image: $*" >&2; exit 1; }
say() { echo "build-postgres-image: $*" >&2; }

SUITE=bookworm
PG_MAJOR=15
PGDATA=/var/lib/postgresql/data

# The container's entrypoint (POSIX sh, run as postgres).
read -r -d '' ENTRYPOINT <<'EOF' || true
#!/bin/sh
# acapy-harness postgres image: set the superuser password, then become postgres.
set -eu
die() { echo "postgres-entrypoint: $*" >&2; exit 1; }
[ -n "${POSTGRES_PASSWORD:-}" ] \
    || die "POSTGRES_PASSWORD is not set: it is the password of the superuser postgres (docker run -e POSTGRES_PASSWORD=...)"
case $POSTGRES_PASSWORD in *'
'*) die "POSTGRES_PASSWORD must be one line" ;; esac
PATH=/usr/lib/postgresql/@PG_MAJOR@/bin:$PATH
# A string literal: quotes doubled (backslashes are literal, as
# standard_conforming_strings is on). Errors must not echo the statement.
quoted=$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")
printf "ALTER USER postgres PASSWORD '%s';\n" "$quoted" |
    postgres --single -D "${PGDATA:-@PGDATA@}" -c log_min_error_statement=panic -c log_checkpoints=off postgres >/dev/null \
    || die "could not set the password (single-user postgres failed, messages above)"
unset quoted
exec postgres -D "${PGDATA:-@PGDATA@}" "$@"
EOF

# Appended to the postgresql.conf made by initdb.
read -r -d '' CONF <<'EOF' || true

# acapy-harness: a test database in a container.
listen_addresses = '*'
port = 5432
max_connections = 200
password_encryption = scram-sha-256
fsync = off
synchronous_commit = off
full_page_writes = off
jit = off
dynamic_shared_memory_type = posix
logging_collector = off
log_destination = 'stderr'
log_timezone = 'UTC'
timezone = 'UTC'
EOF

read -r -d '' HBA <<'EOF' || true
# acapy-harness: TCP with a password from anywhere, the socket trusted.
# TYPE  DATABASE  USER  ADDRESS      METHOD
local   all       all                trust
host    all       all   0.0.0.0/0    scram-sha-256
host    all       all   ::/0         scram-sha-256
EOF

# The work is in main, which bash parses whole before running it: editing or
# checking out this file during a build cannot change what the build runs.
main() {
    [[ $# -le 1 ]] || die "usage: $0 [TAG]"
    TAG=${1:-acapy-harness/postgres:$PG_MAJOR}

    build_tools_at_hand "$@"
    exit_if_built "$TAG"

    OLD_ID=$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true) # removed once replaced
    MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    CACHE=${ACAPY_HARNESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/acapy-harness}
    ROOTFS_TAR=$CACHE/rootfs/$SUITE-minbase.tar

    STARTED=$(date +%s)
    work_folder acapy-postgres-image

    # 1. The base rootfs, debootstrapped once (docker/rootfs.sh).
    cached_rootfs "$ROOTFS_TAR" "$SUITE" "$MIRROR"

    # 2. PostgreSQL from Debian, without documentation, and without starting
    #    anything in the chroot (policy-rc.d) or making Debian's `main`
    #    cluster (this image has its own, below).
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
    mkdir -p "$ROOTFS/etc/postgresql-common"
    echo 'create_main_cluster = false' >"$ROOTFS/etc/postgresql-common/createcluster.conf"
    say "installing postgresql-$PG_MAJOR"
    apt_env=(PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive HOME=/root LANG=C.UTF-8)
    chroot "$ROOTFS" /usr/bin/env -i "${apt_env[@]}" sh -c "
        apt-get -q update &&
        apt-get -q install -y --no-install-recommends -o Dpkg::Options::=--force-confold postgresql-$PG_MAJOR &&
        apt-get clean" >"$WORK/apt.log" 2>&1 \
        || { tail -n 20 "$WORK/apt.log" >&2; die "apt-get install postgresql-$PG_MAJOR failed (log above)"; }
    # JIT (LLVM, over a third of the image) is off: its library goes, against
    # the package's dependency, with the JIT provider that would load it.
    chroot "$ROOTFS" dpkg --purge --force-depends libllvm14 libz3-4 >"$WORK/dpkg.log" 2>&1 \
        || { tail -n 20 "$WORK/dpkg.log" >&2; die "could not remove libllvm14 (log above)"; }
    rm -rf "$ROOTFS"/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit* "$ROOTFS"/usr/lib/postgresql/$PG_MAJOR/lib/bitcode
    REPORTED=$(chroot "$ROOTFS" /usr/lib/postgresql/$PG_MAJOR/bin/postgres --version) \
        || die "the installed postgres does not start"
    say "installed: $REPORTED"

    # 3. The cluster, made now so a container starts in well under a second.
    #    The build-time superuser password is random and thrown away: every
    #    start sets POSTGRES_PASSWORD's.
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$ROOTFS/tmp/pwfile"
    install -d -m 0700 "$ROOTFS$PGDATA"
    chroot "$ROOTFS" chown postgres:postgres /tmp/pwfile "$PGDATA"
    # initdb probes POSIX shared memory, which needs a /dev/shm.
    mkdir -p "$ROOTFS/dev/shm"
    mount -t tmpfs -o size=64m tmpfs "$ROOTFS/dev/shm"
    chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
        setpriv --reuid=postgres --regid=postgres --init-groups \
        /usr/lib/postgresql/$PG_MAJOR/bin/initdb -D "$PGDATA" --username=postgres --pwfile=/tmp/pwfile \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
        >"$WORK/initdb.log" 2>&1 \
        || { tail -n 20 "$WORK/initdb.log" >&2; die "initdb failed (log above)"; }
    umount "$ROOTFS/dev/shm"
    rm -f "$ROOTFS/tmp/pwfile"
    printf '%s\n' "$CONF" >>"$ROOTFS$PGDATA/postgresql.conf"
    printf '%s\n' "$HBA" >"$ROOTFS$PGDATA/pg_hba.conf"
    # The socket folder (Debian's default); Docker does not mount a tmpfs on /run.
    chroot "$ROOTFS" install -d -o postgres -g postgres -m 2775 /var/run/postgresql
    printf '%s\n' "$(sed "s|@PG_MAJOR@|$PG_MAJOR|g; s|@PGDATA@|$PGDATA|g" <<<"$ENTRYPOINT")" >"$ROOTFS/usr/local/bin/postgres-entrypoint"
    chmod 0755 "$ROOTFS/usr/local/bin/postgres-entrypoint"

    rm -f "$ROOTFS/usr/sbin/policy-rc.d"
    : >"$ROOTFS/etc/resolv.conf" # Docker provides its own at run time
    rm -rf "$ROOTFS"/root/.cache "$ROOTFS"/var/log/*.log "$ROOTFS"/var/log/apt/* \
        "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/debconf/*-old

    # 4. The image. /dev, /proc and /sys are supplied by the runtime.
    say "importing as $TAG"
    BASE=$(tar --numeric-owner -C "$ROOTFS" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
        docker import \
            --change 'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]' \
            --change "ENV PATH=/usr/lib/postgresql/$PG_MAJOR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
            --change "ENV PGDATA=$PGDATA" \
            --change 'ENV LANG=C.UTF-8' \
            --change 'USER postgres' \
            --change 'WORKDIR /var/lib/postgresql' \
            --change 'EXPOSE 5432' \
            --change "LABEL org.opencontainers.image.version=$PG_MAJOR acapy-harness.debian-suite=$SUITE" \
            --message "acapy-harness: postgresql-$PG_MAJOR on Debian $SUITE" \
            -) || die "docker import failed"
    # docker import cannot set STOPSIGNAL: a metadata-only step on top does.
    # The legacy builder, as BuildKit may try to resolve FROM in a registry.
    OUT=$(printf 'FROM %s\nSTOPSIGNAL SIGINT\n' "$BASE" |
        DOCKER_BUILDKIT=0 docker build --quiet --tag "$TAG" - 2>&1) \
        || { echo "$OUT" >&2; die "docker build (STOPSIGNAL) failed"; }

    # 5. Check that it starts, and refuses to start without a password.
    # A broken image is untagged so the harness never picks it up.
    RAN=$(docker run --rm --network none --entrypoint postgres "$TAG" --version 2>&1) \
        || { docker rmi "$TAG" >/dev/null; die "the image does not start: $RAN"; }
    if RAN=$(docker run --rm --network none "$TAG" 2>&1); then
        docker rmi "$TAG" >/dev/null; die "the image starts without POSTGRES_PASSWORD"
    fi
    [[ $RAN == *POSTGRES_PASSWORD* ]] || { docker rmi "$TAG" >/dev/null; die "without POSTGRES_PASSWORD: \`$RAN\`"; }
    if [[ -n $OLD_ID && $OLD_ID != $(docker image inspect --format '{{.Id}}' "$TAG") ]]; then
        docker rmi "$OLD_ID" >/dev/null 2>&1 || say "the replaced image $OLD_ID is still in use, not removed"
    fi
    say "built $TAG ($REPORTED, $(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')) in $(( $(date +%s) - STARTED ))s"
}

main "$@"
