#!/bin/bash
# VM mode: pause freezes the whole VM; exec --ignore-paused waits for the
# resume (exec does not hold the container's lock while the VM is frozen,
# or resume would wait for exec's timeout).
set -euo pipefail
source "$(dirname "$0")/../lib/vm.sh"

b=$(vm_bundle pause sleep 1000)
hy run -d -b "$b" p1 < /dev/null > /dev/null
hy pause p1
[[ $(hy state p1 | jq -r .status) == paused ]] || fail "not paused"
run hy exec p1 echo no
((rc == 255)) && grep -q 'cannot exec in a paused container' "$tmp/err" ||
  fail "exec in a paused VM: exit $rc: $(cat "$tmp/err")"

(sleep 2; hy resume p1) &
start=$SECONDS
run hy exec --ignore-paused p1 echo ok
wait
((rc == 0)) && [[ $(cat "$tmp/out") == ok ]] ||
  fail "exec --ignore-paused: exit $rc: $(cat "$tmp/out" "$tmp/err")"
((SECONDS - start < 8)) || fail "exec --ignore-paused took $((SECONDS - start)) s"
[[ $(hy state p1 | jq -r .status) == running ]] || fail "not running after resume"
echo "ok: pause, exec --ignore-paused answered after resume"
hy delete -f p1
