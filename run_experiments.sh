#!/usr/bin/env bash
# run_experiments.sh — the copybench sweep driver.
#
# One command runs every configuration (strategy x message size x threads x repeat) of the
# six copybench binaries in two network namespaces joined by a veth pair (or over loopback
# with --no-netns), with `perf stat -x,` around the server — the sender, where the copies
# under test happen — and around the client, and appends one CSV row per finished run.
# The CSV columns (with units) and cell conventions are documented in docs/csv-and-json.md, section
# "CSV columns"; build_columns() below is the list itself. Raw perf output and each binary's
# JSON and stderr are kept per run under results/<run_id>/ for audit.
#
# Safety contract: the traps (EXIT, INT, TERM) are installed before the first change to the
# system. cleanup() kills only the process groups this script started (recorded by PGID,
# never by name) and deletes only the namespaces it created (recorded by name); it is
# idempotent. Every wait is bounded.

set -euo pipefail
# Decimal points from printf/awk/perf must be '.', and no locale may add thousands separators.
export LC_ALL=C

PROG=${0##*/}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly PROG SCRIPT_DIR

# perf events, in the order of the CSV columns; the column name is the event in lower case
# with '-' turned into '_'.
readonly PERF_EVENTS="cycles,instructions,cache-references,cache-misses,L1-dcache-load-misses,LLC-load-misses,context-switches,cpu-migrations,page-faults,task-clock"
readonly -a PERF_COLS=(cycles instructions cache_references cache_misses l1_dcache_load_misses
	llc_load_misses context_switches cpu_migrations page_faults task_clock)

readonly -a DEFAULT_IMPLS=(a1 a2 a3)
readonly -a DEFAULT_SIZES=(64 1K 4K 16K 64K 256K 1M)
readonly -a DEFAULT_THREADS=(1 2 4 8)
# The first pass: six rounds, the smallest count for which a distribution-free 95% interval
# of a median of paired ratios exists (the sign test's 2 x 0.5^6 = 3.1% < 5%; cbstats.py's
# MIN_ROUNDS). Further rounds go where the intervals are still too wide to decide at +-DEFAULT_PRECISION,
# within the budget (docs/sweep.md: "Rounds where the question needs them").
readonly DEFAULT_REPEATS=6 DEFAULT_DURATION_S=0.5 DEFAULT_WARMUP_S=0.05
# Run length and warm-up from bench/noise.sh (docs/sweep.md: "Run length"): once placement and
# steering had removed the reordering, the per-round SD of log(a2/a1) barely falls with a
# longer window (it is run-to-run, not within-run, noise), so short runs buy the most
# rounds, and precision, per minute: SD^2 x seconds per run, 1-thread points, 12 rounds:
# 0.25 s + 0.1 s: 0.040^2 x 0.46 s; 0.5 s + 0.05 s: 0.032^2 x 0.66 s; 1 s + 0.3 s:
# 0.043^2 x 1.41 s.
readonly DEFAULT_PRECISION=0.05
# The standard job's budget for its runs (build, namespaces and plots come on top, about a
# minute here): the whole job stays within about 20 minutes on the reference machine.
readonly DEFAULT_BUDGET_MIN=18
# The standard job's profile rounds (perf record -a -g around the client, as --profile):
# these stream sizes at 1 thread, every strategy, as many rounds as the first pass.
readonly -a DEFAULT_PROFILE_SIZES=(4K 64K 1M)
# Placement: server (sender) threads on the first half of the allowed CPUs, client
# (receiver) threads on the second half; steering: the receiving veth's RPS sends one
# flow's packets to one CPU's backlog (bench/noise.sh measured both; docs/sweep.md: "Placement and steering").
readonly DEFAULT_PIN=split DEFAULT_STEER=both
# Idle polling (idle CPUs spin instead of halting) is off by default: on a 2-vCPU KVM guest
# it lowered the spread of the paired ratios by about a third but raised the CPU cost of a
# byte by about a third (a never-halted vCPU slows the other: shared cores?), and that
# cost is the quantity under test; docs/sweep.md, "Idle polling".
readonly DEFAULT_IDLE_POLL=off
# Machine drift: before the first run, tools/cb_drift copies memory on the placement's CPUs
# in this many back-to-back windows as long as a run's measured part (--quick: the fewest
# that give a spread), so the report can say how steady the machine itself was: the floor
# under any pair of runs (docs/sweep.md, "Machine drift").
readonly DEFAULT_DRIFT_WINDOWS=8 QUICK_DRIFT_WINDOWS=3
# The default job's request-response rounds: latency vs size at 1 thread, and latency vs
# thread count at one size (RR_THREADS_SIZE; its 1-thread point is in the size axis).
readonly -a DEFAULT_RR_SIZES=(64 1K 16K 64K 1M)
readonly -a DEFAULT_RR_THREADS=(1 2 4 8)
readonly DEFAULT_RR_SIZE=16K
readonly -a DEFAULT_ENGINES=(syscall) DEFAULT_RX=(copy)
readonly DEFAULT_BUFFERS=1
# --rx zerocopy maps only whole pages: an IPv4 MSS of 4096 needs a veth MTU of 4148.
readonly ZC_RX_MTU=4148
readonly -a QUICK_IMPLS=(a1 a2 a3)
readonly -a QUICK_SIZES=(1K 64K)
readonly -a QUICK_THREADS=(1 2)
readonly QUICK_REPEATS=1 QUICK_DURATION_S=1 QUICK_WARMUP_S=0.2
readonly DEFAULT_MTU=1500

# What one run costs beyond its duration + warmup (namespace exec, perf start-up and its
# FIFO handshakes, server readiness, a3's pool set-up and completion drain, teardown, the
# row). Measured on the reference machine (2-vCPU KVM guest, bench/noise.sh): 144 runs of
# 0.5 s + 0.05 s took 95 s (0.66 s each), 120 runs of 1 s + 0.3 s 171 s (1.43 s each):
# 0.11-0.13 s beyond the window; 0.15 s keeps a margin.
readonly RUN_OVERHEAD_S=0.15
readonly POLL_S=0.05          # every bounded poll sleeps this long per try
# Server readiness is polled finer: a server listens within a few ms, and a 50 ms sleep
# before the first hit cost every run 50 ms (4% of a --quick sweep, bench/sweep_overhead.sh).
readonly READY_POLL_S=0.01
readonly READY_TIMEOUT_S=5    # server readiness
readonly EXIT_TIMEOUT_S=5     # server exit after the client finished
readonly STOP_GRACE_S=2       # SIGTERM grace before SIGKILL
readonly INTERVAL_S=0.1       # --interval of both binaries: per-interval samples, stability
readonly CLIENT_SLACK_S=15    # client timeout = duration + warmup + this
readonly SERVER_SLACK_S=30    # server timeout = duration + warmup + this (outlives the client)

# ---------------------------------------------------------------------------------------
# State. Registries first: cleanup() relies on them.
NETNS_CREATED=()   # namespaces this run created (names)
PGROUPS=()         # process groups this run started and has not reaped (leader PIDs)
CLEANED=0

# Options (resolved in resolve_options).
IMPLS=() SIZES=() THREADS=() MODES=() ENGINES=() RXS=() RR_SIZES=() RR_THREADS=()
# MODE_SET: standard (stream grid + rr rounds, the default job), or the --mode given
# (stream, rr, both: every mode over the whole grid).
MODE_SET="" RR_SIZE="" BUFFERS=""
REPEATS="" DURATION_S="" WARMUP_S="" MTU="" OUT="" OUT_DEFAULT=0 PIN="" STEER="" IDLE_POLL="" QUICK=0 NO_PLOT=0 NO_NETNS=0
# SEED: the plan's random orders come from it; BUDGET_S: seconds the runs may take ('' =
# the first pass only); PRECISION: the +-P, a fraction; PROFILE_SIZES: the profile rounds'
# sizes (1 thread, stream; none with --profile, which profiles every run).
SEED="" BUDGET_S="" PRECISION="" PROFILE_SIZES=()
PER_FIELD=0 VERIFY=0 PROFILE=0 DRY_RUN=0 INTERACTIVE=0 NO_BUILD=0 ACTION=sweep PARSE_FILE=""
# OPT_*: options as given; unset when not given (an empty value given is an error).
unset OPT_IMPLS OPT_SIZES OPT_THREADS OPT_REPEATS OPT_DURATION OPT_WARMUP OPT_ENGINES OPT_RX
unset OPT_RR_SIZES OPT_RR_THREADS OPT_RR_SIZE OPT_BUFFERS OPT_SEED OPT_BUDGET OPT_PRECISION OPT_PROFILE_SIZES
unset OPT_DRIFT_WINDOWS
# DRIFT_WINDOWS: the machine-drift probe's windows (0: none)
DRIFT_WINDOWS=""

# Plan (parallel arrays, one entry per run, in execution order). A group is one point's
# strategies in one round, back to back: PLAN_SLOT is a run's position in its group (1..k),
# PLAN_PASS first or extra, PLAN_PROFILE 1 for a profiled run.
PLAN_MODE=() PLAN_IMPL=() PLAN_SIZE=() PLAN_THREADS=() PLAN_REPEAT=() PLAN_ENGINE=() PLAN_RX=()
PLAN_SLOT=() PLAN_PASS=() PLAN_PROFILE=()
PLAN_SKIPPED=()   # combinations left out of the plan, and why (one line each)

# Per-sweep facts.
RUN_ID="" RAW_DIR="" NS_S="" NS_C="" SRV_ADDR="" LINK="" LINK_MTU="" USE_PERF=1 PORT_BASE=0
SRV_CPUS="" CLI_CPUS="" PLACEMENT=unpinned KERNEL="" CPU_MODEL="" PLOT_PY=""
# PERF_CTL=1: this perf has --control (>= 5.9), so each binary switches its counters on and
# off at its measured window's edges (--perf-ctl); 0: perf counts each process's whole
# life. FIFO_DIR: a private directory for the control FIFOs (removed by cleanup).
PERF_CTL=0 FIFO_DIR=""
CSV_COLS=() CSV_HEADER=""
declare -A CLI=() SRV=() ROW=()

# ---------------------------------------------------------------------------------------
err() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { err "$*"; exit 1; }
die_usage() { err "$* (see --help)"; exit 2; }

usage() {
	cat <<EOF
Usage: sudo ./$PROG [options]
       ./$PROG --parse-perf FILE
       ./$PROG --dry-run [options]
       sudo ./$PROG --cleanup

Runs the copybench sweep: for every strategy, message size and thread count (repeated,
interleaved), one server/client pair in two network namespaces joined by a veth pair, each
side under 'perf stat -x,' over its measured window; one CSV row per run; then plots with
plot_results.py.

Sweep:
  --impls LIST       strategies, from a1 a2 a3            (default: a1 a2 a3)
  --sizes LIST       message sizes, bytes with K/M/G      (default: ${DEFAULT_SIZES[*]})
  --threads LIST     client threads (connections)         (default: ${DEFAULT_THREADS[*]})
  --repeats N        rounds of the first pass, interleaved: every point once, then again
                     (default: $DEFAULT_REPEATS, the fewest for a distribution-free 95% interval
                     of a median); in every round a point's strategies run back to back, in an
                     order drawn from --seed
  --budget MINUTES   time for the runs (fractions allowed): after the first pass, extra rounds
                     go to the points with a paired-ratio interval (any two strategies; stream:
                     throughput, rr: p50 round trip) still too wide to decide at +-P
                     (hi/lo > 1 + P, about +-P/2), widest first, until each is decisive or the
                     budget is spent; a run starts only while the budget lasts (default:
                     $DEFAULT_BUDGET_MIN for the standard job; otherwise none: the first pass only)
  --precision P      the +-P of --budget and of "the same within +-P", a fraction or a
                     percentage (default: $DEFAULT_PRECISION); a decisive interval either excludes 1
                     or lies within +-P; only its width decides, never its verdict
  --seed N           the plan's random orders, 0..2147483647 (default: drawn; every row and
                     the plan record it: --seed N repeats a plan)
  --duration S       measured seconds per run, fractions allowed (default: $DEFAULT_DURATION_S)
  --warmup S         seconds before measuring, excluded from the figures (default: $DEFAULT_WARMUP_S)
  --mode MODE        standard (default): the stream grid, and in the same rounds rr
                     (request-response) latency vs size at 1 thread (--rr-sizes) and vs
                     threads (--rr-threads) at one size (--rr-size);
                     stream, rr or both: those modes over the whole grid (default with
                     --quick, --sizes or --threads: stream)
  --rr-sizes LIST    standard job's rr sizes at 1 thread   (default: ${DEFAULT_RR_SIZES[*]})
  --rr-threads LIST  standard job's rr thread counts       (default: ${DEFAULT_RR_THREADS[*]})
  --rr-size SIZE     ... at this size                      (default: $DEFAULT_RR_SIZE)
  --engines LIST     how a2/a3 servers send, from syscall uring (io_uring) (default: syscall),
                     and a3's sendfile splice (from the page cache: a ring of messages,
                     sequence numbers modulo its length); a1 has no io_uring engine, a1 and
                     a2 no page-cache one: those pairs are skipped (the plan says so)
  --rx LIST          how clients receive, from copy zerocopy (TCP_ZEROCOPY_RECEIVE; stream
                     only: rr x zerocopy is skipped) discard (MSG_TRUNC: nothing copied,
                     only byte counts checked)            (default: copy)
  --buffers N        message buffers the senders rotate over, 1..4096 (default: 1)
  --per-field        A1 runs use its per-field variant (one send() per field)
  --verify           clients check every byte (costs CPU; sequence numbers are always checked)
  --profile          sample call chains on all CPUs over every run's window (perf record
                     -a -g -e cpu-clock) and split the CPU per byte copy by copy: prof_user_copy,
                     prof_send_copy, prof_zc_overhead, prof_deferred_copy, prof_recv_copy,
                     prof_stack, prof_user_other (ns/byte), prof_idle and prof_foreign
                     (shares: idle CPU, other processes' samples); needs perf
  --profile-sizes LIST  profile rounds: these stream sizes at 1 thread, every strategy, in
                     every first-pass round, each group right after the same point's plain
                     one; their rows carry prof_samples (a number) and stay out of the
                     comparisons (default: ${DEFAULT_PROFILE_SIZES[*]} in the standard job, else none;
                     'none': no profile rounds)
  --pin [split|same|unpinned]  where the threads run (the binaries' -A): split = server
                     (sender) threads on the first half of the allowed CPUs, client (receiver)
                     threads on the other half, more threads than CPUs round-robin (default,
                     and the value of a bare --pin; unpinned with --remote); same = both on
                     the first CPU; unpinned = the scheduler decides
  --steer off|data|both  RPS on the veth pair so that one flow's packets take one CPU's
                     backlog, in order (no spurious retransmissions): data = the data to the
                     client's CPUs; both = and the ACKs to the server's (default); off = none.
                     Devices of this run's namespaces only (loopback, --remote: off)
  --idle-poll on|off  on: idle CPUs spin instead of halting, so that no wake-up waits for a
                     halted (virtual) CPU: tools/cb_idle_poll, one SCHED_IDLE thread at nice 19
                     per CPU of the placement (all allowed CPUs unpinned), which any other
                     task preempts; its time is nice time, which the host CPU columns leave
                     out, and a profile counts it as idle. Less spread, but on the KVM guest
                     measured a byte cost about a third more CPU (docs/sweep.md, "Idle
                     polling") (default: off; this host only)
  --drift-windows N  before the first run, tools/cb_drift copies memory and makes system
                     calls on the placement's CPUs in N back-to-back windows as long as a run's
                     measured part (at most 60 s), then wakes a thread on another CPU for N
                     more: how steady this machine is by itself, with no traffic (the floor
                     under any pair of runs); recorded in every row (drift_*) and the report
                     (docs/sweep.md, "Machine drift"); 0: none, else 3..1000 (default:
                     $DEFAULT_DRIFT_WINDOWS, --quick $QUICK_DRIFT_WINDOWS; not counted in --budget; this host only)
  --quick            smoke sweep: a1 a2 a3, sizes 1K 64K, threads 1 2, 1 repeat, 1 s,
                     warmup 0.2 s (under a minute); explicit options override it
Network:
  --mtu N            veth MTU, 68..65535 (default: 1500, or $ZC_RX_MTU with --rx zerocopy: an MSS of
                     one page, which receive zero-copy needs; the kernel selftest uses 65535)
  --no-netns         run over loopback 127.0.0.1 in the current namespace
Two hosts (docs/two-hosts.md):
  --remote [USER@]HOST  the receiver (client) runs on HOST, reached over ssh (one
                     persistent connection, BatchMode: set up password-less login first);
                     the suite's tracked sources are copied there and built with make
  --remote-role R    what runs on HOST: receiver (default) or sender (the server)
  --ssh-option OPT   passed to ssh as -o OPT (repeatable), e.g. IdentityFile=KEY
  --ssh-port N       ssh port on HOST (default: ssh's)
  --remote-dir DIR   the directory on HOST (default: a new mktemp -d under /tmp); removed
                     at the end unless --keep-remote
  --keep-remote      leave the remote directory (sources, build) in place
  --remote-addr A    HOST's address on the link under test (default: the one ssh reached)
  --local-addr A     this side's address on it (default: the route's source to HOST)
Output:
  --out FILE         CSV file (default: results.csv). An existing file is never overwritten:
                     if its header is this version's, rows are appended under a new run_id;
                     if not, the run is refused (choose another --out). Raw perf output,
                     JSON and stderr of every run go to results/<run_id>/ beside FILE;
                     results/<run_id>/COMPLETE (the row count) is written when the sweep
                     ends: a directory without it is a killed run's.
  --no-plot          do not call plot_results.py at the end
  --no-build         do not run make first
Other:
  --dry-run          print the planned runs and the estimated time; change nothing
  --interactive      a small menu (on stdin) to choose strategies, sizes and threads and run
                     one experiment or the sweep
  --parse-perf FILE  print what the perf parser makes of one 'perf stat -x,' output file:
                     a CSV header and one row (the same code the sweep uses)
  --cleanup          only remove the namespaces that killed runs left behind (their
                     driver is dead and no process is in them; every sweep does this
                     first); never touches another live run's or anyone else's
  -h, --help         this text

Time: the default job runs for at most its budget, $DEFAULT_BUDGET_MIN minutes: a first pass of $DEFAULT_REPEATS rounds
(3 x ${#DEFAULT_SIZES[@]} x ${#DEFAULT_THREADS[@]} stream runs, 3 x 8 rr runs and 3 x ${#DEFAULT_PROFILE_SIZES[@]} profiled runs each, $DEFAULT_DURATION_S s + $DEFAULT_WARMUP_S s warmup
and about ${RUN_OVERHEAD_S} s overhead per run), then extra rounds where the intervals are still too wide to decide;
with the build and the plots about 20 minutes on a 2-vCPU KVM guest. --dry-run prints the
plan, the budget and the estimate for any option set.

Needs root (namespaces, perf), gcc/make, iproute2, perf and a Python with matplotlib; as
root on Debian/Ubuntu missing packages are installed with apt-get (only for a command that
is missing; CB_NO_APT=1: never, just say what to install). Without a working perf the sweep
still runs and the counter columns are NA. Progress goes to stderr, one line per run.
Exit status: 0 all runs ok, 1 a run failed or setup failed, 2 usage error,
130/143 interrupted (complete rows are kept).
EOF
}

# ---------------------------------------------------------------------------------------
# Validation helpers: print one line and return 1 on bad input (callers decide the exit).

is_uint() { [[ $1 =~ ^[0-9]+$ ]] && ((10#$1 <= 1000000000)); }
is_pos_num() { [[ $1 =~ ^([0-9]+([.][0-9]*)?|[.][0-9]+)$ ]] && awk -v x="$1" 'BEGIN { exit !(x > 0) }'; }
is_nonneg_num() { [[ $1 =~ ^([0-9]+([.][0-9]*)?|[.][0-9]+)$ ]]; }

# size_bytes SIZE: print SIZE in bytes (K/M/G are powers of 1024); return 1 if malformed.
size_bytes() {
	local s=$1 n mult=1
	[[ $s =~ ^([0-9]+)([kKmMgG]?)$ ]] || return 1
	n=$((10#${BASH_REMATCH[1]}))
	case ${BASH_REMATCH[2]} in
	k | K) mult=1024 ;;
	m | M) mult=$((1024 * 1024)) ;;
	g | G) mult=$((1024 * 1024 * 1024)) ;;
	esac
	((n <= 1024 * 1024 * 1024)) || return 1
	printf '%d\n' $((n * mult))
}

# split_list STRING: words separated by commas and/or blanks, one per line.
split_list() { printf '%s\n' "${1//,/ }" | tr -s ' \t' '\n' | sed '/^$/d'; }

# check_choice WHAT CHOICES VALUE...: every VALUE is one of the blank-separated CHOICES
# ("no WHAT given" / "unknown WHAT 'x' (choose from ...)" on stderr and 1 otherwise).
check_choice() {
	local what=$1 choices=$2 x
	shift 2
	[[ $# -gt 0 ]] || { err "no $what given (choose from $choices)"; return 1; }
	for x in "$@"; do
		[[ " $choices " == *" $x "* ]] || { err "unknown $what '$x' (choose from $choices)"; return 1; }
	done
}
check_impls() { check_choice strategy "a1 a2 a3" "$@"; }
check_sizes() {
	local x b
	[[ $# -gt 0 ]] || { err "no message size given"; return 1; }
	for x in "$@"; do
		if ! b=$(size_bytes "$x") || ((b < 64 || b > 64 * 1024 * 1024)); then
			err "bad message size '$x' (bytes with optional K/M/G, 64 .. 64M)"
			return 1
		fi
	done
}
check_engines() { check_choice engine "syscall uring sendfile splice" "$@"; }
check_rx() { check_choice "receive path" "copy zerocopy discard" "$@"; }
check_threads() {
	local x
	[[ $# -gt 0 ]] || { err "no thread count given"; return 1; }
	for x in "$@"; do
		if ! is_uint "$x" || ((10#$x < 1 || 10#$x > 1024)); then
			err "bad thread count '$x' (1 .. 1024)"
			return 1
		fi
	done
}

# ---------------------------------------------------------------------------------------
parse_args() {
	local opt val
	while (($# > 0)); do
		opt=$1
		val=""
		if [[ $opt == --*=* ]]; then
			val=${opt#*=}
			opt=${opt%%=*}
			set -- "$opt" "$val" "${@:2}"
		fi
		if remote_parse_opt "$@"; then shift "$REMOTE_SHIFT"; continue; fi
		case $opt in
		--impls | --sizes | --threads | --repeats | --duration | --warmup | --mtu | --out | --mode | --parse-perf | \
			--engines | --rx | --buffers | --rr-sizes | --rr-threads | --rr-size | --steer | --seed | --budget | \
			--precision | --profile-sizes | --idle-poll | --drift-windows)
			(($# >= 2)) || die_usage "option $opt needs a value"
			val=$2
			shift 2
			;;
		*) shift ;;
		esac
		case $opt in
		-h | --help) ACTION=help ;;
		--impls) OPT_IMPLS=$val ;;
		--sizes) OPT_SIZES=$val ;;
		--threads) OPT_THREADS=$val ;;
		--repeats) OPT_REPEATS=$val ;;
		--duration) OPT_DURATION=$val ;;
		--warmup) OPT_WARMUP=$val ;;
		--mtu) MTU=$val ;;
		--engines) OPT_ENGINES=$val ;;
		--rx) OPT_RX=$val ;;
		--buffers) OPT_BUFFERS=$val ;;
		--rr-sizes) OPT_RR_SIZES=$val ;;
		--rr-threads) OPT_RR_THREADS=$val ;;
		--rr-size) OPT_RR_SIZE=$val ;;
		--seed) OPT_SEED=$val ;;
		--budget) OPT_BUDGET=$val ;;
		--precision) OPT_PRECISION=$val ;;
		--profile-sizes) OPT_PROFILE_SIZES=$val ;;
		--drift-windows) OPT_DRIFT_WINDOWS=$val ;;
		--steer)
			case $val in off | data | both) STEER=$val ;; *) die_usage "--steer: unknown steering '$val' (off, data or both)" ;; esac
			;;
		--idle-poll)
			case $val in on | off) IDLE_POLL=$val ;; *) die_usage "--idle-poll: '$val' is not on or off" ;; esac
			;;
		--out) OUT=$val ;;
		--mode)
			MODE_SET=$val
			case $val in
			stream) MODES=(stream) ;;
			rr) MODES=(rr) ;;
			both) MODES=(stream rr) ;;
			standard) MODES=(stream rr) ;;
			*) die_usage "--mode: unknown mode '$val' (standard, stream, rr or both)" ;;
			esac
			;;
		--pin)
			PIN="split"
			# An optional value: the next word, unless it is an option.
			if (($# > 0)) && [[ $1 != -* ]]; then
				case $1 in
				split | same | unpinned) PIN=$1 ;;
				*) die_usage "--pin: unknown placement '$1' (split, same or unpinned)" ;;
				esac
				shift
			fi
			;;
		--quick) QUICK=1 ;;
		--no-netns) NO_NETNS=1 ;;
		--no-plot) NO_PLOT=1 ;;
		--no-build) NO_BUILD=1 ;;
		--per-field) PER_FIELD=1 ;;
		--verify) VERIFY=1 ;;
		--profile) PROFILE=1 ;;
		--dry-run) DRY_RUN=1 ;;
		--interactive) INTERACTIVE=1 ;;
		--cleanup) ACTION=cleanup ;;
		--parse-perf)
			ACTION=parse-perf
			PARSE_FILE=$val
			;;
		*) die_usage "unknown option '$opt'" ;;
		esac
	done
}

