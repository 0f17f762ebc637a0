#!/bin/bash
# Docker (dockerd 20.10 + its managed containerd + the io.containerd.runc.v2
# shim) driving the runtime under test end to end.
#
#   tests/e2e/docker.sh [--runtime hyrun|runc|PATH] [--keep-logs DIR] [--timeout S]
#
# A private dockerd: --data-root, --exec-root, pidfile and socket in a temp
# dir, no iptables/bridge (containers get --network none), vfs storage; it
# starts its own containerd (config and sockets under the exec root). The
# runtime is registered as `--add-runtime e2e=WRAPPER`, a script that logs
# every call's argv (printed at the end) and execs the real runtime; every
# container is run with --runtime e2e. A busybox image is imported from a
# tarball of the rootfs scripts/make-bundle makes (no registry).
#
# Cases: run --rm (exit code, stdout/stderr apart), run -t (console socket),
# run -d + inspect, exec, exec -t, pause/unpause, top (the runtime's `ps`),
# stop (SIGTERM handled), kill (137), rm -f of a running container, and no
# leftovers (runtime root, cgroups, processes). dockerd is stopped and its
# mounts and dirs removed on exit. One `ok`/`FAIL` line per case, then
# `docker (RUNTIME): N passed, F failed`; exit 1 when a case failed, 2 when
# the harness could not run.
set -euo pipefail
e2e_suite=docker
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

command -v dockerd >/dev/null || { echo "docker.sh: dockerd is not installed (tests/e2e/run.sh installs docker.io)" >&2; exit 2; }
command -v script >/dev/null || { echo "docker.sh: script(1) missing (bsdutils)" >&2; exit 2; }
# Debian's client goes with Debian's daemon (another docker may be earlier on PATH).
docker_bin=/usr/bin/docker
[[ -x $docker_bin ]] || docker_bin=$(command -v docker)

d=$e2e_tmp/docker
mkdir -p "$d"
sock=$d/docker.sock
export DOCKER_HOST=unix://$sock
# containerd's shim passes --root and --log to the runtime: nothing to add.
wrapper=$(e2e_wrapper "" "")
# The runtime root the shim passes (dockerd 20.10: EXEC_ROOT/runtime-runc/moby),
# read back from the argv log once a container ran.
rt_root=$d/exec/runtime-runc/moby
find_rt_root ()
{
  local r
  r=$(grep -o -- '--root [^ ]*' "$e2e_argv_log" | head -1 | cut -d' ' -f2)
  [[ -z $r ]] || rt_root=$(printf '%b' "${r//\\/}")
}
e2e_command dk "$docker_bin"
# E2E_RUN_OPTS: more `docker run` options, to try around a failure.
read -ra extra_opts <<< "${E2E_RUN_OPTS:-}"
e2e_command dk_run "$docker_bin" run --runtime e2e --network none "${extra_opts[@]}"
image=busybox:e2e

dockerd_pid=
ids=()
pids=()
cleanup ()
{
  set +e
  local id p
  if [[ -n $dockerd_pid ]] && kill -0 "$dockerd_pid" 2>/dev/null; then
    for id in "${ids[@]}"; do timeout 30 "$docker_bin" rm -f "$id" >/dev/null 2>&1; done
    kill -TERM "$dockerd_pid"
    for _ in $(seq 150); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$dockerd_pid" 2>/dev/null
  fi
  find_rt_root
  for id in "$rt_root"/*; do
    [[ -e $id ]] && "$e2e_real" --root "$rt_root" delete -f "${id##*/}" >/dev/null 2>&1
  done
  # containerd and its shims (their command lines name our dirs), and the
  # containers' processes, by pid
  for p in "${pids[@]}" $(e2e_pids_under "$e2e_tmp"); do kill -9 "$p" 2>/dev/null; done
  sleep 0.2
  e2e_keep "$d/dockerd.log" "$d/exec/containerd/containerd.toml"
  e2e_umount_under "$e2e_tmp"
  rm -rf "$e2e_tmp"
}
trap cleanup EXIT

echo "# dockerd $(dockerd --version | awk '{print $3}' | tr -d ,), containerd $(containerd --version | awk '{print $3}'), runtime $e2e_real ($e2e_name)"

