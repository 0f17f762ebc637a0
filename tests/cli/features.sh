#!/bin/bash
# hyrun features: a valid runtime-spec features document.
set -euo pipefail
: "${HYRUN:?HYRUN must name the hyrun binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

fail () { echo "FAIL: $*" >&2; exit 1; }
# check DESCRIPTION JQ-FILTER: the filter must yield true
check () { jq -e "$2" "$tmp/features.json" > /dev/null || fail "$1 ($2)"; }

"$HYRUN" --root "$root" features > "$tmp/features.json" 2> "$tmp/err" \
  || fail "features exited $?: $(cat "$tmp/err")"
[[ ! -s $tmp/err ]] || fail "features wrote to stderr: $(cat "$tmp/err")"
jq -e . "$tmp/features.json" > /dev/null || fail "not JSON"

strings='type == "array" and all(.[]; type == "string")'
check "versions" '.ociVersionMin == "1.0.0" and .ociVersionMax == "1.2.0"'
check "hooks" ".hooks | ($strings) and (sort == ([\"prestart\", \"createRuntime\",
  \"createContainer\", \"startContainer\", \"poststart\", \"poststop\"] | sort))"
check "mountOptions" ".mountOptions | ($strings) and length > 50"
for opt in rbind rro ro nosuid rshared tmpcopyup idmap ridmap strictatime; do
  check "mountOptions has $opt" ".mountOptions | index([\"$opt\"]) != null"
done
check "namespaces" ".linux.namespaces | ($strings) and (sort == [\"cgroup\", \"ipc\",
  \"mount\", \"network\", \"pid\", \"time\", \"user\", \"uts\"])"
check "capabilities" ".linux.capabilities | ($strings) and length >= 38
  and all(.[]; test(\"^CAP_[A-Z0-9_]+$\")) and index([\"CAP_SYS_ADMIN\"]) != null"
check "cgroup" '.linux.cgroup == {"v1": true, "v2": true, "systemd": false,
  "systemdUser": false, "rdma": false}'
check "seccomp.enabled" '.linux.seccomp.enabled | type == "boolean"'
for key in actions operators archs knownFlags supportedFlags; do
  check "seccomp.$key" ".linux.seccomp.$key | $strings"
done
check "seccomp operators" '.linux.seccomp.operators | length == 7'
check "seccomp archs" '.linux.seccomp.archs | index(["SCMP_ARCH_X86_64"]) != null'
check "seccomp actions" '.linux.seccomp.enabled == false
  or (.linux.seccomp.actions | index(["SCMP_ACT_ALLOW"]) != null
      and index(["SCMP_ACT_ERRNO"]) != null)'
check "supportedFlags within knownFlags" \
  '.linux.seccomp | (.supportedFlags - .knownFlags) == []'
check "apparmor" '.linux.apparmor == {"enabled": false}'
check "selinux" '.linux.selinux == {"enabled": false}'
check "intelRdt" '.linux.intelRdt == {"enabled": false}'
check "idmap" '.linux.mountExtensions.idmap.enabled | type == "boolean"'
check "annotations" '.annotations | type == "object" and all(.[]; type == "string")'
check "io.hyrun.isolation" '.annotations["io.hyrun.isolation"] == "container,vm"'
check "io.hyrun.version" '.annotations["io.hyrun.version"] | test("^[0-9]+\\.[0-9]+\\.[0-9]+")'
check "io.hyrun.commit" '.annotations["io.hyrun.commit"] | length > 0'
check "only hyrun annotations" '.annotations | keys | all(startswith("io.hyrun."))'
check "potentiallyUnsafeConfigAnnotations" '.potentiallyUnsafeConfigAnnotations == []'
check "no unknown top-level keys" 'keys - ["ociVersionMin", "ociVersionMax", "hooks",
  "mountOptions", "linux", "annotations", "potentiallyUnsafeConfigAnnotations"] == []'

# The version annotation matches --version.
version=$("$HYRUN" --version | sed -n 's/^hyrun version //p')
check "same version as --version" ".annotations[\"io.hyrun.version\"] == \"$version\""

if "$HYRUN" --root "$root" features extra 2> "$tmp/err"; then
  fail "features accepted an argument"
fi
grep -q "takes no arguments" "$tmp/err" || fail "features extra: $(cat "$tmp/err")"
[[ ! -e $root ]] || fail "--root was created"
echo "ok"
