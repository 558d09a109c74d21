#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/vs_iperf3.sh — copybench's a1, a2, a3 against iperf3 on the same path.
#
# One veth namespace pair (the driver's setup_link), or loopback with --no-netns. For every
# message size and stream count, each round runs a1, a2, a3 and iperf3 once, in an order
# that rotates from round to round (so no tool always goes first after an idle moment).
# Held equal, because each moved results by 30-60% in a trial here:
#   direction   the SENDER is measured: our server sends (server namespace -> client
#               namespace); iperf3's client sends (no -R), placed in the same namespace as
#               our server, towards an iperf3 server in the client namespace;
#   read size   iperf3's receiver reads with its -l buffer, and -l is our message size; our
#               client reads one message per recvmsg() (8 fields scattered), i.e. also one
#               message-size buffer per call;
#   placement   sender pinned to one CPU, receiver to another (--pin split, default) or both
#               to the same one (--pin same), with our -A and iperf3's -A;
#   MTU, link   the same veth pair for every run.
# Measured: throughput (ours: the client's gbps over the measured window after --warmup;
# iperf3: end.sum_sent.bits_per_second after -O omit seconds) and the sending process's CPU
# per byte: perf stat -e task-clock around the whole sender process / every byte it sent
# (ours: bytes_sent; iperf3: end.sum_sent.bytes + the omitted intervals' bytes); the
# receiving process's CPU per byte the same way, as a control; and the veth's bytes per
# packet over each run (how many writes TCP merged into one packet: at 1 KiB throughput
# follows it). Reports medians with min-max over the rounds and ours/iperf3 ratios (of the
# medians), as markdown tables on stdout; progress on stderr; raw files under --out.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly DEF_SIZES="1K,16K,64K" DEF_STREAMS="1,2" DEF_IMPLS="a1,a2,a3"
readonly DEF_ROUNDS=5 DEF_DURATION=2 DEF_WARMUP=1 DEF_PIN=split

V_SIZES=$DEF_SIZES V_STREAMS=$DEF_STREAMS V_IMPLS=$DEF_IMPLS V_ROUNDS=$DEF_ROUNDS
V_DURATION=$DEF_DURATION V_WARMUP=$DEF_WARMUP V_PIN=$DEF_PIN V_OUT="" V_MEMCPY=1
MTU=$DEFAULT_MTU NO_NETNS=0
declare -A GBPS=() NSB=() RNSB=() BPP=()  # "tool|size|streams" -> blank-separated values, one per round
declare -A PAIR=()          # "tool|size|streams|round" -> gbps (for paired ratios)
FAILED=0 RAW_CSV=""

vs_usage() {
	cat <<EOF
Usage: sudo bench/vs_iperf3.sh [options]

copybench's a1, a2, a3 against iperf3 on one veth namespace pair: throughput and the sending
process's CPU per byte, median (min-max) over rounds in which the tools alternate, and the
ratios ours/iperf3; the receiver's CPU per byte (control) and bytes per packet on the veth.
Prints markdown tables on stdout, progress on stderr.

  --sizes LIST     message sizes = iperf3 -l, bytes with K/M       (default: $DEF_SIZES)
  --streams LIST   our client threads = iperf3 -P                   (default: $DEF_STREAMS)
  --impls LIST     our strategies, from a1 a2 a3                    (default: $DEF_IMPLS)
  --rounds N       rounds; each runs every tool once per config     (default: $DEF_ROUNDS)
  --duration S     measured seconds per run, whole seconds (iperf3 -t) (default: $DEF_DURATION)
  --warmup S       seconds excluded first, whole (ours --warmup, iperf3 -O) (default: $DEF_WARMUP)
  --pin MODE       split: sender on the first allowed CPU, receiver on the second;
                   same: both on the first (ours -A, iperf3 -A)     (default: $DEF_PIN)
  --mtu N          veth MTU, 68..65535                               (default: $DEFAULT_MTU)
  --no-netns       loopback 127.0.0.1 in this namespace instead of a veth pair
  --no-memcpy      skip bench/memcpy_bw (the memcpy/2 bound line)
  --out DIR        keep raw JSON, perf and stderr files and runs.csv in DIR
                   (default: a new directory under \${TMPDIR:-/tmp})
  -h, --help       this text

Time: sizes x streams x (impls + 1) x rounds runs of duration + warmup + about 1 s; the
defaults make 3 x 2 x 4 x 5 = 120 runs, about 8 minutes.
Needs root (namespaces), iperf3 (installed with apt-get when missing), perf for the CPU
columns (without it they are NA). Exit: 0 every run ok, 1 a run or setup failed, 2 usage.
EOF
}