# ---- the private daemon
dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \
  -H "unix://$sock" --iptables=false --ip6tables=false --bridge=none \
  --ip-forward=false --ip-masq=false --userland-proxy=false \
  --storage-driver vfs --exec-opt native.cgroupdriver=cgroupfs \
  --add-runtime "e2e=$wrapper" > "$d/dockerd.log" 2>&1 < /dev/null &
dockerd_pid=$!
for _ in $(seq 300); do
  [[ -S $sock ]] && "$docker_bin" version >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || break
  sleep 0.1
done
if ! "$docker_bin" version >/dev/null 2>&1; then
  echo "docker.sh: dockerd did not come up; its log:" >&2
  tail -20 "$d/dockerd.log" >&2
  exit 2
fi

tar=$(e2e_rootfs_tar)
t dk import "$tar" "$image"
((rc == 0)) || { echo "docker.sh: docker import failed: $(err)" >&2; exit 2; }

# Why a case failed: the client's error (containerd reads the runtime's
# --log json file and puts its last error there) and dockerd's new errors.
log_mark=0
mark () { log_mark=$(stat -c %s "$d/dockerd.log" 2>/dev/null || echo 0); }
why ()
{
  local msg new
  msg="exit $rc: $(err)"
  new=$(tail -c +"$((log_mark + 1))" "$d/dockerd.log" | grep 'level=error' |
        grep -v 'stream copy error\|copy shim log\|cleanup: failed to delete container from containerd\|Handler for' |
        tail -2 | sed 's/^time="[^"]*" //' | tr '\n' ' ' | cut -c1-400)
  [[ -n $new ]] && msg+=" | dockerd: $new"
  echo "$msg"
}
# The runtime's stopped containers are deleted by the shim; runc-compatible
# `delete` errors end up in dockerd's log only.

# ---- run --rm: exit code, stdout and stderr apart
mark
t dk_run --rm "$image" sh -c 'echo out; echo err >&2; exit 4'
if ((rc == 4)) && [[ $(out) == out ]] && grep -qx err "$e2e_tmp/err"; then
  ok run-exit-code
else
  fail run-exit-code "wanted exit 4, stdout 'out', stderr 'err'; got stdout '$(out | head -c 200)', $(why)"
fi

# ---- run -t: the console comes through the shim's --console-socket
mark
t script -qec "$(printf '%q ' "$docker_bin" run --runtime e2e --network none "${extra_opts[@]}" \
  --rm -t "$image" sh -c 'tty; exit 5')" /dev/null
if ((rc == 5)) && grep -q '^/dev/pts/' "$e2e_tmp/out"; then
  ok run-tty
else
  fail run-tty "wanted exit 5 and a /dev/pts tty; got '$(out | tr -d '\r' | tr '\n' ' ' | head -c 300)', $(why)"
fi

# ---- run -d, then the container is running with a pid
mark
t dk_run -d --name e2e-sleep "$image" sh -c 'trap "exit 0" TERM; sleep 1000 & wait'
if ((rc == 0)) && [[ -n $(out) ]]; then
  ids+=("$(out)")
  t dk inspect -f '{{.State.Status}} {{.State.Pid}}' e2e-sleep
  read -r st pid < "$e2e_tmp/out" || true
  if [[ $st == running && ${pid:-0} -gt 0 ]] && kill -0 "$pid" 2>/dev/null; then
    pids+=("$pid")
    ok run-detached
  else
    fail run-detached "inspect: '$(out)' $(err)"
  fi
else
  fail run-detached "$(why)"
fi
running=false
[[ $("$docker_bin" inspect -f '{{.State.Status}}' e2e-sleep 2>/dev/null) == running ]] && running=true

