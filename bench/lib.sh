# shellcheck shell=bash source-path=SCRIPTDIR
# shellcheck disable=SC2034 # SRV_NS, SEND_CPU ... are set here for the scripts that source this file
# bench/lib.sh — what the bench scripts share (sourced, not run).
#
# It sources run_experiments.sh (whose main runs only when executed) so that the namespace
# pair, the traps, the process-group registry and cleanup are the driver's own code: one
# piece of code per idea. From the driver the bench scripts use: err, die, die_usage, have,
# setup_link (NS_S/NS_C, SRV_ADDR), install_traps/cleanup (PGROUPS, NETNS_CREATED),
# stop_group, unregister_pg, spawn, reap, reap_within, wait_listen, wait_until, first_cpus,
# parse_perf, perf_chains, load_json, size_bytes, is_uint, cell, last_line (BENCH_DRIVER_FUNCS;
# tests/test_bench.sh checks they exist, so a change of the driver breaks a test, not a
# benchmark). Must be sourced at the top level
# (the driver declares global arrays).
#
# What this file adds: option checks shared by the bench scripts, tool checks that install
# with apt-get or say what to install, starting a server and waiting until it listens
# (spawn_listening), and statistics (median, min, max) for the tables.

readonly -a BENCH_DRIVER_FUNCS=(err die die_usage have setup_link install_traps cleanup stop_group
	unregister_pg spawn reap reap_within wait_listen wait_until first_cpus parse_perf load_json
	size_bytes is_uint cell last_line perf_chains)
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TOP=$(dirname "$BENCH_DIR")
readonly BENCH_DIR BENCH_TOP
# shellcheck source=../run_experiments.sh
source "$BENCH_TOP/run_experiments.sh"

# ---------------------------------------------------------------------------------------
# Options.

# need_value OPT ARGC: die_usage unless OPT has a value (ARGC = arguments left, OPT included).
need_value() { (($2 >= 2)) || die_usage "option $1 needs a value"; }

