#!/usr/bin/env bash
# tests/test_samples.sh — per-interval samples (--interval): they sum to the
# run's totals within one interval on both sides, and a receiver paused for
# 0.35 s shows in its samples as a stall of at least two 0.1 s intervals.
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# check_samples NAME — the samples of $T_TMP/{srv,cli}.json against their totals.
check_samples() {
	local name=$1 out
	if out=$(python3 - "$T_TMP/srv.json" "$T_TMP/cli.json" 2>&1 <<'PY'
import json, sys
srv, cli = (json.load(open(f)) for f in sys.argv[1:3])
for side, d in (("server", srv), ("client", cli)):
    s = d["samples"]
    assert d["interval_s"] == 0.1 and len(s) == 10 == d["intervals"], \
        f"{side}: {len(s)} samples, intervals {d['intervals']}, interval_s {d['interval_s']}"
    assert abs(sum(x["len_s"] for x in s) - 1.0) < 1e-6, f"{side}: lengths do not cover 1 s"
    for key in ("bytes", "messages"):
        total, summed = d[key], sum(x[key] for x in s)
        biggest = max(x[key] for x in s)
        assert abs(summed - total) <= biggest, f"{side}: {key} sum {summed} vs {total}"
    cpu = sum(x["cpu_s"] for x in s)
    assert 0 < cpu <= d["cpu_user_s"] + d["cpu_sys_s"] + 0.02, \
        f"{side}: thread CPU {cpu} over the process's {d['cpu_user_s'] + d['cpu_sys_s']}"
    assert d["interval_stall_s"] < 0.2, f"{side}: a steady run stalled {d['interval_stall_s']} s"
zc = sum(x["zc_completions"] for x in srv["samples"])
assert 0 < zc <= srv["zc_completions"] and \
    sum(x["zc_copied"] for x in srv["samples"]) <= zc, "a3 completions"
assert "zc_completions" not in cli["samples"][0], "the receiver has no completions"
print(f"{len(cli['samples'])} intervals, client cv {cli['interval_cv']:.2f}")
PY
	); then
		pass "$name ($out)"
	else
		fail "$name" "$(tail -n 1 <<<"$out")"
	fi
}

test_sums() {
	local name="a3 --interval 0.1, 2 threads: samples sum to the totals within one interval"
	local port
	port=$(free_port)
	if ! start_server a3_server "$port" -n 2 --interval 0.1; then
		fail "$name" "server did not start"
		return
	fi
	if ! "$BIN_DIR/a3_client" -p "$port" -s 16K -t 2 -d 1 --warmup 0.2 --interval 0.1 --json \
			>"$T_TMP/cli.json" 2>"$T_TMP/cli.err"; then
		fail "$name" "client failed: $(tail -n 1 "$T_TMP/cli.err")"
		return
	fi
	if ! wait_pid "$SRV_PID" 10; then
		fail "$name" "server exited non-zero: $(tail -n 1 "$T_TMP/srv.err")"
		return
	fi
	check_samples "$name"
}

test_stall() {
	local name="a2 receiver paused 0.35 s mid-window: the receiver's samples stall >= 0.2 s"
	local port cpid stall_c stall_s
	port=$(free_port)
	if ! start_server a2_server "$port" -n 1 --interval 0.1; then
		fail "$name" "server did not start"
		return
	fi
	"$BIN_DIR/a2_client" -p "$port" -s 64K -d 1.5 --warmup 0.2 --interval 0.1 --json \
		>"$T_TMP/cli.json" 2>"$T_TMP/cli.err" &
	cpid=$!
	T_PIDS+=("$cpid")
	sleep 0.8
	kill -STOP "$cpid"
	sleep 0.35
	kill -CONT "$cpid"
	if ! wait_pid "$cpid" 15 || ! wait_pid "$SRV_PID" 10; then
		fail "$name" "a side failed: $(tail -n 1 "$T_TMP/cli.err") $(tail -n 1 "$T_TMP/srv.err")"
		return
	fi
	stall_c=$(json_get "$T_TMP/cli.json" interval_stall_s)
	stall_s=$(json_get "$T_TMP/srv.json" interval_stall_s)
	# The sender stalls too unless the socket buffers absorb the pause (a slow sanitizer
	# build's rate): its figure is reported, not held to a bound.
	if awk -v c="$stall_c" -v s="$stall_s" 'BEGIN { exit !(c >= 0.2 && c <= 0.5 && s >= 0) }'; then
		pass "$name (client $stall_c s, server $stall_s s)"
	else
		fail "$name" "interval_stall_s client $stall_c, server $stall_s"
	fi
}

test_usage() {
	local name="--interval: a bad value and too many intervals are usage errors (exit 2)"
	local rc1 rc2
	"$BIN_DIR/a1_client" --interval 0 >/dev/null 2>&1
	rc1=$?
	"$BIN_DIR/a1_client" -d 1000 --interval 0.001 >/dev/null 2>"$T_TMP/usage.err"
	rc2=$?
	if ((rc1 == 2 && rc2 == 2)) && grep -q "more than 99999 intervals" "$T_TMP/usage.err"; then
		pass "$name"
	else
		fail "$name" "exit $rc1 and $rc2: $(cat "$T_TMP/usage.err")"
	fi
}

test_usage
test_sums
test_stall
t_done
