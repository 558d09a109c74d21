#!/usr/bin/env bash
# tests/test_idle_poll.sh — tools/cb_idle_poll, the sweep's --idle-poll helper (the
# driver's use of it: tests/test_driver.sh). Runs against $BIN_DIR (make sanitize:
# build/asan, build/tsan) like the binaries' suites.
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# tools/cb_idle_poll, the poller itself: usage errors exit 2 with one line, a CPU that is
# not there exits 1; running, every polling thread is SCHED_IDLE (policy 5 in
# /proc/PID/task/TID/stat) at nice 19 on its own CPU; it leaves when its parent is killed
# (PR_SET_PDEATHSIG) and at --max-seconds.
IP=$BIN_DIR/tools/cb_idle_poll
if [[ ! -x $IP ]]; then
	skip idle_poll_tool "tools/cb_idle_poll not built"
else
	bad="" args=()
	"$IP" --help >/dev/null 2>&1 || bad+="--help failed; "
	for c in "" "--cpus x" "--cpus 0 --max-seconds 0" "--cpus 0 --max-seconds 1e30" "--cpus 0 extra" "--bogus" \
		"--cpus 0 --parent x" "--cpus 0 --parent 0"; do
		rc=0
		eval "args=($c)"
		"$IP" "${args[@]}" >/dev/null 2>"$T_TMP/ip.err" || rc=$?
		((rc == 2 && $(wc -l <"$T_TMP/ip.err") == 1)) || bad+="'$c': exit $rc, $(wc -l <"$T_TMP/ip.err") lines; "
	done
	rc=0 nocpu=$(($(nproc --all) + 1))
	if ((nocpu < 1024)); then
		"$IP" --cpus "$nocpu" --max-seconds 1 >/dev/null 2>"$T_TMP/ip.err" || rc=$?
		((rc == 1)) && grep -q "CPU $nocpu: no such CPU" "$T_TMP/ip.err" || bad+="CPU $nocpu: exit $rc, $(head -n 1 "$T_TMP/ip.err"); "
	fi
	cpu0=$(awk '/^Cpus_allowed_list:/ { split($2, r, /[,-]/); print r[1] }' /proc/self/status)
	# the parent: a shell that starts the poller and waits; killed with SIGKILL below
	bash -c '"$1" --cpus "$2" --max-seconds 20 & echo $! >"$3"; wait' _ "$IP" "$cpu0" "$T_TMP/ip.pid" &
	parent=$!
	# up to 5 s for it to start (nice 19, maybe a sanitizer build, maybe a loaded machine)
	ipid="" threads=0
	for _ in $(seq 50); do
		sleep 0.1
		ipid=$(cat "$T_TMP/ip.pid" 2>/dev/null)
		[[ -n $ipid ]] || continue
		grep -q ' 5$' <(for st in /proc/"$ipid"/task/*/stat; do sed 's/.*) //' "$st" 2>/dev/null | awk '{ print $1, $39 }'; done) && break
	done
	# the polling threads are the SCHED_IDLE ones (main, and a sanitizer's own threads, are not)
	threads=0
	for st in /proc/"$ipid"/task/*/stat; do
		# after the ")" of comm: field 3 state ... 19 nice, 39 processor, 41 policy
		read -r -a fld <<<"$(sed 's/.*) //' "$st")"
		[[ ${fld[38]:-} == 5 ]] || continue
		threads=$((threads + 1))
		[[ ${fld[16]:-} == 19 && ${fld[36]:-} == "$cpu0" ]] || bad+="thread $st: nice ${fld[16]:-?} cpu ${fld[36]:-?}; "
	done
	((threads == 1)) || bad+="$threads polling threads for one CPU; "
	kill -KILL "$parent"
	wait "$parent" 2>/dev/null
	gone=0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		# gone, or a zombie (exited; whoever adopted it may not reap it at once)
		st=$(cat "/proc/$ipid/stat" 2>/dev/null) || { gone=1; break; }
		st=${st##*) }
		[[ ${st%% *} != Z ]] || { gone=1; break; }
		sleep 0.1
	done
	((gone)) || bad+="still running 1 s after its parent was killed; "
	start=$(date +%s%N)
	"$IP" --cpus "$cpu0" --max-seconds 0.3 2>/dev/null || bad+="--max-seconds 0.3: exit $?; "
	ms=$((($(date +%s%N) - start) / 1000000))
	((ms >= 250 && ms < 5000)) || bad+="--max-seconds 0.3 took $ms ms; "
	# a --parent that is not its parent (the driver died before it armed PR_SET_PDEATHSIG)
	start=$(date +%s%N)
	"$IP" --cpus "$cpu0" --max-seconds 20 --parent 1 2>/dev/null || bad+="--parent 1: exit $?; "
	ms=$((($(date +%s%N) - start) / 1000000))
	((ms < 2000)) || bad+="--parent 1 (not its parent) ran $ms ms; "
	if [[ -n $bad ]]; then fail idle_poll_tool "$bad"; else pass idle_poll_tool; fi

	# SIGTERM: it stops its threads and exits 0 promptly
	"$IP" --cpus "$cpu0" --max-seconds 20 2>"$T_TMP/term.err" &
	ipid=$!
	sleep 0.3
	start=$(date +%s%N)
	kill -TERM "$ipid"
	rc=0
	wait "$ipid" || rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	if ((rc != 0 || ms > 3000)); then
		fail idle_poll_term "exit $rc after $ms ms: $(head -n 1 "$T_TMP/term.err")"
	else
		pass idle_poll_term
	fi
fi
t_done
