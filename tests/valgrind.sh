#!/usr/bin/env bash
# tests/valgrind.sh — one short run of each of the six binaries under
# valgrind memcheck (`make sanitize` runs it after the sanitizer builds).
#
# For each strategy: the server and a verified 2-thread stream run of
# the client, then (when the client has --mode rr) a short rr run, every
# process under memcheck.  Any memcheck error or definite leak makes that
# process exit 97 and the test FAIL; the log is printed.  Uses the normal
# build in the top directory (what users run), or BIN_DIR.
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="$BIN_DIR"
[[ $BIN == /* ]] || BIN="$TOP/$BIN"
readonly BIN
readonly VG_RC=97
readonly VG=(valgrind --tool=memcheck --error-exitcode="$VG_RC" --leak-check=full
	--show-leak-kinds=definite --errors-for-leak-kinds=definite --track-origins=yes
	--child-silent-after-fork=yes)

# vg_log_ok LOG — memcheck's log says no errors.
vg_log_ok() { grep -q 'ERROR SUMMARY: 0 errors' "$1"; }

vg_show() {
	echo "---- $1"
	grep -v '^==[0-9]*== *$' "$1" | sed -n '1,60p'
}

# check_strategy S — server and clients of strategy S under memcheck.
check_strategy() {
	local s=$1
	local port spid name="valgrind memcheck: ${s}_server and ${s}_client"
	local runs=2 rr=0
	if "$BIN/${s}_client" --help | grep -q -- '--mode stream|rr'; then rr=1; fi
	((rr)) || runs=1
	port=$(free_port)
	: >"$T_TMP/$s.srv.err"
	# -n counts connections: 2 threads per client run
	"${VG[@]}" --log-file="$T_TMP/$s.srv.vg" "$BIN/${s}_server" -p "$port" -n $((2 * runs)) --json \
		>"$T_TMP/$s.srv.json" 2>"$T_TMP/$s.srv.err" &
	spid=$!
	T_PIDS+=("$spid")
	wait_until 20 0.05 logged "$T_TMP/$s.srv.err" 'listening on' "$spid"
	if ! grep -q 'listening on' "$T_TMP/$s.srv.err"; then
		fail "$name" "server did not start under valgrind: $(tail -n 1 "$T_TMP/$s.srv.err")"
		vg_show "$T_TMP/$s.srv.vg"
		return
	fi
	local ok=1 mode rc
	local -a modes=(stream)
	((rr)) && modes+=(rr)
	for mode in "${modes[@]}"; do
		local -a extra=()
		[[ $mode == rr ]] && extra=(--mode rr)
		timeout -k 5 60 "${VG[@]}" --log-file="$T_TMP/$s.$mode.vg" "$BIN/${s}_client" -p "$port" \
			-s 4K -t 2 -d 0.5 --verify --json "${extra[@]}" >"$T_TMP/$s.$mode.json" 2>"$T_TMP/$s.$mode.err"
		rc=$?
		if ((rc != 0)) || ! vg_log_ok "$T_TMP/$s.$mode.vg"; then
			fail "$name ($mode client)" "exit $rc: $(tail -n 1 "$T_TMP/$s.$mode.err")"
			vg_show "$T_TMP/$s.$mode.vg"
			ok=0
		elif [[ $(json_get "$T_TMP/$s.$mode.json" status) != ok ]]; then
			fail "$name ($mode client)" "status $(json_get "$T_TMP/$s.$mode.json" status): $(json_get "$T_TMP/$s.$mode.json" reason)"
			ok=0
		fi
	done
	((ok)) || kill -TERM "$spid" 2>/dev/null
	wait_pid "$spid" 60
	rc=$?
	if ((rc != 0)) || ! vg_log_ok "$T_TMP/$s.srv.vg"; then
		fail "$name (server)" "exit $rc: $(tail -n 1 "$T_TMP/$s.srv.err")"
		vg_show "$T_TMP/$s.srv.vg"
		ok=0
	fi
	((ok)) && pass "$name: ${modes[*]} runs, 0 errors, no definite leaks"
}

if ! command -v valgrind >/dev/null 2>&1; then
	skip "valgrind memcheck" "valgrind is not installed (apt-get install valgrind)"
	t_done
fi
for s in a1 a2 a3; do
	check_strategy "$s"
done
t_done
