#!/bin/bash
# exec in container mode: exit codes, stdio, the container's namespaces and
# cgroup, env/cwd/user flags, detach + pid file, a terminal, and the
# refusals (missing binary, stopped, missing, paused containers).
set -euo pipefail
((EUID == 0)) || { echo "SKIP: needs root"; exit 0; }
[[ -x /bin/busybox ]] || { echo "SKIP: needs busybox-static"; exit 0; }
. "$(dirname "$0")/../lib/containers.sh"

b=$(bundle c sleep 1000)
hy run -d -b "$b" c
init=$(hy state c | jq -r .pid)

# exit code, separated stdout / stderr
run hy exec c sh -c 'echo out; echo err >&2; exit 5'
((rc == 5)) || fail "exit 5: exit $rc ($(cat "$tmp/err"))"
[[ $(cat "$tmp/out") == out ]] || fail "stdout: $(cat "$tmp/out")"
[[ $(cat "$tmp/err") == err ]] || fail "stderr: $(cat "$tmp/err")"

# the container's namespaces, not hyrun's
for ns in pid mnt uts ipc net; do
  inside=$(hy exec c readlink /proc/self/ns/$ns)
  [[ $inside == "$(readlink /proc/$init/ns/$ns)" ]] ||
    fail "$ns namespace: $inside, init has $(readlink /proc/$init/ns/$ns)"
  [[ $inside != "$(readlink /proc/self/ns/$ns)" ]] || fail "$ns: the host's"
done
[[ $(hy exec c hostname) == hyrun ]] || fail "hostname: $(hy exec c hostname)"
# the container's rootfs: busybox's /bin/sh, not the host's
[[ $(hy exec c readlink /bin/sh) == busybox ]] || fail "not in the rootfs"
# pid 1 is the container's init
[[ $(hy exec c cat /proc/1/cmdline | tr '\0' ' ') == "sleep 1000 " ]] ||
  fail "pid 1 inside is not init"

# env: the config's plus -e (which overrides)
out=$(hy exec -e FOO=bar -e TERM=dumb c env)
grep -qx FOO=bar <<< "$out" || fail "env lacks FOO=bar: $out"
grep -qx TERM=dumb <<< "$out" || fail "env: TERM not overridden: $out"
grep -q '^PATH=/usr/local/sbin:' <<< "$out" || fail "env lacks the config's PATH: $out"
[[ $(grep -c '^TERM=' <<< "$out") == 1 ]] || fail "TERM twice: $out"

# cwd and user
[[ $(hy exec --cwd /tmp c pwd) == /tmp ]] || fail "cwd"
[[ $(hy exec c pwd) == / ]] || fail "default cwd"
out=$(hy exec -u 1000:1000 c id)
[[ $out == "uid=1000 gid=1000"* ]] || fail "-u 1000:1000: $out"
out=$(hy exec -u 1000 -g 10 -g 11 c id)
[[ $out == "uid=1000 gid=0(root) groups=10,11" ]] || fail "-u 1000 -g: $out"

# capabilities: the config's, and --cap adds
bnd=$(hy exec c grep CapBnd /proc/self/status | awk '{print $2}')
[[ $bnd == 0000000020000420 ]] || fail "CapBnd: $bnd"
bnd=$(hy exec --cap CAP_SYS_ADMIN c grep CapBnd /proc/self/status | awk '{print $2}')
[[ $bnd == 0000000020200420 ]] || fail "--cap CapBnd: $bnd"
eff=$(hy exec --cap CAP_SYS_ADMIN c grep CapEff /proc/self/status | awk '{print $2}')
[[ $eff == 0000000020200420 ]] || fail "--cap CapEff: $eff"
[[ $(hy exec c grep NoNewPrivs /proc/self/status | awk '{print $2}') == 1 ]] ||
  fail "config's noNewPrivileges"

# --process FILE
jq -n '{args: ["sh", "-c", "echo $A; pwd; id -u; exit 3"], cwd: "/tmp",
        env: ["A=from-file", "PATH=/bin"], user: {uid: 7, gid: 7}}' > "$tmp/p.json"
run hy exec -p "$tmp/p.json" c
((rc == 3)) || fail "-p: exit $rc ($(cat "$tmp/err"))"
[[ $(cat "$tmp/out") == $'from-file\n/tmp\n7' ]] || fail "-p: $(cat "$tmp/out")"

# detach, pid file, cgroup
hy exec -d --pid-file "$tmp/pid" c sleep 100
pid=$(cat "$tmp/pid")
[[ $(tr '\0' ' ' < /proc/$pid/cmdline) == "sleep 100 " ]] || fail "pid file: $pid"
[[ $(cat /proc/$pid/cgroup) == "$(cat /proc/$init/cgroup)" ]] ||
  fail "cgroup: $(cat /proc/$pid/cgroup)"
