# shellcheck shell=bash
# tests/tally.sh — runs test files and counts their result lines (sourced by
# tests/run.sh and tests/sanitize.sh; needs TOP).  A test file prints
# `PASS: name` / `FAIL: name — why` / `SKIP: name — why` on stdout and exits
# 0 iff all passed; a non-zero exit without a FAIL line counts as a failure.

passed=0 failed=0 skipped=0
declare -a failures=() skips=()

# tally_run LABEL LOG CMD... — run CMD in $TOP (stdout to LOG, stderr to
# LOG.err), echo its result lines and add them to the counts.
tally_run() {
	local label=$1 log=$2 rc p f s line t0=$SECONDS
	shift 2
	(cd "$TOP" && "$@") >"$log" 2>"$log.err"
	rc=$?
	echo "== $label ($((SECONDS - t0)) s)"
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	s=$(grep -c '^SKIP: ' "$log")
	grep -E '^(PASS|FAIL|SKIP): ' "$log" | sed 's/^/   /'
	while IFS= read -r line; do failures+=("$label: ${line#FAIL: }"); done < <(grep '^FAIL: ' "$log")
	while IFS= read -r line; do skips+=("$label: ${line#SKIP: }"); done < <(grep '^SKIP: ' "$log")
	if ((rc != 0 && f == 0)); then
		f=1
		failures+=("$label: exited with status $rc without a FAIL line; stderr tail: $(tail -n 3 "$log.err" | tr '\n' ' ')")
		echo "   FAIL: $label exited with status $rc"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# tally_summary — the skips and failures, then `N passed, N failed`;
# status 0 iff nothing failed.
tally_summary() {
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
