#!/bin/bash
# Run runc 1.1.5's own integration suite (bats) against a runtime.
#
#   tests/integration/runc-suite.sh [--runtime PATH] [--filter REGEX]
#                                   [--files "run.bats start.bats ..."]
#                                   [--timeout SECONDS] [--cmd-timeout SECONDS]
#                                   [--isolation container|vm] [--no-vm-skips]
#                                   [--out DIR] [--no-setup]
#
#   --runtime PATH   the runtime under test (default build/runtime/hyrun);
#                    /usr/sbin/runc gives the baseline
#   --filter REGEX   only the tests whose name matches (bats --filter)
#   --files LIST     only these test files (default: all but the excluded)
#   --timeout S      limit for one test file (default 600 s); the tests a
#                    file did not report by then count as failed
#   --cmd-timeout S  a runtime command of the suite still running after S
#                    seconds (default 60) is killed with its children, so
#                    that its test fails instead of hanging the file
#                    (runc's longest, `runc events`, takes ~7 s)
#   --isolation I    hyrun's default isolation for the run: the suite's
#                    containers are made with a hyrun.conf saying
#                    `isolation = I` ($HYRUN_CONFIG, OUT/hyrun.conf);
#                    default: the runtime's own default, environment as is;
#                    with vm, the tests that cannot apply to a VM are
#                    skipped with the reason (VM_SKIPS below)
#   --no-vm-skips    run those too
#   --out DIR        where results go (default build/runc-suite, or
#                    build/runc-suite-vm with --isolation vm)
#   --no-setup       do not run runc-suite-setup.sh (apt, runc's source)
#
# Needs root and Debian 12. Prints one line per test, then exactly one line
# `P passed, F failed of T` (skipped tests are neither, but count in T).
# Writes OUT/results.tap (every test, numbered across files, with bats's
# diagnostics for the failures), OUT/summary.txt (the last line) and
# OUT/logs/FILE.log (each file's raw output). Exit status: 0 when nothing
# failed, 1 when a test failed, 2 when the harness itself could not run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

# Left out, as the project decided: seccomp-notify*.bats need runc's Go
# seccompagent and a runtime with seccomp user notification;
# checkpoint.bats needs CRIU; mounts_sshfs.bats needs sshfs and a FUSE
# server.
EXCLUDED=(seccomp-notify.bats seccomp-notify-compat.bats checkpoint.bats
          mounts_sshfs.bats)

