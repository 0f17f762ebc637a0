#!/bin/bash
# Boot the hyrun guest kernel for real in QEMU microvm with a test init
# (test/init.c) and time it. The init checks the filesystems, vsock,
# namespaces, cgroup2, an overlay mount, a 9p share and an ext4 virtio-blk
# disk, then leaves QEMU by rebooting into a triple fault (reboot=t with
# QEMU's -no-reboot). Then three boots with hyrun's vhost-user-vsock
# backend (test/vsock-host.c starts it and QEMU as the VM supervisor will):
# real guest<->host vsock traffic checked byte by byte, with the library in
# a child (hy_vsock_backend_spawn) over legacy virtio-mmio, again with the
# hyrun-vhost-vsock program over virtio 1.0 (shorter), and QEMU killed
# under open connections; every check counts as a test.
#   guest-kernel/test-boot.sh [--kernel BZIMAGE] [--runs N] [--compare-exits] [--verbose]
#                             [--build DIR | --no-vsock] [--mib N]
#     --kernel         image to boot (default: what build.sh prints, building it if needed)
#     --runs N         boot N times and print every timing (default 3)
#     --compare-exits  also time the other ways out: reboot=k, no reboot=, poweroff
#     --verbose        kernel messages on the console (no `quiet`, earlyprintk, printk.time)
#     --build DIR      hyrun build with the backend to test (default: build/ of this tree)
#     --no-vsock       skip the vsock boots
#     --mib N          MiB per direction of the vsock bulk transfers (default 16)
# Environment: HYRUN_VM_ACCEL=kvm|tcg overrides the accelerator choice
# (kvm only when the CPU has vmx/svm and /dev/kvm is usable).
# Exits non-zero when a boot fails a check or does not reach the init.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kernel=
runs=3
compare=
verbose=
build=$here/../build
vsock=1
mib=16
while (($#)); do
  case $1 in
    --kernel) kernel=${2:?--kernel needs a file}; shift ;;
    --runs) runs=${2:?--runs needs a number}; shift ;;
    --compare-exits) compare=1 ;;
    --verbose) verbose=1 ;;
    --build) build=${2:?--build needs a directory}; shift ;;
    --no-vsock) vsock= ;;
    --mib) mib=${2:?--mib needs a number}; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test-boot.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

log () { echo "test-boot: $*" >&2; }
die () { log "error: $*"; exit 1; }

for tool in qemu-system-x86_64:qemu-system-x86 gcc:build-essential \
            cpio:cpio gzip:gzip mkfs.ext4:e2fsprogs; do
  command -v "${tool%%:*}" >/dev/null ||
    die "${tool%%:*} not found (apt-get install ${tool#*:})"
done
[[ -f /usr/lib/x86_64-linux-gnu/libc.a ]] || die "no static libc (apt-get install libc6-dev)"

if [[ -z $kernel ]]; then
  kernel=$("$here/build.sh")
fi
[[ -f $kernel ]] || die "no kernel image at $kernel"
backend=$build/runtime/vm/hyrun-vhost-vsock
vm_libs=("$build/runtime/vm/libhyvm.a" "$build/common/libhycommon.a")
if [[ -n $vsock ]]; then
  for f in "$backend" "${vm_libs[@]}"; do
    [[ -f $f ]] || die "no $f (scripts/build first, or --build DIR, or --no-vsock)"
  done
fi

accel=${HYRUN_VM_ACCEL:-}
if [[ -z $accel ]]; then
  if grep -qwE 'vmx|svm' /proc/cpuinfo && [[ -r /dev/kvm && -w /dev/kvm ]]; then
    accel=kvm
  else
    accel=tcg
  fi
fi
case $accel in
  kvm) cpu=host ;;
  tcg) cpu=max ;;
  *) die "HYRUN_VM_ACCEL must be kvm or tcg" ;;
esac