# check_rounds N, check_int_seconds OPT S MIN: validate or exit 2.
check_rounds() {
	if ! is_uint "$1" || ((10#$1 < 1 || 10#$1 > 100)); then
		die_usage "--rounds: bad number '$1' (1 .. 100)"
	fi
}
check_int_seconds() {
	if ! is_uint "$2" || ((10#$2 < $3 || 10#$2 > 3600)); then
		die_usage "$1: bad number of seconds '$2' (whole seconds, $3 .. 3600)"
	fi
}

# check_size_list OPT LIST: every entry a message size of 64 .. 64M (K/M suffixes).
check_size_list() {
	local s b
	[[ -n $2 ]] || die_usage "$1: empty list"
	for s in ${2//,/ }; do
		if ! b=$(size_bytes "$s") || ((b < 64 || b > 64 * 1024 * 1024)); then
			die_usage "$1: bad message size '$s' (bytes with optional K/M, 64 .. 64M)"
		fi
	done
}

# ---------------------------------------------------------------------------------------
# Tools.

# bench_perf_works: 'perf stat -e task-clock' (a software event: no PMU needed) runs here.
bench_perf_works() { have perf && perf stat -x, -o /dev/null -e task-clock -- true >/dev/null 2>&1; }

# bench_require_root: namespaces and perf need root; say so in one line (exit 1).
bench_require_root() {
	((EUID == 0)) || die "must run as root (network namespaces, perf): sudo bench/$PROG ... (--help works without root)"
}

# need_tool TOOL PACKAGE: TOOL on PATH, installing PACKAGE with apt-get when root and
# apt-get exist; otherwise exit 1 saying what to install.
need_tool() {
	local tool=$1 pkg=$2
	have "$tool" && return 0
	if ((EUID == 0)) && have apt-get; then
		err "$tool not found: installing $pkg with apt-get"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg" >&2 ||
			{ DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg" >&2; } ||
			true
		have "$tool" && return 0
	fi
	die "$tool not found: install it (Debian/Ubuntu: apt-get install $pkg)"
}

# need_binaries NAME...: the suite's binaries, built with make when missing.
need_binaries() {
	local b missing=()
	for b in "$@"; do [[ -x $BENCH_TOP/$b ]] || missing+=("$b"); done
	((${#missing[@]} == 0)) && return 0
	have make || die "missing ${missing[*]} and no make: install gcc libc6-dev make, then run make"
	make -C "$BENCH_TOP" "${missing[@]}" >&2 || die "make ${missing[*]} failed"
}

# ---------------------------------------------------------------------------------------
# Processes: spawn, reap, reap_within, wait_listen and stop_group are the driver's (every
# process under timeout(1) in its own process group, recorded in PGROUPS, so that cleanup
# stops exactly what this script started).

# spawn_listening VAR PORT LIMIT NS OUT ERR CMD...: spawn a server and wait
# (bounded) until it listens on PORT in NS; when it does not, stop it and return 1.
spawn_listening() {
	local -n _srv=$1
	local port=$2
	shift 2
	spawn _srv "$@"
	wait_listen "$2" "$port" "$_srv" && return 0
	stop_group "$_srv"
	return 1
}

# next_port: a fresh port for every run (no TIME_WAIT from the previous one matters).
BENCH_PORT=0
next_port() {
	((BENCH_PORT != 0)) || BENCH_PORT=$((20000 + $$ % 20000))
	BENCH_PORT=$((BENCH_PORT + 1))
	((BENCH_PORT < 65000)) || BENCH_PORT=20001
}

# bench_link: the driver's veth pair (NO_NETNS=0) or loopback; sets SRV_NS, CLI_NS, SRV_IP
# and CLI_IP ('' namespaces = this one). The driver's setup_link gives the server side
# .1 and the client side .2 of one /30.
bench_link() {
	setup_link
	if ((NO_NETNS)); then
		SRV_NS="" CLI_NS="" SRV_IP=127.0.0.1 CLI_IP=127.0.0.1
	else
		SRV_NS=$NS_S CLI_NS=$NS_C SRV_IP=$SRV_ADDR CLI_IP=${SRV_ADDR%.*}.2
	fi
}

# bench_cpus MODE: SEND_CPU and RECV_CPU for --pin split|same (first allowed CPUs).
bench_cpus() {
	local -a cpus
	mapfile -t cpus < <(first_cpus 2)
	((${#cpus[@]} >= 1)) || die "no CPU found in this process's affinity list"
	SEND_CPU=${cpus[0]}
	if [[ $1 == split ]]; then
		((${#cpus[@]} >= 2)) || die "--pin split needs two CPUs; this process may use only CPU ${cpus[0]} (use --pin same)"
		RECV_CPU=${cpus[1]}
	else
		RECV_CPU=${cpus[0]}
	fi
}

# veth_tx: "bytes packets" sent so far by the server side's veth (the data direction of
# every tool here), or "NA NA" over loopback. A GSO/TSO packet counts once, so bytes per
# packet shows how many writes TCP merged into one packet.
veth_tx() {
	if ((NO_NETNS)); then echo "NA NA"; return; fi
	ip -n "$SRV_NS" -s link show veth0 2>/dev/null | awk '/TX:/ { getline; b = $1; p = $2 } END { print (p == "" ? "NA NA" : b " " p) }'
}

# per_packet B0 P0 B1 P1: bytes per packet between two veth_tx readings, or NA.
per_packet() {
	awk -v b0="$1" -v p0="$2" -v b1="$3" -v p1="$4" 'BEGIN {
		if (b0 !~ /^[0-9]+$/ || b1 !~ /^[0-9]+$/ || p1 - p0 <= 0) { print "NA"; exit }
		printf "%.0f\n", (b1 - b0) / (p1 - p0) }'
}

# machine_facts: one line each for CPU model, cores, kernel, date (for the README tables).
machine_facts() {
	local model
	model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	printf 'machine: %s, %s CPUs online, kernel %s, %s\n' "${model:-unknown CPU}" \
		"$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')" "$(uname -r)" "$(date -u '+%Y-%m-%d %H:%M UTC')"
}

# ---------------------------------------------------------------------------------------
# Statistics over whitespace-separated numbers ('NA' entries are ignored).

# stats VALUES...: prints "median min max n" (NA NA NA 0 when no number).
stats() {
	printf '%s\n' "$@" | awk '
		$1 ~ /^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$/ { v[n++] = $1 + 0 }
		END {
			if (n == 0) { print "NA NA NA 0"; exit }
			for (i = 1; i < n; i++) { x = v[i]; for (j = i - 1; j >= 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
			med = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf "%.6g %.6g %.6g %d\n", med, v[0], v[n - 1], n
		}'
}

# cellv ARRAY KEY DIGITS: "median (min-max)" of the numbers in ARRAY[KEY], or NA.
cellv() {
	local -n _a=$1
	local -a s
	# shellcheck disable=SC2086 # the entry is a blank-separated list of numbers
	read -r -a s <<<"$(stats ${_a[$2]-})"
	if ((s[3] == 0)); then echo "NA"; return; fi
	printf '%s (%s-%s)\n' "$(fmt "${s[0]}" "$3")" "$(fmt "${s[1]}" "$3")" "$(fmt "${s[2]}" "$3")"
}

# medianv ARRAY KEY: the median of the numbers in ARRAY[KEY], or NA.
medianv() {
	local -n _m=$1
	local -a s
	# shellcheck disable=SC2086 # as above
	read -r -a s <<<"$(stats ${_m[$2]-})"
	echo "${s[0]}"
}

# ratio A B [DIGITS]: A / B, or NA.
ratio() {
	awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
		re = "^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$"
		if (a !~ re || b !~ re || b + 0 == 0) { print "NA"; exit }
		printf "%.*f\n", d, a / b
	}'
}

# fmt NUM DIGITS: NUM with DIGITS decimals, or NA.
fmt() {
	awk -v x="$1" -v d="$2" 'BEGIN {
		if (x !~ /^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$/) { print "NA"; exit }
		printf "%.*f\n", d, x
	}'
}

# task_clock_ms FILE: the task-clock (msec) of one 'perf stat -x, -e task-clock' file, or NA.
task_clock_ms() {
	local row i
	if [[ -s $1 ]] && row=$(parse_perf "$1" 2>/dev/null); then
		for i in "${!PERF_COLS[@]}"; do
			[[ ${PERF_COLS[i]} == task_clock ]] && break
		done
		printf '%s\n' "$row" | cut -d, -f$((i + 1))
	else
		echo NA
	fi
}

# ---------------------------------------------------------------------------------------
# Other tools' output.

# iperf3_fields FILE: "gbps bytes_total" from iperf3 -J: end.sum_sent (omit excluded) and
# every byte sent including the omitted intervals; "NA NA why" on error.
iperf3_fields() {
	python3 - "$1" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
    if d.get("error"):
        print("NA NA", d["error"].replace(" ", "_")[:80]); sys.exit()
    s = d["end"]["sum_sent"]
    omitted = sum(i["sum"]["bytes"] for i in d.get("intervals", []) if i["sum"].get("omitted"))
    print("%.6f %d" % (s["bits_per_second"] / 1e9, s["bytes"] + omitted))
except Exception as e:
    print("NA NA", ("bad_iperf3_json:" + type(e).__name__)[:80])
EOF
}

# sockperf_pct FILE Q: the "percentile Q" line of sockperf's output (µs), or NA.
sockperf_pct() {
	sed 's/\x1b\[[0-9;]*m//g' "$1" 2>/dev/null |
		awk -v q="$2" '/percentile/ && $0 ~ ("percentile " q " =") { v = $NF } END { print (v == "" ? "NA" : v) }'
}
