#!/usr/bin/env bash
# tests/fuzz/run.sh — run libFuzzer targets for a bounded time (`make fuzz`).
#
#   bash tests/fuzz/run.sh SECONDS build/fuzz/fuzz_hello build/fuzz/fuzz_parse
#
# Each target runs SECONDS seconds from its seeds in tests/fuzz/corpus/NAME/
# (read-only: new inputs go to a temporary corpus, so the tree stays clean).
# A crash, sanitizer report, timeout or violated property stops it with a
# non-zero status; the input that did it is kept as
# build/fuzz/artifacts/NAME-crash-<sha1> for `./build/fuzz/NAME <file>` to
# replay.  Prints `PASS: ...` / `FAIL: ...` per target and `N passed, N
# failed`; exit 0 iff every target found nothing.
#
# Targets (properties in each file's header):
#   fuzz_hello  hello_decode/hello_encode, reply_decode/reply_encode
#   fuzz_parse  parse_size, parse_seconds, parse_uint_range, parse_cpu_list
# make fuzz FUZZ_STRICT=1 builds them into build/fuzz-strict with
# -DFUZZ_STRICT: accepted integers must be plain digits.  common.c 1.0.0
# fails that: parse_uint_range refuses only a space, '+' or '-' as the first
# byte, and strtoull skips any other leading white space and takes a sign
# after it ("\t80" is port 80, "\t-5" is 2^64-5 when hi allows it).
set -uo pipefail

TOP="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly TOP
WORK="$(mktemp -d)"
readonly WORK
trap 'rm -rf "$WORK"' EXIT

main() {
  if (($# < 2)); then
    echo "usage: tests/fuzz/run.sh SECONDS FUZZER..." >&2
    exit 2
  fi
  local secs=$1 bin name seeds art log rc passed=0 failed=0
  shift
  for bin in "$@"; do
    name=$(basename "$bin")
    seeds="$TOP/tests/fuzz/corpus/$name"
    art="$(dirname "$bin")/artifacts"
    log="$WORK/$name.log"
    mkdir -p "$art" "$WORK/$name"
    echo "== $name (${secs} s)"
    # -timeout: one input may take 10 s at most (a hang is a finding too);
    # two corpus dirs: new inputs go to the first, the seeds stay untouched
    timeout -k 10 $((secs + 120)) "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$art/$name-" "$WORK/$name" "$seeds" >"$log" 2>&1
    rc=$?
    local runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if ((rc == 0)); then
      echo "PASS: $name found nothing in ${secs} s (${runs:-?} inputs, ${cov:-cov: ?})"
      passed=$((passed + 1))
    else
      echo "FAIL: $name — exit $rc: $(grep -m 1 -E 'ERROR|property violated|runtime error|deadly signal|timeout' "$log")"
      grep -E 'Test unit written to|property violated|SUMMARY' "$log" | sed 's/^/   /'
      sed -n '/ERROR: /,/SUMMARY/p' "$log" | head -n 40 | sed 's/^/   /'
      failed=$((failed + 1))
    fi
  done
  echo "$passed passed, $failed failed"
  ((failed == 0))
}

main "$@"
