#!/bin/bash
# VM mode end to end, under the real guest kernel and agent: every verb
# behaves as in container mode while the process runs in the guest.
#   run: the guest's kernel; exit code, stdout and stderr kept apart
#   create/start/state/exec/ps/kill/delete, nothing left afterwards
#   a terminal (foreground run -t), a QEMU killed under a running container
set -euo pipefail
source "$(dirname "$0")/../lib/vm.sh"

state () { hy state "$1" | jq -r .status; }
# hyrun's mounts would all involve the test's own directory (other jobs on
# the machine may mount elsewhere meanwhile).
mounts_of_test () { grep -cF "$tmp" /proc/self/mountinfo || true; }
nothing_left ()
{
  [[ -z $(ls -A "$root" 2>/dev/null) ]] || fail "$1: --root not empty: $(ls -R "$root")"
  ! pgrep -f "qemu-system-x86_64.*$root" >/dev/null || fail "$1: QEMU left running"
  ! pgrep -f -- "--root $root " >/dev/null || fail "$1: supervisor or vsock back-end left running"
  (($(mounts_of_test) == 0)) || fail "$1: mounts left: $(grep -F "$tmp" /proc/self/mountinfo)"
}

# The guest's kernel, not the host's.
b=$(vm_bundle uname uname -r)
run hy run -b "$b" v1
((rc == 0)) || fail "run uname: exit $rc: $(cat "$tmp/err")"
grep -Eq '^6\.1\.[0-9]+-hyrun$' "$tmp/out" || fail "uname -r in the VM: $(cat "$tmp/out") (host: $(uname -r))"
nothing_left "run uname"
echo "ok: uname -r = $(cat "$tmp/out")"

# Exit code, stdout and stderr apart.
b=$(vm_bundle streams sh -c 'echo out; echo err >&2; exit 7')
run hy run -b "$b" v2
((rc == 7)) || fail "exit code $rc, not 7: $(cat "$tmp/err")"
[[ $(cat "$tmp/out") == out ]] || fail "stdout: $(cat "$tmp/out")"
[[ $(cat "$tmp/err") == err ]] || fail "stderr: $(cat "$tmp/err")"
nothing_left "run streams"
echo "ok: exit 7, stdout and stderr apart"

# Sizing: the annotations, clamped by the container's memory limit (the
# cgroup holds QEMU too).
b=$(vm_bundle sized sh -c 'nproc; grep MemTotal /proc/meminfo')
jq '.annotations["io.hyrun.vm.cpus"] = "2" | .annotations["io.hyrun.vm.memory"] = "300M"' \
  "$b/config.json" > "$b/c.json" && mv "$b/c.json" "$b/config.json"
run hy run -b "$b" v8
[[ $(sed -n 1p "$tmp/out") == 2 ]] || fail "vCPUs: $(cat "$tmp/out" "$tmp/err")"
kb=$(awk '/MemTotal/ { print $2 }' "$tmp/out")
((kb > 250000 && kb <= 307200)) || fail "300M guest has MemTotal $kb kB"
jq '.annotations["io.hyrun.vm.memory"] = "1G" | .linux.resources.memory.limit = 268435456' \
  "$b/config.json" > "$b/c.json" && mv "$b/c.json" "$b/config.json"
run hy run -b "$b" v8
kb=$(awk '/MemTotal/ { print $2 }' "$tmp/out")
((kb > 100000 && kb < 262144)) || fail "1G guest under a 256M limit has MemTotal $kb kB"
nothing_left "sizing"
echo "ok: vCPUs and memory, clamped by the cgroup limit"

# create, start, state, exec, ps, kill, delete
b=$(vm_bundle sleeper sleep 1000)
hy create -b "$b" v3 > /dev/null < /dev/null
[[ $(state v3) == created ]] || fail "after create: $(state v3)"
hy start v3
[[ $(state v3) == running ]] || fail "after start: $(state v3)"
run hy exec v3 uname -r
((rc == 0)) && grep -Eq '^6\.1\.[0-9]+-hyrun$' "$tmp/out" || fail "exec uname -r: $rc $(cat "$tmp/out" "$tmp/err")"
run hy exec v3 sh -c 'exit 5'
((rc == 5)) || fail "exec exit 5: got $rc: $(cat "$tmp/err")"
run hy ps v3
((rc == 0)) && grep -q 'sleep 1000' "$tmp/out" || fail "ps: $rc $(cat "$tmp/out" "$tmp/err")"
run hy ps --format json v3
jq -e 'length >= 1' "$tmp/out" >/dev/null || fail "ps json: $(cat "$tmp/out")"
hy pause v3
[[ $(state v3) == paused ]] || fail "after pause: $(state v3)"
hy resume v3
[[ $(state v3) == running ]] || fail "after resume: $(state v3)"
run hy exec v3 true
((rc == 0)) || fail "exec after resume: $rc $(cat "$tmp/err")"
hy events --stats v3 | jq -e '.data.memory.usage.usage > 0' >/dev/null ||
  fail "events --stats: no memory usage"
