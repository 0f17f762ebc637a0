#!/bin/bash
# Run the config.json fuzzer for a bounded time; any finding fails.
#
#   tests/fuzz/run.sh FUZZER [SECONDS]      (SECONDS: $HYRUN_FUZZ_SECONDS or 60)
#
# New inputs go to a corpus kept beside the fuzzer (so later runs start from
# what earlier ones found), never into the seeds; crashes, leaks and
# timeouts are written to fuzz-artifacts/ beside the fuzzer and shown.
set -euo pipefail

fuzzer=${1:?usage: run.sh FUZZER [SECONDS]}
seconds=${2:-${HYRUN_FUZZ_SECONDS:-60}}
here=$(cd "$(dirname "$0")" && pwd)
fuzzer=$(cd "$(dirname "$fuzzer")" && pwd)/$(basename "$fuzzer")
name=$(basename "$fuzzer")
out=$(dirname "$fuzzer")
corpus=$out/$name-corpus
artifacts=$out/fuzz-artifacts
log=$out/$name.log
mkdir -p "$corpus" "$artifacts"

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

before=$(ls "$artifacts" | wc -l)
rc=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -dict="$here/config.dict" -artifact_prefix="$artifacts/" \
  -print_final_stats=1 "$corpus" "$here/seeds" > "$log" 2>&1 || rc=$?
after=$(ls "$artifacts" | wc -l)

if ((rc != 0 || after != before)); then
  tail -n 80 "$log"
  echo "$name: FINDING (exit status $rc); reproducers in $artifacts:"
  ls -t "$artifacts" | head -5 | sed "s|^|  $artifacts/|"
  echo "  replay one with: $fuzzer <file>"
  exit 1
fi

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
echo "$name: ${runs:-?} inputs in ${seconds}s, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l) files, no findings"
