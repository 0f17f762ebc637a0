#!/bin/bash
# VM mode: bind mounts reach the guest as in container mode.
#   a relative bind source resolves against the directory hyrun ran in
#   (not the rootfs, where createContainer hooks run), which the VM then
#   does not keep busy
#   a container with a user namespace (rootfs owned by the mapped uid)
#   reaches its rootfs and a bind source only host root can read
set -euo pipefail
source "$(dirname "$0")/../lib/vm.sh"

# A relative bind source, with hyrun run from the directory holding it.
b=$(vm_bundle rel cat /mnt/data/hello)
mkdir -p "$tmp/work/data"
echo from-the-host > "$tmp/work/data/hello"
edit_config "$b" '.mounts += [{"source": "data", "destination": "/mnt/data",
                                "options": ["bind"]}]'
(cd "$tmp/work" && run hy run -b "$b" m1 && echo "$rc" > "$tmp/rc")
[[ $(cat "$tmp/rc") == 0 && $(cat "$tmp/out") == from-the-host ]] ||
  fail "relative bind source: exit $(cat "$tmp/rc"): $(cat "$tmp/out" "$tmp/err")"
echo "ok: relative bind source"

# Once the share is made, neither the supervisor nor QEMU keeps the
# directory hyrun ran in busy (it may be unmounted).
edit_config "$b" '.process.args = ["sleep", "1000"]'
(cd "$tmp/work" && hy run -d -b "$b" m3 < /dev/null > /dev/null)
supervisor=$(hy state m3 | jq -r .pid)
qemu=$(pgrep -f "qemu-system-x86_64.*$root/m3/")
for pid in "$supervisor" $qemu; do
  [[ $(readlink "/proc/$pid/cwd") == / ]] ||
    fail "pid $pid ($(cat "/proc/$pid/comm")) works in $(readlink "/proc/$pid/cwd")"
done
hy delete -f m3
echo "ok: the VM does not keep hyrun's directory busy"

# A user namespace: root in the container is uid 100000 on the share; the
# bind source is a directory inside one only host root may enter.
b=$(vm_bundle userns sh -c 'id -u; cat /mnt/secret/file')
mkdir -m 0700 "$tmp/secret"
mkdir -m 0755 "$tmp/secret/dir"
echo only-root > "$tmp/secret/dir/file"
chmod 0644 "$tmp/secret/dir/file"
chown -R 100000:100000 "$b/rootfs"
edit_config "$b" '.linux.namespaces += [{"type": "user"}]
  | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
  | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
  | .mounts += [{"source": $src, "destination": "/mnt/secret",
                 "options": ["bind"]}]' --arg src "$tmp/secret/dir"
run hy run -b "$b" m2
((rc == 0)) || fail "user namespace: exit $rc: $(cat "$tmp/err")"
[[ $(cat "$tmp/out") == $'0\nonly-root' ]] || fail "user namespace: $(cat "$tmp/out")"
echo "ok: user namespace, inaccessible bind source"
