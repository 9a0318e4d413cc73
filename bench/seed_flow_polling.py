#!/usr/bin/env python3
"""The seed flow against two running ACA-Py agents, the way a quick hand-written
controller does it: Python's standard library only, polling every 10 ms.

Usage: seed_flow_polling.py ISSUER_ADMIN HOLDER_ADMIN [N=1]

Admin API keys (sent as X-API-Key): BENCH_ISSUER_KEY and BENCH_HOLDER_KEY, else
BENCH_API_KEY for both, else none. Runs the flow N times, each on a new
connection, and prints `runs=N median_s=... min_s=... max_s=...`.
"""
import json
import os
import sys
import time
import urllib.parse
import urllib.request

POLL_EVERY = 0.01
TIMEOUT = 30.0
DIDEXCHANGE = "https://didcomm.org/didexchange/1.0"


class Agent:
    def __init__(self, url, key):
        self.url = url.rstrip("/")
        self.headers = {"Content-Type": "application/json"}
        if key:
            self.headers["X-API-Key"] = key

    def call(self, method, path, body=None, **query):
        if query:
            path += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=self.headers)
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.loads(response.read() or b"null")

    def get(self, path, **query):
        return self.call("GET", path, **query)

    def post(self, path, body, **query):
        return self.call("POST", path, body, **query)


def poll(what, fetch, done):
    """Calls fetch() every POLL_EVERY seconds until done(value) holds; returns that value."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not reached in {TIMEOUT} s; last seen {value!r}")
        time.sleep(POLL_EVERY)


def exchange_state(record):
    return record["cred_ex_record"]["state"]


def seed_flow(issuer, holder, run):
    # 1. Out-of-band invitation, DID Exchange.
    invitation = issuer.post("/out-of-band/create-invitation", {
        "alias": "Holder", "handshake_protocols": [DIDEXCHANGE],
        "use_public_did": False, "my_label": "Invitation to Holder"}, auto_accept="true")
    received = holder.post("/out-of-band/receive-invitation", invitation["invitation"],
                           auto_accept="true", alias="Issuer", use_existing_connection="true")
    holder_conn = received["connection_id"]
    poll("holder's connection active", lambda: holder.get(f"/connections/{holder_conn}"),
         lambda c: c["state"] == "active")
    issuer_conns = poll("issuer's connection active",
                        lambda: issuer.get("/connections", invitation_msg_id=invitation["invi_msg_id"])["results"],
                        lambda cs: any(c["state"] == "active" for c in cs))
    issuer_conn = next(c for c in issuer_conns if c["state"] == "active")["connection_id"]

    # 2. The issuer's signing DID and the offer.
    did = issuer.post("/wallet/did/create", {"method": "key", "options": {"key_type": "ed25519"}})["result"]["did"]
    offer = issuer.post("/issue-credential-2.0/send-offer", {
        "connection_id": issuer_conn,
        "filter": {"ld_proof": {
            "credential": {
                "@context": ["https://www.w3.org/2018/credentials/v1", {"@vocab": "https://example.org/vocab#"}],
                "type": ["VerifiableCredential"],
                "issuer": did,
                "issuanceDate": "2026-01-01T00:00:00Z",
                "credentialSubject": {"name": f"Alice {run}"},
            },
            "options": {"proofType": "Ed25519Signature2018"},
        }},
    })
    issuer_ex, thread_id = offer["cred_ex_id"], offer["thread_id"]

    # 3. The holder finds the offer by thread and requests the credential.
    records = poll("holder's offer-received",
                   lambda: holder.get("/issue-credential-2.0/records", thread_id=thread_id)["results"],
                   lambda rs: any(exchange_state(r) == "offer-received" for r in rs))
    holder_ex = next(r for r in records if exchange_state(r) == "offer-received")["cred_ex_record"]["cred_ex_id"]
    holder.post(f"/issue-credential-2.0/records/{holder_ex}/send-request", {})

    # 4. The issuer issues.
    poll("issuer's request-received", lambda: issuer.get(f"/issue-credential-2.0/records/{issuer_ex}"),
         lambda r: exchange_state(r) == "request-received")
    issuer.post(f"/issue-credential-2.0/records/{issuer_ex}/issue", {})

    # 5. The holder stores it.
    poll("holder's credential-received", lambda: holder.get(f"/issue-credential-2.0/records/{holder_ex}"),
         lambda r: exchange_state(r) == "credential-received")
    stored = holder.post(f"/issue-credential-2.0/records/{holder_ex}/store", {})
    if exchange_state(stored) != "done":
        raise RuntimeError(f"store answered state {exchange_state(stored)!r}")


def summary(times):
    times = sorted(times)
    return f"runs={len(times)} median_s={times[len(times) // 2]:.3f} min_s={times[0]:.3f} max_s={times[-1]:.3f}"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    shared = os.environ.get("BENCH_API_KEY")
    issuer = Agent(sys.argv[1], os.environ.get("BENCH_ISSUER_KEY", shared))
    holder = Agent(sys.argv[2], os.environ.get("BENCH_HOLDER_KEY", shared))
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    times = []
    for run in range(runs):
        started = time.monotonic()
        seed_flow(issuer, holder, run)
        times.append(time.monotonic() - started)
    print(summary(times))


if __name__ == "__main__":
    main()
