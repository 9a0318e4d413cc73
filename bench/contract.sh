#!/usr/bin/env bash
# What checking the contract costs: the scenario library with `--contract
# off` and `--contract warn` (the default), alternating in the same run on
# the same machine, the documents already cached (a first run fetches
# them). Prints each run's wall time, the ratio warn / off per round, and
# the median ratio.
#
# Usage: bench/contract.sh [ROUNDS=5] [VERSION=1.3.6] [JOBS=2]
# Needs: a built acapy-harness (HARNESS, default target/release/acapy-harness).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}; version=${2:-1.3.6}; jobs=${3:-2}
harness=${HARNESS:-target/release/acapy-harness}
"$harness" install --acapy "$version" >/dev/null

run() {
  local started ended
  started=$(date +%s.%N)
  "$harness" run scenarios/ --provider process --acapy "$version" -j "$jobs" \
    --contract "$1" >/dev/null 2>&1 || { echo "the $1 run failed" >&2; exit 1; }
  ended=$(date +%s.%N)
  echo "$ended - $started" | bc
}

run warn >/dev/null   # warm-up: venv, page cache, cached documents
echo "library on $version, -j $jobs, $rounds round(s), off then warn each round"
ratios=()
for round in $(seq 1 "$rounds"); do
  if (( round % 2 )); then off=$(run off); warn=$(run warn)
  else warn=$(run warn); off=$(run off); fi
  ratio=$(echo "scale=3; $warn / $off" | bc)
  ratios+=("$ratio")
  printf 'round %d: off %.1fs  warn %.1fs  | warn/off %s\n' "$round" "$off" "$warn" "$ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ r[NR] = $1 } END {
  printf "median warn/off: %s (min %s, max %s)\n", r[int((NR + 1) / 2)], r[1], r[NR] }'
