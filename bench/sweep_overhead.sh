#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/sweep_overhead.sh — what the sweep driver costs beyond the runs it measures.
#
# Runs `run_experiments.sh --quick --no-plot --out <new tmp CSV>` and compares its wall time
# with the sum, over the CSV's rows, of each run's measured time (duration_s + warmup_s):
# ratio = wall / sum. Target: <= 1.15 (a target for the driver, not a test). The rest is
# the driver's own cost: build check, namespace setup, per run the process start-up (ip
# netns exec, perf), server readiness polling, the server-exit poll, JSON/perf parsing and
# the CSV row, and teardown.
#
# --profile adds one run under bash xtrace with a timestamp on every traced command
# (PS4 with EPOCHREALTIME and FUNCNAME) and prints where the wall time went, per driver
# function and per (function, command). Tracing inflates the driver's own bash work (every
# command is printed), so the profile shows the shape of the overhead, and the untraced
# runs give the ratio.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly DEF_RUNS=3
S_RUNS=$DEF_RUNS S_PROFILE=0 S_KEEP=0 S_DIR=""
S_EXTRA=()

so_usage() {
	cat <<EOF
Usage: sudo bench/sweep_overhead.sh [--runs N] [--profile] [--keep] [-- DRIVER_OPTIONS...]

Wall time of 'run_experiments.sh --quick --no-plot --out <tmp>' against the sum of its
runs' measured durations (duration_s + warmup_s of every CSV row), as a ratio; the median
over N sweeps. Target: ratio <= 1.15.

  --runs N      sweeps to time, 1..20                      (default: $DEF_RUNS)
  --profile     one more sweep under bash xtrace with timestamps: where the time goes,
                per driver function and per (function, command)
  --keep        keep the temporary CSVs, raw files and the trace (path printed)
  -- OPTS...    further options for run_experiments.sh (e.g. -- --no-netns)
  -h, --help    this text

A --quick sweep is 12 runs of 1 s + 0.2 s warm-up: about 20 s per sweep.
Needs what run_experiments.sh needs (root, iproute2; perf optional).
Exit: 0 measured (whatever the ratio), 1 a sweep failed, 2 usage error.
EOF
}

so_parse_args() {
	while (($# > 0)); do
		case $1 in
		-h | --help) so_usage; exit 0 ;;
		--runs)
			need_value "$1" $#
			if ! is_uint "$2" || ((10#$2 < 1 || 10#$2 > 20)); then die_usage "--runs: bad number '$2' (1 .. 20)"; fi
			S_RUNS=$((10#$2))
			shift 2
			;;
		--profile) S_PROFILE=1; shift ;;
		--keep) S_KEEP=1; shift ;;
		--) shift; S_EXTRA=("$@"); break ;;
		*) die_usage "unknown option '$1'" ;;
		esac
	done
}

# sum_measured CSV: sum over rows of duration_s + warmup_s, and the row count ("SUM N").
sum_measured() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ s += $(c["duration_s"]) + $(c["warmup_s"]); n++ }
		END { printf "%.3f %d\n", s, n }' "$1"
}

# one_sweep TAG [trace]: run the driver once; prints "WALL SUM ROWS".
one_sweep() {
	local tag=$1 mode=${2-} out t0 t1 rc=0
	local -a cmd=("$BENCH_TOP/run_experiments.sh" --quick --no-plot --out "$S_DIR/$tag/results.csv" "${S_EXTRA[@]}")
	mkdir -p "$S_DIR/$tag"
	t0=$EPOCHREALTIME
	if [[ $mode == trace ]]; then
		# $0 of the inner bash is the driver itself, so sourcing it runs its main (traced).
		bash -c 'exec 9>"$TRACE"; BASH_XTRACEFD=9; PS4='\''+${EPOCHREALTIME} ${FUNCNAME[0]:-main} '\''; set -x; source "$0" "$@"' \
			"${cmd[@]}" >"$S_DIR/$tag/stdout" 2>"$S_DIR/$tag/stderr" || rc=$?
	else
		"${cmd[@]}" >"$S_DIR/$tag/stdout" 2>"$S_DIR/$tag/stderr" || rc=$?
	fi
	t1=$EPOCHREALTIME
	if ((rc != 0)); then
		err "sweep $tag failed (exit $rc): $(tail -n 2 "$S_DIR/$tag/stderr" | tr '\n' ' ')"
		return 1
	fi
	out=$(sum_measured "$S_DIR/$tag/results.csv")
	awk -v a="$t0" -v b="$t1" -v o="$out" 'BEGIN { printf "%.3f %s\n", b - a, o }'
}

