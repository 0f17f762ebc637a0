#!/bin/bash
# Start-up benchmark: `RUNTIME run` of a busybox /bin/true container,
# hyrun against crun and runc.  See tests/bench/README.md.
#
#   tests/bench/run-bench.sh [--quick] [--runs N] [--rounds R]
#                            [--hyrun PATH] [--crun PATH] [--runc PATH]
#                            [--out DIR] [--no-warmup]
#
#   --quick        10 runs per runtime (2 rounds of 5), for smoke testing
#   --runs N       runs per runtime (default 100)
#   --rounds R     the runs are interleaved in R rounds (default 10): each
#                  round runs N/R times each runtime, the order rotating
#   --hyrun PATH   use this hyrun instead of building build-bench/ (Release, -O2)
#   --crun PATH    default: crun on PATH, else /usr/bin/crun
#   --runc PATH    default: runc on PATH, else /usr/sbin/runc
#   --out DIR      where the bundle, the helper and results.json go
#                  (default: build-bench/ at the top of the tree)
#   --no-warmup    skip the 2 uncounted runs per runtime made first
#   --state-on-disk  keep the runtimes' --root dirs in /run as it is, not on
#                  the private tmpfs the benchmark mounts by default (on this
#                  machine /run is ext4, where rewriting a state file costs ms)
#
# Needs root.  Every run must exit 0 and leave no state behind, else the
# script stops with exit 1.  Whether hyrun meets its goal (<= 0.8 x crun) is
# printed, never turned into a failure.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

usage ()
{
  sed -n '5,7p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die () { echo "run-bench: $*" >&2; exit 1; }
say () { echo "run-bench: $*" >&2; }

runs=100
rounds=10
quick=false
hyrun=
crun=
runc=
out=$top/build-bench
warmup=2
state_fs=tmpfs
while (($#)); do
  case $1 in
    --quick) quick=true ;;
    --runs) runs=${2:?--runs needs a number}; shift ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift ;;
    --hyrun) hyrun=${2:?--hyrun needs a path}; shift ;;
    --crun) crun=${2:?--crun needs a path}; shift ;;
    --runc) runc=${2:?--runc needs a path}; shift ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --no-warmup) warmup=0 ;;
    --state-on-disk) state_fs=disk ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-bench: unknown option $1" >&2; usage ;;
  esac
  shift
