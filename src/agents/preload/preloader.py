"""ACA-Py imported once, forked per agent (the harness's `--agent-start preloaded`).

Run by a version's venv interpreter: `python preloader.py PACKAGE [--listen
SOCKET]`. PACKAGE is
`acapy_agent` or `aries_cloudagent`. The first line on stdin is
`{"preload": [MODULE...]}`, the modules a plain start of that version loads
(kept per version in the harness). It imports them, says `{"ready": PID}`
(or `{"failed": WHY}`) on stdout, then reads one JSON request a line:

  {"fork": ID, "argv": [...], "env": {...}, "cwd": DIR, "log": FILE}
      -> {"forked": ID, "pid": PID} or {"forked": ID, "error": WHY}
  {"signal": PID, "number": N}   the process group of a child of ours
  (its exit, later) -> {"exited": PID, "status": RAW_WAIT_STATUS}

With `--listen SOCKET` (the harness's `preload serve`), the same protocol
is also served on a Unix socket to every run that connects (of our user
only): each connection is greeted with the `ready` line (plus the sha1 of
this script and the interpreter's path), and the agents forked for it are
killed when it closes, so a run that ends or is SIGKILLed leaves none. Our
stdin then belongs to the serve command: its end ends us, and our agents.

Each child becomes what `aca-py start` would have been: its own session and
process group, PDEATHSIG (it dies with us, and we die with the harness), no
descriptor of ours, a clean signal mask, stdin from /dev/null, stdout and
stderr to its log, the environment it was given and nothing else.

What keeps forking safe (see the harness's docs/agent-start.md): one thread
only (checked before every fork); the event loop `nest_asyncio.apply()`
creates at import is closed before the first fork; nothing here calls into
askar, anoncreds, indy-credx or indy-vdr (their Rust runtimes start on first
call), and nothing makes a UUID (uuid_utils' generator is not fork-safe).
"""

import sys
import os

# Replies go to a descriptor of our own: whatever an import prints to stdout
# must not be read as a reply.
REPLY_FD = os.dup(1)
os.dup2(2, 1)
os.set_inheritable(REPLY_FD, False)


def reply(message):
    import json

    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(REPLY_FD, data):]


def preload(package, modules):
    import importlib
    import time

    started = time.monotonic()
    importlib.import_module(package + ".__main__")
    importlib.import_module(package + ".commands.start")
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException as e:  # a module a start of another kind loads
            failed.append("%s: %s" % (name, e))
    import asyncio

    # `nest_asyncio.apply()` made (and set) a loop at import; a child gets a
    # fresh one of the same, patched, class instead.
    policy = asyncio.get_event_loop_policy()
    loop = getattr(getattr(policy, "_local", None), "_loop", None)
    if loop is not None and not loop.is_closed():
        loop.close()
    asyncio.set_event_loop(None)
    import gc

    gc.collect()
    gc.freeze()
    return time.monotonic() - started, failed


def exit_code(exit):
    """What the interpreter exits with for a `SystemExit`."""
    code = exit.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def become_agent(package, request, parent):
    """In the child: never returns."""
    import asyncio
    import atexit
    import ctypes
    import signal
    import threading
    import traceback

    code = 1
    try:
        os.setsid()
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        # The parent may have died before PDEATHSIG was set.
        if os.getppid() != parent:
            os._exit(137)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        # No descriptor of ours (the request pipe, the reply channel, the
        # wakeup pipe) nor of another agent stays open in an agent.
        os.closerange(3, 1 << 20)
        os.chdir(request["cwd"])
        # configargparse reads the live environment: the agent's own, whole.
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        # A plain start's first path is the folder of the `aca-py` script,
        # not ours.
        sys.path[0] = os.path.dirname(sys.argv[0])
        modules_out = request.get("modules_out")
        if modules_out:
            # For the per-version module lists: what this start loaded.
            atexit.register(
                lambda: open(modules_out, "w").write("\n".join(sorted(sys.modules)) + "\n")
            )
        asyncio.set_event_loop(asyncio.new_event_loop())
        main = sys.modules[package + ".__main__"]
        try:
            main.script_main()
            code = 0
        except SystemExit as e:
            code = exit_code(e)
        except KeyboardInterrupt:
            traceback.print_exc()
            code = 128 + signal.SIGINT
        except BaseException:
            traceback.print_exc()
            code = 1
        # What the interpreter does on its way out: join threads, run
        # atexit handlers, flush.
        try:
            threading._shutdown()
        except BaseException:
            traceback.print_exc()
        atexit._run_exitfuncs()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class Client:
    """One harness run asking for forks: the one on our stdin, or one
    connected to the socket we serve (`--listen`). Its agents are its own:
    their exits are told to it alone, and they go when it goes."""

    def __init__(self, fd, send, pending=b""):
        self.fd = fd
        self.send = send
        self.pending = pending
        self.children = set()

    def reply(self, message):
        import json

        try:
            self.send((json.dumps(message) + "\n").encode())
        except OSError:
            pass  # gone: its end of file is read next


