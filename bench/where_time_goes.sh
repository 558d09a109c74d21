#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/where_time_goes.sh — where the sending process's CPU time goes, per strategy and
# message size, without a PMU.
#
# On one veth namespace pair (the driver's setup_link), each sender (a1, a2, a3 servers,
# and iperf3's client as a reference) runs under `perf record -g -e cpu-clock` (a software
# clock: works in a VM without hardware counters), the receiver pinned to another CPU. Every
# sample's call chain is put in one category, checked in this order:
#   a3 deferred copy     skb_copy_ubufs: the kernel copying zero-copy pages after all
#   softirq receive      net_rx_action, process_backlog, handle_softirqs: on one host the
#                        packets a send puts on the veth are received (and ACKs processed)
#                        in softirq, mostly right inside the sender's own system call
#   a3 completions       reading MSG_ERRQUEUE (ip_recv_error / sock_recv_errqueue)
#   a3 page pinning      building zero-copy skbs (zerocopy_sg_from_iter, pin/get_user_pages)
#   send: copy to skb    _copy_from_iter / copy_user* under tcp_sendmsg
#   send: TCP/IP rest    the rest of tcp_sendmsg (sendmsg, sendto or write): skb allocation,
#                        segmentation, headers, qdisc, veth transmit, socket lock
#   wait (poll/select)   poll, ppoll, select, pselect
#   other syscalls       recv (our stop check every 1 MiB), accept, exit, ...
#   user: memcpy         user-space memcpy/memmove (a1's staging copy)
#   user: other          the rest of user space (our loop, iperf3's loop, libc wrappers)
#   kernel: other        scheduling, interrupts, page faults outside the above
# The table gives each category's share and its CPU time per message (ns), i.e. samples x
# the sampling period / messages sent. Caveat: without a PMU perf samples on a timer, which
# only fires where interrupts are enabled; time in interrupts-off sections is charged to
# the place that re-enabled them (often _raw_spin_unlock_irqrestore): the call chain, and so
# the category, is still right, the leaf symbol may not be.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly DEF_SIZES="64,64K" DEF_TOOLS="a1,a2,a3,iperf3" DEF_DURATION=2 DEF_FREQ=4999
W_SIZES=$DEF_SIZES W_TOOLS=$DEF_TOOLS W_DURATION=$DEF_DURATION W_OUT="" W_PIN=split
MTU=$DEFAULT_MTU NO_NETNS=0

wt_usage() {
	cat <<EOF
Usage: sudo bench/where_time_goes.sh [options]

Where each sender's CPU time goes (perf record -g -e cpu-clock, call chains sorted into
categories: send copy, rest of the send path, softirq receive, a3's pinning, completions
and deferred copy, user space ...), as a share and as ns per message.

  --sizes LIST     message sizes (= iperf3 -l)                 (default: $DEF_SIZES)
  --tools LIST     from a1 a2 a3 iperf3                        (default: $DEF_TOOLS)
  --duration S     seconds per run, whole                       (default: $DEF_DURATION)
  --pin MODE       split (sender CPU 0, receiver CPU 1) or same (default: split)
  --mtu N          veth MTU, 68..65535                          (default: $DEFAULT_MTU)
  --no-netns       loopback instead of a veth pair
  --out DIR        keep perf.data and outputs in DIR (default: a new temporary directory)
  -h, --help       this text

Needs root, perf (linux-perf) and, for the iperf3 column, iperf3.
Exit: 0 ok, 1 a run failed, 2 usage error.
EOF
}

