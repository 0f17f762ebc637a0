#!/bin/bash
# VM-mode start-up benchmark: `hyrun run` of a /bin/true busybox bundle with
# io.hyrun.isolation=vm, against the floor: plain QEMU booting the same
# kernel and initramfs, with the same machine, memory backend and
# accelerator, to the guest's init, which powers off at once
# (`hyrun.floor` on the kernel command line).
#
#   tests/bench/vm-bench.sh [--runs N] [--hyrun PATH] [--out DIR]
#
#   --runs N      runs of each (default 20; interleaved)
#   --hyrun PATH  default build/runtime/hyrun (kernel and initramfs from
#                 its ../share/hyrun/)
#   --out DIR     scratch space and results.json (default build-bench/vm)
#
# Prints the floor, hyrun's time and what hyrun adds (goal: <= 25% of the
# floor), the boot-to-agent-ready time (QEMU start to the agent's ready
# connection, from <state>/vm/ready-ms of created containers), and the
# resident memory of hyrun's host-side processes other than QEMU (the
# supervisor and the vsock back-end; goal <= 10 MiB). Needs root. Exits 1
# only when a run fails; goals are reported, not asserted.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
runs=20
hyrun=$top/build/runtime/hyrun
out=$top/build-bench/vm
while (($#)); do
  case $1 in
    --runs) runs=${2:?}; shift ;;
    --hyrun) hyrun=${2:?}; shift ;;
    --out) out=${2:?}; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "vm-bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
die () { echo "vm-bench: $*" >&2; exit 1; }
[[ -x $hyrun ]] || die "no hyrun at $hyrun (scripts/build)"
share=$(cd "$(dirname "$hyrun")/../share/hyrun" && pwd) || die "no share/hyrun beside $hyrun"
kernel=$share/vmlinuz
initrd=$share/initramfs.cpio.gz
[[ -e $kernel && -e $initrd ]] || die "no kernel/initramfs in $share"

accel=${HYRUN_VM_ACCEL:-}
if [[ -z $accel ]]; then
  if grep -qwE 'vmx|svm' /proc/cpuinfo && [[ -r /dev/kvm && -w /dev/kvm ]]; then accel=kvm; else accel=tcg; fi
fi
cpu=max; [[ $accel == kvm ]] && cpu=host

rm -rf "$out"; mkdir -p "$out"
helper=$out/bench-exec
cc -O2 -Wall -o "$helper" "$top/tests/bench/bench-exec.c"
HYRUN=$hyrun bash "$top/scripts/make-bundle" "$out/bundle" -- /bin/true >/dev/null 2>&1
HYRUN=$hyrun bash "$top/scripts/make-bundle" "$out/sleeper" -- sleep 1000 >/dev/null 2>&1
for b in bundle sleeper; do
  jq '.annotations["io.hyrun.isolation"] = "vm"' "$out/$b/config.json" > "$out/c.json"
  mv "$out/c.json" "$out/$b/config.json"
done
root=$out/state
export HYRUN_CONFIG=$out/empty.conf
: > "$HYRUN_CONFIG"

floor_cmd=(qemu-system-x86_64 -M microvm,acpi=off,memory-backend=mem -accel "$accel"
  -cpu "$cpu" -smp 1 -m 256M -object memory-backend-memfd,id=mem,size=256M,share=on
  -nodefaults -no-user-config -display none -no-reboot -serial null
  -kernel "$kernel" -initrd "$initrd"
  -append "console=ttyS0 quiet panic=-1 reboot=t hyrun.floor")

# measure NAME CMD...: one timed run, appended to $out/NAME.ns
measure ()
{
  local name=$1 line; shift
  line=$("$helper" "$@" 3>&1 >/dev/null 2>"$out/last.err") || true
  read -r ns _ status <<< "$line"
  ((status == 0)) || die "$name: exit $status: $(cat "$out/last.err")"
  echo "$ns" >> "$out/$name.ns"
}

for ((i = 0; i < runs; i++)); do
  measure floor "${floor_cmd[@]}"
  measure hyrun "$hyrun" --root "$root" run -b "$out/bundle" "b$i"
  [[ -z $(ls -A "$root") ]] || die "hyrun left state: $(ls "$root")"
done

# Boot to agent ready, from created containers.
: > "$out/ready.ms"
for ((i = 0; i < (runs < 5 ? runs : 5); i++)); do
  "$hyrun" --root "$root" create -b "$out/bundle" "r$i" </dev/null >/dev/null
  cat "$root/r$i/vm/ready-ms" >> "$out/ready.ms"
  "$hyrun" --root "$root" delete -f "r$i"
done

# Host-side memory other than QEMU: the supervisor and the back-end.
"$hyrun" --root "$root" run -d -b "$out/sleeper" rss </dev/null >/dev/null
sup=$("$hyrun" --root "$root" state rss | jq -r .pid)
backend=$(pgrep -P "$sup" -x hyrun-vsock)
kib () { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
rss_kib=$(( $(kib "$sup" VmRSS) + $(kib "$backend" VmRSS) ))
hwm_kib=$(( $(kib "$sup" VmHWM) + $(kib "$backend" VmHWM) ))
"$hyrun" --root "$root" delete -f rss

mean () { awk '{ s += $1; n++ } END { printf "%.1f", s / n / 1e6 }' "$1"; }
floor_ms=$(mean "$out/floor.ns")
hyrun_ms=$(mean "$out/hyrun.ns")
ready_ms=$(awk '{ s += $1; n++ } END { printf "%.1f", s / n }' "$out/ready.ms")
added_ms=$(awk -v h="$hyrun_ms" -v f="$floor_ms" 'BEGIN { printf "%.1f", h - f }')
ratio=$(awk -v h="$hyrun_ms" -v f="$floor_ms" 'BEGIN { printf "%.3f", (h - f) / f }')
rss_mib=$(awk -v k="$rss_kib" 'BEGIN { printf "%.2f", k / 1024 }')
hwm_mib=$(awk -v k="$hwm_kib" 'BEGIN { printf "%.2f", k / 1024 }')

echo "vm-bench: accelerator $accel, $runs runs each"
printf '%-44s %9s ms\n' "plain QEMU to the guest's init (floor)" "$floor_ms"
printf '%-44s %9s ms\n' "hyrun run /bin/true, isolation=vm" "$hyrun_ms"
printf '%-44s %9s ms  = %s x floor (goal <= 0.25: %s)\n' "added by hyrun" "$added_ms" "$ratio" \
  "$(awk -v r="$ratio" 'BEGIN { print (r <= 0.25) ? "met" : "NOT met" }')"
printf '%-44s %9s ms\n' "QEMU start to agent ready" "$ready_ms"
printf '%-44s %9s MiB (peak %s MiB; goal <= 10: %s)\n' "RSS of supervisor + vsock back-end" "$rss_mib" "$hwm_mib" \
  "$(awk -v r="$hwm_mib" 'BEGIN { print (r <= 10) ? "met" : "NOT met" }')"
jq -n --arg accel "$accel" --argjson runs "$runs" --argjson floor "$floor_ms" \
  --argjson hyrun "$hyrun_ms" --argjson ready "$ready_ms" --argjson ratio "$ratio" \
  --argjson rss "$rss_mib" --argjson hwm "$hwm_mib" \
  '{accel: $accel, runs: $runs, floor_ms: $floor, hyrun_ms: $hyrun, added_over_floor: $ratio,
    ready_ms: $ready, host_rss_mib: $rss, host_peak_rss_mib: $hwm}' > "$out/results.json"
