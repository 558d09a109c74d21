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

# shellcheck source=tests/tally.sh
source "$TESTS_DIR/tally.sh"

# run_suite NAME CMD... — one test file through the shared tally.
run_suite() {
	local name=$1
	shift
	tally_run "$name" "$LOG_DIR/$(basename "$name").log" "$@"
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
	tally_summary
}

main "$@"
