#!/bin/bash
# End-to-end tests with real clients: podman (conmon) and Docker (dockerd,
# containerd, the runc v2 shim) driving the runtime.
#
#   tests/e2e/run.sh [--runtime hyrun|runc|PATH]... [--only podman|docker]
#                    [--keep-logs DIR] [--no-install]
#
#   --runtime R   the runtime under test; repeat it to run the suites once
#                 per runtime (`--runtime runc --runtime hyrun` checks the
#                 harness with runc first). Default: hyrun ($HYRUN, else
#                 build/runtime/hyrun, built with scripts/build if missing)
#   --only S      only the podman or the docker suite
#   --keep-logs D keep each suite's runtime argv log, runtime log and daemon
#                 logs in D/RUNTIME-SUITE/
#   --no-install  do not touch apt (fail if something is missing)
#
# Installs what the tests need from Debian (podman, docker.io, busybox-static,
# jq), only what dpkg does not already report installed. Prints one line per
# case (`ok - SUITE/CASE`, `FAIL - SUITE/CASE: why`), the runtime calls each
# client made (lines starting with #), and as the last line
# `N passed, F failed`. Exit status 0 when nothing failed. Needs root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

usage () { sed -n '5,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
runtimes=()
suites=(podman docker)
keep=
install=true
while (($#)); do
  case $1 in
    --runtime) (($# >= 2)) || usage; runtimes+=("$2"); shift ;;
    --runtime=*) runtimes+=("${1#--runtime=}") ;;
    --only) (($# >= 2)) || usage; suites=("$2"); shift
            [[ ${suites[0]} == podman || ${suites[0]} == docker ]] || usage ;;
    --keep-logs) (($# >= 2)) || usage; keep=$2; shift ;;
    --no-install) install=false ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
  esac
  shift
done
((${#runtimes[@]})) || runtimes=(hyrun)
((EUID == 0)) || { echo "run.sh: needs root" >&2; exit 2; }

# ---- dependencies (idempotent: apt only for what dpkg lacks)
packages=(podman docker.io busybox-static jq bsdutils)
missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  [[ $status == ii* ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  $install || { echo "run.sh: missing packages: ${missing[*]}" >&2; exit 2; }
  echo "# installing ${missing[*]}"
  start=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  opts=(-q -y -o Dpkg::Use-Pty=0)
  if ! apt-get install "${opts[@]}" "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install "${opts[@]}" "${missing[@]}" >/dev/null
  fi
  echo "# installed in $((SECONDS - start))s"
fi

# ---- hyrun itself, when it is the runtime under test and not built yet
for r in "${runtimes[@]}"; do
  if [[ $r == hyrun && -z ${HYRUN:-} && ! -x $top/build/runtime/hyrun ]]; then
    echo "# building hyrun (scripts/build)"
    "$top/scripts/build" >/dev/null
  fi
done

passed=0
failed=0
for r in "${runtimes[@]}"; do
  for s in "${suites[@]}"; do
    args=(--runtime "$r")
    [[ -z $keep ]] || args+=(--keep-logs "$keep/$(basename "$r")-$s")
    out=$(mktemp)
    set +e
    bash "$here/$s.sh" "${args[@]}" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    set -e
    p=$(grep -c '^ok - ' "$out" || true)
    f=$(grep -c '^FAIL - ' "$out" || true)
    if ((rc == 2 || (rc != 0 && f == 0))); then
      echo "FAIL - $s: the harness could not run (exit $rc)"
      f=$((f + 1))
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    rm -f "$out"
  done
done
echo "$passed passed, $failed failed"
((failed == 0))