vs_parse_args() {
	while (($# > 0)); do
		case $1 in
		-h | --help) vs_usage; exit 0 ;;
		--sizes) need_value "$1" $#; V_SIZES=$2; shift 2 ;;
		--streams) need_value "$1" $#; V_STREAMS=$2; shift 2 ;;
		--impls) need_value "$1" $#; V_IMPLS=$2; shift 2 ;;
		--rounds) need_value "$1" $#; V_ROUNDS=$2; shift 2 ;;
		--duration) need_value "$1" $#; V_DURATION=$2; shift 2 ;;
		--warmup) need_value "$1" $#; V_WARMUP=$2; shift 2 ;;
		--pin) need_value "$1" $#; V_PIN=$2; shift 2 ;;
		--mtu) need_value "$1" $#; MTU=$2; shift 2 ;;
		--out) need_value "$1" $#; V_OUT=$2; shift 2 ;;
		--no-netns) NO_NETNS=1; shift ;;
		--no-memcpy) V_MEMCPY=0; shift ;;
		*) die_usage "unknown option '$1'" ;;
		esac
	done
	local x
	check_size_list --sizes "$V_SIZES"
	[[ -n $V_STREAMS ]] || die_usage "--streams: empty list"
	for x in ${V_STREAMS//,/ }; do
		if ! is_uint "$x" || ((10#$x < 1 || 10#$x > 128)); then
			die_usage "--streams: bad count '$x' (1 .. 128; iperf3 -P allows 128)"
		fi
	done
	[[ -n $V_IMPLS ]] || die_usage "--impls: empty list"
	for x in ${V_IMPLS//,/ }; do
		case $x in a1 | a2 | a3) ;; *) die_usage "--impls: unknown strategy '$x' (a1 a2 a3)" ;; esac
	done
	check_rounds "$V_ROUNDS"
	check_int_seconds --duration "$V_DURATION" 1
	check_int_seconds --warmup "$V_WARMUP" 0
	case $V_PIN in split | same) ;; *) die_usage "--pin: '$V_PIN' is not split or same" ;; esac
	if ! is_uint "$MTU" || ((10#$MTU < 68 || 10#$MTU > 65535)); then
		die_usage "--mtu: bad number '$MTU' (68 .. 65535)"
	fi
}

# ns_per_byte TASK_MS BYTES: task-clock milliseconds per byte, in ns (4 decimals), or NA.
ns_per_byte() {
	awk -v t="$1" -v b="$2" 'BEGIN {
		if (t !~ /^[0-9.]+$/ || b !~ /^[0-9]+$/ || b == 0) print "NA"; else printf "%.4f\n", t * 1e6 / b }'
}

# record TOOL SIZE STREAMS ROUND STATUS GBPS BYTES SEND_MS RECV_MS REASON: one raw row and
# the tables' values. BYTES: every byte the sender sent (both processes' whole lives).
# TX0 (global): veth_tx before the run; bytes per packet over the run come from it.
TX0="NA NA"
record() {
	local tool=$1 size=$2 st=$3 round=$4 status=$5 gbps=$6 bytes=$7 sms=$8 rms=$9 reason=${10}
	local nsb=NA rnsb=NA key bpp tx1
	tx1=$(veth_tx)
	# shellcheck disable=SC2086 # two numbers each, split on purpose
	bpp=$(per_packet $TX0 $tx1)
	if [[ $status == ok ]]; then
		nsb=$(ns_per_byte "$sms" "$bytes")
		rnsb=$(ns_per_byte "$rms" "$bytes")
		key="$tool|$size|$st"
		GBPS[$key]+="$gbps " NSB[$key]+="$nsb " RNSB[$key]+="$rnsb " BPP[$key]+="$bpp "
		PAIR[$key|$round]=$gbps
	else
		FAILED=$((FAILED + 1))
	fi
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$round" "$tool" "$size" "$st" "$status" "$gbps" \
		"$bytes" "$sms" "$nsb" "$rms" "$rnsb" "$bpp" "$(cell "$reason")" >>"$RAW_CSV"
	err "round $round $tool size=$size streams=$st: $status $(fmt "$gbps" 2) Gbit/s, sender $nsb ns/B, receiver $rnsb ns/B, $bpp B/packet${reason:+ ($reason)}"
}

# perf_prefix FILE: the command prefix that wraps the sender in perf stat (none without perf).
PERF_OK=0
perf_prefix() {
	if ((PERF_OK)); then
		printf '%s\n' env LC_ALL=C perf stat -x, -o "$1" -e task-clock --
	fi
}

