#!/bin/bash
# tests/vm/agent.sh with every agent in a real microVM (QEMU, TCG unless
# KVM works... TCG here), reached through hyrun-vhost-vsock: the agent as
# PID 1, vsock, the 9p share, the guest kernel.
set -euo pipefail
((EUID == 0)) || { echo "SKIP: needs root"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: needs qemu-system-x86"; exit 0; }
: "${HYRUN_AGENT:?}" "${TESTS_DIR:?}"
HYRUN_INITRAMFS=$(dirname "$HYRUN_AGENT")/initramfs.cpio.gz
# Sanitizer builds make no initramfs.
[[ -f $HYRUN_INITRAMFS ]] || { echo "SKIP: no initramfs in this build"; exit 0; }
HYRUN_KERNEL=$("$TESTS_DIR/../guest-kernel/build.sh")
export AGENT_MODE=vm HYRUN_INITRAMFS HYRUN_KERNEL
exec bash "$(dirname "$0")/agent.sh"
