#!/bin/bash
# The malformed-bundle corpus: every case under cases/ must be refused by
# `hyrun create` cleanly.
#
# A case is a directory cases/<name>/ holding
#   config.json   the document to refuse (absent: the bundle has none)
#   expect        one or more lines, each a substring the error must contain
#                 (the JSON path such as `.process.cwd` and the reason)
#   no-rootfs     (optional flag file) do not create the bundle's rootfs/
#
# For each case hyrun must exit with exactly 1, print one single line on
# stderr that starts with "hyrun: " and contains every expect line, leave
# its --root directory absent or empty and add no mount.
#
# Environment: HYRUN (the binary, required), TESTS_DIR (tests/, defaults to
# this script's parent), HYRUN_VALGRIND=1 (run hyrun under valgrind, a leak
# or memory error fails the case), CORPUS_CASES (space-separated names to run
# only those).  Under an ASan build a leak report changes the exit code to 23,
# which fails the case.
set -uo pipefail

: "${HYRUN:?HYRUN must name the hyrun binary}"
if [[ ! -x $HYRUN ]]; then
  echo "HYRUN=$HYRUN is not an executable"
  echo "0 passed, 1 failed"
  exit 1
fi
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
CASES_DIR=$TESTS_DIR/corpus/cases

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=23:detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:exitcode=24"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=23"

wrapper=()
if [[ ${HYRUN_VALGRIND:-0} == 1 ]]; then
  command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }
  # shellcheck disable=SC2054  # the commas are valgrind's
  wrapper=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
           --errors-for-leak-kinds=definite,indirect --error-exitcode=99)
fi

# hyrun runs in a private mount namespace of its own, so that the mount
# table compared before and after is hyrun's alone and mounts made at the
# same time by anything else on the machine cannot disturb the result.
# Without the privilege for that, compare the host's table.
if unshare -m --propagation private true 2>/dev/null; then
  isolate=(unshare -m --propagation private)
else
  isolate=()
fi

# Runs in the (maybe private) mount namespace: record the mount table,
# run hyrun, record it again; exit with hyrun's status.
# shellcheck disable=SC2016
runner='
  work=$1; shift
  cat /proc/self/mountinfo > "$work/mounts.before"
  "$@" 2> "$work/stderr" > "$work/stdout" < /dev/null
  rc=$?
  cat /proc/self/mountinfo > "$work/mounts.after"
  exit $rc'

passed=0
failed=0
failures=()

fail ()
{
  echo "FAIL $name: $*"
  failed=$((failed + 1))
  failures+=("$name")
}

run_case ()
{
  local dir=$1 work=$2
  local bundle=$work/bundle root=$work/root
  local -a expects lines

  mkdir -p "$bundle"
  [[ -e $dir/config.json ]] && cp "$dir/config.json" "$bundle/config.json"
  [[ -e $dir/no-rootfs ]] || mkdir "$bundle/rootfs"

  if [[ ! -s $dir/expect ]]; then
    fail "no expect file"
    return
  fi
  mapfile -t expects < <(grep -v '^[[:space:]]*$' "$dir/expect")

  "${isolate[@]}" bash -c "$runner" runner "$work" \
    timeout 60 "${wrapper[@]}" "$HYRUN" --root "$root" create -b "$bundle" \
    "test-$name"
  local rc=$?
  local stderr
  stderr=$(cat "$work/stderr")
  mapfile -t lines < "$work/stderr"

  local problems=()
  if ((rc != 1)); then
    case $rc in
      0) problems+=("exit status 0: the bundle was accepted") ;;
      23) problems+=("exit status 23: LeakSanitizer/AddressSanitizer report") ;;
      24) problems+=("exit status 24: UBSan report") ;;
      99) problems+=("exit status 99: valgrind found errors or leaks") ;;
      124) problems+=("timed out") ;;
      *) problems+=("exit status $rc, not 1") ;;
    esac
  fi
  if ((${#lines[@]} != 1)); then
    problems+=("stderr has ${#lines[@]} lines, not 1")
  fi
  if [[ $stderr != "hyrun: "* ]]; then
    problems+=("stderr does not start with \"hyrun: \"")
  fi
  local e
  for e in "${expects[@]}"; do
    [[ $stderr == *"$e"* ]] || problems+=("stderr lacks: $e")
  done
  if [[ -d $root ]] && [[ -n $(ls -A "$root") ]]; then
    problems+=("--root is not empty: $(cd "$root" && find . -mindepth 1 | head -5 | tr '\n' ' ')")
  fi
  local new_mounts
  new_mounts=$(comm -13 <(sort "$work/mounts.before") <(sort "$work/mounts.after"))
  if [[ -n $new_mounts ]]; then
    problems+=("new mounts: $new_mounts")
  fi

  if ((${#problems[@]} == 0)); then
    echo "ok $name"
    passed=$((passed + 1))
  else
    fail "$(IFS=';'; echo "${problems[*]/#/ }")"
    sed 's/^/    stderr| /' "$work/stderr" | head -20
  fi
}

if [[ -n ${CORPUS_CASES:-} ]]; then
  read -ra names <<< "$CORPUS_CASES"
else
  mapfile -t names < <(cd "$CASES_DIR" && ls -1)
fi

if ((${#names[@]} == 0)); then
  echo "no cases under $CASES_DIR"
  echo "0 passed, 1 failed"
  exit 1
fi

for name in "${names[@]}"; do
  if [[ ! -d $CASES_DIR/$name ]]; then
    fail "no such case"
    continue
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/hyrun-corpus.XXXXXX")
  run_case "$CASES_DIR/$name" "$work"
  rm -rf --one-file-system "$work"
done

if ((failed)); then
  echo "failed cases: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
((failed == 0))
