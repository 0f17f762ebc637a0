#!/bin/bash
# Nothing leaks: many create/start/kill/delete cycles, then a failure
# injected at every failure point of create (HYRUN_FAULT, see
# common/fault.h; container mode's, runtime/vm/ has its own in tests/vm) leave the mount table, the cgroup tree, --root and the
# fds unchanged.  HYRUN_CYCLES (default 500) and HYRUN_FAULT_RUNS (default
# 100: the points are taken in turn until that many failures were made).
set -euo pipefail
((EUID == 0)) || { echo "SKIP: needs root"; exit 0; }
[[ -x /bin/busybox ]] || { echo "SKIP: needs busybox-static"; exit 0; }
. "$(dirname "$0")/../lib/containers.sh"

cycles=${HYRUN_CYCLES:-500}
fault_runs=${HYRUN_FAULT_RUNS:-100}
prefix=leak$$

cgroup_dirs () { find /sys/fs/cgroup -maxdepth 3 -path "*/hyrun/$prefix*" -type d 2>/dev/null | sort; }
our_mounts () { grep -cF "$tmp" /proc/self/mountinfo || true; }
our_fds () { ls /proc/$$/fd | wc -l; }
snapshot () { echo "mounts=$(our_mounts) cgroups=$(cgroup_dirs | wc -l) root=$(ls -A "$root" 2>/dev/null | wc -l) fds=$(our_fds)"; }

b=$(bundle sleeper sh -c 'ls /proc/self/fd > /dev/shm/fds; exec sleep 1000')
mkdir -p "$root"
before=$(snapshot)

# The container gets fds 0-2 only (the CVE-2024-21626 class), even when
# hyrun's caller leaks one to it: ls's own directory fd is the 4th entry.
exec {stray}> "$tmp/stray"
hy run -d -b "$b" "${prefix}-fds"
exec {stray}>&-
fds=$(hy exec "${prefix}-fds" cat /dev/shm/fds | tr '\n' ' ')
[[ $fds == "0 1 2 3 " ]] || fail "the container inherited fds: $fds"
hy delete -f "${prefix}-fds"

for ((i = 0; i < cycles; i++)); do
  id=$prefix-$i
  hy create -b "$b" "$id"
  hy start "$id"
  hy kill "$id" KILL
  hy delete --force "$id"
done
after=$(snapshot)
[[ $after == "$before" ]] || fail "after $cycles cycles: $before -> $after"

mapfile -t points < <(grep -rhoE --exclude-dir=vm 'hy_fault \("[a-z.-]+"' "$top/runtime" |
                      sed -E 's/.*"(.*)"/\1/' | sort -u)
((${#points[@]} >= 10)) || fail "only ${#points[@]} fault points found"
for ((i = 0; i < fault_runs; i++)); do
  point=${points[i % ${#points[@]}]}
  id=$prefix-fault-$i
  run env HYRUN_FAULT="$point" "$HYRUN" --root "$root" create -b "$b" "$id"
  ((rc == 1)) || fail "fault at $point: exit $rc"
  grep -qF "injected fault at $point" "$tmp/err" ||
    fail "fault at $point: $(cat "$tmp/err")"
  now=$(snapshot)
  [[ $now == "$before" ]] || fail "fault at $point left: $before -> $now"
done

echo "leaks: ok ($cycles cycles, $fault_runs injected failures at ${#points[@]} points)"
