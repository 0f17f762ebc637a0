#!/bin/bash
# Make the two root filesystem tarballs runc's integration suite unpacks
# into its bundles, from Debian packages instead of the images its
# get-images.sh downloads from GitHub:
#
#   tests/integration/make-images.sh OUTDIR [DEBCACHE]
#
# OUTDIR/busybox.tar  stands for docker-library's busybox (glibc) image:
#     Debian's static busybox (busybox-static) as /bin/busybox, a symlink in
#     /bin for each applet, and that image's /etc/passwd, /etc/group and
#     directories. Every test file but hooks.bats uses it.
# OUTDIR/debian.tar   stands for debuerreotype's debian:buster-slim; only
#     hooks.bats uses it, to run `ldconfig -p | grep ...` through /bin/sh.
#     Made of the Debian packages dash, grep, libc6, libc-bin and
#     libpcre2-8-0 (grep's one library), unpacked with dpkg-deb (no
#     maintainer scripts run). Their .debs are fetched once with
#     `apt-get download` into DEBCACHE (default /var/cache/hyrun/debs).
#
# A tarball that exists is kept; delete it to make it anew.
set -euo pipefail

usage ()
{
  sed -n '5p' "$0" | sed 's/^# *//' >&2
  exit 2
}

(($# >= 1 && $# <= 2)) || usage
outdir=$1
debcache=${2:-/var/cache/hyrun/debs}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/hyrun-images.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT

# Pack DIR's contents as TARBALL: entries named ./..., owned by root.
pack ()
{
  local dir=$1 tarball=$2
  tar --numeric-owner --owner=0 --group=0 -C "$dir" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
}

make_busybox ()
{
  local tarball=$outdir/busybox.tar rootfs=$work/busybox bb=/bin/busybox
  [[ -s $tarball ]] && return 0

  if [[ ! -x $bb ]] || ldd "$bb" >/dev/null 2>&1; then
    echo "make-images: $bb is missing or not static (install busybox-static)" >&2
    return 1
  fi

  mkdir -m 0755 "$rootfs"
  # No /proc nor /sys, as in that image: mask.bats replaces them by symlinks.
  mkdir -p "$rootfs"/{bin,dev,etc,home,root,tmp,usr/sbin,var/spool/mail,var/www}
  chmod 0755 "$rootfs"/*
  chmod 0700 "$rootfs/root"
  chmod 1777 "$rootfs/tmp"
  install -m 0755 "$bb" "$rootfs/bin/busybox"
  local applet
  while read -r applet; do
    [[ $applet == busybox ]] || ln -s busybox "$rootfs/bin/$applet"
  done < <("$bb" --list)

  # As in docker-library's busybox image (from buildroot's skeleton).
  cat > "$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
  cat > "$rootfs/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
EOF
  cat > "$rootfs/etc/shadow" <<'EOF'
root:*:10933:0:99999:7:::
daemon:*:10933:0:99999:7:::
bin:*:10933:0:99999:7:::
sys:*:10933:0:99999:7:::
sync:*:10933:0:99999:7:::
mail:*:10933:0:99999:7:::
www-data:*:10933:0:99999:7:::
operator:*:10933:0:99999:7:::
nobody:*:10933:0:99999:7:::
EOF
  chmod 0640 "$rootfs/etc/shadow"
  pack "$rootfs" "$tarball"
}

DEBIAN_PACKAGES=(dash grep libc6 libc-bin libpcre2-8-0)

make_debian ()
{
  local tarball=$outdir/debian.tar rootfs=$work/debian pkg deb
  [[ -s $tarball ]] && return 0

  mkdir -p "$debcache"
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    compgen -G "$debcache/${pkg}_*.deb" >/dev/null && continue
    # _apt cannot write to a root-owned directory; download as root, quietly.
    (cd "$debcache" && apt-get -qq download "$pkg" 2>&1 |
       grep -v 'unsandboxed as root' >&2 || true)
    if ! compgen -G "$debcache/${pkg}_*.deb" >/dev/null; then
      echo "make-images: could not download $pkg (apt-get update?)" >&2
      return 1
    fi
  done

  mkdir -m 0755 "$rootfs"
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    # The newest version if several were downloaded over time.
    deb=$(ls -1 "$debcache/${pkg}"_*.deb | sort -V | tail -1)
    dpkg-deb -x "$deb" "$rootfs"
  done
  # dash's postinst makes /bin/sh; debootstrap's skeleton the rest.
  ln -sfn dash "$rootfs/bin/sh"
  mkdir -p "$rootfs"/{dev,tmp,root,run,var/tmp,usr/local/bin}
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 0700 "$rootfs/root"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
    > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
  rm -rf "$rootfs/usr/share/doc" "$rootfs/usr/share/man" "$rootfs/usr/share/locale" \
         "$rootfs/usr/share/i18n"
  pack "$rootfs" "$tarball"
}

make_busybox
make_debian
