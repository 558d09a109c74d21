#!/usr/bin/env bash
# tests/test_bench.sh — the bench/ scripts and bench/memcpy_bw parse their inputs and fail
# clearly: --help (exit 0), bad options and values (exit 2, one line, nothing started),
# a missing iperf3/sockperf (simulated with a PATH that lacks it: exit 1 saying what to
# install), non-root refusal; and the pure helpers of bench/lib.sh (statistics, the
# iperf3 -J, sockperf and perf stat parsers) on recorded samples. No speed threshold
# anywhere: speed lives in bench/, not in tests. Fast (a few seconds).
# Output protocol: PASS:/FAIL:/SKIP: lines; exit 0 iff nothing failed.
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BENCH=$TOP/bench
readonly -a SCRIPTS=(vs_iperf3.sh latency_vs_sockperf.sh sweep_overhead.sh where_time_goes.sh noise.sh)

# run_cap NAME CMD...: run CMD (bounded: 20 s), stdout/stderr in $T_TMP/NAME.{out,err}; RC set.
run_cap() {
	local name=$1
	shift
	timeout -k 2 20 "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RC=$?
}

# ---- memcpy_bw -----------------------------------------------------------------------
test_memcpy_bw() {
	local bin=$BENCH/memcpy_bw
	if [[ ! -x $bin || $BENCH/memcpy_bw.c -nt $bin ]]; then
		if ! make -s -C "$TOP" bench/memcpy_bw >"$T_TMP/make.out" 2>&1; then
			fail memcpy_bw_builds "make bench/memcpy_bw failed: $(tail -n 2 "$T_TMP/make.out" | tr '\n' ' ')"
			return
		fi
	fi
	pass memcpy_bw_builds

	run_cap mh "$bin" --help
	if ((RC == 0)) && grep -q '^Usage: memcpy_bw' "$T_TMP/mh.out" && grep -q -- '--dram' "$T_TMP/mh.out"; then
		pass memcpy_bw_help
	else
		fail memcpy_bw_help "exit $RC, stdout: $(head -n 1 "$T_TMP/mh.out")"
	fi

	local args bad=""
	for args in "--bogus" "--reps 0" "--reps 102" "--reps" "--cache 12" "--cache 5X" "--dram 8G" \
		"--min-time 0" "--min-time x" "extra"; do
		# shellcheck disable=SC2086 # args is a word list on purpose
		run_cap mb "$bin" $args
		if ((RC != 2)) || ! grep -q 'see --help' "$T_TMP/mb.err" || [[ -s $T_TMP/mb.out ]]; then
			bad+="'$args' -> exit $RC ($(head -n 1 "$T_TMP/mb.err")); "
		fi
	done
	if [[ -z $bad ]]; then pass memcpy_bw_bad_options_exit_2; else fail memcpy_bw_bad_options_exit_2 "$bad"; fi

	run_cap mj "$bin" --cache 4K --dram 64K --reps 3 --min-time 0.001 --json
	local cb db reps gb gmin gmax
	cb=$(json_get "$T_TMP/mj.out" cache_bytes)
	db=$(json_get "$T_TMP/mj.out" dram_bytes)
	reps=$(json_get "$T_TMP/mj.out" reps)
	gb=$(json_get "$T_TMP/mj.out" cache_gbytes_per_s)
	gmin=$(json_get "$T_TMP/mj.out" cache_gbytes_per_s_min)
	gmax=$(json_get "$T_TMP/mj.out" cache_gbytes_per_s_max)
	if ((RC == 0)) && [[ $cb == 4096 && $db == 65536 && $reps == 3 ]] &&
		awk -v g="$gb" -v lo="$gmin" -v hi="$gmax" 'BEGIN { exit !(lo > 0 && lo <= g && g <= hi) }'; then
		pass memcpy_bw_json_values
	else
		fail memcpy_bw_json_values "exit $RC: $(head -c 300 "$T_TMP/mj.out") $(head -n 1 "$T_TMP/mj.err")"
	fi

	run_cap mt "$bin" --cache 4K --dram 64K --reps 1 --min-time 0.001
	if ((RC == 0)) && grep -Eq '^cache +4096 ' "$T_TMP/mt.out" && grep -Eq '^dram +65536 ' "$T_TMP/mt.out"; then
		pass memcpy_bw_table
	else
		fail memcpy_bw_table "exit $RC: $(head -n 4 "$T_TMP/mt.out" | tr '\n' '|')"
	fi
}

