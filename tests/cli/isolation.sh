#!/bin/bash
# create/run: bundle checks and the choice of isolation (annotation, program
# name, /etc/hyrun/hyrun.conf).  The bundle asks for a terminal, which
# container mode refuses without --console-socket when detached: that error
# shows the container path was taken; VM mode, given a guest kernel that
# does not exist, names it.  --root must stay empty after every failure.
# shellcheck disable=SC2016  # the backquotes in messages are literal
set -euo pipefail
: "${HYRUN:?HYRUN must name the hyrun binary}"
[[ $HYRUN == /* ]] || HYRUN=$PWD/$HYRUN # the test changes directory
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HYRUN_CONFIG=$tmp/empty.conf
: > "$HYRUN_CONFIG"
root=$tmp/root
bundle=$tmp/bundle

fail () { echo "FAIL: $*" >&2; exit 1; }
run () { set +e; "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; set -e; }
# expect_error NEEDLE CMD...: exit 1, one line "hyrun: ..." holding NEEDLE,
# no --root left behind.
expect_error ()
{
  local needle=$1; shift
  run "$@"
  ((rc == 1)) || fail "$* exited $rc, not 1: $(cat "$tmp/err")"
  [[ $(wc -l < "$tmp/err") == 1 ]] || fail "$*: stderr is not one line: $(cat "$tmp/err")"
  grep -q '^hyrun: ' "$tmp/err" || fail "$*: stderr lacks the hyrun: prefix"
  grep -qF -- "$needle" "$tmp/err" || fail "$*: stderr lacks '$needle': $(cat "$tmp/err")"
  [[ ! -e $root || -z $(ls -A "$root") ]] || fail "$*: --root $root is not empty"
}
# with_annotations JSON-OBJECT FILE: the bundle's config with these annotations
with_annotations () { jq --argjson a "$1" '.annotations = $a' "$bundle/config.json" > "$2"; }

container="cannot allocate a tty when hyrun detaches without --console-socket"
vm="vm: no guest kernel at \`$tmp/no-kernel\`"
export HYRUN_VM_KERNEL=$tmp/no-kernel

mkdir -p "$bundle"
"$HYRUN" --root "$root" spec -b "$bundle"

# The rootfs is checked and named as root.path says.
expect_error '.root.path: rootfs `rootfs`: No such file or directory' \
  "$HYRUN" --root "$root" create -b "$bundle" c1
jq '.root.path = "elsewhere/fs"' "$bundle/config.json" > "$bundle/other.json"
expect_error '.root.path: rootfs `elsewhere/fs`: No such file or directory' \
  "$HYRUN" --root "$root" create -b "$bundle" -f other.json c1
touch "$bundle/file"
jq '.root.path = "file"' "$bundle/config.json" > "$bundle/file.json"
expect_error '.root.path: rootfs `file`: Not a directory' \
  "$HYRUN" --root "$root" create -b "$bundle" --config "$bundle/file.json" c1
mkdir "$bundle/rootfs"

# Missing or broken bundles name the file and field.
expect_error "bundle \`$tmp/nope\`" "$HYRUN" --root "$root" create -b "$tmp/nope" c1
expect_error "nope.json" "$HYRUN" --root "$root" create -b "$bundle" -f nope.json c1
jq 'del(.process.cwd)' "$bundle/config.json" > "$bundle/nocwd.json"
expect_error ".process.cwd" "$HYRUN" --root "$root" create -b "$bundle" -f nocwd.json c1

# Default: container isolation, for create and run; the bundle defaults to
# the current directory.
expect_error "create: $container" "$HYRUN" --root "$root" create -b "$bundle" c1
expect_error "run: $container" "$HYRUN" --root "$root" run -d --bundle "$bundle" c1
# With a console socket the container is really made, and fails when the
# socket is not there, without leaving anything.
(cd "$bundle" && expect_error "console socket \`$tmp/s\`: connect" \
  "$HYRUN" --root "$root" create --pid-file "$tmp/pid" --console-socket "$tmp/s" \
  --no-pivot --no-new-keyring --preserve-fds 3 c1)
[[ ! -e $tmp/pid ]] || fail "a pid file was written"

# The annotation chooses, and a bad one is named.
with_annotations '{"io.hyrun.isolation": "vm"}' "$bundle/vm.json"
expect_error "create: $vm" "$HYRUN" --root "$root" create -b "$bundle" -f vm.json c1
with_annotations '{"io.hyrun.isolation": "bogus"}' "$bundle/bogus.json"
expect_error 'annotation io.hyrun.isolation: invalid value "bogus"' \
  "$HYRUN" --root "$root" create -b "$bundle" -f bogus.json c1
with_annotations '{"io.hyrun.isolaton": "vm"}' "$bundle/typo.json"
expect_error 'io.hyrun.isolaton' "$HYRUN" --root "$root" create -b "$bundle" -f typo.json c1
# crun's run.oci.handler=krun means a VM.
with_annotations '{"run.oci.handler": "krun"}' "$bundle/krun.json"
expect_error "create: $vm" "$HYRUN" --root "$root" create -b "$bundle" -f krun.json c1

# A binary called hyrun-vm defaults to vm; the annotation still wins.
ln -s "$HYRUN" "$tmp/hyrun-vm"
expect_error "create: $vm" "$tmp/hyrun-vm" --root "$root" create -b "$bundle" c1
with_annotations '{"io.hyrun.isolation": "container"}' "$bundle/ct.json"
expect_error "create: $container" \
  "$tmp/hyrun-vm" --root "$root" create -b "$bundle" -f ct.json c1

# hyrun.conf sets the host default, below the program name and annotation.
echo "isolation = vm" > "$tmp/vm.conf"
HYRUN_CONFIG=$tmp/vm.conf expect_error "create: $vm" \
  "$HYRUN" --root "$root" create -b "$bundle" c1
HYRUN_CONFIG=$tmp/vm.conf expect_error "create: $container" \
  "$HYRUN" --root "$root" create -b "$bundle" -f ct.json c1
printf '# hyrun defaults\n\nisolation = container   # the usual\n' > "$tmp/ct.conf"
HYRUN_CONFIG=$tmp/ct.conf expect_error "create: $container" \
  "$HYRUN" --root "$root" create -b "$bundle" c1

# A bad hyrun.conf names file:line and the key.
printf '# comment\nisolation = vm\nisolatoin = vm\n' > "$tmp/bad.conf"
HYRUN_CONFIG=$tmp/bad.conf expect_error "$tmp/bad.conf:3: unknown key \"isolatoin\"" \
  "$HYRUN" --root "$root" create -b "$bundle" c1
printf '\nisolation = microvm\n' > "$tmp/bad.conf"
HYRUN_CONFIG=$tmp/bad.conf expect_error "$tmp/bad.conf:2: isolation: unknown value \"microvm\"" \
  "$HYRUN" --root "$root" run -b "$bundle" c1
printf 'isolation vm\n' > "$tmp/bad.conf"
HYRUN_CONFIG=$tmp/bad.conf expect_error "$tmp/bad.conf:1: expected \`key = value\`" \
  "$HYRUN" --root "$root" create -b "$bundle" c1
HYRUN_CONFIG=$tmp/missing.conf expect_error "$tmp/missing.conf" \
  "$HYRUN" --root "$root" create -b "$bundle" c1

# The systemd cgroup manager is refused before anything else.
expect_error "systemd cgroup manager is not supported yet" \
  "$HYRUN" --root "$root" --systemd-cgroup create -b "$bundle" c1

# An existing container directory is not taken over.
mkdir -p "$tmp/used-root/c1"
run "$HYRUN" --root "$tmp/used-root" create -b "$bundle" c1
if ((rc != 1)) || ! grep -qF 'container "c1" already exists' "$tmp/err"; then
  fail "existing container: $(cat "$tmp/err")"
fi
[[ $(ls -A "$tmp/used-root") == c1 ]] || fail "used root changed"

echo "ok"
