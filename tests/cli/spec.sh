#!/bin/bash
# hyrun spec: runc's default config.json, never overwriting one.
# shellcheck disable=SC2016  # the backquotes in messages are literal
set -euo pipefail
: "${HYRUN:?HYRUN must name the hyrun binary}"
[[ $HYRUN == /* ]] || HYRUN=$PWD/$HYRUN # the test changes directory
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HYRUN_CONFIG=$tmp/empty.conf
: > "$HYRUN_CONFIG"
root=$tmp/root

fail () { echo "FAIL: $*" >&2; exit 1; }
run () { set +e; "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; set -e; }
expect_ok () { run "$@"; ((rc == 0)) || fail "$* exited $rc: $(cat "$tmp/err")"; }
expect_error ()
{
  local needle=$1; shift
  run "$@"
  ((rc == 1)) || fail "$* exited $rc, not 1"
  grep -qF -- "$needle" "$tmp/err" || fail "$*: stderr lacks '$needle': $(cat "$tmp/err")"
}
key_paths () { jq -r 'paths | map(tostring) | join(".")' "$1" | sort; }

for mode in default rootless; do
  dir=$tmp/$mode
  mkdir -p "$dir/hyrun" "$dir/runc"
  flags=()
  [[ $mode == rootless ]] && flags=(--rootless)
  expect_ok "$HYRUN" --root "$root" spec -b "$dir/hyrun" "${flags[@]}"
  conf=$dir/hyrun/config.json
  jq -e . "$conf" > /dev/null || fail "$mode: config.json is not JSON"
  [[ $(jq -r .ociVersion "$conf") == 1.2.0 ]] || fail "$mode: ociVersion"
  [[ $(jq -r .hostname "$conf") == hyrun ]] || fail "$mode: hostname"
  [[ $(jq -r .root.path "$conf") == rootfs ]] || fail "$mode: root.path"

  if command -v runc > /dev/null; then
    (cd "$dir/runc" && runc spec "${flags[@]}")
    diff -u <(key_paths "$dir/runc/config.json") <(key_paths "$conf") \
      || fail "$mode: key paths differ from runc's"
    # Beyond the keys, only the version and hostname differ from runc 1.1.
    if runc --version | grep -q '^runc version 1\.1\.'; then
      diff -u <(jq -S 'del(.ociVersion, .hostname)' "$dir/runc/config.json") \
        <(jq -S 'del(.ociVersion, .hostname)' "$conf") \
        || fail "$mode: values differ from runc's"
    fi
  else
    echo "SKIP: runc is not installed, no comparison with runc spec"
  fi
done

# rootless specifics
conf=$tmp/rootless/hyrun/config.json
jq -e '[.linux.namespaces[].type] | index("user") and (index("network") | not)' "$conf" \
  > /dev/null || fail "rootless: namespaces"
[[ $(jq -r '.linux.uidMappings[0].hostID' "$conf") == "$(id -u)" ]] || fail "rootless: uid map"
[[ $(jq -r '.linux.gidMappings[0].hostID' "$conf") == "$(id -g)" ]] || fail "rootless: gid map"
jq -e '.linux.resources == null' "$conf" > /dev/null || fail "rootless: resources"

# An existing config.json is never overwritten.
before=$(sha256sum "$tmp/default/hyrun/config.json")
expect_error "File config.json exists. Remove it first" \
  "$HYRUN" --root "$root" spec --bundle "$tmp/default/hyrun"
[[ $(sha256sum "$tmp/default/hyrun/config.json") == "$before" ]] || fail "config.json changed"
echo '{}' > "$tmp/existing.json"
mkdir "$tmp/b2" && cp "$tmp/existing.json" "$tmp/b2/config.json"
(cd "$tmp/b2" && expect_error "File config.json exists" "$HYRUN" --root "$root" spec)
cmp -s "$tmp/existing.json" "$tmp/b2/config.json" || fail "cwd config.json changed"

expect_error "bundle \`$tmp/missing\`" "$HYRUN" --root "$root" spec -b "$tmp/missing"
expect_error "takes no arguments" "$HYRUN" --root "$root" spec extra

# What spec writes parses: create gets as far as the missing rootfs.
expect_error '.root.path: rootfs `rootfs`: No such file or directory' \
  "$HYRUN" --root "$root" create -b "$tmp/default/hyrun" c1
[[ ! -e $root ]] || fail "--root was created"

echo "ok"
