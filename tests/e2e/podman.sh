#!/bin/bash
# podman (4.3, conmon) driving the runtime under test end to end.
#
#   tests/e2e/podman.sh [--runtime hyrun|runc|PATH] [--keep-logs DIR] [--timeout S]
#
# Everything is private to a temp dir: podman's --root/--runroot/--tmpdir
# (vfs storage, cgroupfs manager, file events: no systemd here), and the
# runtime's own --root. A busybox image is imported from a tarball of the
# rootfs scripts/make-bundle makes (no registry). The runtime is wrapped in
# a script that logs every call's argv (printed at the end).
#
# Cases: run --rm (exit code, stdout/stderr apart), run -t (console socket),
# run -d + inspect, exec, exec -t, pause/unpause, stop (SIGTERM handled),
# kill (137), rm -f of a running container, and no leftovers (runtime
# root, cgroups, mounts, processes). One `ok`/`FAIL` line per case, then
# `podman (RUNTIME): N passed, F failed`; exit 1 when a case failed, 2
# when the harness could not run.
set -euo pipefail
e2e_suite=podman
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

command -v podman >/dev/null || { echo "podman.sh: podman is not installed (tests/e2e/run.sh installs it)" >&2; exit 2; }
command -v script >/dev/null || { echo "podman.sh: script(1) missing (bsdutils)" >&2; exit 2; }

rt_root=$e2e_tmp/runtime-root
rt_log=$e2e_tmp/runtime-log.json
wrapper=$(e2e_wrapper "$rt_root" "$rt_log")
mkdir -p "$e2e_tmp/podman-tmp"

# This machine cannot raise hard rlimits (no CAP_SYS_RESOURCE in the
# sandbox): podman's defaults (nofile 1048576, nproc = host max) would fail
# with every runtime. Keep them at values any root can set.
ulimits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
# E2E_RUN_OPTS: more `podman run` options, to try around a failure (e.g.
# "--security-opt seccomp=unconfined").
read -ra extra_opts <<< "${E2E_RUN_OPTS:-}"
ulimits+=("${extra_opts[@]}")
image=localhost/busybox:e2e
pm_cmd=(podman --root "$e2e_tmp/storage" --runroot "$e2e_tmp/run"
        --tmpdir "$e2e_tmp/podman-tmp" --storage-driver vfs
        --cgroup-manager cgroupfs --events-backend file --runtime "$wrapper")
e2e_command pm "${pm_cmd[@]}"
# The same under script(1), for the cases that need a terminal.
pm_tty () { t script -qec "$(printf '%q ' "${pm_cmd[@]}" "$@")" /dev/null; }
# podman run with the options every case needs.
e2e_command pm_run "${pm_cmd[@]}" run --network none "${ulimits[@]}"

ids=()   # containers made, for the leftover checks and the cleanup
pids=()  # their init pids while running
cleanup ()
{
  set +e
  local id p
  for id in "${ids[@]}"; do timeout 30 "${pm_cmd[@]}" rm -f "$id" >/dev/null 2>&1; done
  for id in "$rt_root"/*; do
    [[ -e $id ]] && "$e2e_real" --root "$rt_root" delete -f "${id##*/}" >/dev/null 2>&1
  done
  for p in "${pids[@]}" $(e2e_pids_under "$e2e_tmp"); do kill -9 "$p" 2>/dev/null; done
  e2e_keep "$rt_log"
  e2e_umount_under "$e2e_tmp"
  rm -rf "$e2e_tmp"
}
trap cleanup EXIT

echo "# podman $(podman --version | awk '{print $3}'), conmon $(conmon --version | awk 'NR==1{print $3}'), runtime $e2e_real ($e2e_name)"

tar=$(e2e_rootfs_tar)
t pm import "$tar" "$image"
((rc == 0)) || { echo "podman.sh: podman import failed: $(err)" >&2; exit 2; }

# Why a case failed: the client's error, and the runtime's log (hyrun and
# runc write their error there too) when it has something new.
log_mark=0
why ()
{
  local msg
  msg="exit $rc: $(err)"
  if [[ -s $rt_log ]]; then
    local new
    new=$(tail -c +"$((log_mark + 1))" "$rt_log" | grep -v '"level":"\(debug\|info\)"' | tail -3 | tr '\n' ' ' | cut -c1-400)
    [[ -n $new ]] && msg+=" | runtime log: $new"
  fi
  echo "$msg"
}
mark () { log_mark=$(stat -c %s "$rt_log" 2>/dev/null || echo 0); }

# ---- run --rm: exit code, stdout and stderr apart
mark
set +e
timeout -k 5 "$e2e_timeout" "${pm_cmd[@]}" run --rm --network none "${ulimits[@]}" "$image" sh -c 'echo out; echo err >&2; exit 3' \
  > "$e2e_tmp/out" 2> "$e2e_tmp/err" < /dev/null
rc=$?
set -e
if ((rc == 3)) && [[ $(out) == out ]] && grep -qx err "$e2e_tmp/err"; then
  ok run-exit-code
else
  fail run-exit-code "wanted exit 3, stdout 'out', stderr 'err'; got stdout '$(out | head -c 200)', $(why)"
fi

# ---- run -t: the console comes through --console-socket
mark
pm_tty run --rm -t --network none "${ulimits[@]}" "$image" sh -c 'tty; exit 5'
if ((rc == 5)) && grep -q '^/dev/pts/' "$e2e_tmp/out"; then
  ok run-tty
else
  fail run-tty "wanted exit 5 and a /dev/pts tty; got '$(out | tr -d '\r' | head -c 200)', $(why)"
fi

