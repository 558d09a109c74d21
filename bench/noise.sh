#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/noise.sh — how much one round's paired ratio moves, and why.
#
# Runs the sweep driver itself (so it measures what the default job does: its placement,
# its steering, its run length, its pairing) at fixed points — by default 1 KiB, 16 KiB,
# 64 KiB and 1 MiB at 1 and 8 threads, stream mode — for a few rounds, and prints per point
# the standard deviation across rounds of log(a2/a1) and log(a3/a1) (the two runs of a
# ratio are the same round's), the SD of log(a1) alone (what pairing has to remove), and
# the retransmissions: how many runs had any, and the DSACK'd share (the sender's TcpExt
# TCPDSACKRecv / its connections' retransmissions over the runs' own windows; near 1 means
# the retransmissions were spurious: the segment had arrived, out of order).
#
# Each remedy is a driver option, switched with `-- DRIVER_OPTIONS` (for example
# `-- --pin unpinned --steer off` for the old defaults; `-- --profile-sizes 4K,64K,1M` adds
# profile rounds, and a table of what sampling costs). --from-csv analyses a CSV
# that a driver wrote (the same table, no runs).

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly DEF_ROUNDS=5 DEF_SIZES="1K,16K,64K,1M" DEF_THREADS="1,8"
N_ROUNDS=$DEF_ROUNDS N_SIZES=$DEF_SIZES N_THREADS=$DEF_THREADS N_OUT="" N_FROM=""
N_EXTRA=()

nz_usage() {
	cat <<EOF
Usage: sudo bench/noise.sh [options] [-- DRIVER_OPTIONS...]
       bench/noise.sh --from-csv FILE

Per-round spread of the paired ratios a2/a1 and a3/a1 (throughput) at fixed points, and
the retransmissions behind it, measured through run_experiments.sh (its defaults, or the
DRIVER_OPTIONS given after --, e.g. -- --pin unpinned --steer off).

  --rounds N       rounds (each point's strategies once per round), 2..100 (default: $DEF_ROUNDS)
  --sizes LIST     message sizes                              (default: $DEF_SIZES)
  --threads LIST   thread counts                              (default: $DEF_THREADS)
  --out DIR        keep the driver's CSV and raw files in DIR (default: a temporary
                   directory, removed at the end)
  --from-csv FILE  no runs: the table of a CSV run_experiments.sh wrote (stream rows)
  -h, --help       this text

Per point: SD over rounds of log(a2/a1) and log(a3/a1) (natural log: 0.03 is about 3%),
SD of log(a1), median a1 throughput, runs with retransmissions, and the DSACK'd share of
the retransmissions (sum of tcp_dsack_recv / sum of tcp_retrans). The default, 5 rounds of
8 points x 3 strategies, is 120 runs: about 3.5 minutes at 1 s runs, less at the driver's
0.5 s default.
Needs what run_experiments.sh needs (root, iproute2, perf optional).
Exit: 0 measured, 1 the driver failed, 2 usage error.
EOF
}

