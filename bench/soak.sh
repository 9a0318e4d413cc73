#!/usr/bin/env bash
# Soak: the library (scenarios/) on shared agents, ROUNDS times in a row in one
# harness run (`run --rounds`), so the same base agents serve every round. After
# each round the harness prints and logs (JSON lines) the round's wall time, each
# base agent's RSS, open descriptors, sub-wallets left and wallet folders on disk,
# its own RSS and descriptors, and the cases whose verdict changed. This script
# then prints the rounds as a table and checks them: no verdict changed, no
# sub-wallet left, base agents' RSS and descriptors flat (the last round within
# SOAK_RSS_PCT % and SOAK_FD_SLACK descriptors of round 2: round 1 warms up).
#
# Usage: bench/soak.sh [ROUNDS=10] [VERSION=1.3.6] [-- MORE RUN FLAGS]
#   e.g. bench/soak.sh 3 1.7.0 -- -k issue-credential
# Environment: HARNESS (default target/release/acapy-harness, else
#   target/debug/acapy-harness), SOAK_JOBS (-j, default 2), SOAK_DIR (where the
#   round log, console output and JSON report go; default a new temporary
#   folder, kept), SOAK_RSS_PCT (default 10), SOAK_FD_SLACK (default 4).
# Exit: 0 when the checks hold, 1 when one does not, 2 on bad usage.
set -uo pipefail
[ -n "${HARNESS:-}" ] && [ "${HARNESS#/}" = "$HARNESS" ] && [ -e "$HARNESS" ] && HARNESS=$PWD/$HARNESS
cd "$(dirname "$0")/.."

rounds=10; version=1.3.6
[ $# -gt 0 ] && [ "$1" != -- ] && { rounds=$1; shift; }
[ $# -gt 0 ] && [ "$1" != -- ] && { version=$1; shift; }
[ $# -gt 0 ] && [ "$1" = -- ] && shift
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

harness=${HARNESS:-}
if [ -z "$harness" ]; then
  harness=target/release/acapy-harness
  [ -x "$harness" ] || harness=target/debug/acapy-harness
fi
[ -x "$harness" ] || { echo "soak.sh: no harness binary at $harness (cargo build, or set HARNESS)" >&2; exit 1; }
dir=${SOAK_DIR:-$(mktemp -d -t soak.XXXXXX)}
mkdir -p "$dir"
log=$dir/rounds.jsonl
rm -f "$log"

echo "soak.sh: $rounds round(s) of scenarios/ on ACA-Py $version (process, shared agents, -j ${SOAK_JOBS:-2}); output in $dir"
"$harness" run scenarios/ --provider process --acapy "$version" --agents shared \
  -j "${SOAK_JOBS:-2}" --rounds "$rounds" --soak-log "$log" \
  --report-json "$dir/last-round.json" --color never "$@" >"$dir/console.log" 2>&1
rc=$?
grep -E '^acapy-harness: (soak round|  )' "$dir/console.log" || true
echo "soak.sh: the harness exited $rc (1: a case failed in some round; see $dir/console.log)"
[ -s "$log" ] || { echo "soak.sh: no round was logged" >&2; exit 1; }

python3 - "$log" "${SOAK_RSS_PCT:-10}" "${SOAK_FD_SLACK:-4}" <<'EOF'
import json, sys
path, rss_pct, fd_slack = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rounds = [json.loads(line) for line in open(path)]
mib = lambda k: "?" if k is None else f"{k / 1024:.1f}"
print()
print("| round | wall s | verdicts | base agent | pid | RSS MiB | fds | sub-wallets left | wallet folders (MiB) | harness RSS MiB | harness fds | verdicts changed |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rounds:
    verdicts = ", ".join(f"{n} {w}" for w, n in r["verdicts"].items())
    changed = "; ".join(f'{c["case"]}: {c["from"]} -> {c["to"]}' for c in r["changed"]) or "none"
    bases = r["bases"] or [{"label": "(none)", "pid": None, "rss_kib": None, "fds": None, "sub_wallets": None, "wallet_dirs": None}]
    for b in bases:
        left = "?" if b.get("sub_wallets") is None else str(len(b["sub_wallets"]))
        print(f'| {r["round"]} | {r["wall_s"]:.0f} | {verdicts} | {b["label"]} | {b["pid"]} | {mib(b["rss_kib"])} | {b["fds"]} | {left} | {b.get("wallet_dirs")} ({mib((b.get("wallet_bytes") or 0) / 1024)}) | {mib(r["harness"]["rss_kib"])} | {r["harness"]["fds"]} | {changed} |')
problems = []
for r in rounds:
    for c in r["changed"]:
        problems.append(f'round {r["round"]}: {c["case"]} went from {c["from"]} to {c["to"]}')
    for b in r["bases"]:
        if b.get("sub_wallets") is None:
            problems.append(f'round {r["round"]}: the sub-wallets of {b["label"]} could not be listed')
        elif b["sub_wallets"]:
            problems.append(f'round {r["round"]}: {len(b["sub_wallets"])} sub-wallet(s) left on {b["label"]}: {", ".join(b["sub_wallets"])}')
# Flat: the same base agent (pid) from round 2 to the last.
if len(rounds) >= 3:
    first, last = rounds[1], rounds[-1]
    for b in last["bases"]:
        before = next((x for x in first["bases"] if x["pid"] == b["pid"]), None)
        if before is None:
            problems.append(f'{b["label"]}: base agent {b["pid"]} was not there in round 2 (a new base agent was started)')
            continue
        if before["rss_kib"] and b["rss_kib"] and b["rss_kib"] > before["rss_kib"] * (1 + rss_pct / 100):
            problems.append(f'{b["label"]}: RSS grew from {mib(before["rss_kib"])} to {mib(b["rss_kib"])} MiB (rounds 2 to {last["round"]})')
        if before["fds"] is not None and b["fds"] is not None and b["fds"] > before["fds"] + fd_slack:
            problems.append(f'{b["label"]}: descriptors grew from {before["fds"]} to {b["fds"]} (rounds 2 to {last["round"]})')
print()
if problems:
    print("soak: NOT flat:")
    for p in problems:
        print(f"  - {p}")
    sys.exit(1)
print(f"soak: {len(rounds)} round(s): no verdict changed, no sub-wallet left" + (", base agents' RSS and descriptors flat from round 2 on" if len(rounds) >= 3 else " (3 rounds or more to judge RSS and descriptors)"))
EOF
