"""Start-to-ready of one ACA-Py agent, preloaded against plain, alternating.

Run with a venv's python (bench/agent-start.sh does):
  python bench/agent_start.py VENV VERSION ROUNDS

Drives src/agents/preload/preloader.py over its stdin/stdout protocol as the
harness does, with the flags and environment the harness gives an agent
(src/agents/launch.rs): fresh ports, a temporary HOME, a RAW wallet key and
an admin API key in ACAPY_* variables. Per round: one plain `aca-py start`
and one fork, in alternating order; then a restart (SIGTERM the group, as the harness does; wait
for the exit, fork again on the same wallet). Prints medians, the ratio, and
the proportional set size (PSS) of forked and plain agents.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data):
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = ALPHABET[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def package(version):
    return "aries_cloudagent" if version.startswith(("0.", "1.0.")) else "acapy_agent"


def modules(version):
    path = os.path.join(ROOT, "src/agents/preload/modules/%s.txt" % version)
    if not os.path.exists(path):
        return []
    return [l.strip() for l in open(path) if l.strip() and not l.startswith("#")]


def is_ready_within(admin_port, api_key, limit, failed=lambda: False):
    """Polls /status/ready until it answers 200 (True), `limit` s pass or
    `failed()` says the agent will never be ready (False)."""
    deadline = time.monotonic() + limit
    request = urllib.request.Request(
        "http://127.0.0.1:%s/status/ready" % admin_port, headers={"X-API-Key": api_key})
    while time.monotonic() < deadline and not failed():
        try:
            with urllib.request.urlopen(request, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.01)
    return False


class Agent:
    """One agent's ports, keys and HOME: the same on a restart."""

    def __init__(self, venv, workdir, name):
        self.home = tempfile.mkdtemp(prefix="acapy-harness-bench.%s-" % name, dir=workdir)
        self.admin, self.didcomm = port(), port()
        self.key = secrets.token_hex(16)
        self.argv = [
            os.path.join(venv, "bin/aca-py"), "start", "--label", name,
            "-it", "http", "127.0.0.1", str(self.didcomm), "-ot", "http",
            "-e", "http://127.0.0.1:%d" % self.didcomm,
            "--admin", "127.0.0.1", str(self.admin), "--no-ledger",
            "--wallet-type", "askar", "--wallet-name", name,
            "--wallet-key-derivation-method", "RAW", "--auto-provision",
            "--log-level", "warning",
        ]
        self.env = dict(os.environ)
        self.env.update(
            ACAPY_ADMIN_API_KEY=self.key,
            ACAPY_WALLET_KEY=b58(secrets.token_bytes(32)),
            HOME=self.home,
        )
        self.log = os.path.join(self.home, "agent.log")

    def failed_to_start(self):
        # ACA-Py logs this and may then linger in its threads' shutdown.
        try:
            return "Exception during startup" in open(self.log).read()
        except OSError:
            return False

    def ready(self, limit=60):
        if not is_ready_within(self.admin, self.key, limit, self.failed_to_start):
            raise RuntimeError("not ready: " + open(self.log).read()[-2000:])


def pss_kib(pid):
    try:
        for line in open("/proc/%d/smaps_rollup" % pid):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Preloader:
    def __init__(self, venv, version):
        script = os.path.join(ROOT, "src/agents/preload/preloader.py")
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [os.path.join(venv, "bin/python"), script, package(version)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True,
        )
        self.send({"preload": modules(version)})
        self.ready = self.read("ready")
        self.seconds = time.monotonic() - started
        self.next = 0
        self.exits = {}

    def send(self, message):
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def read(self, key):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the preloader ended")
            reply = json.loads(line)
            if "exited" in reply:
                self.exits[reply["exited"]] = reply["status"]
            if key in reply:
                return reply

    def fork(self, agent):
        self.next += 1
        self.send({"fork": self.next, "argv": agent.argv, "env": agent.env,
                   "cwd": os.getcwd(), "log": agent.log})
        reply = self.read("forked")
        if "pid" not in reply:
            raise RuntimeError(reply["error"])
        return reply["pid"]

    def kill_and_wait(self, pid, number=signal.SIGKILL):
        self.send({"signal": pid, "number": number})
        while pid not in self.exits:
            self.read("exited")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def main():
    venv, version, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    workdir = tempfile.mkdtemp(prefix="acapy-harness-bench.")
    preloader = None
    plain_procs = []
    try:
        preloader = Preloader(venv, version)
        print("ACA-Py %s: preloader ready in %.2fs (%d modules)" % (
            version, preloader.seconds, preloader.ready["modules"]))
        plain_s, preloaded_s, restart_s, pss_forked, pss_plain = [], [], [], [], []
        for r in range(rounds):
            for how in (("plain", "preloaded") if r % 2 == 0 else ("preloaded", "plain")):
                agent = Agent(venv, workdir, "%s%d" % (how, r))
                started = time.monotonic()
                if how == "plain":
                    with open(agent.log, "ab") as log:
                        proc = subprocess.Popen(
                            agent.argv, env=agent.env, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, start_new_session=True)
                    plain_procs.append(proc)
                    agent.ready()
                    plain_s.append(time.monotonic() - started)
                    pss_plain.append(pss_kib(proc.pid))
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                else:
                    pid = preloader.fork(agent)
                    agent.ready()
                    preloaded_s.append(time.monotonic() - started)
                    pss_forked.append(pss_kib(pid))
                    # 0.12.8 answers ready before its start-up wallet upgrade
                    # has run, and a SIGTERM during the upgrade leaves it hung
                    # in its shutdown: restart a settled agent, as a case does.
                    time.sleep(0.5)
                    # restart as the harness does: SIGTERM, wait for the exit, fork on the same wallet
                    started = time.monotonic()
                    preloader.kill_and_wait(pid, signal.SIGTERM)
                    pid = preloader.fork(agent)
                    agent.ready()
                    restart_s.append(time.monotonic() - started)
                    preloader.kill_and_wait(pid)
                shutil.rmtree(agent.home, ignore_errors=True)
        med = statistics.median
        print("start to ready, median of %d: plain %.3fs  preloaded %.3fs  | preloaded/plain %.2f"
              % (rounds, med(plain_s), med(preloaded_s), med(preloaded_s) / med(plain_s)))
        print("  plain     min %.3f max %.3f" % (min(plain_s), max(plain_s)))
        print("  preloaded min %.3f max %.3f" % (min(preloaded_s), max(preloaded_s)))
        print("restart (SIGTERM, exit, fork on the same wallet, ready): median %.3fs (min %.3f max %.3f)"
              % (med(restart_s), min(restart_s), max(restart_s)))
        print("PSS per ready agent: preloaded %.0f MiB  plain %.0f MiB"
              % (med(pss_forked) / 1024, med(pss_plain) / 1024))
    finally:
        for proc in plain_procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if preloader:
            preloader.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
