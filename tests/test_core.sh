#!/usr/bin/env bash
# tests/test_core.sh — integration tests of the six binaries over 127.0.0.1.
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# pair STRATEGY SIZE THREADS [client args...] — one verified run; checks
# the figures both sides report.
pair() {
	local s=$1 size=$2 threads=$3 name port
	shift 3
	name="$s size=$size threads=$threads${*:+ $*}${SRV_ARGS:+ server $SRV_ARGS} verified"
	port=$(free_port)
	# shellcheck disable=SC2086 # SRV_ARGS is a word list on purpose
	if ! start_server "${s}_server" "$port" -n "$threads" ${SRV_ARGS:-}; then
		fail "$name" "server did not start: $(tail -n 1 "$T_TMP/srv.err")"
		return
	fi
	if ! "$BIN_DIR/${s}_client" -p "$port" -s "$size" -t "$threads" -d "${T_DURATION:-0.3}" --verify --json "$@" \
			>"$T_TMP/cli.json" 2>"$T_TMP/cli.err"; then
		fail "$name" "client failed: $(tail -n 1 "$T_TMP/cli.err")"
		kill "$SRV_PID" 2>/dev/null
		return
	fi
	if ! wait_pid "$SRV_PID" 10; then
		fail "$name" "server exited non-zero: $(tail -n 1 "$T_TMP/srv.err")"
		return
	fi
	local bytes total sent verr st
	bytes=$(json_get "$T_TMP/cli.json" bytes)
	total=$(json_get "$T_TMP/cli.json" bytes_total)
	sent=$(json_get "$T_TMP/srv.json" bytes_sent)
	verr=$(json_get "$T_TMP/cli.json" verify_errors)
	st=$(json_get "$T_TMP/cli.json" status)
	if [[ $st != ok ]]; then fail "$name" "client status '$st'"; return; fi
	if ((bytes <= 0)); then fail "$name" "bytes=$bytes"; return; fi
	if ((verr != 0)); then fail "$name" "verify_errors=$verr"; return; fi
	if ((sent < bytes)); then fail "$name" "server sent $sent < client bytes $bytes"; return; fi
	if ((sent != total)); then fail "$name" "server sent $sent but client received $total in all"; return; fi
	if (( $(json_get "$T_TMP/srv.json" connections) != threads )); then
		fail "$name" "server served $(json_get "$T_TMP/srv.json" connections) connections"; return
	fi
	local want_variant=default
	[[ " $* " == *" --per-field "* ]] && want_variant=per-field
	if [[ $(json_get "$T_TMP/cli.json" variant) != "$want_variant" || $(json_get "$T_TMP/srv.json" variant) != "$want_variant" ]]; then
		fail "$name" "variant not reported as $want_variant by both sides"; return
	fi
	if [[ $s == a3 ]]; then
		local sends comp copied missing
		sends=$(json_get "$T_TMP/srv.json" zc_sends)
		comp=$(json_get "$T_TMP/srv.json" zc_completions)
		copied=$(json_get "$T_TMP/srv.json" zc_copied)
		missing=$(json_get "$T_TMP/srv.json" zc_missing)
		if [[ -z $sends || -z $comp || -z $copied ]]; then fail "$name" "zc keys missing"; return; fi
		if ((comp <= 0 || comp != sends || missing != 0)); then
			fail "$name" "zc_sends=$sends zc_completions=$comp zc_missing=$missing"; return
		fi
		# loopback delivery always gets the kernel's deferred copy
		if ((copied != comp)); then fail "$name" "zc_copied=$copied of $comp on loopback"; return; fi
	fi
	pass "$name"
}

for s in a1 a2 a3; do
	for size in 64 4K 64K 1M; do
		for threads in 1 4; do
			pair "$s" "$size" "$threads"
		done
	done
