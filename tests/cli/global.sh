#!/bin/bash
# Global options, --version, help, bad flags and unknown commands.
set -euo pipefail
: "${HYRUN:?HYRUN must name the hyrun binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HYRUN_CONFIG=$tmp/empty.conf
: > "$HYRUN_CONFIG"
root=$tmp/root

fail () { echo "FAIL: $*" >&2; exit 1; }
# run CMD...: status in $rc, output in $tmp/out and $tmp/err
run () { set +e; "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; set -e; }
expect_ok () { run "$@"; ((rc == 0)) || fail "$* exited $rc: $(cat "$tmp/err")"; }
# expect_error NEEDLE CMD...: exit 1, one stderr line "hyrun: ..." with NEEDLE
expect_error ()
{
  local needle=$1; shift
  run "$@"
  ((rc == 1)) || fail "$* exited $rc, not 1"
  [[ $(wc -l < "$tmp/err") == 1 ]] || fail "$*: stderr is not one line: $(cat "$tmp/err")"
  grep -q '^hyrun: ' "$tmp/err" || fail "$*: stderr lacks the hyrun: prefix"
  grep -qF -- "$needle" "$tmp/err" || fail "$*: stderr lacks '$needle': $(cat "$tmp/err")"
  [[ ! -e $root ]] || fail "$*: --root $root was created"
}

# --version, runc's layout
for flag in --version -v -version; do
  expect_ok "$HYRUN" $flag
  mapfile -t lines < "$tmp/out"
  ((${#lines[@]} == 4)) || fail "$flag: ${#lines[@]} lines"
  [[ ${lines[0]} =~ ^hyrun\ version\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "line 1: ${lines[0]}"
  [[ ${lines[1]} =~ ^commit:\ .+$ ]] || fail "line 2: ${lines[1]}"
  [[ ${lines[2]} == "spec: 1.2.0" ]] || fail "line 3: ${lines[2]}"
  [[ ${lines[3]} =~ ^libseccomp:\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "line 4: ${lines[3]}"
done

# help, for hyrun and for a command
for args in --help -h help; do
  expect_ok "$HYRUN" $args
  for word in USAGE COMMANDS "GLOBAL OPTIONS" create run exec features spec --root --log-format; do
    grep -qF -- "$word" "$tmp/out" || fail "hyrun $args: help lacks $word"
  done
done
# Invoked under another name (installed as `runc`), help and version use it.
ln -s "$HYRUN" "$tmp/runc"
expect_ok "$tmp/runc" --version
[[ $(head -1 "$tmp/out") == "runc version "* ]] || fail "version as runc: $(head -1 "$tmp/out")"
expect_ok "$tmp/runc" delete -h
[[ $(sed -n 2p "$tmp/out") == "   runc delete - "* ]] || fail "help as runc: $(sed -n 2p "$tmp/out")"
expect_ok "$tmp/runc" checkpoint -h
expect_ok "$tmp/runc" -h
[[ $(sed -n 2p "$tmp/out") == "   runc - "* ]] || fail "global help as runc: $(sed -n 2p "$tmp/out")"
expect_error "checkpoint and restore are not supported" "$HYRUN" checkpoint c1
expect_error "No help topic for 'foo'" "$HYRUN" foo -h

expect_ok "$HYRUN" # no command: the help, as runc
grep -q COMMANDS "$tmp/out" || fail "no command: no help"
expect_ok "$HYRUN" help create
grep -qF -- "--bundle" "$tmp/out" || fail "help create lacks --bundle"
expect_ok "$HYRUN" exec --help
grep -qF -- "--additional-gids" "$tmp/out" || fail "exec --help lacks --additional-gids"
expect_error 'unknown command "nope"' "$HYRUN" help nope

# bad flags and commands name what is wrong
expect_error 'unknown flag "--bogus"' "$HYRUN" --root "$root" --bogus list
expect_error 'unknown flag "-bogus"' "$HYRUN" --root "$root" -bogus list
expect_error 'unknown command "frobnicate"' "$HYRUN" --root "$root" frobnicate
expect_error 'flag --log needs a value' "$HYRUN" --root "$root" --log
expect_error 'flag --debug does not take a value' "$HYRUN" --root "$root" --debug=yes list
expect_error 'invalid value "xml" for flag --log-format' "$HYRUN" --root "$root" --log-format xml list
expect_error 'invalid value "nope" for flag --cgroup-manager' "$HYRUN" --root "$root" --cgroup-manager nope list
expect_error 'invalid value "maybe" for flag --rootless' "$HYRUN" --root "$root" --rootless maybe list
expect_error 'unknown flag "--bogus"' "$HYRUN" --root "$root" list --bogus
expect_error 'invalid value "yaml" for flag --format' "$HYRUN" --root "$root" list --format yaml

# accepted global options, in runc's spellings
expect_ok "$HYRUN" --root "$root" --debug --criu /usr/sbin/criu --rootless auto \
  --cgroup-manager cgroupfs --log-format text list
expect_ok "$HYRUN" --root="$root" --rootless=false --cgroup-manager=disabled list
expect_ok "$HYRUN" -root "$root" -log-format json -systemd-cgroup list -q
[[ ! -s $tmp/out ]] || fail "list -q printed: $(cat "$tmp/out")"
[[ ! -e $root ]] || fail "list created --root"

# the systemd cgroup manager is refused where cgroups are needed
expect_error "systemd cgroup manager is not supported yet" \
  "$HYRUN" --root "$root" --systemd-cgroup pause c1
expect_error "systemd cgroup manager is not supported yet" \
  "$HYRUN" --root "$root" --cgroup-manager systemd update --memory 1g c1

echo "ok"
