#!/bin/bash
# runc's integration suite as a report step of CI (scripts/test).
#
#   tests/integration/runc-suite-ci.sh [--goal N] [HYRUN]
#
# Runs runc-suite.sh against HYRUN (default build/runtime/hyrun) installed
# under the name `runc` (help.bats and version.bats look for that name in
# the output), with its results in build/runc-suite/.  Counts as bats
# does, a skipped test being no failure: the step passes when passed +
# skipped >= N (default 138 of the 146 tests, i.e. at most 8 failures),
# and fails when the count drops below it.  Its last line is
# "P passed, F failed" with the skipped tests among the passed ones, the
# form scripts/test adds up (runc-suite.sh's own "... of T" line comes
# before it).  Exit status: 0 when the goal is met, 1 when not, 2 when
# the suite could not run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

goal=138
hyrun=$top/build/runtime/hyrun
while (($#)); do
  case $1 in
    --goal) (($# >= 2)) || { echo "usage: $0 [--goal N] [HYRUN]" >&2; exit 2; }
            goal=$2; shift ;;
    --goal=*) goal=${1#*=} ;;
    -*) echo "runc-suite-ci: unknown option $1" >&2; exit 2 ;;
    *) hyrun=$1 ;;
  esac
  shift
done
[[ $goal =~ ^[0-9]+$ ]] || { echo "runc-suite-ci: --goal takes a number" >&2; exit 2; }
[[ -x $hyrun ]] || { echo "runc-suite-ci: no hyrun at $hyrun" >&2; exit 2; }

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ln -s "$(cd "$(dirname "$hyrun")" && pwd)/$(basename "$hyrun")" "$bin/runc"

out=$top/build/runc-suite
rm -f "$out/summary.txt"
rc=0
bash "$here/runc-suite.sh" --runtime "$bin/runc" --out "$out" || rc=$?
summary=$(cat "$out/summary.txt" 2>/dev/null || true)
if ((rc != 0 && rc != 1)) || ! [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed\ of\ ([0-9]+)$ ]]; then
  echo "runc-suite-ci: the suite could not run (exit $rc)"
  echo "0 passed, 1 failed"
  exit 2
fi
passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]} total=${BASH_REMATCH[3]}
skipped=$((total - passed - failed))
ok=$((passed + skipped))

echo
if ((ok >= goal)); then
  echo "runc-suite-ci: $passed passed + $skipped skipped = $ok of $total," \
       "goal $goal met ($failed failed, listed in $out/results.tap)"
  echo "$ok passed, $failed failed"
  exit 0
fi
echo "runc-suite-ci: $passed passed + $skipped skipped = $ok of $total," \
     "below the goal of $goal ($failed failed, see $out/results.tap)"
echo "$ok passed, $failed failed"
exit 1
