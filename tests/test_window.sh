#!/usr/bin/env bash
# tests/test_window.sh — every figure of a run covers one measured window,
# on both sides: the server's window agrees with the client's (seconds,
# bytes), no process is charged more CPU than the window holds, host-wide
# CPU covers both processes, perf's counters (--perf-ctl) cover the same
# window as rusage, and a3's pool is set up before the window opens.
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# check NAME EXPR — EXPR in Python over s (server JSON) and c (client JSON);
# prints PASS, or FAIL with the figures it used.
check() {
	local name=$1 expr=$2 out
	if out=$(python3 - "$T_TMP/srv.json" "$T_TMP/cli.json" "$expr" 2>&1 <<'PY'
import json, math, sys
s = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
def num(d, k):
    v = d.get(k)
    return float("nan") if v is None else float(v)
expr = sys.argv[3]
ok = eval(expr, {"s": s, "c": c, "num": num, "math": math})
keys = sorted({k for k in ("seconds", "window_s", "bytes", "cpu_user_s", "cpu_sys_s",
                           "host_busy_cpus", "cpus_online", "window", "zc_pool_depth",
                           "buffers", "perf_counters") if k in s or k in c})
print(" ".join(f"{k}=s:{s.get(k)}/c:{c.get(k)}" for k in keys))
sys.exit(0 if ok else 1)
PY
	); then
		pass "$name"
	else
		fail "$name" "$out"
	fi
}

