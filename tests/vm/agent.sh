#!/bin/bash
# The guest agent driven by hyrun's client (hyrun-agent-ctl), making real
# containers from busybox bundles.  One agent per container, as one per VM.
#
# Test mode (the default): hyrun-agent --transport unix:DIR --not-pid1 in
# its own mount and pid namespaces (it is their PID 1, as in a VM).
# With AGENT_MODE=vm (tests/vm/agent-vm.sh) every agent is a real microVM:
# QEMU with the guest kernel and initramfs, hyrun-vhost-vsock, the test's
# directory shared over 9p.
set -euo pipefail
((EUID == 0)) || { echo "SKIP: needs root"; exit 0; }
[[ -x /bin/busybox ]] || { echo "SKIP: needs busybox-static"; exit 0; }
: "${HYRUN_AGENT:?}" "${AGENT_CTL:?}"
mode=${AGENT_MODE:-test}
if [[ $mode == vm ]]; then
  : "${HYRUN_VHOST_VSOCK:?}" "${HYRUN_INITRAMFS:?}" "${HYRUN_KERNEL:?}"
fi
. "$(dirname "$0")/../lib/containers.sh"

agents=()
start_agent ()
{
  if [[ $mode == vm ]]; then start_vm "$1"; else start_test_agent "$1"; fi
}

# start_vm NAME [CONFIG]: a VM whose agent serves at $tmp/NAME/vsock.sock;
# its console (kernel and agent) goes to $dir/agent.log.  Checks the hello
# of the ready connection; with CONFIG, runs that container over the ready
# connection instead, in the background ($runner; output in $dir/run.*).
start_vm ()
{
  dir=$tmp/$1
  mkdir -p "$dir"
  local config=${2:-}
  "$HYRUN_VHOST_VSOCK" --socket "$dir/vhost.sock" --uds "$dir/vsock.sock" \
    --cid 3 2> "$dir/backend.log" &
  agents+=($!)
  for _ in $(seq 200); do [[ -S $dir/vhost.sock ]] && break; sleep 0.01; done
  if [[ -n $config ]]; then
    ctl run --ready --config "$config" > "$dir/run.out" 2> "$dir/run.err" &
    runner=$!
  else
    ctl ready > "$dir/ready" &
  fi
  local ready=$!
  for _ in $(seq 200); do [[ -S $dir/vsock.sock_1024 ]] && break; sleep 0.01; done
  qemu-system-x86_64 -M microvm,acpi=off,memory-backend=mem -accel tcg \
    -cpu max -smp 1 -m 256M -nodefaults -no-user-config -display none \
    -serial "file:$dir/agent.log" -no-reboot \
    -object memory-backend-memfd,id=mem,size=256M,share=on \
    -chardev "socket,id=vs,path=$dir/vhost.sock" \
    -device vhost-user-vsock-device,chardev=vs \
    -fsdev "local,id=fs0,path=$tmp,security_model=passthrough,multidevs=remap" \
    -device virtio-9p-device,fsdev=fs0,mount_tag=hyrun \
    -kernel "$HYRUN_KERNEL" -initrd "$HYRUN_INITRAMFS" \
    -append "console=ttyS0 quiet panic=-1 reboot=t" 2> "$dir/qemu.log" &
  agents+=($!)
  [[ -n $config ]] && return 0
  wait "$ready" || fail "VM $1: no ready connection: $(cat "$dir/agent.log" "$dir/qemu.log")"
  grep -Eq '^kernel 6\.1\.[0-9]+-hyrun$' "$dir/ready" || fail "VM $1 hello: $(cat "$dir/ready")"
}

