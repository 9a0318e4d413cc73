#!/usr/bin/env bash
# Starts two ACA-Py agents for the seed-flow benchmark, from a venv that has ACA-Py:
#   issuer: DIDComm BASEPORT,    admin BASEPORT+1
#   holder: DIDComm BASEPORT+10, admin BASEPORT+11
# Each agent gets a generated admin API key and a random RAW wallet key, both passed
# in the environment (ACAPY_ADMIN_API_KEY, ACAPY_WALLET_KEY), never on the command
# line, and a HOME of its own under LOGDIR (ACA-Py keeps its wallet under $HOME).
# Both listen on 127.0.0.1 only.
#
# Usage: LOGDIR=DIR bench/agents.sh VENV [BASEPORT=8020]
# When both answer /status/ready, writes LOGDIR/agents.env (mode 600) and prints it:
#   BENCH_PIDS="PID PID"
#   ISSUER_ADMIN=http://127.0.0.1:... ISSUER_KEY=...
#   HOLDER_ADMIN=http://127.0.0.1:... HOLDER_KEY=...
# Source it (or eval the output). Killing the pids and removing LOGDIR is the
# caller's job; if the agents do not get ready, this script kills them itself.
set -euo pipefail
venv=${1:?usage: agents.sh VENV [BASEPORT]}; base=${2:-8020}
logdir=${LOGDIR:-$(mktemp -d)}; mkdir -p "$logdir"
py=$venv/bin/python
[ -x "$venv/bin/aca-py" ] || { echo "agents.sh: no aca-py in $venv/bin" >&2; exit 1; }

# A RAW wallet key is the base58 encoding of 32 random bytes. ACA-Py's venvs have
# the base58 package; the fallback encoder is for a venv that does not.
random_key() {
  "$py" - <<'PY'
import os
raw = os.urandom(32)
try:
    import base58
    print(base58.b58encode(raw).decode())
except ImportError:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n, out = int.from_bytes(raw, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = alphabet[r] + out
    print("1" * (len(raw) - len(raw.lstrip(b"\0"))) + out)
PY
}
api_key() { "$py" -c 'import secrets; print(secrets.token_hex(32))'; }

pids=()
cleanup_on_failure() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null; true; }
trap cleanup_on_failure ERR INT TERM

declare -A admin key
for role in issuer holder; do
  port=$base; [ "$role" = holder ] && port=$((base + 10))
  home=$logdir/home-$role; mkdir -p "$home"
  admin[$role]=http://127.0.0.1:$((port + 1))
  key[$role]=$(api_key)
  HOME=$home ACAPY_ADMIN_API_KEY=${key[$role]} ACAPY_WALLET_KEY=$(random_key) \
    "$venv/bin/aca-py" start --label "$role" \
      --inbound-transport http 127.0.0.1 "$port" --outbound-transport http \
      --endpoint "http://127.0.0.1:$port" --admin 127.0.0.1 $((port + 1)) \
      --no-ledger --wallet-type askar --wallet-name "bench-$role-$$-$RANDOM" \
      --wallet-key-derivation-method RAW --auto-provision --log-level warning \
      >"$logdir/$role.log" 2>&1 &
  pids+=($!)
done

ready() { curl -sf -H "X-API-Key: ${key[$1]}" "${admin[$1]}/status/ready" >/dev/null; }
for _ in $(seq 1 360); do
  if ready issuer && ready holder; then
    umask 077
    cat >"$logdir/agents.env" <<ENV
BENCH_PIDS="${pids[*]}"
ISSUER_ADMIN=${admin[issuer]}
ISSUER_KEY=${key[issuer]}
HOLDER_ADMIN=${admin[holder]}
HOLDER_KEY=${key[holder]}
ENV
    cat "$logdir/agents.env"
    exit 0
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "agents.sh: an agent exited; see $logdir/*.log" >&2; tail -n 20 "$logdir"/*.log >&2; cleanup_on_failure; exit 1; }
  done
  sleep 0.25
done
echo "agents.sh: agents not ready after 90 s; see $logdir/*.log" >&2
cleanup_on_failure
exit 1
