"""A tails-file server for ACA-Py's revocation, on Python's standard library.

ACA-Py uploads a revocation registry's tails file with
``PUT {--tails-server-upload-url}/{name}`` and writes
``{--tails-server-base-url}/{name}`` into the registry definition, where
holders download it from. Two shapes of name are used:

* ``/{rev_reg_id}``: wallets of type ``askar`` (the "indy" revocation code).
  The body is multipart/form-data with a ``genesis`` field (the ledger's
  genesis transactions, ignored here) and a ``tails`` field (the file).
* ``/hash/{tails_hash}``: wallets of type ``askar-anoncreds``. The body is
  multipart/form-data with the ``tails`` field only. The name is the
  base58 SHA-256 of the file, which is checked here: a file that does not
  match its name is refused (400).

The ``tails`` field's bytes are stored exactly and served back by
``GET`` on the same path (application/octet-stream). A plain body (any
other Content-Type) is taken as the file itself. A second upload of the same
name answers 200 if the bytes are the same and 409 Conflict if not (ACA-Py
counts 409 as done, as with indy-tails-server). ``GET /ready`` answers 200.

Usage: python3 tails_server.py [--host 0.0.0.0] [--port 6543]
       [--dir /var/lib/tails] [--max-size MiB]
(environment: TAILS_SERVER_HOST, TAILS_SERVER_PORT, TAILS_SERVER_DIR,
TAILS_SERVER_MAX_MIB). Files are kept in the folder, one per name.
"""

import argparse
import hashlib
import os
import re
import signal
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# A rev_reg_id (DID:4:DID:3:CL:SEQ:TAG:CL_ACCUM:TAG) or any name without a
# slash, control characters or a leading dot.
NAME = re.compile(r"^[^/\x00-\x1f.][^/\x00-\x1f]{0,254}$")
HASH = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,50}$")


def say(message):
    print(f"tails-server: {message}", file=sys.stderr, flush=True)


def b58encode(data):
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = B58_ALPHABET[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def multipart_field(body, content_type, wanted):
    """The bytes of field `wanted` of a multipart/form-data body, or None.
    Parsed by hand so the bytes stay exactly as sent."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ValueError("multipart body without a boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    # The body is: preamble, --B, part, CRLF--B, part, ..., CRLF--B--.
    start = body.find(delimiter)
    if start < 0:
        raise ValueError("multipart body without its boundary")
    position = start + len(delimiter)
    while True:
        if body[position:position + 2] == b"--":
            return None  # the closing delimiter
        if body[position:position + 2] != b"\r\n":
            raise ValueError("malformed multipart delimiter line")
        headers_end = body.find(b"\r\n\r\n", position + 2)
        if headers_end < 0:
            raise ValueError("multipart part without the end of its headers")
        headers = body[position + 2:headers_end].decode("latin-1")
        content_start = headers_end + 4
        content_end = body.find(b"\r\n" + delimiter, content_start)
        if content_end < 0:
            raise ValueError("multipart part without a closing boundary")
        for line in headers.split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                name = re.search(r'(?:^|;)\s*name="([^"]*)"', value)
                if name and name.group(1) == wanted:
                    return body[content_start:content_end]
        position = content_end + 2 + len(delimiter)


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
    server_version = "acapy-harness-tails-server"
    protocol_version = "HTTP/1.1"
    folder = None
    max_size = None
    lock = threading.Lock()

    def log_message(self, *args):  # uploads and refusals are logged by say()
        pass

    def answer(self, status, text, body=None, content_type="text/plain; charset=utf-8"):
        data = body if body is not None else (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def target(self):
        """(file path, name, is_hash) for this request's path, or None."""
        path = unquote(self.path.split("?", 1)[0])
        is_hash = path.startswith("/hash/")
        name = path[len("/hash/"):] if is_hash else path[1:]
        if not NAME.match(name) or (is_hash and not HASH.match(name)):
            return None
        # Names are quoted into file names: safe whatever they hold.
        file_name = ("hash-" if is_hash else "id-") + quote(name, safe="")
        return os.path.join(self.folder, file_name), name, is_hash

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.path.split("?", 1)[0] in ("/ready", "/health"):
            self.answer(200, "ready")
            return
        target = self.target()
        if target is None:
            self.answer(404, "not a tails file name")
            return
        try:
            with open(target[0], "rb") as f:
                data = f.read()
        except FileNotFoundError:
            self.answer(404, f"no tails file {target[1]}")
            return
        self.answer(200, "", data, "application/octet-stream")
        say(f"served {self.path} ({len(data)} bytes) to {self.client_address[0]}")

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > self.max_size:
                    raise OverflowError
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.max_size:
            raise OverflowError
        return self.rfile.read(length)

    def do_PUT(self):
        target = self.target()
        if target is None:
            self.close_connection = True
            self.answer(400, "PUT /REV_REG_ID or /hash/TAILS_HASH")
            return
        path, name, is_hash = target
        try:
            body = self.read_body()
        except OverflowError:
            self.close_connection = True
            self.answer(413, f"larger than {self.max_size} bytes")
            return
        except ValueError:
            self.close_connection = True
            self.answer(400, "malformed chunked body")
            return
        content_type = self.headers.get("Content-Type", "")
        if content_type.lower().startswith("multipart/form-data"):
            try:
                data = multipart_field(body, content_type, "tails")
            except ValueError as error:
                self.answer(400, str(error))
                return
            if data is None:
                self.answer(400, "no `tails` field in the form")
                return
        else:
            data = body
        if not data:
            self.answer(400, "empty tails file")
            return
        digest = b58encode(hashlib.sha256(data).digest())
        if is_hash and digest != name:
            say(f"refused /hash/{name}: the file's hash is {digest}")
            self.answer(400, f"the file's base58 SHA-256 is {digest}, not {name}")
            return
        with self.lock:
            if os.path.exists(path):
                with open(path, "rb") as f:
                    same = f.read() == data
                if same:
                    self.answer(200, "already there")
                else:
                    say(f"refused a different file for {name} (409)")
                    self.answer(409, f"{name} is already there, with other bytes")
                return
            fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(temporary, 0o644)
            os.rename(temporary, path)
        say(f"stored {'/hash/' if is_hash else '/'}{name} ({len(data)} bytes, sha256 {digest})")
        self.answer(200, digest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("TAILS_SERVER_HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("TAILS_SERVER_PORT", "6543")))
    parser.add_argument("--dir", default=os.environ.get("TAILS_SERVER_DIR", "/var/lib/tails"))
    parser.add_argument("--max-size", type=int, metavar="MiB",
                        default=int(os.environ.get("TAILS_SERVER_MAX_MIB", "256")))
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    Handler.folder = args.dir
    Handler.max_size = args.max_size * 1024 * 1024
    server = Server((args.host, args.port), Handler)

    def stop(number, _frame):
        say(f"stopping on {signal.Signals(number).name}")
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    say(f"ready: listening on {args.host}:{args.port}, files in {args.dir}")
    server.serve_forever()


if __name__ == "__main__":
    main()
