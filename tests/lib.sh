# shellcheck shell=bash
# tests/lib.sh — helpers shared by the bash test files (sourced, not run).
# Output protocol: `PASS: name` / `FAIL: name — why` / `SKIP: name — why`.

TOP="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${BIN_DIR:-$TOP}"   # the build under test (make sanitize: build/asan, build/tsan)
# wait_until and its predicates: the driver's (one definition).
# shellcheck source=tests/driver_lib.sh
source "$TOP/tests/driver_lib.sh"
T_FAILED=0
T_TMP="$(mktemp -d)"
declare -a T_PIDS=()

t_cleanup() {
	local pid
	for pid in "${T_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1 — $2"; T_FAILED=1; }
skip() { echo "SKIP: $1 — $2"; }

# jq_py EXPR — EXPR (Python) over s/c, the server's and client's JSON objects in
# $T_TMP/srv.json and $T_TMP/cli.json; exit status = truth
jq_py() {
	python3 - "$T_TMP/srv.json" "$T_TMP/cli.json" "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
sys.exit(0 if eval(sys.argv[3], {"s": s, "c": c}) else 1)
PY
}

# profile_unavailable: prints why a profiled sweep cannot run here (not root, or perf
# record -a does not work) and returns 0; returns 1 when it can.
profile_unavailable() {
	if ((EUID != 0)); then
		echo "needs root (network namespaces, perf record -a)"
	elif ! command -v perf >/dev/null || ! perf record -q -a -e cpu-clock -o /dev/null -- true >/dev/null 2>&1; then
		echo "perf record -a does not work here"
	else
		return 1
	fi
}

# json_get FILE KEY — a value from a flat JSON object (strings unquoted).
json_get() {
	sed -n "s/.*\"$2\": \\(\"[^\"]*\"\\|[^,}]*\\).*/\\1/p" "$1" | head -n 1 | tr -d '"'
}

# free_port — a port for a test server: below the kernel's ephemeral range
# (a port inside it may be some client's local port, which `ss -l` does not
# show and which makes bind fail) and unused in every TCP state.
free_port() {
	local lo p base=10000
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	((lo > base + 2000)) || base=1024
	((lo > base + 100)) || { base=20000 lo=60000; }  # no room below: take our chances
	for _ in $(seq 1 100); do
		p=$((base + RANDOM % (lo - base)))
		if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# start_server_as TAG NAME PORT ARGS... — start $BIN_DIR/NAME in the
# background with --json, output in $T_TMP/TAG.{json,err}; wait (bounded)
# until it listens; set SRV_PID.  Status 1 if it died or never listened.
start_server_as() {
	local tag=$1 name=$2 port=$3
	shift 3
	: >"$T_TMP/$tag.err"
	"$BIN_DIR/$name" -p "$port" --json "$@" >"$T_TMP/$tag.json" 2>"$T_TMP/$tag.err" &
	SRV_PID=$!
	T_PIDS+=("$SRV_PID")
	wait_until 10 0.05 logged "$T_TMP/$tag.err" 'listening on' "$SRV_PID" || return 1
}

# start_server NAME PORT ARGS... — start_server_as with output in
# $T_TMP/srv.{json,err}.
start_server() { start_server_as srv "$@"; }

# logged FILE TEXT [PID] — for wait_until: 0 when FILE has a line with TEXT, 2 when
# process PID (if given) is gone, 1 not yet.
logged() {
	grep -q -- "$2" "$1" 2>/dev/null && return 0
	[[ -z ${3-} ]] || kill -0 "$3" 2>/dev/null || return 2
	return 1
}

# wait_pid PID SECONDS — wait for a process to exit, bounded; status in $?.
wait_pid() {
	local pid=$1 limit=$2
	if wait_until "$limit" 0.05 gone "$pid"; then
		wait "$pid"
		return $?
	fi
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 124
}

t_done() { exit "$T_FAILED"; }