nz_parse_args() {
	while (($# > 0)); do
		case $1 in
		-h | --help) nz_usage; exit 0 ;;
		--rounds)
			need_value "$1" $#
			if ! is_uint "$2" || ((10#$2 < 2 || 10#$2 > 100)); then die_usage "--rounds: bad number '$2' (2 .. 100)"; fi
			N_ROUNDS=$((10#$2))
			shift 2
			;;
		--sizes) need_value "$1" $#; check_size_list --sizes "$2"; N_SIZES=$2; shift 2 ;;
		--threads)
			need_value "$1" $#
			local t
			for t in ${2//,/ }; do
				if ! is_uint "$t" || ((10#$t < 1 || 10#$t > 1024)); then die_usage "--threads: bad count '$t' (1 .. 1024)"; fi
			done
			N_THREADS=$2
			shift 2
			;;
		--out) need_value "$1" $#; N_OUT=$2; shift 2 ;;
		--from-csv) need_value "$1" $#; N_FROM=$2; shift 2 ;;
		--) shift; N_EXTRA=("$@"); break ;;
		*) die_usage "unknown option '$1'" ;;
		esac
	done
}

# The awk functions both tables use: lists of values by key (add), their median, and a
# size in bytes by name (65536 -> 64K).
readonly NZ_AWK_LIB='
	function add(key, v) { val[key, ++cnt[key]] = v }
	function median(key,   i, j, n, x, a) {
		n = cnt[key]; if (n == 0) return "NA"
		for (i = 1; i <= n; i++) a[i] = val[key, i]
		for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function size_name(b) {
		if (b % 1048576 == 0) return (b / 1048576) "M"
		if (b % 1024 == 0) return (b / 1024) "K"
		return b
	}'

# noise_table CSV: the markdown table of the stream rows of CSV (status ok), one line per
# point (mode, size, threads, engine, rx), then one summary line. Pure: reads CSV only.
# A ratio pairs the two strategies' rows of one point with the same repeat (round).
noise_table() {
	awk -F, "$NZ_AWK_LIB"'
	function sd(key,   i, m, s, n) {
		n = cnt[key]; if (n < 2) return "NA"
		m = 0; for (i = 1; i <= n; i++) m += val[key, i]; m /= n
		s = 0; for (i = 1; i <= n; i++) s += (val[key, i] - m) ^ 2
		return sprintf("%.3f", sqrt(s / (n - 1)))
	}
	function corr(p,   i, n, mx, my, sxy, sxx, syy) {   # of log a1 and log a2 over the rounds with both
		n = cnt["x" SUBSEP p]; if (n < 3) return "NA"
		for (i = 1; i <= n; i++) { mx += val["x" SUBSEP p, i]; my += val["y" SUBSEP p, i] }
		mx /= n; my /= n
		for (i = 1; i <= n; i++) { dx = val["x" SUBSEP p, i] - mx; dy = val["y" SUBSEP p, i] - my; sxy += dx * dy; sxx += dx * dx; syy += dy * dy }
		return (sxx > 0 && syy > 0) ? sprintf("%.2f", sxy / sqrt(sxx * syy)) : "NA"
	}
	NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["status"] != "ok" || $c["mode"] != "stream" || $c["throughput_gbps"] !~ /^[0-9.]+$/ || $c["throughput_gbps"] <= 0 { next }
	("prof_samples" in c) && $c["prof_samples"] ~ /^[0-9]+$/ { next }   # a profiled run: profile_cost_table
	{
		p = $c["msg_size"] SUBSEP $c["threads"] SUBSEP $c["engine"] SUBSEP $c["rx"]
		if (!(p in seen)) { seen[p] = 1; order[++np] = p }
		r = $c["repeat"]; s = $c["strategy"]
		g[p, r, s] = log($c["throughput_gbps"])
		rounds[p, r] = 1
		if (s == "a1") add("lvl" SUBSEP p, log($c["throughput_gbps"]))
		if (s == "a1") add("gb" SUBSEP p, $c["throughput_gbps"])
		runs[p]++
		re = $c["tcp_retrans"]; ds = $c["tcp_dsack_recv"]
		if (re ~ /^[0-9]+$/ && re > 0) { withre[p]++; rsum[p] += re; allre += re
			if (ds ~ /^[0-9]+$/) { dsum[p] += ds; alld += ds; rsum_d[p] += re; allre_d += re } }
		if (re ~ /^[0-9]+$/) add("re" SUBSEP p, re)
		allruns++; if (re ~ /^[0-9]+$/ && re > 0) allwith++
	}
	END {
		for (k in rounds) {
			split(k, q, SUBSEP); p = q[1] SUBSEP q[2] SUBSEP q[3] SUBSEP q[4]; r = q[5]
			if ((p, r, "a1") in g) {
				if ((p, r, "a2") in g) { add("a2" SUBSEP p, g[p, r, "a2"] - g[p, r, "a1"])
					add("x" SUBSEP p, g[p, r, "a1"]); add("y" SUBSEP p, g[p, r, "a2"]) }
				if ((p, r, "a3") in g) add("a3" SUBSEP p, g[p, r, "a3"] - g[p, r, "a1"])
			}
		}
		print "| size | threads | engine | rx | rounds | a1 Gbit/s (median) | SD log a1 | corr(log a1, log a2) | SD log(a2/a1) | SD log(a3/a1) | runs with retrans | retrans per run (median) | DSACKs / retrans |"
		print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= np; i++) {
			p = order[i]; split(p, q, SUBSEP)
			share = (rsum_d[p] > 0) ? sprintf("%.2f", dsum[p] / rsum_d[p]) : "-"
			gb = median("gb" SUBSEP p)
			printf "| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %d/%d | %s | %s |\n", size_name(q[1]), q[2], q[3], q[4],
				cnt["a2" SUBSEP p], (gb == "NA") ? "NA" : sprintf("%.2f", gb), sd("lvl" SUBSEP p), corr(p), sd("a2" SUBSEP p),
				sd("a3" SUBSEP p), withre[p], runs[p], median("re" SUBSEP p), share
			v = sd("a2" SUBSEP p); if (v != "NA") add("sum_a2", v)
			v = sd("a3" SUBSEP p); if (v != "NA") add("sum_a3", v)
			if (q[2] == 1) { v = sd("a2" SUBSEP p); if (v != "NA") add("sum_a2_1", v) }
		}
		printf "\nmedian over points: SD log(a2/a1) %s (1 thread: %s), SD log(a3/a1) %s; runs with retransmissions %d/%d; DSACKs / retransmissions, all runs: %s\n",
			median("sum_a2"), median("sum_a2_1"), median("sum_a3"), allwith, allruns,
			(allre_d > 0) ? sprintf("%.2f (%d of %d)", alld / allre_d, alld, allre_d) : "- (none)"
	}' "$1"
}

# profile_cost_table CSV: what sampling costs, from a CSV with profile rounds (run_experiments.sh
# --profile-sizes): per profiled size and strategy, the median over rounds of the profiled
# run's throughput / the same round's plain run (the groups run back to back), and the
# extra wall time of a profiled run (mean gap between a row's timestamp and the previous
# row's, profiled minus plain; timestamps have 1 s resolution, so only the mean means much).
# Prints nothing when no row was profiled.
profile_cost_table() {
	awk -F, "$NZ_AWK_LIB"'
	function secs(ts,   d, t) {   # 2026-12-04T19:02:23Z -> seconds of the day (runs never span midnight here)
		split(substr(ts, 12, 8), t, ":"); return t[1] * 3600 + t[2] * 60 + t[3]
	}
	NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	{
		t = secs($c["timestamp"]); prof = ($c["prof_samples"] ~ /^[0-9]+$/)
		if (NR > 2) { gap[prof] += t - last; ngap[prof]++ }
		last = t
	}
	$c["status"] != "ok" || $c["mode"] != "stream" || $c["throughput_gbps"] !~ /^[0-9.]+$/ { next }
	{
		k = $c["msg_size"] SUBSEP $c["threads"] SUBSEP $c["strategy"] SUBSEP $c["repeat"]
		if (prof) { p[k] = $c["throughput_gbps"]; any = 1; if (!($c["msg_size"] SUBSEP $c["strategy"] in seen)) { seen[$c["msg_size"], $c["strategy"]] = 1; order[++n] = $c["msg_size"] SUBSEP $c["strategy"] } }
		else u[k] = $c["throughput_gbps"]
	}
	END {
		if (!any) exit
		for (k in p) if (k in u) { split(k, q, SUBSEP); add(q[1] SUBSEP q[3], p[k] / u[k]); add("all", p[k] / u[k]) }
		print "\n### What sampling costs (perf record -a -g, profiled / plain, same point and round)\n"
		print "| size | strategy | rounds | throughput profiled / plain (median) |"
		print "|---|---|---|---|"
		for (i = 1; i <= n; i++) { split(order[i], q, SUBSEP)
			m = median(order[i]); printf "| %s | %s | %d | %s |\n", size_name(q[1]), q[2], cnt[order[i]], (m == "NA") ? m : sprintf("%.3f", m) }
		printf "\nall: median %.3f over %d pairs; wall per run: plain %.2f s, profiled %.2f s (mean gaps between row timestamps)\n",
			median("all"), cnt["all"], ngap[0] ? gap[0] / ngap[0] : 0, ngap[1] ? gap[1] / ngap[1] : 0
	}' "$1"
}

# plan_facts CSV: the placement, steering, seed and run length the rows record, and the
# machine-drift probe before the sweep (its copy and wake-up steps: the floor under the SDs).
plan_facts() {
	awk -F, 'BEGIN { nw = split("placement seed duration_s warmup_s mtu drift_copy_step drift_alu_step drift_wake_us drift_wake_step", w, " ") }
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ for (i = 1; i <= nw; i++) if ((w[i] in c) && !((i, $c[w[i]]) in seen)) {
			seen[i, $c[w[i]]] = 1; v[i] = v[i] (v[i] == "" ? "" : " ") $c[w[i]] } }
		END { for (i = 1; i <= nw; i++) if (w[i] in c) printf "%s=%s; ", w[i], v[i]; print "" }' "$1"
}