# run_pair STRATEGY "SERVER ARGS" CLIENT ARGS... — one run over loopback;
# JSON in $T_TMP/srv.json and cli.json.  Status 1 when either side failed.
run_pair() {
	local s=$1 sargs=$2 port threads=1 a
	shift 2
	for ((a = 1; a <= $#; a++)); do [[ ${!a} == -t ]] && { b=$((a + 1)); threads=${!b}; }; done
	port=$(free_port)
	# shellcheck disable=SC2086 # sargs is a word list on purpose
	start_server "${s}_server" "$port" -n "$threads" $sargs || return 1
	"$BIN_DIR/${s}_client" -p "$port" --json "$@" >"$T_TMP/cli.json" 2>"$T_TMP/cli.err" || return 1
	wait_pid "$SRV_PID" 20
}

for s in a2 a3; do
	if ! run_pair "$s" "" -t 2 -s 16K -d 1 --warmup 0.3; then
		fail "$s window run" "$(tail -n 1 "$T_TMP/srv.err" "$T_TMP/cli.err")"
		continue
	fi
	check "$s: the server measured a whole window" 's["window"] == "measured" and c["window"] == "measured"'
	check "$s: server and client windows agree within 5% (seconds)" \
		'abs(num(s,"seconds") - num(c,"window_s")) <= 0.05 * num(c,"window_s")'
	check "$s: server and client count the same bytes in their windows (within 5%)" \
		'abs(num(s,"bytes") - num(c,"bytes")) <= 0.05 * num(c,"bytes")'
	check "$s: server CPU in the window <= window x CPUs online" \
		'num(s,"cpu_user_s") + num(s,"cpu_sys_s") <= num(s,"seconds") * num(s,"cpus_online") * 1.02 + 0.02'
	check "$s: whole-life server CPU >= its window CPU" \
		'num(s,"life_cpu_user_s") + num(s,"life_cpu_sys_s") >= num(s,"cpu_user_s") + num(s,"cpu_sys_s") - 0.01'
	# /proc/stat is sampled at the tick (4 ms at HZ=250): allow 10%
	# (+ niced time, which host_busy_cpus leaves out: the tests' own, when run under nice)
	check "$s: host-wide busy CPU >= 0.9 x (server + client CPU) over the window" \
		'num(c,"host_busy_cpus") * num(c,"window_s") + num(c,"host_cpu_nice_s") >= 0.9 * (num(s,"cpu_user_s") + num(s,"cpu_sys_s") + num(c,"cpu_user_s") + num(c,"cpu_sys_s"))'
	check "$s: busy CPUs between 0 and the CPUs online" \
		'0 < num(c,"host_busy_cpus") <= num(c,"cpus_online") * 1.05'
	# D-SACKed segments (Linux 5.9+), comparable to tcp_retrans: a count where the kernel
	# has it, null where it does not (never a made-up 0)
	if grep -qw TCPDSACKRecvSegs /proc/net/netstat; then
		check "$s: the server counts D-SACKed segments over its window" \
			'num(s,"tcp_dsack_recv_segs") >= 0 and num(s,"tcp_dsack_recv") >= 0'
	else
		check "$s: no D-SACKed segment count on a kernel without one" 's.get("tcp_dsack_recv_segs") is None'
	fi
done

if run_pair a2 "" -t 1 -s 1K -d 1 --mode rr; then
	check "rr: the server's window matches the client's" \
		's["window"] == "measured" and abs(num(s,"seconds") - num(c,"window_s")) <= 0.05 * num(c,"window_s")'
else
	fail "rr window run" "$(tail -n 1 "$T_TMP/srv.err" "$T_TMP/cli.err")"
fi

# --buffers: a1/a2 rotate over N messages (every byte still verified); a3's
# pool is never smaller than N
if run_pair a2 "" -s 4K -d 0.5 --buffers 7 --verify; then
	check "a2 --buffers 7: server rotated over 7 buffers, every byte verified" \
		's["buffers"] == 7 and c["verify_errors"] == 0 and s["bytes_sent"] == c["bytes_total"]'
else
	fail "a2 --buffers run" "$(tail -n 1 "$T_TMP/srv.err" "$T_TMP/cli.err")"
fi
if run_pair a1 "" -s 4K -d 0.5 --buffers 3 --verify; then
	check "a1 --buffers 3: verified" 's["buffers"] == 3 and c["verify_errors"] == 0'
else
	fail "a1 --buffers run" "$(tail -n 1 "$T_TMP/srv.err" "$T_TMP/cli.err")"
fi
if run_pair a3 "" -s 64K -d 0.5 --buffers 300 --verify; then
	check "a3 --buffers 300: pool depth >= 300, verified" 's["zc_pool_depth"] >= 300 and c["verify_errors"] == 0'
else
	fail "a3 --buffers run" "$(tail -n 1 "$T_TMP/srv.err" "$T_TMP/cli.err")"
fi
err=$("$BIN_DIR/a2_client" --buffers 0 2>&1)
rc=$?
if ((rc == 2)) && [[ $err == *"bad buffer count '0'"* ]]; then pass "--buffers 0 refused (exit 2)"; else fail "--buffers 0 refused" "rc=$rc $err"; fi

# perf's counters over the same window as rusage (perf stat --control)
if ! command -v perf >/dev/null || ! perf stat -x, -o /dev/null -e task-clock -- true >/dev/null 2>&1; then
	skip "perf window" "perf stat does not work here"
else
	for f in sc sa cc ca; do mkfifo "$T_TMP/$f"; done
	port=$(free_port)
	LC_ALL=C perf stat -x, -D -1 --control "fifo:$T_TMP/sc,$T_TMP/sa" -e task-clock,page-faults -o "$T_TMP/sp.txt" -- \
		"$BIN_DIR/a3_server" -p "$port" -n 1 --json --perf-ctl "$T_TMP/sc,$T_TMP/sa" \
		>"$T_TMP/srv.json" 2>"$T_TMP/srv.err" &
	spid=$!
	T_PIDS+=("$spid")
	for _ in $(seq 1 100); do grep -q 'listening on' "$T_TMP/srv.err" && break; sleep 0.05; done
	LC_ALL=C perf stat -x, -D -1 --control "fifo:$T_TMP/cc,$T_TMP/ca" -e task-clock,page-faults -o "$T_TMP/cp.txt" -- \
		"$BIN_DIR/a3_client" -p "$port" -s 64 -d 1 --warmup 0.2 --json --perf-ctl "$T_TMP/cc,$T_TMP/ca" \
		>"$T_TMP/cli.json" 2>"$T_TMP/cli.err"
	wait_pid "$spid" 20
	stc=$(awk -F, '$3 == "task-clock" {print $1}' "$T_TMP/sp.txt")
	ctc=$(awk -F, '$3 == "task-clock" {print $1}' "$T_TMP/cp.txt")
	spf=$(awk -F, '$3 == "page-faults" {print $1}' "$T_TMP/sp.txt")
	check "perf counters followed the window on both sides" \
		's["perf_counters"] == "window" and c["perf_counters"] == "window"'
	# both are precise runtime (rusage's sum is scaled to sum_exec_runtime);
	# the window edges differ by perf's acknowledgement time (perf_ack_ms),
	# and rusage also holds each switch into the task, which task-clock
	# (from perf's sched-in hook, after the switch) does not: measured here
	# 2-3 us per context switch (docs/measurement.md, "CPU figures that agree")
	for side in s c; do
		tc=$stc
		[[ $side == c ]] && tc=$ctc
		check "$side: perf task-clock ($tc ms) = window rusage within 10% + 20 ms + 10 us per context switch" \
			"abs($tc / 1e3 - num($side,'cpu_user_s') - num($side,'cpu_sys_s')) <= 0.1 * $tc / 1e3 + 0.02 + num($side,'perf_ack_ms') / 1e3 + 1e-5 * (num($side,'ctx_switches_vol') + num($side,'ctx_switches_invol'))"
	done
	# at 64 B the pool is hundreds of messages: set up in open(), before
	# the window, so its first-touch page faults are not counted as sending
	check "a3 64 B: pool set up before the window ($spf page faults in it)" "$spf < 100 and s['zc_pool_depth'] >= 100"
fi

t_done
