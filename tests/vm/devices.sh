#!/bin/bash
# VM mode: linux.resources.devices governs the container's /dev in the
# guest as container mode's device cgroup does on a host: a node of
# linux.devices without an allow rule cannot be opened; with one it can.
set -euo pipefail
source "$(dirname "$0")/../lib/vm.sh"

# kmsg_bundle NAME RULES-JSON: /dev/kmsg in the container, those rules
kmsg_bundle ()
{
  local b
  b=$(vm_bundle "$1" sh -c 'echo hyrun-devices-test > /dev/kmsg && echo written')
  edit_config "$b" --argjson rules "$2" '.linux.resources.devices = $rules
    | .linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]'
  echo "$b"
}

b=$(kmsg_bundle deny '[{"allow": false, "access": "rwm"}]')
run hy run -b "$b" d1
((rc != 0)) && grep -q 'Operation not permitted' "$tmp/err" ||
  fail "/dev/kmsg denied: exit $rc: $(cat "$tmp/out" "$tmp/err")"
echo "ok: a device the rules deny"

b=$(kmsg_bundle allow '[{"allow": false, "access": "rwm"},
                        {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]')
run hy run -b "$b" d2
((rc == 0)) && [[ $(cat "$tmp/out") == written ]] ||
  fail "/dev/kmsg allowed: exit $rc: $(cat "$tmp/out" "$tmp/err")"
echo "ok: a device the rules allow"