# profile TRACE MEASURED: time between consecutive trace lines, charged to the earlier
# line's function and command word.
profile() {
	local trace=$1 measured=$2 raw
	raw=$(awk '
		/^\++[0-9]+\.[0-9]+ / {
			t = $1; sub(/^\++/, "", t); t += 0
			if (n++) { d = t - pt; fn[pf] += d; fc[pf ": " pc] += d; cnt[pf ": " pc]++ }
			else first = t
			pt = t; pf = $2; pc = $3
		}
		END {
			printf "T\t%.3f\n", pt - first
			for (k in fn) printf "F\t%s\t%.3f\n", k, fn[k]
			for (k in fc) printf "C\t%s\t%d\t%.3f\n", k, cnt[k], fc[k]
		}' "$trace")
	printf '\n### Where the time goes (one traced sweep; tracing inflates the bash parts)\n\n'
	awk -F'\t' -v m="$measured" '$1 == "T" { printf "traced wall %.3f s; measured (duration + warmup) %.3f s; difference %.3f s\n", $2, m, $2 - m }' <<<"$raw"
	printf '\n| driver function | seconds |\n|---|---|\n'
	grep '^F' <<<"$raw" | sort -t$'\t' -k3,3 -rn | awk -F'\t' 'NR <= 12 { printf "| %s | %s |\n", $2, $3 }'
	printf '\n| function: command (time until the next traced command) | calls | seconds |\n|---|---|---|\n'
	grep '^C' <<<"$raw" | sort -t$'\t' -k4,4 -rn | awk -F'\t' 'NR <= 15 { printf "| %s | %s | %s |\n", $2, $3, $4 }'
	printf '\nIn run_one, "timeout" and "wait" cover the client and server processes themselves\n'
	printf '(ip netns exec, perf start-up, connect, warm-up, the measured seconds, drain).\n'
}

main() {
	local i line wall sum rows ratios=() failed=0
	so_parse_args "$@"
	bench_require_root
	S_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sweep_overhead.XXXXXX")
	# shellcheck disable=SC2317 # invoked by the EXIT trap
	on_exit() { if ((S_KEEP == 0)); then rm -rf "$S_DIR"; fi; }
	trap on_exit EXIT

	printf '## Sweep overhead: run_experiments.sh --quick\n\n'
	machine_facts
	printf '\ncommand: bench/sweep_overhead.sh %s\n' "$*"
	printf 'each sweep: run_experiments.sh --quick --no-plot --out <tmp>/results.csv %s\n\n' "${S_EXTRA[*]}"
	printf '| sweep | wall s | sum of duration+warmup s | rows | ratio |\n|---|---|---|---|---|\n'
	for ((i = 1; i <= S_RUNS; i++)); do
		if ! line=$(one_sweep "sweep$i"); then failed=1; continue; fi
		read -r wall sum rows <<<"$line"
		ratios+=("$(ratio "$wall" "$sum" 3)")
		printf '| %d | %s | %s | %s | %s |\n' "$i" "$wall" "$sum" "$rows" "${ratios[-1]}"
	done
	local -a s
	read -r -a s <<<"$(stats "${ratios[@]}")"
	printf '\nratio wall / measured: median %s (min %s, max %s) over %s sweeps; target <= 1.15\n' \
		"$(fmt "${s[0]}" 3)" "$(fmt "${s[1]}" 3)" "$(fmt "${s[2]}" 3)" "${s[3]}"
	if ((S_PROFILE)); then
		if line=$(TRACE="$S_DIR/trace" one_sweep profile trace); then
			read -r wall sum rows <<<"$line"
			profile "$S_DIR/trace" "$sum"
		else
			failed=1
		fi
	fi
	if ((S_KEEP)); then printf '\nkept: %s\n' "$S_DIR"; fi
	((failed == 0))
}

main "$@"