# run_begin: what every run starts with: TX0 (the veth counters) and a fresh BENCH_PORT.
run_begin() {
	TX0=$(veth_tx)
	next_port
}

# run_ours IMPL SIZE STREAMS ROUND
run_ours() {
	local impl=$1 size=$2 st=$3 round=$4 base port srv cli rc=0 srv_rc=0 reason=""
	local -a pre rpre
	base="$V_OUT/r$round-$impl-$size-t$st"
	run_begin
	port=$BENCH_PORT
	mapfile -t pre < <(perf_prefix "$base.srv.perf")
	if ! spawn_listening srv "$port" $((V_DURATION + V_WARMUP + 30)) "$SRV_NS" "$base.srv.json" "$base.srv.err" \
		"${pre[@]}" "$BENCH_TOP/${impl}_server" -p "$port" -B "$SRV_IP" -n "$st" --json -A "$SEND_CPU"; then
		record "$impl" "$size" "$st" "$round" failed NA NA NA NA "server not listening: $(last_line "$base.srv.err")"
		return
	fi
	mapfile -t rpre < <(perf_prefix "$base.cli.perf")
	spawn cli $((V_DURATION + V_WARMUP + 15)) "$CLI_NS" "$base.cli.json" "$base.cli.err" \
		"${rpre[@]}" "$BENCH_TOP/${impl}_client" -H "$SRV_IP" -p "$port" -s "$size" -t "$st" \
		-d "$V_DURATION" --warmup "$V_WARMUP" --json -A "$RECV_CPU"
	reap "$cli" || rc=$?
	reap_within "$srv" 5 || srv_rc=$?
	CLI=() SRV=()
	load_json CLI "$base.cli.json" || true
	load_json SRV "$base.srv.json" || true
	if ((rc != 0)); then
		reason="client exit $rc: $(last_line "$base.cli.err")"
	elif ((srv_rc != 0)); then
		reason="server exit $srv_rc: $(last_line "$base.srv.err")"
	elif [[ ${CLI[status]-} != ok || -z ${SRV[bytes_sent]-} ]]; then
		reason="no result: ${CLI[reason]-no JSON}"
	fi
	if [[ -n $reason ]]; then
		record "$impl" "$size" "$st" "$round" failed NA NA NA NA "$reason"
	else
		record "$impl" "$size" "$st" "$round" ok "${CLI[gbps]}" "${SRV[bytes_sent]}" \
			"$(task_clock_ms "$base.srv.perf")" "$(task_clock_ms "$base.cli.perf")" ""
	fi
}

# run_iperf3 SIZE STREAMS ROUND
run_iperf3() {
	local size=$1 st=$2 round=$3 base port srv cli rc=0 srv_rc=0 reason="" f
	local -a pre rpre fields
	base="$V_OUT/r$round-iperf3-$size-t$st"
	run_begin
	port=$BENCH_PORT
	mapfile -t rpre < <(perf_prefix "$base.srv.perf")
	if ! spawn_listening srv "$port" $((V_DURATION + V_WARMUP + 30)) "$CLI_NS" "$base.srv.out" "$base.srv.err" \
		"${rpre[@]}" iperf3 -s -1 -B "$CLI_IP" -p "$port" -A "$RECV_CPU"; then
		record iperf3 "$size" "$st" "$round" failed NA NA NA NA "iperf3 -s not listening: $(last_line "$base.srv.err")"
		return
	fi
	mapfile -t pre < <(perf_prefix "$base.cli.perf")
	spawn cli $((V_DURATION + V_WARMUP + 15)) "$SRV_NS" "$base.cli.json" "$base.cli.err" \
		"${pre[@]}" iperf3 -c "$CLI_IP" -p "$port" -l "$(size_bytes "$size")" -P "$st" \
		-t "$V_DURATION" -O "$V_WARMUP" -A "$SEND_CPU" -J
	reap "$cli" || rc=$?
	reap_within "$srv" 5 || srv_rc=$?
	f=$(iperf3_fields "$base.cli.json")
	read -r -a fields <<<"$f"
	if [[ ${fields[0]} == NA ]]; then
		reason="iperf3: ${fields[2]-no result} (exit $rc)"
	elif ((rc != 0)); then
		reason="iperf3 client exit $rc: $(last_line "$base.cli.err")"
	elif ((srv_rc != 0)); then
		reason="iperf3 server exit $srv_rc"
	fi
	if [[ -n $reason ]]; then
		record iperf3 "$size" "$st" "$round" failed NA NA NA NA "$reason"
	else
		record iperf3 "$size" "$st" "$round" ok "${fields[0]}" "${fields[1]}" \
			"$(task_clock_ms "$base.cli.perf")" "$(task_clock_ms "$base.srv.perf")" ""
	fi
}

