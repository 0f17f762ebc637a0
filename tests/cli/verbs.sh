#!/bin/bash
# Lifecycle verbs: runc's flags, argument checks, and what happens with a
# container that does not exist.  --root must never be created.
set -euo pipefail
: "${HYRUN:?HYRUN must name the hyrun binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HYRUN_CONFIG=$tmp/empty.conf
: > "$HYRUN_CONFIG"
root=$tmp/root

fail () { echo "FAIL: $*" >&2; exit 1; }
run () { set +e; "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; set -e; }
root_untouched () { [[ ! -e $root ]] || fail "$*: --root $root was created"; }
expect_ok ()
{
  run "$HYRUN" --root "$root" "$@"
  ((rc == 0)) || fail "$* exited $rc: $(cat "$tmp/err")"
  root_untouched "$@"
}
# expect_error NEEDLE ARGS...: `hyrun --root $root ARGS` exits 1 with one
# line "hyrun: ..." holding NEEDLE, and leaves no --root behind.
expect_error ()
{
  local needle=$1; shift
  run "$HYRUN" --root "$root" "$@"
  local want=1
  [[ $1 == exec ]] && want=255 # runc's exit status for a failed exec
  ((rc == want)) || fail "$* exited $rc, not $want: $(cat "$tmp/err")"
  [[ $(wc -l < "$tmp/err") == 1 ]] || fail "$*: stderr is not one line: $(cat "$tmp/err")"
  grep -q '^hyrun: ' "$tmp/err" || fail "$*: stderr lacks the hyrun: prefix"
  grep -qF -- "$needle" "$tmp/err" || fail "$*: stderr lacks '$needle': $(cat "$tmp/err")"
  root_untouched "$@"
}

missing='container "c1" does not exist'

# Every verb on a missing container says so.
expect_error "$missing" start c1
expect_error "$missing" state c1
expect_error "$missing" kill c1
expect_error "$missing" kill c1 KILL
expect_error "$missing" kill --all c1 SIGKILL
expect_error "$missing" kill -a c1 9
expect_error "$missing" kill c1 sigusr1
expect_error "$missing" kill c1 RTMIN+3
expect_error "$missing" delete c1
expect_error "$missing" pause c1
expect_error "$missing" resume c1
expect_error "$missing" ps c1
expect_error "$missing" ps --format json c1
expect_error "$missing" ps -f table c1 -ef
expect_error "$missing" events c1
expect_error "$missing" events --stats --interval 2s c1
expect_error "$missing" exec c1 true
expect_error "$missing" exec -t -d -e A=1 -e B=2 --cwd / -u 1000:1000 \
  --additional-gids 10 -g 11 -c CAP_KILL --cap CAP_CHOWN --no-new-privs \
  --preserve-fds 2 --pid-file "$tmp/pid" --console-socket "$tmp/sock" \
  --ignore-paused --cgroup cpu:sub --process-label l --apparmor p c1 true
expect_error "$missing" update c1
expect_error "$missing" update --memory 512m --memory-swap -1 --cpu-quota 50000 \
  --cpu-period 100000 --cpu-share 512 --cpuset-cpus 0-1 --cpuset-mems 0 \
  --pids-limit 100 --blkio-weight 500 --cpu-rt-period 1000 --cpu-rt-runtime 500 \
  --kernel-memory 1g --kernel-memory-tcp 64m --memory-reservation 256m \
  --l3-cache-schema L3:0=ff --mem-bw-schema MB:0=50 c1
# runc's single-dash and --flag=value spellings
expect_error "$missing" kill -all c1
expect_error "$missing" update -memory=1g c1

# delete --force of a missing container succeeds, as runc's
expect_ok delete --force c1
expect_ok delete -f c1

# The signal is checked first, and named.
expect_error 'unknown signal "SIGBOGUS"' kill c1 SIGBOGUS
expect_error 'unknown signal "BOGUS"' kill c1 BOGUS
expect_error 'invalid signal "99999"' kill c1 99999
expect_error 'unknown signal "-9"' kill c1 -- -9

# Container ids as runc accepts them.
expect_error 'invalid container id "a/b"' state a/b
expect_error 'invalid container id ".."' state ..
expect_error 'invalid container id "."' state .
expect_error 'invalid container id "a b"' state "a b"
expect_error 'invalid container id: must not be empty' state ""
expect_error 'container "a_b+c.d-e" does not exist' state a_b+c.d-e

# Argument counts.
expect_error 'requires exactly 1 argument' state
expect_error 'requires exactly 1 argument' state a b
expect_error 'requires exactly 1 argument' start
expect_error 'requires exactly 1 argument' delete
expect_error 'requires exactly 1 argument' create
expect_error 'requires exactly 1 argument' run
expect_error 'requires at least 1 argument' kill
expect_error 'requires at most 2 arguments' kill c1 KILL extra
expect_error 'requires at least 1 argument' exec
expect_error 'a command to run is required' exec c1
expect_error 'requires at least 1 argument' ps
expect_error 'takes no arguments' list extra

# Flag values are checked and named.
expect_error 'unknown flag "--bogus"' state --bogus c1
expect_error 'flag --bundle needs a value' create c1 --bundle
expect_error 'invalid value "x" for flag --preserve-fds' create --preserve-fds x c1
expect_error 'invalid value "-1" for flag --preserve-fds' run --preserve-fds -1 c1
expect_error 'invalid value "0s" for flag --interval' events --interval 0s c1
expect_error 'invalid value "soon" for flag --interval' events --interval soon c1
expect_error 'invalid value "x" for flag --format' ps --format x c1
expect_error 'invalid value "root" for flag --user' exec -u root c1 true
expect_error 'invalid value "CAP_NOPE" for flag --cap' exec --cap CAP_NOPE c1 true
expect_error 'invalid value "NOEQUALS" for flag --env' exec -e NOEQUALS c1 true
expect_error 'invalid value "rel" for flag --cwd' exec --cwd rel c1 true
expect_error 'invalid value "lots" for flag --memory' update --memory lots c1
expect_error 'invalid value "-5" for flag --cpu-period' update --cpu-period -5 c1
expect_error 'invalid value "x" for flag --pids-limit' update --pids-limit x c1
expect_error 'invalid value "99999" for flag --blkio-weight' update --blkio-weight 99999 c1

# exec --process and update --resources read and check their documents.
echo '{"args": ["true"]}' > "$tmp/process.json"
expect_error '.cwd' exec -p "$tmp/process.json" c1
echo '{"args": ["true"], "cwd": "/"}' > "$tmp/process.json"
expect_error "$missing" exec --process "$tmp/process.json" c1
expect_error "$tmp/nope.json" exec -p "$tmp/nope.json" c1
echo '{"memory": {"limit": "lots"}}' > "$tmp/resources.json"
expect_error '.memory.limit' update -r "$tmp/resources.json" c1
echo '{"memory": {"limit": 1048576}, "pids": {"limit": 10}}' > "$tmp/resources.json"
expect_error "$missing" update --resources "$tmp/resources.json" c1
run "$HYRUN" --root "$root" update -r - c1 < "$tmp/resources.json"
grep -qF "$missing" "$tmp/err" || fail "update -r -: $(cat "$tmp/err")"

# list on a missing root: runc's header, nothing, or null; root not created.
expect_ok list
[[ $(cat "$tmp/out") == "ID          PID         STATUS      BUNDLE      CREATED     OWNER" ]] \
  || fail "list header: $(cat "$tmp/out")"
expect_ok list -q
[[ ! -s $tmp/out ]] || fail "list -q: $(cat "$tmp/out")"
expect_ok list --format json
[[ $(cat "$tmp/out") == null ]] || fail "list --format json: $(cat "$tmp/out")"
expect_ok list -f json -q
# and on an empty one
mkdir "$tmp/empty-root"
run "$HYRUN" --root "$tmp/empty-root" list -f json
[[ $rc == 0 && $(cat "$tmp/out") == null ]] || fail "list on an empty root"
[[ -z $(ls -A "$tmp/empty-root") ]] || fail "list wrote into the root"

# --help of each verb, exit 0, nothing created
for verb in create run start state kill delete list ps exec pause resume update events; do
  expect_ok "$verb" --help
  grep -q "hyrun $verb" "$tmp/out" || fail "$verb --help: $(cat "$tmp/out")"
done

echo "ok"
