"""Where a container agent's start goes, step by step, as the harness does it.

  python3 bench/container_start.py VERSION ROUNDS

Drives the Docker CLI the way the docker provider drives the engine
(src/agents/docker/): a case network; a container of
acapy-harness/acapy-agent:VERSION created on the default bridge with the
harness's flags, the admin API key and wallet key in ACAPY_* variables and
the admin port published on 127.0.0.1; started; joined to the case network
under its role; then /status/ready polled. Then a `stop` (SIGTERM, as the
harness's `stop:`/`restart:` steps send, with their 5 s grace) and a start
again on the same wallet, and the removal. Per round it also times, in the
same image, a container that only runs `true`, and one that only imports
ACA-Py's start command (its own clock, inside the container), so the start
splits into the engine's part, the imports and the rest (ACA-Py's own
start: wallet, transports, admin server).

Prints the medians of each step over ROUNDS.
"""

import json
import secrets
import statistics
import subprocess
import sys
import time
import urllib.request

from agent_start import b58, is_ready_within  # as the harness writes and waits


def docker(*args):
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


def timed(steps, name, fn, *args):
    started = time.monotonic()
    out = fn(*args)
    steps.setdefault(name, []).append(time.monotonic() - started)
    return out


def ready(port, key, limit=60):
    if not is_ready_within(port, key, limit):
        raise RuntimeError("not ready within %ss" % limit)


def admin_port(name):
    return docker("port", name, "8021/tcp").splitlines()[0].rsplit(":", 1)[1]


def one_round(image, package, n, steps):
    network = "acapy-harness-bench-%d-%d" % (n, time.time_ns() % 10**6)
    name = network + "-issuer"
    key = secrets.token_hex(16)
    args = [
        "start", "--label", "issuer", "-it", "http", "0.0.0.0", "8020", "-ot", "http",
        "-e", "http://issuer:8020", "--admin", "0.0.0.0", "8021", "--no-ledger",
        "--wallet-type", "askar", "--wallet-name", "issuer-wallet",
        "--wallet-key-derivation-method", "RAW", "--auto-provision", "--log-level", "warning",
    ]
    try:
        started = time.monotonic()
        timed(steps, "network create", docker, "network", "create", network)
        timed(steps, "container create", docker, "create", "--name", name,
              "--network", "bridge", "-p", "127.0.0.1::8021",
              "-e", "ACAPY_ADMIN_API_KEY=" + key,
              "-e", "ACAPY_WALLET_KEY=" + b58(secrets.token_bytes(32)), image, *args)
        timed(steps, "container start", docker, "start", name)
        timed(steps, "network connect", docker, "network", "connect", "--alias", "issuer", network, name)
        port = admin_port(name)
        timed(steps, "until ready", ready, port, key)
        steps.setdefault("start to ready (all)", []).append(time.monotonic() - started)

        restarted = time.monotonic()
        timed(steps, "stop (SIGTERM, 5 s grace)", docker, "stop", "-t", "5", name)
        timed(steps, "start again", docker, "start", name)
        timed(steps, "until ready again", ready, admin_port(name), key)
        steps.setdefault("restart (all)", []).append(time.monotonic() - restarted)
        timed(steps, "remove (rm -f)", docker, "rm", "-f", "-v", name)
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True)
        subprocess.run(["docker", "network", "rm", network], capture_output=True)

    # The engine's part alone, and the imports alone, in the same image.
    timed(steps, "a container running `true` (create, start, wait, rm)", docker,
          "run", "--rm", "--network", "none", "--entrypoint", "/bin/true", image)
    code = ("import time; t = time.perf_counter(); import %s.commands.start; "
            "print(time.perf_counter() - t)" % package)
    inside = docker("run", "--rm", "--network", "none", "--entrypoint", "/opt/acapy/bin/python",
                    image, "-c", code)
    steps.setdefault("imports, inside the container", []).append(float(inside))


def main():
    version, rounds = sys.argv[1], int(sys.argv[2])
    image = "acapy-harness/acapy-agent:" + version
    package = "aries_cloudagent" if version.startswith(("0.", "1.0.")) else "acapy_agent"
    python = docker("run", "--rm", "--network", "none", "--entrypoint", "/opt/acapy/bin/python",
                    image, "-c", "import sys; print(sys.version.split()[0])")
    steps = {}
    for n in range(rounds):
        one_round(image, package, n, steps)
    med = statistics.median
    print("ACA-Py %s container (Python %s), medians of %d rounds:" % (version, python, rounds))
    for name, values in steps.items():
        print("  %-55s %6.3fs  (min %.3f max %.3f)" % (name, med(values), min(values), max(values)))
    # ACA-Py runs from the moment `docker start` returns: the network join
    # overlaps its imports.
    running = med(steps["network connect"]) + med(steps["until ready"])
    rest = running - med(steps["imports, inside the container"])
    print("  %-55s %6.3fs" % ("running to ready (network connect + until ready)", running))
    print("  %-55s %6.3fs" % ("  of which not imports (wallet, transports, admin server)", rest))
    print(json.dumps({k: med(v) for k, v in steps.items()}))


if __name__ == "__main__":
    main()
