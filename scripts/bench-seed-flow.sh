#!/usr/bin/env bash
# The seed flow, timed three ways on the same two running agents, alternating:
# acapy-harness (`bench` subcommand, external provider), the polling baseline
# (seed_flow.py) and the event-driven baseline (seed_flow_controller.py).
# Prints each round's medians and the ratios harness / baseline.
#
# Usage: scripts/bench-seed-flow.sh [ROUNDS=3] [RUNS=10] [VERSION=1.3.6]
# Needs: ../shared/bench (or BENCH_DIR), a built acapy-harness (HARNESS).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; runs=${2:-10}; version=${3:-1.3.6}
bench_dir=${BENCH_DIR:-../shared/bench}
harness=${HARNESS:-target/release/acapy-harness}
cache=${ACAPY_HARNESS_CACHE:-$HOME/.cache/acapy-harness}
port=${BASEPORT:-18020}

"$harness" install --acapy "$version" >/dev/null
venv="$cache/venvs/acapy-$version"
# The event-driven baseline needs acapy-controller, in a venv of its own.
controller_venv="$cache/bench-controller"
if [ ! -x "$controller_venv/bin/python" ]; then
  "$venv/bin/python" -m venv "$controller_venv"
  "$controller_venv/bin/pip" install -q --disable-pip-version-check acapy-controller==0.3.0
fi

logs=$(mktemp -d)
pids=$(LOGDIR=$logs "$bench_dir/agents.sh" "$venv" "$port")
trap 'kill $pids 2>/dev/null; rm -rf "$logs"' EXIT
issuer=http://127.0.0.1:$((port + 1)); holder=http://127.0.0.1:$((port + 11))

median() { sed -n 's/.*median_s=\([0-9.]*\).*/\1/p'; }
for round in $(seq 1 "$rounds"); do
  h=$("$harness" bench scenarios/issue-credential-v2/seed-flow.yaml \
        --agent-url issuer=$issuer --agent-url holder=$holder -n "$runs" | median)
  p=$(python3 "$bench_dir/seed_flow.py" "$issuer" "$holder" "$runs" | median)
  c=$("$controller_venv/bin/python" "$bench_dir/seed_flow_controller.py" "$issuer" "$holder" "$runs" | median)
  awk -v r="$round" -v h="$h" -v p="$p" -v c="$c" 'BEGIN {
    printf "round %d: harness %.3fs  polling %.3fs  event-driven %.3fs  | harness/polling %.2f  harness/event-driven %.2f\n",
      r, h, p, c, h / p, h / c }'
done