[[ $(readlink /proc/$pid/ns/pid) == "$(readlink /proc/$init/ns/pid)" ]] ||
  fail "detached process: pid namespace"
kill "$pid"

# --cgroup: a sub-cgroup of the container's
if [[ -d /sys/fs/cgroup/memory/hyrun/c ]]; then
  mkdir /sys/fs/cgroup/memory/hyrun/c/sub
  out=$(hy exec --cgroup memory:sub c cat /proc/self/cgroup)
  grep -qx '[0-9]*:memory:/hyrun/c/sub' <<< "$out" || fail "--cgroup: $out"
  grep -qx '[0-9]*:pids:/hyrun/c' <<< "$out" || fail "--cgroup others: $out"
fi

# a terminal, under a pty of our own
if command -v script >/dev/null; then
  set +e
  script -qec "$HYRUN --root $root exec -t c sh -c 'tty; exit 4'" /dev/null \
    < /dev/null > "$tmp/out"
  rc=$?
  set -e
  ((rc == 4)) || fail "exec -t: exit $rc ($(cat "$tmp/out"))"
  # script writes a NUL to the pty at the end of its stdin, which the
  # container's terminal may echo as ^@ around the output.
  out=$(tr -d '\r' < "$tmp/out" | sed 's/\^@//g' | grep .)
  [[ $out =~ ^/dev/pts/[0-9]+$ ]] || fail "exec -t: tty said $out"
fi
run hy exec -t -d c true
((rc == 255)) && grep -q 'console-socket' "$tmp/err" || fail "-t -d: $(cat "$tmp/err")"

# a missing binary
run hy exec c no-such-binary
((rc == 255)) || fail "missing binary: exit $rc"
grep -qF 'exec: "no-such-binary": executable file not found in $PATH' "$tmp/err" ||
  fail "missing binary: $(cat "$tmp/err")"
[[ $(wc -l < "$tmp/err") == 1 ]] || fail "missing binary: not one line"
run hy exec --cwd /no/such/dir c true
((rc == 255)) && grep -q 'chdir to cwd' "$tmp/err" || fail "bad cwd: $(cat "$tmp/err")"
# --debug: the container processes' debug lines reach hyrun's log through
# the sync socket (init's and exec's stderr are the container's)
hy --debug --log "$tmp/exec-debug.log" exec c true
for msg in 'nsexec container setup' 'child process in init()' 'setns_init: about to exec'; do
  grep -qF "level=debug msg=\"$msg" "$tmp/exec-debug.log" ||
    fail "exec --debug: no \"$msg\": $(cat "$tmp/exec-debug.log")"
done
b2=$(bundle dbg true)
run hy --debug run -b "$b2" dbg
((rc == 0)) || fail "run --debug: exit $rc ($(cat "$tmp/err"))"
for msg in 'nsexec container setup' 'child process in init()' \
  'init: closing the pipe to signal completion'; do
  grep -qF "level=debug msg=\"$msg" "$tmp/err" ||
    fail "run --debug: no \"$msg\" on stderr: $(cat "$tmp/err")"
done

# nothing left behind by the failures
[[ $(wc -l < /sys/fs/cgroup/pids/hyrun/c/cgroup.procs) == 1 ]] ||
  fail "processes left: $(cat /sys/fs/cgroup/pids/hyrun/c/cgroup.procs)"

# paused: refused, or with --ignore-paused waits for resume
hy pause c
run hy exec c true
((rc == 255)) && grep -qF 'cannot exec in a paused container (use --ignore-paused to override)' "$tmp/err" ||
  fail "paused: $(cat "$tmp/err")"
(sleep 1; hy resume c) &
out=$(timeout 20 "$HYRUN" --root "$root" exec --ignore-paused c echo ok) ||
  fail "--ignore-paused failed"
wait
[[ $out == ok ]] || fail "--ignore-paused: $out"

# missing and stopped containers
run hy exec nope true
((rc == 255)) && grep -q 'container "nope" does not exist' "$tmp/err" ||
  fail "missing: $(cat "$tmp/err")"
hy kill c KILL
for _ in $(seq 50); do
  [[ $(hy state c | jq -r .status) == stopped ]] && break
  sleep 0.1
done
run hy exec c true
((rc == 255)) && grep -q 'cannot exec a container that has stopped' "$tmp/err" ||
  fail "stopped: $(cat "$tmp/err")"
hy delete c

echo "exec: ok"