done
if $quick; then runs=10; rounds=2; fi
[[ $runs =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] ||
  die "--runs and --rounds take positive integers"
((rounds <= runs)) || rounds=$runs
((EUID == 0)) || die "must run as root"

# ------------------------------------------------------------------ phase 1
# Outside the private mount namespace: build, helper, bundle.  Phase 2 is
# this script again under unshare, told so by HYRUN_BENCH_INNER.
if [[ -z ${HYRUN_BENCH_INNER:-} ]]; then
  mkdir -p "$out"
  out=$(cd "$out" && pwd)

  if [[ -z $hyrun ]]; then
    say "building hyrun (Release, -O2, no sanitizers) in $top/build-bench"
    cmake -S "$top" -B "$top/build-bench" -DCMAKE_BUILD_TYPE=Release \
          -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DHYRUN_SANITIZE=OFF \
          -DHYRUN_TESTS=OFF >/dev/null
    cmake --build "$top/build-bench" -j"$(nproc 2>/dev/null || echo 2)" \
          --target hyrun >/dev/null ||
      die "the Release build failed (see above); fix it or give --hyrun PATH"
    hyrun=$top/build-bench/runtime/hyrun
  fi
  [[ -x $hyrun ]] || die "hyrun $hyrun is not executable"
  hyrun=$(cd "$(dirname "$hyrun")" && pwd)/$(basename "$hyrun")
  crun=${crun:-$(command -v crun || echo /usr/bin/crun)}
  runc=${runc:-$(command -v runc || echo /usr/sbin/runc)}
  [[ -x $crun ]] || die "crun not found (scripts/setup installs it)"
  [[ -x $runc ]] || die "runc not found (scripts/setup installs it)"

  # The timing helper (wall time + ru_maxrss of one command).  Without a
  # compiler, GNU time does the RSS and date(1) the clock (coarser: their
  # own fork/exec falls inside the measured time).
  helper=
  if command -v cc >/dev/null; then
    helper=$out/bench-exec
    if [[ ! -x $helper || $(dirname "$self")/bench-exec.c -nt $helper ]]; then
      cc -O2 -Wall -o "$helper" "$(dirname "$self")/bench-exec.c" ||
        die "cannot build the timing helper"
    fi
  else
    if [[ ! -x /usr/bin/time ]]; then
      say "installing GNU time (apt-get install time)"
      apt-get install -y time >/dev/null || die "cannot install GNU time"
    fi
  fi

  bundle=$out/bench-bundle
  if [[ ! -f $bundle/config.json ]] ||
     [[ $(jq -c '[.process.args, .ociVersion]' "$bundle/config.json") != '[["/bin/true"],"1.0.2"]' ]]; then
    rm -rf "$bundle"
    HYRUN=$hyrun "$top/scripts/make-bundle" "$bundle" -- /bin/true
    # crun 1.8 refuses ociVersion 1.2.0 ("unknown version specified"): the
    # one bundle says 1.0.2, which all three accept.
    jq '.ociVersion = "1.0.2"' "$bundle/config.json" > "$bundle/config.json.tmp"
    mv "$bundle/config.json.tmp" "$bundle/config.json"
  fi

  export HYRUN_BENCH_INNER=1 B_HYRUN=$hyrun B_CRUN=$crun B_RUNC=$runc \
         B_HELPER=$helper B_BUNDLE=$bundle B_OUT=$out B_RUNS=$runs \
         B_ROUNDS=$rounds B_WARMUP=$warmup B_QUICK=$quick B_TOP=$top \
         B_STATE_FS=$state_fs
  set +e
  unshare -m --propagation private -- "$self"
  exit $?
fi

# ------------------------------------------------------------------ phase 2
hyrun=$B_HYRUN crun=$B_CRUN runc=$B_RUNC helper=$B_HELPER bundle=$B_BUNDLE
out=$B_OUT runs=$B_RUNS rounds=$B_ROUNDS warmup=$B_WARMUP quick=$B_QUICK
top=$B_TOP state_fs=$B_STATE_FS

# Hybrid cgroups (v1 controllers + cgroup2 at /sys/fs/cgroup/unified):
# crun 1.8 refuses that layout, so in this private mount namespace the
# cgroup2 mount goes away, for all three runtimes alike.
cgroup_layout=unknown
unmounted_unified=0
if [[ $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]]; then
  cgroup_layout=v2
elif [[ $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
  cgroup_layout="hybrid (cgroup2 at /sys/fs/cgroup/unified unmounted for the benchmark)"
  umount /sys/fs/cgroup/unified || die "cannot unmount /sys/fs/cgroup/unified"
  unmounted_unified=1
else
  cgroup_layout=v1
fi

names=(hyrun crun runc)
declare -A bin=([hyrun]=$hyrun [crun]=$crun [runc]=$runc)

work=$(mktemp -d /run/hyrun-bench.XXXXXX)
# The state roots live on a tmpfs, as /run is on most hosts (this mount
# exists only in the private mount namespace and goes with it).
if [[ $state_fs == tmpfs ]]; then
  mount -t tmpfs -o mode=0700,size=64m hyrun-bench "$work" ||
    die "cannot mount a tmpfs on $work"
fi
cleanup ()
{
  local n
  for n in "${names[@]}"; do
    # Anything left means a run failed; do not leave it running.
    if [[ -d $work/root-$n ]]; then
      local id
      for id in $("${bin[$n]}" --root "$work/root-$n" list -q 2>/dev/null); do
        "${bin[$n]}" --root "$work/root-$n" delete -f "$id" >/dev/null 2>&1
      done
    fi
  done
  [[ $state_fs == tmpfs ]] && umount "$work" 2>/dev/null
  rm -rf "$work"
}
# With the cgroup2 mount gone, crun 1.8 still follows the "0::/" line of
# /proc/self/cgroup: it makes /sys/fs/cgroup/unified/<id>/cgroup.procs as a
# plain directory and file on the /sys/fs/cgroup tmpfs, which is shared with
# the host (hidden there under the cgroup2 mount), and never removes them.
# They are not cgroups; remove ours.
remove_tmpfs_leftovers ()
{
  if [[ $unmounted_unified == 1 &&
        $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == tmpfs ]]; then
    rm -rf /sys/fs/cgroup/unified/hb-$$-*
  fi
}
trap 'remove_tmpfs_leftovers; cleanup' EXIT
for n in "${names[@]}"; do
  mkdir -p "$work/root-$n"
  : > "$work/times-$n"
done

seq_no=0
# run_one NAME COUNTED: one `NAME run`, its "ns kib" appended to
# $work/times-NAME when COUNTED is 1.
run_one ()
{
  local n=$1 counted=$2 root=$work/root-$1 line ns kib code t0 t1
  local id=hb-$$-$n-$((seq_no++))
  local log=$work/log
  local cmd=("${bin[$n]}" --root "$root" run -b "$bundle" "$id")
  if [[ -n $helper ]]; then
    line=$("$helper" "${cmd[@]}" 3>&1 >"$log" 2>&1) ||
      die "timing helper failed"
    read -r ns kib code <<<"$line"
  else
    t0=$(date +%s%N)
    /usr/bin/time -f %M -o "$work/rss" "${cmd[@]}" </dev/null >"$log" 2>&1 &&
      code=0 || code=$?
    t1=$(date +%s%N)
    ns=$((t1 - t0))
    kib=$(tail -n1 "$work/rss")
  fi
  if ((code != 0)); then
    echo "run-bench: $n run $id exited $code:" >&2
    sed 's/^/  | /' "$log" >&2
    exit 1
  fi
  [[ ! -e $root/$id ]] ||
    die "$n run $id: the container is still in $root after run returned"
  ((counted)) && echo "$ns $kib" >> "$work/times-$n"
  return 0
}

say "cgroups: $cgroup_layout"
say "state roots: $work ($([[ $state_fs == tmpfs ]] && echo "private tmpfs" || echo "on $(stat -f -c %T "$work")"))"
say "$runs runs per runtime in $rounds rounds; bundle $bundle"
for n in "${names[@]}"; do
  for ((w = 0; w < warmup; w++)); do run_one "$n" 0; done
done

per_round=$((runs / rounds))
extra=$((runs % rounds))
for ((r = 0; r < rounds; r++)); do
  k=$per_round
  ((r < extra)) && k=$((k + 1))
  for ((j = 0; j < ${#names[@]}; j++)); do
    n=${names[$(((r + j) % ${#names[@]}))]}
    for ((i = 0; i < k; i++)); do run_one "$n" 1; done
  done
  say "round $((r + 1))/$rounds done"
done

# Nothing must be left: no container in any root, no cgroup of ours.
for n in "${names[@]}"; do
  left=$("${bin[$n]}" --root "$work/root-$n" list -q 2>&1) ||
    die "$n list failed: $left"
  [[ -z $left ]] || die "$n left containers behind: $left"
done
remove_tmpfs_leftovers
leaked=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "hb-$$-*" 2>/dev/null |
         head -n 5)
[[ -z $leaked ]] || die "cgroups left behind: $leaked"

# ------------------------------------------------------------------ report
# stats FILE -> "count total_s mean_ms median_ms p90_ms min_ms max_ms
#                stddev_ms rss_max rss_median"
stats ()
{
  local f=$1
  local rss_sorted times_sorted
  times_sorted=$(awk '{print $1}' "$f" | sort -n)
  rss_sorted=$(awk '{print $2}' "$f" | sort -n)
  paste <(echo "$times_sorted") <(echo "$rss_sorted") | awk '
    { t[NR] = $1; m[NR] = $2; s += $1; ss += $1 * $1 }
    function pct(a, p,   i) { i = int(p * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; return a[i] }
    function med(a) { return NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }
    END {
      mean = s / NR; var = ss / NR - mean * mean; if (var < 0) var = 0
      printf "%d %.4f %.3f %.3f %.3f %.3f %.3f %.3f %d %d\n", NR, s / 1e9,
             mean / 1e6, med(t) / 1e6, pct(t, 0.9) / 1e6, t[1] / 1e6,
             t[NR] / 1e6, sqrt(var) / 1e6, m[NR], med(m)
    }'
}

declare -A st
for n in "${names[@]}"; do st[$n]=$(stats "$work/times-$n"); done
field () { local f; read -ra f <<<"${st[$1]}"; echo "${f[$2]}"; }

echo
printf '%-6s %5s %9s %8s %8s %8s %8s %8s %10s %10s\n' runtime runs "total s" \
       "mean ms" "med ms" "p90 ms" "min ms" "sd ms" "RSS max" "RSS med"
for n in "${names[@]}"; do
  read -r c tot mean med p90 mn mx sd rmax rmed <<<"${st[$n]}"
  printf '%-6s %5d %9.3f %8.2f %8.2f %8.2f %8.2f %8.2f %7d KiB %6d KiB\n' \
         "$n" "$c" "$tot" "$mean" "$med" "$p90" "$mn" "$sd" "$rmax" "$rmed"
done

ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo
declare -A rmean rmed
for pair in hyrun/crun hyrun/runc crun/runc; do
  num=${pair%/*} den=${pair#*/}
  rmean[$pair]=$(ratio "$(field "$num" 1)" "$(field "$den" 1)")
  rmed[$pair]=$(ratio "$(field "$num" 3)" "$(field "$den" 3)")
  printf 'wall time %-10s %s (total)   %s (median)\n' \
         "$pair:" "${rmean[$pair]}" "${rmed[$pair]}"
done
goal=$(awk -v r="${rmean[hyrun/crun]}" 'BEGIN { print (r <= 0.8) ? "met" : "NOT met" }')
echo "goal hyrun <= 0.8 x crun: $goal (ratio ${rmean[hyrun/crun]})"

# ------------------------------------------------------------------ JSON
version () { "$1" --version 2>/dev/null | head -n3 | paste -sd";" | sed "s/;/; /g"; }
rt_json ()
{
  local n=$1 c tot mean med p90 mn mx sd rmax rmed
  read -r c tot mean med p90 mn mx sd rmax rmed <<<"${st[$n]}"
  jq -n --arg name "$n" --arg path "${bin[$n]}" --arg version "$(version "${bin[$n]}")" \
     --argjson runs "$c" --argjson total_s "$tot" --argjson mean_ms "$mean" \
     --argjson median_ms "$med" --argjson p90_ms "$p90" --argjson min_ms "$mn" \
     --argjson max_ms "$mx" --argjson stddev_ms "$sd" \
     --argjson rss_max_kib "$rmax" --argjson rss_median_kib "$rmed" \
     --argjson per_run_ns "$(awk '{print $1}' "$work/times-$n" | jq -sc .)" \
     --argjson per_run_rss_kib "$(awk '{print $2}' "$work/times-$n" | jq -sc .)" \
     '{name: $name, path: $path, version: $version, runs: $runs,
       total_s: $total_s, mean_ms: $mean_ms, median_ms: $median_ms,
       p90_ms: $p90_ms, min_ms: $min_ms, max_ms: $max_ms,
       stddev_ms: $stddev_ms, rss_max_kib: $rss_max_kib,
       rss_median_kib: $rss_median_kib, per_run_ns: $per_run_ns,
       per_run_rss_kib: $per_run_rss_kib}'
}
results=$out/results.json
{
  for n in "${names[@]}"; do rt_json "$n"; done
} | jq -s \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg kernel "$(uname -r)" \
  --arg cpu "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
  --argjson cpus "$(nproc)" --arg cgroups "$cgroup_layout" \
  --arg commit "$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)" \
  --arg bundle "$bundle" --argjson runs "$runs" --argjson rounds "$rounds" \
  --argjson warmup "$warmup" --argjson quick "$quick" --arg state_fs "$state_fs" \
  --arg timer "$([[ -n $helper ]] && echo "bench-exec (CLOCK_MONOTONIC, wait4 ru_maxrss)" || echo "date +%s%N + GNU time %M")" \
  --argjson hc "${rmean[hyrun/crun]}" --argjson hr "${rmean[hyrun/runc]}" \
  --argjson cr "${rmean[crun/runc]}" --argjson hcm "${rmed[hyrun/crun]}" \
  --argjson hrm "${rmed[hyrun/runc]}" --argjson crm "${rmed[crun/runc]}" \
  --arg goal "$goal" '
  { date: $date,
    machine: { kernel: $kernel, cpu: $cpu, cpus: $cpus, cgroups: $cgroups },
    hyrun_commit: $commit, bundle: $bundle, command: "/bin/true",
    runs_per_runtime: $runs, rounds: $rounds, warmup_runs: $warmup,
    quick: $quick, timer: $timer, state_fs: $state_fs,
    runtimes: (map({key: .name, value: .}) | from_entries),
    ratios: { total: { "hyrun/crun": $hc, "hyrun/runc": $hr, "crun/runc": $cr },
              median: { "hyrun/crun": $hcm, "hyrun/runc": $hrm, "crun/runc": $crm } },
    goal: { text: "hyrun <= 0.8 x crun (total wall time)", ratio: $hc,
            met: ($goal == "met") } }' > "$results.tmp"
mv "$results.tmp" "$results"
echo "results: $results"
exit 0