wt_parse_args() {
	while (($# > 0)); do
		case $1 in
		-h | --help) wt_usage; exit 0 ;;
		--sizes) need_value "$1" $#; W_SIZES=$2; shift 2 ;;
		--tools) need_value "$1" $#; W_TOOLS=$2; shift 2 ;;
		--duration) need_value "$1" $#; W_DURATION=$2; shift 2 ;;
		--pin) need_value "$1" $#; W_PIN=$2; shift 2 ;;
		--mtu) need_value "$1" $#; MTU=$2; shift 2 ;;
		--out) need_value "$1" $#; W_OUT=$2; shift 2 ;;
		--no-netns) NO_NETNS=1; shift ;;
		*) die_usage "unknown option '$1'" ;;
		esac
	done
	local t
	check_size_list --sizes "$W_SIZES"
	[[ -n $W_TOOLS ]] || die_usage "--tools: empty list"
	for t in ${W_TOOLS//,/ }; do
		case $t in a1 | a2 | a3 | iperf3) ;; *) die_usage "--tools: unknown tool '$t' (a1 a2 a3 iperf3)" ;; esac
	done
	check_int_seconds --duration "$W_DURATION" 1
	case $W_PIN in split | same) ;; *) die_usage "--pin: '$W_PIN' is not split or same" ;; esac
	if ! is_uint "$MTU" || ((10#$MTU < 68 || 10#$MTU > 65535)); then
		die_usage "--mtu: bad number '$MTU' (68 .. 65535)"
	fi
}

# classify PERF_DATA: "category<TAB>samples" lines from the call chains of every sample.
classify() {
	perf_chains "$1" | awk -F'\t' '
		{
			kernel = $2; leaf = $3; chain = $4
			if (chain ~ / skb_copy_ubufs /) c = "a3 deferred copy"
			else if (chain ~ / (net_rx_action|process_backlog|__netif_receive_skb[a-z_]*|handle_softirqs|__do_softirq|do_softirq) /) c = "softirq receive"
			else if (chain ~ / (ip_recv_error|ipv6_recv_error|sock_recv_errqueue) /) c = "a3 completions"
			else if (chain ~ / ([a-z_]*zerocopy_sg_from_iter|pin_user_pages[a-z_]*|get_user_pages[a-z_]*|iov_iter_get_pages[a-z0-9_]*|iov_iter_extract_pages|skb_zerocopy_iter_stream|msg_zerocopy_realloc) /) c = "a3 page pinning"
			else if (chain ~ / (tcp_sendmsg|tcp_sendmsg_locked) / && chain ~ / (_copy_from_iter|copy_user_[a-z_]*|rep_movs_alternative|__copy_user_nocache|copy_from_user[a-z_]*|skb_do_copy_data_nocache) /) c = "send: copy to skb"
			else if (chain ~ / (tcp_sendmsg|tcp_sendmsg_locked|__sys_sendmsg|__sys_sendto|ksys_write) /) c = "send: TCP/IP rest"
			else if (chain ~ / (__x64_sys_poll|__x64_sys_ppoll|__x64_sys_select|__x64_sys_pselect6) /) c = "wait (poll/select)"
			else if (chain ~ / (do_syscall_64|entry_SYSCALL_64[a-z_]*) /) c = "other syscalls"
			else if (kernel) c = "kernel: other"
			else if (leaf ~ /^(__)?(memcpy|memmove|__memmove_[a-z0-9_]*|__memcpy_[a-z0-9_]*)/) c = "user: memcpy"
			else c = "user: other"
			n[c]++
		}
		END { for (c in n) printf "%s\t%d\n", c, n[c] }'
}

readonly -a CATS=("send: copy to skb" "send: TCP/IP rest" "softirq receive" "a3 page pinning"
	"a3 completions" "a3 deferred copy" "wait (poll/select)" "other syscalls" "user: memcpy"
	"user: other" "kernel: other")

declare -A SHARE=() NSMSG=() TOTAL_NS=()

# profile_one TOOL SIZE
profile_one() {
	local tool=$1 size=$2 base port srv cli rc=0 msgs cat cnt total=0 bytes
	local -A counts=()
	base="$W_OUT/$tool-$size"
	next_port
	port=$BENCH_PORT
	if [[ $tool == iperf3 ]]; then
		spawn_listening srv "$port" $((W_DURATION + 30)) "$CLI_NS" "$base.rcv.out" "$base.rcv.err" \
			iperf3 -s -1 -B "$CLI_IP" -p "$port" -A "$RECV_CPU" ||
			{ err "$tool $size: iperf3 -s not listening"; return 1; }
		spawn cli $((W_DURATION + 15)) "$SRV_NS" "$base.json" "$base.err" \
			perf record -q -g -e cpu-clock -F "$DEF_FREQ" -o "$base.perf.data" -- \
			iperf3 -c "$CLI_IP" -p "$port" -l "$(size_bytes "$size")" -t "$W_DURATION" -A "$SEND_CPU" -J
		reap "$cli" || rc=$?
		reap_within "$srv" 5 || true
		read -r _ bytes _ <<<"$(iperf3_fields "$base.json")"
		[[ $bytes =~ ^[0-9]+$ ]] || { err "$tool $size: no iperf3 result (exit $rc)"; return 1; }
		msgs=$((bytes / $(size_bytes "$size")))
	else
		spawn_listening srv "$port" $((W_DURATION + 30)) "$SRV_NS" "$base.json" "$base.err" \
			perf record -q -g -e cpu-clock -F "$DEF_FREQ" -o "$base.perf.data" -- \
			"$BENCH_TOP/${tool}_server" -p "$port" -B "$SRV_IP" -n 1 --json -A "$SEND_CPU" ||
			{ err "$tool $size: server not listening"; return 1; }
		spawn cli $((W_DURATION + 15)) "$CLI_NS" "$base.cli.json" "$base.cli.err" \
			"$BENCH_TOP/${tool}_client" -H "$SRV_IP" -p "$port" -s "$size" -d "$W_DURATION" \
			--warmup 0 --json -A "$RECV_CPU"
		reap "$cli" || rc=$?
		reap_within "$srv" 10 || true
		SRV=()
		load_json SRV "$base.json" || true
		msgs=${SRV[messages_sent]-}
		[[ $msgs =~ ^[0-9]+$ && $msgs -gt 0 && $rc == 0 ]] || { err "$tool $size: no server result (client exit $rc)"; return 1; }
	fi
	while IFS=$'\t' read -r cat cnt; do
		[[ -n $cat ]] || continue
		counts[$cat]=$cnt
		total=$((total + cnt))
	done < <(classify "$base.perf.data")
	((total > 0)) || { err "$tool $size: perf recorded no sample"; return 1; }
	for cat in "${CATS[@]}"; do
		cnt=${counts[$cat]-0}
		SHARE[$tool|$size|$cat]=$(awk -v c="$cnt" -v t="$total" 'BEGIN { printf "%.1f", 100 * c / t }')
		NSMSG[$tool|$size|$cat]=$(awk -v c="$cnt" -v f="$DEF_FREQ" -v m="$msgs" 'BEGIN { printf "%.0f", c * 1e9 / f / m }')
	done
	TOTAL_NS[$tool|$size]=$(awk -v c="$total" -v f="$DEF_FREQ" -v m="$msgs" 'BEGIN { printf "%.0f", c * 1e9 / f / m }')
	err "$tool $size: $total samples, $msgs messages, $(fmt "${TOTAL_NS[$tool|$size]}" 0) ns of sender CPU per message"
}

main() {
	local size tool cat row hdr sep failed=0
	local -a tools
	wt_parse_args "$@"
	bench_require_root
	need_tool perf linux-perf
	if [[ ,$W_TOOLS, == *,iperf3,* ]]; then need_tool iperf3 iperf3; need_tool python3 python3; fi
	need_binaries a1_server a1_client a2_server a2_client a3_server a3_client
	bench_perf_works || die "perf stat does not work here (install linux-perf; a container may forbid perf_event_open)"
	read -r -a tools <<<"${W_TOOLS//,/ }"
	if [[ -z $W_OUT ]]; then W_OUT=$(mktemp -d "${TMPDIR:-/tmp}/where_time_goes.XXXXXX"); fi
	mkdir -p "$W_OUT" || die "cannot create $W_OUT"
	install_traps
	bench_cpus "$W_PIN"
	bench_link
	for size in ${W_SIZES//,/ }; do
		for tool in "${tools[@]}"; do
			profile_one "$tool" "$size" || failed=1
		done
	done
	cleanup

	printf '## Where the sender'"'"'s CPU time goes (perf record -g -e cpu-clock, %s Hz)\n\n' "$DEF_FREQ"
	machine_facts
	printf '\ncommand: bench/where_time_goes.sh %s\n' "$*"
	printf 'link: %s, mtu %s; sender on CPU %s, receiver on CPU %s; %s s per run; one connection\n' \
		"$([[ $NO_NETNS == 1 ]] && echo loopback || echo 'veth pair between two namespaces')" "$LINK_MTU" \
		"$SEND_CPU" "$RECV_CPU" "$W_DURATION"
	for size in ${W_SIZES//,/ }; do
		printf '\n### %s-byte messages: share of the sender'"'"'s samples (ns per message)\n\n' "$size"
		hdr="| category |" sep="|---|"
		for tool in "${tools[@]}"; do hdr+=" $tool |"; sep+="---|"; done
		printf '%s\n%s\n' "$hdr" "$sep"
		for cat in "${CATS[@]}"; do
			row="| $cat |"
			for tool in "${tools[@]}"; do
				if [[ -n ${SHARE[$tool|$size|$cat]-} ]]; then
					row+=" ${SHARE[$tool|$size|$cat]}% (${NSMSG[$tool|$size|$cat]}) |"
				else
					row+=" NA |"
				fi
			done
			printf '%s\n' "$row"
		done
		row="| **total ns per message** |"
		for tool in "${tools[@]}"; do row+=" ${TOTAL_NS[$tool|$size]-NA} |"; done
		printf '%s\n' "$row"
	done
	printf '\nraw: %s (perf.data per run: perf report -i FILE --no-children)\n' "$W_OUT"
	((failed == 0))
}

main "$@"
