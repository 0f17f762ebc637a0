#!/bin/bash
# VM mode: --debug shows the guest's setup steps (the debug lines of the
# container's init and of an exec'd process, sent back with the agent's
# create/exec answers), in the log when --log is given.
set -euo pipefail
source "$(dirname "$0")/../lib/vm.sh"

b=$(vm_bundle debug sleep 1000)
hy --debug --log "$tmp/log" run -d -b "$b" d1 < /dev/null > /dev/null 2> "$tmp/err"
grep -q 'level=debug msg="guest: child process in init(): pid 1"' "$tmp/log" &&
  grep -q 'level=debug msg="guest: init: closing the pipe' "$tmp/log" ||
  fail "create's log lacks the guest's init lines: $(cat "$tmp/log")"
! grep -q 'level=debug' "$tmp/err" || fail "debug lines on stderr with --log: $(cat "$tmp/err")"
echo "ok: the guest's init setup in create's log"

run hy --debug exec d1 true
((rc == 0)) || fail "exec --debug: exit $rc: $(cat "$tmp/err")"
grep -q 'msg="nsexec container setup: fork the exec proxy' "$tmp/err" &&
  grep -q 'msg="guest: child process in init(): pid' "$tmp/err" &&
  grep -q 'msg="guest: setns_init: about to exec `/bin/true`"' "$tmp/err" ||
  fail "exec --debug lacks the guest's lines: $(cat "$tmp/err")"
run hy exec d1 true
[[ ! -s $tmp/err ]] || fail "exec without --debug printed: $(cat "$tmp/err")"
echo "ok: the guest's exec setup with exec --debug, nothing without"
hy delete -f d1
