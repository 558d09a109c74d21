#!/usr/bin/env bash
# tests/run.sh — copybench's test runner (`make test`).
# Runs the C unit tests, every tests/test_*.sh and every tests/test_*.py (with
# a Python that has matplotlib), counts their `PASS:` / `FAIL:` / `SKIP:`
# lines and ends with the line `N passed, N failed`.
set -uo pipefail

TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOP="$(dirname "$TESTS_DIR")"
readonly TESTS_DIR TOP
LOG_DIR="$(mktemp -d)"
readonly LOG_DIR
trap 'rm -rf "$LOG_DIR"' EXIT

pick_python() {
  local py
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import matplotlib' >/dev/null 2>&1; then
      echo "$py"
      return 0
    fi
  done
  return 1
}

passed=0 failed=0 skipped=0
declare -a failures=() skips=()

# run_suite NAME CMD... — run one test file, echo its lines, tally them.
run_suite() {
  local name=$1 log rc
  shift
  log="$LOG_DIR/$(basename "$name").log"
  echo "== $name"
  (cd "$TOP" && "$@") >"$log" 2>"$log.err"
  rc=$?
  local p f s
  p=$(grep -c '^PASS: ' "$log")
  f=$(grep -c '^FAIL: ' "$log")
  s=$(grep -c '^SKIP: ' "$log")
  grep -E '^(PASS|FAIL|SKIP): ' "$log" | sed 's/^/   /'
  while IFS= read -r line; do failures+=("$name: ${line#FAIL: }"); done < <(grep '^FAIL: ' "$log")
  while IFS= read -r line; do skips+=("$name: ${line#SKIP: }"); done < <(grep '^SKIP: ' "$log")
  if ((rc != 0 && f == 0)); then
    # a crash or an error outside any test still counts as a failure
    f=1
    failures+=("$name: exited with status $rc without a FAIL line; stderr tail: $(tail -n 3 "$log.err" | tr '\n' ' ')")
    echo "   FAIL: $name exited with status $rc"
  fi
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

main() {
  run_suite unit "$TOP/tests/unit"
  local t py
  for t in "$TESTS_DIR"/test_*.sh; do
    [[ -e $t ]] || continue
    run_suite "$(basename "$t")" bash "$t"
  done
  for t in "$TESTS_DIR"/test_*.py; do
    [[ -e $t ]] || continue
    if py=$(pick_python); then
      run_suite "$(basename "$t")" "$py" "$t"
    else
      skipped=$((skipped + 1))
      skips+=("$(basename "$t"): no Python with matplotlib (install python3-matplotlib)")
      echo "== $(basename "$t")"
      echo "   SKIP: no Python with matplotlib (install python3-matplotlib)"
    fi
  done
  echo
  if ((${#skips[@]})); then
    echo "Skipped:"
    printf '  %s\n' "${skips[@]}"
  fi
  if ((${#failures[@]})); then
    echo "Failed:"
    printf '  %s\n' "${failures[@]}"
  fi
  echo "$passed passed, $failed failed"
  ((failed == 0))
}

main "$@"