# ---- the scripts' options ------------------------------------------------------------
test_help_and_unknown() {
	local s
	for s in "${SCRIPTS[@]}"; do
		run_cap h "$BENCH/$s" --help
		if ((RC == 0)) && grep -q "^Usage: sudo bench/$s" "$T_TMP/h.out"; then
			pass "${s%.sh}_help"
		else
			fail "${s%.sh}_help" "exit $RC, stdout: $(head -n 1 "$T_TMP/h.out") stderr: $(head -n 1 "$T_TMP/h.err")"
		fi
		run_cap u "$BENCH/$s" --frobnicate
		if ((RC == 2)) && grep -q "^$s: unknown option '--frobnicate' (see --help)" "$T_TMP/u.err"; then
			pass "${s%.sh}_unknown_option_exit_2"
		else
			fail "${s%.sh}_unknown_option_exit_2" "exit $RC: $(head -n 1 "$T_TMP/u.err")"
		fi
	done
}

# expect_usage NAME SCRIPT 'ARGS' PATTERN...: every ARGS string -> exit 2, message matching.
expect_usage() {
	local name=$1 script=$2 bad="" args
	shift 2
	while (($# >= 2)); do
		args=$1
		# shellcheck disable=SC2086 # args is a word list on purpose
		run_cap b "$BENCH/$script" $args
		if ((RC != 2)) || ! grep -q -- "$2" "$T_TMP/b.err"; then
			bad+="'$args' -> exit $RC ($(head -n 1 "$T_TMP/b.err")); "
		fi
		shift 2
	done
	if [[ -z $bad ]]; then pass "$name"; else fail "$name" "$bad"; fi
}

test_bad_values() {
	expect_usage vs_iperf3_bad_values_exit_2 vs_iperf3.sh \
		"--rounds 0" "--rounds: bad number '0'" \
		"--rounds x" "--rounds: bad number 'x'" \
		"--sizes 12" "--sizes: bad message size '12'" \
		"--sizes 1K,65M" "--sizes: bad message size '65M'" \
		"--streams 0" "--streams: bad count '0'" \
		"--impls a1,a4" "--impls: unknown strategy 'a4'" \
		"--duration 1.5" "--duration: bad number of seconds '1.5'" \
		"--warmup -1" "--warmup: bad number of seconds '-1'" \
		"--pin diagonal" "--pin: 'diagonal' is not split or same" \
		"--mtu 10" "--mtu: bad number '10'" \
		"--sizes" "option --sizes needs a value"
	expect_usage latency_vs_sockperf_bad_values_exit_2 latency_vs_sockperf.sh \
		"--sizes 128K" "larger than sockperf allows" \
		"--sizes 32" "--sizes: bad message size '32'" \
		"--rounds 101" "--rounds: bad number '101'" \
		"--duration 0" "--duration: bad number of seconds '0'" \
		"--pin both" "--pin: 'both' is not split or same" \
		"--out" "option --out needs a value"
	expect_usage sweep_overhead_bad_values_exit_2 sweep_overhead.sh \
		"--runs 0" "--runs: bad number '0'" \
		"--runs 21" "--runs: bad number '21'" \
		"--runs" "option --runs needs a value"
	expect_usage where_time_goes_bad_values_exit_2 where_time_goes.sh \
		"--tools a1,nc" "--tools: unknown tool 'nc'" \
		"--sizes 1K,x" "--sizes: bad message size 'x'" \
		"--duration 2s" "--duration: bad number of seconds '2s'"
}

# ---- missing tools ---------------------------------------------------------------------
# A PATH holding only the basic tools: no iperf3, no sockperf, no apt-get (so nothing is
# installed, and the message must say what to install).
make_bare_path() {
	local dir=$T_TMP/bare t p
	mkdir -p "$dir"
	for t in bash env dirname basename cat awk sed grep mktemp date uname head tail tr sort cut \
		timeout python3 taskset ip ss make perf id rm mkdir; do
		p=$(command -v "$t" 2>/dev/null) || continue
		[[ $p == /* ]] && ln -sf "$p" "$dir/$t"
	done
	printf '%s\n' "$dir"
}

test_missing_tools() {
	local bare t
	if ((EUID != 0)); then
		# The root check comes first (only root may install): test_non_root covers that.
		for t in vs_iperf3_missing_iperf3_says_what_to_install latency_vs_sockperf_missing_sockperf_says_what_to_install \
			where_time_goes_missing_tool_says_what_to_install; do
			skip "$t" "needs root (the scripts check root before tools)"
		done
		return
	fi
	bare=$(make_bare_path)
	run_cap mi env PATH="$bare" "$BENCH/vs_iperf3.sh" --rounds 1
	if ((RC == 1)) && grep -q "^vs_iperf3.sh: iperf3 not found: install it (Debian/Ubuntu: apt-get install iperf3)" "$T_TMP/mi.err" &&
		! grep -q 'netns:' "$T_TMP/mi.err"; then
		pass vs_iperf3_missing_iperf3_says_what_to_install
	else
		fail vs_iperf3_missing_iperf3_says_what_to_install "exit $RC: $(head -n 2 "$T_TMP/mi.err" | tr '\n' ' ')"
	fi
	run_cap ms env PATH="$bare" "$BENCH/latency_vs_sockperf.sh" --rounds 1
	if ((RC == 1)) && grep -q "^latency_vs_sockperf.sh: sockperf not found: install it (Debian/Ubuntu: apt-get install sockperf)" "$T_TMP/ms.err"; then
		pass latency_vs_sockperf_missing_sockperf_says_what_to_install
	else
		fail latency_vs_sockperf_missing_sockperf_says_what_to_install "exit $RC: $(head -n 2 "$T_TMP/ms.err" | tr '\n' ' ')"
	fi
	run_cap mw env PATH="$bare" "$BENCH/where_time_goes.sh" --tools a2,iperf3
	if ((RC == 1)) && grep -Eq "^where_time_goes.sh: (iperf3|perf) not found: install it" "$T_TMP/mw.err"; then
		pass where_time_goes_missing_tool_says_what_to_install
	else
		fail where_time_goes_missing_tool_says_what_to_install "exit $RC: $(head -n 2 "$T_TMP/mw.err" | tr '\n' ' ')"
	fi
}

test_non_root() {
	if ((EUID != 0)); then
		run_cap nr "$BENCH/sweep_overhead.sh" --runs 1
		if ((RC == 1)) && grep -q 'must run as root' "$T_TMP/nr.err"; then
			pass bench_refuses_non_root
		else
			fail bench_refuses_non_root "exit $RC: $(head -n 1 "$T_TMP/nr.err")"
		fi
		return
	fi
	if ! command -v setpriv >/dev/null 2>&1; then
		skip bench_refuses_non_root "running as root and no setpriv to drop privileges"
		return
	fi
	local -a asnobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	if ! "${asnobody[@]}" test -r "$BENCH/lib.sh" 2>/dev/null || ! "${asnobody[@]}" test -x "$BENCH/sweep_overhead.sh" 2>/dev/null; then
		skip bench_refuses_non_root "user nobody cannot read the checkout"
		return
	fi
	run_cap nr "${asnobody[@]}" "$BENCH/sweep_overhead.sh" --runs 1
	local rc1=$RC
	run_cap nr2 "${asnobody[@]}" "$BENCH/vs_iperf3.sh" --rounds 1
	if ((rc1 == 1 && RC == 1)) && grep -q 'must run as root' "$T_TMP/nr.err" && grep -q 'must run as root' "$T_TMP/nr2.err"; then
		pass bench_refuses_non_root
	else
		fail bench_refuses_non_root "exit $rc1/$RC: $(head -n 1 "$T_TMP/nr.err") / $(head -n 1 "$T_TMP/nr2.err")"
	fi
}

# ---- pure helpers of bench/lib.sh --------------------------------------------------------
# lib CMD...: run CMD in a bash that sourced bench/lib.sh.
lib() { bash -c 'source "$0/bench/lib.sh" && "$@"' "$TOP" "$@"; }

test_driver_functions() {
	local missing
	missing=$(bash -c 'source "$0/bench/lib.sh" && for f in "${BENCH_DRIVER_FUNCS[@]}"; do declare -F "$f" >/dev/null || printf "%s " "$f"; done' "$TOP" 2>&1)
	if [[ -z $missing ]]; then
		pass bench_lib_driver_functions_exist
	else
		fail bench_lib_driver_functions_exist "run_experiments.sh no longer defines: $missing"
	fi
}

test_stats() {
	local got bad=""
	got=$(lib stats 3 1 2); [[ $got == "2 1 3 3" ]] || bad+="odd: '$got'; "
	got=$(lib stats 4 1 3 2); [[ $got == "2.5 1 4 4" ]] || bad+="even: '$got'; "
	got=$(lib stats NA 5 x 0.25); [[ $got == "2.625 0.25 5 2" ]] || bad+="NA ignored: '$got'; "
	got=$(lib stats NA); [[ $got == "NA NA NA 0" ]] || bad+="none: '$got'; "
	got=$(lib ratio 3 2); [[ $got == "1.50" ]] || bad+="ratio: '$got'; "
	got=$(lib ratio 1 0); [[ $got == "NA" ]] || bad+="ratio by 0: '$got'; "
	got=$(lib ratio NA 2 3); [[ $got == "NA" ]] || bad+="ratio NA: '$got'; "
	if [[ -z $bad ]]; then pass bench_lib_stats_and_ratio; else fail bench_lib_stats_and_ratio "$bad"; fi
}

test_parsers() {
	local f=$T_TMP/ip.json got bad=""
	# The shape of iperf3 3.12 -J (trimmed): one omitted interval, then the test.
	cat >"$f" <<'EOF'
{ "start": { "test_start": { "protocol": "TCP", "num_streams": 1, "blksize": 1024, "omit": 1, "duration": 2 } },
  "intervals": [ { "streams": [], "sum": { "start": 0, "end": 1.0, "seconds": 1.0, "bytes": 1000, "bits_per_second": 8000, "omitted": true, "sender": true } },
                 { "streams": [], "sum": { "start": 0, "end": 1.0, "seconds": 1.0, "bytes": 3000, "bits_per_second": 24000, "omitted": false, "sender": true } },
                 { "streams": [], "sum": { "start": 1.0, "end": 2.0, "seconds": 1.0, "bytes": 5000, "bits_per_second": 40000, "omitted": false, "sender": true } } ],
  "end": { "sum_sent": { "start": 0, "end": 2.0, "seconds": 2.0, "bytes": 8000, "bits_per_second": 32000000000, "retransmits": 0, "sender": true },
           "sum_received": { "bytes": 8000, "bits_per_second": 32000000000 },
           "cpu_utilization_percent": { "host_total": 50.0, "host_user": 1.0, "host_system": 49.0, "remote_total": 40.0, "remote_user": 1.0, "remote_system": 39.0 } } }
EOF
	got=$(lib iperf3_fields "$f")
	[[ $got == "32.000000 9000" ]] || bad+="result: '$got' (want gbps 32, bytes 8000 + 1000 omitted); "
	printf '{ "start": {}, "intervals": [], "end": {}, "error": "unable to connect to server: Connection refused" }\n' >"$f"
	got=$(lib iperf3_fields "$f")
	[[ $got == "NA NA unable_to_connect_to_server:_Connection_refused" ]] || bad+="error: '$got'; "
	printf 'not json\n' >"$f"
	got=$(lib iperf3_fields "$f")
	[[ $got == "NA NA bad_iperf3_json:"* ]] || bad+="garbage: '$got'; "
	if [[ -z $bad ]]; then pass bench_iperf3_json_parser; else fail bench_iperf3_json_parser "$bad"; fi

	# sockperf 3.7 pp --full-rtt output as printed here (colour escapes included).
	f=$T_TMP/sp.out
	printf '%b\n' 'sockperf: [Valid Duration] RunTime=1.550 sec; SentMessages=124519; ReceivedMessages=124519' \
		'sockperf: \e[2;35m====> avg-rtt=12.432 (std-dev=1.488)\e[0m' \
		'sockperf: ---> <MAX> observation =   68.552' \
		'sockperf: ---> percentile 99.999 =   66.198' \
		'sockperf: ---> percentile 99.000 =   13.930' \
		'sockperf: ---> percentile 90.000 =   12.819' \
		'sockperf: ---> percentile 50.000 =   12.388' \
		'sockperf: ---> <MIN> observation =   11.557' >"$f"
	bad=""
	got=$(lib sockperf_pct "$f" 50.000); [[ $got == 12.388 ]] || bad+="p50 '$got'; "
	got=$(lib sockperf_pct "$f" 99.000); [[ $got == 13.930 ]] || bad+="p99 '$got'; "
	printf 'sockperf: No valid observations found. Try tune parameters: --time/--mps/--reply-every\n' >"$f"
	got=$(lib sockperf_pct "$f" 50.000); [[ $got == NA ]] || bad+="no observations: '$got'; "
	got=$(lib sockperf_pct "$T_TMP/does-not-exist" 50.000); [[ $got == NA ]] || bad+="missing file: '$got'; "
	if [[ -z $bad ]]; then pass bench_sockperf_parser; else fail bench_sockperf_parser "$bad"; fi

	# perf stat -x, with one software event, as perf 6.1 writes it with -o.
	f=$T_TMP/tc.perf
	printf '# started on Tue Nov 24 15:51:25 2026\n\n837.41,msec,task-clock,837407423,100.00,0.220,CPUs utilized\n' >"$f"
	bad=""
	got=$(lib task_clock_ms "$f"); [[ $got == 837.41 ]] || bad+="value '$got'; "
	got=$(lib task_clock_ms "$T_TMP/none.perf"); [[ $got == NA ]] || bad+="missing '$got'; "
	if [[ -z $bad ]]; then pass bench_task_clock_parser; else fail bench_task_clock_parser "$bad"; fi
}

test_shellcheck() {
	if ! command -v shellcheck >/dev/null 2>&1; then
		skip bench_shellcheck "shellcheck not installed"
		return
	fi
	if (cd "$TOP" && shellcheck -x bench/*.sh tests/test_bench.sh) >"$T_TMP/sc.out" 2>&1; then
		pass bench_shellcheck
	else
		fail bench_shellcheck "$(head -n 5 "$T_TMP/sc.out" | tr '\n' ' ')"
	fi
}

test_memcpy_bw
test_help_and_unknown
test_bad_values
test_missing_tools
test_non_root
test_driver_functions
test_stats
test_parsers
test_shellcheck
t_done
