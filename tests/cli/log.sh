#!/bin/bash
# --log and --log-format: errors reach the log file as logrus writes them
# (containerd reads the last error back), and stderr as one line.
set -euo pipefail
: "${HYRUN:?HYRUN must name the hyrun binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HYRUN_CONFIG=$tmp/empty.conf
: > "$HYRUN_CONFIG"
root=$tmp/root

fail () { echo "FAIL: $*" >&2; exit 1; }
run () { set +e; "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; set -e; }
rfc3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'

# json: one object per line, level/msg/time
run "$HYRUN" --root "$root" --log "$tmp/log.json" --log-format json state c1
((rc == 1)) || fail "state exited $rc"
[[ $(cat "$tmp/err") == 'hyrun: state: container "c1" does not exist' ]] \
  || fail "stderr: $(cat "$tmp/err")"
[[ $(wc -l < "$tmp/log.json") == 1 ]] || fail "log lines: $(cat "$tmp/log.json")"
jq -e --arg re "$rfc3339" '.level == "error"
  and .msg == "state: container \"c1\" does not exist"
  and (.time | test($re)) and (keys == ["level", "msg", "time"])' \
  "$tmp/log.json" > /dev/null || fail "json entry: $(cat "$tmp/log.json")"

# Appended, never truncated; messages with quotes and newlines stay one
# valid line.
run "$HYRUN" --root "$root" --log "$tmp/log.json" --log-format=json kill c1 'SIG"X
Y'
((rc == 1)) || fail "kill exited $rc"
[[ $(wc -l < "$tmp/err") == 1 ]] || fail "stderr is not one line: $(cat "$tmp/err")"
[[ $(wc -l < "$tmp/log.json") == 2 ]] || fail "not appended: $(cat "$tmp/log.json")"
jq -e -s 'length == 2 and (.[1].msg | contains("unknown signal"))
  and (.[1].msg | contains("SIG\"X\nY"))' "$tmp/log.json" > /dev/null \
  || fail "second entry: $(cat "$tmp/log.json")"

# A bad global flag after --log still reaches the log.
run "$HYRUN" --log "$tmp/flags.json" --log-format json --bogus list
((rc == 1)) || fail "--bogus exited $rc"
jq -e '.level == "error" and (.msg | contains("unknown flag \"--bogus\""))' \
  "$tmp/flags.json" > /dev/null || fail "flag error entry: $(cat "$tmp/flags.json")"

# text: logrus' text format
run "$HYRUN" --root "$root" --log "$tmp/log.txt" delete c1
((rc == 1)) || fail "delete exited $rc"
grep -Eq '^time="[0-9T:Z-]+" level=error msg="delete: container \\"c1\\" does not exist"$' \
  "$tmp/log.txt" || fail "text entry: $(cat "$tmp/log.txt")"

# --debug: debug entries go to the log, not to stderr, when there is one.
run "$HYRUN" --root "$root" --debug --log "$tmp/debug.json" --log-format json list
((rc == 0)) || fail "list exited $rc"
[[ ! -s $tmp/err ]] || fail "debug went to stderr: $(cat "$tmp/err")"
jq -e -s 'any(.[]; .level == "debug")' "$tmp/debug.json" > /dev/null \
  || fail "no debug entry: $(cat "$tmp/debug.json")"
# Without --debug there is none.
run "$HYRUN" --root "$root" --log "$tmp/quiet.json" --log-format json list
[[ ! -s $tmp/quiet.json ]] || fail "entries without --debug: $(cat "$tmp/quiet.json")"

# A log file that cannot be opened is an error, named.
run "$HYRUN" --root "$root" --log "$tmp/no/such/dir/log" list
((rc == 1)) || fail "bad --log exited $rc"
grep -qF "open log file \`$tmp/no/such/dir/log\`" "$tmp/err" || fail "bad --log: $(cat "$tmp/err")"

[[ ! -e $root ]] || fail "--root was created"
echo "ok"
