#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/latency_vs_sockperf.sh — copybench's a2 request-response latency against sockperf
# ping-pong (TCP) on one veth namespace pair.
#
# For each message size, each round runs our a2 (--mode rr) and sockperf (sr + pp --tcp)
# once, the order alternating from round to round; both are pinned the same way (--pin):
# ours with -A, sockperf with taskset -c (both are sched_setaffinity).
# Like with like: sockperf normally reports HALF the round trip; here it runs with
# --full-rtt, so both columns are whole round trips (request out, reply in), in µs.
# Not the same exchange: sockperf pp sends SIZE bytes and gets SIZE bytes back; our client
# sends an 8-byte request and gets one SIZE-byte message (our server's strategy a2:
# sendmsg of 8 fields) back. Both ends of both tools use TCP_NODELAY (sockperf's default
# for TCP, our rr mode sets it). Warm-up: sockperf drops its first 400 ms; ours --warmup 0.4.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly DEF_SIZES="64,1K,16K" DEF_ROUNDS=5 DEF_DURATION=2 DEF_PIN=split
readonly WARMUP_S=0.4   # sockperf's fixed warm-up; ours is set to match

L_SIZES=$DEF_SIZES L_ROUNDS=$DEF_ROUNDS L_DURATION=$DEF_DURATION L_PIN=$DEF_PIN L_OUT=""
MTU=$DEFAULT_MTU NO_NETNS=0
declare -A P50=() P99=()   # "tool|size" -> space-separated values, one per round
FAILED=0 RAW_CSV=""

lat_usage() {
	cat <<EOF
Usage: sudo bench/latency_vs_sockperf.sh [options]

Round-trip latency of copybench's a2 (--mode rr) and sockperf ping-pong over TCP on one
veth namespace pair: p50 and p99, median (min-max) over rounds in which the tools
alternate, and our/sockperf ratios. Markdown tables on stdout, progress on stderr.

  --sizes LIST    reply sizes (= sockperf -m), bytes with K/M, 64..64K  (default: $DEF_SIZES)
  --rounds N      rounds; each runs both tools once per size       (default: $DEF_ROUNDS)
  --duration S    seconds per run, whole (sockperf -t; ours -d, after a 0.4 s warm-up)
                                                                   (default: $DEF_DURATION)
  --pin MODE      split: replier (our server, sockperf sr) on the first allowed CPU,
                  requester (our client, sockperf pp) on the second; same: both on the
                  first                                             (default: $DEF_PIN)
  --mtu N         veth MTU, 68..65535                               (default: $DEFAULT_MTU)
  --no-netns      loopback 127.0.0.1 in this namespace instead of a veth pair
  --out DIR       keep raw outputs and runs.csv in DIR (default: a new directory under
                  \${TMPDIR:-/tmp})
  -h, --help      this text

Both columns are full round trips (sockperf --full-rtt; it reports half by default).
sockperf pp sends SIZE bytes each way; ours sends an 8-byte request, SIZE bytes back.
Needs root (namespaces) and sockperf (installed with apt-get when missing).
Exit: 0 every run ok, 1 a run or setup failed, 2 usage error.
EOF
}