# ---- run -d, then the container is running with a pid
mark
t pm_run -d --name e2e-sleep "$image" sh -c 'trap "exit 0" TERM; sleep 1000 & wait'
sleep_id=$(out)
if ((rc == 0)) && [[ -n $sleep_id ]]; then
  ids+=("$sleep_id")
  t pm inspect -f '{{.State.Status}} {{.State.Pid}}' e2e-sleep
  read -r st pid < "$e2e_tmp/out" || true
  if [[ $st == running && $pid -gt 0 ]] && kill -0 "$pid" 2>/dev/null; then
    pids+=("$pid")
    ok run-detached
  else
    fail run-detached "inspect: '$(out)' $(err)"
  fi
else
  fail run-detached "$(why)"
fi
running=false
[[ $(pm inspect -f '{{.State.Status}}' e2e-sleep 2>/dev/null) == running ]] && running=true

# ---- exec (the runtime's `exec --process FILE --detach --pid-file`)
exec_case ()
{
  local name=$1; shift
  if ! $running; then fail "$name" "no running container (run-detached failed)"; return; fi
  mark
  if [[ $name == exec-tty ]]; then
    pm_tty exec -t e2e-sleep sh -c 'tty; echo hi'
  else
    t pm exec e2e-sleep sh -c 'echo hi; echo err >&2; exit 6'
  fi
  local got
  got=$(out | tr -d '\r')
  if [[ $name == exec-tty ]]; then
    ((rc == 0)) && grep -q '^/dev/pts/' <<<"$got" && grep -qx hi <<<"$got" && { ok "$name"; return; }
  else
    ((rc == 6)) && [[ $got == hi ]] && grep -qx err "$e2e_tmp/err" && { ok "$name"; return; }
  fi
  if cat "$e2e_tmp/err" - <<<"$got" | grep -q 'not implemented'; then
    fail "$name" "the runtime does not implement exec yet: $(why)${got:+ | output: $(head -c 300 <<<"$got" | tr '\n' ' ')}"
  else
    fail "$name" "got '$(head -c 200 <<<"$got")', $(why)"
  fi
}
exec_case exec
exec_case exec-tty

# ---- pause / unpause
if $running; then
  mark
  t pm pause e2e-sleep
  st=$(pm inspect -f '{{.State.Status}}' e2e-sleep 2>/dev/null || true)
  if ((rc == 0)) && [[ $st == paused ]]; then
    t pm unpause e2e-sleep
    st=$(pm inspect -f '{{.State.Status}}' e2e-sleep 2>/dev/null || true)
    if ((rc == 0)) && [[ $st == running ]]; then ok pause-unpause
    else fail pause-unpause "unpause: status $st, $(why)"; fi
  else
    fail pause-unpause "pause: status $st, $(why)"
  fi
else
  fail pause-unpause "no running container (run-detached failed)"
fi

# ---- stop: SIGTERM reaches the container, which exits 0 by itself
if $running; then
  mark
  start=$SECONDS
  t pm stop -t 20 e2e-sleep
  took=$((SECONDS - start))
  t2=$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' e2e-sleep 2>/dev/null || true)
  if ((rc == 0)) && [[ $t2 == "exited 0" ]] && ((took < 15)); then
    ok stop
  else
    fail stop "status/exit '$t2' after ${took}s, $(why)"
  fi
  t pm rm e2e-sleep
  ((rc == 0)) || fail stop "rm of the stopped container: $(why)"
else
  fail stop "no running container (run-detached failed)"
fi

# ---- kill: SIGKILL gives 137
mark
t pm_run -d --name e2e-kill "$image" sleep 1000
if ((rc == 0)); then
  ids+=("$(out)")
  t pm kill e2e-kill
  rc_kill=$rc
  t pm wait e2e-kill
  if ((rc_kill == 0)) && [[ $(out) == 137 ]]; then ok kill
  else fail kill "kill exit $rc_kill, wait said '$(out)', $(why)"; fi
  t pm rm e2e-kill
else
  fail kill "run -d: $(why)"
fi

# ---- rm -f of a running container
mark
t pm_run -d --name e2e-rmf "$image" sleep 1000
if ((rc == 0)); then
  ids+=("$(out)")
  p=$(pm inspect -f '{{.State.Pid}}' e2e-rmf 2>/dev/null || echo 0)
  t pm rm -f -t 0 e2e-rmf
  if ((rc == 0)) && ! pm container exists e2e-rmf && ! kill -0 "$p" 2>/dev/null; then
    ok rm-force
  else
    fail rm-force "$(why)"
  fi
else
  fail rm-force "run -d: $(why)"
fi

# ---- nothing left behind: runtime state, cgroups, mounts, processes
# (after podman removed what the failed cases left in its own store)
t pm rm -af -t 0
t pm ps -aq
left=()
[[ -z $(out) ]] || left+=("podman containers: $(out | tr '\n' ' ')")
for d in "$rt_root"/*; do [[ -e $d ]] && left+=("runtime state $d"); done
for id in "${ids[@]}"; do
  for d in /sys/fs/cgroup/*/libpod_parent/libpod-"$id" /sys/fs/cgroup/*/libpod_parent/libpod-"$id".scope \
           /sys/fs/cgroup/unified/libpod_parent/libpod-"$id"; do
    [[ -e $d ]] && left+=("cgroup $d")
  done
done
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left+=("process $p"); done
m=$(awk -v d="$e2e_tmp/storage/vfs-containers" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo)
[[ -z $m ]] || left+=("mounts: $m")
if ((${#left[@]} == 0)); then ok no-leftovers
else fail no-leftovers "${left[*]}"; fi

echo "# runtime calls by podman/conmon:"
e2e_show_argv | sed 's/^/#   /'
e2e_summary
