#!/usr/bin/env bash
# An agent's start to ready, forked from the preloader against a plain
# `aca-py start`, alternating, medians, per version; a restart step
# (SIGKILL, exit, fork on the same wallet); PSS per agent. Then a cold
# seed-flow case on dedicated and on shared agents, `--agent-start plain`
# against `preloaded`, alternating, and forked from a `preload serve`
# started before the run: the whole run's wall time (which includes the
# preloader's imports, once a run, unless it is served) and each case's own
# time (from the JSON report).
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

# A `preload serve` of VERSION, until stop_serving.
serve_pid=
start_serving() {
  "$harness" preload serve --acapy "$1" > "$work/serve.out" 2>&1 &
  serve_pid=$!
  until grep -q "serving at" "$work/serve.out"; do
    kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.out"; exit 1; }
    sleep 0.1
  done
}
stop_serving() { kill -TERM "$serve_pid"; wait "$serve_pid" || true; serve_pid=; }
work=$(mktemp -d)
trap '[ -n "$serve_pid" ] && kill -TERM "$serve_pid"; rm -rf "$work"' EXIT

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for version in ${versions//,/ }; do
  for mode in dedicated shared; do
    declare -A case_s=() wall_s=()
    for round in $(seq 1 "$rounds"); do
      # plain and preloaded (this run's own preloader) alternate; served
      # (forked from a `preload serve` started before the run) after them.
      order="plain preloaded"; [ $((round % 2)) -eq 0 ] && order="preloaded plain"
      for how in $order served; do
        [ "$how" = served ] && start_serving "$version"
        read -r c w < <(seed_case "$version" "$mode" "${how/served/preloaded}")
        [ "$how" = served ] && stop_serving
        case_s[$how]+="$c "; wall_s[$how]+="$w "
      done
    done
    m() { median ${1}; }
    printf "ACA-Py %s seed flow, %s agents, cold, medians of %s: run wall plain %.2fs, preloaded %.2fs (%.2f), served %.2fs (%.2f); the case alone %.2fs, %.2fs, %.2fs\n" \
      "$version" "$mode" "$rounds" \
      "$(m "${wall_s[plain]}")" "$(m "${wall_s[preloaded]}")" \
      "$(ratio "$(m "${wall_s[preloaded]}")" "$(m "${wall_s[plain]}")")" \
      "$(m "${wall_s[served]}")" "$(ratio "$(m "${wall_s[served]}")" "$(m "${wall_s[plain]}")")" \
      "$(m "${case_s[plain]}")" "$(m "${case_s[preloaded]}")" "$(m "${case_s[served]}")"
  done
done
