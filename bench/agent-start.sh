#!/usr/bin/env bash
# An agent's start to ready, forked from the preloader against a plain
# `aca-py start`, alternating, medians, per version; a restart step
# (SIGKILL, exit, fork on the same wallet); PSS per agent. Then a cold
# seed-flow case on dedicated and on shared agents, `--agent-start plain`
# against `preloaded`, alternating: each case's own time (from the JSON
# report) and the whole run's wall time (which includes the preloader's
# imports, once a run).
#
# Usage: bench/agent-start.sh [ROUNDS=5] [VERSIONS=0.12.8,1.3.6,1.7.0]
# Needs: a built acapy-harness (HARNESS, default target/release/acapy-harness)
# and the versions installed (`acapy-harness install --acapy VERSIONS`).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}; versions=${2:-0.12.8,1.3.6,1.7.0}
harness=${HARNESS:-target/release/acapy-harness}
"$harness" install --acapy "$versions" >/dev/null
cache=${ACAPY_HARNESS_CACHE:-$HOME/.cache/acapy-harness}

for version in ${versions//,/ }; do
  venv="$cache/venvs/acapy-$version"
  "$venv/bin/python" bench/agent_start.py "$venv" "$version" "$rounds"
done

# One seed-flow case per run: "CASE_SECONDS WALL_SECONDS".
seed_case() {
  python3 - "$harness" "$1" "$2" "$3" <<'PY'
import json, subprocess, sys, tempfile, time, os
harness, version, mode, how = sys.argv[1:]
with tempfile.TemporaryDirectory() as d:
    report = os.path.join(d, "r.json")
    started = time.monotonic()
    subprocess.run([harness, "run", "scenarios/issue-credential-v2/seed-flow.yaml",
                    "--provider", "process", "--acapy", version, "--agents", mode,
                    "--agent-start", how, "--report-json", report],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - started
    case = json.load(open(report))["cases"][0]
    print("%.2f %.2f" % (case["duration_ms"] / 1000, wall))
PY
}

for version in ${versions//,/ }; do
  for mode in dedicated shared; do
    plain=(); preloaded=(); plain_wall=(); preloaded_wall=()
    for round in $(seq 1 "$rounds"); do
      order="plain preloaded"; [ $((round % 2)) -eq 0 ] && order="preloaded plain"
      for how in $order; do
        read -r case_s wall_s < <(seed_case "$version" "$mode" "$how")
        if [ "$how" = plain ]; then plain+=("$case_s"); plain_wall+=("$wall_s");
        else preloaded+=("$case_s"); preloaded_wall+=("$wall_s"); fi
      done
    done
    median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
    awk -v v="$version" -v m="$mode" -v p="$(median "${plain[@]}")" -v q="$(median "${preloaded[@]}")" \
        -v pw="$(median "${plain_wall[@]}")" -v qw="$(median "${preloaded_wall[@]}")" 'BEGIN {
      printf "ACA-Py %s seed flow, %s agents, cold: case plain %.2fs preloaded %.2fs (%.2f)  run wall plain %.2fs preloaded %.2fs\n",
        v, m, p, q, q / p, pw, qw }'
  done
done
