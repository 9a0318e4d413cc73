#!/usr/bin/env bash
# The seed flow timed three ways on the same two running agents, alternating in
# each round: acapy-harness's `bench` subcommand (scenarios/issue-credential-v2/
# seed-flow.yaml, external provider), the polling baseline (seed_flow_polling.py)
# and the event-driven baseline (seed_flow_events.py). Prints each round's medians
# and the ratios harness/polling and harness/event-driven.
#
# Usage: bench/seed-flow.sh [ROUNDS=3] [RUNS=10] [VERSION=1.3.6]
# Environment: HARNESS (default target/release/acapy-harness), BASEPORT (18020),
#              ACAPY_HARNESS_CACHE (where `install` puts the venvs).
set -euo pipefail
# HARNESS, when given, is taken relative to where the script was started from.
[ -n "${HARNESS:-}" ] && [ "${HARNESS#/}" = "$HARNESS" ] && [ -e "$HARNESS" ] && HARNESS=$PWD/$HARNESS
cd "$(dirname "$0")/.."
rounds=${1:-3}; runs=${2:-10}; version=${3:-1.3.6}
harness=${HARNESS:-target/release/acapy-harness}
cache=${ACAPY_HARNESS_CACHE:-$HOME/.cache/acapy-harness}
port=${BASEPORT:-18020}
scenario=scenarios/issue-credential-v2/seed-flow.yaml

[ -x "$harness" ] || { echo "seed-flow.sh: no harness binary at $harness (cargo build --release, or set HARNESS)" >&2; exit 1; }
"$harness" install --acapy "$version" >/dev/null
venv=$cache/venvs/acapy-$version

logs=$(mktemp -d)
BENCH_PIDS=""
stop_agents() {
  [ -n "$BENCH_PIDS" ] && kill $BENCH_PIDS 2>/dev/null
  for _ in $(seq 1 40); do kill -0 $BENCH_PIDS 2>/dev/null || break; sleep 0.25; done
  rm -rf "$logs"
}
trap stop_agents EXIT
trap 'exit 130' INT TERM
LOGDIR=$logs bench/agents.sh "$venv" "$port" >/dev/null
# shellcheck disable=SC1091
. "$logs/agents.env"
export BENCH_ISSUER_KEY=$ISSUER_KEY BENCH_HOLDER_KEY=$HOLDER_KEY
echo "ACA-Py $version: issuer $ISSUER_ADMIN, holder $HOLDER_ADMIN; $rounds round(s) of $runs run(s) each"

# Each timing prints `runs=N median_s=...`; a run that fails prints its error on
# stderr and leaves its median empty ("failed" below) without stopping the others.
status=0
median() { sed -n 's/.*median_s=\([0-9.]*\).*/\1/p'; }
for round in $(seq 1 "$rounds"); do
  h=$("$harness" bench "$scenario" \
        --agent-url "issuer=$ISSUER_ADMIN" --agent-key "issuer=$ISSUER_KEY" \
        --agent-url "holder=$HOLDER_ADMIN" --agent-key "holder=$HOLDER_KEY" -n "$runs" | median || true)
  p=$(python3 bench/seed_flow_polling.py "$ISSUER_ADMIN" "$HOLDER_ADMIN" "$runs" | median || true)
  e=$("$venv/bin/python" bench/seed_flow_events.py "$ISSUER_ADMIN" "$HOLDER_ADMIN" "$runs" | median || true)
  awk -v r="$round" -v h="$h" -v p="$p" -v e="$e" '
    function t(x) { return x == "" ? "failed" : sprintf("%.3fs", x) }
    function q(a, b) { return (a == "" || b == "") ? "n/a" : sprintf("%.2f", a / b) }
    BEGIN { printf "round %d: harness %s  polling %s  event-driven %s  | harness/polling %s  harness/event-driven %s\n",
      r, t(h), t(p), t(e), q(h, p), q(h, e) }'
  [ -n "$h$p$e" ] || { echo "seed-flow.sh: every timing failed in round $round; stopping" >&2; exit 1; }
  [ -n "$h" ] && [ -n "$p" ] && [ -n "$e" ] || status=1
done
exit $status