# start_test_agent NAME: an agent serving in $tmp/NAME; sets $dir.
start_test_agent ()
{
  dir=$tmp/$1
  mkdir -p "$dir"
  unshare --kill-child -m -p -f --mount-proc \
    "$HYRUN_AGENT" --transport "unix:$dir" --not-pid1 --ready-timeout 0 \
    2> "$dir/agent.log" &
  agents+=($!)
  for _ in $(seq 100); do
    [[ -S $dir/agent_1025 ]] && return 0
    sleep 0.05
  done
  fail "agent $1 did not start: $(cat "$dir/agent.log")"
}
# unshare ignores TERM while it waits; KILL makes --kill-child kill the
# agent, and the agent's pid namespace goes with it.
stop_agents ()
{
  for pid in "${agents[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop_agents; cleanup' EXIT
ctl ()
{
  if [[ $mode == vm ]]; then
    "$AGENT_CTL" --transport "vsock:$dir/vsock.sock" --share "$tmp" --timeout 30000 "$@"
  else
    "$AGENT_CTL" --transport "unix:$dir" --timeout 10000 "$@"
  fi
}

# ---- init: exit code, stdout and stderr apart
b=$(bundle exit7 sh -c 'echo out; echo err >&2; exit 7')
start_agent a
run ctl run --config "$b/config.json"
((rc == 7)) || fail "init exit 7: got $rc ($(cat "$tmp/err"))"
[[ $(cat "$tmp/out") == out ]] || fail "init stdout: $(cat "$tmp/out")"
[[ $(cat "$tmp/err") == err ]] || fail "init stderr: $(cat "$tmp/err")"
# one container per VM
run ctl run --config "$b/config.json"
((rc == 125)) && grep -q "the VM has a container already" "$tmp/err" ||
  fail "second create: $rc $(cat "$tmp/err")"
ctl shutdown

# ---- a running container: exec, ps, stats, streams, signals
b=$(bundle sleeper sleep 1000)
start_agent b
ctl run --config "$b/config.json" > "$tmp/init.out" 2> "$tmp/init.err" &
runner=$!
for _ in $(seq 100); do
  ctl ps 2>/dev/null | grep -q 'sleep 1000' && break
  sleep 0.05
done

run ctl exec --id e1 -- sh -c 'echo eo; echo ee >&2; exit 5'
((rc == 5)) || fail "exec exit 5: got $rc ($(cat "$tmp/err"))"
[[ $(cat "$tmp/out") == eo ]] || fail "exec stdout: $(cat "$tmp/out")"
[[ $(cat "$tmp/err") == ee ]] || fail "exec stderr: $(cat "$tmp/err")"
# waited for, an exec id is free again
run ctl exec --id e1 -- true
((rc == 0)) || fail "exec e1 again: $rc $(cat "$tmp/err")"

# inside the container: its rootfs, its pid namespace
[[ $(ctl exec --id ns -- readlink /bin/sh) == busybox ]] || fail "not in the rootfs"
[[ $(ctl exec --id p1 -- cat /proc/1/cmdline | tr '\0' ' ') == "sleep 1000 " ]] ||
  fail "pid 1 inside is not the init"

# stdin, to EOF
[[ $(printf 'hello\nworld\n' | ctl exec --stdin --id cat -- cat) == $'hello\nworld' ]] ||
  fail "stdin through cat"
# close_stdin while our side stays open (a fifo we hold both ends of)
mkfifo "$tmp/hold"
exec 3<> "$tmp/hold"
ctl exec --stdin --id c1 -- sh -c 'cat; echo eof' < "$tmp/hold" > "$tmp/c1.out" &
closer=$!
for _ in $(seq 100); do ctl ps | grep -q ' cat$' && break; sleep 0.05; done
ctl close-stdin c1
wait "$closer" || fail "close_stdin: exec failed"
[[ $(cat "$tmp/c1.out") == eof ]] || fail "close_stdin: $(cat "$tmp/c1.out")"
exec 3>&-

# a terminal, resized: the process sees the new size
# (waiting for it at most 10 s)
until_size='i=0; while [ "$(stty size)" != "$0" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done'
run ctl exec --tty --id t1 --resize 33x77 -- \
  sh -c "$until_size; tty; stty size; exit 4" "33 77"
((rc == 4)) || fail "tty exec: $rc $(cat "$tmp/err")"
grep -q '^/dev/pts/' "$tmp/out" || fail "no terminal: $(cat "$tmp/out")"
grep -q '^33 77' "$tmp/out" || fail "resize not seen: $(cat "$tmp/out")"

# a lot of output through the pumps, nothing lost
n=$(ctl exec --id big -- sh -c 'dd if=/dev/zero bs=65536 count=64 2>/dev/null' | wc -c)
((n == 4194304)) || fail "4 MiB of stdout: got $n bytes"
# output survives a late attach (the process starts only once attached)
[[ $(ctl exec --id late --attach-delay 300 -- echo late) == late ]] || fail "late attach"

# errors in container mode's words
run ctl exec --id bad -- nonexistent-binary
((rc == 125)) || fail "bad executable: exit $rc"
grep -q 'exec: "nonexistent-binary": executable file not found in \$PATH' "$tmp/err" ||
  fail "bad executable: $(cat "$tmp/err")"
run ctl exec --id init -- true
grep -q '"init" is the container' "$tmp/err" || fail "exec id init: $(cat "$tmp/err")"
run ctl signal nobody KILL
grep -q 'no process "nobody"' "$tmp/err" || fail "signal unknown: $(cat "$tmp/err")"
run ctl resize init 10 10
grep -q 'has no terminal' "$tmp/err" || fail "resize without tty: $(cat "$tmp/err")"

# ps: the container's processes, pids as the container sees them
ctl exec --id bg -- sh -c 'sleep 999 & sleep 998 & wait' > /dev/null &
bg=$!
for _ in $(seq 100); do ctl ps | grep -q 'sleep 998' && break; sleep 0.05; done
ctl ps > "$tmp/ps"
grep -q '^1 0 0 [A-Z] sleep 1000$' "$tmp/ps" || fail "ps: init: $(cat "$tmp/ps")"
shpid=$(awk '$5 == "sh" && $6 == "-c" { print $1 }' "$tmp/ps")
[[ -n $shpid ]] || fail "ps: no sh: $(cat "$tmp/ps")"
awk -v p="$shpid" '$5 == "sleep" && $6 == 999 && $2 == p { f = 1 } END { exit !f }' "$tmp/ps" ||
  fail "ps: sleep 999 is not sh's child: $(cat "$tmp/ps")"
ctl stats > "$tmp/stats"
grep -Eq '^memory total=[1-9][0-9]* free=[0-9]+ available=[0-9]+ pids=[4-9] ' "$tmp/stats" ||
  fail "stats: $(cat "$tmp/stats")"

# signal --all reaches every process of the container: init too
ctl signal init KILL --all
set +e
wait "$runner"
rc=$?
set -e
((rc == 137)) || fail "init killed: exit $rc, wanted 137 ($(cat "$tmp/init.err"))"
wait "$bg" 2>/dev/null || true
ctl ps > "$tmp/ps"
[[ $(wc -l < "$tmp/ps") == 1 ]] || fail "processes left: $(cat "$tmp/ps")"
run ctl exec --id late2 -- true
grep -q 'cannot exec a container that has stopped' "$tmp/err" ||
  fail "exec in a stopped container: $(cat "$tmp/err")"

# ---- hostile frames: closed, and the agent serves on
for hex in 00000000 ffffffff 01001000 050000003132333435 \
           090000005b312c322c335d2020 0d0000007b2274797065223a227073227d \
           130000007b2274797065223a31302c22736571223a317d; do
  [[ $(ctl raw "$hex") == closed ]] || fail "frame $hex not refused"
done
# stream connections: attach to nobody, to an unlisted stream, to one
# attached already, anything but an attach, a bad length
for hex in 310000007b2274797065223a22617474616368222c226964223a226e6f626f6479222c2273747265616d223a227374646f7574227d \
           2e0000007b2274797065223a22617474616368222c226964223a22696e6974222c2273747265616d223a22737464696e227d \
           2f0000007b2274797065223a22617474616368222c226964223a22696e6974222c2273747265616d223a227374646f7574227d \
           150000007b2274797065223a227073222c22736571223a317d ffffffff; do
  [[ $(ctl raw --stream "$hex") == closed ]] || fail "stream frame $hex not refused"
done
grep -q 'attach: no process "nobody"' "$dir/agent.log" || fail "agent log: $(cat "$dir/agent.log")"
grep -q 'attach: process "init" has no stdin stream' "$dir/agent.log" || fail "agent log: $(cat "$dir/agent.log")"
grep -q 'attach: the stdout of "init" is attached already' "$dir/agent.log" || fail "agent log: $(cat "$dir/agent.log")"
# an unknown request with a seq is answered, the connection stays
[[ $(ctl --timeout 500 raw 170000007b2274797065223a2266726f62222c22736571223a317d) == open ]] ||
  fail "unknown request closed the connection"
ctl ps > /dev/null || fail "the agent stopped serving"
grep -q 'frame length 4294967295 out of range' "$dir/agent.log" ||
  fail "agent log: $(cat "$dir/agent.log")"
ctl shutdown

# ---- init with a terminal, resized
b=$(bundle term sh -c "$until_size; stty size; exit 3" "40 120")
jq '.process.terminal = true' "$b/config.json" > "$b/c" && mv "$b/c" "$b/config.json"
start_agent c
run ctl run --config "$b/config.json" --resize 40x120
((rc == 3)) || fail "tty init: exit $rc ($(cat "$tmp/err"))"
grep -q '^40 120' "$tmp/out" || fail "tty init output: $(cat "$tmp/out")"
ctl shutdown

# ---- OOM (in a VM, where the agent has the container's cgroup): the
# guest's OOM killer takes one of two 150 MB dd in a 256 MB VM; the agent
# reports it on the ready connection
if [[ $mode == vm ]]; then
  b=$(bundle oom sh -c 'dd if=/dev/zero of=/dev/null bs=150M count=1 2>/dev/null &
                        dd if=/dev/zero of=/dev/null bs=150M count=1 2>/dev/null &
                        wait; echo survived')
  start_vm oom "$b/config.json"
  wait "$runner" || fail "oom run: exit $? $(cat "$dir/run.err")"
  grep -q '^agent-ctl: event oom init$' "$dir/run.err" ||
    fail "no oom event: $(cat "$dir/run.err" "$dir/agent.log")"
  grep -q survived "$dir/run.out" || fail "oom: init did not go on"
  ctl shutdown
fi

# ---- the ready connection: the agent connects to the host as it starts
# (in a VM: checked at every start)
[[ $mode == vm ]] && { echo ok; exit 0; }
# and tries again while nobody listens, serving meanwhile
dir=$tmp/d
mkdir -p "$dir"
unshare --kill-child -m -p -f --mount-proc \
  "$HYRUN_AGENT" --transport "unix:$dir" --not-pid1 --ready-timeout 20000 \
  2> "$dir/agent.log" &
agents+=($!)
for _ in $(seq 100); do [[ -S $dir/agent_1024 ]] && break; sleep 0.05; done
run ctl ps
grep -q 'no container: create it first' "$tmp/err" || fail "ps before create: $(cat "$tmp/err")"
sleep 0.2
ctl ready > "$tmp/ready" || fail "ready: $(cat "$dir/agent.log")"
grep -q "^kernel $(uname -r)\$" "$tmp/ready" || fail "hello: $(cat "$tmp/ready")"
ctl shutdown
cat "$tmp"/*/agent.log >&2
echo ok
