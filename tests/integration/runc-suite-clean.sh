#!/bin/bash
# Remove what runc's integration suite left behind when a runtime under
# test hung or crashed (runc-suite.sh runs it after every test file):
#
#   tests/integration/runc-suite-clean.sh [--processes-only] RUNTIME TMPDIR...
#
# For each TMPDIR (the TMPDIR one test file ran with, /tmp/runc-suite.*):
#   - `RUNTIME --root STATE delete -f` every container of every state
#     directory under it (30 s at most each);
#   - SIGKILL every process whose command line names TMPDIR (the runtime's
#     own processes, recvtty), bash excepted (bats itself);
#   - unmount what is still mounted under it, then remove it.
# Then the suite's cgroups, /sys/fs/cgroup/[*/]runc-cgroups-integration-test
# (helpers.bash's set_cgroups_path names them so): thawed, their processes
# killed, removed. Prints one line per thing it had to clean up.
# --processes-only: only the killing, for a bats still running that waits
# for strays holding its output.
set -uo pipefail

processes_only=false
if [[ ${1:-} == --processes-only ]]; then
  processes_only=true
  shift
fi
(($# >= 1)) || { sed -n '5p' "$0" | sed 's/^# *//' >&2; exit 2; }
runtime=$1
shift

say () { echo "runc-suite-clean: $*"; }

cmdline ()
{
  { tr '\0' ' ' < "/proc/$1/cmdline"; } 2>/dev/null
}

# Processes whose command line contains $1, but not this script's.
pids_naming ()
{
  local p args
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ $p == "$$" || $p == "$BASHPID" ]] && continue
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == bash ]] && continue
    args=$(cmdline "$p") || continue
    [[ $args == *"$1"* && $args != *runc-suite-clean.sh* ]] && echo "$p"
  done
}

clean_tmpdir ()
{
  local tmp=${1%/} state ct p m
  [[ -d $tmp ]] || return 0
  if $processes_only; then
    for p in $(pids_naming "$tmp/"); do
      say "killing $p: $(cmdline "$p" | cut -c1-160)"
      kill -KILL "$p" 2>/dev/null
    done
    return 0
  fi
  for state in "$tmp"/bats-run-*/runc.*/state; do
    [[ -d $state ]] || continue
    for ct in $(timeout 30 "$runtime" --root "$state" list -q 2>/dev/null); do
      say "deleting container $ct left in $state"
      timeout -k 5 30 "$runtime" --root "$state" delete -f "$ct" >/dev/null 2>&1 ||
        say "  $runtime delete -f $ct failed"
    done
  done
  for p in $(pids_naming "$tmp/"); do
    say "killing $p: $(cmdline "$p" | cut -c1-160)"
    kill -KILL "$p" 2>/dev/null
  done
  # Deepest first; lazily, as a busy mount must not stop the cleanup.
  for m in $(findmnt -rno TARGET 2>/dev/null | grep -F "$tmp/" | sort -r); do
    say "unmounting $m"
    umount -l "$m" 2>/dev/null
  done
  # --one-file-system: never follow something still mounted in there.
  rm -rf --one-file-system "$tmp" 2>/dev/null ||
    say "could not remove all of $tmp"
}

clean_cgroups ()
{
  local base dirs d p
  local -A killed=()
  for base in /sys/fs/cgroup/runc-cgroups-integration-test \
              /sys/fs/cgroup/*/runc-cgroups-integration-test; do
    [[ -d $base ]] || continue
    mapfile -t dirs < <(find "$base" -depth -type d 2>/dev/null)
    for d in "${dirs[@]}"; do
      # A frozen process cannot die: thaw first (v1 freezer, v2).
      [[ -f $d/freezer.state ]] && echo THAWED > "$d/freezer.state" 2>/dev/null
      [[ -f $d/cgroup.freeze ]] && echo 0 > "$d/cgroup.freeze" 2>/dev/null
      for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
        [[ -n ${killed[$p]:-} ]] && continue
        say "killing $p ($(cmdline "$p" | cut -c1-80)) in cgroup $d"
        kill -KILL "$p" 2>/dev/null
        killed[$p]=1
      done
    done
  done
  ((${#killed[@]})) && sleep 1
  $processes_only && return 0
  for base in /sys/fs/cgroup/runc-cgroups-integration-test \
              /sys/fs/cgroup/*/runc-cgroups-integration-test; do
    [[ -d $base ]] || continue
    find "$base" -depth -type d -exec rmdir {} + 2>/dev/null ||
      say "could not remove all of $base"
  done
}

for tmp in "$@"; do
  clean_tmpdir "$tmp"
done
clean_cgroups
exit 0