# paired KEY_OURS KEY_IPERF: "min-max" of the per-round ratios ours/iperf3 (runs adjacent in
# time, so slow drifts of the machine cancel out).
paired() {
	local r v=()
	for ((r = 1; r <= V_ROUNDS; r++)); do
		v+=("$(ratio "${PAIR[$1|$r]-NA}" "${PAIR[$2|$r]-NA}" 4)")
	done
	local -a s
	read -r -a s <<<"$(stats "${v[@]}")"
	if ((s[3] == 0)); then echo "NA"; else printf '%s-%s\n' "$(fmt "${s[1]}" 2)" "$(fmt "${s[2]}" 2)"; fi
}

# metric_table TITLE METRIC DIGITS RATIOS — one markdown table: a row per
# (size, streams), a median (min-max) cell per tool, then unless RATIOS is
# none a column per ours/iperf3 ratio of the medians (paired: with the range
# of the per-round ratios).  Uses print_tables' impls, sizes and streams.
metric_table() {
	local title=$1 metric=$2 digits=$3 ratios=$4 size st i k ki hdr sep row cell suffix=""
	[[ $ratios == paired ]] && suffix=" (paired)"
	printf '\n### %s\n\n' "$title"
	hdr="| size | streams |" sep="|---|---|"
	for i in "${impls[@]}" iperf3; do hdr+=" $i |"; sep+="---|"; done
	if [[ $ratios != none ]]; then
		for i in "${impls[@]}"; do hdr+=" $i/iperf3$suffix |"; sep+="---|"; done
	fi
	printf '%s\n%s\n' "$hdr" "$sep"
	for size in "${sizes[@]}"; do
		for st in "${streams[@]}"; do
			row="| $size | $st |"
			for i in "${impls[@]}" iperf3; do row+=" $(cellv "$metric" "$i|$size|$st" "$digits") |"; done
			ki="iperf3|$size|$st"
			if [[ $ratios != none ]]; then
				for i in "${impls[@]}"; do
					k="$i|$size|$st"
					cell=$(ratio "$(medianv "$metric" "$k")" "$(medianv "$metric" "$ki")")
					[[ $ratios == paired ]] && cell+=" ($(paired "$k" "$ki"))"
					row+=" $cell |"
				done
			fi
			printf '%s\n' "$row"
		done
	done
}

print_tables() {
	local -a impls sizes streams
	read -r -a impls <<<"${V_IMPLS//,/ }"
	read -r -a sizes <<<"${V_SIZES//,/ }"
	read -r -a streams <<<"${V_STREAMS//,/ }"

	metric_table "Throughput, Gbit/s: median (min-max) of $V_ROUNDS rounds" GBPS 2 paired
	metric_table "Sending process CPU, ns per byte sent (perf stat -e task-clock / bytes): median (min-max)" NSB 3 plain
	metric_table "Receiving process CPU, ns per byte (the control: same read size; ours scatters into 8 fields)" RNSB 3 none
	if ((NO_NETNS == 0)); then
		metric_table "Bytes per packet on the veth, sender to receiver (headers and the other connections of a run included; a GSO packet counts once): median (min-max)" BPP 0 none
	fi
	printf '\nRatios are of the medians; "paired" is the range of the per-round ratios (each\n'
	printf 'round runs ours and iperf3 back to back). Below 1 = ours slower / cheaper.\n'
}

# memcpy_line: our best throughput at 1 stream as a fraction of memcpy_bw / 2.
memcpy_line() {
	local js best=NA besttag="" k v bound_c bound_d
	((V_MEMCPY)) || return 0
	if ! make -s -C "$BENCH_TOP" bench/memcpy_bw >&2 || ! js=$(taskset -c "$SEND_CPU" "$BENCH_DIR/memcpy_bw" --json); then
		err "memcpy_bw failed: no memcpy bound line"
		return 0
	fi
	printf '%s\n' "$js" >"$V_OUT/memcpy_bw.json"
	local -A MC=()
	load_json MC "$V_OUT/memcpy_bw.json" || return 0
	bound_c=${MC[cache_bound_gbit_per_s]} bound_d=${MC[dram_bound_gbit_per_s]}
	for k in "${!GBPS[@]}"; do
		[[ $k == iperf3\|* || $k != *\|1 ]] && continue
		v=$(medianv GBPS "$k")
		if [[ $best == NA ]] || awk -v a="$v" -v b="$best" 'BEGIN { exit !(a > b) }'; then
			best=$v besttag=${k%|1}
		fi
	done
	printf '\n### memcpy bound\n\n'
	printf 'memcpy_bw (pinned to CPU %s): cache-resident %s B: %s GB/s, DRAM-sized %s B: %s GB/s (medians of %s).\n' \
		"$SEND_CPU" "${MC[cache_bytes]}" "$(fmt "${MC[cache_gbytes_per_s]}" 2)" "${MC[dram_bytes]}" \
		"$(fmt "${MC[dram_gbytes_per_s]}" 2)" "${MC[reps]}"
	printf 'Our best 1-stream median: %s Gbit/s (%s) = %s of the cache-resident bound memcpy/2 = %s Gbit/s, %s of the DRAM bound %s Gbit/s.\n' \
		"$(fmt "$best" 2)" "${besttag/|/ }" "$(ratio "$best" "$bound_c" 3)" "$(fmt "$bound_c" 1)" \
		"$(ratio "$best" "$bound_d" 3)" "$(fmt "$bound_d" 1)"
}

