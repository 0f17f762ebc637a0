#!/bin/bash
# VM mode: what cannot apply to a VM is refused with an error naming it,
# and leaves nothing behind:
#   a memory limit below what QEMU and the guest need (the container's
#   cgroup holds the whole VM), at create and at update;
#   --preserve-fds (a host fd cannot cross into the guest), exec --cgroup
#   (the container's processes are in the guest's cgroups).
set -euo pipefail
source "$(dirname "$0")/../lib/vm.sh"

nothing_left ()
{
  [[ -z $(ls -A "$root" 2>/dev/null) ]] || fail "$1: --root not empty: $(ls -R "$root")"
  ! pgrep -f "qemu-system-x86_64.*$root" >/dev/null || fail "$1: QEMU left running"
}

b=$(vm_bundle small true)
edit_config "$b" '.linux.resources.memory = {"limit": 33554432}'
run hy run -b "$b" r1
((rc == 1)) && grep -q 'config.json: .linux.resources.memory.limit: 33554432 bytes is too little for a VM.*at least 128 MiB' "$tmp/err" ||
  fail "a 32 MiB VM: exit $rc: $(cat "$tmp/err")"
nothing_left "memory limit"
echo "ok: a memory limit too small for a VM"

b=$(vm_bundle sleeper sleep 1000)
hy run -d -b "$b" r2 < /dev/null > /dev/null
run hy update --memory 33554432 r2
((rc == 1)) && grep -q 'container "r2": memory limit: 33554432 bytes is too little for a VM' "$tmp/err" ||
  fail "update to 32 MiB: exit $rc: $(cat "$tmp/err")"
run hy update --memory 268435456 r2
((rc == 0)) || fail "update to 256 MiB: exit $rc: $(cat "$tmp/err")"
echo "ok: update to a memory limit too small for a VM"

run hy exec --preserve-fds 1 r2 true 3< /dev/null
((rc == 255)) && grep -q 'hyrun: exec: --preserve-fds: a host file descriptor cannot be passed into the container.s VM' "$tmp/err" ||
  fail "exec --preserve-fds: exit $rc: $(cat "$tmp/err")"
run hy exec --cgroup sub r2 true
((rc == 255)) && grep -q "hyrun: exec: --cgroup: the container's processes are in its VM's own cgroups" "$tmp/err" ||
  fail "exec --cgroup: exit $rc: $(cat "$tmp/err")"
hy delete -f r2
b=$(vm_bundle fds true)
run hy run --preserve-fds 1 -b "$b" r3 3< /dev/null
((rc == 1)) && grep -q -- '--preserve-fds: a host file descriptor cannot be passed' "$tmp/err" ||
  fail "run --preserve-fds: exit $rc: $(cat "$tmp/err")"
nothing_left "preserve-fds"
echo "ok: --preserve-fds and exec --cgroup refused"
