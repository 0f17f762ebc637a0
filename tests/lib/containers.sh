# Shared by the shell tests that run real containers (tests/cli/*.sh):
# source it after the script's own SKIP checks.  It gives a private state
# root and hyrun.conf, `hy` (hyrun on that root), `run` (capture into
# $tmp/out, $tmp/err and $rc), `bundle NAME CMD...` (a busybox bundle),
# `fail`, and a cleanup of every container and of $tmp on exit.
: "${HYRUN:?HYRUN must name the hyrun binary}"
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
root=$tmp/root
export HYRUN_CONFIG=$tmp/empty.conf
: > "$HYRUN_CONFIG"

fail () { echo "FAIL: $*" >&2; exit 1; }
hy () { "$HYRUN" --root "$root" "$@"; }
run () { set +e; "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; set -e; }
bundle ()
{
  local dir=$tmp/$1; shift
  HYRUN=$HYRUN bash "$top/scripts/make-bundle" "$dir" -- "$@" >/dev/null 2>&1
  echo "$dir"
}
cleanup ()
{
  for id in $(ls "$root" 2>/dev/null); do hy delete -f "$id" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