main() {
	local -a sizes streams impls tools
	local round size st t n rot=0 total done_runs=0 ipv
	vs_parse_args "$@"
	bench_require_root
	need_tool iperf3 iperf3
	need_tool python3 python3
	have taskset || die "taskset not found: install util-linux"
	need_binaries a1_server a1_client a2_server a2_client a3_server a3_client
	if bench_perf_works; then PERF_OK=1; else err "perf stat does not work here: CPU columns will be NA (install linux-perf)"; fi
	read -r -a sizes <<<"${V_SIZES//,/ }"
	read -r -a streams <<<"${V_STREAMS//,/ }"
	read -r -a impls <<<"${V_IMPLS//,/ }"
	if [[ -z $V_OUT ]]; then V_OUT=$(mktemp -d "${TMPDIR:-/tmp}/vs_iperf3.XXXXXX"); fi
	mkdir -p "$V_OUT" || die "cannot create $V_OUT"
	RAW_CSV=$V_OUT/runs.csv
	printf 'round,tool,size,streams,status,gbps,bytes_sent,send_task_clock_ms,send_ns_per_byte,recv_task_clock_ms,recv_ns_per_byte,wire_bytes_per_packet,reason\n' >"$RAW_CSV"
	install_traps
	bench_cpus "$V_PIN"
	bench_link
	total=$((${#sizes[@]} * ${#streams[@]} * (${#impls[@]} + 1) * V_ROUNDS))
	err "$total runs; raw files in $V_OUT"

	tools=("${impls[@]}" iperf3)
	n=${#tools[@]}
	for ((round = 1; round <= V_ROUNDS; round++)); do
		for size in "${sizes[@]}"; do
			for st in "${streams[@]}"; do
				local j
				for ((j = 0; j < n; j++)); do
					t=${tools[(j + rot) % n]}
					if [[ $t == iperf3 ]]; then run_iperf3 "$size" "$st" "$round"; else run_ours "$t" "$size" "$st" "$round"; fi
					done_runs=$((done_runs + 1))
				done
				rot=$((rot + 1))
			done
		done
		err "round $round/$V_ROUNDS done ($done_runs/$total runs)"
	done
	cleanup

	ipv=$(iperf3 --version 2>/dev/null | awk 'NR == 1 { print $2 }')
	printf '## copybench vs iperf3 %s\n\n' "$ipv"
	machine_facts
	printf '\ncommand: bench/vs_iperf3.sh %s\n' "$*"
	printf 'link: %s, mtu %s; sender on CPU %s, receiver on CPU %s (--pin %s); %s s measured after %s s warm-up per run; %s rounds, tool order rotating\n' \
		"$([[ $NO_NETNS == 1 ]] && echo 'loopback' || echo 'veth pair between two namespaces')" "$LINK_MTU" \
		"$SEND_CPU" "$RECV_CPU" "$V_PIN" "$V_DURATION" "$V_WARMUP" "$V_ROUNDS"
	printf 'sender: our aN_server / iperf3 -c (no -R); receiver read size = message size (iperf3 -l; our client: one message per recvmsg).\n'
	if [[ $(printf '%s\n' "$ipv" 3.16 | sort -V | awk 'NR == 1') != 3.16 ]]; then
		printf 'iperf3 %s is single-threaded: -P N runs all streams in one thread; our -t N uses one sender thread per connection (all pinned to the same CPU).\n' "$ipv"
	fi
	print_tables
	memcpy_line
	printf '\nraw: %s (runs.csv, per-run JSON/perf/stderr); %d failed runs\n' "$V_OUT" "$FAILED"
	((FAILED == 0))
}

main "$@"
