#!/bin/bash
# Build hyrun's guest kernel: Debian's linux-source-6.1, `make tinyconfig`
# plus guest-kernel/hyrun.config, bzImage only. The result is cached, so a
# second run is instant; the path of the bzImage is the only line printed on
# stdout (progress goes to stderr).
#   guest-kernel/build.sh [--force]    --force rebuilds even when cached
# Environment:
#   HYRUN_KERNEL_CACHE  cache root (default /var/cache/hyrun/kernel); the
#                       image lands in <root>/<key>/bzImage, key = sha256 of
#                       the fragment, the linux-source-6.1 version and this script
#   HYRUN_KERNEL_WORK   where the source is unpacked and built
#                       (default /var/tmp/hyrun-kernel; reused between builds)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/hyrun.config
cache_root=${HYRUN_KERNEL_CACHE:-/var/cache/hyrun/kernel}
work=${HYRUN_KERNEL_WORK:-/var/tmp/hyrun-kernel}
src_pkg=linux-source-6.1
tarball=/usr/src/$src_pkg.tar.xz
arch=x86_64
force=

while (($#)); do
  case $1 in
    --force) force=1 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

log () { echo "guest-kernel: $*" >&2; }
die () { log "error: $*"; exit 1; }

ensure_packages ()
{
  local pkgs=($src_pkg build-essential bc bison flex libelf-dev cpio xz-utils)
  local missing=() pkg status
  for pkg in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    [[ $status == ii* ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  local sudo=
  ((EUID == 0)) || sudo=sudo
  local opts=(-q -y -o Dpkg::Use-Pty=0 --no-install-recommends)
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install "${opts[@]}" "${missing[@]}" >/dev/null 2>&1; then
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install "${opts[@]}" "${missing[@]}" >/dev/null
  fi
}

# Every line of the fragment must hold in the final .config: `CONFIG_X=v`
# verbatim, `# CONFIG_X is not set` as absent. Kconfig silently drops an
# option whose dependencies are off; this makes that loud.
check_config ()
{
  local config=$1 line sym bad=()
  while IFS= read -r line; do
    if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)= ]]; then
      sym=${BASH_REMATCH[1]}
      grep -qxF -- "$line" "$config" ||
        bad+=("$line (got: $(grep -E "^(# )?$sym[= ]" "$config" || echo 'absent'))")
    elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
      sym=${BASH_REMATCH[1]}
      ! grep -qE "^$sym=" "$config" ||
        bad+=("$line (got: $(grep -E "^$sym=" "$config"))")
    fi
  done < "$fragment"
  if ((${#bad[@]})); then
    log "these options of $fragment did not end up in the .config:"
    printf '  %s\n' "${bad[@]}" >&2
    die "fix the fragment (usually a missing dependency) and re-run"
  fi
}

[[ -f $fragment ]] || die "no fragment at $fragment"
ensure_packages
[[ -f $tarball ]] || die "$tarball missing although $src_pkg is installed"
version=$(dpkg-query -W -f='${Version}' $src_pkg)
key=$({ cat "$fragment"; echo "$src_pkg $version"; cat "$0"; } | sha256sum | cut -d' ' -f1)
out=$cache_root/$key

if [[ -z $force && -f $out/bzImage ]]; then
  echo "$out/bzImage"
  exit 0
fi

mkdir -p "$cache_root" "$work"
# One build at a time per cache (and work dir): a second caller waits, then
# finds the image cached.
exec 9>"$cache_root/.lock"
flock 9
if [[ -z $force && -f $out/bzImage ]]; then
  echo "$out/bzImage"
  exit 0
fi

start=$(date +%s)
src=$work/$src_pkg-$version
if [[ ! -f $src/.hyrun-unpacked ]]; then
  log "unpacking $tarball into $src"
  rm -rf "$src" "$src.tmp"
  mkdir -p "$src.tmp"
  tar -xJf "$tarball" -C "$src.tmp"
  mv "$src.tmp/$src_pkg" "$src"
  rmdir "$src.tmp"
  touch "$src/.hyrun-unpacked"
fi

obj=$work/obj-$version
mkdir -p "$obj"
kmake=(make -C "$src" O="$obj" ARCH=$arch
       KBUILD_BUILD_USER=hyrun KBUILD_BUILD_HOST=hyrun)

log "configuring (tinyconfig + $(basename "$fragment"))"
"${kmake[@]}" -s tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment" >/dev/null
"${kmake[@]}" -s olddefconfig >/dev/null 2>&1
check_config "$obj/.config"

jobs=$(nproc 2>/dev/null || echo 2)
log "building bzImage with -j$jobs (log: $obj/build.log)"
if ! "${kmake[@]}" -j"$jobs" bzImage >"$obj/build.log" 2>&1; then
  tail -n 40 "$obj/build.log" >&2
  die "kernel build failed, see $obj/build.log"
fi

tmp=$(mktemp -d "$cache_root/.new.XXXXXX")
cp "$obj/arch/x86/boot/bzImage" "$tmp/bzImage"
cp "$obj/.config" "$tmp/config"
cp "$fragment" "$tmp/hyrun.config"
{
  echo "source=$src_pkg $version"
  echo "release=$(cat "$obj/include/config/kernel.release")"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) in $(($(date +%s) - start))s"
} > "$tmp/info"
chmod 755 "$tmp"
rm -rf "$out"
mv -T "$tmp" "$out"
log "built in $(($(date +%s) - start))s: $(stat -c %s "$out/bzImage") bytes"
echo "$out/bzImage"