# ---- exec (the runtime's `exec --process FILE --detach --pid-file`)
exec_case ()
{
  local name=$1
  if ! $running; then fail "$name" "no running container (run-detached failed)"; return; fi
  mark
  if [[ $name == exec-tty ]]; then
    t script -qec "$(printf '%q ' "$docker_bin" exec -t e2e-sleep sh -c 'tty; echo hi')" /dev/null
  else
    t dk exec e2e-sleep sh -c 'echo hi; echo err >&2; exit 6'
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
  t dk pause e2e-sleep
  st=$("$docker_bin" inspect -f '{{.State.Status}}' e2e-sleep 2>/dev/null || true)
  if ((rc == 0)) && [[ $st == paused ]]; then
    t dk unpause e2e-sleep
    st=$("$docker_bin" inspect -f '{{.State.Status}}' e2e-sleep 2>/dev/null || true)
    if ((rc == 0)) && [[ $st == running ]]; then ok pause-unpause
    else fail pause-unpause "unpause: status $st, $(why)"; fi
  else
    fail pause-unpause "pause: status $st, $(why)"
  fi
else
  fail pause-unpause "no running container (run-detached failed)"
fi

# ---- top: dockerd asks the runtime (`ps --format json ID`) for the pids
if $running; then
  mark
  t dk top e2e-sleep
  if ((rc == 0)) && grep -q 'sleep 1000' "$e2e_tmp/out"; then ok top
  elif grep -q 'not implemented' "$e2e_tmp/err"; then
    fail top "the runtime does not implement ps yet: $(why)"
  else fail top "got '$(out | tr '\n' ' ' | head -c 200)', $(why)"; fi
else
  fail top "no running container (run-detached failed)"
fi

# ---- stop: SIGTERM reaches the container, which exits 0 by itself
if $running; then
  mark
  start=$SECONDS
  t dk stop -t 20 e2e-sleep
  took=$((SECONDS - start))
  st=$("$docker_bin" inspect -f '{{.State.Status}} {{.State.ExitCode}}' e2e-sleep 2>/dev/null || true)
  if ((rc == 0)) && [[ $st == "exited 0" ]] && ((took < 15)); then
    ok stop
  else
    fail stop "status/exit '$st' after ${took}s, $(why)"
  fi
  t dk rm e2e-sleep
  ((rc == 0)) || fail stop "rm of the stopped container: $(why)"
else
  fail stop "no running container (run-detached failed)"
fi

# ---- kill: SIGKILL gives 137
mark
t dk_run -d --name e2e-kill "$image" sleep 1000
if ((rc == 0)); then
  ids+=("$(out)")
  t dk kill e2e-kill
  rc_kill=$rc
  t dk wait e2e-kill
  if ((rc_kill == 0)) && [[ $(out) == 137 ]]; then ok kill
  else fail kill "kill exit $rc_kill, wait said '$(out)', $(why)"; fi
  t dk rm e2e-kill
else
  fail kill "run -d: $(why)"
fi

# ---- rm -f of a running container
mark
t dk_run -d --name e2e-rmf "$image" sleep 1000
if ((rc == 0)); then
  ids+=("$(out)")
  p=$("$docker_bin" inspect -f '{{.State.Pid}}' e2e-rmf 2>/dev/null || echo 0)
  t dk rm -f e2e-rmf
  if ((rc == 0)) && ! "$docker_bin" inspect e2e-rmf >/dev/null 2>&1 && ! kill -0 "$p" 2>/dev/null; then
    ok rm-force
  else
    fail rm-force "$(why)"
  fi
else
  fail rm-force "run -d: $(why)"
fi

# ---- nothing left behind: runtime state, cgroups, processes, shims
find_rt_root
mapfile -t all < <("$docker_bin" ps -aq 2>/dev/null)
((${#all[@]} == 0)) || t dk rm -f "${all[@]}"
left=()
for d2 in "$rt_root"/*; do [[ -e $d2 ]] && left+=("runtime state $d2"); done
for id in "${ids[@]}"; do
  for d2 in /sys/fs/cgroup/*/docker/"$id" /sys/fs/cgroup/unified/docker/"$id"; do
    [[ -e $d2 ]] && left+=("cgroup $d2")
  done
done
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left+=("process $p"); done
shims=$(pgrep -f "containerd-shim-runc-v2 .*-address $d/exec/containerd/containerd.sock" || true)
[[ -z $shims ]] || left+=("shims: ${shims//$'\n'/ }")
if ((${#left[@]} == 0)); then ok no-leftovers
else fail no-leftovers "${left[*]}"; fi

echo "# runtime calls by containerd's runc shim:"
e2e_show_argv | sed 's/^/#   /'
e2e_summary
