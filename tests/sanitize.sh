#!/usr/bin/env bash
# tests/sanitize.sh — run the unit tests and the integration tests
# (test_core, test_hostile, test_window, test_zc_paths, test_pagecache, test_cli, test_samples) against sanitizer builds, then
# tests/valgrind.sh against the normal build (`make sanitize`).
#
#   bash tests/sanitize.sh build/asan build/tsan
#
# Each directory holds the six binaries and `unit` built with one sanitizer
# (its name says which: asan = AddressSanitizer + UBSan, tsan =
# ThreadSanitizer).  Every sanitizer writes its reports to a log directory
# (log_path), so a report fails the run even when it comes from a process
# whose exit status a test does not look at (a server killed at the end, a
# client expected to fail).  Prints the tests' PASS/FAIL/SKIP lines and ends
# with `N passed, N failed`; exit 0 iff nothing failed and nothing was
# reported.
set -uo pipefail

TOP="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly TOP
readonly SUITES=(tests/test_core.sh tests/test_hostile.sh tests/test_window.sh tests/test_zc_paths.sh tests/test_pagecache.sh
	tests/test_cli.sh tests/test_samples.sh tests/test_idle_poll.sh tests/test_drift.sh)
WORK="$(mktemp -d)"
readonly WORK
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=tests/tally.sh
source "$TOP/tests/tally.sh"

err() { echo "sanitize: $*" >&2; }

# sanitizer_env KIND LOGDIR — the environment for one build: halt on the
# first report, a distinct exit status, reports into LOGDIR.
sanitizer_env() {
	local kind=$1 logs=$2
	case $kind in
		asan)
			echo "ASAN_OPTIONS=halt_on_error=1:exitcode=66:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:log_path=$logs/asan"
			echo "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=66:log_path=$logs/ubsan"
			;;
		tsan)
			echo "TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1:log_path=$logs/tsan"
			;;
		*) return 1 ;;
	esac
}

# run_one LABEL LOGDIR ENV... -- CMD... — run one suite, echo and tally its
# lines; a non-zero exit without a FAIL line, or any report in LOGDIR, fails.
run_one() {
	local label=$1 logs=$2 out
	shift 2
	local -a env=()
	while [[ $1 != -- ]]; do env+=("$1"); shift; done
	shift
	out="$WORK/$(echo "$label" | tr -c 'a-zA-Z0-9_.\n' '_').log"
	tally_run "$label" "$out" env "${env[@]}" "$@"
	local f=0
	local report
	for report in "$logs"/*; do
		[[ -s $report ]] || continue
		f=$((f + 1))
		failures+=("$label: sanitizer report $(basename "$report"): $(grep -m 1 -E 'ERROR|WARNING|runtime error' "$report")")
		echo "   FAIL: sanitizer report in $label ($(basename "$report")):"
		sed -n '1,40p' "$report" | sed 's/^/      /'
		mv "$report" "$WORK/reported.$(basename "$report")"
	done
	failed=$((failed + f))
}

main() {
	(($# > 0)) || { err "usage: tests/sanitize.sh BUILD_DIR..."; exit 2; }
	local dir kind abs logs suite
	for dir in "$@"; do
		abs=$dir
		[[ $abs == /* ]] || abs="$TOP/$dir"
		kind=$(basename "$abs")
		logs="$WORK/logs-$kind"
		mkdir -p "$logs"
		local -a env=()
		mapfile -t env < <(sanitizer_env "$kind" "$logs") || true
		if ((${#env[@]} == 0)); then
			err "don't know which sanitizer $dir was built with (expected .../asan or .../tsan)"
			exit 2
		fi
		if [[ ! -x $abs/a1_server || ! -x $abs/unit ]]; then
			err "$dir: binaries missing (run make sanitize)"
			exit 2
		fi
		run_one "$kind: unit" "$logs" "${env[@]}" -- "$abs/unit"
		for suite in "${SUITES[@]}"; do
			# sanitized binaries run several times slower: longer runs keep
			# the largest (64 MiB) messages inside the measured window
			run_one "$kind: $(basename "$suite")" "$logs" "${env[@]}" "BIN_DIR=$abs" T_DURATION=1.5 -- bash "$TOP/$suite"
		done
	done
	# one short memcheck run of each normal binary (no sanitizer runtime)
	mkdir -p "$WORK/logs-valgrind"
	run_one "valgrind: valgrind.sh" "$WORK/logs-valgrind" -- bash "$TOP/tests/valgrind.sh"
	tally_summary
}

main "$@"