lat_parse_args() {
	while (($# > 0)); do
		case $1 in
		-h | --help) lat_usage; exit 0 ;;
		--sizes) need_value "$1" $#; L_SIZES=$2; shift 2 ;;
		--rounds) need_value "$1" $#; L_ROUNDS=$2; shift 2 ;;
		--duration) need_value "$1" $#; L_DURATION=$2; shift 2 ;;
		--pin) need_value "$1" $#; L_PIN=$2; shift 2 ;;
		--mtu) need_value "$1" $#; MTU=$2; shift 2 ;;
		--out) need_value "$1" $#; L_OUT=$2; shift 2 ;;
		--no-netns) NO_NETNS=1; shift ;;
		*) die_usage "unknown option '$1'" ;;
		esac
	done
	local s
	check_size_list --sizes "$L_SIZES"
	for s in ${L_SIZES//,/ }; do
		# sockperf's message size is at most 65,507 bytes (a UDP datagram's payload).
		(($(size_bytes "$s") <= 65507)) || die_usage "--sizes: '$s' is larger than sockperf allows (65507)"
	done
	check_rounds "$L_ROUNDS"
	check_int_seconds --duration "$L_DURATION" 1
	case $L_PIN in split | same) ;; *) die_usage "--pin: '$L_PIN' is not split or same" ;; esac
	if ! is_uint "$MTU" || ((10#$MTU < 68 || 10#$MTU > 65535)); then
		die_usage "--mtu: bad number '$MTU' (68 .. 65535)"
	fi
}

# record TOOL SIZE ROUND STATUS P50 P99 REASON
record() {
	local tool=$1 size=$2 round=$3 status=$4 p50=$5 p99=$6 reason=$7
	if [[ $status == ok ]]; then
		P50[$tool|$size]+="$p50 " P99[$tool|$size]+="$p99 "
	else
		FAILED=$((FAILED + 1))
	fi
	printf '%s,%s,%s,%s,%s,%s,%s\n' "$round" "$tool" "$size" "$status" "$p50" "$p99" "$(cell "$reason")" >>"$RAW_CSV"
	err "round $round $tool size=$size: $status p50 $p50 us, p99 $p99 us${reason:+ ($reason)}"
}

# run_ours SIZE ROUND
run_ours() {
	local size=$1 round=$2 base port srv cli rc=0 srv_rc=0 reason=""
	base="$L_OUT/r$round-a2-$size"
	next_port
	port=$BENCH_PORT
	if ! spawn_listening srv "$port" $((L_DURATION + 30)) "$SRV_NS" "$base.srv.json" "$base.srv.err" \
		"$BENCH_TOP/a2_server" -p "$port" -B "$SRV_IP" -n 1 --json -A "$SEND_CPU"; then
		record a2 "$size" "$round" failed NA NA "server not listening: $(last_line "$base.srv.err")"
		return
	fi
	spawn cli $((L_DURATION + 15)) "$CLI_NS" "$base.cli.json" "$base.cli.err" \
		"$BENCH_TOP/a2_client" -H "$SRV_IP" -p "$port" -s "$size" -t 1 --mode rr \
		-d "$L_DURATION" --warmup "$WARMUP_S" --json -A "$RECV_CPU"
	reap "$cli" || rc=$?
	reap_within "$srv" 5 || srv_rc=$?
	CLI=()
	load_json CLI "$base.cli.json" || true
	if ((rc != 0)); then
		reason="client exit $rc: $(last_line "$base.cli.err")"
	elif ((srv_rc != 0)); then
		reason="server exit $srv_rc: $(last_line "$base.srv.err")"
	elif [[ ${CLI[status]-} != ok || -z ${CLI[rtt_p50_us]-} ]]; then
		reason="no result: ${CLI[reason]-no JSON}"
	fi
	if [[ -n $reason ]]; then
		record a2 "$size" "$round" failed NA NA "$reason"
	else
		record a2 "$size" "$round" ok "${CLI[rtt_p50_us]}" "${CLI[rtt_p99_us]}" ""
	fi
}

# run_sockperf SIZE ROUND
run_sockperf() {
	local size=$1 round=$2 base port srv cli rc=0 reason="" p50 p99
	base="$L_OUT/r$round-sockperf-$size"
	next_port
	port=$BENCH_PORT
	if ! spawn_listening srv "$port" $((L_DURATION + 30)) "$SRV_NS" "$base.sr.out" "$base.sr.err" \
		taskset -c "$SEND_CPU" sockperf sr --tcp -i "$SRV_IP" -p "$port"; then
		record sockperf "$size" "$round" failed NA NA "sockperf sr not listening: $(last_line "$base.sr.err")"
		return
	fi
	spawn cli $((L_DURATION + 15)) "$CLI_NS" "$base.pp.out" "$base.pp.err" \
		taskset -c "$RECV_CPU" sockperf pp --tcp -i "$SRV_IP" -p "$port" -m "$(size_bytes "$size")" \
		-t "$L_DURATION" --full-rtt
	reap "$cli" || rc=$?
	stop_group "$srv"   # sockperf sr serves until stopped
	p50=$(sockperf_pct "$base.pp.out" 50.000)
	p99=$(sockperf_pct "$base.pp.out" 99.000)
	if ((rc != 0)); then
		reason="sockperf pp exit $rc: $(last_line "$base.pp.err")"
	elif [[ $p50 == NA || $p99 == NA ]]; then
		reason="no percentiles in sockperf's output"
	fi
	if [[ -n $reason ]]; then
		record sockperf "$size" "$round" failed NA NA "$reason"
	else
		record sockperf "$size" "$round" ok "$p50" "$p99" ""
	fi
}

print_table() {
	local size
	printf '\n### Round-trip time, µs: median (min-max) of %s rounds\n\n' "$L_ROUNDS"
	printf '| size | a2 p50 | sockperf p50 | a2/sockperf p50 | a2 p99 | sockperf p99 | a2/sockperf p99 |\n'
	printf '|---|---|---|---|---|---|---|\n'
	for size in ${L_SIZES//,/ }; do
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$size" \
			"$(cellv P50 "a2|$size" 1)" "$(cellv P50 "sockperf|$size" 1)" \
			"$(ratio "$(medianv P50 "a2|$size")" "$(medianv P50 "sockperf|$size")")" \
			"$(cellv P99 "a2|$size" 1)" "$(cellv P99 "sockperf|$size" 1)" \
			"$(ratio "$(medianv P99 "a2|$size")" "$(medianv P99 "sockperf|$size")")"
	done
	printf '\nBoth are whole round trips (sockperf --full-rtt, i.e. twice the half round trip it\n'
	printf 'reports by default). sockperf pp sends SIZE bytes each way; ours sends an 8-byte\n'
	printf 'request and receives SIZE bytes. Ratios are of the medians; below 1 = ours faster.\n'
}

main() {
	local round size
	lat_parse_args "$@"
	bench_require_root
	need_tool sockperf sockperf
	have taskset || die "taskset not found: install util-linux"
	need_binaries a2_server a2_client
	if [[ -z $L_OUT ]]; then L_OUT=$(mktemp -d "${TMPDIR:-/tmp}/latency_vs_sockperf.XXXXXX"); fi
	mkdir -p "$L_OUT" || die "cannot create $L_OUT"
	RAW_CSV=$L_OUT/runs.csv
	printf 'round,tool,size,status,rtt_p50_us,rtt_p99_us,reason\n' >"$RAW_CSV"
	install_traps
	bench_cpus "$L_PIN"
	bench_link
	for ((round = 1; round <= L_ROUNDS; round++)); do
		for size in ${L_SIZES//,/ }; do
			if ((round % 2)); then
				run_ours "$size" "$round"
				run_sockperf "$size" "$round"
			else
				run_sockperf "$size" "$round"
				run_ours "$size" "$round"
			fi
		done
	done
	cleanup

	printf '## copybench a2 rr vs sockperf %s ping-pong (TCP)\n\n' \
		"$(sockperf --version 2>/dev/null | awk '/version/ { print $3; exit }')"
	machine_facts
	printf '\ncommand: bench/latency_vs_sockperf.sh %s\n' "$*"
	printf 'link: %s, mtu %s; replier (a2_server, sockperf sr) on CPU %s, requester (a2_client, sockperf pp) on CPU %s (--pin %s); %s s per run, first 0.4 s dropped; one connection; %s rounds, order alternating\n' \
		"$([[ $NO_NETNS == 1 ]] && echo 'loopback' || echo 'veth pair between two namespaces')" "$LINK_MTU" \
		"$SEND_CPU" "$RECV_CPU" "$L_PIN" "$L_DURATION" "$L_ROUNDS"
	print_table
	printf '\nraw: %s (runs.csv, per-run outputs); %d failed runs\n' "$L_OUT" "$FAILED"
	((FAILED == 0))
}

main "$@"
