#!/bin/bash
# A real VM run of the guest agent: QEMU microvm (TCG unless KVM works)
# with hyrun's guest kernel, the agent's initramfs, hyrun-vhost-vsock as
# the vsock device and a 9p share holding a busybox rootfs.  The host side
# is hyrun-agent-ctl (hyrun's agent client): it takes the agent's ready
# connection, creates a container running `uname -r`, relays its output,
# waits for it, then asks the agent to shut the VM down.
#   guest-agent/test-vm.sh [--build DIR] [--kernel BZIMAGE] [--verbose] [--keep]
#     --build DIR   hyrun's build directory (default: build)
#     --kernel      the guest kernel (default: what guest-kernel/build.sh prints)
#     --verbose     the guest console, the backend's log and the agent's
#     --keep        keep the work directory
# Prints the timings; exits non-zero when the container's output is not
# the guest kernel's release (6.1.<n>-hyrun) or a step fails.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
kernel=
verbose=
keep=
while (($#)); do
  case $1 in
    --build) build=$(cd "${2:?--build needs a directory}" && pwd); shift ;;
    --kernel) kernel=${2:?--kernel needs a file}; shift ;;
    --verbose) verbose=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test-vm.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

log () { echo "test-vm: $*" >&2; }
die () { log "error: $*"; exit 1; }

initramfs=$build/guest-agent/initramfs.cpio.gz
ctl=$build/tests/hyrun-agent-ctl
backend=$build/runtime/vm/hyrun-vhost-vsock
for f in "$initramfs" "$ctl" "$backend" "$build/runtime/hyrun"; do
  [[ -e $f ]] || die "$f is missing (scripts/build)"
done
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not found"; exit 0; }
command -v jq >/dev/null || die "jq not found"
[[ -n $kernel ]] || kernel=$("$top/guest-kernel/build.sh")
[[ -f $kernel ]] || die "no kernel at $kernel"

accel=${HYRUN_VM_ACCEL:-}
if [[ -z $accel ]]; then
  if grep -qwE 'vmx|svm' /proc/cpuinfo && [[ -r /dev/kvm && -w /dev/kvm ]]; then
    accel=kvm
  else
    accel=tcg
  fi
fi
cpu=max
[[ $accel == kvm ]] && cpu=host

work=$(mktemp -d /tmp/hyrun-test-vm.XXXXXX)
pids=()
finish ()
{
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n $keep ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap finish EXIT

# The share: the bundle's rootfs; the config as the host rewrites it
# (docs/AGENT-PROTOCOL.md): root.path in the share, no cgroup settings.
HYRUN=$build/runtime/hyrun bash "$top/scripts/make-bundle" "$work/share" -- uname -r >/dev/null 2>&1 ||
  die "make-bundle failed"
jq '.root.path = "/run/hyrun/share/rootfs"
    | del(.linux.resources, .linux.cgroupsPath, .hooks)
    | .linux.namespaces |= map(del(.path))' \
  "$work/share/config.json" > "$work/guest-config.json"

ms () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

"$backend" --socket "$work/vhost.sock" --uds "$work/vsock.sock" --cid 3 \
  ${verbose:+--verbose} 2> "$work/backend.log" &
pids+=($!)
for _ in $(seq 200); do [[ -S $work/vhost.sock ]] && break; sleep 0.01; done
[[ -S $work/vhost.sock ]] || die "the backend did not listen: $(cat "$work/backend.log")"

ctl () { "$ctl" --transport "vsock:$work/vsock.sock" --timeout 60000 "$@"; }

# The host side waits for the agent's ready connection, then runs the
# container over it.
ctl run --ready --config "$work/guest-config.json" > "$work/out" 2> "$work/err" &
runner=$!
pids+=($runner)
for _ in $(seq 200); do [[ -S $work/vsock.sock_1024 ]] && break; sleep 0.01; done
[[ -S $work/vsock.sock_1024 ]] || die "no ready listener"

append="console=ttyS0 quiet panic=-1 reboot=t"
[[ -n $verbose ]] && append="console=ttyS0 panic=-1 reboot=t hyrun_verbose=1"
start=$EPOCHREALTIME
qemu-system-x86_64 -M microvm,acpi=off,memory-backend=mem -accel "$accel" \
  -cpu "$cpu" -smp 1 -m 256M -nodefaults -no-user-config -display none \
  -serial "file:$work/console.log" -no-reboot \
  -object memory-backend-memfd,id=mem,size=256M,share=on \
  -chardev "socket,id=vs,path=$work/vhost.sock" \
  -device vhost-user-vsock-device,chardev=vs \
  -fsdev "local,id=fs0,path=$work/share,security_model=passthrough,multidevs=remap" \
  -device virtio-9p-device,fsdev=fs0,mount_tag=hyrun \
  -kernel "$kernel" -initrd "$initramfs" -append "$append" \
  2> "$work/qemu.log" &
qemu=$!
pids+=($qemu)

set +e
wait "$runner"
rc=$?
set -e
t_output=$EPOCHREALTIME
show_logs ()
{
  sed 's/^/  console | /' "$work/console.log" >&2
  sed 's/^/  qemu | /' "$work/qemu.log" >&2
  sed 's/^/  backend | /' "$work/backend.log" >&2
  sed 's/^/  ctl | /' "$work/err" >&2
}
if ((rc != 0)); then
  show_logs
  die "the container run failed (exit $rc)"
fi
release=$(cat "$work/out")
ctl shutdown || { show_logs; die "shutdown failed"; }
t_shutdown=$EPOCHREALTIME
for _ in $(seq 500); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.01; done
kill -0 "$qemu" 2>/dev/null && { show_logs; die "QEMU still runs after shutdown"; }
t_gone=$EPOCHREALTIME
[[ -n $verbose ]] && show_logs

[[ $release =~ ^6\.1\.[0-9]+-hyrun$ ]] || { show_logs; die "uname -r in the container: \"$release\""; }
log "kernel $kernel, accel $accel"
echo "container in the guest: uname -r = $release"
printf 'QEMU start -> container output and exit %s ms; shutdown request -> QEMU gone %s ms; total %s ms\n' \
  "$(ms "$start" "$t_output")" "$(ms "$t_shutdown" "$t_gone")" "$(ms "$start" "$t_gone")"
