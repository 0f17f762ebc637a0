# Shared by tests/e2e/podman.sh and tests/e2e/docker.sh (sourced, not run).
#
# Gives: option parsing (--runtime, --keep-logs), a private temp dir, the
# busybox rootfs tarball, a logging wrapper around the runtime under test,
# one `ok`/`FAIL` line per case and the summary line.
# shellcheck shell=bash

e2e_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
e2e_top=$(cd "$e2e_here/../.." && pwd)

e2e_usage ()
{
  cat >&2 <<EOF
usage: $0 [--runtime hyrun|runc|crun|PATH] [--keep-logs DIR] [--timeout S]
  --runtime     the runtime under test (default: hyrun = \$HYRUN, else
                build/runtime/hyrun); runc validates the harness itself
  --keep-logs   copy the runtime argv log, the runtime's own log and the
                client/daemon logs to DIR before cleaning up
  --timeout S   limit for one client command (default 60)
EOF
  exit 2
}

e2e_runtime=hyrun
e2e_keep_logs=
e2e_timeout=60
while (($#)); do
  case $1 in
    --runtime) (($# >= 2)) || e2e_usage; e2e_runtime=$2; shift ;;
    --runtime=*) e2e_runtime=${1#--runtime=} ;;
    --keep-logs) (($# >= 2)) || e2e_usage; e2e_keep_logs=$2; shift ;;
    --keep-logs=*) e2e_keep_logs=${1#--keep-logs=} ;;
    --timeout) (($# >= 2)) || e2e_usage; e2e_timeout=$2; shift ;;
    -h|--help) e2e_usage ;;
    *) echo "$0: unknown option $1" >&2; e2e_usage ;;
  esac
  shift
done

# The real binary: a name resolves as hyrun's build or a program on PATH.
case $e2e_runtime in
  hyrun)
    e2e_real=${HYRUN:-$e2e_top/build/runtime/hyrun}
    e2e_name=hyrun ;;
  */*)
    e2e_real=$e2e_runtime
    e2e_name=$(basename "$e2e_runtime") ;;
  *)
    e2e_real=$(command -v "$e2e_runtime" || true)
    e2e_name=$e2e_runtime ;;
esac
if [[ -z $e2e_real || ! -x $e2e_real ]]; then
  echo "$0: runtime \"$e2e_runtime\" not found (build hyrun with scripts/build or set HYRUN)" >&2
  exit 2
fi
e2e_real=$(readlink -f "$e2e_real")

((EUID == 0)) || { echo "$0: needs root" >&2; exit 2; }

# Short: dockerd and containerd put unix sockets under it (108-byte limit).
e2e_tmp=$(mktemp -d /tmp/e2e.XXXXXX)
chmod 0755 "$e2e_tmp"
e2e_passed=0
e2e_failed=0
e2e_suite=${e2e_suite:-e2e}

# One line per case on stdout: `ok - SUITE/CASE` or `FAIL - SUITE/CASE: why`.
ok () { echo "ok - $e2e_suite/$1"; e2e_passed=$((e2e_passed + 1)); }
fail ()
{
  local name=$1; shift
  echo "FAIL - $e2e_suite/$name: $*" | sed -E "s#$e2e_tmp#<tmp>#g; s/[0-9a-f]{64}/<id>/g"
  e2e_failed=$((e2e_failed + 1))
}

# Ending the script: per-suite summary, exit status 1 when a case failed.
e2e_summary ()
{
  echo "$e2e_suite ($e2e_name): $e2e_passed passed, $e2e_failed failed"
  ((e2e_failed == 0))
}

# e2e_command NAME CMD...: makes NAME a program (in $e2e_tmp/cmd, on PATH)
# running CMD with its arguments then the caller's, so that `t` can put it
# under timeout(1), which cannot run shell functions.
mkdir -p "$e2e_tmp/cmd"
PATH=$e2e_tmp/cmd:$PATH
e2e_command ()
{
  local name=$1; shift
  { echo '#!/bin/bash'; printf 'exec'; printf ' %q' "$@"; echo ' "$@"'; } > "$e2e_tmp/cmd/$name"
  chmod 0755 "$e2e_tmp/cmd/$name"
}

# t CMD...: the command under the per-command timeout; its stdout and
# stderr go to $e2e_tmp/out and $e2e_tmp/err, its status to $rc.
rc=0
t ()
{
  set +e
  timeout -k 5 "$e2e_timeout" "$@" > "$e2e_tmp/out" 2> "$e2e_tmp/err" < /dev/null
  rc=$?
  set -e
  ((rc != 124)) || echo "timed out after ${e2e_timeout}s: $*" >> "$e2e_tmp/err"
  return 0
}
out () { cat "$e2e_tmp/out"; }
# The client's error, on one line, for a FAIL message.
err () { tr '\n' ' ' < "$e2e_tmp/err" | sed 's/  */ /g; s/ $//' | cut -c1-600; }

# The busybox rootfs of scripts/make-bundle, as a tarball to import.
e2e_rootfs_tar ()
{
  local b=$e2e_tmp/bundle
  if [[ ! -x /bin/busybox ]]; then
    echo "$0: /bin/busybox missing (apt-get install busybox-static)" >&2
    return 1
  fi
  HYRUN=$([[ $e2e_name == hyrun ]] && echo "$e2e_real" || true) \
    bash "$e2e_top/scripts/make-bundle" "$b" >/dev/null 2>&1 ||
    { echo "$0: scripts/make-bundle failed" >&2; return 1; }
  tar -C "$b/rootfs" -cf "$e2e_tmp/rootfs.tar" .
  echo "$e2e_tmp/rootfs.tar"
}

# The runtime the client is given: $e2e_tmp/bin/NAME (the real runtime's
# name: podman chooses behaviour by it), a script that appends its argv (one
# line, shell-quoted) to $e2e_argv_log and execs the real runtime. ROOT, when
# given, is put first as --root unless the caller passes a --root of its own
# (podman and conmon pass none; containerd's shim does); LOG likewise as
# --log LOG --log-format json unless the caller passes a --log.
# E2E_PATCH_CONFIG (debugging only, off by default): a jq filter applied to
# the bundle's config.json before `create`, to see what fails past a known
# failure (e.g. 'del(.linux.resources.blockIO)').
e2e_argv_log=$e2e_tmp/runtime-argv.log
e2e_wrapper ()
{
  local root=$1 log=$2
  mkdir -p "$e2e_tmp/bin"
  local w=$e2e_tmp/bin/$e2e_name
  cat > "$w" <<EOF
#!/bin/bash
{ printf '%q ' "\$(basename "\$0")" "\$@"; echo; } >> $e2e_argv_log
extra=()
root='$root' log='$log'
[[ -n \$root && " \$* " != *" --root"[\ =]* ]] && extra+=(--root "\$root")
[[ -n \$log && " \$* " != *" --log"[\ =]* ]] && extra+=(--log "\$log" --log-format json)
patch=$(printf '%q' "${E2E_PATCH_CONFIG:-}")
if [[ -n \$patch && " \$* " == *" create "* ]]; then
  prev=
  for a in "\$@"; do
    if [[ \$prev == --bundle || \$prev == -b ]]; then
      jq "\$patch" "\$a/config.json" > "\$a/config.json.e2e" && mv "\$a/config.json.e2e" "\$a/config.json"
    fi
    prev=\$a
  done
fi
exec $e2e_real "\${extra[@]}" "\$@"
EOF
  chmod 0755 "$w"
  : > "$e2e_argv_log"
  echo "$w"
}

# The verbs the client called, in order, ids and paths shortened, for the log.
e2e_show_argv ()
{
  sed -E 's/[0-9a-f]{64}/<id>/g; s#'"$e2e_tmp"'#<tmp>#g' "$e2e_argv_log"
}

e2e_keep ()
{
  [[ -n $e2e_keep_logs ]] || return 0
  mkdir -p "$e2e_keep_logs"
  local f
  for f in "$@"; do
    [[ -e $f ]] && cp -r "$f" "$e2e_keep_logs/" 2>/dev/null || true
  done
  e2e_show_argv > "$e2e_keep_logs/runtime-argv.txt" || true
}

# Unmount whatever is still mounted under DIR, deepest first.
e2e_umount_under ()
{
  local dir=$1 m
  for _ in 1 2 3; do
    mapfile -t mnts < <(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r)
    ((${#mnts[@]})) || return 0
    for m in "${mnts[@]}"; do umount -l "$m" 2>/dev/null || true; done
  done
}

# Processes whose command line names DIR (ours: everything the test starts
# lives under its own temp dir), by pid.
e2e_pids_under ()
{
  local dir=$1 p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ $p == "$$" || $p == "$BASHPID" ]] && continue
    tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline" | grep -qF "$dir" && echo "$p"
  done
  return 0
}
