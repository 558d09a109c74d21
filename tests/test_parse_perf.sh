#!/usr/bin/env bash
# tests/test_parse_perf.sh — run_experiments.sh --parse-perf on perf stat -x, fixtures
# (tests/fixtures/perf/README says which are recorded and which reconstructed), every
# column of every row asserted; bad input refused with a clear message.
# Output protocol: PASS:/FAIL:/SKIP: lines on stdout; exit 0 iff nothing failed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DRIVER=$HERE/../run_experiments.sh
FIX=$HERE/fixtures/perf
FAILS=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

pass() { printf 'PASS: %s\n' "$1"; }
fail() {
	printf 'FAIL: %s — %s\n' "$1" "$2"
	FAILS=$((FAILS + 1))
}

readonly HEADER="cycles,instructions,cache_references,cache_misses,l1_dcache_load_misses,llc_load_misses,context_switches,cpu_migrations,page_faults,task_clock,cycles_running_pct,instructions_running_pct,cache_references_running_pct,cache_misses_running_pct,l1_dcache_load_misses_running_pct,llc_load_misses_running_pct,context_switches_running_pct,cpu_migrations_running_pct,page_faults_running_pct,task_clock_running_pct,user_only"

# check_row NAME FIXTURE EXPECTED_ROW: parse FIXTURE and compare every column with
# EXPECTED_ROW, naming each column that differs.
check_row() {
	local name=$1 file=$2 want=$3 out rc=0 got_header got_row diffs="" i
	local -a cols got exp
	out=$("$DRIVER" --parse-perf "$FIX/$file" 2>"$TMP/err") || rc=$?
	if ((rc != 0)); then
		fail "$name" "exit $rc: $(head -n 1 "$TMP/err")"
		return
	fi
	got_header=$(sed -n 1p <<<"$out")
	got_row=$(sed -n 2p <<<"$out")
	if [[ $got_header != "$HEADER" ]]; then
		fail "$name" "header differs: $got_header"
		return
	fi
	if [[ $(wc -l <<<"$out") -ne 2 ]]; then
		fail "$name" "expected exactly a header and one row, got $(wc -l <<<"$out") lines"
		return
	fi
	IFS=, read -r -a cols <<<"$HEADER"
	IFS=, read -r -a got <<<"$got_row"
	IFS=, read -r -a exp <<<"$want"
	if ((${#got[@]} != ${#cols[@]})); then
		fail "$name" "row has ${#got[@]} cells, header ${#cols[@]}"
		return
	fi
	for i in "${!cols[@]}"; do
		if [[ ${got[i]} != "${exp[i]}" ]]; then
			diffs+=" ${cols[i]}=${got[i]} (want ${exp[i]})"
		fi
	done
	if [[ -n $diffs ]]; then fail "$name" "wrong cells:$diffs"; else pass "$name"; fi
}

NA6="NA,NA,NA,NA,NA,NA"
P100x4="100.00,100.00,100.00,100.00"

# Recorded on this PMU-less VM: hardware events NA (never 0), software events counted.
check_row parse_pmu_less_vm pmu_less_vm.txt \
	"$NA6,2,0,58,0.67,$NA6,$P100x4,0"
# Recorded with -r 3: the variance column must not shift the fields.
# Counted over a window only (perf stat -D -1 --control fifo:..., the sweep's way): the
# same layout; run times are the window's, not the process's.
check_row parse_control_window_vm control_window_vm.txt \
	"$NA6,689,1,7,158.01,$NA6,$P100x4,0"
check_row parse_repeat_variance_column repeat_r3_vm.txt \
	"$NA6,1,0,58,0.66,$NA6,$P100x4,0"
# Recorded with :u on every event: counted as their events, and flagged user-only.
check_row parse_user_only_modifier user_only_vm.txt \
	"$NA6,0,0,53,0.55,$NA6,$P100x4,1"
# '# started on' header, extra blank, whitespace-only and comment lines skipped.
check_row parse_header_and_blank_lines header_blank_lines.txt \
	"$NA6,1,0,81,2.30,$NA6,$P100x4,0"
# Reconstructed full-PMU machine: every event counted at 100%.
check_row parse_full_pmu full_pmu.txt \
	"6115423987,4567890123,98765432,12345678,87654321,2345678,1523,3,412,1812.35,100.00,100.00,100.00,100.00,100.00,100.00,$P100x4,0"
# Reconstructed multiplexing: perf's scaled values kept, running percentages recorded.
check_row parse_multiplexed multiplexed.txt \
	"7345678901,5123456789,143216789,23456789,101234567,3456789,2211,1,388,2311.46,100.00,100.00,74.00,75.00,74.00,50.00,$P100x4,0"
# Reconstructed hybrid, task only on P-cores: atom lines <not counted> add nothing.
check_row parse_hybrid_pcore_only hybrid_pcore_only.txt \
	"4398765432,9876543210,65432109,7654321,54321098,1234567,901,0,375,1001.23,100.00,100.00,100.00,100.00,100.00,100.00,$P100x4,0"
# Reconstructed hybrid, both PMUs counted: sums (812345678+4301234567 ...), minimum running
# pct over the counted lines, NA where neither PMU counted (LLC-load-misses).
check_row parse_hybrid_mixed_sum hybrid_mixed.txt \
	"5113580245,11335802467,76666776,10999999,53210987,NA,1204,3,390,1231.00,2.00,2.00,2.00,2.00,97.00,NA,$P100x4,0"

# The parser must not depend on the caller's locale (no ',' decimals, no separators).
out=$(LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 "$DRIVER" --parse-perf "$FIX/hybrid_mixed.txt" 2>/dev/null | sed -n 2p)
if [[ $out == 5113580245,11335802467,76666776,10999999,53210987,NA,1204,3,390,1231.00,* ]]; then
	pass parse_locale_independent
else
	fail parse_locale_independent "under a de_DE locale got: $out"
fi

# expect_error NAME WANT_RC STDERR_PATTERN ARGS...: the driver refuses with a clear message.
expect_error() {
	local name=$1 want_rc=$2 pat=$3 rc=0 out
	shift 3
	out=$("$DRIVER" "$@" 2>"$TMP/err") || rc=$?
	if ((rc != want_rc)); then
		fail "$name" "exit $rc, want $want_rc (stdout: ${out:0:80})"
	elif [[ -n $out ]]; then
		fail "$name" "printed a row on stdout: ${out:0:80}"
	elif ! grep -q -- "$pat" "$TMP/err"; then
		fail "$name" "stderr lacks '$pat': $(head -n 1 "$TMP/err")"
	elif (($(wc -l <"$TMP/err") != 1)); then
		fail "$name" "want one line on stderr, got $(wc -l <"$TMP/err")"
	else
		pass "$name"
	fi
}

expect_error parse_missing_file 1 "no such readable file" --parse-perf "$TMP/does-not-exist.txt"
: >"$TMP/empty.txt"
expect_error parse_empty_file 1 "no perf stat -x, line" --parse-perf "$TMP/empty.txt"
expect_error parse_human_format_refused 1 "no perf stat -x, line" --parse-perf "$FIX/not_csv_human.txt"
printf 'hello,world\nnot,perf,output,at,all\n' >"$TMP/garbage.txt"
expect_error parse_garbage_refused 1 "no perf stat -x, line" --parse-perf "$TMP/garbage.txt"
expect_error parse_directory_refused 1 "no such readable file" --parse-perf "$TMP"
expect_error parse_needs_argument 2 "needs a value" --parse-perf

((FAILS == 0))
