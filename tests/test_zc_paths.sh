#!/usr/bin/env bash
# tests/test_zc_paths.sh — every zero-copy path: the io_uring engine (a2
# IORING_OP_SENDMSG, a3 IORING_OP_SENDMSG_ZC with and without registered
# buffers) and receive zero-copy (TCP_ZEROCOPY_RECEIVE), each over loopback
# with --verify at 64 B..1 MiB, 1 and 4 threads, many sends in flight (the
# receiver's sequence check proves the order); the kernel's own report of
# what it copied; the physics of receive zero-copy on a veth pair with a
# page-sized MSS; io_uring forbidden by the sysctl.
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# bytes_sent_by PORT — for wait_until: 0 once the connection from PORT has
# sent over 16 MiB (the stream is well under way), 1 not yet
# shellcheck disable=SC2317 # called by wait_until
bytes_sent_by() {
	local sent
	sent=$(ss -Htin "sport = :$1" 2>/dev/null | grep -o 'bytes_sent:[0-9]*' | head -n 1)
	sent=${sent#bytes_sent:}
	((${sent:-0} > 16777216))
}

# path_run NAME STRATEGY THREADS CLIENT-ARGS... — one verified pair over
# loopback; the server also gets SRV_ARGS
SRV_ARGS=()
path_run() {
	local name=$1 s=$2 t=$3 port
	shift 3
	port=$(free_port)
	if ! start_server "${s}_server" "$port" -n "$t" "${SRV_ARGS[@]}"; then
		fail "$name" "server did not start: $(tail -n 1 "$T_TMP/srv.err")"
		return 1
	fi
	if ! "$BIN_DIR/${s}_client" -p "$port" -t "$t" -d 0.3 --verify --json "$@" >"$T_TMP/cli.json" 2>"$T_TMP/cli.err"; then
		fail "$name" "client: $(tail -n 1 "$T_TMP/cli.err")"
		wait_pid "$SRV_PID" 20
		return 1
	fi
	if ! wait_pid "$SRV_PID" 20; then
		fail "$name" "server: $(tail -n 1 "$T_TMP/srv.err")"
		return 1
	fi
	return 0
}

# a client that cannot make a ring says so before it connects
"$BIN_DIR/a2_client" --engine uring -p 1 -d 0.1 >/dev/null 2>"$T_TMP/probe.err"
if grep -q 'io_uring is' "$T_TMP/probe.err"; then
	skip "io_uring paths" "$(cat "$T_TMP/probe.err")"
	URING=0
else
	URING=1
fi

for size in 64 4K 64K 1M; do
	for t in 1 4; do
		if ((URING)); then
			name="a2 --engine uring $size x$t: every byte verified, all sent received"
			path_run "$name" a2 "$t" -s "$size" --engine uring --uring-depth 32 &&
				if jq_py 'c["status"] == "ok" and c["verify_errors"] == 0 and s["bytes_sent"] == c["bytes_total"] and s["engine"] == "uring" and c["engine"] == "uring"'; then
					pass "$name"
				else fail "$name" "$(head -c 300 "$T_TMP/cli.json")"; fi
			for fixed in on off; do
				name="a3 --engine uring --fixed-buffers $fixed $size x$t: verified, every request notified, copies reported"
				path_run "$name" a3 "$t" -s "$size" --engine uring --fixed-buffers "$fixed" &&
					if jq_py 's["zc_sends"] > 0 and s["zc_completions"] == s["zc_sends"] and s["zc_missing"] == 0 and 0 < s["zc_copied"] <= s["zc_completions"] and c["verify_errors"] == 0 and s["bytes_sent"] == c["bytes_total"] and s["fixed_buffers"] == ("'$fixed'" == "on")'; then
						pass "$name"
					else fail "$name" "$(grep -o '"zc_[a-z_]*": [0-9]*' "$T_TMP/srv.json" | tr '\n' ' ') $(grep -o '"verify_errors": [0-9]*' "$T_TMP/cli.json")"; fi
			done
		fi
		for s in a1 a2 a3; do
			name="$s --rx zerocopy $size x$t: verified in place, mapped + copied = received, the window's share inside it"
			path_run "$name" "$s" "$t" -s "$size" --rx zerocopy &&
				if jq_py 'c["rx"] == "zerocopy" and c["verify_errors"] == 0 and s["bytes_sent"] == c["bytes_total"] and c["rx_mapped_bytes"] + c["rx_copied_bytes"] == c["bytes_total"] and 0 < c["rx_win_mapped_bytes"] + c["rx_win_copied_bytes"] < c["bytes_total"] and c["rx_win_mapped_bytes"] <= c["rx_mapped_bytes"] and c["rx_win_copied_bytes"] <= c["rx_copied_bytes"]'; then
					pass "$name"
				else fail "$name" "$(grep -o '"rx_[a-z_]*": [0-9]*\|"verify_errors": [0-9]*\|"bytes_total": [0-9]*' "$T_TMP/cli.json" | tr '\n' ' ')"; fi
		done
	done
done

# pool_run NAME TIMEOUT_RE REFUSAL_RE WHY CHECK ARGS...: path_run of a3 (1 thread, the
# server's SRV_ARGS) for a pool whose set-up may outlast the client's 5 s limit (a
# sanitizer build, a loaded machine): the client's TIMEOUT_RE without the bug's refusal
# REFUSAL_RE in the server's stderr is a skip saying WHY, not a failure (path_run's FAIL
# line is not printed); otherwise CHECK (jq_py) on the two JSON objects decides.
pool_run() {
	local name=$1 timeout_re=$2 refusal_re=$3 why=$4 check=$5 failed_before=$T_FAILED
	shift 5
	if ! path_run "$name" a3 1 "$@" >"$T_TMP/pool.out"; then
		if grep -q "$timeout_re" "$T_TMP/cli.err" && ! grep -q "$refusal_re" "$T_TMP/srv.err"; then
			T_FAILED=$failed_before
			skip "$name" "$why"
		else
			cat "$T_TMP/pool.out"
		fi
	elif jq_py "$check"; then
		pass "$name"
	else
		fail "$name" "$(grep -o '"zc_[a-z_]*": [0-9]*' "$T_TMP/srv.json" | tr '\n' ' ')"
	fi
}

# a pool of 65,536 buffers asks for a CQ past the kernel's maximum (it
# said "io_uring_setup: Invalid argument"): the CQ is clamped and what is in
# flight bounded by it. Setting up 65,536 buffers takes the ThreadSanitizer
# build over the client's 5 s stall limit (0.5 s in all with the normal build).
if ((URING)); then
	SRV_ARGS=(--zc-pool 64M)
	pool_run "a3 --zc-pool 64M -s 1K --engine uring: the CQ is clamped, every request notified" \
		'server sent nothing for' 'Invalid argument' \
		"the server took over 5 s to set up 65,536 buffers (sanitizer build or loaded machine)" \
		's["zc_pool_depth"] == 65536 and s["zc_sends"] > 0 and s["zc_completions"] == s["zc_sends"] and s["zc_missing"] == 0 and c["verify_errors"] == 0 and s["bytes_sent"] == c["bytes_total"]' \
		-s 1K --engine uring
	SRV_ARGS=()
fi

# a registered region over 1 GiB (the kernel refuses such an iovec with
# EFAULT: it said "registering the buffer pool with io_uring: Bad address")
# is registered in pieces, each message sent from the piece that holds it.
# Allocating and writing 1 GiB can outlast the client's 5 s hello timeout on
# a loaded machine.
if ((URING)); then
	SRV_ARGS=(--zc-pool 1040M)
	pool_run "a3 --zc-pool 1040M -s 1M --engine uring --fixed-buffers on: registered in pieces, verified" \
		'did not answer the hello: timed out' 'Bad address' \
		"the server took over 5 s to allocate and write the 1 GiB pool (machine loaded)" \
		's["zc_pool_depth"] == 1040 and s["fixed_buffers"] and s["zc_sends"] > 0 and s["zc_completions"] == s["zc_sends"] and s["zc_missing"] == 0 and c["verify_errors"] == 0 and s["bytes_sent"] == c["bytes_total"]' \
		-s 1M --engine uring --fixed-buffers on
	SRV_ARGS=()
fi

# a client killed mid-message: the io_uring send that made partial progress
# completes with the bytes done, not the error; the reason must still name
# the reset (it said "send blocked for 10 s: client stopped reading")
if ((URING)); then
	for s in a2 a3; do
		name="$s --engine uring -s 4M, client killed mid-stream: the server names the reset"
		port=$(free_port)
		if ! start_server "${s}_server" "$port" -n 1; then
			fail "$name" "server did not start: $(tail -n 1 "$T_TMP/srv.err")"
			continue
		fi
		"$BIN_DIR/${s}_client" -p "$port" -s 4M --engine uring -d 10 >/dev/null 2>&1 &
		victim=$!
		T_PIDS+=("$victim")
		wait_until 10 0.05 bytes_sent_by "$port" || true
		kill -9 "$victim"
		wait "$victim" 2>/dev/null
		wait_pid "$SRV_PID" 20
		why=$(grep -m1 'failed:' "$T_TMP/srv.err")
		if [[ $why == *"failed: client reset the connection"* && $why != *"stopped reading"* ]]; then
			pass "$name"
		else
			fail "$name" "${why:-no failure reported: $(tail -n 1 "$T_TMP/srv.err")}"
		fi
	done
fi

# a client that stops reading (SIGSTOP): the send blocks, the stream fails
# after IO_TIMEOUT_S, and close reads every submitted request's result
# before the buffers are freed (a request armed on the socket's poll could
# run after the ring's fd was closed); nothing is left running, nothing leaked
if ((URING)); then
	name="a2 --engine uring, client stopped: the stream fails, close reaps every request"
	port=$(free_port)
	if start_server a2_server "$port" -n 1; then
		"$BIN_DIR/a2_client" -p "$port" -s 4M --engine uring -d 30 >/dev/null 2>&1 &
		victim=$!
		T_PIDS+=("$victim")
		wait_until 10 0.05 bytes_sent_by "$port" || true
		kill -STOP "$victim"
		wait_pid "$SRV_PID" 25
		rc=$?
		kill -9 "$victim"
		wait "$victim" 2>/dev/null
		why=$(grep -m1 'failed:' "$T_TMP/srv.err")
		# exit 1: a connection failed (124: the server hung in close)
		if ((rc == 1)) && [[ $why == *"client stopped reading"* && $why != *"still running"* ]]; then
			pass "$name"
		else
			fail "$name" "exit $rc: ${why:-$(tail -n 1 "$T_TMP/srv.err")}"
		fi
	else
		fail "$name" "server did not start: $(tail -n 1 "$T_TMP/srv.err")"
	fi
fi

# --rx zerocopy starts with the receive buffer and window of --rx copy:
# SO_RCVLOWAT 256 KiB made the kernel raise sk_rcvbuf (131072 -> 524288 on
# loopback) and set the window clamp to it. A peer that answers the hello
# and then sends nothing holds each client before any data could let
# autotuning move the buffer; its receive buffer (ss: skmem rb) is read then
rb_of() { # RX — the client's sk_rcvbuf after its hello, with --rx RX
	local rx=$1 port rb=""
	rm -f "$T_TMP/quiet.port"
	python3 - >"$T_TMP/quiet.port" <<'PY' &
import socket, struct, time
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
print(ls.getsockname()[1], flush=True)
ls.settimeout(10)
c, _ = ls.accept(); c.settimeout(10)
hdr = b""
while len(hdr) < 32:
    hdr += c.recv(32 - len(hdr))
c.sendall(struct.pack("<II", 0x42595043, 0) + bytes(56))
c.recv(1)          # the start byte: the client's socket is set up
print("started", flush=True)
time.sleep(3)      # then nothing: the client waits
c.close()
PY
	local ppid=$!
	T_PIDS+=("$ppid")
	wait_until 5 0.05 test -s "$T_TMP/quiet.port" || return 1
	port=$(head -n 1 "$T_TMP/quiet.port")
	"$BIN_DIR/a3_client" -p "$port" -s 64K -d 2 --rx "$rx" >/dev/null 2>&1 &
	local cpid=$!
	T_PIDS+=("$cpid")
	wait_until 5 0.05 grep -q started "$T_TMP/quiet.port"
	rb=$(ss -Htm "dport = :$port" 2>/dev/null | grep -o 'rb[0-9]*' | head -n 1)
	kill -9 "$cpid" 2>/dev/null
	wait "$cpid" "$ppid" 2>/dev/null
	echo "${rb#rb}"
}
name="--rx zerocopy starts with --rx copy's receive buffer (SO_RCVLOWAT does not raise it)"
rb_copy=$(rb_of copy) rb_zc=$(rb_of zerocopy)
if [[ -n $rb_copy && $rb_copy == "$rb_zc" ]]; then
	pass "$name: $rb_copy bytes both"
else
	fail "$name" "copy ${rb_copy:-?} bytes, zerocopy ${rb_zc:-?} bytes"
fi

# receive zero-copy maps only whole order-0 pages: with a page-sized MSS
# (veth MTU 4148) a zero-copy sender's data maps, a send() sender's not
if ((EUID != 0)); then
	skip "receive zero-copy physics" "needs root for network namespaces"
else
	NS_A="cbzt$$a" NS_B="cbzt$$b"
	# shellcheck disable=SC2317 # called by the EXIT trap
	zt_cleanup() { ip netns del "$NS_A" 2>/dev/null; ip netns del "$NS_B" 2>/dev/null; t_cleanup; }
	trap zt_cleanup EXIT
	ip netns add "$NS_A" && ip netns add "$NS_B" &&
		ip link add "cbzt$$" netns "$NS_A" type veth peer name "cbzu$$" netns "$NS_B" &&
		ip -n "$NS_A" addr add 198.18.91.1/24 dev "cbzt$$" && ip -n "$NS_B" addr add 198.18.91.2/24 dev "cbzu$$" &&
		ip -n "$NS_A" link set "cbzt$$" mtu 4148 up && ip -n "$NS_B" link set "cbzu$$" mtu 4148 up
	senders=("a3 syscall" "a2 syscall")
	((URING)) && senders+=("a3 uring")
	# the share depends on how the kernel sized the skbs it copied (a burst
	# copied into pages larger than order 0 does not map): the median of
	# three runs is asserted, all three are shown. Measured here: a3 with
	# sendmsg 0.94-0.95; a3 with io_uring 0.98 at 1-2 Gbit/s but 0.88-0.89 at
	# 15-20 Gbit/s (any --uring-depth); a2 0.0. The contrast is the physics:
	# most of a zero-copy sender's stream maps (>= 0.8), almost none of a
	# send() sender's (<= 0.1)
	for sender in "${senders[@]}"; do
		read -r s engine <<<"$sender"
		shares=() ok=1
		for _ in 1 2 3; do
			: >"$T_TMP/srv.err"   # the last run's 'listening on' must not be taken for this one's
			ip netns exec "$NS_A" "$BIN_DIR/${s}_server" -p 9191 -n 1 --json >"$T_TMP/srv.json" 2>"$T_TMP/srv.err" &
			spid=$!
			T_PIDS+=("$spid")
			for _ in $(seq 1 100); do grep -q 'listening on' "$T_TMP/srv.err" && break; sleep 0.05; done
			ip netns exec "$NS_B" "$BIN_DIR/${s}_client" -H 198.18.91.1 -p 9191 -s 64K -d 1 --verify --rx zerocopy \
				--engine "$engine" --json >"$T_TMP/cli.json" 2>"$T_TMP/cli.err"
			wait_pid "$spid" 20
			jq_py 'c["status"] == "ok" and c["verify_errors"] == 0 and s["bytes_sent"] == c["bytes_total"]' || ok=0
			# the share inside the measured window (warm-up and drain left out)
			shares+=("$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); m=c["rx_win_mapped_bytes"]; print(round(m / max(1, m + c["rx_win_copied_bytes"]), 3))' "$T_TMP/cli.json" 2>/dev/null || echo NA)")
		done
		median=$(printf '%s\n' "${shares[@]}" | sort -n | sed -n 2p)
		if [[ $s == a3 ]]; then want=">= 0.8"; else want="<= 0.1"; fi
		# the share is the kernel's physics, asserted on the plain build; a
		# sanitizer build (make sanitize) is slow enough to retransmit, and
		# retransmitted data may not map: there only correctness is checked
		[[ $BIN_DIR -ef $TOP ]] || want=""
		name="receive zero-copy behind the $s ($engine) sender, MSS 4096: mapped shares ${shares[*]}${want:+, median $want}"
		if ((!ok)); then
			fail "$name" "a run failed or lost data: $(tail -n 1 "$T_TMP/cli.err")"
		elif [[ -n $want ]] && ! python3 -c "import sys; sys.exit(0 if $median $want else 1)" 2>/dev/null; then
			fail "$name" "median $median"
		else
			pass "$name"
		fi
	done
	# a path whose MSS is not a page multiple is named once
	ip -n "$NS_A" link set "cbzt$$" mtu 1500 && ip -n "$NS_B" link set "cbzu$$" mtu 1500
	: >"$T_TMP/srv.err"
	ip netns exec "$NS_A" "$BIN_DIR/a3_server" -p 9191 -n 1 --json >"$T_TMP/srv.json" 2>"$T_TMP/srv.err" &
	spid=$!
	T_PIDS+=("$spid")
	for _ in $(seq 1 100); do grep -q 'listening on' "$T_TMP/srv.err" && break; sleep 0.05; done
	ip netns exec "$NS_B" "$BIN_DIR/a3_client" -H 198.18.91.1 -p 9191 -t 2 -s 64K -d 0.5 --rx zerocopy --json \
		>"$T_TMP/cli.json" 2>"$T_TMP/cli.err"
	wait_pid "$spid" 20
	n=$(grep -c "not a multiple of the 4096-byte page" "$T_TMP/cli.err")
	if ((n == 1)); then pass "MSS 1448: said once ($n line)"; else fail "MSS 1448: said once" "$n lines: $(head -c 300 "$T_TMP/cli.err")"; fi
fi

# io_uring forbidden (kernel.io_uring_disabled=2, restored): one clear line, exit 1
if ((EUID != 0)) || [[ ! -w /proc/sys/kernel/io_uring_disabled ]]; then
	skip "io_uring disabled" "needs root and kernel.io_uring_disabled"
else
	old=$(cat /proc/sys/kernel/io_uring_disabled)
	echo 2 >/proc/sys/kernel/io_uring_disabled
	err=$("$BIN_DIR/a3_client" --engine uring -p 1 -d 0.1 2>&1)
	rc=$?
	echo "$old" >/proc/sys/kernel/io_uring_disabled
	if ((rc == 1)) && [[ $(wc -l <<<"$err") == 1 && $err == *"io_uring is disabled here (kernel.io_uring_disabled=2): use --engine syscall"* ]]; then
		pass "io_uring disabled by the sysctl: one line, exit 1"
	else
		fail "io_uring disabled by the sysctl: one line, exit 1" "rc=$rc: $err"
	fi
	[[ $(cat /proc/sys/kernel/io_uring_disabled) == "$old" ]] || fail "io_uring_disabled restored" "now $(cat /proc/sys/kernel/io_uring_disabled)"
fi

t_done