done
pair a1 4K 2 --per-field
pair a1 100 1 --per-field
pair a3 64K 2 --warmup 0.2
pair a2 64M 1
SRV_ARGS="--zc-pool 128K" pair a3 64K 1
# a 2-message pool makes nearly every send wait for a completion (and the
# run above still verified every byte)
depth=$(json_get "$T_TMP/srv.json" zc_pool_depth)
waits=$(json_get "$T_TMP/srv.json" zc_pool_waits)
if [[ $depth == 2 ]] && ((waits > 0)); then
	pass "a3 --zc-pool 128K at 64K: depth 2, $waits sends waited for a buffer"
else
	fail "a3 --zc-pool 128K at 64K: depth 2 and waits" "depth=$depth waits=$waits"
fi
SRV_ARGS="-A 0" pair a3 4K 2 -A 1

# --- request-response mode -------------------------------------------
rr_pair() {
	local s=$1 size=$2 threads=$3 name port
	name="$s rr size=$size threads=$threads verified"
	port=$(free_port)
	if ! start_server "${s}_server" "$port" -n "$threads"; then
		fail "$name" "server did not start"; return
	fi
	if ! "$BIN_DIR/${s}_client" -p "$port" -s "$size" -t "$threads" -d "${T_DURATION:-0.3}" --mode rr --verify --json \
			>"$T_TMP/cli.json" 2>"$T_TMP/cli.err"; then
		fail "$name" "client failed: $(tail -n 1 "$T_TMP/cli.err")"; kill "$SRV_PID" 2>/dev/null; return
	fi
	if ! wait_pid "$SRV_PID" 10; then fail "$name" "server exited non-zero"; return; fi
	local tx p50 p99 max mn verr
	tx=$(json_get "$T_TMP/cli.json" transactions)
	mn=$(json_get "$T_TMP/cli.json" rtt_min_us)
	p50=$(json_get "$T_TMP/cli.json" rtt_p50_us)
	p99=$(json_get "$T_TMP/cli.json" rtt_p99_us)
	max=$(json_get "$T_TMP/cli.json" rtt_max_us)
	verr=$(json_get "$T_TMP/cli.json" verify_errors)
	if [[ $(json_get "$T_TMP/cli.json" mode) != rr || $(json_get "$T_TMP/srv.json" mode) != rr ]]; then
		fail "$name" "mode not reported as rr by both sides"; return
	fi
	if ! ((tx > 0)); then fail "$name" "transactions=$tx"; return; fi
	if ((verr != 0)); then fail "$name" "verify_errors=$verr"; return; fi
	if ! awk -v a="$mn" -v b="$p50" -v c="$p99" -v d="$max" 'BEGIN { exit !(a > 0 && a <= b && b <= c && c <= d) }'; then
		fail "$name" "percentiles out of order: min=$mn p50=$p50 p99=$p99 max=$max"; return
	fi
	if (( $(json_get "$T_TMP/srv.json" bytes_sent) != $(json_get "$T_TMP/cli.json" bytes_total) )); then
		fail "$name" "server sent $(json_get "$T_TMP/srv.json" bytes_sent), client got $(json_get "$T_TMP/cli.json" bytes_total)"; return
	fi
	pass "$name (p50 ${p50} us)"
}
for s in a1 a2 a3; do
	rr_pair "$s" 64 1
	rr_pair "$s" 16K 2
done

# --- protocol refusals -------------------------------------------------
port=$(free_port)
start_server a2_server "$port" -n 1
if "$BIN_DIR/a1_client" -p "$port" -d 0.2 >"$T_TMP/cli.out" 2>"$T_TMP/cli.err"; then
	fail "strategy mismatch refused" "a1_client against a2_server exited 0"
elif ! grep -q 'strategy mismatch: server runs a2, client asked for a1' "$T_TMP/cli.err"; then
	fail "strategy mismatch refused" "client said: $(cat "$T_TMP/cli.err")"
elif ! "$BIN_DIR/a2_client" -p "$port" -d 0.2 --verify >/dev/null 2>"$T_TMP/cli2.err"; then
	fail "strategy mismatch refused" "server did not serve the next client: $(cat "$T_TMP/cli2.err")"
elif ! wait_pid "$SRV_PID" 10; then
	fail "strategy mismatch refused" "server exit status non-zero"
