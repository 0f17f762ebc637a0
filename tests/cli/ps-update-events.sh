#!/bin/bash
# ps, update and events on real containers: runc's output formats, the
# cgroup files update writes, stats and OOM events.
set -euo pipefail
((EUID == 0)) || { echo "SKIP: needs root"; exit 0; }
[[ -x /bin/busybox ]] || { echo "SKIP: needs busybox-static"; exit 0; }
command -v ps >/dev/null || { echo "SKIP: needs ps (procps)"; exit 0; }
. "$(dirname "$0")/../lib/containers.sh"

# expect_error NEEDLE ARGS...: `hyrun ARGS` exits 1 with one line holding NEEDLE
expect_error ()
{
  local needle=$1; shift
  run hy "$@"
  ((rc == 1)) || fail "$* exited $rc, not 1: $(cat "$tmp/err")"
  [[ $(wc -l < "$tmp/err") == 1 ]] || fail "$*: stderr is not one line: $(cat "$tmp/err")"
  grep -qF -- "$needle" "$tmp/err" || fail "$*: stderr lacks '$needle': $(cat "$tmp/err")"
}

# The directory of the container's cgroup that serves `ctrl`, from the
# cgroup string status.json keeps ("hybrid;cpu,cpuacct:/sys/...;...").
cg_dir ()
{
  local id=$1 ctrl=$2
  jq -r .cgroup "$root/$id/status.json" | tr ';' '\n' | awk -F: -v c="$ctrl" '
    NR == 1 { mode = $0; next }
    { n = split($1, cs, ","); for (i = 1; i <= n; i++) if (cs[i] == c) { print $2; exit } }
    $1 == "" { v2 = $2 }
    END { if (mode == "v2") print v2 }' | head -1
}
cg_mode () { jq -r .cgroup "$root/$1/status.json" | cut -d';' -f1; }

# cg_value ID V1-CONTROLLER V1-FILE V2-FILE: the limit as the kernel has it
cg_value ()
{
  local id=$1 ctrl=$2 v1=$3 v2=$4
  if [[ $(cg_mode "$id") == v2 ]]; then
    cat "$(cg_dir "$id" "$ctrl")/$v2"
  else
    cat "$(cg_dir "$id" "$ctrl")/$v1"
  fi
}

wait_status ()
{
  local id=$1 want=$2
  for _ in $(seq 50); do
    [[ $(hy state "$id" 2>/dev/null | jq -r .status) == "$want" ]] && return 0
    sleep 0.1
  done
  fail "$id: not $want: $(hy state "$id" | jq -r .status)"
}

# ---- ps ----
b=$(bundle pue-two sh -c 'sleep 1000 & exec sleep 1001')
hy run -d -b "$b" pue-two
init=$(hy state pue-two | jq -r .pid)
for _ in $(seq 50); do
  [[ $(hy ps -f json pue-two | jq length) == 2 ]] && break
  sleep 0.1
done
json=$(hy ps --format json pue-two)
[[ $(jq length <<< "$json") == 2 ]] || fail "ps json: $json"
jq -e --argjson p "$init" 'index($p) != null' <<< "$json" >/dev/null ||
  fail "ps json lacks init $init: $json"
[[ $json =~ ^\[[0-9]+,[0-9]+\]$ ]] || fail "ps json is not runc's [a,b]: $json"

hy ps pue-two > "$tmp/table"
head -1 "$tmp/table" | grep -q '^UID *PID *PPID' || fail "ps header: $(head -1 "$tmp/table")"
[[ $(wc -l < "$tmp/table") == 3 ]] || fail "ps table: $(cat "$tmp/table")"
for pid in $(tail -n +2 "$tmp/table" | awk '{print $2}'); do
  jq -e --argjson p "$pid" 'index($p) != null' <<< "$json" >/dev/null ||
    fail "ps table shows pid $pid outside the container"
done
grep -q 'sleep 1001' "$tmp/table" || fail "ps table: $(cat "$tmp/table")"

# ps options pass through; the PID column is found wherever it is
hy ps pue-two -o comm,pid > "$tmp/table"
[[ $(head -1 "$tmp/table" | awk '{print $2}') == PID ]] || fail "ps -o: $(cat "$tmp/table")"
[[ $(tail -n +2 "$tmp/table" | awk '{print $1}' | sort -u) == sleep ]] ||
  fail "ps -o comm,pid: $(cat "$tmp/table")"
expect_error '`ps` exited with status' ps pue-two --no-such-ps-option
expect_error "couldn't find PID field" ps pue-two -o comm

# ---- update ----
hy update --memory 64M --pids-limit 50 --cpu-quota 50000 --cpu-period 100000 pue-two
[[ $(cg_value pue-two memory memory.limit_in_bytes memory.max) == 67108864 ]] ||
  fail "update --memory: $(cg_value pue-two memory memory.limit_in_bytes memory.max)"
[[ $(cg_value pue-two pids pids.max pids.max) == 50 ]] || fail "update --pids-limit"
if [[ $(cg_mode pue-two) == v2 ]]; then
  [[ $(cg_value pue-two cpu - cpu.max) == "50000 100000" ]] || fail "update --cpu-quota"
else
  [[ $(cg_value pue-two cpu cpu.cfs_quota_us -) == 50000 ]] || fail "update --cpu-quota"
fi
# the container's config copy remembers them
jq -e '.linux.resources | .memory.limit == 67108864 and .pids.limit == 50
       and .cpu.quota == 50000' "$root/pue-two/config.json" >/dev/null ||
  fail "config copy: $(jq -c .linux.resources "$root/pue-two/config.json")"

