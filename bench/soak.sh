#!/usr/bin/env bash
# Soak: the library (scenarios/) on shared agents, ROUNDS times in a row in one
# harness run (`run --rounds`), so the same base agents serve every round. After
# each round the harness prints and logs (JSON lines) the round's wall time, each
# base agent's RSS, open descriptors, sub-wallets left and wallet folders on disk,
# its own RSS and descriptors, and the cases whose verdict changed. This script
# then prints the rounds as a table and checks them: no verdict changed, no
# sub-wallet left, and each base agent flat over rounds 2 to N (round 1 warms
# up): its RSS, fitted by least squares, grows by less than SOAK_RSS_PCT % of
# round 2's over those rounds, and the peak of sockets and of descriptors other
# than wallet files in the later half of them is within SOAK_FD_SLACK of the
# earlier half's (a removed sub-wallet's store stays open until Python collects
# it, so wallet files come and go). It also prints the RSS slope
# per round, and each failure of each round.
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
print("| round | wall s | verdicts | base agent | pid | RSS MiB | fds (sockets, wallet files) | sub-wallets left | wallet folders (MiB) | harness RSS MiB | harness fds | verdicts changed |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rounds:
    verdicts = ", ".join(f"{n} {w}" for w, n in r["verdicts"].items())
    changed = "; ".join(f'{c["case"]}: {c["from"]} -> {c["to"]}' for c in r["changed"]) or "none"
    bases = r["bases"] or [{"label": "(none)", "pid": None, "rss_kib": None, "fds": None, "sub_wallets": None, "wallet_dirs": None}]
    for b in bases:
        left = "?" if b.get("sub_wallets") is None else str(len(b["sub_wallets"]))
        print(f'| {r["round"]} | {r["wall_s"]:.0f} | {verdicts} | {b["label"]} | {b["pid"]} | {mib(b["rss_kib"])} | {b["fds"]} ({b.get("sockets")}, {b.get("wallet_files")}) | {left} | {b.get("wallet_dirs")} ({mib((b.get("wallet_bytes") or 0) / 1024)}) | {mib(r["harness"]["rss_kib"])} | {r["harness"]["fds"]} | {changed} |')
problems = []
for r in rounds:
    for f in r.get("failed", []):
        print(f'round {r["round"]}: {f["case"]} failed: {f["why"]}')
    for c in r["changed"]:
        problems.append(f'round {r["round"]}: {c["case"]} went from {c["from"]} to {c["to"]}')
    for b in r["bases"]:
        if b.get("sub_wallets") is None:
            problems.append(f'round {r["round"]}: the sub-wallets of {b["label"]} could not be listed')
        elif b["sub_wallets"]:
            problems.append(f'round {r["round"]}: {len(b["sub_wallets"])} sub-wallet(s) left on {b["label"]}: {", ".join(b["sub_wallets"])}')
# Flat: for the same base agent (pid) over rounds 2 to N (round 1 warms up),
# the highest figure of the later half is not above the highest of the earlier
# half by more than the slack. Descriptors rise and fall within a round (ACA-Py
# keeps up to 100 sub-wallets' stores open), so a peak is compared, not a
# round's figure; a steady climb still shows. Also printed: the slope of RSS
# per round (least squares over rounds 2 to N).
if len(rounds) >= 3:
    later_rounds = rounds[1:]
    half = (len(later_rounds) + 1) // 2
    for b in rounds[-1]["bases"]:
        series = [next((x for x in r["bases"] if x["pid"] == b["pid"]), None) for r in later_rounds]
        if any(x is None for x in series):
            problems.append(f'{b["label"]}: base agent {b["pid"]} was not there from round 2 on (a new base agent was started)')
            continue
        # A removed sub-wallet's store stays open until Python collects it
        # (ACA-Py's ProfileCache drops it; the askar store closes in __del__):
        # wallet files come and go, so descriptors are judged without them.
        for x in series:
            if x["fds"] is not None and x.get("wallet_files") is not None:
                x["fds_not_wallets"] = x["fds"] - x["wallet_files"]
        for key, fmt, slack in (("fds_not_wallets", str, lambda v: fd_slack), ("sockets", str, lambda v: fd_slack)):
            values = [x.get(key) for x in series]
            if any(v is None for v in values):
                continue
            early, late = max(values[:half]), max(values[half:])
            if late > early + slack(early):
                problems.append(f'{b["label"]}: {key} peaked at {fmt(late)} in rounds {2 + half} to {rounds[-1]["round"]}, above {fmt(early)} of rounds 2 to {1 + half}')
        rss = [x["rss_kib"] for x in series]
        if None not in rss:
            xs = list(range(len(rss)))
            mx, my = sum(xs) / len(xs), sum(rss) / len(rss)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, rss)) / sum((x - mx) ** 2 for x in xs)
            growth = slope * (len(rss) - 1)
            if growth > rss[0] * rss_pct / 100:
                problems.append(f'{b["label"]}: RSS grows {slope / 1024:+.2f} MiB per round, {growth / 1024:.1f} MiB over rounds 2 to {rounds[-1]["round"]}: more than {rss_pct:g} % of round 2\'s {mib(rss[0])} MiB')
            print(f'{b["label"]} (pid {b["pid"]}): RSS {mib(rss[0])} -> {mib(rss[-1])} MiB over rounds 2 to {rounds[-1]["round"]}, {slope / 1024:+.2f} MiB per round; descriptors {min(x["fds"] for x in series)} to {max(x["fds"] for x in series)} (of which wallet files {min(x.get("wallet_files") or 0 for x in series)} to {max(x.get("wallet_files") or 0 for x in series)}, sockets {min(x.get("sockets") or 0 for x in series)} to {max(x.get("sockets") or 0 for x in series)}); wallet folders on disk {series[0].get("wallet_dirs")} -> {series[-1].get("wallet_dirs")}')
print()
if problems:
    print("soak: NOT flat:")
    for p in problems:
        print(f"  - {p}")
    sys.exit(1)
print(f"soak: {len(rounds)} round(s): no verdict changed, no sub-wallet left" + (f", base agents' RSS grew less than {rss_pct:g} % (the fitted slope over rounds 2 to N) and their sockets and other descriptors peaked within {fd_slack} from round 2 on" if len(rounds) >= 3 else " (3 rounds or more to judge RSS and descriptors)"))
EOF