# resolve_options: defaults, --quick, then explicit options; validate everything.
resolve_options() {
	local -a list
	if ((QUICK)); then
		IMPLS=("${QUICK_IMPLS[@]}") SIZES=("${QUICK_SIZES[@]}") THREADS=("${QUICK_THREADS[@]}")
		REPEATS=$QUICK_REPEATS DURATION_S=$QUICK_DURATION_S WARMUP_S=$QUICK_WARMUP_S
		DRIFT_WINDOWS=$QUICK_DRIFT_WINDOWS
	else
		IMPLS=("${DEFAULT_IMPLS[@]}") SIZES=("${DEFAULT_SIZES[@]}") THREADS=("${DEFAULT_THREADS[@]}")
		REPEATS=$DEFAULT_REPEATS DURATION_S=$DEFAULT_DURATION_S WARMUP_S=$DEFAULT_WARMUP_S
		DRIFT_WINDOWS=$DEFAULT_DRIFT_WINDOWS
	fi
	if [[ -v OPT_IMPLS ]]; then
		mapfile -t list < <(split_list "$OPT_IMPLS")
		check_impls "${list[@]}" || exit 2
		IMPLS=("${list[@]}")
	fi
	if [[ -v OPT_SIZES ]]; then
		mapfile -t list < <(split_list "$OPT_SIZES")
		check_sizes "${list[@]}" || exit 2
		SIZES=("${list[@]}")
	fi
	if [[ -v OPT_THREADS ]]; then
		mapfile -t list < <(split_list "$OPT_THREADS")
		check_threads "${list[@]}" || exit 2
		THREADS=("${list[@]}")
	fi
	ENGINES=("${DEFAULT_ENGINES[@]}") RXS=("${DEFAULT_RX[@]}") BUFFERS=$DEFAULT_BUFFERS
	RR_SIZES=("${DEFAULT_RR_SIZES[@]}") RR_THREADS=("${DEFAULT_RR_THREADS[@]}") RR_SIZE=$DEFAULT_RR_SIZE
	if [[ -v OPT_ENGINES ]]; then
		mapfile -t list < <(split_list "$OPT_ENGINES")
		check_engines "${list[@]}" || exit 2
		ENGINES=("${list[@]}")
	fi
	if [[ -v OPT_RX ]]; then
		mapfile -t list < <(split_list "$OPT_RX")
		check_rx "${list[@]}" || exit 2
		RXS=("${list[@]}")
	fi
	if [[ -v OPT_RR_SIZES ]]; then
		mapfile -t list < <(split_list "$OPT_RR_SIZES")
		check_sizes "${list[@]}" || exit 2
		RR_SIZES=("${list[@]}")
	fi
	if [[ -v OPT_RR_THREADS ]]; then
		mapfile -t list < <(split_list "$OPT_RR_THREADS")
		check_threads "${list[@]}" || exit 2
		RR_THREADS=("${list[@]}")
	fi
	if [[ -v OPT_RR_SIZE ]]; then
		check_sizes "$OPT_RR_SIZE" || exit 2
		RR_SIZE=$OPT_RR_SIZE
	fi
	if [[ -v OPT_BUFFERS ]]; then
		if ! is_uint "$OPT_BUFFERS" || ((10#$OPT_BUFFERS < 1 || 10#$OPT_BUFFERS > 4096)); then
			die_usage "--buffers: bad number '$OPT_BUFFERS' (1 .. 4096)"
		fi
		BUFFERS=$((10#$OPT_BUFFERS))
	fi
	if [[ -v OPT_REPEATS ]]; then
		if ! is_uint "$OPT_REPEATS" || ((10#$OPT_REPEATS < 1 || 10#$OPT_REPEATS > 1000)); then
			die_usage "--repeats: bad number '$OPT_REPEATS' (1 .. 1000)"
		fi
		REPEATS=$((10#$OPT_REPEATS))
	fi
	if [[ -v OPT_DURATION ]]; then
		is_pos_num "$OPT_DURATION" || die_usage "--duration: bad number '$OPT_DURATION' (seconds > 0)"
		DURATION_S=$OPT_DURATION
	fi
	if [[ -v OPT_DRIFT_WINDOWS ]]; then
		if ! is_uint "$OPT_DRIFT_WINDOWS" || ((10#$OPT_DRIFT_WINDOWS != 0 && (10#$OPT_DRIFT_WINDOWS < 3 || 10#$OPT_DRIFT_WINDOWS > 1000))); then
			die_usage "--drift-windows: bad number '$OPT_DRIFT_WINDOWS' (0, or 3 .. 1000)"
		fi
		DRIFT_WINDOWS=$((10#$OPT_DRIFT_WINDOWS))
	fi
	if [[ -v OPT_WARMUP ]]; then
		is_nonneg_num "$OPT_WARMUP" || die_usage "--warmup: bad number '$OPT_WARMUP' (seconds >= 0)"
		WARMUP_S=$OPT_WARMUP
	fi
	if [[ -n $MTU ]]; then
		if ! is_uint "$MTU" || ((10#$MTU < 68 || 10#$MTU > 65535)); then
			die_usage "--mtu: bad number '$MTU' (68 .. 65535)"
		fi
		MTU=$((10#$MTU))
	elif [[ " ${RXS[*]} " == *" zerocopy "* ]]; then
		# Every run of the sweep gets this MTU, so copy and zerocopy rows stay comparable.
		MTU=$ZC_RX_MTU
		if ((NO_NETNS)); then
			err "note: --rx zerocopy over loopback keeps lo's MTU (its MSS is not a page multiple unless lo's MTU is 61512): expect a mapped share near 0"
		fi
	else
		MTU=$DEFAULT_MTU
	fi
	# No --mode: the standard job (stream grid + rr rounds); a grid of one's own (--quick,
	# --sizes, --threads) is a stream sweep of exactly that grid, as the plan shows.
	if [[ -z $MODE_SET ]]; then
		if ((QUICK)) || [[ -v OPT_SIZES || -v OPT_THREADS ]]; then
			MODE_SET=stream MODES=(stream)
		else
			MODE_SET=standard MODES=(stream rr)
		fi
	fi
	[[ -n $OUT ]] || OUT=results.csv OUT_DEFAULT=1
	if ((PER_FIELD)) && [[ " ${IMPLS[*]} " != *" a1 "* ]]; then
		err "note: --per-field applies to a1 only, and a1 is not in this sweep"
	fi
	remote_resolve
	resolve_rounds
	resolve_placement
}

# resolve_rounds: the seed, the budget, the precision and the profile rounds (after the
# grid and the mode set are known).
resolve_rounds() {
	local -a list
	if [[ -v OPT_SEED ]]; then
		if ! [[ $OPT_SEED =~ ^[0-9]+$ ]] || ((${#OPT_SEED} > 10 || 10#$OPT_SEED > RNG_MAX)); then
			die_usage "--seed: bad number '$OPT_SEED' (0 .. $RNG_MAX)"
		fi
		SEED=$((10#$OPT_SEED))
	else
		SEED=$((${SRANDOM:-$((RANDOM << 16 ^ RANDOM))} & RNG_MAX))
	fi
	PRECISION=$DEFAULT_PRECISION
	if [[ -v OPT_PRECISION ]]; then
		# 0.05 or 5%: kept as a fraction.
		if [[ $OPT_PRECISION =~ ^([0-9]*[.]?[0-9]+)%$ ]]; then
			PRECISION=$(awk -v p="${BASH_REMATCH[1]}" 'BEGIN { printf "%g", p / 100 }')
		elif is_pos_num "$OPT_PRECISION"; then
			PRECISION=$(awk -v p="$OPT_PRECISION" 'BEGIN { printf "%g", p }')
		else
			PRECISION=x
		fi
		awk -v p="$PRECISION" 'BEGIN { exit !(p ~ /^[0-9.e-]+$/ && p > 0 && p < 1) }' ||
			die_usage "--precision: bad value '$OPT_PRECISION' (a fraction such as 0.05, or 5%; more than 0, less than 1)"
	fi
	BUDGET_S=""
	if [[ -v OPT_BUDGET ]]; then
		if ! is_pos_num "$OPT_BUDGET" || ! awk -v b="$OPT_BUDGET" 'BEGIN { exit !(b <= 10080) }'; then
			die_usage "--budget: bad number of minutes '$OPT_BUDGET' (more than 0, at most 10080)"
		fi
		BUDGET_S=$(awk -v b="$OPT_BUDGET" 'BEGIN { printf "%d", b * 60 + 0.5 }')
		((BUDGET_S > 0)) || BUDGET_S=1
	elif [[ $MODE_SET == standard ]]; then
		BUDGET_S=$((DEFAULT_BUDGET_MIN * 60))
	fi
	PROFILE_SIZES=()
	if [[ -v OPT_PROFILE_SIZES ]]; then
		if [[ $OPT_PROFILE_SIZES != none ]]; then
			mapfile -t list < <(split_list "$OPT_PROFILE_SIZES")
			check_sizes "${list[@]}" || exit 2
			PROFILE_SIZES=("${list[@]}")
		fi
	elif [[ $MODE_SET == standard && -z $REMOTE ]]; then
		PROFILE_SIZES=("${DEFAULT_PROFILE_SIZES[@]}")
	fi
	if ((${#PROFILE_SIZES[@]} > 0)); then
		((PROFILE == 0)) || die_usage "--profile profiles every run: --profile-sizes does not go with it"
		[[ -z $REMOTE ]] || die_usage "--profile-sizes samples this host's CPUs only: it does not go with --remote yet"
		[[ " ${MODES[*]} " == *" stream "* ]] || die_usage "--profile-sizes: the profile rounds are stream runs, and this sweep has no stream mode"
	fi
}

# resolve_placement: where the two sides run (--pin) and how the veth pair steers a flow
# (--steer). Split by default on one host; --remote: unpinned (each side has its machine).
PIN_GIVEN=0
resolve_placement() {
	if [[ -n $PIN ]]; then
		PIN_GIVEN=1
	elif [[ -n $REMOTE ]]; then
		PIN=unpinned
	else
		PIN=$DEFAULT_PIN
	fi
	[[ -n $STEER ]] || STEER=$DEFAULT_STEER
	[[ -n $IDLE_POLL ]] || IDLE_POLL=$DEFAULT_IDLE_POLL
}

# ---------------------------------------------------------------------------------------
# perf stat -x, parsing.
#
# parse_perf FILE prints one CSV line: the ten event values (PERF_COLS order), then the ten
# running percentages, then user_only (1/0). Rules:
#  - comment lines ('# started on ...') and blank lines are skipped, and so are lines whose
#    value field is empty (metric continuation lines such as ',,,,,2.3,%  tma_...');
#  - '<not supported>' and '<not counted>' never become 0: an event no line counted is NA,
#    and so is its running percentage;
#  - with -r, perf puts a variance column ('0.45%') after the event name: detected and skipped;
#  - event names are canonicalised: 'cpu_core/cycles/' and 'cpu_atom/cycles/' (hybrid CPUs),
#    'cycles:u', 'cpu_core/cycles:u/', 'cpu_core/cycles/u' and 'cycles [cpu_core]' all count
#    as cycles; 'cs', 'migrations', 'faults', 'cpu-cycles' are perf's aliases;
#  - hybrid: values of the lines that counted are summed; the running percentage is the
#    minimum over those lines (a low one says the sum contains a scaled-up extrapolation);
#  - multiplexed counters: perf's value is already scaled; it is kept and the percentage is
#    what tells how long the counter really ran;
#  - user_only is 1 when any of the ten events carries a modifier that counts user space
#    without the kernel (u without k, e.g. 'cycles:u'): the copies under test are kernel work;
#  - numbers are printed as perf printed them (task_clock in msec with its decimals); sums
#    are printed with %.0f (or %.2f for msec), never with thousands separators or exponents.
# Returns 1 with a message on stderr when FILE cannot be read or holds no event line.
parse_perf() {
	local file=$1
	if [[ ! -f $file || ! -r $file ]]; then
		err "perf output '$file': no such readable file"
		return 1
	fi
	awk -F, -v cols="${PERF_COLS[*]}" -v fname="$file" '
	function canon(ev,   p, n, mods, i) {
		mods = ""
		sub(/ \[[^]]*\]$/, "", ev)
		if (index(ev, "/") > 0) {
			n = split(ev, p, "/")
			ev = p[2]
			if (n >= 3) mods = p[3]
		}
		i = index(ev, ":")
		if (i > 0) { mods = mods substr(ev, i + 1); ev = substr(ev, 1, i - 1) }
		ev = tolower(ev)
		gsub(/-/, "_", ev)
		if (ev == "cpu_cycles") ev = "cycles"
		else if (ev == "cs") ev = "context_switches"
		else if (ev == "migrations") ev = "cpu_migrations"
		else if (ev == "faults") ev = "page_faults"
		MODS = mods
		return ev
	}
	BEGIN {
		ncols = split(cols, col, " ")
		for (k = 1; k <= ncols; k++) want[col[k]] = 1
		lines = 0; user_only = 0
	}
	{ sub(/\r$/, "") }
	/^[ \t]*#/ || /^[ \t]*$/ { next }
	NF < 5 || $1 == "" || $3 == "" { next }
	{
		ev = canon($3)
		if (!(ev in want)) next
		lines++
		if (MODS ~ /u/ && MODS !~ /k/) user_only = 1
		pct = ($4 ~ /%$/) ? $6 : $5
		val = $1
		if (val !~ /^-?[0-9]+([.][0-9]+)?$/) next      # <not supported>, <not counted>
		n[ev]++
		sum[ev] += val
		str[ev] = val
		if (val ~ /[.]/) frac[ev] = 1
		if (pct ~ /^[0-9]+([.][0-9]+)?$/ && (!(ev in minp) || pct + 0 < minp[ev] + 0)) minp[ev] = pct
	}
	END {
		if (lines == 0) {
			printf "perf output %s: no perf stat -x, line for any of the events (was it written by perf stat -x, ?)\n", fname > "/dev/stderr"
			exit 1
		}
		out = ""
		for (k = 1; k <= ncols; k++) {
			e = col[k]
			if (!(e in n)) v = "NA"
			else if (n[e] == 1) v = str[e]
			else v = sprintf(frac[e] ? "%.2f" : "%.0f", sum[e])
			out = out (k > 1 ? "," : "") v
		}
		for (k = 1; k <= ncols; k++) {
			e = col[k]
			v = ((e in n) && (e in minp)) ? minp[e] : "NA"
			out = out "," v
		}
		print out "," user_only
	}' "$file"
}

# perf_header: the header line of --parse-perf.
perf_header() {
	local c line
	line=$(IFS=,; printf '%s' "${PERF_COLS[*]}")
	for c in "${PERF_COLS[@]}"; do line+=",${c}_running_pct"; done
	printf '%s,user_only\n' "$line"
}

# perf_fields FILE: like parse_perf, but NA everywhere when the file is missing or useless
# (perf not installed, perf failed): the sweep must go on.
perf_fields() {
	local out
	if [[ -s $1 ]] && out=$(parse_perf "$1" 2>/dev/null); then
		printf '%s\n' "$out"
	else
		local na="" i
		for ((i = 0; i < 2 * ${#PERF_COLS[@]}; i++)); do na+="NA,"; done
		printf '%sNA\n' "$na"
	fi
}

# ---------------------------------------------------------------------------------------
# JSON (flat objects of strings, numbers, booleans only: the binaries' --json output).

# json_to_tsv FILE: print "key<TAB>value" per member; string escapes decoded, tabs and
# newlines inside strings become blanks.
json_to_tsv() {
	awk '
	function str(   out, c, e) {
		out = ""
		i++
		while (i <= n) {
			c = substr(s, i, 1)
			if (c == "\\") {
				e = substr(s, i + 1, 1)
				if (e == "u") { out = out "?"; i += 6; continue }
				if (e == "n" || e == "t" || e == "r" || e == "b" || e == "f") out = out " "
				else out = out e
				i += 2
				continue
			}
			if (c == "\"") { i++; return out }
			if (c == "\t" || c == "\n") c = " "
			out = out c
			i++
		}
		return out
	}
	function ws() { while (i <= n && substr(s, i, 1) ~ /[ \t\r\n]/) i++ }
	{ s = s $0 "\n" }
	END {
		n = length(s); i = 1
		while (i <= n && substr(s, i, 1) != "{") i++
		i++
		while (i <= n) {
			ws()
			c = substr(s, i, 1)
			if (c == ",") { i++; continue }
			if (c != "\"") break
			k = str()
			ws()
			if (substr(s, i, 1) != ":") break
			i++
			ws()
			if (substr(s, i, 1) == "\"") v = str()
			else {
				j = i
				while (i <= n && substr(s, i, 1) !~ /[,} \t\r\n]/) i++
				v = substr(s, j, i - j)
			}
			printf "%s\t%s\n", k, v
		}
	}' "$1"
}

# load_json ARRAY FILE: fill the associative ARRAY from FILE; return 1 if nothing was read.
load_json() {
	local -n _dst=$1
	local k v
	_dst=()
	[[ -s $2 ]] || return 1
	while IFS=$'\t' read -r k v; do
		if [[ -n $k ]]; then _dst["$k"]=$v; fi
	done < <(json_to_tsv "$2")
	((${#_dst[@]} > 0))
}

# cell VALUE: a CSV-safe cell (no commas, quotes or line breaks).
cell() {
	local c
	cell_into c "$1"
	printf '%s' "$c"
}

# cell_into VAR VALUE: VAR = cell VALUE, without a subshell (write_row needs ~100 cells a
# row; one $(cell ...) each cost ~50 ms a run, bench/sweep_overhead.sh --profile).
cell_into() {
	local -n _cell_out=$1
	local _cell_v=$2
	_cell_v=${_cell_v//,/;}
	_cell_v=${_cell_v//\"/\'}
	_cell_v=${_cell_v//$'\n'/ }
	_cell_v=${_cell_v//$'\r'/ }
	_cell_out=$_cell_v
}

# num_or_na VALUE: VALUE if it is a number, else NA.
num_or_na() {
	if [[ $1 =~ ^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then printf '%s' "$1"; else printf 'NA'; fi
}

# per_byte NUMERATOR_EXPR_TERMS... : awk helper. per_byte SCALE DENOM TERM...: prints
# (sum of TERMs) * SCALE / DENOM with 4 decimals, or NA if any input is not a number or
# DENOM <= 0.
per_byte() {
	local scale=$1 den=$2
	shift 2
	awk -v scale="$scale" -v den="$den" -v terms="$*" 'BEGIN {
		re = "^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$"
		if (den !~ re || den + 0 <= 0) { print "NA"; exit }
		n = split(terms, t, " "); sum = 0
		if (n == 0) { print "NA"; exit }
		for (k = 1; k <= n; k++) { if (t[k] !~ re) { print "NA"; exit }; sum += t[k] }
		printf "%.4f\n", sum * scale / den
	}'
}

# ---------------------------------------------------------------------------------------
# Process groups and namespaces.

# wait_until TIMEOUT_S INTERVAL_S CMD...: the one bounded wait (the kernel selftests'
# net/lib.sh loopy_wait/slowwait): run CMD every INTERVAL_S until it succeeds, for at most
# TIMEOUT_S. Returns 0 when CMD succeeded, 1 when the time ran out. CMD returning 2 or more
# means "it never will" (the process waited for is gone) and ends the wait with that status.
# CMD runs at least once. No fork per try: the deadline comes from EPOCHREALTIME.
wait_until() {
	local interval=$2 rc end_us
	us_of end_us "$1"
	shift 2
	end_us=$((${EPOCHREALTIME/[.,]/} + end_us))
	while :; do
		rc=0
		"$@" || rc=$?
		((rc == 1)) || return "$rc"
		((${EPOCHREALTIME/[.,]/} < end_us)) || return 1
		sleep "$interval"
	done
}

# us_of VAR SECONDS: VAR = SECONDS (a decimal such as 5, 0.05, .5) in whole microseconds.
us_of() {
	local -n _us=$1
	local s=$2 int frac=000000
	int=${s%%.*}
	[[ $s != *.* ]] || frac=${s#*.}000000
	_us=$((10#${int:-0} * 1000000 + 10#${frac:0:6}))
}

# gone PID / group_gone PGID: 0 once the process / every member of the group has exited.
gone() { ! kill -0 "$1" 2>/dev/null; }
group_gone() { ! kill -0 -- "-$1" 2>/dev/null; }

# stop_group PGID: SIGTERM the process group this script started, SIGKILL after a bounded
# grace, reap it and drop it from the registry. Only recorded groups are ever signalled:
# a group exists only while one of its members lives, so its number cannot have been reused;
# the leader itself is signalled directly only while it is still this shell's child (the
# moment before timeout(1) made its own group).
stop_group() {
	local pg=$1 ppid=""
	if ! kill -TERM -- "-$pg" 2>/dev/null; then
		ppid=$(awk '{ print $4 }' "/proc/$pg/stat" 2>/dev/null || true)
		if [[ $ppid == "$$" ]]; then kill -TERM "$pg" 2>/dev/null || true; fi
	fi
	wait_until "$STOP_GRACE_S" "$POLL_S" group_gone "$pg" || true
	kill -KILL -- "-$pg" 2>/dev/null || true
	wait "$pg" 2>/dev/null || true
	unregister_pg "$pg"
}

# Processes. Every process is started under timeout(1), which gives it its own process
# group; the group's leader PID is recorded in PGROUPS so that cleanup (on EXIT, INT, TERM)
# stops exactly what this script started and nothing else. bench/ uses these too.

# spawn VAR LIMIT_S NS OUT ERR CMD...: start CMD in namespace NS ('' = this one) under
# timeout LIMIT_S, stdout to OUT, stderr to ERR; the PID (= process group) goes into VAR
# and into PGROUPS.
spawn() {
	local -n _pid=$1
	local limit=$2 ns=$3 out=$4 errf=$5
	shift 5
	if [[ -n $ns ]]; then
		timeout -k 2 "$limit" ip netns exec "$ns" "$@" >"$out" 2>"$errf" &
	else
		timeout -k 2 "$limit" "$@" >"$out" 2>"$errf" &
	fi
	_pid=$!
	PGROUPS+=("$_pid")
}

# reap PID: wait for a spawned process; its exit status is returned (124/137: timed out).
reap() {
	local rc=0
	wait "$1" || rc=$?
	unregister_pg "$1"
	return "$rc"
}

# reap_within PID SECONDS: bounded wait for a process that should leave by itself; stopped
# (SIGTERM, then SIGKILL) after SECONDS. Returns its status, or 125 when it had to be stopped.
reap_within() {
	local pid=$1
	if ! wait_until "$2" "$POLL_S" gone "$pid"; then
		stop_group "$pid"
		return 125
	fi
	reap "$pid"
}

# listening NS PORT PID: 0 when something listens on PORT in NS, 1 not yet, 2 PID is gone.
listening() {
	local -a pre=()
	kill -0 "$3" 2>/dev/null || return 2
	[[ -z $1 ]] || pre=(ip netns exec "$1")
	[[ -n $("${pre[@]}" ss -Hltn "sport = :$2" 2>/dev/null) ]]
}

# wait_listen NS PORT PID: bounded poll (READY_TIMEOUT_S) until something listens on PORT
# in NS. 0 ready, 1 timeout, 2 the process PID is gone.
wait_listen() { wait_until "$READY_TIMEOUT_S" "$READY_POLL_S" listening "$@"; }

unregister_pg() {
	local pg=$1 i
	for i in "${!PGROUPS[@]}"; do
		[[ ${PGROUPS[i]} == "$pg" ]] && unset 'PGROUPS[i]'
	done
	PGROUPS=("${PGROUPS[@]}")
}

# cleanup: kill what this run started, delete the namespaces it created. Idempotent.
cleanup() {
	local pg ns
	local -a jobs_left=()
	# The shell's own background jobs too: a signal may land between '&' and the line that
	# records the PID in PGROUPS. Still by PID (stop_group), never by name.
	# Only those still this shell's children: a finished job's PID may have been reused.
	mapfile -t jobs_left < <(jobs -p)
	remote_stop
	for pg in "${PGROUPS[@]}"; do
		stop_group "$pg" || true
	done
	for pg in "${jobs_left[@]}"; do
		if [[ $(awk '{ print $4 }' "/proc/$pg/stat" 2>/dev/null) == "$$" ]]; then stop_group "$pg" || true; fi
	done
	PGROUPS=()
	remote_cleanup
	for ns in "${NETNS_CREATED[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	if ((${#NETNS_CREATED[@]} > 0 && CLEANED == 0)); then
		err "removed namespaces ${NETNS_CREATED[*]}"
	fi
	NETNS_CREATED=()
	stop_idle_poll
	if [[ -n $FIFO_DIR ]]; then rm -rf -- "$FIFO_DIR" 2>/dev/null || true; fi
	FIFO_DIR=""
	CLEANED=1
}

on_signal() {
	local sig=$1
	trap '' INT TERM
	err "interrupted (SIG$sig): stopping this run's processes and namespaces; complete rows stay in ${OUT:-the CSV}"
	cleanup
	trap - EXIT
	if [[ $sig == INT ]]; then exit 130; else exit 143; fi
}

# The INT and TERM actions end in a line holding only ')'. Bash 5.2 (seen on 5.2.15, Debian
# 12) may run a trap while it is re-parsing a $(...) during an expansion, and then parses
# the trap's text as if it were still inside that $(: the text needs a ')' before its end,
# or the trap fails with "trap: line 2: unexpected EOF while looking for matching `)'",
# on_signal never runs and the shell exits 2 (set -e) instead of 130/143. With the ')' line
# both parses work: a sound parser runs on_signal on the first line, which never returns,
# so the second is never read; the confused one finds its ')' and runs the same command.
# Measured with tests/test_driver.sh's driver_trap_during_comsub_expansion (a loop of such
# expansions, SIGTERM at a random moment, 30 tries): the plain action failed 13-16 times
# in 30, this one 0 times in 90.
install_traps() {
	local sig
	trap cleanup EXIT
	for sig in INT TERM; do
		# shellcheck disable=SC2064 # the signal's name is fixed now, on purpose
		trap "on_signal $sig"$'\n)' "$sig"
	done
}

# NS_EXEC_S: the command prefix that runs a command in the server's namespace; empty with
# --no-netns. Set once by setup_link.
NS_EXEC_S=()

# in_srv_ns CMD...: run CMD in the server's namespace.
in_srv_ns() { "${NS_EXEC_S[@]}" "$@"; }

# setup_link: the namespace pair and its veth link (or loopback with --no-netns), after
# removing what dead runs left (clean_stale_netns). The names carry this run's PID and its
# start time: cb-PID-START-XXXXs (server) / ...c (client).
setup_link() {
	if have ip; then clean_stale_netns; fi
	if [[ -n $REMOTE ]]; then remote_setup_link; return 0; fi
	if ((NO_NETNS)); then
		SRV_ADDR=127.0.0.1 LINK=lo
		LINK_MTU=$(cat /sys/class/net/lo/mtu 2>/dev/null || echo NA)
		err "link: loopback 127.0.0.1 (mtu $LINK_MTU)"
		return 0
	fi
	local sfx tries=0 net start
	proc_start start "$$" || die "cannot read /proc/$$/stat"
	while :; do
		printf -v sfx '%04x' "$RANDOM"
		NS_S="cb-$$-$start-${sfx}s" NS_C="cb-$$-$start-${sfx}c"
		[[ ! -e /run/netns/$NS_S && ! -e /run/netns/$NS_C ]] && break
		((++tries < 20)) || die "cannot find a free namespace name"
	done
	net=$(($$ % 256))
	SRV_ADDR="198.18.$net.1"
	NETNS_CREATED+=("$NS_S")
	ip netns add "$NS_S" || die "ip netns add $NS_S failed (are network namespaces allowed here? try --no-netns)"
	NETNS_CREATED+=("$NS_C")
	ip netns add "$NS_C" || die "ip netns add $NS_C failed"
	ip link add veth0 netns "$NS_S" mtu "$MTU" type veth peer name veth0 netns "$NS_C" mtu "$MTU" ||
		die "cannot create the veth pair with mtu $MTU"
	ip -n "$NS_S" addr add "$SRV_ADDR/30" dev veth0
	ip -n "$NS_C" addr add "198.18.$net.2/30" dev veth0
	ip -n "$NS_S" link set lo up
	ip -n "$NS_C" link set lo up
	ip -n "$NS_S" link set veth0 up
	ip -n "$NS_C" link set veth0 up
	NS_EXEC_S=(ip netns exec "$NS_S")
	LINK=veth
	LINK_MTU=$MTU
	err "netns: $NS_S ($SRV_ADDR, server) <-veth mtu $MTU-> $NS_C (198.18.$net.2, client)"
}

# proc_start VAR PID: VAR = the start time of process PID (/proc/PID/stat field 22, clock
# ticks after boot): with the PID it names one process, even after the PID is reused.
# Returns 1 when there is no such process.
proc_start() {
	local -n _start=$1
	local stat
	local -a after_comm
	{ read -r stat <"/proc/$2/stat"; } 2>/dev/null || return 1
	# Field 2 (the command name) may hold blanks and parentheses: fields 3.. follow its last ')'.
	read -r -a after_comm <<<"${stat##*) }"
	_start=${after_comm[19]-}
	[[ -n $_start ]]
}

# clean_stale_netns: delete the namespaces that a dead run of this suite created (named
# cb-PID-START-XXXX[sc], and no live process PID started at START) and that hold no
# process; say so in one line. A namespace not named so, or of a live run, or with a
# process in it, is never touched. Sets STALE_REMOVED to how many were deleted.
STALE_REMOVED=0
clean_stale_netns() {
	local ns start pids
	local -a removed=()
	STALE_REMOVED=0
	while read -r ns _; do
		[[ $ns =~ ^cb-([0-9]+)-([0-9]+)-[0-9a-f]{4}[sc]$ ]] || continue
		if proc_start start "${BASH_REMATCH[1]}" && [[ $start == "${BASH_REMATCH[2]}" ]]; then
			continue # its run is alive
		fi
		pids=$(ip netns pids "$ns" 2>/dev/null) || continue
		[[ -z $pids ]] || continue
		if ip netns del "$ns" 2>/dev/null; then removed+=("$ns"); fi
	done < <(ip netns list 2>/dev/null)
	STALE_REMOVED=${#removed[@]}
	if ((STALE_REMOVED > 0)); then
		err "removed ${STALE_REMOVED} namespace$( ((STALE_REMOVED == 1)) || echo s) left by dead runs: ${removed[*]}"
	fi
	return 0
}

# cleanup_stale: --cleanup, the stale-namespace removal alone.
cleanup_stale() {
	require_root
	have ip || die "ip (iproute2) is needed to list the namespaces: install it with: apt-get install iproute2"
	clean_stale_netns
	((STALE_REMOVED > 0)) || err "nothing to clean (no namespace left by a dead run)"
}

# pick_port ORDER: a port free in the server's namespace, different for every run (so a
# previous run's TIME_WAIT never matters).
pick_port() {
	local p=$((PORT_BASE + ($1 - 1) % 5000)) tries
	for ((tries = 0; tries < 50; tries++)); do
		if [[ -z $(in_srv_ns ss -Htan "sport = :$p" 2>/dev/null) ]]; then
			printf '%d\n' "$p"
			return 0
		fi
		p=$((p + 1))
	done
	return 1
}

# last_line FILE: the last non-blank line of FILE, CSV-safe, for a failure reason. perf's
# own "Events enabled" / "Events disabled" (--control) are not messages of the run.
last_line() {
	local l=""
	[[ -s $1 ]] && l=$(grep -Ev '^[[:space:]]*$|^Events (enabled|disabled)$' "$1" | tail -n 1 || true)
	cell "${l:-no message}"
}

# ---------------------------------------------------------------------------------------
# Environment: root, tools, build.

require_root() {
	if ((EUID != 0)); then
		die "must run as root (network namespaces and perf need it): sudo ./$PROG ... (--help, --dry-run and --parse-perf work without root)"
	fi
}

have() { command -v "$1" >/dev/null 2>&1; }

# perf_error: empty when 'perf stat' works here; otherwise perf's own first error line
# (perf_event_paranoid, a container without perf events, a broken install).
perf_error() {
	local out
	if out=$(perf stat -x, -o /dev/null -e task-clock -- true 2>&1); then return 0; fi
	out=$(grep -v '^[[:space:]]*$' <<<"$out" | head -n 1 || true)
	printf '%s\n' "${out:-perf stat failed}"
}

# find_plot_python: a Python that imports matplotlib: every python3 on PATH in order (the
# first may be a pyenv without it; Debian's python3-matplotlib serves /usr/bin/python3).
find_plot_python() {
	local py
	while IFS= read -r py; do
		if "$py" -c 'import matplotlib' >/dev/null 2>&1; then
			printf '%s\n' "$py"
			return 0
		fi
	done < <(
		hash -d python3 2>/dev/null   # once python3 has run, bash's `type -aP` names only the hashed one
		type -aP python3 || true
	)
	return 1
}

# install_missing PKG...: packages whose commands are MISSING (never for a command that
# exists but does not work). As root with apt-get, install them; with CB_NO_APT=1 (the
# tests) or without apt-get, say for each what to install. Never fatal: the callers
# decide what can still run.
install_missing() {
	(($# > 0)) || return 0
	if [[ ${CB_NO_APT:-0} != 1 ]] && have apt-get; then
		err "installing missing packages: $*"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2 ||
			{ DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2; } ||
			err "apt-get could not install: $*"
	else
		local p
		for p in "$@"; do err "missing ${MISSING_CMD[$p]:-$p}: install it with: apt-get install $p"; done
	fi
}

declare -A MISSING_CMD=()

require_tools() {
	local -a pkgs=() perf_pkgs=(linux-perf)
	local perr p
	if [[ -r /etc/os-release ]] && grep -qiE '^(ID|ID_LIKE)=.*ubuntu' /etc/os-release; then
		perf_pkgs=(linux-tools-common "linux-tools-$(uname -r)")
	fi
	MISSING_CMD=()
	# Exactly what the build needs (not build-essential's g++ and dpkg-dev); libc6-dev is
	# only a Recommends of gcc, which --no-install-recommends leaves out.
	if ((NO_BUILD == 0)) && ! have make; then pkgs+=(make); fi
	if ((NO_BUILD == 0)) && ! have gcc; then
		pkgs+=(gcc libc6-dev) MISSING_CMD[libc6-dev]="the C library headers"
	fi
	if { ((NO_NETNS == 0)) && ! have ip; } || ! have ss; then
		pkgs+=(iproute2) MISSING_CMD[iproute2]="ip/ss"
	fi
	if ! have perf; then
		pkgs+=("${perf_pkgs[@]}")
		for p in "${perf_pkgs[@]}"; do MISSING_CMD[$p]=perf; done
	fi
	if ((NO_PLOT == 0)) && [[ -f $SCRIPT_DIR/plot_results.py ]] && ! find_plot_python >/dev/null; then
		pkgs+=(python3-matplotlib) MISSING_CMD[python3-matplotlib]="a Python with matplotlib"
	fi
	install_missing "${pkgs[@]}"
	if ! have ss; then
		die "ss (iproute2) is needed to see the servers listen: install it with: apt-get install iproute2"
	fi
	if ((NO_NETNS == 0)) && ! have ip; then
		die "ip (iproute2) is needed for the namespaces: install it with: apt-get install iproute2, or run over loopback with --no-netns"
	fi
	if ! have timeout; then die "timeout (coreutils) is needed"; fi
	USE_PERF=0
	if ! have perf; then
		err "perf not usable: not installed (apt-get install ${perf_pkgs[*]}); the sweep runs without it and counter columns are NA"
	elif perr=$(perf_error) && [[ -z $perr ]]; then
		USE_PERF=1
		probe_perf_ctl
	else
		err "perf not usable: perf is installed but 'perf stat' fails here ($(cell "$perr")); the sweep runs without it and counter columns are NA"
	fi
	if ((PROFILE)) && [[ -n $REMOTE ]]; then
		die_usage "--profile samples this host's CPUs only: it does not go with --remote yet"
	fi
	if ((PROFILE)) && ! ((USE_PERF && PERF_CTL)); then
		die "--profile needs a working perf with --control (perf >= 5.9): see the line above"
	fi
	PLOT_PY=""
	if ((NO_PLOT == 0)) && [[ -f $SCRIPT_DIR/plot_results.py ]]; then
		PLOT_PY=$(find_plot_python) ||
			err "no Python with matplotlib: plots will be skipped (install it with: apt-get install python3-matplotlib)"
	fi
	[[ -z $REMOTE ]] || remote_connect_probe
}

# probe_perf_ctl: PERF_CTL=1 when this perf has --control (perf >= 5.9), tried once on a
# FIFO pair in a private directory (FIFO_DIR, which the runs' FIFOs share; cleanup removes
# it); otherwise say once that the counters cover each process's whole life.
probe_perf_ctl() {
	local fifos
	PERF_CTL=0
	FIFO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/copybench-perfctl.XXXXXX") || die "cannot make a directory for the perf control FIFOs"
	perf_fifos fifos probe
	if perf stat -x, -D -1 --control "fifo:$fifos" -o /dev/null -e task-clock -- true >/dev/null 2>&1; then
		PERF_CTL=1
	else
		err "perf has no --control here (perf < 5.9?): its counters cover each process's whole life (perf_interval=life), not the measured window"
	fi
}

build_binaries() {
	local impl missing=()
	if ((NO_BUILD == 0)); then
		if have make && have gcc; then
			make -C "$SCRIPT_DIR" >&2 || die "make failed in $SCRIPT_DIR"
		else
			err "gcc/make missing (install them with: apt-get install gcc libc6-dev make): using the binaries already built"
		fi
	fi
	for impl in "${IMPLS[@]}"; do
		[[ -x $SCRIPT_DIR/${impl}_server ]] || missing+=("${impl}_server")
		[[ -x $SCRIPT_DIR/${impl}_client ]] || missing+=("${impl}_client")
	done
	((${#missing[@]} == 0)) || die "binaries missing in $SCRIPT_DIR: ${missing[*]} (run make)"
}

# first_cpus N: the first N CPUs this process may run on, one per line.
first_cpus() {
	local list
	list=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status 2>/dev/null || true)
	[[ -n $list ]] || list=$(cat /sys/devices/system/cpu/online 2>/dev/null || echo 0)
	printf '%s\n' "$list" | tr ',' '\n' | awk -F- -v want="$1" '
		{ lo = $1; hi = (NF > 1) ? $2 : $1
		  for (c = lo; c <= hi && got < want; c++) { print c; got++ } }
		got >= want { exit }'
}

# cpu_ranges CPU...: "0-3+8" for CPUs 0 1 2 3 8 (a CSV-safe list: no commas).
cpu_ranges() {
	local out="" lo="" prev="" c
	for c in "$@" ""; do
		if [[ -n $prev && $c == $((prev + 1)) ]]; then
			prev=$c
			continue
		fi
		if [[ -n $lo ]]; then
			out+="${out:++}$lo"
			[[ $prev == "$lo" ]] || out+="-$prev"
		fi
		lo=$c prev=$c
	done
	printf '%s' "$out"
}

# setup_placement: SRV_CPUS / CLI_CPUS (the binaries' -A lists: threads round-robin over
# them) and PLACEMENT (the CSV's record) from PIN. split: the server (sender) on the first
# half of the CPUs this process may use, the client (receiver) on the other half, so the
# two never compete for a CPU; with more threads than a side has CPUs, that side's threads
# share its CPUs round-robin (8 threads on 2 CPUs: 8 sending threads on CPU 0, 8 receiving
# on CPU 1). same: both on the first CPU. unpinned: the scheduler decides. Split on a
# single CPU: an error when asked for, else unpinned with a note.
setup_placement() {
	local -a cpus
	local half
	PLACEMENT=unpinned SRV_CPUS="" CLI_CPUS=""
	[[ $PIN != unpinned ]] || return 0
	mapfile -t cpus < <(first_cpus 100000)
	((${#cpus[@]} > 0)) || die "no CPU found in this process's affinity list"
	if [[ $PIN == split ]]; then
		if ((${#cpus[@]} < 2)); then
			((PIN_GIVEN == 0)) || die "--pin split needs two CPUs, this process may use: ${cpus[*]}"
			err "note: one CPU (${cpus[*]}): sender and receiver cannot be kept apart; running unpinned"
			PIN=unpinned
			return 0
		fi
		half=$((${#cpus[@]} / 2))
		SRV_CPUS=$(IFS=,; printf '%s' "${cpus[*]:0:half}")
		CLI_CPUS=$(IFS=,; printf '%s' "${cpus[*]:half}")
		PLACEMENT="srv=$(cpu_ranges "${cpus[@]:0:half}");cli=$(cpu_ranges "${cpus[@]:half}")"
	else
		SRV_CPUS=${cpus[0]} CLI_CPUS=${cpus[0]}
		PLACEMENT="srv=${cpus[0]};cli=${cpus[0]}"
	fi
}

# cpu_mask CPU...: the CPUs as the hexadecimal mask sysfs takes (32-bit words, comma-
# separated, the highest first).
cpu_mask() {
	local c w top=0 out="" x
	local -a words=()
	for c in "$@"; do
		w=$((c / 32))
		words[w]=$((${words[w]:-0} | 1 << (c % 32)))
		((w <= top)) || top=$w
	done
	for ((w = top; w >= 0; w--)); do
		printf -v x '%08x' "${words[w]:-0}"
		out+="${out:+,}$x"
	done
	printf '%s' "$out"
}

# steer_link: --steer on the veth pair (setup_link and setup_placement first). veth hands a
# packet to the backlog of the CPU that transmits it, and one flow's segments leave from
# two CPUs — the sending thread's, and the one whose ACK processing pushes more data — so
# they arrive out of order and TCP retransmits what was never lost (TcpExt
# TCPDSACKRecvSegs ~ RetransSegs, nothing dropped). RPS on a receiving veth
# (queues/rx-0/rps_cpus) puts every packet of a flow on one CPU's backlog, in order:
#   data  the client's veth steers the data to the client's CPUs: the receiver's softirq
#         runs where the receiver does;
#   both  and the server's veth steers the ACKs to the server's CPUs: the sender's ACK
#         processing, and the sends it triggers, run where the sender does;
#   off   the kernel's default (no RPS).
# Unpinned, a side's CPUs are every allowed CPU (RPS still keeps one flow on one CPU, by
# its hash). The devices live in this run's namespaces and go with them: no host setting is
# touched; loopback and --remote stay off (the host's lo is never changed). The packets and
# their sizes are the same either way: only the CPU that receives them changes. Appends
# what was done to PLACEMENT (";rps=data").
steer_link() {
	local -a all
	local cli srv
	[[ $STEER != off && $LINK == veth ]] || return 0
	mapfile -t all < <(first_cpus 100000)
	cli=${CLI_CPUS:-$(IFS=,; printf '%s' "${all[*]}")} srv=${SRV_CPUS:-$(IFS=,; printf '%s' "${all[*]}")}
	rps_set "$NS_C" "$cli" || return 0
	[[ $STEER != both ]] || rps_set "$NS_S" "$srv" || return 0
	PLACEMENT+=";rps=$STEER"
}

# start_idle_poll: --idle-poll on: tools/cb_idle_poll on the CPUs the two sides run on
# (every allowed CPU when unpinned), in the background for the whole sweep, until cleanup
# stops it (it also leaves when this shell dies, and after a bound: three times the
# budget or the estimate, plus 30 minutes). Idle CPUs then spin in the idle class instead
# of halting: a halted vCPU takes tens of microseconds to come back for a wake-up, at
# random moments in a run. Appends ";idlepoll=CPUS" to PLACEMENT. check_idle_poll first.
IDLE_POLL_PID=""
start_idle_poll() {
	local -a cpus
	local list limit me
	[[ $IDLE_POLL == on ]] || return 0
	mapfile -t cpus < <(placement_cpus)
	list=$(IFS=,; printf '%s' "${cpus[*]}")
	limit=$(estimate_s)
	[[ -z $BUDGET_S ]] || ((BUDGET_S <= limit)) || limit=$BUDGET_S
	limit=$((3 * limit + 1800))
	((limit <= 86400)) || limit=86400
	me=$BASHPID   # read here: in the background command it would be the child's own
	"$SCRIPT_DIR/tools/cb_idle_poll" --cpus "$list" --max-seconds "$limit" --parent "$me" 2>>"$RAW_DIR/idle_poll.err" &
	IDLE_POLL_PID=$!
	wait_until "$READY_TIMEOUT_S" "$READY_POLL_S" idle_poll_ready "${#cpus[@]}" ||
		die "tools/cb_idle_poll did not start: $(tail -n 1 "$RAW_DIR/idle_poll.err" 2>/dev/null) (or use --idle-poll off)"
	PLACEMENT+=";idlepoll=$(cpu_ranges "${cpus[@]}")"
}

# placement_cpus: the CPUs the two sides run on, one per line, ascending (every allowed CPU
# when unpinned).
placement_cpus() {
	local -a cpus
	if [[ -n $SRV_CPUS ]]; then
		IFS=, read -r -a cpus <<<"$SRV_CPUS,$CLI_CPUS"
		printf '%s\n' "${cpus[@]}" | sort -nu
	else
		first_cpus 100000
	fi
}

# probe_drift: before the first run, how steady this machine is by itself: tools/cb_drift
# on the placement's CPUs (all at once; after start_idle_poll, so that it sees the machine
# as the runs will), memory copies, an integer loop and system calls in DRIFT_WINDOWS
# back-to-back windows as long as a run's measured part (clamped to cb_drift's 0.01..60 s),
# then as many of a pipe ping-pong between the first two (cross-CPU wake-ups). Two runs of a pair are
# measured in two such windows, so their ratio cannot be steadier than the windows'
# copies (docs/sweep.md, "Machine drift"). Sets DRIFT (the rows' drift_* columns; NA when off or
# when the probe failed, with a note); its output is kept in RAW_DIR/drift.txt.
declare -A DRIFT=()

# drift_cpus: the probe's CPUs, comma-separated: the placement's, the first server (sender)
# CPU and the first client (receiver) CPU first, so that cb_drift's ping-pong crosses
# between the two sides as the runs' wake-ups do.
drift_cpus() {
	local -a cpus sides=()
	local c
	mapfile -t cpus < <(placement_cpus)
	[[ -z $SRV_CPUS ]] || sides+=("${SRV_CPUS%%,*}")
	[[ -z $CLI_CPUS || ${CLI_CPUS%%,*} == "${SRV_CPUS%%,*}" ]] || sides+=("${CLI_CPUS%%,*}")
	for c in "${cpus[@]}"; do [[ " ${sides[*]} " == *" $c "* ]] || sides+=("$c"); done
	(IFS=,; printf '%s' "${sides[*]}")
}

# drift_window: the probe's window, a run's measured part within cb_drift's 0.01..60 s.
drift_window() { awk -v d="$DURATION_S" 'BEGIN { print (d < 0.01 ? 0.01 : (d > 60 ? 60 : d)) }'; }

# drift_probe_s: about how long the probe takes (its windows twice, the ping-pong's only
# with two CPUs or more, and its start), whole seconds; 0 without it.
drift_probe_s() {
	local list
	((DRIFT_WINDOWS > 0)) || { echo 0; return; }
	list=$(drift_cpus)
	awk -v n="$DRIFT_WINDOWS" -v w="$(drift_window)" -v two="$([[ $list == *,* ]] && echo 2 || echo 1)" \
		'BEGIN { printf "%d\n", two * n * w + 0.5 + 0.5 }'
}

probe_drift() {
	local -a cpus
	local list window line kv
	DRIFT=([drift_copy_gbps]=NA [drift_copy_step]=NA [drift_alu_step]=NA [drift_sys_ns]=NA [drift_sys_step]=NA
		[drift_wake_us]=NA [drift_wake_step]=NA [drift_windows]=NA [drift_window_s]=NA [drift_cpus]=NA)
	((DRIFT_WINDOWS > 0)) || return 0
	if [[ ! -x $SCRIPT_DIR/tools/cb_drift ]]; then
		err "note: tools/cb_drift missing in $SCRIPT_DIR (run make): no machine-drift probe (drift_* NA)"
		return 0
	fi
	list=$(drift_cpus)
	mapfile -t cpus < <(placement_cpus)
	window=$(drift_window)
	err "machine drift: probing CPU $(cpu_ranges "${cpus[@]}") with no traffic, about $(drift_probe_s) s (tools/cb_drift) ..."
	if ! "$SCRIPT_DIR/tools/cb_drift" --cpus "$list" --window "$window" --windows "$DRIFT_WINDOWS" \
		>"$RAW_DIR/drift.txt" 2>"$RAW_DIR/drift.err" || ! line=$(grep '^all ' "$RAW_DIR/drift.txt"); then
		err "note: the machine-drift probe failed ($(tail -n 1 "$RAW_DIR/drift.err" 2>/dev/null)): drift_* NA"
		return 0
	fi
	for kv in ${line#all }; do
		case ${kv%%=*} in copy_gbps | copy_step | alu_step | sys_ns | sys_step | wake_us | wake_step | windows) DRIFT[drift_${kv%%=*}]=${kv#*=} ;; esac
	done
	DRIFT[drift_window_s]=$window DRIFT[drift_cpus]=${#cpus[@]}
	err "machine drift: copy ${DRIFT[drift_copy_gbps]} GB/s, from one window to the next SD ${DRIFT[drift_copy_step]} in log (integer loop: ${DRIFT[drift_alu_step]}); a system call ${DRIFT[drift_sys_ns]} ns, SD ${DRIFT[drift_sys_step]}; cross-CPU wake-up round trip ${DRIFT[drift_wake_us]} µs, SD ${DRIFT[drift_wake_step]}"
}

# idle_poll_ready N: for wait_until: 0 once N of the poller's threads run in the idle class
# (SCHED_IDLE, policy 5: each switches itself before it spins), 1 not yet, 2 it is gone.
idle_poll_ready() {
	local n
	idle_poll_alive || return 2
	n=$(cat /proc/"$IDLE_POLL_PID"/task/*/stat 2>/dev/null | awk '{ sub(/.*\) /, ""); if ($39 == 5) n++ } END { print n + 0 }')
	((n >= $1)) || return 1
}

# check_idle_poll: before anything is set up, what --idle-poll on needs. The poller's time
# is nice time in /proc/stat, which the binaries' host CPU columns leave out: a sweep that
# itself runs niced would lose its own time there, so that is refused.
check_idle_poll() {
	local nice_now
	[[ $IDLE_POLL == on ]] || return 0
	nice_now=$(nice)
	((nice_now <= 0)) || die "--idle-poll on: this sweep runs at nice $nice_now, and the host CPU columns leave niced time out (the poller's): run it at nice 0, or with --idle-poll off"
	[[ -x $SCRIPT_DIR/tools/cb_idle_poll ]] || die "tools/cb_idle_poll missing in $SCRIPT_DIR (run make), or use --idle-poll off"
}

# idle_poll_alive: 0 while the poller this sweep started runs (or none was started); a
# poller that has exited and is not yet reaped (a zombie, state Z) has stopped.
idle_poll_alive() {
	local stat
	[[ -n $IDLE_POLL_PID ]] || return 0
	stat=$(cat "/proc/$IDLE_POLL_PID/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# stop_idle_poll: stop the poller (cleanup). Idempotent.
stop_idle_poll() {
	[[ -n $IDLE_POLL_PID ]] || return 0
	kill -TERM "$IDLE_POLL_PID" 2>/dev/null || true
	wait "$IDLE_POLL_PID" 2>/dev/null || true
	IDLE_POLL_PID=""
}

# rps_set NS CPULIST: RPS of NS's veth0 to those CPUs; 1 with a note when this kernel has
# no RPS (no rps_cpus file) or the write fails.
rps_set() {
	local mask
	local -a cpus
	IFS=, read -r -a cpus <<<"$2"
	mask=$(cpu_mask "${cpus[@]}")
	# shellcheck disable=SC2016 # $1/$2 are the inner shell's
	if ! ip netns exec "$1" sh -c '[ -w "$1" ] && printf "%s\n" "$2" >"$1"' sh \
		/sys/class/net/veth0/queues/rx-0/rps_cpus "$mask" 2>/dev/null; then
		err "note: cannot set RPS on the veth pair (a kernel without CONFIG_RPS?): --steer $STEER not applied"
		return 1
	fi
}


# ---------------------------------------------------------------------------------------
# CSV.

build_columns() {
	local side e
	CSV_COLS=(run_id timestamp order repeat status reason strategy variant mode msg_size threads
		duration_s warmup_s bytes messages throughput_gbps msgs_per_sec us_per_msg
		transactions transactions_per_sec rtt_min_us rtt_mean_us rtt_p50_us rtt_p90_us
		rtt_p99_us rtt_p999_us rtt_max_us verify_errors srv_bytes_sent)
	for side in srv cli; do
		for e in "${PERF_COLS[@]}"; do CSV_COLS+=("${side}_$e"); done
		for e in "${PERF_COLS[@]}"; do CSV_COLS+=("${side}_${e}_running_pct"); done
	done
	CSV_COLS+=(perf_user_only srv_cpu_user_s srv_cpu_sys_s cli_cpu_user_s cli_cpu_sys_s
		srv_cpu_ns_per_byte cli_cpu_ns_per_byte srv_cycles_per_byte cli_cycles_per_byte
		zc_sends zc_completions zc_copied zc_notifications zc_enobufs zc_pool_depth zc_pool_waits
		tcp_retrans tcp_rtt_us host_cpu_user_s host_cpu_sys_s host_cpu_irq_s host_cpu_softirq_s
		host_cpu_ns_per_byte placement kernel cpu_model link mtu
		perf_interval window srv_window_s cli_window_s host_busy_cpus cpus_online
		srv_life_cpu_user_s srv_life_cpu_sys_s tcp_loss_probes tcp_spurious_rtos tcp_dsack_recv
		tcp_dsack_recv_segs zc_in_flight_max buffers engine rx rx_mapped_share fixed_buffers
		prof_user_copy prof_send_copy prof_zc_overhead prof_deferred_copy prof_recv_copy
		prof_stack prof_user_other prof_idle prof_foreign prof_samples)
	CSV_COLS+=("${REMOTE_COLS[@]}")
	# The plan's record (docs/sweep.md "Rounds where the question needs them") and the run's
	# DSACK'd share of its retransmissions.
	CSV_COLS+=(seed pass slot dsack_share precision)
	# The receiver's per-interval stability (row_stability).
	CSV_COLS+=(interval_s interval_cv interval_stall_s interval_drift)
	# All CPUs' niced time (the idle poller's, --idle-poll), kept out of the other host_cpu_*
	# columns, and steal time (what a hypervisor gave to others while we waited).
	CSV_COLS+=(host_cpu_nice_s host_cpu_steal_s)
	# The machine-drift probe before the sweep (probe_drift), the same in every row of a run_id.
	CSV_COLS+=(drift_copy_gbps drift_copy_step drift_alu_step drift_wake_us drift_wake_step drift_windows
		drift_window_s drift_sys_ns drift_sys_step drift_cpus)
	CSV_HEADER=$(IFS=,; printf '%s' "${CSV_COLS[*]}")
}

# check_output: apply the never-overwrite rule. Prints what will happen; returns 1 (with a
# message) if FILE must not be used.
check_output() {
	local first=""
	if [[ -e $OUT && ! -f $OUT ]]; then
		err "--out $OUT exists and is not a regular file"
		return 1
	fi
	if [[ -s $OUT ]]; then
		IFS= read -r first <"$OUT" || true
		first=${first%$'\r'}
		if [[ $first != "$CSV_HEADER" ]] && ((OUT_DEFAULT)); then
			printf 'move %s (an older version'"'"'s columns) to %s, then new file %s\n' "$OUT" "$(older_csv_home)" "$OUT"
			return 0
		fi
		if [[ $first != "$CSV_HEADER" ]]; then
			err "$OUT exists with a different header (another version's columns, or not our CSV): refusing to touch it; choose another file with --out NEW.csv or move it away"
			return 1
		fi
		printf 'append to %s (same header) under a new run_id\n' "$OUT"
	else
		printf 'new file %s\n' "$OUT"
	fi
}

# older_csv_home: where the default results.csv written by an older version (another
# header) is kept when a new default sweep starts: results/<its run ids>.csv beside it.
older_csv_home() {
	local ids
	ids=$(awk -F, 'NR > 1 && $1 != "" && !seen[$1]++ { printf "%s%s", (n++ ? "-and-" : ""), $1 }' "$OUT")
	printf '%s/results/%s.csv\n' "$(dirname "$OUT")" "${ids:-older-columns}"
}

prepare_output() {
	check_output >/dev/null || exit 1
	local dir first="" home
	dir=$(dirname "$OUT")
	if ((OUT_DEFAULT)) && [[ -s $OUT ]]; then
		IFS= read -r first <"$OUT" || true
		if [[ ${first%$'\r'} != "$CSV_HEADER" ]]; then
			home=$(older_csv_home)
			[[ ! -e $home ]] || die "$OUT has older columns and $home exists: move one of them away"
			if ! mkdir -p "$(dirname "$home")" || ! mv "$OUT" "$home"; then die "cannot move $OUT to $home"; fi
			err "$OUT had an older version's columns: kept as $home; this sweep starts a new $OUT"
		fi
	fi
	[[ -d $dir ]] || mkdir -p "$dir" || die "cannot create directory $dir"
	[[ -s $OUT ]] || printf '%s\n' "$CSV_HEADER" >"$OUT" || die "cannot write $OUT"
	RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)-$$"
	RAW_DIR="$dir/results/$RUN_ID"
	mkdir -p "$RAW_DIR" || die "cannot create $RAW_DIR"
	KERNEL=$(uname -r)
	CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	[[ -n $CPU_MODEL ]] || CPU_MODEL=$(awk -F': *' '/^(Hardware|CPU part|cpu model)/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	CPU_MODEL=$(cell "${CPU_MODEL:-unknown}")
}

# write_row: the ROW array as one CSV line, appended with a single printf so that an
# interrupted sweep never leaves half a row.
write_row() {
	local c v line="" sep=""
	for c in "${CSV_COLS[@]}"; do
		cell_into v "${ROW[$c]-}"
		line+="$sep$v"
		sep=,
	done
	printf '%s\n' "$line" >>"$OUT"
}

# ---------------------------------------------------------------------------------------
# Plan.

# The plan's random orders: a 31-bit linear congruential generator (the C standard's
# example constants) seeded with SEED, its high 15 bits per draw — the same plan from the
# same seed on any machine and any bash.
readonly RNG_MAX=2147483647
RNG_STATE=0
rng_seed() { RNG_STATE=$(($1 & RNG_MAX)); }

# rng_below VAR N: VAR = the next draw, in 0 .. N-1.
rng_below() {
	local -n _draw=$1
	RNG_STATE=$(((RNG_STATE * 1103515245 + 12345) & RNG_MAX))
	_draw=$(((RNG_STATE >> 16) % $2))
}

# shuffle ARRAY: a Fisher-Yates shuffle of ARRAY in place, with the plan's generator.
shuffle() {
	local -n _deck=$1
	local i j t
	for ((i = ${#_deck[@]} - 1; i > 0; i--)); do
		rng_below j $((i + 1))
		t=${_deck[i]} _deck[i]=${_deck[j]} _deck[j]=$t
	done
}

# POINT_ROUNDS[mode:size:threads:engine:rx] = rounds planned for that point so far (its
# next round's number minus one); size in bytes. Profile groups are not counted.
declare -A POINT_ROUNDS=()

# engine_applies IMPL ENGINE: 0 when IMPL has ENGINE; else 1, and ENGINE_LEFT_OUT says why
# (a1 sends with send() only; sendfile and splice are a3's).
engine_applies() {
	case $2 in
	uring) [[ $1 != a1 ]] || { ENGINE_LEFT_OUT="a1 with engine uring: a1 sends with send() only (no io_uring engine)" && return 1; } ;;
	sendfile | splice) [[ $1 == a3 ]] || { ENGINE_LEFT_OUT="$1 with engine $2: the page-cache engines are a3's" && return 1; } ;;
	esac
	return 0
}
ENGINE_LEFT_OUT=""

# plan_group MODE SIZE THREADS ENGINE RX REPEAT PASS PROFILE: one point's strategies, back
# to back in a random order (a strategy without that engine is left out, as the plan says).
plan_group() {
	local impl i
	local -a group=()
	for impl in "${IMPLS[@]}"; do
		if ! engine_applies "$impl" "$4"; then
			PLAN_LEFT_OUT["$ENGINE_LEFT_OUT"]=1
			continue
		fi
		group+=("$impl")
	done
	shuffle group
	for i in "${!group[@]}"; do
		PLAN_MODE+=("$1") PLAN_IMPL+=("${group[i]}") PLAN_SIZE+=("$2") PLAN_THREADS+=("$3")
		PLAN_ENGINE+=("$4") PLAN_RX+=("$5") PLAN_REPEAT+=("$6") PLAN_PASS+=("$7")
		PLAN_PROFILE+=("$8") PLAN_SLOT+=($((i + 1)))
	done
	if (($8 == 0 || PROFILE)); then POINT_ROUNDS["$1:$(size_bytes "$2"):$3:$4:$5"]=$6; fi
}

# build_plan: the first pass, in execution order. Every round holds every point once —
# mode, engine, receive path, size, threads — and each point's strategies run back to back
# (plan_group), so the runs of a paired ratio are seconds apart and share the machine's
# state; the order inside each group is drawn from SEED. A profile point (PROFILE_SIZES, 1
# thread, stream) gets a second, profiled group right after its plain one (or at the end
# of the round when the grid lacks it). rr with receive zero-copy does not exist: left out
# and named in PLAN_SKIPPED.
declare -A PLAN_LEFT_OUT=()
build_plan() {
	local rep mode engine rx pair size b
	local -a grid
	local -A is_prof=() done_prof=()
	PLAN_MODE=() PLAN_IMPL=() PLAN_SIZE=() PLAN_THREADS=() PLAN_REPEAT=() PLAN_ENGINE=() PLAN_RX=()
	PLAN_SLOT=() PLAN_PASS=() PLAN_PROFILE=() PLAN_SKIPPED=() PLAN_LEFT_OUT=() POINT_ROUNDS=()
	rng_seed "$SEED"
	for size in "${PROFILE_SIZES[@]}"; do is_prof[$(size_bytes "$size")]=$size; done
	for ((rep = 1; rep <= REPEATS; rep++)); do
		done_prof=()
		for mode in "${MODES[@]}"; do
			mode_grid grid "$mode"
			for engine in "${ENGINES[@]}"; do
				for rx in "${RXS[@]}"; do
					if [[ $mode == rr && $rx == zerocopy ]]; then
						PLAN_LEFT_OUT["rr with rx zerocopy: receive zero-copy measures stream receive only"]=1
						continue
					fi
					for pair in "${grid[@]}"; do
						size=${pair% *}
						plan_group "$mode" "$size" "${pair#* }" "$engine" "$rx" "$rep" first "$PROFILE"
						b=$(size_bytes "$size")
						if [[ $mode == stream && ${pair#* } == 1 && -v is_prof[$b] && ! -v done_prof[$b:$engine:$rx] ]]; then
							plan_group stream "$size" 1 "$engine" "$rx" "$rep" first 1
							done_prof[$b:$engine:$rx]=1
						fi
					done
				done
			done
		done
		for size in "${PROFILE_SIZES[@]}"; do
			b=$(size_bytes "$size")
			for engine in "${ENGINES[@]}"; do
				for rx in "${RXS[@]}"; do
					[[ -v done_prof[$b:$engine:$rx] ]] && continue
					plan_group stream "$size" 1 "$engine" "$rx" "$rep" first 1
					done_prof[$b:$engine:$rx]=1
				done
			done
		done
	done
	((${#PLAN_LEFT_OUT[@]} == 0)) || mapfile -t PLAN_SKIPPED < <(printf '%s\n' "${!PLAN_LEFT_OUT[@]}" | sort)
	FIRST_PASS_RUNS=${#PLAN_IMPL[@]}
}
FIRST_PASS_RUNS=0

# mode_grid VAR MODE: VAR = the (size threads) pairs MODE runs, one "SIZE THREADS" word
# each: the whole grid (SIZES x THREADS), or in the standard job's rr rounds latency vs size
# at 1 thread (RR_SIZES) and vs threads (RR_THREADS) at RR_SIZE, each pair once.
mode_grid() {
	local -n _grid=$1
	local size t b
	local -A seen=()
	_grid=()
	if [[ $2 == rr && $MODE_SET == standard ]]; then
		for size in "${RR_SIZES[@]}"; do
			b=$(size_bytes "$size")
			[[ -v seen[$b.1] ]] || _grid+=("$size 1")
			seen[$b.1]=1
		done
		b=$(size_bytes "$RR_SIZE")
		for t in "${RR_THREADS[@]}"; do
			t=$((10#$t))
			[[ -v seen[$b.$t] ]] || _grid+=("$RR_SIZE $t")
			seen[$b.$t]=1
		done
		return 0
	fi
	for size in "${SIZES[@]}"; do
		for t in "${THREADS[@]}"; do _grid+=("$size $((10#$t))"); done
	done
}

fmt_duration() {
	local s=$1
	if ((s >= 3600)); then
		printf '%dh%02dm%02ds' $((s / 3600)) $((s % 3600 / 60)) $((s % 60))
	elif ((s >= 60)); then
		printf '%dm%02ds' $((s / 60)) $((s % 60))
	else
		printf '%ds' "$s"
	fi
}

# What a profiled run costs beyond an unprofiled one: perf record -a -g starting up, writing
# its samples, and perf script classifying them (profile_classify). Measured here with
# bench/noise.sh (54 profiled and 54 plain runs of 0.5 s + 0.05 s at 4K 64K 1M): 1.28 s
# against 0.66 s per run.
readonly PROFILE_OVERHEAD_S=0.65

# estimate_s: seconds the plan's runs take, estimated from the constants.
estimate_s() {
	local i n=0 p=0
	for ((i = 0; i < ${#PLAN_IMPL[@]}; i++)); do
		if ((PLAN_PROFILE[i])); then p=$((p + 1)); else n=$((n + 1)); fi
	done
	awk -v n="$n" -v p="$p" -v d="$DURATION_S" -v w="$WARMUP_S" -v o="$RUN_OVERHEAD_S" -v q="$PROFILE_OVERHEAD_S" \
		'BEGIN { printf "%d\n", (n + p) * (d + w + o) + p * q + 0.5 }'
}

variant_of() { if ((PER_FIELD)) && [[ $1 == a1 ]]; then echo per-field; else echo default; fi; }

# main_metric MODE: the column whose paired ratios decide which points are still open, and
# its name: throughput for stream, the median round trip for rr.
main_metric() { if [[ $1 == rr ]]; then echo "rtt_p50_us p50 round trip"; else echo "throughput_gbps throughput"; fi; }

# plan_placement: the placement and steering lines of the plan.
plan_placement() {
	local tmax=0 t srv cli srv_n cli_n
	local -a pcpus
	for t in "${THREADS[@]}" "${RR_THREADS[@]}"; do ((10#$t <= tmax)) || tmax=$((10#$t)); done
	case $PIN in
	unpinned) printf 'placement: unpinned (the scheduler places both sides)' ;;
	same) printf 'placement: same: server and client threads all on CPU %s' "$SRV_CPUS" ;;
	split)
		srv=${PLACEMENT#srv=} cli=${PLACEMENT#*cli=}
		srv_n=$(tr ',' '\n' <<<"$SRV_CPUS" | wc -l) cli_n=$(tr ',' '\n' <<<"$CLI_CPUS" | wc -l)
		printf 'placement: split: server (sender) threads on CPU %s, client (receiver) threads on CPU %s' "${srv%%;*}" "${cli%%;*}"
		if ((tmax > srv_n || tmax > cli_n)); then
			printf '; more threads than a side has CPUs share them round-robin (%d threads: up to %d per server CPU, %d per client CPU)' \
				"$tmax" $(((tmax + srv_n - 1) / srv_n)) $(((tmax + cli_n - 1) / cli_n))
		fi
		;;
	esac
	printf '\n'
	if [[ -n $REMOTE || $NO_NETNS == 1 || $STEER == off ]]; then
		printf 'steering: off%s\n' "$([[ $STEER == off ]] || echo ' (only the veth pair is steered: the host'"'"'s devices are never changed)')"
	else
		printf 'steering: %s: RPS on the client'"'"'s veth keeps each flow'"'"'s data on one CPU (the client'"'"'s)%s: no reordering, no spurious retransmission\n' \
			"$STEER" "$([[ $STEER == both ]] && echo ", and on the server's the ACKs (the server's)")"
	fi
	if ((DRIFT_WINDOWS > 0)); then
		IFS=, read -r -a pcpus <<<"$(drift_cpus)"
		printf 'machine drift: before the first run, with no traffic, memory copies and system calls on CPU %s%s, each in %s back-to-back windows of %s s (tools/cb_drift; about %s s, outside the budget): how steady this machine is by itself\n' \
			"$(mapfile -t sorted < <(placement_cpus); cpu_ranges "${sorted[@]}")" "$( ((${#pcpus[@]} < 2)) || echo ", then wake-ups between CPU ${pcpus[0]} and CPU ${pcpus[1]}")" \
			"$DRIFT_WINDOWS" "$(drift_window)" "$(drift_probe_s)"
	else
		printf 'machine drift: not probed (--drift-windows 0)\n'
	fi
	if [[ $IDLE_POLL == on ]]; then
		printf 'idle polling: on: the placement'"'"'s CPUs%s spin in the idle class (tools/cb_idle_poll) instead of halting while idle, so no wake-up waits for a halted CPU\n' \
			"$([[ -n $REMOTE ]] && echo " on this host")"
	else
		printf 'idle polling: off: idle CPUs halt (a wake-up may wait for one to come back)\n'
	fi
}

# plan_rounds: the order, budget, precision and profile lines of the plan.
plan_rounds() {
	local i np=0 first_s
	for ((i = 0; i < ${#PLAN_IMPL[@]}; i++)); do ((PLAN_PROFILE[i] == 0)) || np=$((np + 1)); done
	printf 'order: seed %s: in every round each point'"'"'s strategies run back to back, in an order drawn from the seed (--seed %s repeats this plan)\n' "$SEED" "$SEED"
	if ((PROFILE)); then
		printf 'profile: every run (--profile): perf record -a -g over each window (about %s s more per run)\n' "$PROFILE_OVERHEAD_S"
	elif ((np > 0)); then
		printf 'profile rounds: %s at 1 thread, stream, every strategy, %d rounds: %d runs under perf record -a -g (about %s s more each), each group right after the same point'"'"'s plain one\n' \
			"${PROFILE_SIZES[*]}" "$REPEATS" "$np" "$PROFILE_OVERHEAD_S"
	fi
	first_s=$(estimate_s)
	if [[ -z $BUDGET_S ]]; then
		printf 'budget: none: the first pass only (%d runs, about %s); --budget MINUTES adds rounds where the intervals are too wide to decide at +-%s\n' \
			"$FIRST_PASS_RUNS" "$(fmt_duration "$first_s")" "$(pct "$PRECISION")"
	else
		printf 'budget: %s for the runs: first pass %d runs (about %s)' "$(fmt_duration "$BUDGET_S")" "$FIRST_PASS_RUNS" "$(fmt_duration "$first_s")"
		if ((first_s >= BUDGET_S)); then
			printf ', MORE than the budget: the runs stop when it is spent (no extra rounds)\n'
		else
			printf '; then extra rounds (about %d runs) to the points with a paired-ratio interval (any two strategies, throughput for stream, p50 round trip for rr) still too wide to decide at +-%s (hi/lo > 1 + P: it could hold both 1 and a bound of +-P), widest first, until each is decisive or the budget is spent (a stop on the width, never on the verdict)\n' \
				"$(awk -v b="$BUDGET_S" -v f="$first_s" -v d="$DURATION_S" -v w="$WARMUP_S" -v o="$RUN_OVERHEAD_S" 'BEGIN { printf "%d", (b - f) / (d + w + o) }')" \
				"$(pct "$PRECISION")"
		fi
	fi
}

# pct FRACTION: "5%" for 0.05.
pct() { awk -v p="$1" 'BEGIN { printf "%g%%", p * 100 }'; }

print_plan() {
	local i n=${#PLAN_IMPL[@]} outnote line
	local -a g
	if [[ $MODE_SET == standard ]]; then
		mode_grid g rr
		printf 'copybench plan: first pass %d runs = %d rounds (interleaved) of: stream %d strategies x %d sizes x %d thread counts, and rr rounds (%d size/thread points: latency vs size %s at 1 thread, vs threads %s at %s)\n' \
			"$n" "$REPEATS" "${#IMPLS[@]}" "${#SIZES[@]}" "${#THREADS[@]}" "${#g[@]}" "${RR_SIZES[*]}" \
			"${RR_THREADS[*]}" "$RR_SIZE"
	else
		printf 'copybench plan: first pass %d runs = %d mode%s (%s) x %d strategies x %d sizes x %d thread counts x %d rounds (interleaved)\n' \
			"$n" "${#MODES[@]}" "$( ((${#MODES[@]} == 1)) || echo s)" "${MODES[*]}" "${#IMPLS[@]}" "${#SIZES[@]}" \
			"${#THREADS[@]}" "$REPEATS"
	fi
	printf 'axes: engines %s; rx %s; buffers %s\n' "${ENGINES[*]}" "${RXS[*]}" "$BUFFERS"
	for line in "${PLAN_SKIPPED[@]}"; do printf 'skipped: %s\n' "$line"; done
	if [[ -n $REMOTE ]]; then
		printf 'link: to %s over ssh; the %s runs there\n' "$REMOTE" "$REMOTE_ROLE"
	elif ((NO_NETNS)); then
		printf 'link: loopback 127.0.0.1 (no namespaces)\n'
	else
		printf 'link: veth pair between two new network namespaces, mtu %s, 198.18.x.1/30 <-> .2\n' "$MTU"
	fi
	plan_placement
	printf 'per run: %s s measured + %s s warmup (+ about %s s overhead)\n' "$DURATION_S" "$WARMUP_S" "$RUN_OVERHEAD_S"
	plan_rounds
	if [[ -n $BUDGET_S ]]; then
		printf 'estimated time: at most %s (the budget), then the plots\n' "$(fmt_duration "$(($(drift_probe_s) + BUDGET_S))")"
	else
		printf 'estimated time: %s\n' "$(fmt_duration "$(($(drift_probe_s) + $(estimate_s)))")"
	fi
	outnote=$(check_output 2>&1) || outnote="WOULD REFUSE: $outnote"
	printf 'output: %s\n' "$outnote"
	printf '%6s %6s %-5s %4s %-6s %-8s %-9s %-7s %-8s %9s %7s %s\n' order repeat pass slot mode strategy variant engine rx msg_size threads profile
	for ((i = 0; i < n; i++)); do
		printf '%6d %6d %-5s %4d %-6s %-8s %-9s %-7s %-8s %9s %7d %s\n' $((i + 1)) "${PLAN_REPEAT[i]}" "${PLAN_PASS[i]}" \
			"${PLAN_SLOT[i]}" "${PLAN_MODE[i]}" "${PLAN_IMPL[i]}" "$(variant_of "${PLAN_IMPL[i]}")" "${PLAN_ENGINE[i]}" \
			"${PLAN_RX[i]}" "${PLAN_SIZE[i]}" "${PLAN_THREADS[i]}" "$( ((PLAN_PROFILE[i])) && echo yes || echo no)"
	done
}

# ---------------------------------------------------------------------------------------
# One run.

# run_one INDEX: run plan entry INDEX, fill ROW, append it; return 0 ok, 1 failed.
run_one() {
	local idx=$1 order=$(($1 + 1))
	local mode=${PLAN_MODE[idx]} impl=${PLAN_IMPL[idx]} size=${PLAN_SIZE[idx]}
	local threads=${PLAN_THREADS[idx]} rep=${PLAN_REPEAT[idx]}
	local engine=${PLAN_ENGINE[idx]} rx=${PLAN_RX[idx]}
	local variant base port srv_pg="" ready=0 cli_rc=0 srv_rc=0 status=ok reason="" timestamp
	RUN_PROF=${PLAN_PROFILE[idx]}
	local cli_limit srv_limit
	local -a srv_cmd cli_cmd
	variant=$(variant_of "$impl")
	base=$(printf '%s/%04d-%s-%s-%s-t%s-r%s' "$RAW_DIR" "$order" "$impl" "$variant" "$size" "$threads" "$rep")
	CLI=() SRV=()
	cli_limit=$(awk -v d="$DURATION_S" -v w="$WARMUP_S" -v s="$CLIENT_SLACK_S" 'BEGIN { print d + w + s }')
	srv_limit=$(awk -v d="$DURATION_S" -v w="$WARMUP_S" -v s="$SERVER_SLACK_S" 'BEGIN { print d + w + s }')
	idle_poll_alive || die "the idle poller (tools/cb_idle_poll) stopped before run $order: $(tail -n 1 "$RAW_DIR/idle_poll.err" 2>/dev/null)"
	if ! port=$(pick_port "$order"); then
		reason="no free port near $((PORT_BASE + (order - 1) % 5000))"
	else
		run_cmds srv_cmd cli_cmd "$base" "$port" "$impl" "$variant" "$size" "$threads" "$mode" "$engine" "$rx"
		spawn srv_pg "$srv_limit" "$NS_S" "$base.srv.json" "$base.srv.err" "${srv_cmd[@]}"
		if [[ $REMOTE_ROLE == sender ]]; then
			wait_until "$READY_TIMEOUT_S" "$READY_POLL_S" remote_listening "$base.srv.err" "$srv_pg" || ready=$?
		else
			wait_listen "$NS_S" "$port" "$srv_pg" || ready=$?
		fi
	fi
	if [[ -z $reason ]] && ((ready == 0)); then
		run_client cli_rc srv_rc "$cli_limit" "$base" "$srv_pg" "${cli_cmd[@]}"
	elif [[ -n $srv_pg ]]; then
		stop_group "$srv_pg"
	fi
	load_json CLI "$base.cli.json" || true
	load_json SRV "$base.srv.json" || true
	[[ -n $reason ]] || run_failure reason "$base" "$port" "$ready" "$cli_rc" "$cli_limit" "$srv_rc"
	[[ -z $REMOTE ]] || remote_after_run reason "$base" "$cli_rc" "$srv_rc"
	[[ -z $reason ]] || status=failed

	# The run's end (client and server have exited): the row is written now.
	timestamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	fill_row "$order" "$rep" "$status" "$reason" "$impl" "$variant" "$mode" "$size" "$threads" \
		"$timestamp" "$base" "$engine" "$rx"
	ROW[seed]=$SEED ROW[pass]=${PLAN_PASS[idx]} ROW[slot]=${PLAN_SLOT[idx]} ROW[precision]=$PRECISION
	row_stability
	write_row
	[[ -z $REMOTE ]] || remote_after_row "$order"
	[[ $status == ok ]]
}

# run_cmds SRV_VAR CLI_VAR BASE PORT IMPL VARIANT SIZE THREADS MODE ENGINE RX: the server's
# and the client's command lines, each under 'perf stat' (perf output to BASE.srv.perf /
# .cli.perf). With PERF_CTL, perf starts with its counters off (-D -1) and the binary
# switches them at its window's edges through a FIFO pair of its own (--perf-ctl).
run_cmds() {
	local -n _srv_cmd=$1 _cli_cmd=$2
	local base=$3 port=$4 impl=$5 variant=$6 size=$7 threads=$8 mode=$9 engine=${10} rx=${11}
	local -a perf_srv=() perf_cli=() ctl_srv=() ctl_cli=()
	local fifos
	if ((USE_PERF)); then
		perf_srv=(env LC_ALL=C perf stat '-x,' -o "$base.srv.perf" -e "$PERF_EVENTS")
		perf_cli=(env LC_ALL=C perf stat '-x,' -o "$base.cli.perf" -e "$PERF_EVENTS")
		if ((PERF_CTL)); then
			perf_fifos fifos "${base##*/}.srv"
			perf_srv+=(-D -1 --control "fifo:$fifos") ctl_srv=(--perf-ctl "$fifos")
			perf_fifos fifos "${base##*/}.cli"
			perf_cli+=(-D -1 --control "fifo:$fifos") ctl_cli=(--perf-ctl "$fifos")
		fi
		perf_srv+=(--) perf_cli+=(--)
	fi
	_srv_cmd=("${perf_srv[@]}" "$SCRIPT_DIR/${impl}_server" -p "$port" -B "$SRV_ADDR" -n "$threads" --json
		--interval "$INTERVAL_S" "${ctl_srv[@]}")
	if [[ -n $SRV_CPUS ]]; then _srv_cmd+=(-A "$SRV_CPUS"); fi
	_cli_cmd=("${perf_cli[@]}" "$SCRIPT_DIR/${impl}_client" -H "$SRV_ADDR" -p "$port" -s "$size" -t "$threads"
		-d "$DURATION_S" --warmup "$WARMUP_S" --mode "$mode" --buffers "$BUFFERS" --json
		--interval "$INTERVAL_S" "${ctl_cli[@]}")
	if [[ $engine != syscall ]]; then _cli_cmd+=(--engine "$engine"); fi
	if [[ $rx != copy ]]; then _cli_cmd+=(--rx "$rx"); fi
	if [[ $variant == per-field ]]; then _cli_cmd+=(--per-field); fi
	if ((VERIFY)); then _cli_cmd+=(--verify); fi
	if [[ -n $CLI_CPUS ]]; then _cli_cmd+=(-A "$CLI_CPUS"); fi
	if ((RUN_PROF)); then profile_cmd _cli_cmd "$base"; fi
	[[ -z $REMOTE ]] || remote_wrap _srv_cmd _cli_cmd "$base" "$impl"
}

# perf_fifos VAR NAME: make the FIFO pair FIFO_DIR/NAME.ctl and .ack (one pair per process
# per run: a stale byte can never reach another run's perf); VAR = "CTL,ACK".
perf_fifos() {
	local -n _fifos=$1
	local ctl=$FIFO_DIR/$2.ctl ack=$FIFO_DIR/$2.ack
	rm -f -- "$ctl" "$ack"
	mkfifo -m 600 -- "$ctl" "$ack" || die "cannot make the perf control FIFOs $ctl, $ack"
	_fifos="$ctl,$ack"
}

# ---- --profile: where each byte's CPU goes, copy by copy -------------------------------
# A profiled run also has 'perf record -a -g -e cpu-clock' (a software clock: no PMU
# needed) around the client, switched on and off at the client's window edges through a
# second --perf-ctl, so the samples cover all CPUs over exactly the measured window.
readonly PROF_FREQ=999
readonly -a PROF_CATS=(user_copy send_copy zc_overhead deferred_copy recv_copy stack user_other idle foreign)

# profile_classify PERF_DATA [PIDS]: "category<TAB>samples" for every PROF_CATS category.
# Each sample's call chain goes to the first category it matches:
#   foreign       a process that is not ours (not aN_server/aN_client, ksoftirqd, kworker or
#                 the idle task; with PIDS, "pid pid", also an aN_ process of another run:
#                 another copybench on the same machine): left out of the split
#   idle          the idle task (swapper), a chain in the idle loop, or the idle poller
#                 (cb_idle_poll, --idle-poll: it runs only where the CPU would idle)
#   deferred_copy skb_copy_ubufs and kin: the kernel copying zero-copy pages after all
#   zc_overhead   pinning pages for a zero-copy send (zerocopy_sg_from_iter, pin/get_user_pages,
#                 iov_iter_get/extract_pages, skb_zerocopy_iter_stream), notifications and
#                 completions (msg_zerocopy_*, the error queue, io_uring's notif)
#   recv_copy     the receive copy: skb_copy_datagram_iter / _copy_to_iter under tcp_recvmsg
#                 (or under tcp_zerocopy_receive, for what it could not map)
#   send_copy     the send copy: _copy_from_iter / copy_user* under tcp_sendmsg
#   user_copy     user-space memcpy/memmove in a sender (a1's serialize)
#   stack         the rest of the kernel: TCP/IP, veth, softirq, scheduling, syscalls
#   user_other    the rest of user space (loops, checks, libc)
profile_classify() {
	perf_chains "$1" | awk -F'\t' -v pids=" ${2:-} " '
		{
			comm = $1; kernel = $2; leaf = $3; chain = $4; pid = $5
			if (comm ~ /^cb_idle_poll/) c = "idle"
			else if (comm !~ /^(a[123]_(server|client)|ksoftirqd|kworker|swapper)/) c = "foreign"
			else if (pids != "  " && comm ~ /^a[123]_/ && index(pids, " " pid " ") == 0) c = "foreign"
			else if (comm ~ /^swapper/ || chain ~ / (do_idle|cpuidle_enter[a-z_]*|default_idle[a-z_]*|pv_native_safe_halt|acpi_safe_halt|native_safe_halt|cpu_startup_entry) /) c = "idle"
			else if (chain ~ / (skb_copy_ubufs|skb_orphan_frags_rx|skb_zerocopy_clone) /) c = "deferred_copy"
			else if (chain ~ / ([a-z_]*zerocopy_sg_from_iter|pin_user_pages[a-z_]*|get_user_pages[a-z_]*|iov_iter_get_pages[a-z0-9_]*|iov_iter_extract_pages|skb_zerocopy_iter_stream|msg_zerocopy_[a-z_]*|ip_recv_error|ipv6_recv_error|sock_recv_errqueue|io_notif_[a-z_]*|io_tx_ubuf_complete|io_sg_from_iter[a-z_]*|io_send_zc_[a-z_]*|io_sendmsg_zc) /) c = "zc_overhead"
			else if (chain ~ / (tcp_recvmsg[a-z_]*|tcp_zerocopy_receive) / && chain ~ / (skb_copy_datagram_iter|__skb_datagram_iter|_copy_to_iter|simple_copy_to_iter|copy_user_[a-z_]*|rep_movs_alternative|copy_to_user[a-z_]*) /) c = "recv_copy"
			else if (chain ~ / (tcp_sendmsg|tcp_sendmsg_locked) / && chain ~ / (_copy_from_iter|copy_user_[a-z_]*|rep_movs_alternative|__copy_user_nocache|copy_from_user[a-z_]*|skb_do_copy_data_nocache|csum_and_copy_from_iter[a-z_]*) /) c = "send_copy"
			else if (kernel) c = "stack"
			else if (comm ~ /_server$/ && leaf ~ /^(__)?(memcpy|memmove|__memmove_[a-z0-9_]*|__memcpy_[a-z0-9_]*)/) c = "user_copy"
			else c = "user_other"
			n[c]++
		}
		END {
			split("user_copy send_copy zc_overhead deferred_copy recv_copy stack user_other idle foreign", cats, " ")
			for (i = 1; i <= 9; i++) printf "%s\t%d\n", cats[i], n[cats[i]] + 0
		}'
}

# perf_chains PERF_DATA: one line per sample of a 'perf record -g' file, tab-separated: the
# task's comm, 1 when the sampled instruction was in the kernel (else 0), that leaf symbol,
# the call chain as " sym sym ... " (leaf first), and the process ID. The one parser of perf's call chains:
# profile_classify and bench/where_time_goes.sh sort these lines into their categories.
perf_chains() {
	perf script -i "$1" -F comm,pid,ip,sym 2>/dev/null | awk '
		function flush() {
			if (have) printf "%s\t%d\t%s\t%s\t%s\n", comm, kernel, leaf, chain, pid
			have = 0
		}
		/^[^ \t]/ { flush(); have = 1; chain = " "; leaf = ""; kernel = -1; pid = $NF; comm = $0; sub(/[ \t]+[0-9]+[ \t]*$/, "", comm); next }
		/^[ \t]+[0-9a-f]+ / {
			sym = $2; sub(/\+0x[0-9a-f]+$/, "", sym)
			chain = chain sym " "
			if (kernel == -1) { kernel = ($1 ~ /^ffff/); leaf = sym }
			next
		}
		/^$/ { flush() }
		END { flush() }'
}

# profile_cmd CLI_VAR BASE: the client's command under 'perf record -a' (all CPUs, call
# chains), its samples switched on and off by the client at its window's edges.
profile_cmd() {
	local -n _pcmd=$1
	local fifos
	perf_fifos fifos "${2##*/}.prof"
	_pcmd=(env LC_ALL=C perf record -q -a -g -e cpu-clock -F "$PROF_FREQ" -D -1 --control "fifo:$fifos"
		-o "$2.prof.data" -- "${_pcmd[@]}" --perf-ctl "$fifos")
}

# row_profile BASE: the PROF_CATS columns, CPU ns per byte of the client's window bytes
# (all CPUs: samples x the sampling period / bytes), and idle's and foreign processes'
# shares of all samples; NA for a run that was not profiled. prof_samples tells a profiled
# run (a number: the samples, 0 when perf recorded nothing) from one that was not (NA).
RUN_PROF=0   # 1 while run_one runs a profiled run
row_profile() {
	local cat n total=0 bytes=${CLI[bytes]-}
	local -A count=()
	for cat in "${PROF_CATS[@]}"; do ROW[prof_$cat]=NA; done
	ROW[prof_samples]=NA
	((RUN_PROF)) || return 0
	ROW[prof_samples]=0
	[[ -s $1.prof.data ]] || return 0
	profile_classify "$1.prof.data" "$(printf '%s %s' "${SRV[pid]-}" "${CLI[pid]-}" | xargs)" >"$1.prof.txt"
	while IFS=$'\t' read -r cat n; do
		count[$cat]=$n
		total=$((total + n))
	done <"$1.prof.txt"
	rm -f -- "$1.prof.data"   # the counts stay (BASE.prof.txt); the samples are megabytes
	((total > 0)) || return 0
	ROW[prof_samples]=$total
	for cat in "${PROF_CATS[@]}"; do
		if [[ $cat == idle || $cat == foreign ]]; then
			ROW[prof_$cat]=$(per_byte 1 "$total" "${count[$cat]:-0}")
		else
			ROW[prof_$cat]=$(per_byte "$((1000000000 / PROF_FREQ))" "$bytes" "${count[$cat]:-0}")
		fi
	done
}

# run_client CLI_RC_VAR SRV_RC_VAR LIMIT_S BASE SRV_PG CMD...: run the client (in the
# client's namespace, output to BASE.cli.*) to its end, then reap the server, which leaves
# by itself after -n connections: given a bounded moment when the client succeeded, none
# when it failed. SRV_RC is 125 when the server had to be stopped.
run_client() {
	local -n _cli_rc=$1 _srv_rc=$2
	local limit=$3 base=$4 srv_pg=$5 cli_pg grace=0
	shift 5
	spawn cli_pg "$limit" "$NS_C" "$base.cli.json" "$base.cli.err" "$@"
	reap "$cli_pg" || _cli_rc=$?
	((_cli_rc != 0)) || grace=$EXIT_TIMEOUT_S
	reap_within "$srv_pg" "$grace" || _srv_rc=$?
}

# run_failure VAR BASE PORT READY CLI_RC CLI_LIMIT SRV_RC: the failure-reason ladder. VAR =
# why the run failed, first cause first, from the server's readiness (READY: wait_listen's
# status), the exit statuses, and the JSON in CLI and SRV; '' when the run is ok.
run_failure() {
	local -n _why=$1
	local base=$2 port=$3 ready=$4 cli_rc=$5 cli_limit=$6 srv_rc=$7
	_why=""
	if ((ready == 1)); then
		_why="server not listening on port $port within $READY_TIMEOUT_S s"
	elif ((ready != 0)); then
		_why="server exited before listening: $(last_line "$base.srv.err")"
	elif ((cli_rc == 124 || cli_rc == 137)); then
		_why="client timed out after ${cli_limit} s"
	elif ((cli_rc != 0)); then
		_why="client exit $cli_rc: $(last_line "$base.cli.err")"
	elif [[ -z ${CLI[status]-} ]]; then
		_why="client printed no JSON"
	elif [[ ${CLI[status]} != ok ]]; then
		_why="client status ${CLI[status]}: ${CLI[reason]-}"
	elif [[ ${CLI[verify_errors]-0} != 0 ]]; then
		_why="verify_errors=${CLI[verify_errors]}"
	elif ((srv_rc == 125)); then
		_why="server did not exit after the client (killed)"
	elif ((srv_rc != 0)); then
		_why="server exit $srv_rc: $(last_line "$base.srv.err")"
	elif [[ -z ${SRV[bytes_sent]-} ]]; then
		_why="server printed no JSON"
	fi
}

# fill_row ORDER REPEAT STATUS REASON IMPL VARIANT MODE SIZE THREADS TIMESTAMP BASE ENGINE
# RX: ROW from the run's facts, the two JSON objects (CLI, SRV) and the two perf files.
fill_row() {
	local mode=$7 impl=$5 k
	ROW=()
	ROW[run_id]=$RUN_ID ROW[timestamp]=${10} ROW[order]=$1 ROW[repeat]=$2
	ROW[status]=$3 ROW[reason]=$4 ROW[strategy]=$impl ROW[variant]=$6
	ROW[mode]=$mode ROW[msg_size]=$(size_bytes "$8") ROW[threads]=$9
	ROW[duration_s]=$DURATION_S ROW[warmup_s]=$WARMUP_S
	row_client "$mode"
	row_window
	row_perf "${11}"
	row_cpu
	row_sender "$impl"
	row_paths "$impl" "${12}" "${13}"
	row_profile "${11}"
	ROW[placement]=$PLACEMENT ROW[kernel]=$KERNEL ROW[cpu_model]=$CPU_MODEL
	for k in "${!DRIFT[@]}"; do ROW[$k]=${DRIFT[$k]}; done
	ROW[link]=$LINK ROW[mtu]=$LINK_MTU
	row_remote
}

# both_sides VAR SRV_VALUE CLI_VALUE: VAR = the value when both sides agree, else
# "srv:S;cli:C" (NA for a side that gave none), so a mixed row is never taken for either.
both_sides() {
	local -n _both=$1
	local s=${2:-NA} c=${3:-NA}
	if [[ $s == "$c" ]]; then _both=$s; else _both="srv:$s;cli:$c"; fi
}

# row_window: the measured window of each side: its status (window: measured, cut-short,
# none; see both_sides) and length, and which interval the perf columns cover
# (perf_interval: window when perf was switched at the window's edges, life when it counted
# the whole process, failed when the binary could not switch it; NA without perf).
row_window() {
	local s c
	both_sides "ROW[window]" "${SRV[window]-}" "${CLI[window]-}"
	ROW[srv_window_s]=$(num_or_na "${SRV[window_s]-}")
	ROW[cli_window_s]=$(num_or_na "${CLI[window_s]-}")
	PERF_IV_SRV=NA PERF_IV_CLI=NA
	if ((USE_PERF)); then
		perf_interval_of PERF_IV_SRV "${SRV[perf_counters]-}"
		perf_interval_of PERF_IV_CLI "${CLI[perf_counters]-}"
	fi
	s=$PERF_IV_SRV c=$PERF_IV_CLI
	both_sides "ROW[perf_interval]" "$s" "$c"
}

# perf_interval_of VAR PERF_COUNTERS: one side's perf interval from its JSON perf_counters
# (window / failed; anything else, or no --perf-ctl, means perf counted the whole life).
PERF_IV_SRV=NA PERF_IV_CLI=NA
perf_interval_of() {
	local -n _iv=$1
	if ((PERF_CTL == 0)); then _iv=life; return 0; fi
	case $2 in
	window) _iv=window ;;
	failed) _iv=failed ;;
	"") _iv=NA ;;
	*) _iv=life ;;
	esac
}

# row_paths IMPL ENGINE RX: the send engine and receive path (as the binaries report them,
# else as asked), the buffers rotated over, and what the paths did: the share of the stream
# the receiver mapped (rx zerocopy only), io_uring fixed buffers (a3 with io_uring only).
row_paths() {
	local impl=$1
	ROW[buffers]=$(num_or_na "${CLI[buffers]-${SRV[buffers]-}}")
	ROW[engine]=$(cell "${SRV[engine]-${CLI[engine]-$2}}")
	ROW[rx]=$(cell "${CLI[rx]-$3}")
	if [[ $3 == zerocopy ]]; then
		# the measured window's share (issue 22: warm-up and drain left out)
		local wm=${CLI[rx_win_mapped_bytes]-x} wc=${CLI[rx_win_copied_bytes]-x}
		ROW[rx_mapped_share]=$(per_byte 1 "$(awk -v a="$wm" -v b="$wc" 'BEGIN {
			if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/) print a + b; else print "x" }')" "$wm")
	else
		ROW[rx_mapped_share]=""
	fi
	if [[ $impl == a3 && $2 == uring ]]; then
		case ${SRV[fixed_buffers]-} in true) ROW[fixed_buffers]=1 ;; false) ROW[fixed_buffers]=0 ;; *) ROW[fixed_buffers]=NA ;; esac
	else
		ROW[fixed_buffers]=""
	fi
}

# row_client MODE: what the client measured: volume, throughput, latency (rr only: the
# latency columns stay empty, not applicable, in stream mode), verification.
row_client() {
	local k
	ROW[bytes]=$(num_or_na "${CLI[bytes]-}")
	ROW[messages]=$(num_or_na "${CLI[messages]-}")
	ROW[throughput_gbps]=$(num_or_na "${CLI[gbps]-}")
	ROW[msgs_per_sec]=$(num_or_na "${CLI[msgs_per_sec]-}")
	ROW[us_per_msg]=$(num_or_na "${CLI[us_per_msg]-}")
	for k in transactions transactions_per_sec rtt_min_us rtt_mean_us rtt_p50_us rtt_p90_us \
		rtt_p99_us rtt_p999_us rtt_max_us; do
		if [[ $1 == stream ]]; then ROW[$k]=""; else ROW[$k]=$(num_or_na "${CLI[$k]-}"); fi
	done
	ROW[verify_errors]=$(num_or_na "${CLI[verify_errors]-}")
	ROW[srv_bytes_sent]=$(num_or_na "${SRV[bytes_sent]-}")
}

# row_perf BASE: the srv_/cli_ counter columns and their running percentages from
# BASE.srv.perf and BASE.cli.perf (NA without perf, and NA for a side whose binary could
# not switch perf at its window's edges: such counts cover no known interval), and
# perf_user_only. row_window first (PERF_IV_*).
row_perf() {
	local base=$1 e i nperf=${#PERF_COLS[@]}
	local -a pf_s pf_c
	if ((USE_PERF)); then
		IFS=, read -r -a pf_s < <(perf_fields "$base.srv.perf")
		IFS=, read -r -a pf_c < <(perf_fields "$base.cli.perf")
		[[ $PERF_IV_SRV != failed ]] || IFS=, read -r -a pf_s < <(perf_fields /nonexistent)
		[[ $PERF_IV_CLI != failed ]] || IFS=, read -r -a pf_c < <(perf_fields /nonexistent)
	else
		IFS=, read -r -a pf_s < <(perf_fields /nonexistent)
		pf_c=("${pf_s[@]}")
	fi
	for ((i = 0; i < nperf; i++)); do
		e=${PERF_COLS[i]}
		ROW[srv_$e]=${pf_s[i]} ROW[srv_${e}_running_pct]=${pf_s[i + nperf]}
		ROW[cli_$e]=${pf_c[i]} ROW[cli_${e}_running_pct]=${pf_c[i + nperf]}
	done
	if ((USE_PERF)) && [[ ${pf_s[2 * nperf]} != NA || ${pf_c[2 * nperf]} != NA ]]; then
		if [[ ${pf_s[2 * nperf]} == 1 || ${pf_c[2 * nperf]} == 1 ]]; then ROW[perf_user_only]=1; else ROW[perf_user_only]=0; fi
	else
		ROW[perf_user_only]=NA
	fi
}

# row_cpu: CPU time (rusage of each side over its own window, the server's whole life too;
# host-wide over the client's window) and the per-byte costs made from it and from the
# cycle counts (row_window and row_perf first). Every cost divides a figure by the bytes of
# the same interval: a window's CPU by that side's window bytes, whole-life perf counts by
# every byte sent.
row_cpu() {
	local k den_s den_c
	for k in cpu_user_s cpu_sys_s; do
		ROW[srv_$k]=$(num_or_na "${SRV[$k]-}")
		ROW[cli_$k]=$(num_or_na "${CLI[$k]-}")
		ROW[srv_life_$k]=$(num_or_na "${SRV[life_$k]-}")
	done
	ROW[srv_cpu_ns_per_byte]=$(per_byte 1e9 "${SRV[bytes]-}" "${SRV[cpu_user_s]-x}" "${SRV[cpu_sys_s]-x}")
	ROW[cli_cpu_ns_per_byte]=$(per_byte 1e9 "${CLI[bytes]-}" "${CLI[cpu_user_s]-x}" "${CLI[cpu_sys_s]-x}")
	den_s=${SRV[bytes_sent]-} den_c=${SRV[bytes_sent]-}
	[[ $PERF_IV_SRV != window ]] || den_s=${SRV[bytes]-}
	[[ $PERF_IV_CLI != window ]] || den_c=${CLI[bytes]-}
	ROW[srv_cycles_per_byte]=$(per_byte 1 "$den_s" "${ROW[srv_cycles]}")
	ROW[cli_cycles_per_byte]=$(per_byte 1 "$den_c" "${ROW[cli_cycles]}")
	# Host-wide: all CPUs over the client's window (the server samples the same host over
	# its own window; on one host the two agree), divided by the client's window bytes.
	for k in host_cpu_user_s host_cpu_sys_s host_cpu_irq_s host_cpu_softirq_s host_cpu_nice_s host_cpu_steal_s host_busy_cpus cpus_online; do
		ROW[$k]=$(num_or_na "${CLI[$k]-}")
	done
	# The binaries leave niced time out of user and busy (the idle poller's); without the
	# poller, niced time is this sweep's own (run under nice) or another process's, and
	# counts as user and busy as it always did.
	if [[ $IDLE_POLL != on ]]; then
		ROW[host_cpu_user_s]=$(awk -v u="${ROW[host_cpu_user_s]}" -v n="${ROW[host_cpu_nice_s]}" \
			'BEGIN { if (u == "NA" || n == "NA") print u; else printf "%.6g\n", u + n }')
		ROW[host_busy_cpus]=$(awk -v b="${ROW[host_busy_cpus]}" -v n="${ROW[host_cpu_nice_s]}" -v w="${CLI[window_s]-}" \
			'BEGIN { if (b == "NA" || n == "NA" || !(w > 0)) print b; else printf "%.6g\n", b + n / w }')
	fi
	ROW[host_cpu_ns_per_byte]=$(per_byte 1e9 "${CLI[bytes]-}" "${ROW[host_cpu_user_s]}" \
		"${CLI[host_cpu_sys_s]-x}" "${CLI[host_cpu_irq_s]-x}" "${CLI[host_cpu_softirq_s]-x}")
}

# row_sender IMPL: the sender's own facts: zero-copy counters (a3 only; empty otherwise)
# and TCP_INFO (the server's; the client's when the server gave none).
row_sender() {
	local k
	for k in zc_sends zc_completions zc_copied zc_notifications zc_enobufs zc_pool_depth zc_pool_waits \
		zc_in_flight_max; do
		if [[ $1 == a3 ]]; then ROW[$k]=$(num_or_na "${SRV[$k]-}"); else ROW[$k]=""; fi
	done
	ROW[tcp_retrans]=$(num_or_na "${SRV[tcp_retrans]-${CLI[tcp_retrans]-}}")
	ROW[tcp_rtt_us]=$(num_or_na "${SRV[tcp_rtt_us]-${CLI[tcp_rtt_us]-}}")
	# The sender's network namespace's TcpExt counters over its window (the client's
	# namespace would count the receiver's side).
	for k in tcp_loss_probes tcp_spurious_rtos tcp_dsack_recv tcp_dsack_recv_segs; do
		ROW[$k]=$(num_or_na "${SRV[$k]-}")
	done
	dsack_share_of "ROW[dsack_share]" "${ROW[tcp_dsack_recv_segs]}" "${ROW[tcp_retrans]}"
}

# row_stability: the receiver's (the client's) per-interval figures over its window: the
# interval, the coefficient of variation of per-interval throughput, the longest stall and
# the drift (docs/csv-and-json.md). Each interval's samples stay in the raw BASE.cli.json
# and BASE.srv.json beside the row's other raw files.
row_stability() {
	local k
	for k in interval_s interval_cv interval_stall_s interval_drift; do
		ROW[$k]=$(num_or_na "${CLI[$k]-}")
	done
}

# dsack_share_of VAR DSACK_SEGS RETRANS: VAR = DSACK_SEGS / RETRANS with 4 decimals: of the
# segments the sender retransmitted, the share the receiver reported it already had
# (TcpExt TCPDSACKRecvSegs, Linux 5.9+), both counted over the server's own measured
# window: near 1, the retransmissions were spurious (reordering), near 0 real losses. Empty
# when nothing was retransmitted; NA when a count is missing (kernels before 5.9 have no
# segment count; TCPDSACKRecv counts blocks, one of which may cover many segments, and stays
# in tcp_dsack_recv).
dsack_share_of() {
	local -n _share=$1
	if [[ ! $2 =~ ^[0-9]+([.][0-9]+)?$ || ! $3 =~ ^[0-9]+$ ]]; then
		_share=NA
	elif (($3 == 0)); then
		_share=""
	else
		_share=$(awk -v d="$2" -v r="$3" 'BEGIN { printf "%.4f", d / r }')
	fi
}

# ---------------------------------------------------------------------------------------
# Sweep.

# perf_interval_planned: what the perf columns will cover: window, life, or NA (no perf).
perf_interval_planned() {
	if ((USE_PERF == 0)); then echo NA; elif ((PERF_CTL)); then echo window; else echo life; fi
}

# Per-sweep timing: the sweep's start, and the wall time runs took so far (plain and
# profiled apart: a profiled run costs more), in microseconds.
SWEEP_START_US=0 PLAIN_N=0 PLAIN_US=0 PROF_N=0 PROF_US=0
EXTRA_GROUPS=0 OPEN_NOTE="" STATS_PY=""

# now_us VAR: VAR = microseconds since the epoch (no fork).
now_us() {
	local -n _now=$1
	_now=${EPOCHREALTIME/[.,]/}
}

# run_us_estimate VAR PROFILED: VAR = the microseconds one run takes: the average of the
# runs so far of its kind (PROFILED 1: profiled runs), else from the constants.
run_us_estimate() {
	local -n _est=$1
	if (($2)) && ((PROF_N > 0)); then
		_est=$((PROF_US / PROF_N))
	elif (($2 == 0)) && ((PLAIN_N > 0)); then
		_est=$((PLAIN_US / PLAIN_N))
	else
		_est=$(awk -v d="$DURATION_S" -v w="$WARMUP_S" -v o="$RUN_OVERHEAD_S" -v p="$2" -v q="$PROFILE_OVERHEAD_S" \
			'BEGIN { printf "%d", (d + w + o + p * q) * 1e6 }')
	fi
}

# eta_s VAR FROM: VAR = the seconds the planned runs from index FROM on will take.
eta_s() {
	local -n _eta=$1
	local i p=0 q=0 ep eq
	for ((i = $2; i < ${#PLAN_IMPL[@]}; i++)); do
		if ((PLAN_PROFILE[i])); then q=$((q + 1)); else p=$((p + 1)); fi
	done
	run_us_estimate ep 0
	run_us_estimate eq 1
	_eta=$(((p * ep + q * eq) / 1000000))
}

# open_points: the points not yet decisive at +-PRECISION (cbstats.py open), widest first, from
# this sweep's ok rows: "mode:size:threads:engine:rx<TAB>width<TAB>rounds" per line. The
# value per run is the mode's main metric (main_metric); profiled runs are left out (their
# sampling costs throughput) unless every run is profiled (--profile).
open_points() {
	awk -F, -v id="$RUN_ID" -v allprof="$PROFILE" '
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["run_id"] != id || $c["status"] != "ok" { next }
		!allprof && $c["prof_samples"] != "NA" { next }
		{
			v = ($c["mode"] == "rr") ? $c["rtt_p50_us"] : $c["throughput_gbps"]
			if (v !~ /^[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$/ || v + 0 <= 0) next
			printf "%s:%s:%s:%s:%s\t%s\t%s\t%s\n", $c["mode"], $c["msg_size"], $c["threads"], $c["engine"], $c["rx"],
				$c["repeat"], $c["strategy"], v
		}' "$OUT" | "$STATS_PY" "$SCRIPT_DIR/cbstats.py" open --precision "$PRECISION"
}

# point_name KEY: "64K x1 stream" for a point key (engine and rx when not the default).
point_name() {
	local mode size threads engine rx
	IFS=: read -r mode size threads engine rx <<<"$1"
	awk -v b="$size" -v t="$threads" -v m="$mode" -v e="$engine" -v r="$rx" 'BEGIN {
		s = (b % 1048576 == 0) ? (b / 1048576) "M" : (b % 1024 == 0) ? (b / 1024) "K" : b
		printf "%s x%s %s%s%s", s, t, m, (e == "syscall") ? "" : " " e, (r == "copy") ? "" : " rx " r }'
}

# plan_extra_pass ELAPSED_S: after the first pass and after every extra pass: one more round
# for each point not yet decisive at +-PRECISION (open_points), widest first, as long as the
# groups' estimated time fits in what is left of the budget. Only the width decides, never
# the verdict. Sets OPEN_NOTE; returns 1 when nothing was added (every point decisive at +-P, or
# no group fits in the budget left).
plan_extra_pass() {
	local elapsed_us=$1 key width rounds mode size threads engine rx impl k est plan_us=0 added=0 nopen widest line
	local -a opened
	mapfile -t opened < <(open_points) || true
	nopen=${#opened[@]}
	printf '%s\n' "${opened[@]}" >"$RAW_DIR/open.txt"
	if ((nopen == 0)); then
		OPEN_NOTE="every point decisive at +-$(pct "$PRECISION")"
		return 1
	fi
	IFS=$'\t' read -r key width _ <<<"${opened[0]}"
	widest="$(point_name "$key") $(width_pct "$width")"
	OPEN_NOTE="open $nopen (widest $widest)"
	run_us_estimate est "$PROFILE"
	for line in "${opened[@]}"; do
		IFS=$'\t' read -r key width rounds <<<"$line"
		IFS=: read -r mode size threads engine rx <<<"$key"
		k=0
		for impl in "${IMPLS[@]}"; do if engine_applies "$impl" "$engine"; then k=$((k + 1)); fi; done
		((elapsed_us + plan_us + k * est <= BUDGET_S * 1000000)) || continue
		plan_us=$((plan_us + k * est))
		plan_group "$mode" "$size" "$threads" "$engine" "$rx" $((${POINT_ROUNDS[$key]:-0} + 1)) extra "$PROFILE"
		added=$((added + 1))
	done
	((added > 0)) || return 1
	EXTRA_GROUPS=$((EXTRA_GROUPS + added))
	err "extra rounds: $added of $nopen open point$( ((nopen == 1)) || echo s), widest first ($widest), about $(fmt_duration $((plan_us / 1000000)))"
}

# width_pct WIDTH: "+-12.3%" for 0.123, "(too few rounds)" for inf.
width_pct() { if [[ $1 == inf ]]; then echo "(too few rounds)"; else awk -v w="$1" 'BEGIN { printf "+-%.1f%%", w * 100 }'; fi; }

# run_sweep: the plan's runs, one row each; with a budget, then extra passes (plan_extra_pass)
# until every point is decisive at +-PRECISION or the budget is spent. A run starts only while
# the budget lasts, and an extra group only when its estimated time still fits: the budget is
# never exceeded by more than one run.
run_sweep() {
	local i=0 failed=0 now t0 dt elapsed_us elapsed eta head stop="" left first=$FIRST_PASS_RUNS k est
	PORT_BASE=$((20000 + $$ % 20000))
	STATS_PY=""
	if [[ -n $BUDGET_S ]]; then
		STATS_PY=$(command -v python3 || true)
		[[ -n $STATS_PY ]] || err "note: no python3 on PATH: no extra rounds (cbstats.py decides which points need them); the budget still bounds the runs"
	fi
	{
		printf 'run_id %s\ncommand %s\nkernel %s\ncpu_model %s\nlink %s mtu %s\nnamespaces %s %s\nplacement %s\nperf %s\n' \
			"$RUN_ID" "$PROG ${ORIG_ARGS[*]}" "$KERNEL" "$CPU_MODEL" "$LINK" "$LINK_MTU" \
			"${NS_S:--}" "${NS_C:--}" "$PLACEMENT" "$USE_PERF"
		printf 'perf_interval %s\nengines %s\nrx %s\nbuffers %s\n' "$(perf_interval_planned)" \
			"${ENGINES[*]}" "${RXS[*]}" "$BUFFERS"
		printf 'seed %s\nprecision %s\nbudget_s %s\nfirst_pass_runs %s\nprofile_sizes %s\n' "$SEED" "$PRECISION" \
			"${BUDGET_S:-none}" "$FIRST_PASS_RUNS" "${PROFILE_SIZES[*]:-none}"
	} >"$RAW_DIR/run.txt"
	err "run_id $RUN_ID: first pass $first runs, about $(fmt_duration "$(estimate_s)")$([[ -z $BUDGET_S ]] || echo "; budget $(fmt_duration "$BUDGET_S")"); rows -> $OUT, raw -> $RAW_DIR"
	PLAIN_N=0 PLAIN_US=0 PROF_N=0 PROF_US=0 EXTRA_GROUPS=0 OPEN_NOTE="open points: known after the first pass"
	now_us SWEEP_START_US
	printf 'sweep_start_us %s\n' "$SWEEP_START_US" >>"$RAW_DIR/run.txt"
	while :; do
		now_us now
		elapsed_us=$((now - SWEEP_START_US))
		if ((i >= ${#PLAN_IMPL[@]})); then
			[[ -n $STATS_PY ]] && plan_extra_pass "$elapsed_us" && continue
			break
		fi
		if [[ -n $BUDGET_S ]]; then
			if ((elapsed_us >= BUDGET_S * 1000000)); then
				stop="the budget ($(fmt_duration "$BUDGET_S")) is spent: $((${#PLAN_IMPL[@]} - i)) planned runs not run"
				break
			fi
			if [[ ${PLAN_PASS[i]} == extra ]] && ((PLAN_SLOT[i] == 1)); then
				for ((k = i + 1; k < ${#PLAN_IMPL[@]} && PLAN_SLOT[k] > 1; k++)); do :; done
				run_us_estimate est "$PROFILE"
				if ((elapsed_us + (k - i) * est > BUDGET_S * 1000000)); then
					stop="the budget ($(fmt_duration "$BUDGET_S")) has no room for another round"
					break
				fi
			fi
		fi
		t0=$now
		if run_one "$i" && [[ ${PLAN_MODE[i]} == rr ]]; then
			head=$(awk -v a="${ROW[rtt_p50_us]}" -v b="${ROW[rtt_p99_us]}" 'BEGIN {
				re = "^[0-9.eE+-]+$"
				printf "p50 %s us p99 %s us", (a ~ re) ? sprintf("%.1f", a) : "?", (b ~ re) ? sprintf("%.1f", b) : "?" }')
		elif [[ ${ROW[status]} == ok ]]; then
			head=$(awk -v g="${ROW[throughput_gbps]}" 'BEGIN { if (g ~ /^[0-9.eE+-]+$/) printf "%.2f Gbit/s", g; else print "? Gbit/s" }')
		else
			failed=$((failed + 1))
			head="FAILED (${ROW[reason]})"
		fi
		now_us now
		dt=$((now - t0))
		if ((PLAN_PROFILE[i])); then PROF_N=$((PROF_N + 1)) PROF_US=$((PROF_US + dt)); else PLAIN_N=$((PLAIN_N + 1)) PLAIN_US=$((PLAIN_US + dt)); fi
		elapsed=$(((now - SWEEP_START_US) / 1000000))
		eta_s eta $((i + 1))
		left=""
		if [[ -n $BUDGET_S ]]; then
			((eta <= BUDGET_S - elapsed)) || eta=$((BUDGET_S - elapsed))
			((eta >= 0)) || eta=0
			left="; budget left $(fmt_duration $((BUDGET_S > elapsed ? BUDGET_S - elapsed : 0))); $OPEN_NOTE"
		fi
		printf '[%d/%d] %s%s %s engine=%s rx=%s size=%s threads=%s rep=%s %s %d%s: %s  ETA %s%s\n' $((i + 1)) "${#PLAN_IMPL[@]}" \
			"${PLAN_IMPL[i]}" "$([[ ${ROW[variant]} == per-field ]] && echo /per-field)" "${PLAN_MODE[i]}" "${PLAN_ENGINE[i]}" \
			"${PLAN_RX[i]}" "${ROW[msg_size]}" "${PLAN_THREADS[i]}" "${PLAN_REPEAT[i]}" "${PLAN_PASS[i]}" "${PLAN_SLOT[i]}" \
			"$( ((PLAN_PROFILE[i] == 0)) || echo ' profiled')" "$head" "$(fmt_duration "$eta")" "$left" >&2
		i=$((i + 1))
	done
	[[ -z $stop ]] || err "$stop"
	# The raw directory's last file: a directory without it is a killed run's (incomplete).
	printf '%d\n' "$i" >"$RAW_DIR/COMPLETE"
	sweep_summary "$i" "$failed"
	((failed == 0))
}

# sweep_summary RUNS FAILED: the closing lines: runs, extra rounds, the points still too
# wide to decide at +-PRECISION (by name, widest first; also in RAW_DIR/open.txt).
sweep_summary() {
	local n=$1 line key width rounds names="" nopen=0 extra=$(($1 - FIRST_PASS_RUNS))
	((extra >= 0)) || extra=0
	err "done: $n runs ($((n - extra)) in the first pass, $extra in $EXTRA_GROUPS extra rounds), $2 failed, $(fmt_duration $(((${EPOCHREALTIME/[.,]/} - SWEEP_START_US) / 1000000))); CSV $OUT (run_id $RUN_ID)"
	[[ -n $STATS_PY ]] || return 0
	while IFS=$'\t' read -r key width rounds; do
		[[ -n $key ]] || continue
		nopen=$((nopen + 1))
		((nopen > 12)) || names+="${names:+, }$(point_name "$key") $(width_pct "$width") ($rounds rounds)"
	done < <(open_points | tee "$RAW_DIR/open.txt")
	if ((nopen == 0)); then
		err "every point's paired-ratio intervals are decisive at +-$(pct "$PRECISION") (hi/lo <= 1 + P)"
	else
		err "still too wide to decide at +-$(pct "$PRECISION"): $nopen point$( ((nopen == 1)) || echo s): $names$( ((nopen <= 12)) || echo ", ...") (all: $RAW_DIR/open.txt)"
	fi
}

plot() {
	((NO_PLOT == 0)) || return 0
	if [[ ! -f $SCRIPT_DIR/plot_results.py ]]; then
		err "plot_results.py not found: no plots"
		return 0
	fi
	local dir pid rc=0
	dir=$(dirname "$OUT")/plots
	if [[ -z $PLOT_PY ]]; then
		err "no plots (no Python with matplotlib): install it with: apt-get install python3-matplotlib, then plot this CSV with: python3 $SCRIPT_DIR/plot_results.py $OUT --out $dir"
		return 0
	fi
	# In the background and waited for, so that a signal is handled at once and cleanup()
	# stops the plotter (registered by PID like the runs).
	"$PLOT_PY" "$SCRIPT_DIR/plot_results.py" "$OUT" --out "$dir" >&2 &
	pid=$!
	PGROUPS+=("$pid")
	wait "$pid" || rc=$?
	unregister_pg "$pid"
	((rc == 0)) || err "plot_results.py failed (exit $rc; the CSV is complete)"
}

# ---- remote host (--remote) -----------------------------------------------------------
# The same sweep between two machines: the receiver (client) runs on the remote host, the
# sender (server) here (--remote-role sender swaps them). ssh is the engine: one persistent
# connection (ControlMaster, private ControlPath) with BatchMode; every remote process is
# started by remote/cb-remote.sh run, which records its PID and start time in the private
# remote directory and ends by its own timeout; remote_cleanup stops exactly those (by PID
# and start time) and removes the directory. The rest of the driver sees the remote side as
# an ssh command line in place of a namespace: its stdout (JSON) and stderr stream back
# into the run's .json/.err files, its perf output is fetched after the run.

REMOTE="" REMOTE_ROLE="" REMOTE_DIR_OPT="" KEEP_REMOTE=0 REMOTE_ADDR="" LOCAL_ADDR="" SSH_PORT=""
SSH_OPTS=() REMOTE_SHIFT=0
# Per-sweep state: the ssh command (SSH_BASE), its private control directory, the remote
# directory, the master's PID, whether the connection was lost in the last run.
SSH_BASE=() SSH_CTL_DIR="" REMOTE_DIR="" REMOTE_MASTER_PID="" REMOTE_LOST=0 REMOTE_CLEANED=0
REMOTE_PERF=0 REMOTE_CPU0=0 REMOTE_KERNEL="" REMOTE_CPU_MODEL="" REMOTE_COMMIT=""
declare -A LFACT=() RFACT=()
readonly REMOTE_HELPER=remote/cb-remote.sh
readonly SSH_CALL_S=30        # bound on one short remote command (probe, fetch, stop)
readonly REMOTE_BUILD_S=600   # bound on the remote copy and build
# The CSV's remote columns (empty on one host), at the end of the column list.
readonly -a REMOTE_COLS=(remote_host remote_role remote_kernel remote_cpu_model local_addr
	remote_addr local_if local_driver local_firmware local_mtu local_speed_mbps local_sg
	local_tso local_gso remote_if remote_driver remote_firmware remote_mtu remote_speed_mbps
	remote_sg remote_tso remote_gso)

# remote_parse_opt ARGS...: the remote options, for parse_args. Returns 0 when $1 is one
# (REMOTE_SHIFT = how many words it took), 1 when it is not.
remote_parse_opt() {
	local opt=$1
	case $opt in
	--remote | --remote-role | --ssh-option | --ssh-port | --remote-dir | --remote-addr | --local-addr)
		(($# >= 2)) || die_usage "option $opt needs a value"
		REMOTE_SHIFT=2
		;;
	--keep-remote) REMOTE_SHIFT=1 ;;
	*) return 1 ;;
	esac
	case $opt in
	--remote) REMOTE=$2 ;;
	--remote-role)
		case $2 in sender | receiver) REMOTE_ROLE=$2 ;; *) die_usage "--remote-role: '$2' (sender or receiver)" ;; esac
		;;
	--ssh-option) SSH_OPTS+=(-o "$2") ;;
	--ssh-port) SSH_PORT=$2 ;;
	--remote-dir) REMOTE_DIR_OPT=$2 ;;
	--remote-addr) REMOTE_ADDR=$2 ;;
	--local-addr) LOCAL_ADDR=$2 ;;
	--keep-remote) KEEP_REMOTE=1 ;;
	esac
}

# remote_resolve: check the remote options together (after resolve_options).
remote_resolve() {
	if [[ -z $REMOTE ]]; then
		local o
		for o in "$REMOTE_ROLE" "$REMOTE_DIR_OPT" "$REMOTE_ADDR" "$LOCAL_ADDR" "$SSH_PORT" "${SSH_OPTS[@]}"; do
			[[ -z $o ]] || die_usage "--remote-role, --remote-dir, --remote-addr, --local-addr, --ssh-option and --ssh-port need --remote HOST"
		done
		((KEEP_REMOTE == 0)) || die_usage "--keep-remote needs --remote HOST"
		return 0
	fi
	[[ $REMOTE =~ ^([A-Za-z0-9._-]+@)?[A-Za-z0-9._:%-]+$ && $REMOTE != -* ]] ||
		die_usage "--remote: bad host '$REMOTE' ([USER@]HOST)"
	((NO_NETNS == 0)) || die_usage "--no-netns and --remote exclude each other (with --remote the link is the one to the remote host)"
	if [[ -n $SSH_PORT ]] && { ! is_uint "$SSH_PORT" || ((10#$SSH_PORT < 1 || 10#$SSH_PORT > 65535)); }; then
		die_usage "--ssh-port: bad port '$SSH_PORT' (1 .. 65535)"
	fi
	[[ -z $REMOTE_DIR_OPT || $REMOTE_DIR_OPT == /* ]] || die_usage "--remote-dir: '$REMOTE_DIR_OPT' must be an absolute path"
	[[ -n $REMOTE_ROLE ]] || REMOTE_ROLE=receiver
}

# quote_words ARGS...: one string that a remote POSIX shell splits back into ARGS.
quote_words() {
	local w out="" q
	for w in "$@"; do
		printf -v q '%q' "$w"
		out+="${out:+ }$q"
	done
	printf '%s' "$out"
}

# rsh LIMIT ARGS...: run ARGS on the remote host (through the master), stdin closed;
# bounded by LIMIT seconds. ssh's status (255: ssh itself failed).
rsh() {
	local limit=$1
	shift
	timeout -k 2 "$limit" "${SSH_BASE[@]}" -n -- "$REMOTE" "$(quote_words "$@")"
}

# rsh_helper LIMIT SUBCOMMAND ARGS...: remote/cb-remote.sh SUBCOMMAND on the remote host,
# the script sent on stdin (so it works before the copy and after the directory is gone).
rsh_helper() {
	local limit=$1
	shift
	timeout -k 2 "$limit" "${SSH_BASE[@]}" -- "$REMOTE" "sh -s -- $(quote_words "$@")" <"$SCRIPT_DIR/$REMOTE_HELPER"
}

# remote_exec ARGS...: NS_EXEC_S for a remote server (pick_port's ss runs there).
remote_exec() { rsh "$SSH_CALL_S" "$@"; }

# kv_into ARRAY TEXT: ARRAY[key]=value for every key=value line of TEXT.
kv_into() {
	local -n _kv=$1
	local line
	_kv=()
	while IFS= read -r line; do
		[[ $line == *=* ]] && _kv[${line%%=*}]=${line#*=}
	done <<<"$2"
}

# ssh_fix: the advice printed with every ssh failure.
ssh_fix() {
	local p=${SSH_PORT:+ -p $SSH_PORT}
	printf "make 'ssh%s %s true' work without a password prompt, as the user running this (root under sudo: its ~/.ssh, or --ssh-option IdentityFile=KEY); ssh runs with BatchMode=yes and never asks" "$p" "$REMOTE"
}

# remote_connect: open the persistent connection (the master) or die naming the fix.
remote_connect() {
	local out rc=0
	local -a common
	have ssh || die "ssh is needed for --remote: install it with: apt-get install openssh-client"
	if [[ -z $SSH_CTL_DIR ]]; then
		SSH_CTL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cb-ssh.XXXXXX") || die "mktemp -d failed"
	fi
	# Ours first (ssh takes the first value given), then the user's, then defaults they may
	# override: a dead peer is noticed within ~15 s, an unreachable one within 10 s.
	common=(-o BatchMode=yes -o "ControlPath=$SSH_CTL_DIR/ctl")
	[[ -z $SSH_PORT ]] || common+=(-p "$SSH_PORT")
	common+=("${SSH_OPTS[@]}" -o ServerAliveInterval=5 -o ServerAliveCountMax=3 -o ConnectTimeout=10)
	SSH_BASE=(ssh -o ControlMaster=no "${common[@]}")
	# -f: into the background once logged in (its output to a file: a backgrounded ssh
	# may keep a pipe open); ControlPersist ends it 60 s after its last session, should
	# this script die without closing it.
	timeout -k 2 "$SSH_CALL_S" ssh -o ControlMaster=yes -o ControlPersist=60 "${common[@]}" -f -N -- "$REMOTE" \
		</dev/null >"$SSH_CTL_DIR/connect.err" 2>&1 || rc=$?
	if ((rc != 0)); then
		out=$(grep -v '^[[:space:]]*$' "$SSH_CTL_DIR/connect.err" | tail -n 1 || true)
		out=$(cell "$out")
		case $out in
		*"Permission denied"* | *"Too many authentication failures"*)
			die "cannot log in to $REMOTE ($out): $(ssh_fix)" ;;
		*"Host key verification failed"* | *"host key"*)
			die "the host key of $REMOTE is not known ($out): connect once by hand to check and accept it, or pass --ssh-option StrictHostKeyChecking=accept-new" ;;
		*)
			((rc != 124)) || out="no answer within $SSH_CALL_S s"
			die "cannot connect to $REMOTE over ssh (${out:-ssh exit $rc}): $(ssh_fix)" ;;
		esac
	fi
	out=$(timeout -k 1 5 ssh -o "ControlPath=$SSH_CTL_DIR/ctl" -O check -- "$REMOTE" 2>&1 || true)
	if [[ $out =~ pid=([0-9]+) ]]; then REMOTE_MASTER_PID=${BASH_REMATCH[1]}; fi
	return 0
}

# remote_alive: 0 when a command still gets through to the remote host.
remote_alive() { rsh 15 true >/dev/null 2>&1; }

# remote_probe: the remote host is Linux and has what the sweep needs there, or die.
remote_probe() {
	local out rc=0 fix
	out=$(rsh_helper "$SSH_CALL_S" probe "$USE_PERF" 2>&1) || rc=$?
	((rc != 255)) || die "ssh to $REMOTE failed after logging in: $(cell "$(tail -n 1 <<<"$out")")"
	kv_into RFACT "$out"
	if [[ -z ${RFACT[os]-} ]]; then
		die "cannot run sh on $REMOTE ($(cell "$(tail -n 1 <<<"$out")")): it needs a POSIX sh (Linux)"
	fi
	[[ ${RFACT[os]} == Linux ]] || die "$REMOTE runs ${RFACT[os]}, not Linux: copybench needs Linux on both ends"
	if [[ -n ${RFACT[missing]-} ]]; then
		fix="apt-get install"
		[[ " ${RFACT[missing]} " != *" gcc "* ]] || fix+=" gcc libc6-dev"
		[[ " ${RFACT[missing]} " != *" make "* ]] || fix+=" make"
		[[ " ${RFACT[missing]} " != *" perf "* ]] || fix+=" linux-perf (Ubuntu: linux-tools-\$(uname -r))"
		[[ " ${RFACT[missing]} " != *" tar "* ]] || fix+=" tar"
		[[ ! " ${RFACT[missing]} " =~ " "(timeout|sha256sum|mkfifo)" " ]] || fix+=" coreutils"
		die "$REMOTE lacks ${RFACT[missing]// /, } (on its PATH for ssh commands): install there: $fix"
	fi
	REMOTE_PERF=$USE_PERF
	if ((USE_PERF)) && [[ -n ${RFACT[perf_error]-} ]]; then
		die "perf stat fails on $REMOTE ($(cell "${RFACT[perf_error]}")): fix it there (as a non-root user: sysctl kernel.perf_event_paranoid=1), or log in as root"
	fi
	REMOTE_KERNEL=${RFACT[kernel]-} REMOTE_CPU_MODEL=$(cell "${RFACT[cpu_model]-unknown}")
	REMOTE_CPU0=${RFACT[cpu0]:-0}
	if [[ -z $REMOTE_ADDR ]]; then
		read -r _ _ REMOTE_ADDR _ <<<"${RFACT[ssh_connection]-}"
		[[ -n $REMOTE_ADDR ]] || die "cannot tell the address ssh connected to on $REMOTE (no SSH_CONNECTION): pass --remote-addr ADDR"
	fi
	err "remote: $REMOTE (Linux ${REMOTE_KERNEL}, ${RFACT[cpu_model]-}) reached over ssh; data path to $REMOTE_ADDR"
}

# remote_connect_probe: for require_tools.
remote_connect_probe() {
	have git || die "git is needed for --remote (the tracked sources are what is copied): install it with: apt-get install git"
	have tar || die "tar is needed for --remote"
	remote_connect
	remote_probe
}

# tracked_files: the checkout's tracked files that exist (NUL-separated).
tracked_files() { git -C "$SCRIPT_DIR" ls-files -z | while IFS= read -r -d '' f; do [[ -f $SCRIPT_DIR/$f ]] && printf '%s\0' "$f"; done; }

# remote_install: the private remote directory, the tracked sources copied into it (this
# checkout's working tree, with a sha256 manifest), built there with make, the six binaries'
# --version compared with this side's. The build log is RAW_DIR/remote-build.log.
remote_install() {
	local out rc=0 manifest b want got
	out=$(rsh_helper "$SSH_CALL_S" prepare "$REMOTE_DIR_OPT" 2>&1) || rc=$?
	[[ $out =~ (^|$'\n')dir=([^$'\n']+) ]] || die "cannot prepare the remote directory on $REMOTE: $(cell "$(tail -n 1 <<<"$out")")"
	REMOTE_DIR=${BASH_REMATCH[2]}
	((rc == 0)) || die "cannot prepare $REMOTE_DIR on $REMOTE: $(cell "$(tail -n 1 <<<"$out")")"
	REMOTE_COMMIT=$(git -C "$SCRIPT_DIR" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
	git -C "$SCRIPT_DIR" diff --quiet HEAD 2>/dev/null || REMOTE_COMMIT+="+dirty"
	manifest=$(mktemp "${TMPDIR:-/tmp}/cb-manifest.XXXXXX") || die "mktemp failed"
	(cd "$SCRIPT_DIR" && tracked_files | xargs -0 sha256sum) >"$manifest" || { rm -f "$manifest"; die "cannot checksum the tracked sources"; }
	printf '%s\n' "$REMOTE_COMMIT" >"$RAW_DIR/remote-commit.txt"
	err "remote: copying the tracked sources ($REMOTE_COMMIT) to $REMOTE:$REMOTE_DIR and building there"
	rc=0
	{ (cd "$SCRIPT_DIR" && tracked_files | tar --null -T - -cf - --transform 's,^,src/,') &&
		tar -cf - --transform "s,.*,src/.copybench-manifest," -C "$(dirname "$manifest")" "$(basename "$manifest")"; } |
		timeout -k 2 "$REMOTE_BUILD_S" "${SSH_BASE[@]}" -- "$REMOTE" "$(quote_words tar -xif - -C "$REMOTE_DIR")" ||
		rc=$?
	rm -f "$manifest"
	((rc == 0)) || die "copying the sources to $REMOTE:$REMOTE_DIR failed (exit $rc)"
	rc=0
	out=$(rsh "$REMOTE_BUILD_S" sh "$REMOTE_DIR/src/$REMOTE_HELPER" build "$REMOTE_DIR" 2>"$RAW_DIR/remote-build.log") || rc=$?
	((rc == 0)) || die "the build on $REMOTE failed: $(last_line "$RAW_DIR/remote-build.log") (log: $RAW_DIR/remote-build.log)"
	for b in a1_server a1_client a2_server a2_client a3_server a3_client; do
		want=$("$SCRIPT_DIR/$b" --version 2>&1 || true)
		got=$(sed -n "s/^$b //p" <<<"$out")
		[[ $got == "$want" ]] || die "version mismatch: $b here says '$want', on $REMOTE '$got'"
	done
	printf '%s\n' "$out" >"$RAW_DIR/remote-version.txt"
}

# remote_setup_link: for setup_link. Addresses, link facts of both ends, the copy.
remote_setup_link() {
	local out
	out=$(sh "$SCRIPT_DIR/$REMOTE_HELPER" facts "$REMOTE_ADDR" 2>/dev/null || true)
	kv_into LFACT "$out"
	[[ -n $LOCAL_ADDR ]] || LOCAL_ADDR=${LFACT[src]-}
	[[ -n $LOCAL_ADDR ]] || die "no route from here to $REMOTE_ADDR (ip route get $REMOTE_ADDR): pass --remote-addr / --local-addr"
	remote_install
	out=$(rsh "$SSH_CALL_S" sh "$REMOTE_DIR/src/$REMOTE_HELPER" facts "$LOCAL_ADDR" 2>/dev/null) ||
		err "remote: could not read the link facts of $REMOTE (ip missing there?): NA"
	local k
	declare -A rf=()
	kv_into rf "$out"
	for k in src if driver firmware mtu speed sg tso gso; do RFACT[l_$k]=${rf[$k]-}; done
	NS_S="" NS_C="" LINK=remote LINK_MTU=${LFACT[mtu]:-NA}
	if [[ $REMOTE_ROLE == sender ]]; then
		SRV_ADDR=$REMOTE_ADDR NS_EXEC_S=(remote_exec)
	else
		SRV_ADDR=$LOCAL_ADDR NS_EXEC_S=()
	fi
	{
		printf 'remote %s role %s dir %s commit %s\n' "$REMOTE" "$REMOTE_ROLE" "$REMOTE_DIR" "$REMOTE_COMMIT"
		printf 'local %s if %s driver %s mtu %s | remote %s if %s driver %s mtu %s\n' "$LOCAL_ADDR" \
			"${LFACT[if]-}" "${LFACT[driver]-}" "${LFACT[mtu]-}" "$REMOTE_ADDR" "${RFACT[l_if]-}" \
			"${RFACT[l_driver]-}" "${RFACT[l_mtu]-}"
	} >"$RAW_DIR/remote.txt"
	err "link: $LOCAL_ADDR (${LFACT[if]:-?}, here) <-> $REMOTE_ADDR (${RFACT[l_if]:-?}, $REMOTE); the $REMOTE_ROLE runs on $REMOTE"
}

# remote_wrap SRV_VAR CLI_VAR BASE IMPL: for run_cmds. The remote side's command line
# becomes an ssh command: the same binary and arguments from the remote copy, under perf
# stat --control over its own window there (--perf-ctl), started by cb-remote.sh run.
remote_wrap() {
	local -n _rw_srv=$1 _rw_cli=$2
	local base=$3 impl=$4 side bin i limit rbase fifo=-
	local -a cmd args perf=()
	if [[ $REMOTE_ROLE == sender ]]; then
		side=srv bin=${impl}_server cmd=("${_rw_srv[@]}")
		limit=$(awk -v d="$DURATION_S" -v w="$WARMUP_S" -v s="$SERVER_SLACK_S" 'BEGIN { print d + w + s }')
	else
		side=cli bin=${impl}_client cmd=("${_rw_cli[@]}")
		limit=$(awk -v d="$DURATION_S" -v w="$WARMUP_S" -v s="$CLIENT_SLACK_S" 'BEGIN { print d + w + s }')
	fi
	for ((i = 0; i < ${#cmd[@]}; i++)); do
		[[ ${cmd[i]} != "$SCRIPT_DIR/$bin" ]] || break
	done
	# the binary's own arguments, without the local perf's --perf-ctl (its FIFOs are this
	# host's: the remote side gets its own below)
	args=()
	for ((i = i + 1; i < ${#cmd[@]}; i++)); do
		if [[ ${cmd[i]} == --perf-ctl ]]; then
			((i++))
			continue
		fi
		args+=("${cmd[i]}")
	done
	for ((i = 0; i < ${#args[@]}; i++)); do
		if [[ ${args[i]} == -A ]]; then args[i + 1]=$REMOTE_CPU0; fi
	done
	rbase="$REMOTE_DIR/runs/${base##*/}.$side"
	if ((REMOTE_PERF)); then
		perf=(env LC_ALL=C perf stat --control "fifo:$rbase.ctl,$rbase.ack" -D -1 '-x,' -o "$rbase.perf" -e "$PERF_EVENTS" --)
		args=(--perf-ctl "$rbase.ctl,$rbase.ack" "${args[@]}")
		fifo=$rbase
	fi
	cmd=("${SSH_BASE[@]}" -n -- "$REMOTE" "$(quote_words sh "$REMOTE_DIR/src/$REMOTE_HELPER" run "$REMOTE_DIR" "$limit" \
		"$fifo" "${perf[@]}" "$REMOTE_DIR/src/$bin" "${args[@]}")")
	if [[ $side == srv ]]; then _rw_srv=("${cmd[@]}"); else _rw_cli=("${cmd[@]}"); fi
}

# remote_listening FILE PID: for wait_until. 0 when the remote server said it listens (its
# stderr streams into FILE), 2 when its ssh is gone, 1 not yet.
remote_listening() {
	grep -q 'listening on' "$1" 2>/dev/null && return 0
	kill -0 "$2" 2>/dev/null || return 2
	return 1
}

# remote_after_run REASON_VAR BASE CLI_RC SRV_RC: for run_one, once both sides ended. The
# remote perf output fetched into BASE.<side>.perf; a lost connection (ssh's status 255)
# becomes the run's reason and marks REMOTE_LOST.
remote_after_run() {
	local -n _rr=$1
	local base=$2 side=cli rc=$3 rbase
	if [[ $REMOTE_ROLE == sender ]]; then side=srv rc=$4; fi
	rbase="$REMOTE_DIR/runs/${base##*/}.$side"
	if ((rc == 255)); then
		REMOTE_LOST=1
		_rr="ssh connection to $REMOTE lost during the run (ssh exit 255: $(last_line "$base.$side.err")); the remote process ends by its own timeout"
		return 0
	fi
	if ((REMOTE_PERF)); then
		# shellcheck disable=SC2016 # $1.. are the remote shell's
		rsh "$SSH_CALL_S" sh -c 'cat "$1.perf"; rc=$?; rm -f "$1.perf" "$1.ctl" "$1.ack"; exit $rc' sh "$rbase" \
			>"$base.$side.perf" 2>/dev/null || rm -f "$base.$side.perf"
	fi
}

# remote_after_row ORDER: for run_one, after its row. When the connection was lost: go on
# if a new one can be made, else stop the sweep (exit 1; cleanup follows).
remote_after_row() {
	((REMOTE_LOST)) || return 0
	if remote_alive; then
		err "remote: ssh connection to $REMOTE lost in run $1 and re-established; the sweep goes on"
		REMOTE_LOST=0
		return 0
	fi
	die "ssh connection to $REMOTE lost in run $1 of ${#PLAN_IMPL[@]} and not re-established: sweep stopped (the rows so far are in $OUT)"
}

# row_remote: the remote columns of ROW (empty on one host).
row_remote() {
	local k
	for k in "${REMOTE_COLS[@]}"; do ROW[$k]=""; done
	[[ -n $REMOTE ]] || return 0
	ROW[remote_host]=$REMOTE ROW[remote_role]=$REMOTE_ROLE ROW[remote_kernel]=$REMOTE_KERNEL
	ROW[remote_cpu_model]=$REMOTE_CPU_MODEL ROW[local_addr]=$LOCAL_ADDR ROW[remote_addr]=$REMOTE_ADDR
	for k in if driver firmware mtu sg tso gso; do
		ROW[local_$k]=${LFACT[$k]:-NA} ROW[remote_$k]=${RFACT[l_$k]:-NA}
	done
	ROW[local_speed_mbps]=${LFACT[speed]:-NA} ROW[remote_speed_mbps]=${RFACT[l_speed]:-NA}
}

# remote_stop: for cleanup, before this side's processes are stopped (a remote process
# is stopped by its PID, not by the loss of its peer). Says what it stopped or could not.
# REMOTE_REACHED: 0 when the remote host could not be reached.
REMOTE_REACHED=1
remote_stop() {
	local out rc=0
	[[ -n $REMOTE_DIR && $REMOTE_CLEANED == 0 ]] || return 0
	out=$(rsh_helper "$SSH_CALL_S" stop "$REMOTE_DIR" 2>&1) || rc=$?
	if ((rc != 0)); then
		REMOTE_REACHED=0
		err "remote: cannot reach $REMOTE to stop its processes ($(cell "$(tail -n 1 <<<"$out")")): each ends by its own timeout (duration + warmup + ${SERVER_SLACK_S} s at most)"
	elif [[ $out == *stopped:* ]]; then
		err "remote: stopped processes on $REMOTE: ${out##*stopped: }"
	fi
}

# remote_cleanup: for cleanup, after this side's processes are stopped: stop what started
# on the remote meanwhile, remove the remote directory (unless --keep-remote), close the
# master. Idempotent; every step bounded; says what it could not do.
remote_cleanup() {
	local out
	[[ -n $SSH_CTL_DIR && $REMOTE_CLEANED == 0 ]] || return 0
	if [[ -n $REMOTE_DIR ]]; then
		((REMOTE_REACHED == 0)) || remote_stop
		if ((KEEP_REMOTE)); then
			err "remote: kept $REMOTE:$REMOTE_DIR (--keep-remote)"
		elif ((REMOTE_REACHED == 0)) || ! out=$(rsh_helper "$SSH_CALL_S" remove "$REMOTE_DIR" 2>&1); then
			err "remote: could not remove $REMOTE:$REMOTE_DIR: remove it by hand (ssh $REMOTE rm -rf $REMOTE_DIR)"
		fi
	fi
	if ! timeout -k 1 5 ssh -o "ControlPath=$SSH_CTL_DIR/ctl" -O exit -- "$REMOTE" >/dev/null 2>&1 &&
		[[ -n $REMOTE_MASTER_PID ]] && { tr "\0" " " <"/proc/$REMOTE_MASTER_PID/cmdline"; } 2>/dev/null | grep -qF "$SSH_CTL_DIR/ctl"; then
		kill -TERM "$REMOTE_MASTER_PID" 2>/dev/null || true
	fi
	REMOTE_CLEANED=1
	rm -rf "$SSH_CTL_DIR"
}

# ---------------------------------------------------------------------------------------
# Interactive menu (reads stdin, so it can be driven by a test).

# ask PROMPT: print PROMPT on stderr, read one line into REPLY; return 1 on end of input.
ask() {
	printf '%s' "$1" >&2
	IFS= read -r REPLY || return 1
}

interactive_menu() {
	local choice list x
	local -a arr
	local PS3="copybench> "
	while :; do
		printf '\nstrategies: %s | sizes: %s | threads: %s | repeats: %s | %s s + %s s warmup\n' \
			"${IMPLS[*]}" "${SIZES[*]}" "${THREADS[*]}" "$REPEATS" "$DURATION_S" "$WARMUP_S" >&2
		choice=""
		select x in "choose strategies" "choose sizes" "choose threads" "run one experiment" "run the sweep" "quit"; do
			if [[ -n $x ]]; then choice=$x; break; fi
			err "choose a number from 1 to 6"
		done
		case $choice in
		"choose strategies")
			ask "strategies (a1 a2 a3) [${IMPLS[*]}]: " || return 0
			list=$REPLY
			[[ -n $list ]] || continue
			mapfile -t arr < <(split_list "$list")
			check_impls "${arr[@]}" && IMPLS=("${arr[@]}")
			;;
		"choose sizes")
			ask "sizes, bytes with K/M [${SIZES[*]}]: " || return 0
			[[ -n $REPLY ]] || continue
			mapfile -t arr < <(split_list "$REPLY")
			check_sizes "${arr[@]}" && SIZES=("${arr[@]}")
			;;
		"choose threads")
			ask "threads [${THREADS[*]}]: " || return 0
			[[ -n $REPLY ]] || continue
			mapfile -t arr < <(split_list "$REPLY")
			check_threads "${arr[@]}" && THREADS=("${arr[@]}")
			;;
		"run one experiment")
			local one_impl one_size one_threads
			PS3="strategy> "
			select one_impl in "${IMPLS[@]}"; do [[ -n $one_impl ]] && break; done
			[[ -n ${one_impl-} ]] || return 0
			PS3="size> "
			select one_size in "${SIZES[@]}"; do [[ -n $one_size ]] && break; done
			[[ -n ${one_size-} ]] || return 0
			PS3="threads> "
			select one_threads in "${THREADS[@]}"; do [[ -n $one_threads ]] && break; done
			[[ -n ${one_threads-} ]] || return 0
			IMPLS=("$one_impl") SIZES=("$one_size") THREADS=("$one_threads") REPEATS=1
			MODE_SET=stream MODES=(stream) BUDGET_S="" PROFILE_SIZES=()
			execute
			return $?
			;;
		"run the sweep")
			execute
			return $?
			;;
		*) return 0 ;; # quit, or end of input
		esac
	done
}

# ---------------------------------------------------------------------------------------

# execute: plan, then either print it (--dry-run) or run it.
execute() {
	local rc=0
	setup_placement
	build_plan
	if ((DRY_RUN)); then
		print_plan
		return 0
	fi
	require_root
	check_output >/dev/null || exit 1
	install_traps
	require_tools
	if ((${#PROFILE_SIZES[@]} > 0)) && ! ((USE_PERF && PERF_CTL)); then
		err "note: no profile rounds (they need a working perf with --control: see above)"
		PROFILE_SIZES=()
		build_plan
	fi
	build_binaries
	check_idle_poll
	prepare_output
	setup_link
	steer_link
	start_idle_poll
	probe_drift
	run_sweep || rc=1
	cleanup
	plot
	return "$rc"
}

parse_perf_cli() {
	local row
	row=$(parse_perf "$1") || return 1
	perf_header
	printf '%s\n' "$row"
}

ORIG_ARGS=()

main() {
	ORIG_ARGS=("$@")
	parse_args "$@"
	case $ACTION in
	help)
		usage
		return 0
		;;
	parse-perf)
		parse_perf_cli "$PARSE_FILE"
		return $?
		;;
	cleanup)
		cleanup_stale
		return 0
		;;
	esac
	resolve_options
	build_columns
	if ((DRY_RUN == 0)); then require_root; fi
	if ((INTERACTIVE)); then
		interactive_menu
		return $?
	fi
	execute
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