# a flag alone leaves the other limits as they are
hy update --pids-limit 60 pue-two
[[ $(cg_value pue-two pids pids.max pids.max) == 60 ]] || fail "update --pids-limit 60"
[[ $(cg_value pue-two memory memory.limit_in_bytes memory.max) == 67108864 ]] ||
  fail "update --pids-limit changed the memory limit"
jq -e '.linux.resources.memory.limit == 67108864' "$root/pue-two/config.json" >/dev/null ||
  fail "update --pids-limit lost the stored memory limit"

# -r FILE and -r - (stdin); the flags are then ignored, as runc does
cat > "$tmp/res.json" <<'EOF'
{"memory": {"limit": 33554432}, "pids": {"limit": 20}}
EOF
hy update -r "$tmp/res.json" --pids-limit 99 pue-two
[[ $(cg_value pue-two memory memory.limit_in_bytes memory.max) == 33554432 ]] || fail "update -r memory"
[[ $(cg_value pue-two pids pids.max pids.max) == 20 ]] || fail "update -r pids"
echo '{"pids": {"limit": 30}}' | hy update -r - pue-two
[[ $(cg_value pue-two pids pids.max pids.max) == 30 ]] || fail "update -r -"
jq -e '.linux.resources | .memory.limit == 33554432 and .pids.limit == 30' \
  "$root/pue-two/config.json" >/dev/null || fail "config copy after -r"
# -1 lifts the limit
hy update --pids-limit -1 pue-two
[[ $(cg_value pue-two pids pids.max pids.max) == max ]] || fail "update --pids-limit -1"

# errors name the flag, the document path or the cgroup file
expect_error 'invalid value "lots" for flag --memory' update --memory lots pue-two
expect_error 'invalid value "x" for flag --pids-limit' update --pids-limit x pue-two
echo '{"memory": {"limit": "x"}}' > "$tmp/bad.json"
expect_error "$tmp/bad.json: .memory.limit" update -r "$tmp/bad.json" pue-two
expect_error 'cpuset.cpus' update --cpuset-cpus 100000 pue-two
[[ $(cg_value pue-two memory memory.limit_in_bytes memory.max) == 33554432 ]] ||
  fail "a failed update changed the memory limit"

# ---- events ----
hy events --stats pue-two > "$tmp/stats"
[[ $(wc -l < "$tmp/stats") == 1 ]] || fail "events --stats: not one line"
jq -e '.type == "stats" and .id == "pue-two"
       and .data.memory.usage.usage > 0
       and .data.memory.usage.limit == 33554432
       and .data.pids.current >= 2
       and .data.cpu.usage.total > 0
       and (.data.cpu.usage | has("kernel") and has("user"))' "$tmp/stats" >/dev/null ||
  fail "events --stats: $(cat "$tmp/stats")"

# the stream: a stats event each interval
set +e; timeout 1.1 "$HYRUN" --root "$root" events --interval 200ms pue-two > "$tmp/ev"; rc=$?; set -e
((rc == 124)) || fail "events stream ended by itself ($rc)"
n=$(jq -s '[.[] | select(.type == "stats" and .id == "pue-two")] | length' "$tmp/ev")
((n >= 2)) || fail "events stream: $n stats events in 1.1 s: $(cat "$tmp/ev")"

# ps and update on a paused container, and the stream does not hold the
# container's lock (kill must go through while it runs)
hy pause pue-two
[[ $(hy ps -f json pue-two | jq length) == 2 ]] || fail "ps on a paused container"
hy update --pids-limit 40 pue-two
hy resume pue-two
hy events --interval 10s pue-two > "$tmp/ev" 2> "$tmp/ev-err" & events=$!
sleep 0.3
timeout 5 "$HYRUN" --root "$root" kill pue-two KILL || fail "kill waited on events"
for _ in $(seq 50); do kill -0 "$events" 2>/dev/null || break; sleep 0.1; done
kill -0 "$events" 2>/dev/null && { kill "$events"; fail "events did not end with the container"; }
wait "$events" || fail "events exited $? when the container stopped: $(cat "$tmp/ev-err")"

# ---- stopped ----
wait_status pue-two stopped
[[ $(hy ps -f json pue-two) == null ]] || fail "ps json of a stopped container: $(hy ps -f json pue-two)"
[[ $(hy ps pue-two | wc -l) == 1 ]] || fail "ps table of a stopped container"
expect_error 'container "pue-two" is not running' events pue-two
expect_error 'container "pue-two" is not running' events --stats pue-two
expect_error 'container "pue-two" is not running' update --memory 1g pue-two
hy delete pue-two

# ---- OOM ----
b=$(bundle oom sh -c 'x=a; while true; do x=$x$x; done')
jq '.linux.resources.memory = {limit: 16777216, swap: 16777216}' "$b/config.json" > "$tmp/c"
mv "$tmp/c" "$b/config.json"
hy create -b "$b" pue-oom
hy events --interval 5s pue-oom > "$tmp/ev" & events=$!
sleep 0.3
hy start pue-oom
for _ in $(seq 100); do kill -0 "$events" 2>/dev/null || break; sleep 0.1; done
kill -0 "$events" 2>/dev/null && { kill "$events"; fail "events did not end after the OOM kill"; }
wait "$events" || fail "events exited $?"
jq -e -s 'any(.type == "oom" and .id == "pue-oom")' "$tmp/ev" >/dev/null ||
  fail "no oom event: $(cat "$tmp/ev")"
hy delete pue-oom

echo "ps-update-events: ok"
