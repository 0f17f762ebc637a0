#!/bin/bash
# VM mode: the real guest agent fails on purpose ($HYRUN_GUEST_FAULT puts
# hyrun.fault=<point> on the guest kernel's command line, see
# guest-agent/fault.c) and hyrun turns each failure into a clear one-line
# error, a non-zero exit or a stopped container, and leaves nothing behind
# (no QEMU, supervisor or back-end, state dir, mount or cgroup):
#   agent.start        the agent crashes before it is ready
#   agent.create       it crashes on the create request
#   agent.running      it crashes while the container runs (foreground run)
#   kernel.panic       the guest kernel panics while the container runs
#                      (create + start: the container becomes stopped)
#   hostile.hello      a hello with a mistyped version
#   hostile.oversized  create answered with a frame announcing 4 GiB
#   hostile.garbage    bytes that are not JSON while the container runs
# plus an unknown fault point (the agent refuses it) and a bad
# $HYRUN_GUEST_FAULT (hyrun refuses it before starting anything).
set -euo pipefail
: "${HYRUN:?HYRUN must name the hyrun binary}"
source "$(dirname "$0")/../lib/containers.sh"

share=$(dirname "$HYRUN")/../share/hyrun
for f in vmlinuz initramfs.cpio.gz; do
  [[ -e $share/$f ]] || { echo "SKIP: no $share/$f (scripts/build makes it)"; exit 77; }
done
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"

b=$(bundle sleeper sleep 60)
jq '.annotations["io.hyrun.isolation"] = "vm"' "$b/config.json" > "$b/c.json"
mv "$b/c.json" "$b/config.json"

mounts_before=$(wc -l < /proc/self/mountinfo)
nothing_left ()
{
  [[ -z $(ls -A "$root" 2>/dev/null) ]] || fail "$1: --root not empty: $(ls -R "$root")"
  ! pgrep -f "qemu-system-x86_64.*$root" >/dev/null || fail "$1: QEMU left running"
  ! pgrep -f -- "--root $root " >/dev/null || fail "$1: supervisor or vsock back-end left running"
  local cg
  cg=$(find /sys/fs/cgroup/*/hyrun /sys/fs/cgroup/unified/hyrun -maxdepth 1 -name 'gf*' 2>/dev/null)
  [[ -z $cg ]] || fail "$1: cgroup left: $cg"
  (($(wc -l < /proc/self/mountinfo) == mounts_before)) || fail "$1: mount table changed"
}

# expect RC NAME NEEDLE...: the last `run` exited RC, its stderr is one
# line of printable ASCII naming each NEEDLE (a -E pattern), nothing left.
expect ()
{
  local want=$1 name=$2 n
  shift 2
  ((rc == want)) || fail "$name: exit $rc, not $want: $(cat "$tmp/err")"
  (($(wc -l < "$tmp/err") == 1)) || fail "$name: not one line: $(cat "$tmp/err")"
  ! LC_ALL=C grep -q '[^ -~]' "$tmp/err" || fail "$name: unprintable bytes in: $(cat -v "$tmp/err")"
  for n in "$@"; do
    grep -qE -- "$n" "$tmp/err" || fail "$name: stderr lacks '$n': $(cat "$tmp/err")"
  done
  nothing_left "$name"
  echo "ok: $name"
}

# fault POINT ARGS...: `hyrun ARGS` with the guest fault injected, at most
# 60 s
fault () { HYRUN_GUEST_FAULT=$1 run timeout -s KILL 60 "$HYRUN" --root "$root" "${@:2}"; }

panicked=("Kernel panic - not syncing: Attempted to kill init" "QEMU exited with status 0")

fault agent.start run -b "$b" gf1
expect 1 "agent crash before ready" "vm: the VM exited before its agent was ready" \
  "injected fault agent.start" "${panicked[@]}"

fault agent.create run -b "$b" gf2
expect 1 "agent crash during create" \
  "vm: create the container in the guest: guest agent: the connection closed before the answer to create" \
  "injected fault agent.create" "${panicked[@]}"

fault agent.running run -b "$b" gf3
expect 255 "agent crash while running" \
  "vm: (the guest agent's connection closed|the VM exited)" \
  "injected fault agent.running" "${panicked[@]}"

# A detached container: it becomes stopped, the reason goes to its stderr.
HYRUN_GUEST_FAULT=kernel.panic hy create -b "$b" gf4 < /dev/null > /dev/null 2> "$tmp/gf4.err"
hy start gf4
for _ in $(seq 100); do [[ $(hy state gf4 | jq -r .status) == stopped ]] && break; sleep 0.1; done
[[ $(hy state gf4 | jq -r .status) == stopped ]] || fail "kernel panic: still $(hy state gf4 | jq -r .status)"
grep -q "Kernel panic - not syncing: Out of memory: compulsory panic_on_oom is enabled" "$tmp/gf4.err" ||
  fail "kernel panic: the container's stderr: $(cat "$tmp/gf4.err")"
hy delete gf4
nothing_left "kernel panic while running"
echo "ok: kernel panic while running"

fault hostile.hello run -b "$b" gf5
expect 1 "bogus hello" "vm: guest agent: protocol error: .version: expected an integer"

fault hostile.oversized run -b "$b" gf6
expect 1 "oversized frame" \
  "vm: create the container in the guest: guest agent: protocol error: frame length 4294967280 out of range"

fault hostile.garbage run -b "$b" gf7
expect 255 "garbage while running" \
  "vm: the guest agent's connection failed: guest agent: protocol error: invalid JSON"

fault no.such.point run -b "$b" gf8
expect 1 "unknown fault point" "hyrun.fault=no.such.point: unknown fault point"

fault 'bad fault' run -b "$b" gf9
expect 1 "bad \$HYRUN_GUEST_FAULT" 'vm: \$HYRUN_GUEST_FAULT: "bad fault" is not a fault point'
