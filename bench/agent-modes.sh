#!/usr/bin/env bash
# The scenario library on shared and on dedicated agents, alternating, in the
# same run on the same machine: wall time of each run, the ratio
# shared / dedicated per round, and the peak memory of the whole process tree
# (the harness and every ACA-Py it started, summed).
#
# Usage: bench/agent-modes.sh [ROUNDS=3] [VERSIONS=0.12.8,1.3.6,1.7.0] [JOBS=2]
# Needs: a built acapy-harness (HARNESS, default target/release/acapy-harness)
# and the versions installed (`acapy-harness install --acapy VERSIONS`).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; versions=${2:-0.12.8,1.3.6,1.7.0}; jobs=${3:-2}
harness=${HARNESS:-target/release/acapy-harness}
"$harness" install --acapy "$versions" >/dev/null

# Runs the library once; prints "SECONDS PEAK_MIB".
measure() {
  python3 - "$harness" "$versions" "$jobs" "$1" <<'PY'
import os, subprocess, sys, time
harness, versions, jobs, mode = sys.argv[1:]
def tree_rss_kib(root):
    children = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(pid))
        except OSError:
            pass
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total
cmd = [harness, "run", "scenarios/", "--provider", "process", "--acapy", versions,
       "-j", jobs, "--agents", mode]
started = time.monotonic()
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peak = 0
while proc.poll() is None:
    peak = max(peak, tree_rss_kib(proc.pid))
    time.sleep(0.1)
elapsed = time.monotonic() - started
if proc.returncode != 0:
    sys.exit(f"{mode} run exited {proc.returncode}")
print(f"{elapsed:.1f} {peak / 1024:.0f}")
PY
}

echo "library on $versions, -j $jobs, $rounds round(s), dedicated then shared each round"
for round in $(seq 1 "$rounds"); do
  read -r d_s d_mib < <(measure dedicated)
  read -r s_s s_mib < <(measure shared)
  awk -v r="$round" -v ds="$d_s" -v dm="$d_mib" -v ss="$s_s" -v sm="$s_mib" 'BEGIN {
    printf "round %d: dedicated %.1fs (peak %d MiB)  shared %.1fs (peak %d MiB)  | shared/dedicated %.2f\n",
      r, ds, dm, ss, sm, ss / ds }'
done
