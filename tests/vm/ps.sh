#!/bin/bash
# VM mode: `ps` prints the guest's processes in the tables the host's ps
# would print (runc's callers parse them): -ef by default with user names,
# BSD columns for x, chosen columns for -o; unsupported options refused.
set -euo pipefail
source "$(dirname "$0")/../lib/vm.sh"

b=$(vm_bundle ps sh -c 'sleep 900 & exec sleep 1000')
hy run -d -b "$b" p1 < /dev/null > /dev/null
for _ in $(seq 50); do (($(hy ps --format json p1 | jq length) == 2)) && break; sleep 0.1; done

run hy ps p1
((rc == 0)) || fail "ps: exit $rc: $(cat "$tmp/err")"
mapfile -t lines < "$tmp/out"
[[ ${lines[0]} =~ ^UID\ +PID\ +PPID\ +C\ +STIME\ +TTY\ +TIME\ +CMD$ ]] || fail "ps header: ${lines[0]}"
[[ ${lines[1]} =~ ^root\ +1\ +0\ +[0-9]+\ +[0-9]{2}:[0-9]{2}\ +[^\ ]+\ +00:00:00\ sleep\ 1000$ ]] ||
  fail "ps row of init: ${lines[1]}"
[[ ${lines[2]} =~ ^root\ +2\ +1\ .*\ sleep\ 900$ ]] || fail "ps row of its child: ${lines[2]}"
echo "ok: ps (as -ef)"

run hy ps p1 -e -x
[[ $(head -1 "$tmp/out") =~ ^\ +PID\ +TTY\ +STAT\ +TIME\ +COMMAND$ ]] || fail "ps -e -x: $(cat "$tmp/out")"
grep -Eq '^ +1 [^ ]+ +S[s+]* +0:00 sleep 1000$' "$tmp/out" || fail "ps -e -x rows: $(cat "$tmp/out")"
run hy ps p1 -o pid,comm,user=WHO
[[ $(cat "$tmp/out") == $'  PID COMMAND         WHO\n    1 sleep           root\n    2 sleep           root' ]] ||
  fail "ps -o: $(cat "$tmp/out")"
echo "ok: ps -e -x, ps -o"

run hy ps p1 -eL
((rc != 0)) && grep -q 'option `-L` (in `-eL`) is not supported for a container in a VM' "$tmp/err" ||
  fail "ps -eL: exit $rc: $(cat "$tmp/out" "$tmp/err")"
echo "ok: an unsupported option is refused"
hy delete -f p1
