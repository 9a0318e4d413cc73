#!/usr/bin/env python3
"""The seed flow against two running ACA-Py agents, event-driven: each agent's
admin websocket (GET /ws) is opened once, before the first flow, and every step
that waits reacts to `connections` and `issue_credential_v2_0` events instead
of polling. This is the stricter baseline.

Needs aiohttp, which every ACA-Py venv has: run it with the venv's python.
Usage: seed_flow_events.py ISSUER_ADMIN HOLDER_ADMIN [N=1]

Admin API keys (sent as X-API-Key on requests and on the /ws handshake):
BENCH_ISSUER_KEY and BENCH_HOLDER_KEY, else BENCH_API_KEY for both, else none.
Runs the flow N times, each on a new connection, and prints
`runs=N median_s=... min_s=... max_s=...`.
"""
import asyncio
import os
import sys
import time

import aiohttp

TIMEOUT = 30.0
DIDEXCHANGE = "https://didcomm.org/didexchange/1.0"


class Agent:
    """One agent's admin API plus its event stream, buffered from the moment it opens,
    so an event that arrives before anyone waits for it still counts."""

    def __init__(self, name, url, key):
        self.name = name
        self.url = url.rstrip("/")
        self.headers = {"X-API-Key": key} if key else {}
        self.events = []  # (topic, payload), in arrival order
        self.arrived = asyncio.Condition()

    async def open(self, session):
        self.session = session
        self.ws = await session.ws_connect(self.url + "/ws", headers=self.headers, heartbeat=30)
        # The first message is the `settings` topic; it says whether the key was accepted.
        first = await self.ws.receive_json(timeout=TIMEOUT)
        if first.get("topic") == "settings" and not first.get("payload", {}).get("authenticated", True):
            raise RuntimeError(f"{self.name}: /ws did not accept the admin API key; events would be withheld")
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            event = message.json()
            async with self.arrived:
                self.events.append((event.get("topic"), event.get("payload") or {}))
                self.arrived.notify_all()

    async def event(self, topic, **fields):
        """The first event of this topic whose payload has all these field values."""
        def find():
            for t, payload in self.events:
                if t == topic and all(payload.get(k) == v for k, v in fields.items()):
                    return payload
            return None

        async with self.arrived:
            try:
                return await asyncio.wait_for(self.arrived.wait_for(find), TIMEOUT)
            except asyncio.TimeoutError:
                raise TimeoutError(f"{self.name}: no {topic} event with {fields} in {TIMEOUT} s") from None

    async def post(self, path, body, **query):
        params = {k: str(v) for k, v in query.items()}
        async with self.session.post(self.url + path, json=body, params=params, headers=self.headers,
                                     timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as response:
            response.raise_for_status()
            return await response.json()

    async def close(self):
        await self.ws.close()
        self.reader.cancel()


async def seed_flow(issuer, holder, run):
    # 1. Out-of-band invitation, DID Exchange.
    invitation = await issuer.post("/out-of-band/create-invitation", {
        "alias": "Holder", "handshake_protocols": [DIDEXCHANGE],
        "use_public_did": False, "my_label": "Invitation to Holder"}, auto_accept="true")
    received = await holder.post("/out-of-band/receive-invitation", invitation["invitation"],
                                 auto_accept="true", alias="Issuer", use_existing_connection="true")
    await holder.event("connections", connection_id=received["connection_id"], state="active")
    issuer_conn = (await issuer.event("connections", invitation_msg_id=invitation["invi_msg_id"],
                                      state="active"))["connection_id"]

    # 2. The issuer's signing DID and the offer.
    did = (await issuer.post("/wallet/did/create",
                             {"method": "key", "options": {"key_type": "ed25519"}}))["result"]["did"]
    offer = await issuer.post("/issue-credential-2.0/send-offer", {
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
    issuer_ex = offer["cred_ex_id"]

    # 3. The holder's record for this thread reaches offer-received; it requests.
    holder_ex = (await holder.event("issue_credential_v2_0", thread_id=offer["thread_id"],
                                    state="offer-received"))["cred_ex_id"]
    await holder.post(f"/issue-credential-2.0/records/{holder_ex}/send-request", {})

    # 4. The issuer issues.
    await issuer.event("issue_credential_v2_0", cred_ex_id=issuer_ex, state="request-received")
    await issuer.post(f"/issue-credential-2.0/records/{issuer_ex}/issue", {})

    # 5. The holder stores it.
    await holder.event("issue_credential_v2_0", cred_ex_id=holder_ex, state="credential-received")
    stored = await holder.post(f"/issue-credential-2.0/records/{holder_ex}/store", {})
    state = stored["cred_ex_record"]["state"]
    if state != "done":
        raise RuntimeError(f"store answered state {state!r}")


async def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    shared = os.environ.get("BENCH_API_KEY")
    issuer = Agent("issuer", sys.argv[1], os.environ.get("BENCH_ISSUER_KEY", shared))
    holder = Agent("holder", sys.argv[2], os.environ.get("BENCH_HOLDER_KEY", shared))
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    times = []
    async with aiohttp.ClientSession() as session:
        await issuer.open(session)
        await holder.open(session)
        try:
            for run in range(runs):
                started = time.monotonic()
                await seed_flow(issuer, holder, run)
                times.append(time.monotonic() - started)
        finally:
            await issuer.close()
            await holder.close()
    times.sort()
    print(f"runs={len(times)} median_s={times[len(times) // 2]:.3f} min_s={times[0]:.3f} max_s={times[-1]:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
