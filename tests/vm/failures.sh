#!/bin/bash
# VM mode: a guest that never becomes ready turns into a clear error and
# leaves nothing behind (no QEMU, no back-end, no state dir, no cgroup, no
# mount).  Each case boots the real guest kernel in QEMU with a small
# static init standing in for the agent:
#   - the init exits at once: the kernel panics, QEMU exits;
#   - the init never connects: the boot timeout kills the VM;
#   - QEMU cannot be started; the initramfs is missing.
set -euo pipefail
: "${HYRUN:?HYRUN must name the hyrun binary}"
source "$(dirname "$0")/../lib/containers.sh"

kernel=$(dirname "$HYRUN")/../share/hyrun/vmlinuz
[[ -e $kernel ]] || { echo "SKIP: no guest kernel at $kernel (scripts/build links it)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"

# initramfs NAME C-BODY: a newc initramfs whose /init runs main() { BODY }
initramfs ()
{
  local dir=$tmp/initrd-$1
  mkdir -p "$dir/root"
  printf '#include <unistd.h>\nint main (void) { %s }\n' "$2" > "$dir/init.c"
  gcc -static -O1 -o "$dir/root/init" "$dir/init.c"
  (cd "$dir/root" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$dir/initrd.gz"
  echo "$dir/initrd.gz"
}

b=$(bundle vm true)
jq '.annotations["io.hyrun.isolation"] = "vm"' "$b/config.json" > "$b/c.json" && mv "$b/c.json" "$b/config.json"

# hyrun's mounts would all involve the test's own directory (other jobs on
# the machine may mount elsewhere meanwhile).
mounts_of_test () { grep -cF "$tmp" /proc/self/mountinfo || true; }
# expect_vm_error NEEDLE...: `run` failed with exit 1 naming each NEEDLE, and
# nothing is left.
expect_vm_error ()
{
  ((rc == 1)) || fail "exit $rc, not 1: $(cat "$tmp/err")"
  local n
  for n in "$@"; do
    grep -qF -- "$n" "$tmp/err" || fail "stderr lacks '$n': $(cat "$tmp/err")"
  done
  [[ -z $(ls -A "$root" 2>/dev/null) ]] || fail "--root not empty: $(ls -R "$root")"
  ! pgrep -f "qemu-system-x86_64.*$root" >/dev/null || fail "QEMU left running"
  ! pgrep -f -- "--root $root " >/dev/null || fail "supervisor or vsock back-end left running"
  [[ ! -e /sys/fs/cgroup/memory/hyrun/vm1 && ! -e /sys/fs/cgroup/pids/vm1 ]] ||
    fail "cgroup left"
  (($(mounts_of_test) == 0)) || fail "mounts left: $(grep -F "$tmp" /proc/self/mountinfo)"
}

# The guest's init exits: kernel panic, named from the guest console.
HYRUN_VM_INITRD=$(initramfs exit 'return 3;') run hy run -b "$b" vm1
expect_vm_error "vm: the VM exited before its agent was ready" "Kernel panic" \
  "Attempted to kill init"
echo "ok: kernel panic"

# The init never connects: the boot timeout.
HYRUN_VM_BOOT_TIMEOUT_MS=2500 HYRUN_VM_INITRD=$(initramfs hang 'for (;;) pause ();') \
  run hy run -b "$b" vm1
expect_vm_error "vm: the guest agent was not ready after 2500 ms"
echo "ok: boot timeout"

# QEMU that cannot start.
HYRUN_QEMU=$tmp/no-qemu HYRUN_VM_INITRD=$(initramfs exit2 'return 0;') \
  run hy run -b "$b" vm1
expect_vm_error "QEMU exited with status 127" "no-qemu"
echo "ok: QEMU missing"

# No initramfs: refused before anything is made.
HYRUN_VM_INITRD=$tmp/nope.gz run hy run -b "$b" vm1
expect_vm_error "vm: no guest agent initramfs at \`$tmp/nope.gz\`"
echo "ok: initramfs missing"

# A failure right after QEMU started (injected): QEMU and the back-end go.
HYRUN_FAULT=vm.start HYRUN_VM_INITRD=$(initramfs hang2 'for (;;) pause ();') \
  run hy run -b "$b" vm1
expect_vm_error "injected fault at vm.start"
echo "ok: failure after QEMU started"