def write_all(fd):
    def send(data):
        while data:
            data = data[os.write(fd, data):]

    return send


def handle(package, parent, client, request, owners):
    import threading

    if "fork" in request:
        # Native threads too (a Rust runtime started by a call into askar
        # would be one): the kernel's count.
        threads = len(os.listdir("/proc/self/task"))
        if threads != 1 or threading.active_count() != 1:
            client.reply({"forked": request["fork"], "error": "the preloader has %d threads: forking it is not safe" % threads})
            return
        import gc

        gc.freeze()
        try:
            pid = os.fork()
        except OSError as e:
            client.reply({"forked": request["fork"], "error": "fork: %s" % e})
            return
        if pid == 0:
            become_agent(package, request, parent)
        client.children.add(pid)
        owners[pid] = client
        client.reply({"forked": request["fork"], "pid": pid})
    elif "signal" in request:
        pid = request["signal"]
        # Only a child of this client not yet reaped: its pid is not reused.
        if pid in client.children:
            try:
                os.killpg(pid, request["number"])
            except ProcessLookupError:
                pass


def listen_on(path):
    import socket

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(16)
    return listener


def serve(package, first, listener=None, ready=None):
    """Serves `first` (the harness on our stdin) until it is gone; with a
    `listener`, `first` is the `serve` command that owns us and every
    connection is a client of its own, greeted with `ready`."""
    import json
    import selectors
    import signal
    import socket

    parent = os.getpid()
    wake_read, wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    # A Python-level handler so that SIGCHLD writes to the wakeup pipe.
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_write)
    selector = selectors.DefaultSelector()
    selector.register(wake_read, selectors.EVENT_READ)
    selector.register(first.fd, selectors.EVENT_READ, first)
    if listener is not None:
        selector.register(listener, selectors.EVENT_READ)
    owners = {}
    clients = [first]
    while True:
        busy = any(b"\n" in c.pending for c in clients)
        # Requests already read (with the module list) are served at once.
        for key, _ in selector.select(0 if busy else None):
            if key.fd == wake_read:
                try:
                    while os.read(wake_read, 512):
                        pass
                except BlockingIOError:
                    pass
            elif listener is not None and key.fd == listener.fileno():
                connection, _ = listener.accept()
                # Only our own user's runs may ask us to fork.
                creds = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
                if int.from_bytes(creds[4:8], sys.byteorder) != os.getuid():
                    connection.close()
                    continue
                connection.set_inheritable(False)
                client = Client(connection.fileno(), connection.sendall)
                client.connection = connection
                clients.append(client)
                selector.register(connection, selectors.EVENT_READ, client)
                client.reply(ready)
            else:
                client = key.data
                chunk = os.read(client.fd, 65536)
                if chunk:
                    client.pending += chunk
                    continue
                if client is first:
                    # The harness (or the serve command) is gone or done:
                    # our children die with us.
                    return
                # A run that ends or dies takes its agents with it, as
                # PDEATHSIG does for those forked for our stdin.
                selector.unregister(client.fd)
                clients.remove(client)
                for pid in client.children:
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                client.connection.close()
        for client in clients:
            while b"\n" in client.pending:
                line, client.pending = client.pending.split(b"\n", 1)
                if line.strip():
                    handle(package, parent, client, json.loads(line), owners)
        # Reap every child that ended, whatever woke us.
        while owners:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            client = owners.pop(pid)
            client.children.discard(pid)
            if client in clients:
                client.reply({"exited": pid, "status": status})


def main():
    import json

    package = sys.argv[1]
    pending = b""
    while b"\n" not in pending:
        chunk = os.read(0, 65536)
        if not chunk:
            return
        pending += chunk
    first, pending = pending.split(b"\n", 1)
    modules = json.loads(first)["preload"]
    try:
        seconds, failed = preload(package, modules)
    except BaseException as e:
        import traceback

        traceback.print_exc()
        reply({"failed": "%s: %s" % (type(e).__name__, e)})
        os._exit(1)
    ready = {
        "ready": os.getpid(),
        "seconds": round(seconds, 3),
        "modules": len(sys.modules),
        "not_imported": failed,
        "threads": len(os.listdir("/proc/self/task")),
        "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
    }
    listener = None
    if sys.argv[2:3] == ["--listen"]:
        import hashlib

        # Listening before we say we are ready: the serve command then
        # tells users the socket is there.
        listener = listen_on(sys.argv[3])
        # Which script and interpreter serve: a run of another build of
        # the harness, or of another venv, starts its own instead.
        with open(__file__, "rb") as f:
            greeting = dict(ready, script=hashlib.sha1(f.read()).hexdigest(), python=sys.executable)
    reply(ready)
    serve(package, Client(0, write_all(REPLY_FD), pending), listener, listener and greeting)
    # No interpreter teardown: unloading 1,700 modules is slow, and on
    # 0.12.x (Python 3.11) it can hang.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
