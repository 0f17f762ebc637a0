#!/bin/bash
# VM mode: where each OCI hook runs.
#   createContainer: on the host, in the rootfs (what it does there reaches
#   the guest through the share)
#   startContainer: in the guest, in the container (its kernel, its
#   seccomp filter), with the container's id in the state on its stdin
set -euo pipefail
source "$(dirname "$0")/../lib/vm.sh"

b=$(vm_bundle hooks cat /created-on /started-on /started-state)
edit_config "$b" '.root.readonly = false
  | .hooks.createContainer = [{"path": "/bin/sh",
      "args": ["sh", "-c", "uname -r > ./created-on"]}]
  | .hooks.startContainer = [{"path": "/bin/sh",
      "args": ["sh", "-c", "uname -r > /started-on; cat > /started-state"]}]'
run hy run -b "$b" h1
((rc == 0)) || fail "run with hooks: exit $rc: $(cat "$tmp/err")"
mapfile -t out < "$tmp/out"
[[ ${out[0]} == "$(uname -r)" ]] || fail "createContainer ran on ${out[0]}, not the host"
[[ ${out[1]} =~ ^6\.1\.[0-9]+-hyrun$ ]] || fail "startContainer ran on ${out[1]}, not the guest"
[[ $(jq -r .id <<< "${out[2]}") == h1 ]] || fail "startContainer's state: ${out[2]}"
echo "ok: createContainer on the host, startContainer in the guest (state id h1)"

# The startContainer hook runs under the container's seccomp filter.
b=$(vm_bundle seccomp true)
edit_config "$b" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}]}
  | .hooks.startContainer = [{"path": "/bin/sh",
      "args": ["sh", "-c", "mkdir /dev/shm/foo"]}]'
run hy run -b "$b" h2
((rc != 0)) || fail "a startContainer hook killed by seccomp: run exited 0"
grep -q "error running hook" "$tmp/err" && grep -q "bad system call" "$tmp/err" ||
  fail "startContainer hook under seccomp: $(cat "$tmp/err")"
echo "ok: startContainer hook under the container's seccomp filter"
