#!/usr/bin/env bash
# The seed flow (scenarios/issue-credential-v2/seed-flow.yaml) on the latest
# patch of every ACA-Py line the harness supports, as processes: each version
# is installed into the venv cache (`acapy-harness install`), then run on its
# own, so that one line failing to install or to pass does not hide another's
# verdict. Prints one line per version and exits 1 if any failed.
#
# Usage: bench/every-line.sh [--rotate K] [--agents MODE] [VERSION...]
#   (no version)  every line in LINES below
#   --rotate K    only K lines, chosen by the day: CI runs a different one or
#                 two each day and every line within a few days
#   --agents MODE shared, dedicated or both (the default: a sub-wallet of a
#                 base agent and agents of their own, both processes)
#   VERSION...    these versions instead (e.g. 1.0.1 1.8.0rc1)
# Environment: HARNESS (default target/release/acapy-harness, else
#   target/debug/acapy-harness), ACAPY_HARNESS_CACHE (where the venvs go),
#   EVERY_LINE_LOGS (a folder to keep each version's install and run output;
#   default: a temporary one, removed unless a version failed),
#   EVERY_LINE_DAY (the day number --rotate uses; default days since 1970).
set -uo pipefail
# HARNESS, when given, is taken relative to where the script was started from.
[ -n "${HARNESS:-}" ] && [ "${HARNESS#/}" = "$HARNESS" ] && [ -e "$HARNESS" ] && HARNESS=$PWD/$HARNESS
cd "$(dirname "$0")/.."

# The latest patch of each line on PyPI (docs/providers.md, "The lines supported").
LINES=(0.12.8 1.0.1 1.1.1 1.2.7 1.3.6 1.4.0 1.5.1 1.6.2 1.7.0)
scenario=scenarios/issue-credential-v2/seed-flow.yaml

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
rotate=""
agents=both
versions=()
while [ $# -gt 0 ]; do
  case $1 in
    --rotate) [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || usage; rotate=$2; shift 2 ;;
    --rotate=*) rotate=${1#--rotate=}; [[ $rotate =~ ^[1-9][0-9]*$ ]] || usage; shift ;;
    --agents) [ $# -ge 2 ] || usage; agents=$2; shift 2 ;;
    --agents=*) agents=${1#--agents=}; shift ;;
    -h|--help) usage ;;
    -*) echo "every-line.sh: unknown option $1" >&2; usage ;;
    *) versions+=("$1"); shift ;;
  esac
done
[ ${#versions[@]} -gt 0 ] || versions=("${LINES[@]}")
if [ -n "$rotate" ]; then
  n=${#versions[@]}
  [ "$rotate" -le "$n" ] || rotate=$n
  day=${EVERY_LINE_DAY:-$(( $(date +%s) / 86400 ))}
  start=$(( day * rotate % n ))
  picked=()
  for i in $(seq 0 $(( rotate - 1 ))); do picked+=("${versions[$(( (start + i) % n ))]}"); done
  echo "every-line.sh: day $day, lines ${picked[*]} (of ${versions[*]})"
  versions=("${picked[@]}")
fi

harness=${HARNESS:-}
if [ -z "$harness" ]; then
  harness=target/release/acapy-harness
  [ -x "$harness" ] || harness=target/debug/acapy-harness
fi
[ -x "$harness" ] || { echo "every-line.sh: no harness binary at $harness (cargo build, or set HARNESS)" >&2; exit 1; }

logs=${EVERY_LINE_LOGS:-}
keep=1
[ -n "$logs" ] || { logs=$(mktemp -d -t every-line.XXXXXX); keep=0; }
mkdir -p "$logs"

failed=0
summary=()
for v in "${versions[@]}"; do
  t0=$(date +%s)
  if ! "$harness" install --acapy "$v" >"$logs/$v.install.log" 2>&1; then
    t1=$(date +%s)
    line="$v: FAILED to install ($((t1 - t0))s): $(grep -m1 -i 'error' "$logs/$v.install.log" || tail -n 1 "$logs/$v.install.log")"
    failed=1
  else
    t1=$(date +%s)
    "$harness" run "$scenario" --provider process --agents "$agents" --acapy "$v" --color never >"$logs/$v.run.log" 2>&1
    rc=$?
    t2=$(date +%s)
    case $rc in
      0) verdict=passed ;;
      1) verdict=FAILED; failed=1 ;;
      *) verdict="FAILED (exit $rc)"; failed=1 ;;
    esac
    reported=$(cat "${ACAPY_HARNESS_CACHE:-$HOME/.cache/acapy-harness}/venvs/acapy-$v/.acapy-harness-ready" 2>/dev/null | tail -n 1)
    cases=$(grep -m1 '^summary:' "$logs/$v.run.log" | sed 's/^summary: //')
    line="$v: $verdict [${cases:-no summary}] (install $((t1 - t0))s, run $((t2 - t1))s; aca-py --version: ${reported:-?})"
  fi
  echo "$line"
  summary+=("$line")
done

echo
echo "seed flow, as processes ($agents agents), per ACA-Py line:"
printf '  %s\n' "${summary[@]}"
if [ $failed = 1 ]; then
  echo "every-line.sh: a line failed; its install and run output are in $logs" >&2
  exit 1
fi
[ $keep = 1 ] || rm -rf "$logs"
exit 0
