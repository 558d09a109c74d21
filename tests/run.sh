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

# find_plot_python: the plot tests run under the Python the driver plots with.
# shellcheck source=tests/driver_lib.sh
source "$TOP/tests/driver_lib.sh"

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
		if py=$(find_plot_python); then
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
