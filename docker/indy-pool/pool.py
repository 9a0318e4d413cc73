"""Main process of the acapy-harness Indy pool container.

Four indy-node validators (Node1..Node4) run as children of this process,
all in one container. This process:

* writes the pool's genesis for the container's own address (INDY_POOL_IP,
  or the address the container's hostname resolves to) at start. A ledger
  made earlier for the same address is kept (a restarted container keeps
  its ledger); one made for another address is replaced by a new one.
* serves over HTTP on port 8000 (INDY_POOL_HTTP_PORT):
    GET  /genesis   the pool genesis transactions (text, one JSON per line)
    GET  /ready     200 once the pool answers a ledger read (a GET_NYM of
                    the trustee, from each of the four nodes and through
                    indy-vdr's usual read), 503 before
    GET  /status    JSON: ready, ip, ports, trustee DID, node processes
    POST /register  {"did","verkey","alias","role"} or {"seed","alias",
                    "role"}: the trustee writes that NYM (role ENDORSER when
                    not given; "" or "none" for no role), and answers once
                    every node returns it to a read. As von-network's.
* logs one line `indy-pool: ready ...` when the pool first answers reads.
* the nodes batch writes after INDY_POOL_BATCH_WAIT seconds (default 0.1,
  plenum's default is 3; see /etc/indy/indy_config.py).
* stops the nodes on SIGTERM or SIGINT (`docker stop`) and exits 0; exits 1
  if a node dies on its own, showing the end of that node's output.

The trustee is V4SGRU86Z58d6TV7PBUe6f, seed 000000000000000000000000Trustee1
(the seeds generate_indy_pool_transactions uses, the same as von-network's).
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import base58
import libnacl
import indy_vdr
from indy_vdr import ledger as vdr_ledger

VENV_BIN = os.path.dirname(sys.executable)
NETWORK = "sandbox"
LEDGER_DIR = "/var/lib/indy"
LOG_DIR = "/var/log/indy"
NETWORK_DIR = os.path.join(LEDGER_DIR, NETWORK)
GENESIS_FILE = os.path.join(NETWORK_DIR, "pool_transactions_genesis")
IP_FILE = os.path.join(LEDGER_DIR, "pool-ip")
NODES = 4
FIRST_PORT = 9701  # NodeN: node stack 9699+2N, client stack 9700+2N
TRUSTEE_SEED = b"000000000000000000000000Trustee1"
TRUSTEE_DID = "V4SGRU86Z58d6TV7PBUe6f"
STOP_GRACE = 5.0  # seconds a node is given after SIGTERM

STARTED = time.monotonic()


def say(message):
    print(f"indy-pool: {message}", file=sys.stderr, flush=True)


def since_start():
    return f"{time.monotonic() - STARTED:.1f}s"


# --- the pool's address and genesis -----------------------------------------


def own_ip():
    """INDY_POOL_IP, else the first non-loopback IPv4 address the hostname
    resolves to (Docker writes the container's address in /etc/hosts)."""
    configured = os.environ.get("INDY_POOL_IP", "").strip()
    if configured:
        return configured
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    for info in infos:
        address = info[4][0]
        if not address.startswith("127."):
            return address
    return "127.0.0.1"


def write_genesis(ip):
    """A new pool for IP, unless the ledger on disk was made for IP."""
    try:
        with open(IP_FILE) as f:
            previous = f.read().strip()
    except FileNotFoundError:
        previous = None
    if previous == ip and os.path.isfile(GENESIS_FILE):
        say(f"keeping the ledger made for {ip}")
        return
    if previous is not None:
        say(f"the ledger was made for {previous}: making a new pool for {ip}")
    shutil.rmtree(NETWORK_DIR, ignore_errors=True)
    shutil.rmtree(os.path.join(LOG_DIR, NETWORK), ignore_errors=True)
    command = [
        os.path.join(VENV_BIN, "python"),
        os.path.join(VENV_BIN, "generate_indy_pool_transactions"),
        "--nodes", str(NODES), "--clients", "0",
        "--nodeNum", *[str(n) for n in range(1, NODES + 1)],
        "--ips", ",".join([ip] * NODES),
        "--network", NETWORK,
    ]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0 or not os.path.isfile(GENESIS_FILE):
        sys.stderr.write(done.stdout[-4000:])
        say("generate_indy_pool_transactions failed (output above)")
        sys.exit(1)
    with open(IP_FILE, "w") as f:
        f.write(ip + "\n")
    say(f"genesis written for {ip} ({since_start()})")


# --- the trustee and ledger requests (indy-vdr, on its own event loop) ------


class Ledger:
    """indy-vdr requests, run on one asyncio loop in a thread of its own."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.pool = None
        self.ready = threading.Event()
        self.write_lock = None  # made on the loop
        public, secret = libnacl.crypto_sign_seed_keypair(TRUSTEE_SEED)
        self.trustee_secret = secret
        did = base58.b58encode(public[:16]).decode()
        if did != TRUSTEE_DID:
            raise RuntimeError(f"the trustee seed gives {did}, not {TRUSTEE_DID}")
        # Short timeouts: a probe that meets a node still starting fails
        # quickly and is tried again.
        indy_vdr.set_config({"ack_timeout": 5, "reply_timeout": 15})
        threading.Thread(target=self.loop.run_forever, name="indy-vdr", daemon=True).start()

    def run(self, coroutine, timeout):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _pool(self):
        if self.pool is None:
            self.pool = await indy_vdr.open_pool(transactions_path=GENESIS_FILE)
        return self.pool

    async def nodes_without(self, did):
        """The nodes whose own answer to a GET_NYM of `did` lacks it (each
        node asked directly, not through indy-vdr's quorum of two)."""
        pool = await self._pool()
        replies = await pool.submit_action(vdr_ledger.build_get_nym_request(None, did), timeout=2)
        missing = [f"Node{n}" for n in range(1, NODES + 1) if f"Node{n}" not in replies]
        for node, raw in replies.items():
            try:
                data = json.loads(raw)["result"]["data"]
                if isinstance(data, str):
                    data = json.loads(data)
                if data and data.get("dest") == did:
                    continue
            except (ValueError, KeyError, TypeError):
                pass
            missing.append(node)
        return sorted(missing)

    async def read_trustee(self):
        """Ready: every node answers the trustee's NYM, and so does a read
        through indy-vdr (a state proof or two matching answers)."""
        missing = await self.nodes_without(TRUSTEE_DID)
        if missing:
            raise RuntimeError(f"no answer with {TRUSTEE_DID} from {', '.join(missing)}")
        pool = await self._pool()
        reply = await pool.submit_request(vdr_ledger.build_get_nym_request(None, TRUSTEE_DID))
        data = reply.get("data")
        if isinstance(data, str):
            data = json.loads(data)
        if not data or data.get("dest") != TRUSTEE_DID:
            raise RuntimeError(f"GET_NYM {TRUSTEE_DID} answered without it: {reply}")
        return data

    async def write_nym(self, did, verkey, alias, role):
        if self.write_lock is None:
            self.write_lock = asyncio.Lock()
        async with self.write_lock:
            pool = await self._pool()
            request = vdr_ledger.build_nym_request(TRUSTEE_DID, did, verkey, alias, role)
            signature = libnacl.crypto_sign_detached(request.signature_input, self.trustee_secret)
            request.set_signature(signature)
            reply = await pool.submit_request(request)
            # The write is answered once two nodes ordered it; the other two
            # may answer reads without it for a moment. Whoever registers
            # reads it next (ACA-Py when the DID is made public), so the
            # answer waits until every node has it.
            deadline = time.monotonic() + 10
            while await self.nodes_without(did):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            return reply

    def wait_until_ready(self, stopping):
        """Polls until the pool answers the trustee's GET_NYM."""
        attempts = 0
        while not stopping.is_set():
            attempts += 1
            try:
                self.run(self.read_trustee(), timeout=30)
            except Exception as error:  # noqa: BLE001 - any failure means not yet
                if attempts % 30 == 0:
                    say(f"not ready after {since_start()}: {type(error).__name__}: {error}")
                # A pool opened while nodes were still down may keep stale
                # state: open it again on the next try.
                self.pool = None
                stopping.wait(0.5)
                continue
            self.ready.set()
            return


# --- HTTP -------------------------------------------------------------------

ROLES = {
    "ENDORSER": "ENDORSER",
    "TRUST_ANCHOR": "ENDORSER",
    "STEWARD": "STEWARD",
    "TRUSTEE": "TRUSTEE",
    "NETWORK_MONITOR": "NETWORK_MONITOR",
    "": None,
    "NONE": None,
}


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that went away (a probe that gave up, a reset) is not
        # worth a traceback in the container's log.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        say(f"request from {client_address[0]} failed: {type(error).__name__}: {error}")


class Handler(BaseHTTPRequestHandler):
    server_version = "acapy-harness-indy-pool"
    protocol_version = "HTTP/1.1"
    state = None  # set in main: dict with ledger, ip, children

    def log_message(self, *args):  # quiet: the harness reads the log for failures
        pass

    def answer(self, status, body, content_type="application/json"):
        if not isinstance(body, bytes):
            body = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        ledger = self.state["ledger"]
        if path == "/genesis":
            with open(GENESIS_FILE, "rb") as f:
                self.answer(200, f.read(), "text/plain; charset=utf-8")
        elif path == "/ready":
            if ledger.ready.is_set():
                self.answer(200, {"ready": True})
            else:
                self.answer(503, {"ready": False})
        elif path in ("/", "/status"):
            self.answer(200, {
                "ready": ledger.ready.is_set(),
                "ip": self.state["ip"],
                "network": NETWORK,
                "node_ports": list(range(FIRST_PORT, FIRST_PORT + 2 * NODES)),
                "trustee_did": TRUSTEE_DID,
                "nodes": {name: proc.poll() is None for name, proc in self.state["children"].items()},
            })
        else:
            self.answer(404, {"error": f"no {path}: try /genesis, /ready, /status, POST /register"})

    def do_POST(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        if path != "/register":
            self.answer(404, {"error": f"no POST {path}: try POST /register"})
            return
        ledger = self.state["ledger"]
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            did, verkey, seed = body.get("did"), body.get("verkey"), body.get("seed")
            if seed:
                seed_bytes = seed.encode()
                if len(seed_bytes) != 32:
                    raise ValueError("seed must be 32 characters")
                public, _ = libnacl.crypto_sign_seed_keypair(seed_bytes)
                did = base58.b58encode(public[:16]).decode()
                verkey = base58.b58encode(public).decode()
            if not did or not verkey:
                raise ValueError('give "did" and "verkey", or "seed"')
            role_name = body.get("role", "ENDORSER")
            role_name = "" if role_name is None else str(role_name).upper()
            if role_name not in ROLES:
                raise ValueError(f"unknown role {role_name}: one of {', '.join(r for r in ROLES if r)}")
            role = ROLES[role_name]
        except (ValueError, TypeError, AttributeError) as error:
            self.answer(400, {"error": str(error)})
            return
        if not ledger.ready.is_set():
            self.answer(503, {"error": "the pool is not ready yet (GET /ready)"})
            return
        started = time.monotonic()
        try:
            reply = ledger.run(ledger.write_nym(did, verkey, body.get("alias"), role), timeout=60)
        except Exception as error:  # noqa: BLE001 - the ledger's refusal goes back to the caller
            self.answer(502, {"error": f"{type(error).__name__}: {error}"})
            return
        seq_no = (reply.get("txnMetadata") or {}).get("seqNo")
        say(f"registered {did} as {role or 'a plain NYM'} (seqNo {seq_no}, "
            f"{time.monotonic() - started:.1f}s)")
        answer = {"did": did, "verkey": verkey, "role": role, "seqNo": seq_no}
        if seed:
            answer["seed"] = seed
        self.answer(200, answer)


# --- the nodes ----------------------------------------------------------------


def start_nodes():
    children = {}
    # Folders every node makes if missing, with a check-then-create that
    # fails when four nodes start at once (FileExistsError, seen once in a
    # dozen starts): they are made here first.
    for folder in (LOG_DIR, os.path.join(LOG_DIR, NETWORK), os.path.join(LEDGER_DIR, "plugins"),
                   os.path.join(LEDGER_DIR, "backup"), os.path.join(NETWORK_DIR, "data")):
        os.makedirs(folder, exist_ok=True)
    for n in range(1, NODES + 1):
        name = f"Node{n}"
        port = FIRST_PORT + 2 * (n - 1)
        out = open(os.path.join(LOG_DIR, f"{name}.out"), "ab")
        children[name] = subprocess.Popen(
            [os.path.join(VENV_BIN, "python"), os.path.join(VENV_BIN, "start_indy_node"),
             name, "0.0.0.0", str(port), "0.0.0.0", str(port + 1)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )
        out.close()
    return children


def tail(path, lines=30):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
    except OSError as error:
        return str(error)


def stop_nodes(children):
    for proc in children.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for proc in children.values():
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    stopping = threading.Event()
    signals = []

    def on_signal(number, _frame):
        signals.append(number)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ip = own_ip()
    write_genesis(ip)
    http_port = int(os.environ.get("INDY_POOL_HTTP_PORT", "8000"))
    ledger = Ledger()
    children = start_nodes()
    Handler.state = {"ledger": ledger, "ip": ip, "children": children}
    server = Server(("0.0.0.0", http_port), Handler)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    say(f"started {NODES} nodes on {ip}:{FIRST_PORT}-{FIRST_PORT + 2 * NODES - 1}; "
        f"genesis at http://{ip}:{http_port}/genesis, readiness at /ready")

    def announce_ready():
        ledger.wait_until_ready(stopping)
        if ledger.ready.is_set():
            say(f"ready after {since_start()}: the pool answers reads "
                f"(GET_NYM {TRUSTEE_DID}); genesis at http://{ip}:{http_port}/genesis")

    threading.Thread(target=announce_ready, name="ready", daemon=True).start()

    status = 0
    while not stopping.is_set():
        # Reap whatever ended: the nodes, and any orphan handed to PID 1.
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pid = 0
        died = [name for name, proc in children.items() if proc.pid == pid or proc.poll() is not None]
        if died:
            for name in died:
                say(f"{name} exited on its own; the end of its output:\n"
                    + tail(os.path.join(LOG_DIR, f"{name}.out")))
            status = 1
            break
        if pid:
            continue
        stopping.wait(0.5)
    if signals:
        say(f"stopping on {signal.Signals(signals[0]).name}")
    stop_nodes(children)
    server.shutdown()
    say(f"stopped after {since_start()}")
    sys.exit(status)


if __name__ == "__main__":
    main()