hy kill v3 KILL
for _ in $(seq 50); do [[ $(state v3) == stopped ]] && break; sleep 0.1; done
[[ $(state v3) == stopped ]] || fail "after kill KILL: $(state v3)"
hy delete v3
nothing_left "create/start/exec/kill/delete"
echo "ok: create start state exec ps pause resume events kill delete"

# The host's hooks run with the state on stdin, as in container mode
# (startContainer runs in the guest's container: tests/vm/hooks.sh).
b=$(vm_bundle hooks true)
hook () { printf '{"path": "/bin/sh", "args": ["sh", "-c", "cat > %s/%s.json"]}' "$tmp" "$1"; }
jq --argjson p "$(hook prestart)" --argjson cr "$(hook createRuntime)" \
   --argjson cc "$(hook createContainer)" \
   --argjson ps "$(hook poststart)" --argjson pt "$(hook poststop)" \
   '.hooks = {prestart: [$p], createRuntime: [$cr], createContainer: [$cc],
              poststart: [$ps], poststop: [$pt]}' \
   "$b/config.json" > "$b/c.json" && mv "$b/c.json" "$b/config.json"
run hy run -b "$b" v7
((rc == 0)) || fail "run with hooks: $rc $(cat "$tmp/err")"
for h in prestart createRuntime createContainer poststart poststop; do
  [[ $(jq -r .id "$tmp/$h.json" 2>/dev/null) == v7 ]] || fail "hook $h did not run with the state"
done
nothing_left "hooks"
echo "ok: the host's hooks"

# A signal other than KILL reaches the guest process: sh exits 143 on TERM.
# (sh is pid 1 of its namespace: before its trap is set, TERM is ignored.)
b=$(vm_bundle term sh -c 'trap "exit 143" TERM; touch /dev/shm/trapped; while :; do sleep 0.1; done')
hy run -d -b "$b" v4 < /dev/null > /dev/null
for _ in $(seq 50); do hy exec v4 test -e /dev/shm/trapped 2>/dev/null && break; sleep 0.1; done
hy kill v4 TERM
for _ in $(seq 100); do [[ $(state v4) == stopped ]] && break; sleep 0.1; done
[[ $(state v4) == stopped ]] || fail "TERM did not stop the guest process"
hy delete v4
nothing_left "kill TERM"
echo "ok: kill TERM"

# A terminal: foreground run -t inside a pty.
b=$(vm_bundle tty sh -c 'tty; stty size')
jq '.process.terminal = true | .process.consoleSize = {"height": 31, "width": 97}' \
  "$b/config.json" > "$b/c.json" && mv "$b/c.json" "$b/config.json"
out=$(script -qec "$HYRUN --root $root run -b $b v5" /dev/null < /dev/null | tr -d '\r\0^@')
grep -q '^/dev/pts/' <<< "$out" || fail "no tty in the guest: $out"
grep -q '^31 97$' <<< "$out" || fail "consoleSize not applied in the guest: $out"
nothing_left "run -t"
echo "ok: terminal"

# QEMU killed under a running container: it stops, with the reason.
b=$(vm_bundle victim sleep 1000)
hy run -d -b "$b" v6 < /dev/null > /dev/null 2> "$tmp/v6.err"
pkill -KILL -f "qemu-system-x86_64.*$root/v6/" || fail "no QEMU for v6"
for _ in $(seq 50); do [[ $(state v6) == stopped ]] && break; sleep 0.1; done
[[ $(state v6) == stopped ]] || fail "after QEMU was killed: $(state v6)"
hy delete v6
nothing_left "QEMU killed"
echo "ok: QEMU killed"
