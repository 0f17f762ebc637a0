#!/bin/bash
# VM mode: bind mounts reach the guest as in container mode.
#   a relative bind source resolves against the directory hyrun ran in
#   (not the rootfs, where createContainer hooks run)
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
