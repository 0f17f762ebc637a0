#!/bin/bash
# Container mode for real: run, create/start/state/kill/delete, exit codes,
# stdio, namespaces, and that nothing is left behind afterwards.
set -euo pipefail
((EUID == 0)) || { echo "SKIP: needs root"; exit 0; }
[[ -x /bin/busybox ]] || { echo "SKIP: needs busybox-static"; exit 0; }
. "$(dirname "$0")/../lib/containers.sh"

no_leftovers ()
{
  local id=$1
  [[ ! -e $root/$id ]] || fail "$id: state dir left behind"
  for d in /sys/fs/cgroup/*/hyrun/"$id" /sys/fs/cgroup/unified/hyrun/"$id"; do
    [[ ! -e $d ]] || fail "$id: cgroup $d left behind"
  done
  ! grep -qF "$tmp" /proc/self/mountinfo || fail "$id: a mount under $tmp is left"
  ! pgrep -f "hyrun-test-marker-$id" >/dev/null || fail "$id: process left"
}

# run: exit code and separated stdout / stderr
b=$(bundle exit7 sh -c 'echo out; echo err >&2; exit 7')
set +e; hy run -b "$b" exit7 > "$tmp/out" 2> "$tmp/err"; rc=$?; set -e
((rc == 7)) || fail "run exit7: exit $rc, not 7 ($(cat "$tmp/err"))"
[[ $(cat "$tmp/out") == out ]] || fail "stdout: $(cat "$tmp/out")"
[[ $(cat "$tmp/err") == err ]] || fail "stderr: $(cat "$tmp/err")"
no_leftovers exit7

# the container's own pid and uts namespaces
b=$(bundle ns sh -c 'echo $$; hostname')
out=$(hy run -b "$b" ns)
[[ $out == $'1\nhyrun' ]] || fail "pid/hostname inside: $out"
no_leftovers ns

# linux.devices makes the node; only linux.resources.devices grants access
# (as runc), and an access's letters other than r, w and m are ignored
b=$(bundle dev sh -c 'echo hyrun-test > /dev/kmsg')
jq '.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]' \
  "$b/config.json" > "$tmp/dev.json"
cp "$tmp/dev.json" "$b/config.json"
run hy run -b "$b" dev
((rc != 0)) && grep -q 'Operation not permitted' "$tmp/err" ||
  fail "linux.devices alone granted access: exit $rc, $(cat "$tmp/err")"
jq '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1,
  "minor": 11, "access": "wa"}]' "$tmp/dev.json" > "$b/config.json"
run hy run -b "$b" dev
((rc == 0)) || fail "allowed device: exit $rc, $(cat "$tmp/err")"
no_leftovers dev

# a user namespace: bind sources its root cannot reach still mount (create
# opens them, as host root, in init's mount namespace)
chmod 755 "$tmp"
mkdir -p "$tmp/secret/dir"
echo hidden > "$tmp/secret/dir/file"
chmod 700 "$tmp/secret"
b=$(bundle userns cat /mnt/file)
mkdir -p "$b/rootfs/mnt" # the rootfs belongs to host root: made ahead
jq --arg src "$tmp/secret/dir" '.linux.namespaces += [{"type": "user"}]
  | .linux.uidMappings = [{"hostID": 100000, "containerID": 0, "size": 65536}]
  | .linux.gidMappings = [{"hostID": 100000, "containerID": 0, "size": 65536}]
  | .mounts += [{"source": $src, "destination": "/mnt", "options": ["bind"]}]' \
  "$b/config.json" > "$tmp/userns.json"
mv "$tmp/userns.json" "$b/config.json"
run hy run -b "$b" userns
[[ $rc == 0 && $(cat "$tmp/out") == hidden ]] ||
  fail "userns bind of an inaccessible source: exit $rc, $(cat "$tmp/out" "$tmp/err")"
no_leftovers userns

# a cgroup namespace is rooted at the container's cgroup, not hyrun's
b=$(bundle cgns cat /proc/self/cgroup)
jq '.linux.namespaces += [{"type": "cgroup"}]' "$b/config.json" > "$tmp/cgns.json"
mv "$tmp/cgns.json" "$b/config.json"
out=$(hy run -b "$b" cgns)
grep -qvE '^[0-9]+:[^:]*:/$' <<< "$out" && fail "cgroups inside a cgroupns: $out"
no_leftovers cgns

# seccomp without no_new_privs (as Docker and podman send it): loaded
# while init still holds CAP_SYS_ADMIN, and enforced
b=$(bundle seccomp sh -c 'mkdir /tmp/blocked 2>&1; echo rc=$?')
jq '.process.noNewPrivileges = false | .linux.seccomp = {
      "defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}' \
  "$b/config.json" > "$b/seccomp.json"
out=$(hy run -b "$b" -f seccomp.json seccomp)
[[ $out == *"Operation not permitted"*"rc=1" ]] || fail "seccomp: $out"

# a createContainer hook runs with the rootfs as its working directory
b=$(bundle hookcwd true)
jq --arg out "$tmp/hookcwd.out" \
  '.hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "pwd > \($out)"]}]' \
  "$b/config.json" > "$b/hook.json"
hy run -b "$b" -f hook.json hookcwd
[[ $(cat "$tmp/hookcwd.out") == "$b/rootfs" ]] || fail "createContainer hook cwd: $(cat "$tmp/hookcwd.out")"

# a startContainer hook runs inside, under the container's seccomp filter
b=$(bundle hookseccomp true)
jq '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}]}
    | .hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "mkdir /dev/shm/x"]}]' \
  "$b/config.json" > "$b/hook.json"
run hy run -b "$b" -f hook.json hookseccomp
((rc != 0)) && grep -q "error running hook #0 (startContainer)" "$tmp/err" &&
  grep -q "bad system call" "$tmp/err" || fail "startContainer hook: $(cat "$tmp/err")"
no_leftovers hookseccomp

# a signal ends the container: 128 + signal
b=$(bundle killed sleep 1000)
hy run -b "$b" killed & runner=$!
for _ in $(seq 50); do
  [[ $(hy state killed 2>/dev/null | jq -r .status) == running ]] && break
  sleep 0.1
done
hy kill killed KILL
set +e; wait "$runner"; rc=$?; set -e
((rc == 137)) || fail "killed by SIGKILL: exit $rc, not 137"
no_leftovers killed

# create / start / state / kill / delete
b=$(bundle life sh -c 'echo hyrun-test-marker-life >/dev/null; exec sleep 1000')
hy create -b "$b" --pid-file "$tmp/pid" life
[[ $(hy state life | jq -r .status) == created ]] || fail "not created"
[[ $(hy state life | jq -r .pid) == $(cat "$tmp/pid") ]] || fail "pid-file"
# CVE-2019-5736: before start, pid 1 is still hyrun; the container must not
# reach its binary through /proc/1/exe
run hy exec life readlink /proc/1/exe
((rc != 0)) || fail "the container reads /proc/1/exe of hyrun's init: $(cat "$tmp/out")"
[[ $(hy list -q) == life ]] || fail "list -q: $(hy list -q)"
[[ $(hy list -f json | jq -r '.[0].status') == created ]] || fail "list json"
hy list | grep -q "^life  *$(cat "$tmp/pid")  *created  *$b " || fail "list: $(hy list)"
hy start life
[[ $(hy state life | jq -r .status) == running ]] || fail "not running"
set +e; hy delete life 2> "$tmp/err"; rc=$?; set -e
((rc == 1)) && grep -q "not stopped" "$tmp/err" || fail "delete of a running container"
hy kill life KILL
for _ in $(seq 50); do
  [[ $(hy state life | jq -r .status) == stopped ]] && break
  sleep 0.1
done
[[ $(hy state life | jq -r .status) == stopped ]] || fail "not stopped after KILL"
hy delete life
no_leftovers life
set +e; hy state life 2> "$tmp/err"; rc=$?; set -e
((rc == 1)) && grep -q 'does not exist' "$tmp/err" || fail "state after delete"

# run -d, then delete --force
b=$(bundle detached sleep 1000)
hy run -d -b "$b" detached
[[ $(hy state detached | jq -r .status) == running ]] || fail "run -d not running"
hy pause detached
[[ $(hy state detached | jq -r .status) == paused ]] || fail "not paused"
hy resume detached
[[ $(hy state detached | jq -r .status) == running ]] || fail "not resumed"
hy delete --force detached
no_leftovers detached

# a read-only /dev still gets its device nodes, then is read-only
b=$(bundle rodev sh -c 'grep "^tmpfs /dev " /proc/mounts; ls /dev/null')
jq '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)' \
  "$b/config.json" > "$b/rodev.json"
out=$(hy run -b "$b" -f rodev.json rodev)
[[ $out == "tmpfs /dev tmpfs ro,"*"/dev/null" ]] || fail "read-only /dev: $out"

# a console belongs to the process's user, in devpts' tty group
b=$(bundle ttyown sh -c 'stat -c %u:%g $(tty)')
jq '.process.terminal = true | .process.user.uid = 1000' "$b/config.json" > "$b/tty.json"
out=$(script -qec "$HYRUN --root $root run -b $b -f tty.json ttyown" /dev/null < /dev/null | tr -d '\r\0^@')
[[ $out == *"1000:5"* ]] || fail "tty owner: $out"

# proc onto a symlink the rootfs planted is refused (runc's rule)
b=$(bundle symproc true)
rm -rf "$b/rootfs/proc"
ln -s /symlink "$b/rootfs/proc"
run hy run -b "$b" symproc
((rc == 1)) && grep -q "must be mounted on ordinary directory" "$tmp/err" ||
  fail "symlinked /proc: $(cat "$tmp/err")"
no_leftovers symproc

# a cgroupsPath shared with a running container works, with runc's warning
b=$(bundle shared sleep 1000)
jq --arg p "/hyrun-test-shared-$$" '.linux.cgroupsPath = $p' "$b/config.json" > "$b/shared.json"
hy run -d -b "$b" -f shared.json shared1
run hy run -d -b "$b" -f shared.json shared2
((rc == 0)) && grep -q "container's cgroup is not empty" "$tmp/err" ||
  fail "shared cgroup: rc $rc: $(cat "$tmp/err")"
hy delete -f shared2
hy delete -f shared1
[[ ! -e /sys/fs/cgroup/memory/hyrun-test-shared-$$ ]] || fail "shared cgroup left"

# a missing binary fails create and leaves nothing
b=$(bundle missing /bin/no-such-binary)
set +e; hy create -b "$b" missing 2> "$tmp/err"; rc=$?; set -e
((rc == 1)) || fail "missing binary: exit $rc"
grep -q 'no-such-binary' "$tmp/err" || fail "missing binary error: $(cat "$tmp/err")"
no_leftovers missing

# create killed (-9) while a createRuntime hook runs: init goes with it and
# delete --force removes the rest
b=$(bundle killedcreate true)
jq '.hooks.createRuntime = [{"path": "/bin/sleep", "args": ["sleep", "2"]}]' \
  "$b/config.json" > "$b/hooked.json"
"$HYRUN" --root "$root" create -b "$b" -f hooked.json killedcreate & creator=$!
for _ in $(seq 50); do
  pgrep -P "$creator" sleep >/dev/null && break
  sleep 0.1
done
kill -9 "$creator"
wait "$creator" || true
hy delete --force killedcreate
no_leftovers killedcreate

# a state dir without status.json (create killed early) goes with --force
mkdir -p "$root/halfmade"
hy delete --force halfmade
[[ ! -e $root/halfmade ]] || fail "half-made state dir kept"

echo "lifecycle: ok"