main() {
	local dir rc=0
	nz_parse_args "$@"
	if [[ -n $N_FROM ]]; then
		[[ -r $N_FROM ]] || die "--from-csv: cannot read '$N_FROM'"
		printf '## Noise: %s\n\n' "$N_FROM"
		printf 'rows record: %s\n\n' "$(plan_facts "$N_FROM")"
		noise_table "$N_FROM"
		profile_cost_table "$N_FROM"
		return 0
	fi
	bench_require_root
	if [[ -n $N_OUT ]]; then
		mkdir -p "$N_OUT" || die "cannot create $N_OUT"
		dir=$N_OUT
	else
		dir=$(mktemp -d "${TMPDIR:-/tmp}/noise.XXXXXX")
		# shellcheck disable=SC2317 # invoked by the EXIT trap
		nz_on_exit() { rm -rf "$dir"; }
		trap nz_on_exit EXIT
	fi
	[[ ! -e $dir/results.csv ]] || die "$dir/results.csv exists: choose another --out"
	local -a cmd=("$BENCH_TOP/run_experiments.sh" --mode stream --sizes "$N_SIZES" --threads "$N_THREADS"
		--repeats "$N_ROUNDS" --no-plot --out "$dir/results.csv" "${N_EXTRA[@]}")
	printf '## Noise: paired ratios per round\n\n'
	machine_facts
	printf '\ncommand: bench/noise.sh %s\n' "$*"
	printf 'driver: run_experiments.sh %s\n' "${cmd[*]:1}"
	"${cmd[@]}" >"$dir/driver.out" 2>"$dir/driver.err" || rc=$?
	if ((rc != 0)); then
		err "the driver failed (exit $rc): $(tail -n 2 "$dir/driver.err" | tr '\n' ' ')"
		[[ -s $dir/results.csv ]] || return 1
	fi
	printf 'rows record: %s\n' "$(plan_facts "$dir/results.csv")"
	printf 'wall time: %s\n\n' "$(grep -o 'done: .*' "$dir/driver.err" | tail -n 1)"
	noise_table "$dir/results.csv"
	profile_cost_table "$dir/results.csv"
	((rc == 0)) || return 1
}

main "$@"