usage ()
{
  sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

runtime=$top/build/runtime/hyrun
filter=
files=
timeout_s=600
GRACE=30   # seconds bats may take to end after its last test
cmd_timeout=60
out=
isolation=
vm_skips=true
setup=true
while (($#)); do
  case $1 in
    --runtime) (($# >= 2)) || usage; runtime=$2; shift ;;
    --runtime=*) runtime=${1#*=} ;;
    --filter) (($# >= 2)) || usage; filter=$2; shift ;;
    --filter=*) filter=${1#*=} ;;
    --files) (($# >= 2)) || usage; files=$2; shift ;;
    --files=*) files=${1#*=} ;;
    --timeout) (($# >= 2)) || usage; timeout_s=$2; shift ;;
    --timeout=*) timeout_s=${1#*=} ;;
    --cmd-timeout) (($# >= 2)) || usage; cmd_timeout=$2; shift ;;
    --cmd-timeout=*) cmd_timeout=${1#*=} ;;
    --isolation) (($# >= 2)) || usage; isolation=$2; shift ;;
    --isolation=*) isolation=${1#*=} ;;
    --no-vm-skips) vm_skips=false ;;
    --out) (($# >= 2)) || usage; out=$2; shift ;;
    --out=*) out=${1#*=} ;;
    --no-setup) setup=false ;;
    -h|--help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "runc-suite: unknown argument $1" >&2; usage ;;
  esac
  shift
done

die ()
{
  echo "runc-suite: $*" >&2
  exit 2
}

((EUID == 0)) || die "must run as root (the suite runs containers as root)"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout takes a number of seconds"
[[ $cmd_timeout =~ ^[1-9][0-9]*$ ]] || die "--cmd-timeout takes a number of seconds"
case $isolation in
  '') ;;
  container|vm) ;;
  *) die "--isolation takes container or vm, not \"$isolation\"" ;;
esac
if [[ -z $out ]]; then
  out=$top/build/runc-suite
  [[ $isolation == vm ]] && out=$top/build/runc-suite-vm
fi
if [[ $runtime != */* ]]; then
  runtime=$(command -v "$runtime") || die "no runtime $runtime on PATH"
fi
[[ -x $runtime && -f $runtime ]] || die "runtime $runtime is not an executable file"
runtime=$(cd "$(dirname "$runtime")" && pwd)/$(basename "$runtime")

# One run at a time: the suite's cgroup names and the cleanup of what a run
# left behind (/tmp/runc-suite.*) are machine-wide.
exec 9> /run/lock/hyrun-runc-suite.lock
flock -n 9 || die "another runc-suite.sh run holds /run/lock/hyrun-runc-suite.lock"
stale=(/tmp/runc-suite.*)
[[ -e ${stale[0]} ]] || stale=()
bash "$here/runc-suite-clean.sh" "$runtime" "${stale[@]}" 9>&- | sed 's/^/  /'

# ---- runc's source, host packages
cache=${HYRUN_RUNC_SRC_CACHE:-/var/cache/hyrun/runc-src}
if $setup; then
  src=$(bash "$here/runc-suite-setup.sh" "$cache" | tail -1)
else
  src=$(ls -d "$cache"/runc-*/ 2>/dev/null | sort -V | tail -1)
  src=${src%/}
fi
[[ -n $src && -f $src/tests/integration/helpers.bash ]] ||
  die "no unpacked runc source under $cache (run without --no-setup)"
for tool in bats jq gawk script timeout gcc tar; do
  command -v "$tool" >/dev/null || die "$tool is missing (run without --no-setup)"
done

# ---- the suite's tree, as helpers.bash expects it:
#   tree/tests/integration/   runc's tests, get-images.sh replaced
#   tree/contrib/cmd/recvtty/recvtty   built from tests/tools/recvtty.c
#   tree/go.mod               read by spec.bats
mkdir -p "$out"
out=$(cd "$out" && pwd)
# The default isolation: every hyrun command of the run (the suite's, the
# cleanup's) reads this hyrun.conf.
if [[ -n $isolation ]]; then
  printf '# Written by runc-suite.sh --isolation %s\nisolation = %s\n' \
    "$isolation" "$isolation" > "$out/hyrun.conf"
  export HYRUN_CONFIG=$out/hyrun.conf
fi
tree=$out/tree
rm -rf "$tree" "$out/logs" "$out/tap"
mkdir -p "$tree/tests" "$tree/contrib/cmd/recvtty" "$out/logs" "$out/tap"
cp -a "$src/tests/integration" "$tree/tests/"
cp "$src/go.mod" "$tree/"
gcc -O2 -Wall -Wextra -Werror -Wshadow -o "$tree/contrib/cmd/recvtty/recvtty" \
  "$top/tests/tools/recvtty.c" || die "cannot build recvtty"

# Made anew when make-images.sh changed since they were made.
if ! cmp -s "$here/make-images.sh" "$out/images/made-by.sh"; then
  rm -rf "$out/images"
fi
bash "$here/make-images.sh" "$out/images" ||
  die "cannot make the busybox and debian root filesystems"
# runc's get-images.sh downloads the images from GitHub and asks `go env
# GOARCH`; ours names the tarballs made from Debian packages.
cat > "$tree/tests/integration/get-images.sh" <<EOF
#!/bin/bash
# Written by hyrun's tests/integration/runc-suite.sh in place of runc's.
echo BUSYBOX_IMAGE=$out/images/busybox.tar
echo DEBIAN_IMAGE=$out/images/debian.tar
EOF
chmod +x "$tree/tests/integration/get-images.sh"
cp "$here/make-images.sh" "$out/images/made-by.sh"

# With --isolation vm, a container must really run in a VM: its kernel is
# not the host's.  Otherwise the whole run would silently test container
# mode.
check_vm_default ()
{
  local dir=$out/preflight kernel rc=0
  rm -rf "$dir"
  mkdir -p "$dir/bundle/rootfs"
  tar -C "$dir/bundle/rootfs" -xf "$out/images/busybox.tar" &&
    (cd "$dir/bundle" && "$runtime" spec) || die "cannot make the preflight bundle"
  jq '.process.args = ["uname", "-r"] | .process.terminal = false' \
    "$dir/bundle/config.json" > "$dir/config.json" &&
    mv "$dir/config.json" "$dir/bundle/config.json"
  kernel=$(timeout -k 5 60 "$runtime" --root "$dir/state" run -b "$dir/bundle" \
             runc-suite-preflight < /dev/null 2> "$dir/stderr") || rc=$?
  timeout 30 "$runtime" --root "$dir/state" delete -f runc-suite-preflight \
    >/dev/null 2>&1 || true
  ((rc == 0)) || die "a container does not run with isolation vm (exit $rc): $(head -c 2000 "$dir/stderr")"
  [[ -n $kernel && $kernel != "$(uname -r)" ]] ||
    die "isolation vm: the container ran on the host's kernel ($kernel)"
  echo "runc-suite: isolation vm: containers run on the guest kernel $kernel"
  rm -rf "$dir"
}
if [[ $isolation == vm ]]; then check_vm_default; fi

# Tests no runtime can pass on this machine are made skips, with the
# reason, in the staged copy (FILE|TEST NAME|REASON; TEST NAME * skips
# every test of the file, from its setup()).
ENV_SKIPS=(
  "spec.bats|spec validator|hyrun harness: needs the network to git clone runtime-spec and go get gojsonschema"
)
# With --isolation vm, the tests that cannot apply to a container in a VM
# (README.md, "VM isolation"): skips with the reason, unless --no-vm-skips.
VM_SKIPS=(
  "cgroups.bats|runc exec (cgroup v1+hybrid joins correct cgroup)|vm: the process is in the guest's cgroup v2, its /proc/self/cgroup shows no host cgroup"
  "delete.bats|runc delete --force in cgroupv1 with subcgroups|vm: the container sees the guest's cgroup v2 only, no v1 memory hierarchy to make sub-cgroups in"
  "events.bats|events oom|vm: its 32 MiB memory limit is below what a VM needs (the container's cgroup holds QEMU and the guest, at least 128 MiB), hyrun refuses it"
  "exec.bats|runc exec --preserve-fds|vm: a host file descriptor cannot be passed into the VM, hyrun refuses --preserve-fds"
  "exec.bats|runc exec --cgroup sub-cgroups [v1]|vm: exec --cgroup names host cgroups while the process runs in the guest's cgroup v2, hyrun refuses it"
  "mounts_recursive.bats|runc run [rbind,ro mount is read-only but not recursively]|vm: the 9p share shows a bind source and its submounts as one file system in the guest, so ro covers the submounts too"
  "seccomp.bats|runc run [seccomp -ENOSYS handling]|vm: calls kcmp(2), which the guest kernel lacks (no CONFIG_KCMP in guest-kernel/hyrun.config)"
  "update.bats|*|vm: setup() sets a 32 MiB memory limit, below what a VM needs (the container's cgroup holds QEMU and the guest, at least 128 MiB), hyrun refuses it"
  "userns.bats|userns with bind mount before a cgroupfs mount|vm: needs cgroup v1 hierarchies inside the container, the guest has cgroup v2 only"
)
skips=("${ENV_SKIPS[@]}")
if [[ $isolation == vm ]] && $vm_skips; then skips+=("${VM_SKIPS[@]}"); fi
for entry in "${skips[@]}"; do
  IFS='|' read -r f name reason <<<"$entry"
  line="@test \"$name\" {"
  [[ $name == "*" ]] && line="function setup() {"
  gawk -v line="$line" -v reason="$reason" '
    { print }
    $0 == line { print "\tskip \"" reason "\""; n++ }
    END { exit n != 1 }' "$tree/tests/integration/$f" > "$tree/skip.tmp" ||
    die "cannot find \"$line\" in $f"
  mv "$tree/skip.tmp" "$tree/tests/integration/$f"
done

# ---- the test files
suite_dir=$tree/tests/integration
selected=()
if [[ -n $files ]]; then
  for f in $files; do
    f=$(basename "$f")
    [[ $f == *.bats ]] || f=$f.bats
    [[ -f $suite_dir/$f ]] || die "no test file $f in runc's suite"
    selected+=("$f")
  done
else
  for f in "$suite_dir"/*.bats; do
    f=$(basename "$f")
    [[ " ${EXCLUDED[*]} " == *" $f "* ]] || selected+=("$f")
  done
fi

# ---- run
bats_args=(-t)
[[ -n $filter ]] && bats_args+=(--filter "$filter")

echo "runc-suite: runtime $runtime${isolation:+, isolation $isolation by default ($HYRUN_CONFIG)}"
echo "runc-suite: runc's suite from $src"
echo "runc-suite: ${#selected[@]} files${filter:+, tests matching /$filter/}"

results=$out/results.tap.body
: > "$results"
passed=0 failed=0 skipped=0 total=0
failed_names=() skipped_names=()
start=$SECONDS

# Record one result: KIND (ok|fail|skip), NAME, and for skip the reason.
record ()
{
  local kind=$1 name=$2 reason=${3:-}
  total=$((total + 1))
  case $kind in
    ok)
      passed=$((passed + 1))
      printf 'ok %d %s\n' "$total" "$name" >> "$results"
      printf '  pass  %s\n' "$name" ;;
    fail)
      failed=$((failed + 1))
      failed_names+=("$name")
      printf 'not ok %d %s\n' "$total" "$name" >> "$results"
      printf '  FAIL  %s\n' "$name" ;;
    skip)
      skipped=$((skipped + 1))
      skipped_names+=("$name${reason:+ ($reason)}")
      printf 'ok %d %s # skip %s\n' "$total" "$name" "$reason" >> "$results"
      printf '  skip  %s%s\n' "$name" "${reason:+ ($reason)}" ;;
  esac
}

# Thaw the frozen cgroups (v1 freezer, v2 cgroup.freeze) of process $1: a
# frozen process does not die of SIGKILL until then.
thaw_cgroups_of ()
{
  local hier ctrl path f v2=/sys/fs/cgroup/unified cgroups
  [[ -f /sys/fs/cgroup/cgroup.controllers ]] && v2=/sys/fs/cgroup
  cgroups=$(cat "/proc/$1/cgroup" 2>/dev/null) || return 0
  while IFS=: read -r hier ctrl path; do
    [[ $path == / ]] && continue
    f=
    if [[ $ctrl == freezer ]]; then
      f=/sys/fs/cgroup/freezer$path/freezer.state
      [[ $(cat "$f" 2>/dev/null) == FROZEN ]] && echo THAWED > "$f" 2>/dev/null
    elif [[ $hier == 0 ]]; then
      f=$v2$path/cgroup.freeze
      [[ $(cat "$f" 2>/dev/null) == 1 ]] && echo 0 > "$f" 2>/dev/null
    fi
  done <<< "$cgroups"
  return 0
}

# SIGKILL process $1 and its descendants, thawed first: a runtime command
# killed alone leaves its children holding the pipe bats reads its output
# from, and the test waits for them for ever.
kill_tree ()
{
  local -a tree=("$1") kids
  local -A children=()
  local pid ppid i=0
  while read -r pid ppid; do
    children[$ppid]+=" $pid"
  done < <(ps -eo pid=,ppid=)
  while ((i < ${#tree[@]})); do
    read -ra kids <<< "${children[${tree[i]}]:-}"
    tree+=("${kids[@]}")
    i=$((i + 1))
  done
  for pid in "${tree[@]}"; do
    thaw_cgroups_of "$pid"
  done
  kill -KILL "${tree[@]}" 2>/dev/null || true
}

# Kill the runtime commands of the current file (their command line names
# its TMPDIR) that have run for more than --cmd-timeout seconds.
watchdog ()
{
  local tmp=$1 log=$2 pid etimes args
  local -A seen=()
  # A background subshell: no errexit, a race with a dying process must
  # not end the watch.
  set +e
  while sleep 5; do
    while read -r pid etimes args; do
      [[ $args == "$runtime "* && $args == *"$tmp/"* ]] || continue
      ((etimes >= cmd_timeout)) || continue
      if [[ -z ${seen[$pid]:-} ]]; then
        seen[$pid]=1
        echo "runc-suite: watchdog killed pid $pid after $etimes s: $args" |
          tee -a "$log" | cut -c1-200 | sed 's/^/   /'
      fi
      kill_tree "$pid"
    done < <(ps -eo pid=,etimes=,args=)
  done
}

# SIGKILL the process group of the `timeout ... bats` of file $1 (timeout
# makes itself a group leader): bats and what it started.
kill_bats ()
{
  # Also called from the EXIT trap, maybe in the middle of an `IFS= read`.
  local IFS=$' \t\n' pid args
  while read -r pid args; do
    [[ $args == "timeout -k 10 $timeout_s bats ${bats_args[*]} $suite_dir/$1" ]] &&
      kill -KILL -- "-$pid" 2>/dev/null
  done < <(ps -eo pid=,args=)
  return 0
}

# The names of the tests of file $1 that --filter selects, in order.
test_names ()
{
  local name
  while IFS= read -r name; do
    [[ -z $filter || $name =~ $filter ]] && printf '%s\n' "$name"
  done < <(gawk 'match($0, /^[ \t]*@test[ \t]+"(.*)"[ \t]*\{[ \t]*$/, m) { print m[1] }' "$1")
}

# Interrupted (an outer timeout, ^C): stop the watchdog and the running
# bats; the next run cleans up the rest (/tmp/runc-suite.*).
watchdog_pid=''
running=''
on_exit ()
{
  [[ -n $watchdog_pid ]] && kill "$watchdog_pid" 2>/dev/null
  [[ -n $running ]] && kill_bats "$running"
  return 0
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for f in "${selected[@]}"; do
  expected=$(cd "$suite_dir" && bats --count "${bats_args[@]:1}" "$f" 2>/dev/null) || expected=
  [[ $expected =~ ^[0-9]+$ ]] || expected=0
  echo "== $f ($expected tests)"
  ((expected > 0)) || continue

  file_start=$SECONDS
  tmp=$(mktemp -d /tmp/runc-suite.XXXXXX)
  # userns.bats's containers reach their bundle as another uid.
  chmod 0755 "$tmp"
  log=$out/logs/$f.log
  tap=$out/tap/${f%.bats}.tap
  cmd=$(printf '%q ' timeout -k 10 "$timeout_s" bats "${bats_args[@]}" "$suite_dir/$f")
  watchdog "$tmp" "$log" 9>&- &
  watchdog_pid=$!
  running=$f
  # script(1) gives the tests a terminal as stdin/stdout, as runc's CI does.
  reported=0
  in_failure=false
  ending=0
  while :; do
    if ((reported >= expected)); then
      # Every test has reported: bats only has to end. If it does not, a
      # stray process holds its output (fd 3), e.g. a recvtty of a test that
      # failed before killing it: kill the suite's strays; if that is not
      # enough, bats itself; then stop reading.
      rc=0
      IFS= read -r -t "$GRACE" line || rc=$?
      ((rc == 0 || rc > 128)) || break
      if ((rc > 128)); then
        ending=$((ending + 1))
        case $ending in
          1)
            echo "runc-suite: bats still runs ${GRACE} s after its last test: killing strays" |
              tee -a "$log" | sed 's/^/   /'
            bash "$here/runc-suite-clean.sh" --processes-only "$runtime" "$tmp" 9>&- |
              tee -a "$log" | sed 's/^/   /' ;;
          2)
            echo "runc-suite: bats still runs: killing it" | tee -a "$log" | sed 's/^/   /'
            kill_bats "$f" ;;
          *)
            echo "runc-suite: $f's output is still open: leaving it" |
              tee -a "$log" | sed 's/^/   /'
            break ;;
        esac
        continue
      fi
    else
      IFS= read -r line || break
    fi
    line=${line%$'\r'}
    printf '%s\n' "$line" >> "$log"
    case $line in
      "ok "[0-9]*|"not ok "[0-9]*)
        in_failure=false
        printf '%s\n' "$line" >> "$tap"
        reported=$((reported + 1))
        if [[ $line =~ ^not\ ok\ [0-9]+\ (.*)$ ]]; then
          record fail "$f: ${BASH_REMATCH[1]}"
          in_failure=true
        elif [[ $line =~ ^ok\ [0-9]+\ (.*)\ \#\ skip\ ?(.*)$ ]]; then
          record skip "$f: ${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
        elif [[ $line =~ ^ok\ [0-9]+\ (.*)$ ]]; then
          record ok "$f: ${BASH_REMATCH[1]}"
        fi ;;
      "#"*)
        printf '%s\n' "$line" >> "$tap"
        # bats's diagnostics of a failure follow its "not ok" line.
        $in_failure && printf '%s\n' "$line" >> "$results" ;;
      *)
        printf '%s\n' "$line" >> "$tap" ;;
    esac
  done < <(cd "$suite_dir" &&
           env -u RUNC_USE_SYSTEMD -u ROOTLESS_FEATURES -u ROOTLESS_TESTPATH \
               RUNC="$runtime" TMPDIR="$tmp" SHELL=/bin/bash \
               PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
               script -qec "$cmd; echo \"runc-suite: bats exit status \$?\"" /dev/null \
               </dev/null 2>&1 9>&-)

  running=
  if ((reported < expected)); then
    why="not reported: $f was killed after ${timeout_s} s or bats failed"
    grep -q 'bats exit status 124' "$log" 2>/dev/null &&
      why="not reported: $f timed out after ${timeout_s} s"
    mapfile -t names < <(test_names "$suite_dir/$f")
    for ((i = reported + 1; i <= expected; i++)); do
      if ((${#names[@]} == expected)); then
        record fail "$f: ${names[i - 1]}"
      else
        record fail "$f: test $i of $expected"
      fi
      printf '# %s\n' "$why" >> "$results"
    done
  fi
  kill "$watchdog_pid" 2>/dev/null || true
  wait "$watchdog_pid" 2>/dev/null || true
  watchdog_pid=
  bash "$here/runc-suite-clean.sh" "$runtime" "$tmp" 9>&- | tee -a "$log" | sed 's/^/   /'
  echo "   ($f: $((SECONDS - file_start)) s)"
done

elapsed=$((SECONDS - start))
{
  echo "TAP version 13"
  echo "1..$total"
  cat "$results"
  echo "# runtime: $runtime${isolation:+, isolation $isolation}"
  echo "# runc source: $src"
  echo "# $passed passed, $failed failed, $skipped skipped of $total in ${elapsed} s"
} > "$out/results.tap"
rm -f "$results"

echo
if ((skipped)); then
  echo "skipped ($skipped):"
  printf '  %s\n' "${skipped_names[@]}"
fi
if ((failed)); then
  echo "failed ($failed):"
  printf '  %s\n' "${failed_names[@]}"
fi
echo "time: ${elapsed} s; results: $out/results.tap, logs: $out/logs/"
summary="$passed passed, $failed failed of $total"
echo "$summary" > "$out/summary.txt"
echo "$summary"
((failed == 0))
