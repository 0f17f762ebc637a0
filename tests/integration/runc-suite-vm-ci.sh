#!/bin/bash
# runc's integration suite with VM isolation as the default, as a report
# step of CI (scripts/test).
#
#   tests/integration/runc-suite-vm-ci.sh [HYRUN]
#
# Runs `runc-suite.sh --isolation vm` against HYRUN (default
# build/runtime/hyrun, which needs the guest kernel and initramfs that
# scripts/build links into build/share/hyrun/) installed under the name
# `runc`, with its results in build/runc-suite-vm/.  Every container of
# the suite is then a microVM; the tests that cannot apply to a VM are
# skipped with the reason (runc-suite.sh's VM_SKIPS, README.md).
#
# The step passes when the required files (REQUIRED below) have no failed
# test; a failure elsewhere is counted but tolerated.  Its last line is
# "P passed, F failed" with the skipped tests among the passed ones, the
# form scripts/test adds up.  Exit status: 0 when the required files
# pass, 1 when not, 2 when the suite could not run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

REQUIRED=(run start create exec kill delete state cwd umask tty ps)

hyrun=${1:-$top/build/runtime/hyrun}
[[ -x $hyrun ]] || { echo "runc-suite-vm-ci: no hyrun at $hyrun" >&2; exit 2; }

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ln -s "$(cd "$(dirname "$hyrun")" && pwd)/$(basename "$hyrun")" "$bin/runc"

out=$top/build/runc-suite-vm
rm -f "$out/summary.txt"
rc=0
bash "$here/runc-suite.sh" --runtime "$bin/runc" --isolation vm --out "$out" || rc=$?
summary=$(cat "$out/summary.txt" 2>/dev/null || true)
if ((rc != 0 && rc != 1)) || ! [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed\ of\ ([0-9]+)$ ]]; then
  echo "runc-suite-vm-ci: the suite could not run (exit $rc)"
  echo "0 passed, 1 failed"
  exit 2
fi
passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]} total=${BASH_REMATCH[3]}
skipped=$((total - passed - failed))

# The failed tests of the required files, from results.tap's
# "not ok N FILE.bats: NAME" lines.
required_failed=()
for f in "${REQUIRED[@]}"; do
  while IFS= read -r name; do
    required_failed+=("$name")
  done < <(grep -E "^not ok [0-9]+ $f\.bats: " "$out/results.tap" | sed -E 's/^not ok [0-9]+ //')
done
reported=$(grep -cE "^ok [0-9]+ ($(IFS='|'; echo "${REQUIRED[*]}"))\.bats: " "$out/results.tap" || true)

echo
echo "runc-suite-vm-ci: $passed passed, $skipped skipped, $failed failed of $total" \
     "with isolation vm (results in $out/results.tap)"
if ((${#required_failed[@]} == 0 && reported > 0)); then
  echo "runc-suite-vm-ci: the required files (${REQUIRED[*]}) have no failure"
  echo "$((passed + skipped)) passed, $failed failed"
  exit 0
fi
if ((${#required_failed[@]} == 0)); then
  echo "runc-suite-vm-ci: no test of the required files (${REQUIRED[*]}) ran"
else
  echo "runc-suite-vm-ci: failed in the required files (${REQUIRED[*]}):"
  printf '  %s\n' "${required_failed[@]}"
fi
echo "$((passed + skipped)) passed, $failed failed"
exit 1
