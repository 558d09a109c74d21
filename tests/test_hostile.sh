#!/usr/bin/env bash
# tests/test_hostile.sh — the six binaries against hostile or broken peers
# (issue 8): garbage and malformed hellos, silent peers, peers that reset,
# more connections than the server's thread cap; clients against a refused
# port, a server killed or frozen mid-run, a server that never answers, a
# server that sends a wrong byte, skips a message or stops mid-message; and
# A3's ENOBUFS path under a tiny net.core.optmem_max in a private namespace.
#
# Asserts exit codes, messages and timings (generous upper bounds, never
# speed).  The slow checks (the 5 s hello timeout, the 10 s I/O timeout) run
# in the background while the quick ones run, so the file takes ~15 s.
# BIN_DIR (default: the top directory) selects the build under test, e.g.
# build/asan for `make sanitize`.
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="${BIN_DIR:-$TOP}"
[[ $BIN == /* ]] || BIN="$TOP/$BIN"
readonly BIN
readonly PEER="$TOP/tests/hostile_peer.py"
# limits as common.h defines them (the fallbacks are the values of 1.0.0)
h_const() { sed -n "s/^#define $1[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1/p" "$TOP/common.h"; }
HELLO_TIMEOUT_S=$(h_const HELLO_TIMEOUT_S)
STALL_S=$(h_const CLIENT_STALL_S)
[[ -n $STALL_S ]] || STALL_S=$(h_const IO_TIMEOUT_S)
THREAD_CAP=$(h_const THREADS_MAX)
readonly HELLO_TIMEOUT_S=${HELLO_TIMEOUT_S:-5} STALL_S=${STALL_S:-10} THREAD_CAP=${THREAD_CAP:-1024}
NS=""
declare -A SPID=()   # tag -> PID of a server started by srv_up

# shellcheck disable=SC2317 # invoked by the EXIT trap
hostile_cleanup() {
	local pid
	for pid in "${T_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null || true   # a SIGSTOPped process must die too
	done
	if [[ -n $NS ]]; then
		ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$NS" 2>/dev/null || true
	fi
	t_cleanup
}
trap hostile_cleanup EXIT

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# srv_up TAG NAME PORT ARGS... — start $BIN/NAME with --json in the
# background (output in $T_TMP/TAG.{json,err}), wait until it listens
# (bounded); its PID goes to SPID[TAG].
srv_up() {
	local tag=$1 rc=0
	start_server_as "$@" || rc=$?
	SPID[$tag]=$SRV_PID
	return "$rc"
}

# bg_timed TAG LIMIT_S CMD... — run CMD in the background (killed after
# LIMIT_S); when it ends, "$T_TMP/TAG.rc" holds "<exit status> <elapsed ms>".
bg_timed() {
	local tag=$1 limit=$2
	shift 2
	(
		t0=$(now_ms)
		timeout -k 2 "$limit" "$@" >"$T_TMP/$tag.out" 2>"$T_TMP/$tag.err"
		rc=$?
		echo "$rc $(($(now_ms) - t0))" >"$T_TMP/$tag.rc"
	) &
	T_PIDS+=("$!")
}

# bg_wait TAG LIMIT_S — wait (bounded) for a bg_timed job; sets BG_RC, BG_MS.
bg_wait() {
	local tag=$1 limit=$2
	BG_RC=none BG_MS=0
	wait_until "$limit" 0.05 test -s "$T_TMP/$tag.rc" || return 1
	read -r BG_RC BG_MS <"$T_TMP/$tag.rc"
}

# bg_client_failed NAME TAG WAIT_S TEXT MAX_MS — the bg_timed client TAG ended (waited for
# at most WAIT_S) with exit 1 and TEXT on stderr within MAX_MS; otherwise `fail NAME` why.
bg_client_failed() {
	local name=$1 tag=$2 text=$4 max_ms=$5
	if ! bg_wait "$tag" "$3"; then
		fail "$name" "client did not end"
	elif ((BG_RC != 1)); then
		fail "$name" "exit $BG_RC: $(tail -n 1 "$T_TMP/$tag.err")"
	elif ! grep -q -- "$text" "$T_TMP/$tag.err"; then
		fail "$name" "message: $(tail -n 1 "$T_TMP/$tag.err")"
	elif ((BG_MS > max_ms)); then
		fail "$name" "took ${BG_MS} ms"
	else
		return 0
	fi
	return 1
}

# log_count FILE TEXT — how many lines of FILE contain TEXT.
log_count() { grep -cF -- "$2" "$1" 2>/dev/null || true; }

# log_has FILE TEXT N — FILE has N lines with TEXT (1 if not yet).
# shellcheck disable=SC2317 # called through wait_until
log_has() { (($(log_count "$1" "$2") >= $3)); }

# wait_log FILE TEXT N LIMIT_S — until FILE has N lines with TEXT (bounded).
wait_log() { wait_until "$4" 0.05 log_has "$1" "$2" "$3"; }

# has_line FILE — FILE's first line is not empty (a peer printed its port there).
# shellcheck disable=SC2317 # called through wait_until
has_line() { [[ -n $(head -n 1 "$1" 2>/dev/null) ]]; }

# verified_client TAG NAME PORT — a short verified run that must succeed.
verified_client() {
	"$BIN/$2" -p "$3" -d 0.3 --verify --json >"$T_TMP/$1.json" 2>"$T_TMP/$1.err" &&
		[[ $(json_get "$T_TMP/$1.json" status) == ok ]] &&
		(($(json_get "$T_TMP/$1.json" verify_errors) == 0 && $(json_get "$T_TMP/$1.json" bytes) > 0))
}

have_python() { command -v python3 >/dev/null 2>&1; }


# ======================================================================
# background: slow timeout checks, started first, collected at the end
# ======================================================================

start_timeout_checks() {
	# a silent peer and a truncated hello that then goes silent
	P_TMO=$(free_port)
	if ! srv_up tmo a1_server "$P_TMO"; then
		fail "silent peers are dropped after the hello timeout" "server did not start: $(tail -n 1 "$T_TMP/tmo.err")"
		P_TMO=""
	else
		bg_timed tmo_probe 20 python3 "$PEER" probe --port "$P_TMO" --wait 12 silent truncated-silent trickle
	fi
	# a client against a listener that accepts and never answers
	bg_timed mute 20 python3 "$PEER" mute-server --seconds 15
	local port=""
	wait_until 5 0.05 has_line "$T_TMP/mute.out"
	port=$(head -n 1 "$T_TMP/mute.out" 2>/dev/null)
	if [[ -z $port ]]; then
		MUTE_PORT=""
	else
		MUTE_PORT=$port
		bg_timed mute_cli 20 "$BIN/a3_client" -p "$port" -d 1
	fi
	# an a3 client that stops reading: the server's sends block; its
	# zero-copy buffers must come back (not leak) when it drops the connection
	P_STALL=$(free_port)
	if srv_up stall a3_server "$P_STALL" -n 1; then
		bg_timed stall_peer 30 python3 -c '
import socket, struct, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
# hello: a3, stream, announcing 1 s of run time (the server allows 10 s more)
s.sendall(struct.pack("<IHBBIIQ8x", 0x42595043, 1, 3, 1, 0, 1000, 65536))
s.recv(64)
s.sendall(b"G")
time.sleep(16)' "$P_STALL"
	else
		P_STALL=""
	fi
	# a server frozen (SIGSTOP) in the middle of a run
	P_STOP=$(free_port)
	if srv_up stop a2_server "$P_STOP" -n 1; then
		bg_timed stop_cli 25 "$BIN/a2_client" -p "$P_STOP" -d 1 --verify
		sleep 0.5
		kill -STOP "${SPID[stop]}"
	else
		P_STOP=""
	fi
}

check_timeout_checks() {
	local name line after
	# -- silent peers
	name="silent peers are dropped after the ${HELLO_TIMEOUT_S} s hello timeout"
	if [[ -n $P_TMO ]]; then
		if ! bg_wait tmo_probe 25; then
			fail "$name" "probe did not finish"
		else
			local k ok=1
			for k in silent truncated-silent trickle; do
				line=$(grep "^$k: " "$T_TMP/tmo_probe.out")
				after=${line##*after=}
				if [[ $line != *"reply status=1 reason=peer sent no complete hello within the timeout after="* ]]; then
					fail "$name ($k)" "got '$line' (rc $BG_RC, $(tail -n 1 "$T_TMP/tmo_probe.err"))"; ok=0
				elif ! awk -v a="$after" -v lo="$HELLO_TIMEOUT_S" 'BEGIN { exit !(a >= lo - 0.5 && a <= lo + 4) }'; then
					fail "$name ($k)" "closed after ${after}s, expected ${HELLO_TIMEOUT_S}s (+4 s slack)"; ok=0
				else
					pass "$name ($k: refused and closed after ${after}s)"
				fi
			done
			kill -TERM "${SPID[tmo]}" 2>/dev/null
			if wait_pid "${SPID[tmo]}" 10 && ((ok)) && [[ $(json_get "$T_TMP/tmo.json" rejected) == 3 ]]; then
				pass "server survives silent peers and counts them rejected"
			else
				fail "server survives silent peers and counts them rejected" \
					"exit/rejected=$(json_get "$T_TMP/tmo.json" rejected): $(tail -n 1 "$T_TMP/tmo.err")"
			fi
		fi
	fi
	# -- a server that accepts and never answers
	name="client vs a server that never answers: exit 1 within the hello timeout"
	if [[ -z $MUTE_PORT ]]; then
		fail "$name" "mute listener did not start: $(cat "$T_TMP/mute.err")"
	elif bg_client_failed "$name" mute_cli 25 "did not answer the hello: timed out" $(((HELLO_TIMEOUT_S + 4) * 1000)); then
		pass "$name (${BG_MS} ms: $(tail -n 1 "$T_TMP/mute_cli.err"))"
	fi
	# -- an a3 reader that stalls
	name="a3 client stops reading: connection fails, zero-copy buffers recovered (zc_missing 0)"
	if [[ -z $P_STALL ]]; then
		fail "$name" "server did not start: $(tail -n 1 "$T_TMP/stall.err")"
	else
		local rc=0
		wait_pid "${SPID[stall]}" 25 || rc=$?
	fi
	if [[ -z $P_STALL ]]; then
		:
	elif ((rc != 1)); then
		fail "$name" "server exit status $rc (want 1): $(tail -n 1 "$T_TMP/stall.err")"
	else
		local why missing comp sends
		why=$(json_get "$T_TMP/stall.json" reason)
		missing=$(json_get "$T_TMP/stall.json" zc_missing)
		comp=$(json_get "$T_TMP/stall.json" zc_completions)
		sends=$(json_get "$T_TMP/stall.json" zc_sends)
		if [[ $missing != 0 || $comp != "$sends" || $why != *"client stopped reading"* ]]; then
			fail "$name" "zc_missing=$missing completions=$comp sends=$sends reason='$why'"
		else
			pass "$name ($sends sends, all completed)"
		fi
		# TCP_INFO is read before a3 disconnects the failed socket (after
		# connect(AF_UNSPEC) it reads as zeros); its life CPU stays small
		# while it waits for the completions (no busy poll on POLLHUP)
		local rtt life
		rtt=$(json_get "$T_TMP/stall.json" tcp_rtt_us)
		life=$(json_get "$T_TMP/stall.json" life_cpu_sys_s)
		if [[ -n $rtt && $rtt != 0 && $rtt != null ]] && awk -v l="$life" 'BEGIN { exit !(l < 2) }'; then
			pass "a3 stalled reader: TCP_INFO read before the disconnect (rtt ${rtt} us), ${life} s system CPU in all"
		else
			fail "a3 stalled reader: TCP_INFO before the disconnect" "tcp_rtt_us=$rtt life_cpu_sys_s=$life"
		fi
	fi
	# -- a server frozen mid-run
	name="client vs a server frozen (SIGSTOP) mid-run: exit 1 within duration + ${STALL_S} s stall limit"
	if [[ -z $P_STOP ]]; then
		fail "$name" "server did not start: $(tail -n 1 "$T_TMP/stop.err")"
	elif bg_client_failed "$name" stop_cli 30 "server sent nothing for ${STALL_S} s" $(((1 + STALL_S + 5) * 1000)); then
		pass "$name (${BG_MS} ms)"
	fi
	if [[ -n $P_STOP ]]; then
		kill -9 "${SPID[stop]}" 2>/dev/null
		kill -CONT "${SPID[stop]}" 2>/dev/null
	fi
}

# ======================================================================
# server: malformed hellos are refused; the server goes on serving
# ======================================================================

check_bad_hellos() {
	local port
	port=$(free_port)
	if ! srv_up bad a2_server "$port"; then
		fail "server refuses malformed hellos" "server did not start: $(tail -n 1 "$T_TMP/bad.err")"
		return
	fi
	# kind -> the reason the reply must carry
	local -A want=(
		[random32]="not a copybench client (bad magic"
		[random4k]="not a copybench client (bad magic"
		[truncated-close]="peer sent a truncated hello"
		[wrong-magic]="not a copybench client (bad magic 0xdeadbeef)"
		[bad-version]="protocol version 99 not supported"
		[size-0]="message size 0 not in 64..64M"
		[size-2^63]="message size 9223372036854775808 not in 64..64M"
		[size-64M+1]="message size 67108865 not in 64..64M"
		[strategy-99]="unknown strategy 99"
		[mode-200]="unknown mode 200"
		[mismatch-a1]="strategy mismatch: server runs a2, client asked for a1"
	)
	local kinds=("${!want[@]}") k line after
	python3 "$PEER" probe --port "$port" --wait 4 "${kinds[@]}" >"$T_TMP/bad_probe.out" 2>"$T_TMP/bad_probe.err"
	for k in "${kinds[@]}"; do
		line=$(grep -F "$k: " "$T_TMP/bad_probe.out" | head -n 1)
		after=${line##*after=}
		if [[ $line != "$k: reply status=1 reason=${want[$k]}"* ]]; then
			fail "hello '$k' refused with a reason" "got '${line:-nothing}' $(tail -n 1 "$T_TMP/bad_probe.err")"
		elif ! awk -v a="$after" 'BEGIN { exit !(a < 3) }'; then
			fail "hello '$k' refused with a reason" "answer took ${after}s"
		else
			line=${line#*reason=}
			pass "hello '$k' refused: ${line% after=*}"
		fi
	done
	if ! kill -0 "${SPID[bad]}" 2>/dev/null; then
		fail "server serves a normal client after malformed hellos" "server died: $(tail -n 2 "$T_TMP/bad.err")"
		return
	fi
	if verified_client bad_cli a2_client "$port"; then
		pass "server serves a normal client after malformed hellos"
	else
		fail "server serves a normal client after malformed hellos" "$(tail -n 1 "$T_TMP/bad_cli.err")"
	fi
	kill -TERM "${SPID[bad]}"
	if ! wait_pid "${SPID[bad]}" 15; then
		fail "server exits 0 on SIGTERM after malformed hellos" "exit status non-zero: $(tail -n 1 "$T_TMP/bad.err")"
	elif [[ $(json_get "$T_TMP/bad.json" rejected) != "${#kinds[@]}" || $(json_get "$T_TMP/bad.json" connections) != 1 ]]; then
		fail "server exits 0 on SIGTERM after malformed hellos" \
			"rejected=$(json_get "$T_TMP/bad.json" rejected) (want ${#kinds[@]}) connections=$(json_get "$T_TMP/bad.json" connections)"
	else
		pass "server exits 0 on SIGTERM after malformed hellos, rejected=${#kinds[@]} connections=1"
	fi
}

# ======================================================================
# server: a client killed mid-stream ends only its own connection
# ======================================================================

check_reset_mid_stream() {
	local s=$1 mode=${2:-stream} port
	local name="$s $mode: a client killed (SIGKILL) mid-run ends only its own connection"
	local -a margs=(--mode "$mode")
	port=$(free_port)
	if ! srv_up rst "${s}_server" "$port" -n 2; then
		fail "$name" "server did not start: $(tail -n 1 "$T_TMP/rst.err")"
		return
	fi
	"$BIN/${s}_client" -p "$port" -d 2 --verify --json "${margs[@]}" >"$T_TMP/rst_ok.json" 2>"$T_TMP/rst_ok.err" &
	local ok_pid=$!
	"$BIN/${s}_client" -p "$port" -d 10 "${margs[@]}" >/dev/null 2>&1 &
	local victim=$!
	T_PIDS+=("$ok_pid" "$victim")
	sleep 0.7
	kill -9 "$victim"
	wait "$victim" 2>/dev/null
	# stream: the server is mid-send, so it sees the reset; rr: a finished
	# client says goodbye before closing, so a close without it is a failure
	# too — either way exactly one failed connection
	local max_failed=1 min_failed=1
	local failed="" conns="" said=""
	if ! wait_pid "$ok_pid" 15; then
		fail "$name" "surviving client failed: $(tail -n 1 "$T_TMP/rst_ok.err")"
	elif [[ $(json_get "$T_TMP/rst_ok.json" status) != ok || $(json_get "$T_TMP/rst_ok.json" verify_errors) != 0 ]]; then
		fail "$name" "surviving client status=$(json_get "$T_TMP/rst_ok.json" status)"
	elif ! wait_pid "${SPID[rst]}" 15 && [[ ! -s $T_TMP/rst.json ]]; then
		fail "$name" "server did not finish: $(tail -n 1 "$T_TMP/rst.err")"
	elif failed=$(json_get "$T_TMP/rst.json" failed) conns=$(json_get "$T_TMP/rst.json" connections) &&
		[[ $conns != 2 || -z $failed ]] || ((failed < min_failed || failed > max_failed)); then
		fail "$name" "server connections=$conns failed=$failed"
	elif ((failed == 1)) && ! grep -q 'failed: client reset the connection' "$T_TMP/rst.err"; then
		fail "$name" "server did not say the client reset: $(grep -m1 failed "$T_TMP/rst.err")"
	elif [[ $s == a3 && $(json_get "$T_TMP/rst.json" zc_missing) != 0 ]]; then
		fail "$name" "a3 lost completions: zc_missing=$(json_get "$T_TMP/rst.json" zc_missing)"
	else
		((failed == 1)) && said=", 'client reset the connection'"
		pass "$name (the other finished ok; server: connections=2 failed=$failed$said)"
	fi
}

# ======================================================================
# server: more connections than the thread cap
# ======================================================================

check_flood() {
	local n=$((THREAD_CAP + 76)) port name="$((THREAD_CAP + 76)) hello-less connections: those beyond the cap refused, server survives"
	local need=$((2 * n + 256))
	if (($(ulimit -n) < need)) && ! ulimit -n "$need" 2>/dev/null; then
		skip "$name" "ulimit -n is $(ulimit -n) and cannot be raised to $need"
		return
	fi
	port=$(free_port)
	if ! srv_up flood a2_server "$port"; then
		fail "$name" "server did not start: $(tail -n 1 "$T_TMP/flood.err")"
		return
	fi
	python3 "$PEER" flood --port "$port" --count "$n" --expect $((n - THREAD_CAP)) --settle 4 \
		>"$T_TMP/flood.out" 2>"$T_TMP/flood.err2"
	local busy open
	busy=$(sed -n "s/^\\([0-9]*\\) x reply status=1 reason=server busy: $THREAD_CAP connections active\$/\\1/p" "$T_TMP/flood.out")
	open=$(sed -n 's/^still-open //p' "$T_TMP/flood.out")
	if [[ $busy != $((n - THREAD_CAP)) || $open != "$THREAD_CAP" ]]; then
		fail "$name" "want $((n - THREAD_CAP)) 'server busy' replies and $THREAD_CAP held; got: $(tr '\n' ';' <"$T_TMP/flood.out") $(tail -n 1 "$T_TMP/flood.err2")"
	elif ! kill -0 "${SPID[flood]}" 2>/dev/null; then
		fail "$name" "server died: $(tail -n 2 "$T_TMP/flood.err")"
	else
		pass "$name ($busy refused 'server busy: $THREAD_CAP connections active')"
	fi
	# every held connection was closed by us: the server must release all of
	# them (each refused as 'closed before its hello') and then serve normally
	name="server serves a normal client after the connection flood"
	if ! wait_log "$T_TMP/flood.err" "refused a connection" "$n" 10; then
		fail "$name" "server released only $(log_count "$T_TMP/flood.err" "refused a connection") of $n connections"
	elif ! verified_client flood_cli a2_client "$port"; then
		fail "$name" "$(tail -n 1 "$T_TMP/flood_cli.err")"
	else
		pass "$name"
	fi
	kill -TERM "${SPID[flood]}"
	if wait_pid "${SPID[flood]}" 15 && [[ $(json_get "$T_TMP/flood.json" rejected) == "$n" ]]; then
		pass "server exits 0 after the flood, rejected=$n"
	else
		fail "server exits 0 after the flood" "rejected=$(json_get "$T_TMP/flood.json" rejected): $(tail -n 1 "$T_TMP/flood.err")"
	fi
}

# ======================================================================
# client: refused, server killed mid-run
# ======================================================================

check_client_refused() {
	local port t0 rc ms name="client: connection refused → exit 1 at once with the reason"
	port=$(free_port)
	t0=$(now_ms)
	"$BIN/a1_client" -p "$port" -d 1 >/dev/null 2>"$T_TMP/ref.err"
	rc=$? ms=$(($(now_ms) - t0))
	if ((rc == 1)) && grep -q "connect to 127.0.0.1 port $port: Connection refused" "$T_TMP/ref.err" && ((ms < 3000)); then
		pass "$name (${ms} ms)"
	else
		fail "$name" "rc=$rc after ${ms} ms: $(cat "$T_TMP/ref.err")"
	fi
}

check_server_killed() {
	local port t0 rc ms dur=3 name="client: server killed (SIGKILL) mid-run → exit 1 with a clear message within duration + 5 s"
	port=$(free_port)
	if ! srv_up kill a2_server "$port"; then
		fail "$name" "server did not start: $(tail -n 1 "$T_TMP/kill.err")"
		return
	fi
	t0=$(now_ms)
	bg_timed kill_cli 30 "$BIN/a2_client" -p "$port" -d "$dur" -t 2 --verify --json
	sleep 1
	kill -9 "${SPID[kill]}"
	if ! bg_wait kill_cli 35; then
		fail "$name" "client did not end"
		return
	fi
	ms=$BG_MS rc=$BG_RC
	if ((rc != 1)); then
		fail "$name" "exit $rc: $(tail -n 1 "$T_TMP/kill_cli.err")"
	elif ! grep -Eq 'connections failed: server (closed the connection|reset)|Connection reset' "$T_TMP/kill_cli.err"; then
		fail "$name" "message: $(tail -n 1 "$T_TMP/kill_cli.err")"
	elif [[ $(json_get "$T_TMP/kill_cli.out" status) != failed ]]; then
		fail "$name" "JSON status '$(json_get "$T_TMP/kill_cli.out" status)'"
	elif ((ms > (dur + 5) * 1000)); then
		fail "$name" "took ${ms} ms"
	else
		pass "$name (${ms} ms: $(tail -n 1 "$T_TMP/kill_cli.err"))"
	fi
}

# ======================================================================
# client: a server that lies — the integrity checks must catch it
# ======================================================================

# lying FAULT CLIENT_ARGS... — run a2_client against hostile_peer.py's
# lying-server with FAULT at message 50; sets LY_RC and leaves the client's
# output in $T_TMP/ly.{json,err}.
lying() {
	local fault=$1 port=""
	shift
	: >"$T_TMP/ly.port"
	python3 "$PEER" lying-server --fault "$fault" --at 50 --seconds 10 >"$T_TMP/ly.port" 2>"$T_TMP/ly.perr" &
	local lpid=$!
	T_PIDS+=("$lpid")
	wait_until 5 0.05 has_line "$T_TMP/ly.port"
	port=$(head -n 1 "$T_TMP/ly.port")
	LY_RC=none
	if [[ -n $port ]]; then
		timeout -k 2 20 "$BIN/a2_client" -p "$port" -s 4K -d 0.5 --json "$@" >"$T_TMP/ly.json" 2>"$T_TMP/ly.err"
		LY_RC=$?
	fi
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
}

check_lying_server() {
	local name="client --verify catches a flipped byte from the server"
	lying byte --verify
	if [[ $LY_RC != 1 ]]; then
		fail "$name" "exit $LY_RC: $(tail -n 1 "$T_TMP/ly.err")"
	elif ! grep -Eq 'connection 0: message 50 field 4 byte 0 is 0x[0-9a-f]{2}, expected 0x[0-9a-f]{2}' "$T_TMP/ly.err" ||
		! grep -q '1 messages failed verification' "$T_TMP/ly.err"; then
		fail "$name" "messages: $(tr '\n' ' ' <"$T_TMP/ly.err")"
	elif [[ $(json_get "$T_TMP/ly.json" verify_errors) != 1 || $(json_get "$T_TMP/ly.json" status) != failed ]]; then
		fail "$name" "verify_errors=$(json_get "$T_TMP/ly.json" verify_errors) status=$(json_get "$T_TMP/ly.json" status)"
	else
		pass "$name (exit 1: $(head -n 1 "$T_TMP/ly.err"))"
	fi
	name="client catches a skipped sequence number even without --verify"
	lying seq
	if [[ $LY_RC != 1 ]] || ! grep -q 'connection 0: sequence 51 where 50 was expected' "$T_TMP/ly.err" ||
		[[ $(json_get "$T_TMP/ly.json" verify_errors) != 1 ]]; then
		fail "$name" "exit $LY_RC, verify_errors=$(json_get "$T_TMP/ly.json" verify_errors): $(tr '\n' ' ' <"$T_TMP/ly.err")"
	else
		pass "$name (exit 1, verify_errors=1)"
	fi
	name="client: server closes mid-message → exit 1, the 50 whole messages counted, nothing more"
	lying truncate --verify
	if [[ $LY_RC != 1 ]] || ! grep -q 'server closed the connection mid-message' "$T_TMP/ly.err"; then
		fail "$name" "exit $LY_RC: $(tail -n 1 "$T_TMP/ly.err")"
	elif [[ $(json_get "$T_TMP/ly.json" messages_total) != 50 || $(json_get "$T_TMP/ly.json" status) != failed ]]; then
		fail "$name" "messages_total=$(json_get "$T_TMP/ly.json" messages_total) status=$(json_get "$T_TMP/ly.json" status)"
	else
		pass "$name"
	fi
}

# ======================================================================
# A3: ENOBUFS really exercised (own network namespace, tiny optmem_max)
# ======================================================================

readonly ZC_OPTMEM=1024   # bytes; 4096 also gives ENOBUFS here, 0 and 256 starve a3 (docs/troubleshooting.md, "a3 (MSG_ZEROCOPY) only")

check_zc_enobufs() {
	local name="a3: ENOBUFS under net.core.optmem_max=$ZC_OPTMEM is retried, every byte verified"
	if ((EUID != 0)); then skip "$name" "needs root (network namespace)"; return; fi
	if ! command -v ip >/dev/null; then skip "$name" "no ip (install iproute2)"; return; fi
	local host_before host_after
	host_before=$(cat /proc/sys/net/core/optmem_max)
	NS="cbhostile-$$-$RANDOM"
	if ! ip netns add "$NS" 2>"$T_TMP/ns.err"; then
		NS=""
		skip "$name" "cannot create a network namespace: $(cat "$T_TMP/ns.err")"
		return
	fi
	ip -n "$NS" link set lo up
	ip netns exec "$NS" sysctl -qw net.core.optmem_max="$ZC_OPTMEM"
	host_after=$(cat /proc/sys/net/core/optmem_max)
	if [[ $host_after != "$host_before" ]]; then
		sysctl -qw net.core.optmem_max="$host_before"
		skip "$name" "net.core.optmem_max is not per-namespace on this kernel; restored the host value"
		return
	fi
	local inner
	inner=$(ip netns exec "$NS" cat /proc/sys/net/core/optmem_max)
	if [[ $inner != "$ZC_OPTMEM" ]]; then
		# older kernels (before optmem_max became per-namespace, ~6.8) refuse
		# or ignore the write inside the namespace: nothing to exercise here
		skip "$name" "cannot set net.core.optmem_max inside a namespace on this kernel (reads $inner)"
		return
	fi
	ip netns exec "$NS" "$BIN/a3_server" -p 9090 -n 1 --json >"$T_TMP/zc.json" 2>"$T_TMP/zc.err" &
	local spid=$!
	T_PIDS+=("$spid")
	wait_until 5 0.05 logged "$T_TMP/zc.err" 'listening on'
	ip netns exec "$NS" timeout -k 2 30 "$BIN/a3_client" -p 9090 -d 1 --verify --json \
		>"$T_TMP/zcc.json" 2>"$T_TMP/zcc.err"
	local crc=$?
	wait_pid "$spid" 20
	local src=$?
	local sends comp enob missing verr
	sends=$(json_get "$T_TMP/zc.json" zc_sends)
	comp=$(json_get "$T_TMP/zc.json" zc_completions)
	enob=$(json_get "$T_TMP/zc.json" zc_enobufs)
	missing=$(json_get "$T_TMP/zc.json" zc_missing)
	verr=$(json_get "$T_TMP/zcc.json" verify_errors)
	if ((crc != 0 || src != 0)); then
		fail "$name" "optmem_max=$inner: client rc=$crc ($(tail -n 1 "$T_TMP/zcc.err")), server rc=$src ($(tail -n 1 "$T_TMP/zc.err"))"
	elif [[ -z $enob || -z $sends ]] || ((enob <= 0)); then
		fail "$name" "optmem_max=$inner: zc_enobufs=${enob:-missing}: the ENOBUFS path was not exercised"
	elif ((verr != 0 || comp != sends || missing != 0)); then
		fail "$name" "verify_errors=$verr zc_sends=$sends zc_completions=$comp zc_missing=$missing"
	else
		pass "$name (zc_enobufs=$enob, zc_sends=$sends = zc_completions, verify_errors=0)"
	fi
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS"
	if ip netns list | grep -qw "$NS"; then
		fail "a3 ENOBUFS test leaves no namespace behind" "$NS still exists"
	elif [[ $(cat /proc/sys/net/core/optmem_max) != "$host_before" ]]; then
		fail "a3 ENOBUFS test leaves the host's optmem_max alone" "now $(cat /proc/sys/net/core/optmem_max), was $host_before"
	else
		pass "a3 ENOBUFS test removed its namespace; host optmem_max still $host_before"
	fi
	NS=""
}

main() {
	if ! have_python; then
		skip "hostile peers" "no python3 on PATH (the raw-socket peers need it)"
		check_client_refused
		check_server_killed
		check_zc_enobufs
		t_done
	fi
	start_timeout_checks
	check_bad_hellos
	check_client_refused
	check_reset_mid_stream a2
	check_reset_mid_stream a3
	check_reset_mid_stream a3 rr
	check_flood
	check_server_killed
	check_lying_server
	check_zc_enobufs
	check_timeout_checks
	t_done
}

main "$@"