work=$(mktemp -d /tmp/hyrun-test-boot.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The initramfs: just the static test init.
mkdir -p "$work/root" "$work/share" "$work/blkroot"
gcc -static -O2 -Wall -Wextra -Werror -o "$work/root/init" "$here/test/init.c"
if [[ -n $vsock ]]; then
  gcc -O2 -Wall -Wextra -Werror -I"$here/.." -o "$work/vsock-host" \
      "$here/test/vsock-host.c" "${vm_libs[@]}"
fi
(cd "$work/root" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$work/initramfs.gz"
# What the init reads back through 9p and virtio-blk.
echo from-9p > "$work/share/hello"
echo from-blk > "$work/blkroot/hello"
truncate -s 8M "$work/disk.img"
mkfs.ext4 -q -F -d "$work/blkroot" "$work/disk.img"

qemu_base=(qemu-system-x86_64 -M microvm,acpi=off -accel "$accel" -cpu "$cpu"
           -smp 1 -m 256M -nodefaults -no-user-config -display none
           -serial stdio -no-reboot
           -kernel "$kernel" -initrd "$work/initramfs.gz")
qemu_devices=(-fsdev "local,id=fs0,path=$work/share,security_model=none,readonly=on"
              -device virtio-9p-device,fsdev=fs0,mount_tag=hyruntest
              -drive "file=$work/disk.img,format=raw,if=none,id=d0"
              -device virtio-blk-device,drive=d0
              -device virtio-rng-device)
if [[ -n $verbose ]]; then
  console="console=ttyS0 earlyprintk=ttyS0 printk.time=1"
else
  console="console=ttyS0 quiet"
fi

ms () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

# boot NAME TIMEOUT REBOOT_PARAM EXIT_HOW: one boot; sets to_init, to_exit
# (ms after QEMU starts, "-" when not seen) and boot_ok. Every console line
# is stamped with the host time it arrived.
boot ()
{
  local name=$1 timeout=$2 reboot=$3 how=$4
  local out=$work/$name.log rc start end t_init t_exit append
  append="$console panic=-1 ${reboot:+$reboot }hyrun_exit=$how hyrun_9p=hyruntest hyrun_blk=/dev/vda"
  start=$EPOCHREALTIME
  set +e
  timeout "$timeout" "${qemu_base[@]}" "${qemu_devices[@]}" -append "$append" \
      </dev/null 2>"$out.err" |
    while IFS= read -r line; do
      printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"
    done > "$out"
  rc=${PIPESTATUS[0]}
  set -e
  end=$EPOCHREALTIME
  t_init=$(awk '$2 == "hyrun-guest-init:" && $3 ~ /^[0-9]/ { print $1; exit }' "$out")
  t_exit=$(awk '$2 == "hyrun-guest-init:" && $3 == "exit" { print $1; exit }' "$out")
  to_init=${t_init:+$(ms "$start" "$t_init")}
  to_init=${to_init:--}
  init_to_exit=-
  [[ -n $t_exit ]] && init_to_exit=$(ms "$t_exit" "$end")
  total=$(ms "$start" "$end")
  exited=yes
  ((rc == 124)) && exited="no (killed after ${timeout}s)"
  boot_ok=
  if grep -q 'hyrun-guest-init: result ok' "$out" &&
     grep -q 'hyrun-guest-init: check 9p-mount=ok' "$out" &&
     grep -q 'hyrun-guest-init: check blk-mount=ok' "$out"; then
    boot_ok=1
  fi
  if [[ -n $verbose || -z $boot_ok ]]; then
    sed 's/^[0-9.]* /  | /' "$out" >&2
    [[ -s $out.err ]] && sed 's/^/  qemu: /' "$out.err" >&2
  fi
}

log "kernel $kernel ($(stat -c %s "$kernel") bytes), accel $accel, cpu $cpu"
failed=0
passed=0
first=1
for ((i = 1; i <= runs; i++)); do
  boot "run$i" 30 reboot=t reboot
  if ((first)); then
    grep 'hyrun-guest-init:' "$work/run$i.log" | sed 's/^[0-9.]* /  /' >&2
    first=0
  fi
  if [[ -n $boot_ok && $exited == yes ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  printf 'boot %d (reboot=t): qemu start -> init %s ms, init exit -> qemu gone %s ms, total %s ms, checks %s\n' \
    "$i" "$to_init" "$init_to_exit" "$total" "$([[ -n $boot_ok ]] && echo ok || echo FAILED)"
done

if [[ -n $compare ]]; then
  for variant in "reboot=k reboot" "- reboot" "reboot=t poweroff"; do
    read -r param how <<<"$variant"
    [[ $param == - ]] && param=
    boot "cmp" 8 "$param" "$how"
    printf 'exit via %-22s: init exit -> qemu gone %s ms, qemu exited: %s\n' \
      "${param:-(no reboot=)} + $how" "$init_to_exit" "$exited"
  done
fi

# vsock_boot LABEL SCENARIO spawn|program [VSOCK-HOST OPTION]... [-- QEMU ARG...]:
# a boot with the vsock device and our backend, run by test/vsock-host.c;
# adds its checks to passed/failed.
vsock_boot ()
{
  local label=$1 scenario=$2 how=$3 out=$work/vsock-$1.log rc ok bad
  shift 3
  local run=(--spawn) extra=()
  [[ $how == program ]] && run=(--backend "$backend")
  while (($#)) && [[ $1 != -- ]]; do run+=("$1"); shift; done
  (($#)) && shift && extra=("$@")
  set +e
  timeout 300 "$work/vsock-host" "${run[@]}" --uds "$work/vsock.sock" \
      --cid 3 --scenario "$scenario" -- \
      "${qemu_base[@]}" "${extra[@]}" \
      -object memory-backend-memfd,id=mem,size=256M,share=on \
      -machine memory-backend=mem \
      -append "$console panic=-1 reboot=t hyrun_exit=reboot hyrun_vsock=1" \
      </dev/null 2>"$out.report" |
    while IFS= read -r line; do
      printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"
    done > "$out"
  rc=${PIPESTATUS[0]}
  set -e
  ok=$(grep -c '^vsock-host: check [^ ]*=ok' "$out.report" || true)
  bad=$(grep -c '^vsock-host: check [^ ]*=FAIL' "$out.report" || true)
  if ((rc != 0 && bad == 0)); then
    bad=1  # the tool itself failed (or timed out: rc 124)
  fi
  passed=$((passed + ok))
  failed=$((failed + bad))
  grep -E '^vsock-host: (check|measure) ' "$out.report" |
    sed "s/^vsock-host: /vsock $label: /"
  if [[ -n $verbose ]] || ((bad)); then
    sed 's/^[0-9.]* /  | /' "$out" >&2
    grep -v -E '^vsock-host: (check|measure) ' "$out.report" | sed 's/^/  report: /' >&2 || true
  fi
}

if [[ -n $vsock ]]; then
  vsock_boot traffic traffic spawn --mib "$mib"
  vsock_boot traffic-program-virtio1 traffic program --mib 4 --no-wrap \
      -- -global virtio-mmio.force-legacy=false
  vsock_boot kill kill spawn
fi

echo "$passed passed, $failed failed"
((failed == 0)) || die "a boot failed its checks or did not exit, or a vsock check failed"
