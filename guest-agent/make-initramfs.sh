#!/bin/bash
# Pack the guest initramfs: /init = the static agent and the directories it
# mounts on (it opens /dev/console itself from devtmpfs).  newc, owned 0:0
# (needs no root), gzip -1 (the kernel has RD_GZIP).
#   make-initramfs.sh AGENT OUTPUT
set -euo pipefail
agent=${1:?usage: make-initramfs.sh AGENT OUTPUT}
out=${2:?usage: make-initramfs.sh AGENT OUTPUT}

if ldd "$agent" >/dev/null 2>&1; then
  echo "make-initramfs: $agent is not static" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root"/{dev,proc,sys,run,tmp}
install -s -m 0755 "$agent" "$work/root/init"
# A fixed time keeps the archive reproducible.
find "$work/root" -exec touch -h -d @0 {} +
(cd "$work/root" && find . -mindepth 1 | LC_ALL=C sort |
   cpio -o -H newc -R 0:0 --reproducible --quiet) > "$work/initramfs.cpio"
gzip -1 -n -c "$work/initramfs.cpio" > "$out.tmp"
mv "$out.tmp" "$out"
