# Shared by the shell tests of VM mode (tests/vm/*.sh that run real
# microVMs): the SKIP check for the guest kernel and initramfs, then
# containers.sh, `vm_bundle NAME CMD...` (a busybox bundle with
# io.hyrun.isolation=vm) and `edit_config BUNDLE JQ-FILTER [jq args]`.
: "${HYRUN:?HYRUN must name the hyrun binary}"
# The kernel and initramfs beside hyrun, or named by $HYRUN_VM_KERNEL and
# $HYRUN_VM_INITRD (an ASan build makes no initramfs: CI lends it build/'s).
vm_share=$(dirname "$HYRUN")/../share/hyrun
for f in "${HYRUN_VM_KERNEL:-$vm_share/vmlinuz}" "${HYRUN_VM_INITRD:-$vm_share/initramfs.cpio.gz}"; do
  [[ -e $f ]] || { echo "SKIP: no $f (scripts/build makes it)"; exit 77; }
done
source "$(dirname "${BASH_SOURCE[0]}")/containers.sh"

edit_config ()
{
  local b=$1
  shift
  jq "$@" "$b/config.json" > "$b/c.json"
  mv "$b/c.json" "$b/config.json"
}

vm_bundle ()
{
  local b
  b=$(bundle "$@")
  edit_config "$b" '.annotations["io.hyrun.isolation"] = "vm"'
  echo "$b"
}
