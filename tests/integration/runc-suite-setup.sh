#!/bin/bash
# Prepare the machine for tests/integration/runc-suite.sh (Debian 12, root):
#
#   tests/integration/runc-suite-setup.sh [CACHE]
#
# 1. installs what the suite runs on the host: bats, jq, gawk, busybox-static,
#    util-linux's script, iproute2, gcc and the static libc (dev.bats and
#    seccomp.bats build static test programs), dpkg-dev (dpkg-source);
# 2. makes runc's Debian source package reachable: when `apt-cache showsrc
#    runc` knows nothing, adds a deb-src twin of every enabled bookworm
#    `deb` entry (same mirror, suites, Signed-By; component main) to
#    /etc/apt/sources.list.d/hyrun-deb-src.sources and runs apt-get update;
# 3. downloads it with `apt-get source` into CACHE (default
#    /var/cache/hyrun/runc-src) and unpacks it once (Debian's patches
#    applied).
# Prints the unpacked source directory as its last line. Idempotent: a
# second run touches neither apt nor the network.
set -euo pipefail

cache=${1:-/var/cache/hyrun/runc-src}
say () { echo "runc-suite-setup: $*" >&2; }

if ((EUID != 0)); then
  say "must run as root"
  exit 2
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-q -y -o Dpkg::Use-Pty=0 --no-install-recommends)

# ---- 1. host packages
PACKAGES=(bats jq gawk busybox-static util-linux iproute2 gcc libc6-dev
          dpkg-dev xz-utils)
missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  [[ $status == ii* ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  if ! apt-get install "${APT_OPTS[@]}" "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install "${APT_OPTS[@]}" "${missing[@]}" >/dev/null
  fi
fi

# ---- 2. deb-src entries
have_source ()
{
  # Not `| grep -q`: with pipefail, grep's early exit fails the pipe.
  [[ $(apt-cache showsrc runc 2>/dev/null) == *Version:* ]]
}

# Every enabled `deb` entry of the bookworm suites, as deb822 deb-src
# stanzas. Reads the one-line sources.list format and .sources files alike.
deb_src_stanzas ()
{
  local f
  {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -f $f ]] || continue
      gawk '
        /^[ \t]*deb[ \t]/ {
          sub(/^[ \t]*deb[ \t]+/, "")
          signed = ""
          if (match($0, /^\[[^]]*\][ \t]*/)) {
            opts = substr($0, 2, RLENGTH - 1); sub(/\][ \t]*$/, "", opts)
            $0 = substr($0, RLENGTH + 1)
            n = split(opts, o, /[ \t]+/)
            for (i = 1; i <= n; i++)
              if (o[i] ~ /^signed-by=/) { signed = o[i]; sub(/^signed-by=/, "", signed) }
          }
          print $1 "\t" $2 "\t" signed
        }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -f $f && $f != */hyrun-deb-src.sources ]] || continue
      gawk '
        function flush() {
          if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled !~ /^no$/) {
            nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
            for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
              if (u[i] != "" && s[j] != "") print u[i] "\t" s[j] "\t" signed
          }
          types = uris = suites = signed = enabled = ""
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        {
          key = tolower($1); sub(/:$/, "", key); val = $0
          sub(/^[^:]*:[ \t]*/, "", val)
          if (key == "types") types = val
          else if (key == "uris") uris = val
          else if (key == "suites") suites = val
          else if (key == "signed-by") signed = val
          else if (key == "enabled") enabled = tolower(val)
        }
        END { flush() }' "$f"
    done
  } | gawk -F'\t' '$2 ~ /^bookworm(-updates|-security)?$/ && !seen[$1 FS $2]++ {
        print "Types: deb-src"
        print "URIs: " $1
        print "Suites: " $2
        print "Components: main"
        if ($3 != "") print "Signed-By: " $3
        print ""
      }'
}

if ! have_source; then
  list=/etc/apt/sources.list.d/hyrun-deb-src.sources
  stanzas=$(deb_src_stanzas)
  if [[ -z $stanzas ]]; then
    say "no enabled bookworm deb entry in /etc/apt/sources.list{,.d/}: add a deb-src entry by hand"
    exit 1
  fi
  if [[ ! -f $list ]] || [[ $(cat "$list") != "$stanzas" ]]; then
    say "adding deb-src entries to $list"
    printf '%s\n' "$stanzas" > "$list"
  fi
  apt-get update -q >/dev/null
  if ! have_source; then
    say "apt-cache showsrc runc still finds nothing after apt-get update"
    exit 1
  fi
fi

# ---- 3. runc's source package, unpacked once
version=$(apt-cache showsrc runc | gawk '/^Version:/ {print $2}' | sort -V | tail -1)
upstream=${version#*:}
upstream=${upstream%-*}
srcdir=$cache/runc-$upstream
if [[ ! -f $srcdir/.hyrun-unpacked ]]; then
  mkdir -p "$cache"
  # _apt cannot write to a root-only directory; apt then downloads as root.
  say "fetching runc $version's source into $cache"
  log=$(cd "$cache" && apt-get -q source --download-only "runc=$version" 2>&1) || true
  dsc=$cache/runc_${version#*:}.dsc
  if [[ ! -f $dsc ]]; then
    printf '%s\n' "$log" >&2
    say "apt-get source runc=$version downloaded nothing into $cache"
    exit 1
  fi
  rm -rf "$srcdir"
  # Says "Can't check signature: No public key" (no debian-keyring): the
  # files came from the signed archive, whose Sources index lists their hashes.
  if ! log=$(cd "$cache" && dpkg-source -x "$dsc" "$srcdir" 2>&1); then
    printf '%s\n' "$log" >&2
    say "dpkg-source -x $dsc failed"
    exit 1
  fi
  touch "$srcdir/.hyrun-unpacked"
fi
[[ $upstream == 1.1.5* ]] ||
  say "note: runc source is $upstream, the harness was written for 1.1.5"
echo "$srcdir"