elif [[ $(json_get "$T_TMP/srv.json" rejected) != 1 ]]; then
	fail "strategy mismatch refused" "server rejected=$(json_get "$T_TMP/srv.json" rejected)"
else
	pass "strategy mismatch refused, next client served"
fi

port=$(free_port)
if "$BIN_DIR/a2_client" -p "$port" -d 0.2 2>"$T_TMP/cli.err"; then
	fail "connection refused exits 1" "exit 0"
else
	rc=$?
	if ((rc == 1)) && grep -q 'Connection refused' "$T_TMP/cli.err"; then
		pass "connection refused exits 1 with a clear message"
	else
		fail "connection refused exits 1" "rc=$rc: $(cat "$T_TMP/cli.err")"
	fi
fi

# --- the server's memory budget refuses what it cannot hold, then serves on
port=$(free_port)
start_server a2_server "$port" -n 1 --mem-budget 1M
if "$TOP/a2_client" -p "$port" -s 4M -d 0.2 2>"$T_TMP/cli.err"; then
	fail "memory budget refuses a 4 MiB message under a 1 MiB budget" "client exit 0"
elif ! grep -q 'server memory budget: needs [45] MiB' "$T_TMP/cli.err"; then
	fail "memory budget refuses a 4 MiB message under a 1 MiB budget" "client said: $(cat "$T_TMP/cli.err")"
elif ! "$TOP/a2_client" -p "$port" -s 64K -d 0.2 --verify >/dev/null 2>&1 || ! wait_pid "$SRV_PID" 10; then
	fail "memory budget refuses a 4 MiB message under a 1 MiB budget" "the next, smaller client was not served"
else
	pass "memory budget refuses a 4 MiB message under a 1 MiB budget, serves a 64 KiB one"
fi

# --- bad arguments: one line, exit 2 ----------------------------------
bad_args() {
	local bin=$1 out rc
	shift
	out=$("$BIN_DIR/$bin" "$@" 2>&1 >/dev/null)
	rc=$?
	if ((rc != 2)); then
		fail "$bin $* is a usage error" "exit $rc"
	elif [[ $(printf '%s\n' "$out" | wc -l) -ne 1 ]]; then
		fail "$bin $* is a usage error" "not one line: $out"
	else
		pass "$bin $* is a usage error"
	fi
}
bad_args a1_client -s 10X
bad_args a1_client -s 0
bad_args a1_client -s 63
bad_args a1_client -s 65M
bad_args a1_client -s -5
bad_args a1_client -t 0
bad_args a1_client -t 1025
bad_args a1_client -t 99999999999999999999999
bad_args a1_client -d 0
bad_args a1_client -d -1
bad_args a1_client -d abc
bad_args a1_client -p 0
bad_args a1_client -p 65536
bad_args a1_client --mode rr2
bad_args a1_client --mode both
bad_args a1_client --bogus
bad_args a1_client -s
bad_args a1_client extra
bad_args a2_client --per-field
bad_args a1_server --zc-pool 1M
bad_args a3_server --zc-pool 0
bad_args a2_server -n 0
bad_args a2_server -s 64
bad_args a3_client -A x
bad_args a2_server -A 1000
bad_args a2_client -A 0,1000
bad_args a2_server --mem-budget 0
bad_args a2_client -t 1024 -s 64M   # more receive buffers than half the RAM of any test machine

for b in a1_server a1_client a2_server a2_client a3_server a3_client; do
	if "$BIN_DIR/$b" --help | grep -q "^Usage: $b" && "$BIN_DIR/$b" --version | grep -q 'copybench'; then
		pass "$b --help and --version"
	else
		fail "$b --help and --version" "no usage or version line"
	fi
done
if "$BIN_DIR/a2_client" --help | grep -q 'time per message' && "$BIN_DIR/a2_client" --help | grep -q '1-1024'; then
	pass "client help names us_per_msg as time per message and the ranges"
else
	fail "client help names us_per_msg as time per message and the ranges" "missing text"
fi
t_done
