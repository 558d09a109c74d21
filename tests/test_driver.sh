#!/usr/bin/env bash
# tests/test_driver.sh — run_experiments.sh: options, --dry-run, --interactive, and (as root,
# with the binaries built) real sweeps in namespaces: rows complete and ok, namespaces and
# processes gone afterwards, plot_results.py on the CSV, SIGINT/SIGTERM during setup,
# mid-sweep and while plotting, a re-run after a killed run, no perf / ip / matplotlib.
# Output protocol: PASS:/FAIL:/SKIP: lines on stdout; exit 0 iff nothing failed.
# Every wait here is bounded; the sweeps are short (about 50 s in all).
# The signal tests draw their seeds with $RANDOM and name them in the test name; replay one
# with CB_TEST_SEED_<PHASE>=N (PHASE: SETUP, SWEEP_INT, SWEEP_TERM, PLOT).
set -uo pipefail
# Never apt-get from a test: the driver only says what it would install.
export CB_NO_APT=1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DRIVER=$ROOT/run_experiments.sh
# wait_until, gone, find_plot_python: the driver's own.
# shellcheck source=tests/driver_lib.sh
source "$ROOT/tests/driver_lib.sh"
FAILS=0
TMP=$(mktemp -d)
# Every process the driver starts inherits this variable: a leftover is found by it.
TAG="cbtest-$$-$RANDOM"
BG_PID=""

# What the SIGKILL tests make: namespaces (deleted at exit) and processes (killed by PID).
T_NETNS=() T_PIDS=()

cleanup_test() {
	local ns pid
	if [[ -n $BG_PID ]] && kill -0 "$BG_PID" 2>/dev/null; then
		kill -TERM "$BG_PID" 2>/dev/null
		wait "$BG_PID" 2>/dev/null
	fi
	for pid in "${T_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	for ns in "${T_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup_test EXIT

pass() { printf 'PASS: %s\n' "$1"; }
fail() {
	printf 'FAIL: %s — %s\n' "$1" "$2"
	FAILS=$((FAILS + 1))
}
skip() { printf 'SKIP: %s — %s\n' "$1" "$2"; }

# driver ARGS...: run the driver with the tag in its environment.
driver() { env CB_TEST_TAG="$TAG" "$DRIVER" "$@"; }

# tagged_pids: processes still carrying this test's tag (started by a driver we ran).
tagged_pids() {
	local f pid
	for f in /proc/[0-9]*/environ; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		# Some entries vanish or are unreadable while we look: ignore those.
		if { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -qx "CB_TEST_TAG=$TAG"; then
			printf '%s ' "$pid"
		fi
	done
}

# namespaces_of STDERR_FILE: the namespace names a driver announced ("netns: A (...) <-...-> B").
namespaces_of() { sed -n 's/^run_experiments.sh: netns: \([^ ]*\) .*-> \([^ ]*\) .*/\1 \2/p' "$1"; }

# leftovers STDERR_FILE: "" when the run left neither namespaces nor processes.
leftovers() {
	local ns out="" pids
	for ns in $(namespaces_of "$1"); do
		[[ -e /run/netns/$ns ]] && out+="namespace $ns still exists; "
	done
	pids=$(tagged_pids)
	[[ -n $pids ]] && out+="processes left: $pids"
	printf '%s' "$out"
}

# check_csv NAME FILE WANT_ROWS STATUS_RE: header is the driver's; every row has as many
# cells as the header and a status matching STATUS_RE; WANT_ROWS rows ('' = any >= 0).
check_csv() {
	local name=$1 file=$2 want=$3 status_re=$4 ncols rows bad
	if [[ ! -s $file ]]; then
		fail "$name" "no CSV at $file"
		return 1
	fi
	ncols=$(head -n 1 "$file" | awk -F, '{ print NF }')
	if [[ $(head -n 1 "$file") != run_id,timestamp,order,repeat,status,reason,* ]]; then
		fail "$name" "unexpected header: $(head -c 80 "$file")"
		return 1
	fi
	rows=$(($(wc -l <"$file") - 1))
	if [[ -n $want && $rows -ne $want ]]; then
		fail "$name" "$rows rows, want $want"
		return 1
	fi
	bad=$(awk -F, -v n="$ncols" -v re="$status_re" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") s = i; next }
		NF != n { printf "line %d has %d cells (header %d); ", NR, NF, n; next }
		$s !~ re { printf "line %d status %s (%s); ", NR, $s, $(s + 1) }' "$file")
	if [[ -n $bad ]]; then
		fail "$name" "$bad"
		return 1
	fi
	return 0
}

# path_farm DIR NAME_RE: DIR gets a link to every command on PATH whose name does not
# match NAME_RE (the first of each name, as PATH lookup finds it): PATH=DIR hides those.
path_farm() {
	local dir=$1 re=$2 d f
	local -a files
	mkdir -p "$dir"
	local IFS=:
	for d in $PATH; do
		[[ -d $d ]] || continue
		files=()
		for f in "$d"/*; do
			[[ -x $f && ! -d $f && ! ${f##*/} =~ $re && ! -e $dir/${f##*/} ]] && files+=("$f")
		done
		((${#files[@]} == 0)) || ln -s -- "${files[@]}" "$dir/" 2>/dev/null
	done
	return 0
}

# PLOT_PY: the Python with matplotlib the driver will use (its own find_plot_python).
PLOT_PY=$(find_plot_python) || PLOT_PY=""

# ---------------------------------------------------------------------------------------
# Tests that need neither root nor binaries.

out=$("$DRIVER" --help 2>"$TMP/err")
rc=$?
unnamed=""
for o in --mtu --dry-run --impls --sizes --threads --duration --repeats --warmup --out \
	--no-netns --pin --quick --no-plot --per-field --interactive --parse-perf --help --mode --cleanup \
	--engines --rx --buffers --rr-sizes --rr-threads --rr-size --seed --budget --precision --steer --profile-sizes --idle-poll; do
	grep -q -- "$o" <<<"$out" || unnamed+=" $o"
done
if ((rc != 0)); then
	fail driver_help "exit $rc"
elif [[ -n $unnamed ]]; then
	fail driver_help "--help does not mention:$unnamed"
elif ! grep -q 'minutes' <<<"$out"; then
	fail driver_help "--help does not state the default sweep's time"
else
	pass driver_help
fi

# Usage errors: exit 2 and exactly one line on stderr, nothing started (all with --dry-run,
# so that even a wrongly accepted option changes nothing).
bad_cases=(
	"--bogus" "--threads 0" "--threads x" "--threads 1025" "--sizes 10" "--sizes 1Q"
	"--sizes 128M" "--duration 0" "--duration -1" "--duration abc" "--warmup x" "--repeats 0"
	"--repeats 1.5" "--mtu 10" "--mtu 70000" "--impls a4" "--impls ''" "--mode bogus" "--out"
	"--pin bogus" "--engines bogus" "--engines ''" "--rx mmap" "--buffers 0" "--buffers 4097" "--buffers x"
	"--rr-sizes 10" "--rr-threads 0" "--rr-size 1Q" "--seed x" "--seed -1" "--seed 2147483648" "--budget 0"
	"--budget x" "--budget -1" "--precision 0" "--precision 1.5" "--precision x" "--precision 150%" "--steer x" "--idle-poll x" "--idle-poll"
	"--drift-windows 2" "--drift-windows 1001" "--drift-windows x" "--drift-windows -1"
	"--profile-sizes 10" "--profile --profile-sizes 4K" "--mode rr --profile-sizes 4K"
)
bad_fail=""
args=()
for c in "${bad_cases[@]}"; do
	eval "args=($c)"
	rc=0
	"$DRIVER" --dry-run "${args[@]}" >"$TMP/out" 2>"$TMP/err" || rc=$?
	lines=$(wc -l <"$TMP/err")
	if ((rc != 2)); then
		bad_fail+="[$c] exit $rc; "
	elif ((lines != 1)); then
		bad_fail+="[$c] $lines lines on stderr; "
	elif [[ -s $TMP/out ]]; then
		bad_fail+="[$c] printed a plan; "
	fi
done
if [[ -z $bad_fail ]]; then pass driver_bad_options_exit_2; else fail driver_bad_options_exit_2 "$bad_fail"; fi
"$DRIVER" --dry-run --pin bogus >/dev/null 2>"$TMP/err"
if grep -q -- "--pin: unknown placement 'bogus' (split, same or unpinned)" "$TMP/err"; then
	pass driver_pin_bad_placement_named
else
	fail driver_pin_bad_placement_named "stderr: $(head -n 1 "$TMP/err")"
fi

ns_before=$(ip netns list 2>/dev/null | sort)
rc=0
"$DRIVER" --dry-run --quick --out "$TMP/dry/out.csv" >"$TMP/plan" 2>"$TMP/err" || rc=$?
ns_after=$(ip netns list 2>/dev/null | sort)
plan_lines=$(grep -cE '^ +[0-9]+ +1 +first +[123] +stream +a[123] ' "$TMP/plan")
if ((rc != 0)); then
	fail driver_dry_run_quick "exit $rc: $(head -n 1 "$TMP/err")"
elif ! grep -q '^copybench plan: first pass 12 runs' "$TMP/plan"; then
	fail driver_dry_run_quick "plan does not announce 12 runs: $(head -n 1 "$TMP/plan")"
elif ! grep -q '^estimated time: ' "$TMP/plan"; then
	fail driver_dry_run_quick "no estimated time"
elif ((plan_lines != 12)); then
	fail driver_dry_run_quick "$plan_lines planned run lines, want 12"
elif [[ -e $TMP/dry ]]; then
	fail driver_dry_run_quick "created $TMP/dry"
elif [[ $ns_before != "$ns_after" ]]; then
	fail driver_dry_run_quick "namespaces changed: '$ns_before' -> '$ns_after'"
else
	pass driver_dry_run_quick
fi

# The default job: 6 interleaved rounds, each the stream grid (3 strategies x 7 sizes x 4
# thread counts) then the rr rounds (latency vs size at 1 thread, vs threads at 16K), every
# point once per round with its strategies back to back, rounds in order; the profile
# rounds (4K 64K 1M at 1 thread) right after the same point's plain group; the budget
# bounds the job, and the first pass fits in it, with room for the build and the plots in
# 20 minutes.
rc=0
"$DRIVER" --dry-run --out "$TMP/none.csv" >"$TMP/plan" 2>/dev/null || rc=$?
# Table columns: order repeat pass slot mode strategy variant engine rx msg_size threads profile
order_ok=$(awk '$1 ~ /^[0-9]+$/ && NF == 12 {
		n++; if ($1 != n) bad = "order"
		if ($2 < rep) bad = bad " repeat " $2 " after " rep
		rep = $2
		if ($3 != "first") bad = bad " pass " $3
		if ($8 != "syscall" || $9 != "copy") bad = "axes"
		key = $5 " " $10 " " $11 " " $12
		if ($4 == 1) { if (open) bad = bad " group cut at " n; open = 1; have = ""; prev_key = cur_key; cur_key = key; cur_rep = $2 }
		if (key != cur_key || $2 != cur_rep) bad = bad " group mixed at " n
		have = have " " $6
		if ($4 == 3) { open = 0
			if (have !~ / a1/ || have !~ / a2/ || have !~ / a3/) bad = bad " group at " n ":" have
			if ($12 == "yes" && (prev_key != $5 " " $10 " " $11 " no" || $5 != "stream" || $11 != 1)) bad = bad " profile group at " n " after " prev_key
			if ($2 == 1) { k[$5 " " $10 " " $11 " " $12]++; m[$5 " " $12]++ } }
	} END {
		if (m["stream no"] != 28 || m["rr no"] != 8 || m["stream yes"] != 3) bad = bad " round 1: " m["stream no"] " stream + " m["rr no"] " rr + " m["stream yes"] " profile groups"
		split("64 1K 16K 64K 1M", rs, " ")
		for (i in rs) if (k["rr " rs[i] " 1 no"] != 1) bad = bad " rr " rs[i] " at 1 thread"
		split("2 4 8", rt, " ")
		for (i in rt) if (k["rr 16K " rt[i] " no"] != 1) bad = bad " rr 16K at " rt[i] " threads"
		split("4K 64K 1M", ps, " ")
		for (i in ps) if (k["stream " ps[i] " 1 yes"] != 1) bad = bad " no profile group at " ps[i]
		print (n == 6 * (28 + 8 + 3) * 3 && rep == 6 && bad == "") ? "yes" : "no (" n " runs;" bad ")" }' "$TMP/plan")
# "budget: 18m00s for the runs: first pass 702 runs (about 15m10s); then extra rounds ..."
read -r budget_s first_s < <(sed -n 's/^budget: \([0-9ms]*\) for the runs: first pass [0-9]* runs (about \([0-9ms]*\)).*/\1 \2/p' "$TMP/plan" |
	awk '{ for (i = 1; i <= 2; i++) { v = $i; m = 0; if (v ~ /m/) { m = v; sub(/m.*/, "", m); sub(/^[0-9]*m/, "", v) } sub(/s$/, "", v); printf "%d ", m * 60 + v } print "" }')
if ((rc != 0)); then
	fail driver_dry_run_default_interleaved "exit $rc"
elif [[ $order_ok != yes ]]; then
	fail driver_dry_run_default_interleaved "plan order/groups wrong: $order_ok"
elif ! grep -q '^copybench plan: first pass 702 runs = 6 rounds (interleaved) of: stream .* and rr rounds' "$TMP/plan"; then
	fail driver_dry_run_default_interleaved "plan header: $(head -n 1 "$TMP/plan")"
elif ! grep -q '^order: seed [0-9]*: in every round' "$TMP/plan" || ! grep -q '^profile rounds: 4K 64K 1M at 1 thread' "$TMP/plan"; then
	fail driver_dry_run_default_interleaved "no order/profile line: $(grep -E '^(order|profile)' "$TMP/plan" | tr '\n' ' ')"
else
	pass driver_dry_run_default_interleaved
fi
if [[ -z ${budget_s-} || -z ${first_s-} ]] || ((budget_s > 19 * 60 || first_s >= budget_s)); then
	fail driver_dry_run_default_within_20_min "$(grep '^budget' "$TMP/plan"): want a budget of at most 19 min (the build and the plots take about one) and a first pass within it"
else
	pass "driver_dry_run_default_within_20_min (budget ${budget_s} s, first pass about ${first_s} s)"
fi

# The axes: engines x rx over both modes make exactly the combinations that exist — a1
# never with io_uring, rr never with receive zero-copy — and the plan names what it skipped.
"$DRIVER" --dry-run --quick --mode both --engines syscall,uring --rx copy,zerocopy --out "$TMP/none.csv" \
	>"$TMP/plan" 2>/dev/null
got=$(awk '$1 ~ /^[0-9]+$/ && NF == 12 { k[$5 "/" $6 "/" $8 "/" $9]++ }
	END { for (x in k) printf "%s=%d\n", x, k[x] }' "$TMP/plan" | sort | tr '\n' ' ')
want="rr/a1/syscall/copy=4 rr/a2/syscall/copy=4 rr/a2/uring/copy=4 rr/a3/syscall/copy=4 rr/a3/uring/copy=4 "
want+="stream/a1/syscall/copy=4 stream/a1/syscall/zerocopy=4 stream/a2/syscall/copy=4 stream/a2/syscall/zerocopy=4 "
want+="stream/a2/uring/copy=4 stream/a2/uring/zerocopy=4 stream/a3/syscall/copy=4 stream/a3/syscall/zerocopy=4 "
want+="stream/a3/uring/copy=4 stream/a3/uring/zerocopy=4 "
if [[ $got != "$want" ]]; then
	fail driver_dry_run_axes_row_set "got: $got"
elif ! grep -q '^copybench plan: first pass 60 runs' "$TMP/plan"; then
	fail driver_dry_run_axes_row_set "plan header: $(head -n 1 "$TMP/plan")"
elif ! grep -q '^skipped: a1 with engine uring' "$TMP/plan" || ! grep -q '^skipped: rr with rx zerocopy' "$TMP/plan"; then
	fail driver_dry_run_axes_row_set "the plan does not name the skipped combinations"
elif ! grep -q '^axes: engines syscall uring; rx copy zerocopy; buffers 1$' "$TMP/plan"; then
	fail driver_dry_run_axes_row_set "no axes line: $(grep '^axes' "$TMP/plan")"
else
	pass driver_dry_run_axes_row_set
fi

# --rx zerocopy: the veth MTU defaults to 4148 (an MSS of one page), unless --mtu is given.
mtu_of() { "$DRIVER" --dry-run --quick --out "$TMP/none.csv" "$@" 2>/dev/null | sed -n 's/^link: veth .*, mtu \([0-9]*\),.*/\1/p'; }
m1=$(mtu_of --rx zerocopy) m2=$(mtu_of --rx copy,zerocopy --mtu 9000) m3=$(mtu_of --rx copy) m4=$(mtu_of)
if [[ "$m1 $m2 $m3 $m4" == "4148 9000 1500 1500" ]]; then
	pass driver_rx_zerocopy_mtu_4148
else
	fail driver_rx_zerocopy_mtu_4148 "mtu zerocopy/zerocopy+--mtu 9000/copy/default: $m1/$m2/$m3/$m4, want 4148/9000/1500/1500"
fi

# --mode both doubles the plan, and the plan says so: modes in the product and in the table.
"$DRIVER" --dry-run --quick --mode both --out "$TMP/none.csv" >"$TMP/plan" 2>/dev/null
rr_lines=$(grep -cE '^ +[0-9]+ +1 +first +[123] +rr +a[123] ' "$TMP/plan")
st_lines=$(grep -cE '^ +[0-9]+ +1 +first +[123] +stream +a[123] ' "$TMP/plan")
if ! grep -q '^copybench plan: first pass 24 runs = 2 modes (stream rr) x 3 strategies x 2 sizes x 2 thread counts x 1 rounds' "$TMP/plan"; then
	fail driver_dry_run_mode_both "plan header: $(head -n 1 "$TMP/plan")"
elif ((rr_lines != 12 || st_lines != 12)); then
	fail driver_dry_run_mode_both "$st_lines stream + $rr_lines rr lines in the table, want 12 + 12"
else
	pass driver_dry_run_mode_both
fi

# An existing CSV with another header is never touched.
printf 'some,other,header\n1,2,3\n' >"$TMP/other.csv"
cp "$TMP/other.csv" "$TMP/other.orig"
"$DRIVER" --dry-run --quick --out "$TMP/other.csv" >"$TMP/plan" 2>&1
if grep -q 'WOULD REFUSE' "$TMP/plan" && grep -q -- '--out' "$TMP/plan"; then
	pass driver_dry_run_reports_refusal
else
	fail driver_dry_run_reports_refusal "$(grep '^output' "$TMP/plan")"
fi

# The default results.csv of an older version (another header) is kept under results/ by
# its run ids, not refused (the quick start must run on the committed CSV); --dry-run says so.
mkdir -p "$TMP/olddefault"
printf 'run_id,other\nRUNX-1,2\n' >"$TMP/olddefault/results.csv"
(cd "$TMP/olddefault" && "$DRIVER" --dry-run --quick) >"$TMP/plan" 2>&1
if grep -q '^output: move results.csv .* to ./results/RUNX-1.csv, then new file results.csv' "$TMP/plan" &&
	[[ $(head -n 1 "$TMP/olddefault/results.csv") == run_id,other ]]; then
	pass driver_dry_run_older_default_csv_kept
else
	fail driver_dry_run_older_default_csv_kept "$(grep '^output' "$TMP/plan")"
fi

# --interactive, driven on stdin: choose a2, size 4K, then plan the sweep (dry run).
rc=0
printf '1\na2\n2\n4K\n3\n1 2\n5\n' | "$DRIVER" --interactive --dry-run --mode stream >"$TMP/plan" 2>"$TMP/err" || rc=$?
n=$(grep -cE '^ +[0-9]+ +[0-9]+ +first +1 +stream +a2 +default +syscall +copy +4K +[12] +no$' "$TMP/plan")
others=$(grep -cE '^ +[0-9]+ +[0-9]+ +first +[0-9]+ +[a-z]+ +a[13] ' "$TMP/plan")
if ((rc != 0)); then
	fail driver_interactive_menu "exit $rc: $(tail -n 1 "$TMP/err")"
elif ((n != 12 || others != 0)); then
	fail driver_interactive_menu "want 12 runs of a2 4K (threads 1 2, 6 repeats), got $n (+$others others)"
else
	pass driver_interactive_menu
fi
# Quit, and end of input, leave cleanly.
rc1=0 rc2=0
printf '6\n' | "$DRIVER" --interactive --dry-run >/dev/null 2>&1 || rc1=$?
"$DRIVER" --interactive --dry-run </dev/null >/dev/null 2>&1 || rc2=$?
if ((rc1 == 0 && rc2 == 0)); then pass driver_interactive_quit_and_eof; else fail driver_interactive_quit_and_eof "exit $rc1 / $rc2"; fi

# A signal that lands between starting a background process and recording it in PGROUPS:
# cleanup stops the shell's own jobs too (by PID). The driver's functions, sourced; the job
# carries the tag so that a leftover is found.
rc=0
bash -c 'source "$1"; install_traps; env CB_TEST_TAG="$2" sleep 30 & kill -TERM $$; wait' _ "$DRIVER" "$TAG" \
	>/dev/null 2>"$TMP/race.err" || rc=$?
sleep 0.2
left=$(tagged_pids)
if ((rc != 143)); then
	fail driver_signal_before_pid_recorded "exit $rc, want 143: $(tail -n 1 "$TMP/race.err")"
elif [[ -n $left ]]; then
	fail driver_signal_before_pid_recorded "the unrecorded background job survived: $left"
	for p in $left; do kill -KILL "$p" 2>/dev/null; done
else
	pass driver_signal_before_pid_recorded
fi

# A signal that lands while bash expands $(...) inside a word: the driver's own traps must
# still run on_signal (143), not fail to parse ("trap: line 2: unexpected EOF while looking
# for matching `)'", exit 2), as the plain action did in about half of such tries on bash
# 5.2.15. 30 tries, each a loop of such expansions bounded at 5 s, signalled at a random
# moment after the traps are in place.
bad="" tries=30
for ((i = 1; i <= tries; i++)); do
	rc=0
	bash -c 'source "$1"; install_traps; : >"$2"; end=$((SECONDS + 5))
		while ((SECONDS < end)); do x="a $(printf a) b $(printf b)"; done; exit 3' _ \
		"$DRIVER" "$TMP/trap_ready.$i" >/dev/null 2>"$TMP/trap_race.err" &
	pid=$!
	wait_until 5 0.01 test -e "$TMP/trap_ready.$i" || true
	sleep "0.0$((RANDOM % 5 + 1))"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" || rc=$?
	if ((rc != 143)); then
		bad+="try $i: exit $rc ($(tail -n 1 "$TMP/trap_race.err")); "
	elif ! grep -q 'interrupted (SIGTERM)' "$TMP/trap_race.err"; then
		bad+="try $i: exit 143 without on_signal's message; "
	fi
done
if [[ -n $bad ]]; then
	fail driver_trap_during_comsub_expansion "want 143 in all $tries: $bad"
else
	pass "driver_trap_during_comsub_expansion ($tries tries)"
fi

# Pairs (issue 19): in every round each point's strategies run back to back, in an order
# drawn from the seed: every (round, point) group is contiguous and complete, slots 1..3;
# the orders vary between groups; the same seed gives the same plan, another seed another.
plan_of() { "$DRIVER" --dry-run --sizes 1K,64K --threads 1,2 --out "$TMP/none.csv" "$@" 2>&1 | awk '$1 ~ /^[0-9]+$/ && NF == 12'; }
plan_of --seed 42 >"$TMP/p42a"
plan_of --seed 42 >"$TMP/p42b"
plan_of --seed 43 >"$TMP/p43"
groups=$(awk '{ key = $2 " " $5 " " $10 " " $11
		if ($4 == 1) { if (g != "") print g; g = key ":" }
		else if (key != gk) bad = bad " line " NR
		gk = key; g = g " " $6 }
	END { print g; if (bad != "") print "BAD" bad }' "$TMP/p42a")
bad=$(awk -F: '/^BAD/ { print; next }
	{ n++; split($2, x, " "); s = x[1] x[2] x[3]; orders[s]++
	  if (length(s) != 6 || s !~ /a1/ || s !~ /a2/ || s !~ /a3/) print "incomplete group " $0 }
	END { if (n != 24) print n " groups, want 24 (6 rounds x 4 points)"; k = 0; for (o in orders) k++
	      if (k < 3) print "only " k " distinct orders over " n " groups" }' <<<"$groups")
if [[ ! -s $TMP/p42a ]]; then
	fail driver_plan_pairs_seeded_order "no plan"
elif [[ -n $bad ]]; then
	fail driver_plan_pairs_seeded_order "$(head -n 3 <<<"$bad" | tr '\n' ';')"
elif ! cmp -s "$TMP/p42a" "$TMP/p42b"; then
	fail driver_plan_pairs_seeded_order "the same seed gave two plans"
elif cmp -s "$TMP/p42a" "$TMP/p43"; then
	fail driver_plan_pairs_seeded_order "seeds 42 and 43 gave the same plan"
elif ! "$DRIVER" --dry-run --quick --seed 42 --out "$TMP/none.csv" >"$TMP/plan" 2>&1 || ! grep -q '^order: seed 42: ' "$TMP/plan"; then
	fail driver_plan_pairs_seeded_order "the plan does not name its seed"
else
	pass "driver_plan_pairs_seeded_order ($(awk -F: '{ split($2, x, " "); print x[1] x[2] x[3] }' <<<"$groups" | sort -u | wc -l) distinct orders in 24 groups)"
fi

# Idle polling: off by default, said in the plan; on when asked.
"$DRIVER" --dry-run --quick --idle-poll on --out "$TMP/none.csv" >"$TMP/iplan" 2>&1
"$DRIVER" --dry-run --quick --out "$TMP/none.csv" >"$TMP/iplan2" 2>&1
if ! grep -q "^idle polling: on: the placement's CPUs spin in the idle class" "$TMP/iplan" ||
	! grep -q '^idle polling: off: idle CPUs halt' "$TMP/iplan2"; then
	fail driver_plan_idle_poll "$(grep -h '^idle polling' "$TMP/iplan" "$TMP/iplan2" | tr '\n' ';')"
else
	pass driver_plan_idle_poll
fi

# The machine-drift probe in the plan: --quick's 3 windows of its 1 s runs, the default
# job's 8 of 0.5 s, none with --drift-windows 0.
"$DRIVER" --dry-run --out "$TMP/none.csv" >"$TMP/dplan" 2>&1
"$DRIVER" --dry-run --quick --drift-windows 0 --out "$TMP/none.csv" >"$TMP/dplan2" 2>&1
if ! grep -q '^machine drift: before the first run, .* each in 3 back-to-back windows of 1 s (tools/cb_drift; about [0-9]* s, outside the budget)' "$TMP/iplan2" ||
	! grep -q '^machine drift: .* each in 8 back-to-back windows of 0.5 s ' "$TMP/dplan" ||
	! grep -q '^machine drift: not probed (--drift-windows 0)$' "$TMP/dplan2"; then
	fail driver_plan_drift "$(grep -h '^machine drift' "$TMP/iplan2" "$TMP/dplan" "$TMP/dplan2" | tr '\n' ';')"
else
	pass driver_plan_drift
fi

# The plan states the placement: split by default (sender and receiver on their own CPUs;
# with more threads than CPUs, round-robin), and the steering; --pin unpinned stays.
"$DRIVER" --dry-run --quick --threads 1,8 --out "$TMP/none.csv" >"$TMP/plan" 2>&1
"$DRIVER" --dry-run --quick --pin unpinned --steer off --out "$TMP/none.csv" >"$TMP/plan2" 2>&1
ncpu=$(first_cpus 100000 | wc -l)
if ((ncpu < 2)); then
	skip driver_plan_placement "this process may use one CPU only"
elif ! grep -q '^placement: split: server (sender) threads on CPU [0-9+-]*, client (receiver) threads on CPU [0-9+-]*' "$TMP/plan"; then
	fail driver_plan_placement "$(grep '^placement' "$TMP/plan")"
elif ((ncpu < 16)) && ! grep -q 'more threads than a side has CPUs share them round-robin (8 threads' "$TMP/plan"; then
	fail driver_plan_placement "does not say what 8 threads on $ncpu CPUs do: $(grep '^placement' "$TMP/plan")"
elif ! grep -Eq '^steering: (data|both): RPS' "$TMP/plan" || ! grep -q '^placement: unpinned' "$TMP/plan2" || ! grep -q '^steering: off' "$TMP/plan2"; then
	fail driver_plan_placement "steering / unpinned: $(grep -hE '^(steering|placement)' "$TMP/plan" "$TMP/plan2" | tr '\n' ';')"
else
	pass driver_plan_placement
fi
r1=$(cpu_ranges 0 1 2 3 8 10 11) r2=$(cpu_ranges 5) m1=$(cpu_mask 1) m2=$(cpu_mask 0 33)
if [[ "$r1|$r2|$m1|$m2" == "0-3+8+10-11|5|00000002|00000002,00000001" ]]; then
	pass driver_cpu_ranges_and_mask
else
	fail driver_cpu_ranges_and_mask "got $r1|$r2|$m1|$m2"
fi

# The DSACK'd share: segments D-SACKed / segments retransmitted, both of the run's own window
# (the server's JSON: tcp_dsack_recv_segs, tcp_retrans); empty without retransmissions, NA
# without a count.
v1="" v2="" v3="" v4=""
dsack_share_of v1 30 60
dsack_share_of v2 0 0
dsack_share_of v3 NA 10
dsack_share_of v4 7.0 20
if [[ "$v1|$v2|$v3|$v4" == "0.5000||NA|0.3500" ]]; then
	pass driver_dsack_share_of
else
	fail driver_dsack_share_of "got $v1|$v2|$v3|$v4, want 0.5000||NA|0.3500"
fi

# cbstats.py open: which points are still too wide to decide at +-P (hi/lo > 1 + P). A
# point whose ratio is the same every round is decisive at any P; one whose ratio swings is
# open, with its half-width; one within +-3% of 1 (hi/lo = 1.062) is open at P = 5% (it could
# hold 1 and a bound of +-5%) though its half-width is under 5%; every pair counts (a2 and a3
# without a1); a point with fewer than 6 paired rounds is open with an infinite width; a
# point with one strategy has nothing to compare; the widest comes first; a malformed line
# is refused (exit 2).
tsv=""
for r in 1 2 3 4 5 6 7; do
	tsv+="tight\t$r\ta1\t10\ntight\t$r\ta2\t11\n"
	tsv+="wide\t$r\ta1\t10\nwide\t$r\ta2\t$((8 + (r % 3) * 2))\n"
	tsv+="wider\t$r\ta1\t10\nwider\t$r\ta3\t$((4 + (r % 2) * 12))\n"
	tsv+="alone\t$r\ta2\t$r\n"
	tsv+="halfway\t$r\ta1\t100\nhalfway\t$r\ta2\t$((97 + (r % 2) * 6))\n"
	tsv+="noa1\t$r\ta2\t10\nnoa1\t$r\ta3\t$((8 + (r % 3) * 2))\n"
	((r > 5)) || tsv+="young\t$r\ta1\t10\nyoung\t$r\ta2\t10\n"
done
got=$(printf '%b' "$tsv" | python3 "$ROOT/cbstats.py" open --precision 0.05 | tr '\t\n' ' |')
rc=0
printf 'p\t1\ta1\n' | python3 "$ROOT/cbstats.py" open --precision 0.05 >/dev/null 2>"$TMP/cb.err" || rc=$?
# wider: a3/a1 is 0.4 or 1.6 -> sqrt(1.6 / 0.4) - 1 = 1; wide: a2/a1 0.8 .. 1.2 -> sqrt(1.5) - 1
# (noa1: a3/a2 the same); halfway: a2/a1 0.97 or 1.03 -> sqrt(1.03 / 0.97) - 1 = 0.0305
if [[ $got != "young inf 5|wider 1.0000 7|noa1 0.2247 7|wide 0.2247 7|halfway 0.0305 7|" ]]; then
	fail driver_cbstats_open_points "got '$got'"
elif ((rc != 2)) || ! grep -q 'line 1: 3 fields' "$TMP/cb.err"; then
	fail driver_cbstats_open_points "a 3-field line: exit $rc, $(head -n 1 "$TMP/cb.err")"
else
	pass driver_cbstats_open_points
fi

# ---------------------------------------------------------------------------------------
# Root-only tests.

if ((EUID != 0)); then
	rc=0
	"$DRIVER" --quick --no-plot --out "$TMP/nonroot.csv" >/dev/null 2>"$TMP/err" || rc=$?
	if ((rc == 1)) && grep -q 'must run as root' "$TMP/err" && [[ ! -e $TMP/nonroot.csv ]]; then
		pass driver_refuses_non_root
	else
		fail driver_refuses_non_root "exit $rc: $(head -n 1 "$TMP/err")"
	fi
	for t in driver_refuses_other_header driver_quick_netns \
		driver_timestamp_is_run_end driver_and_plot_together driver_header_matches_plot_columns \
		driver_signal_during_setup driver_signal_mid_sweep driver_signal_during_plot driver_rerun_after_kill \
		driver_loopback_without_perf driver_missing_ip driver_missing_matplotlib driver_failed_runs_recorded driver_mode_both_rr_rows \
		driver_sigkill_during_setup driver_sigkill_during_sweep driver_run_after_setup_kill_removes_its_namespaces \
		driver_next_run_removes_dead_runs_namespaces \
		driver_raw_dir_complete_marker driver_cleanup_removes_dead_only driver_cleanup_nothing_to_clean \
		driver_axes_rows driver_perf_without_control; do
		skip "$t" "needs root (network namespaces, perf)"
	done
	((FAILS == 0))
	exit
fi

# Not root → a clear message and exit 1 (setpriv drops to nobody).
if ! command -v setpriv >/dev/null; then
	skip driver_refuses_non_root "setpriv not installed"
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$DRIVER"; then
	skip driver_refuses_non_root "user nobody cannot read $DRIVER (private checkout)"
else
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$DRIVER" --quick --out /nonexistent/x.csv >/dev/null 2>"$TMP/err" || rc=$?
	if ((rc == 1)) && grep -q 'must run as root' "$TMP/err"; then
		pass driver_refuses_non_root
	else
		fail driver_refuses_non_root "exit $rc: $(head -n 1 "$TMP/err")"
	fi
fi

rc=0
driver --quick --no-plot --no-build --out "$TMP/other.csv" >/dev/null 2>"$TMP/err" || rc=$?
if ((rc == 1)) && cmp -s "$TMP/other.csv" "$TMP/other.orig" && grep -q 'different header' "$TMP/err"; then
	pass driver_refuses_other_header
else
	fail driver_refuses_other_header "exit $rc, file changed? $(cmp "$TMP/other.csv" "$TMP/other.orig" 2>&1) $(head -n 1 "$TMP/err")"
fi

have_binaries=1
for b in a1_server a1_client a2_server a2_client a3_server a3_client; do
	[[ -x $ROOT/$b ]] || have_binaries=0
done
if ((!have_binaries)) && ! make -C "$ROOT" >/dev/null 2>&1; then
	for t in driver_quick_netns driver_timestamp_is_run_end driver_and_plot_together driver_header_matches_plot_columns \
		driver_signal_during_setup driver_signal_mid_sweep driver_signal_during_plot driver_rerun_after_kill \
		driver_loopback_without_perf driver_missing_ip driver_missing_matplotlib driver_failed_runs_recorded driver_mode_both_rr_rows \
		driver_sigkill_during_setup driver_sigkill_during_sweep driver_run_after_setup_kill_removes_its_namespaces \
		driver_next_run_removes_dead_runs_namespaces \
		driver_raw_dir_complete_marker driver_cleanup_removes_dead_only driver_cleanup_nothing_to_clean \
		driver_axes_rows driver_perf_without_control; do
		skip "$t" "binaries not built and make failed"
	done
	((FAILS == 0))
	exit
fi

# --idle-poll on: a sweep that runs niced is refused before anything is set up (the
# poller's niced time is left out of the host CPU columns, and so would be the sweep's
# own); running, the rows say where it polled (placement ...;idlepoll=CPUS), no CPU idled
# over the window — busy + nice (the poller's) + steal covers the CPUs, which a 1-thread
# stream keeping about 1.5 of 2 CPUs busy does not without it — and the poller is gone
# after the sweep (no process left with the test's tag).
rc=0
nice -n 5 env CB_TEST_TAG="$TAG" "$DRIVER" --quick --idle-poll on --no-plot --out "$TMP/niced.csv" >/dev/null 2>"$TMP/niced.err" || rc=$?
if ((rc != 1)) || ! grep -q 'runs at nice [1-9]' "$TMP/niced.err" || [[ -n $(namespaces_of "$TMP/niced.err") ]] ||
	[[ -s $TMP/niced.csv && $(wc -l <"$TMP/niced.csv") -gt 1 ]]; then
	fail driver_idle_poll_refuses_niced "exit $rc: $(tail -n 1 "$TMP/niced.err")"
else
	pass driver_idle_poll_refuses_niced
fi
rc=0
(($(nice) == 0)) && driver --impls a1,a2 --sizes 64K --threads 1 --repeats 1 --duration 0.5 --warmup 0.05 --profile-sizes none \
	--idle-poll on --no-plot --out "$TMP/poll.csv" >/dev/null 2>"$TMP/poll.err" || rc=$?
if (($(nice) != 0)); then
	skip driver_idle_poll_on "the tests run at nice $(nice): --idle-poll on refuses that"
elif ((rc != 0)); then
	fail driver_idle_poll_on "exit $rc: $(tail -n 1 "$TMP/poll.err")"
elif check_csv driver_idle_poll_on "$TMP/poll.csv" 2 '^ok$'; then
	bad=$(awk -F, -v allowed="$(first_cpus 100000 | wc -l)" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ if ($c["placement"] !~ /;idlepoll=[0-9+-]+$/) print "placement " $c["placement"]
		  covered = $c["host_busy_cpus"] + ($c["host_cpu_nice_s"] + $c["host_cpu_steal_s"]) / $c["cli_window_s"]
		  if (covered < 0.85 * allowed) print "busy + nice + steal " covered " of " allowed " CPUs" }' "$TMP/poll.csv")
	left=$(leftovers "$TMP/poll.err")
	if [[ -n $bad || -n $left ]]; then fail driver_idle_poll_on "$bad $left"; else pass driver_idle_poll_on; fi
fi

# --quick in namespaces, then plot_results.py on its CSV: 12 ok rows, every column, raw
# files kept, nothing left behind, plots and report beside the CSV.
rc=0
driver --quick --out "$TMP/quick/out.csv" >"$TMP/q.out" 2>"$TMP/q.err" || rc=$?
left=$(leftovers "$TMP/q.err")
ns=$(namespaces_of "$TMP/q.err")
if ((rc != 0)); then
	fail driver_quick_netns "exit $rc: $(grep -m1 FAILED "$TMP/q.err" || tail -n 1 "$TMP/q.err")"
elif [[ -z $ns ]]; then
	fail driver_quick_netns "the driver did not announce its namespaces"
elif [[ -n $left ]]; then
	fail driver_quick_netns "$left"
elif check_csv driver_quick_netns "$TMP/quick/out.csv" 12 '^ok$'; then
	raw=$(find "$TMP/quick/results" -type f -name '0*' | wc -l)
	cells=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ if ($c["link"] != "veth" || $c["mtu"] != 1500 || $c["bytes"] !~ /^[0-9]+$/ || $c["bytes"] == 0 ||
		      $c["srv_task_clock"] == "NA" || $c["srv_cycles"] == "0" || $c["verify_errors"] != 0 ||
		      ($c["strategy"] == "a3") != ($c["zc_sends"] != "")) print NR }' "$TMP/quick/out.csv")
	# The window columns: perf switched at both windows edges (perf works here: task-clock
	# is a software event), both windows measured and about as long as asked, host figures
	# filled, and cells that do not apply empty rather than 0.
	num='^[0-9]+([.][0-9]+)?$'
	window_bad=$(awk -F, -v num="$num" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		function bad(why) { printf "line %d: %s; ", NR, why }
		{ if ($c["perf_interval"] != "window") bad("perf_interval " $c["perf_interval"])
		  if ($c["window"] != "measured") bad("window " $c["window"])
		  for (k in w) delete w[k]
		  split("srv_window_s cli_window_s host_busy_cpus cpus_online srv_life_cpu_user_s srv_life_cpu_sys_s tcp_loss_probes tcp_spurious_rtos tcp_dsack_recv tcp_dsack_recv_segs buffers", w, " ")
		  for (k in w) if ($c[w[k]] !~ num) bad(w[k] " " $c[w[k]])
		  if ($c["srv_window_s"] < 0.9 || $c["cli_window_s"] < 0.9) bad("window shorter than 0.9 s")
		  if ($c["host_busy_cpus"] <= 0 || $c["host_busy_cpus"] > $c["cpus_online"] * 1.05 + 0.05) bad("host_busy_cpus " $c["host_busy_cpus"] " of " $c["cpus_online"])
		  if ($c["srv_life_cpu_user_s"] + $c["srv_life_cpu_sys_s"] + 0.01 < $c["srv_cpu_user_s"] + $c["srv_cpu_sys_s"]) bad("server life CPU below its window CPU")
		  if ($c["buffers"] != 1 || $c["engine"] != "syscall" || $c["rx"] != "copy") bad("buffers/engine/rx " $c["buffers"] "/" $c["engine"] "/" $c["rx"])
		  if ($c["rx_mapped_share"] != "" || $c["fixed_buffers"] != "") bad("rx_mapped_share/fixed_buffers not empty for rx copy, syscall")
		  if (($c["strategy"] == "a3") != ($c["zc_in_flight_max"] ~ num)) bad("zc_in_flight_max " $c["zc_in_flight_max"])
		  if ($c["strategy"] != "a3" && $c["zc_in_flight_max"] != "") bad("zc_in_flight_max filled for " $c["strategy"])
		  # the plan'"'"'s record and the DSACK'"'"'d share of the run'"'"'s own window
		  if ($c["seed"] !~ /^[0-9]+$/ || $c["pass"] != "first" || $c["slot"] !~ /^[123]$/ || $c["precision"] != 0.05) bad("seed/pass/slot/precision " $c["seed"] "/" $c["pass"] "/" $c["slot"] "/" $c["precision"])
		  if ($c["placement"] !~ /^srv=[0-9+-]+;cli=[0-9+-]+;rps=(data|both)$/) bad("placement " $c["placement"])
		  if ($c["host_cpu_nice_s"] !~ num || $c["host_cpu_steal_s"] !~ num) bad("host_cpu_nice_s/steal_s " $c["host_cpu_nice_s"] "/" $c["host_cpu_steal_s"])
		  r = $c["tcp_retrans"]; d = $c["tcp_dsack_recv_segs"]
		  want = (r == 0) ? "" : sprintf("%.4f", d / r)
		  if ($c["dsack_share"] != want) bad("dsack_share " $c["dsack_share"] " for " d "/" r)
		  if ($c["prof_samples"] != "NA") bad("prof_samples " $c["prof_samples"] " without profiling") }' "$TMP/quick/out.csv")
	if ((raw != 72)); then
		fail driver_quick_netns "$raw raw files under results/, want 72 (6 per run)"
	elif [[ -n $cells ]]; then
		fail driver_quick_netns "implausible cells on lines: $cells"
	elif [[ -n $window_bad ]]; then
		fail driver_quick_netns "window columns: $(cut -c 1-400 <<<"$window_bad")"
	elif (($(grep -c '^\[[0-9]*/12\] ' "$TMP/q.err") != 12)); then
		fail driver_quick_netns "want 12 progress lines on stderr"
	else
		pass driver_quick_netns
	fi
	# A row's timestamp is its run's end: never before the run's raw JSON was last written
	# (the server's, written as it exits after the client).
	late=""
	while IFS=, read -r order ts; do
		f=$(find "$TMP/quick/results" -name "$(printf '%04d' "$order")-*.srv.json" | head -n 1)
		[[ -n $f ]] || { late+="row $order: no raw file; "; continue; }
		if (($(date -u -d "$ts" +%s) < $(stat -c %Y "$f"))); then late+="row $order: $ts before $(date -u -d "@$(stat -c %Y "$f")" +%H:%M:%S); "; fi
	done < <(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["order"] "," $c["timestamp"] }' "$TMP/quick/out.csv")
	if [[ -n $late ]]; then fail driver_timestamp_is_run_end "$late"; else pass driver_timestamp_is_run_end; fi
	# The machine-drift probe before the sweep (--quick: 3 windows of the runs' 1 s): its
	# figures in every row, the same in each, as its raw output says; a ping-pong when the
	# placement has two CPUs; announced on stderr.
	drift_raw=$(grep -h '^all ' "$TMP"/quick/results/*/drift.txt 2>/dev/null)
	# a ping-pong iff the probe had two CPUs or more (one line per CPU in drift.txt)
	two=0
	(($(cat "$TMP"/quick/results/*/drift.txt 2>/dev/null | grep -c '^cpu=') >= 2)) && two=1
	drift_bad=$(awk -F, -v raw="$drift_raw" -v num="$num" -v two="$two" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ v = $c["drift_copy_gbps"] " " $c["drift_copy_step"] " " $c["drift_alu_step"] " " $c["drift_wake_us"] " " $c["drift_wake_step"] " " $c["drift_windows"] " " $c["drift_window_s"]
		  if (first == "") first = v
		  if (v != first) printf "line %d differs: %s / %s; ", NR, v, first
		  if (!($c["drift_copy_gbps"] ~ num && $c["drift_copy_gbps"] > 0) || $c["drift_copy_step"] !~ num || $c["drift_alu_step"] !~ num) printf "line %d: %s; ", NR, v
		  if ($c["drift_windows"] != 3 || $c["drift_window_s"] != 1) printf "line %d: windows %s of %s s; ", NR, $c["drift_windows"], $c["drift_window_s"]
		  if (two != ($c["drift_wake_us"] ~ num && $c["drift_wake_us"] > 0 && $c["drift_wake_step"] ~ num)) printf "line %d: wake %s %s with placement %s; ", NR, $c["drift_wake_us"], $c["drift_wake_step"], $c["placement"]
		  if (index(raw, "copy_gbps=" $c["drift_copy_gbps"] " copy_step=" $c["drift_copy_step"] " ") == 0) printf "line %d: not the raw drift.txt (%s); ", NR, raw }' "$TMP/quick/out.csv")
	if [[ -z $drift_raw ]]; then
		fail driver_drift_probe "no results/*/drift.txt with an 'all' line"
	elif [[ -n $drift_bad ]]; then
		fail driver_drift_probe "$(cut -c 1-400 <<<"$drift_bad")"
	elif ! grep -q '^run_experiments.sh: machine drift: copy [0-9.]* GB/s' "$TMP/q.err"; then
		fail driver_drift_probe "no 'machine drift: copy' line on stderr"
	else
		pass driver_drift_probe
	fi
fi
if [[ -z $PLOT_PY ]]; then
	skip driver_and_plot_together "no python3 with matplotlib on PATH"
	skip driver_header_matches_plot_columns "no python3 with matplotlib on PATH"
else
	absent=""
	for f in throughput.png report.md summary.json; do
		[[ -s $TMP/quick/plots/$f ]] || absent+=" $f"
	done
	if [[ -n $absent ]]; then
		fail driver_and_plot_together "missing beside the CSV in plots/:$absent ($(tail -n 1 "$TMP/q.err"))"
	else
		pass driver_and_plot_together
	fi
	# plot_results.COLUMNS are the columns the plots read: the driver's header starts with
	# exactly those, in order; the driver's newer columns follow at the end (a CSV reader
	# takes columns by name, and plot_results accepts extra ones).
	want=$(cd "$ROOT" && "$PLOT_PY" -c 'import plot_results; print(",".join(plot_results.COLUMNS))' 2>&1)
	got=$(head -n 1 "$TMP/quick/out.csv" 2>/dev/null)
	if [[ $got == "$want" || $got == "$want",* ]]; then
		pass driver_header_matches_plot_columns
	else
		fail driver_header_matches_plot_columns "driver: $(cut -c 1-60 <<<"$got")... plot_results.COLUMNS: $(cut -c 1-60 <<<"$want")... (diff: $(diff <(tr , '\n' <<<"$got") <(tr , '\n' <<<"$want") | grep '^[<>]' | tr '\n' ' '))"
	fi
fi

# phase_reached PHASE PID CSV STDERR: for wait_until: 0 once the driver PID is in PHASE
# (setup: its CSV exists; sweep: it has a row; plot: the sweep said done), 2 when it is gone.
# shellcheck disable=SC2317 # called through wait_until
phase_reached() {
	kill -0 "$2" 2>/dev/null || return 2
	case $1 in
	setup) [[ -f $3 ]] ;;
	sweep) [[ -f $3 && $(wc -l <"$3") -ge 2 ]] ;;
	plot) grep -qs ': done: ' "$4" || return 1 ;; # not yet written: 1 (grep's 2 would read as gone)
	esac
}

# signal_test PHASE SEED [SIG]: start a sweep, signal it at a moment drawn from SEED in
# PHASE — setup (the CSV header is written, namespaces being made, no row yet), sweep
# (after the first row), plot (the sweep is done, plot_results.py runs) — with SIG (or one
# drawn from SEED), then check: exit status, no namespace or process left, every row
# complete. Sets SIG_OUT to the CSV.
signal_test() {
	local phase=$1 seed=$2 sig=${3-} name out err rc=0 left rows want_rc delay pid ns
	local -a args=(--impls "a1 a3" --sizes "4K 64K" --threads "1 2" --repeats 1 --duration 1 --warmup 0.2 --no-plot)
	RANDOM=$seed
	if [[ -z $sig ]]; then
		if ((RANDOM % 2)); then sig=TERM; else sig=INT; fi
	fi
	if [[ $sig == INT ]]; then want_rc=130; else want_rc=143; fi
	name="driver_sig${sig,,}_during_${phase}_seed_$seed"
	if [[ $sig == INT ]] && sigint_ignored; then
		skip "$name" "SIGINT is ignored in this shell (the tests were started in the background): the driver could not trap it"
		return 0
	fi
	out=$TMP/$name/out.csv err=$TMP/$name.err SIG_OUT=$out
	case $phase in
	setup) delay=0.0$((RANDOM % 10)) ;;
	sweep) delay=0.$((RANDOM % 9 + 1)) ;;
	plot)
		delay=0.$((RANDOM % 5))
		args=(--impls a2 --sizes 4K --threads 1 --repeats 1 --duration 0.3 --warmup 0.1)
		;;
	esac
	# Job control: a background job of a script would otherwise ignore SIGINT.
	set -m
	env CB_TEST_TAG="$TAG" "$DRIVER" "${args[@]}" --no-build --out "$out" >/dev/null 2>"$err" &
	BG_PID=$!
	set +m
	wait_until 30 0.01 phase_reached "$phase" "$BG_PID" "$out" "$err"
	sleep "$delay"
	kill "-$sig" "$BG_PID" 2>/dev/null
	if ! wait_until 30 0.1 gone "$BG_PID"; then
		fail "$name" "driver still running 30 s after SIG$sig"
		kill -KILL "$BG_PID" 2>/dev/null
	fi
	wait "$BG_PID" || rc=$?
	pid=$BG_PID
	BG_PID=""
	left=$(leftovers "$err")
	# Namespaces made but not yet announced (a signal during setup): named cb-PID-....
	for ns in /run/netns/cb-"$pid"-*[sc]; do
		[[ -e $ns ]] && left+="namespace ${ns##*/} still exists; "
	done
	rows=$(($( (wc -l <"$out") 2>/dev/null || echo 1) - 1))
	if ((rc != want_rc)) && ! [[ $phase == plot && $rc == 0 ]]; then
		fail "$name" "exit $rc, want $want_rc: $(tail -n 1 "$err")"
	elif [[ -n $left ]]; then
		fail "$name" "$left"
	elif ((rows > 0)) && ! check_csv "$name" "$out" "" '^(ok|failed)$'; then
		: # check_csv said why
	elif [[ $phase == setup ]] && ((rows != 0)); then
		fail "$name" "$rows rows: the signal did not land during setup"
	elif [[ $phase == sweep ]] && ((rows < 1 || rows >= 8)); then
		fail "$name" "$rows rows: the signal did not land mid-sweep"
	elif [[ $phase == plot ]] && ((rows != 1)); then
		fail "$name" "$rows rows, want the sweep's 1"
	elif [[ $phase == plot && $rc == 0 ]]; then
		pass "$name (the plot finished before the signal)"
	else
		pass "$name"
	fi
}
signal_test setup "${CB_TEST_SEED_SETUP:-$RANDOM}"
signal_test sweep "${CB_TEST_SEED_SWEEP_TERM:-$RANDOM}" TERM
signal_test sweep "${CB_TEST_SEED_SWEEP_INT:-$RANDOM}" INT
killed_out=$SIG_OUT   # the INT sweep's CSV, or the TERM one's when INT was skipped
if [[ -z $PLOT_PY ]]; then
	skip driver_signal_during_plot "no python3 with matplotlib on PATH"
else
	signal_test plot "${CB_TEST_SEED_PLOT:-$RANDOM}"
fi

# ---------------------------------------------------------------------------------------
# SIGKILL (issue 16): no trap runs, so the namespaces stay; the next run of the driver
# removes those of dead runs — and only those: a namespace named as ours whose owner is
# alive (a fake "live run": the PID and start time of a sleep this test started), one
# whose owner looks dead but that holds a process, and a foreign one are kept.

# start_of PID: the start time (/proc/PID/stat field 22) of a live process.
start_of() {
	local st
	proc_start st "$1" && printf '%s\n' "$st"
}

# kill9_test PHASE SEED: start a sweep and SIGKILL it at a moment drawn from SEED in PHASE
# (setup: the CSV exists, the namespaces are being made; sweep: after the first row). Then
# wait (bounded) until the processes it started have left, as their own timeouts would
# make them; sets K_PID, K_OUT, K_ERR (the driver's stderr).
kill9_test() {
	local phase=$1 seed=$2 name delay p left
	RANDOM=$seed
	name="driver_sigkill_during_${phase}_seed_$seed"
	K_OUT=$TMP/$name/out.csv K_ERR=$TMP/$name.err
	case $phase in
	setup) delay=0.0$((RANDOM % 10)) ;;
	sweep) delay=0.$((RANDOM % 9 + 1)) ;;
	esac
	env CB_TEST_TAG="$TAG" "$DRIVER" --impls "a1 a3" --sizes "4K 64K" --threads "1 2" --repeats 1 --duration 1 \
		--warmup 0.2 --no-plot --no-build --out "$K_OUT" >/dev/null 2>"$K_ERR" &
	K_PID=$!
	wait_until 30 0.01 phase_reached "$phase" "$K_PID" "$K_OUT" "$K_ERR"
	sleep "$delay"
	kill -KILL "$K_PID" 2>/dev/null
	wait "$K_PID" 2>/dev/null
	# The orphans (server, client, perf) leave when their run ends; what is still there
	# after 5 s (a server that never got its client) is stopped here, by PID.
	wait_until 5 0.1 no_tagged_pids
	left=$(tagged_pids)
	for p in $left; do kill -KILL "$p" 2>/dev/null; done
	wait_until 5 0.1 no_tagged_pids
	if [[ -n $(tagged_pids) ]]; then
		fail "$name" "processes of the killed run still alive: $(tagged_pids)"
	elif [[ $phase == sweep && $(($(wc -l <"$K_OUT") - 1)) -lt 1 ]]; then
		fail "$name" "no row before the kill: it did not land mid-sweep"
	else
		pass "$name (SIGKILL after ${delay} s; $(ns_names /run/netns/cb-"$K_PID"-* | wc -w) namespaces left)"
	fi
}

# no_tagged_pids: for wait_until: 0 when no process carries this test's tag.
# shellcheck disable=SC2317 # called through wait_until
no_tagged_pids() { [[ -z $(tagged_pids) ]]; }

# ns_names GLOB...: the namespace names that exist among /run/netns/GLOB, sorted, one line.
ns_names() {
	local f
	local -a names=()
	for f in "$@"; do [[ -e $f ]] && names+=("${f##*/}"); done
	printf '%s\n' "${names[@]}" | sed '/^$/d' | sort | tr '\n' ' '
}

# The fakes: a live owner, a dead-looking owner whose namespace holds a process, a foreign name.
sleep 120 &
live_pid=$!
T_PIDS+=("$live_pid")
live_start=$(start_of "$live_pid")
ns_live="cb-$live_pid-$live_start-beefs"
ns_busy="cb-$live_pid-$((live_start + 1))-f00ds"
ns_foreign="cbtest-foreign-$$"
T_NETNS+=("$ns_live" "$ns_busy" "$ns_foreign")
for ns in "$ns_live" "$ns_busy" "$ns_foreign"; do ip netns add "$ns"; done
ip netns exec "$ns_busy" sleep 120 &
T_PIDS+=("$!")
wait_until 5 0.05 test -n "$(ip netns pids "$ns_busy" 2>/dev/null)"

# removal_ok NAME STDERR WANT_GONE GLOB...: the run that wrote STDERR removed the namespaces
# WANT_GONE (names, blank-separated) and said so in one line; nothing matches GLOB anymore.
removal_ok() {
	local name=$1 errf=$2 want=$3 line ns miss=""
	shift 3
	line=$(grep 'left by dead runs: ' "$errf")
	for ns in $want; do [[ " ${line#*: } " == *" $ns "* ]] || miss+=" $ns"; done
	if [[ -n $(ns_names "$@") ]]; then
		fail "$name" "the killed run's namespaces are still there: $(ns_names "$@")"
	elif [[ -n $want ]] && (($(grep -c 'left by dead runs: ' "$errf") != 1)) || [[ -n $miss ]]; then
		fail "$name" "want one line naming$miss: $line"
	else
		return 0
	fi
	return 1
}

killed=()
kill9_test setup "${CB_TEST_SEED_KILL_SETUP:-$RANDOM}"
killed+=("$K_PID")
setup_gone=$(ns_names /run/netns/cb-"$K_PID"-*)
kill9_test sweep "${CB_TEST_SEED_KILL_SWEEP:-$RANDOM}"
killed+=("$K_PID")
sweep_out=$K_OUT
# The sweep's driver was the run after the setup kill: it removed that run's namespaces.
if removal_ok driver_run_after_setup_kill_removes_its_namespaces "$K_ERR" "$setup_gone" /run/netns/cb-"${killed[0]}"-*; then
	pass "driver_run_after_setup_kill_removes_its_namespaces (${setup_gone:-none were made yet})"
fi
want_gone=$(ns_names /run/netns/cb-"${killed[1]}"-*)

rc=0
driver --no-netns --impls a2 --sizes 1K --threads 1 --repeats 1 --duration 0.3 --warmup 0.1 --no-plot --no-build \
	--drift-windows 0 --out "$TMP/after_kill/out.csv" >/dev/null 2>"$TMP/after_kill.err" || rc=$?
kept=$(ns_names "/run/netns/$ns_live" "/run/netns/$ns_busy" "/run/netns/$ns_foreign")
if ((rc != 0)); then
	fail driver_next_run_removes_dead_runs_namespaces "exit $rc: $(tail -n 1 "$TMP/after_kill.err")"
elif [[ $kept != "$(printf '%s\n' "$ns_live" "$ns_busy" "$ns_foreign" | sort | tr '\n' ' ')" ]]; then
	fail driver_next_run_removes_dead_runs_namespaces "kept only '$kept' of $ns_live (live owner), $ns_busy (holds a process), $ns_foreign (not ours)"
elif removal_ok driver_next_run_removes_dead_runs_namespaces "$TMP/after_kill.err" "$want_gone" /run/netns/cb-"${killed[1]}"-* &&
	check_csv driver_next_run_removes_dead_runs_namespaces "$TMP/after_kill/out.csv" 1 '^ok$'; then
	pass "driver_next_run_removes_dead_runs_namespaces (${want_gone:-none left by the kill})"
fi

# --drift-windows 0: no probe, and its columns NA (not 0, not empty); no raw drift.txt.
drift_na=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^drift_/) d[i] = $i; next }
	{ for (i in d) if ($i != "NA") printf "%s %s; ", d[i], $i }' "$TMP/after_kill/out.csv")
if [[ -n $drift_na ]] || ls "$TMP"/after_kill/results/*/drift.txt >/dev/null 2>&1 ||
	grep -q 'machine drift' "$TMP/after_kill.err"; then
	fail driver_drift_windows_0 "${drift_na:-a probe ran}"
else
	pass driver_drift_windows_0
fi

# The killed sweep's raw directory has no COMPLETE; a finished run's holds its row count.
k_raw=$(find "$(dirname "$sweep_out")/results" -maxdepth 1 -name "*-${killed[1]}" 2>/dev/null | head -n 1)
a_raw=$(find "$TMP/after_kill/results" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n 1)
if [[ -z $k_raw || -z $a_raw ]]; then
	fail driver_raw_dir_complete_marker "raw directories not found: killed '$k_raw', finished '$a_raw'"
elif [[ -e $k_raw/COMPLETE ]]; then
	fail driver_raw_dir_complete_marker "the SIGKILLed run's $k_raw has a COMPLETE"
elif [[ $(cat "$a_raw/COMPLETE" 2>/dev/null) != 1 ]]; then
	fail driver_raw_dir_complete_marker "the finished run's COMPLETE holds '$(cat "$a_raw/COMPLETE" 2>/dev/null)', want 1 (rows)"
else
	pass driver_raw_dir_complete_marker
fi

# --cleanup: removes a dead run's empty namespace (one line), then has nothing to clean
# (the live owner's and the busy one are not for cleaning); exits 0 both times.
true &
dead_pid=$!
wait "$dead_pid"
ns_dead="cb-$dead_pid-1-deads"
T_NETNS+=("$ns_dead")
ip netns add "$ns_dead"
rc1=0 rc2=0
"$DRIVER" --cleanup >"$TMP/cl1.out" 2>&1 || rc1=$?
"$DRIVER" --cleanup >"$TMP/cl2.out" 2>&1 || rc2=$?
if ((rc1 != 0)) || ! grep -q "^run_experiments.sh: removed 1 namespace left by dead runs: $ns_dead\$" "$TMP/cl1.out" ||
	(($(wc -l <"$TMP/cl1.out") != 1)) || [[ -e /run/netns/$ns_dead ]]; then
	fail driver_cleanup_removes_dead_only "exit $rc1: $(tr '\n' ' ' <"$TMP/cl1.out")"
elif [[ ! -e /run/netns/$ns_live || ! -e /run/netns/$ns_busy || ! -e /run/netns/$ns_foreign ]]; then
	fail driver_cleanup_removes_dead_only "--cleanup removed a namespace it must keep"
else
	pass driver_cleanup_removes_dead_only
fi
if ((rc2 == 0)) && grep -q 'nothing to clean' "$TMP/cl2.out"; then
	pass driver_cleanup_nothing_to_clean
else
	fail driver_cleanup_nothing_to_clean "exit $rc2: $(tr '\n' ' ' <"$TMP/cl2.out")"
fi
{
	for p in "${T_PIDS[@]}"; do kill -KILL "$p"; done
	wait "${T_PIDS[@]}"
} 2>/dev/null
for ns in "${T_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
T_PIDS=() T_NETNS=()

# A re-run into the CSV of the killed run: works without manual cleanup, appends under a
# new run_id below the same header.
out=$killed_out
before=$(($(wc -l <"$out") - 1))
old_ids=$(tail -n +2 "$out" | cut -d, -f1 | sort -u)
rc=0
driver --impls a2 --sizes 1K --threads 1 --repeats 1 --duration 0.5 --warmup 0.1 --no-plot --no-build \
	--out "$out" >/dev/null 2>"$TMP/rerun.err" || rc=$?
after=$(($(wc -l <"$out") - 1))
new_id=$(tail -n 1 "$out" | cut -d, -f1)
left=$(leftovers "$TMP/rerun.err")
if ((rc != 0)); then
	fail driver_rerun_after_kill "exit $rc: $(tail -n 1 "$TMP/rerun.err")"
elif ((after != before + 1)); then
	fail driver_rerun_after_kill "rows $before -> $after, want one more"
elif grep -qx -- "$new_id" <<<"$old_ids"; then
	fail driver_rerun_after_kill "appended under an old run_id $new_id"
elif [[ -n $left ]]; then
	fail driver_rerun_after_kill "$left"
elif check_csv driver_rerun_after_kill "$out" "$after" '^(ok|failed)$' &&
	[[ $(tail -n 1 "$out" | awk -F, '{ print $5 }') == ok ]]; then
	pass driver_rerun_after_kill
fi

# Loopback, and a perf that exists but does not work (a fake one on PATH fails, as with
# perf_event_paranoid or in a container): the run still measures, the counter columns are
# NA, never 0, the message quotes perf's own error, and apt-get is never called for a
# command that exists — even without CB_NO_APT (a fake apt-get records any call).
mkdir -p "$TMP/fakebin"
printf '#!/bin/sh\necho "perf: not usable here" >&2\nexit 1\n' >"$TMP/fakebin/perf"
printf '#!/bin/sh\necho "$*" >>"%s"\nexit 1\n' "$TMP/apt_called" >"$TMP/fakebin/apt-get"
chmod +x "$TMP/fakebin/perf" "$TMP/fakebin/apt-get"
rc=0
PATH="$TMP/fakebin:$PATH" env -u CB_NO_APT CB_TEST_TAG="$TAG" "$DRIVER" --no-netns --impls a2 --sizes 4K --threads 1 --repeats 1 --duration 0.5 \
	--warmup 0.1 --no-plot --no-build --out "$TMP/lo/out.csv" >/dev/null 2>"$TMP/lo.err" || rc=$?
left=$(leftovers "$TMP/lo.err")
if ((rc != 0)); then
	fail driver_loopback_without_perf "exit $rc: $(tail -n 1 "$TMP/lo.err")"
elif [[ -e $TMP/apt_called ]]; then
	fail driver_loopback_without_perf "apt-get was called for a perf that exists: apt-get $(head -n 1 "$TMP/apt_called")"
elif ! grep -q 'perf not usable.*perf: not usable here' "$TMP/lo.err"; then
	fail driver_loopback_without_perf "no message about perf quoting its error: $(grep -m1 perf "$TMP/lo.err")"
elif [[ -n $left ]]; then
	fail driver_loopback_without_perf "$left"
elif check_csv driver_loopback_without_perf "$TMP/lo/out.csv" 1 '^ok$'; then
	bad=$(awk -F, -v lomtu="$(cat /sys/class/net/lo/mtu)" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ if ($c["link"] != "lo") print "link " $c["link"]
		  if ($c["mtu"] != lomtu) print "mtu " $c["mtu"]
		  if ($c["srv_task_clock"] != "NA" || $c["cli_cycles"] != "NA" || $c["perf_user_only"] != "NA") print "perf cells not NA"
		  if ($c["perf_interval"] != "NA") print "perf_interval " $c["perf_interval"] " without perf"
		  if ($c["throughput_gbps"] !~ /^[0-9.]+$/ || $c["throughput_gbps"] + 0 <= 0) print "no throughput"
		  if ($c["srv_cpu_ns_per_byte"] !~ /^[0-9.]+$/) print "no rusage cost per byte" }' "$TMP/lo/out.csv")
	if [[ -n $bad ]]; then fail driver_loopback_without_perf "$(tr '\n' ';' <<<"$bad")"; else pass driver_loopback_without_perf; fi
fi

# No ip on PATH (CB_NO_APT=1): namespaces are refused with a message naming iproute2;
# --no-netns still runs.
path_farm "$TMP/noip" '^(ip|apt-get|apt)$'
rc=0
PATH="$TMP/noip" driver --impls a2 --sizes 1K --threads 1 --repeats 1 --duration 0.3 --warmup 0.1 --no-plot \
	--no-build --out "$TMP/noip1/out.csv" >/dev/null 2>"$TMP/noip1.err" || rc=$?
rc2=0
PATH="$TMP/noip" driver --no-netns --impls a2 --sizes 1K --threads 1 --repeats 1 --duration 0.3 --warmup 0.1 \
	--no-plot --no-build --out "$TMP/noip2/out.csv" >/dev/null 2>"$TMP/noip2.err" || rc2=$?
if PATH="$TMP/noip" command -v ip >/dev/null; then
	skip driver_missing_ip "could not hide ip from PATH"
elif ((rc != 1)) || ! grep -q 'iproute2' "$TMP/noip1.err"; then
	fail driver_missing_ip "namespaces without ip: exit $rc, want 1 and a message naming iproute2: $(tail -n 1 "$TMP/noip1.err")"
elif [[ -n $(leftovers "$TMP/noip1.err") ]]; then
	fail driver_missing_ip "$(leftovers "$TMP/noip1.err")"
elif ((rc2 != 0)); then
	fail driver_missing_ip "--no-netns without ip: exit $rc2: $(tail -n 1 "$TMP/noip2.err")"
elif check_csv driver_missing_ip "$TMP/noip2/out.csv" 1 '^ok$'; then
	pass driver_missing_ip
fi

# No Python with matplotlib (every python3 on PATH is a shim that fails the import): the
# sweep still runs and writes its CSV, and its last lines say what to install.
path_farm "$TMP/nompl" '^(python[0-9.]*|apt-get|apt)$'
mkdir -p "$TMP/pyshim"
printf '#!/bin/sh\necho "ModuleNotFoundError: No module named matplotlib" >&2\nexit 1\n' >"$TMP/pyshim/python3"
chmod +x "$TMP/pyshim/python3"
rc=0
PATH="$TMP/pyshim:$TMP/nompl" driver --no-netns --impls a2 --sizes 1K --threads 1 --repeats 1 --duration 0.3 \
	--warmup 0.1 --no-build --out "$TMP/nompl_out/out.csv" >/dev/null 2>"$TMP/nompl.err" || rc=$?
if ((rc != 0)); then
	fail driver_missing_matplotlib "exit $rc: $(tail -n 1 "$TMP/nompl.err")"
elif ! tail -n 1 "$TMP/nompl.err" | grep -q 'apt-get install python3-matplotlib.*plot_results.py'; then
	fail driver_missing_matplotlib "the last line does not say what to install and how to plot: $(tail -n 1 "$TMP/nompl.err")"
elif [[ -e $TMP/nompl_out/plots ]]; then
	fail driver_missing_matplotlib "plots/ exists without matplotlib"
elif check_csv driver_missing_matplotlib "$TMP/nompl_out/out.csv" 1 '^ok$'; then
	pass driver_missing_matplotlib
fi

# Rounds where the question needs them, on stand-in binaries whose numbers are known: a
# copy of the driver beside a Python pair that connects for real over loopback but reports
# throughputs of its own. At 1K every round's ratios are the same (a2/a1 = 1.1, a3/a1 = 1:
# within any +-P after the first pass); at 64K a2 swings between 8 and 12 against a1's 10
# (wider than +-5% for ever). So: no extra round at 1K; extra rounds at 64K, whole groups
# numbered on from 7, until the budget has no room; the budget (45 s: the first pass of 36
# stand-in runs takes 15-30 s on a loaded machine) never exceeded by more than one run; and
# the DSACK'd share is tcp_dsack_recv_segs / tcp_retrans of the server's window (a1 10/40,
# a2 none, a3 8/8), never of its whole life (life_tcp_retrans 999) nor of D-SACK
# blocks (tcp_dsack_recv 1).
pair=$TMP/pair
mkdir -p "$pair"
cp "$DRIVER" "$ROOT/cbstats.py" "$pair/"
cat >"$pair/stand_in.py" <<'PY'
import json, os, socket, sys, time
name = os.path.basename(sys.argv[0])            # aN_server / aN_client
strategy, role = name.split("_")
args = sys.argv[1:]
opt = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("-")}
log = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "times.log")
if role == "server":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((opt["-B"], int(opt["-p"])))
    s.listen(16)
    s.settimeout(20)
    for _ in range(int(opt["-n"])):
        s.accept()[0].close()
    retrans, dsack = {"a1": (40, 10), "a2": (0, 0), "a3": (8, 8)}[strategy]
    print(json.dumps({"status": "ok", "bytes_sent": 1000, "bytes": 1000, "window": "measured",
                      "tcp_retrans": retrans, "tcp_dsack_recv": 1, "tcp_dsack_recv_segs": dsack,
                      "life_tcp_retrans": 999}))
else:
    start = time.time()
    for _ in range(int(opt["-t"])):
        socket.create_connection((opt["-H"], int(opt["-p"])), timeout=10).close()
    gbps = {"a1": 10.0, "a3": 10.0, "a2": 11.0}[strategy]
    if strategy == "a2" and opt["-s"] not in ("1K", "1024"):
        count = os.path.join(os.path.dirname(log), "a2.count." + opt["-s"])
        n = int(open(count).read()) if os.path.exists(count) else 0
        open(count, "w").write(str(n + 1))
        gbps = 8.0 if n % 2 else 12.0
    print(json.dumps({"status": "ok", "gbps": gbps, "bytes": 1000, "bytes_total": 1000,
                      "verify_errors": 0, "window": "measured"}))
    with open(log, "a") as f:
        f.write(f"{start:.6f} {time.time():.6f}\n")
PY
# One script per binary name (the script tells its strategy and role by its own name).
for b in a1_server a1_client a2_server a2_client a3_server a3_client; do
	{ printf '#!/usr/bin/env python3\n'; cat "$pair/stand_in.py"; } >"$pair/$b"
	chmod +x "$pair/$b"
done
rc=0
PATH="$TMP/fakebin:$PATH" env CB_TEST_TAG="$TAG" "$pair/run_experiments.sh" --no-netns --no-build --no-plot --sizes 1K,64K \
	--threads 1 --seed 7 --budget 0.75 --precision 0.05 --duration 0.1 --warmup 0 --out "$TMP/pair/out.csv" \
	>/dev/null 2>"$TMP/pair.err" || rc=$?
if ((rc != 0)); then
	fail driver_budget_and_precision "exit $rc: $(tail -n 2 "$TMP/pair.err" | tr '\n' ' ')"
elif check_csv driver_budget_and_precision "$TMP/pair/out.csv" "" '^ok$'; then
	bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ size = $c["msg_size"]; rep = $c["repeat"]; pass = $c["pass"]
		  if ($c["seed"] != 7 || $c["precision"] != 0.05) print "line " NR ": seed/precision " $c["seed"] "/" $c["precision"]
		  if ((rep <= 6) != (pass == "first")) print "line " NR ": repeat " rep " pass " pass
		  if (size == 1024 && pass != "first") print "line " NR ": an extra round at 1K, which was decisive at +-5%"
		  if ($c["slot"] == 1) { if (g != "" && n != 3) print "group " g " has " n " runs"; g = size "/" rep; n = 0; have = "" }
		  if (size "/" rep != g) print "line " NR ": a group is not back to back"
		  n++; have = have " " $c["strategy"]
		  if (pass == "extra") { extra[rep]++; if (rep > top) top = rep }
		  want = ($c["strategy"] == "a1") ? "0.2500" : ($c["strategy"] == "a3") ? "1.0000" : ""
		  if ($c["dsack_share"] != want) print "line " NR ": dsack_share " $c["dsack_share"] " for " $c["strategy"] ", want " want }
		END { if (n != 3) print "the last group has " n " runs"
		      if (top < 7) print "no extra round at 64K"
		      for (r = 7; r <= top; r++) if (extra[r] != 3) print "extra round " r " has " extra[r] + 0 " runs" }' "$TMP/pair/out.csv")
	start_us=$(sed -n 's/^sweep_start_us //p' "$TMP"/pair/results/*/run.txt)
	budget_bad=$(awk -v s="$start_us" -v b=45 '{ if (n++) { gap = $2 - last; if (gap > run) run = gap } last = $2 }
		END { over = last - s / 1e6 - b
		      if (over > run) printf "the last run ended %.2f s after the budget, more than one run (%.2f s)", over, run }' "$TMP/pair/times.log")
	if [[ -n $bad ]]; then
		fail driver_budget_and_precision "$(head -n 4 <<<"$bad" | tr '\n' ';')"
	elif [[ -z $start_us ]]; then
		fail driver_budget_and_precision "run.txt has no sweep_start_us"
	elif [[ -n $budget_bad ]]; then
		fail driver_budget_and_precision "$budget_bad"
	elif ! grep -q 'still too wide to decide at +-5%: 1 point: 64K x1 stream' "$TMP/pair.err"; then
		fail driver_budget_and_precision "the closing lines do not name 64K as still wide: $(tail -n 2 "$TMP/pair.err" | tr '\n' ' ')"
	else
		pass "driver_budget_and_precision ($(grep -c ',extra,' "$TMP/pair/out.csv") extra runs at 64K, none at 1K)"
	fi
fi

# Failed runs are recorded with their reason and the sweep goes on; the exit status says so.
# A copy of the driver beside stand-in binaries: a1_server dies at once, a2_server ignores
# -n (so it never leaves by itself), a3 is the real pair.
fake=$TMP/fake
mkdir -p "$fake"
cp "$DRIVER" "$fake/run_experiments.sh"
printf '#!/bin/sh\necho "a1_server: stand-in that cannot start" >&2\nexit 3\n' >"$fake/a1_server"
cat >"$fake/a2_server" <<EOF
#!/usr/bin/env bash
# stand-in: the real a2_server without its -n N, so it keeps serving after the client
args=()
while ((\$# > 0)); do
	if [[ \$1 == -n ]]; then shift 2; continue; fi
	args+=("\$1"); shift
done
exec "$ROOT/a2_server" "\${args[@]}"
EOF
chmod +x "$fake/a1_server" "$fake/a2_server"
for b in a1_client a2_client a3_server a3_client; do ln -s "$ROOT/$b" "$fake/$b"; done
rc=0
env CB_TEST_TAG="$TAG" "$fake/run_experiments.sh" --no-netns --no-build --no-plot --impls a1,a2,a3 --sizes 1K \
	--threads 1 --repeats 1 --duration 0.3 --warmup 0.1 --out "$TMP/failed/out.csv" >/dev/null 2>"$TMP/failed.err" || rc=$?
left=$(leftovers "$TMP/failed.err")
if ((rc != 1)); then
	fail driver_failed_runs_recorded "exit $rc, want 1: $(tail -n 1 "$TMP/failed.err")"
elif [[ -n $left ]]; then
	fail driver_failed_runs_recorded "$left"
elif check_csv driver_failed_runs_recorded "$TMP/failed/out.csv" 3 '^(ok|failed)$'; then
	got=$(awk -F, 'NR > 1 { printf "%s:%s:%s|\n", $7, $5, $6 }' "$TMP/failed/out.csv" | sort | tr -d '\n')
	if [[ $got != "a1:failed:server exited before listening: a1_server: stand-in that cannot start|a2:failed:server did not exit after the client (killed)|a3:ok:|" ]]; then
		fail driver_failed_runs_recorded "rows (strategy:status:reason): $got"
	elif (($(grep -c 'FAILED' "$TMP/failed.err") != 2)); then
		fail driver_failed_runs_recorded "want two FAILED progress lines"
	else
		pass driver_failed_runs_recorded
	fi
fi

# --mode both over loopback, pinned: stream rows keep rtt_* empty, rr rows fill
# them in order (min <= p50 <= p99 <= max) and record the placement.
rc=0
driver --no-netns --no-build --no-plot --mode both --pin same --impls a2,a3 --sizes 1K --threads 1 \
	--repeats 1 --duration 0.3 --warmup 0.1 --out "$TMP/rr/out.csv" >/dev/null 2>"$TMP/rr.err" || rc=$?
if ((rc != 0)); then
	fail driver_mode_both_rr_rows "exit $rc: $(tail -n 1 "$TMP/rr.err")"
elif check_csv driver_mode_both_rr_rows "$TMP/rr/out.csv" 4 '^ok$'; then
	bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["mode"] == "stream" && ($c["rtt_p50_us"] != "" || $c["transactions"] != "") { print "stream row " NR " has rtt cells" }
		$c["mode"] == "rr" && !($c["transactions"] > 0 && $c["rtt_min_us"] > 0 && $c["rtt_min_us"] <= $c["rtt_p50_us"] &&
			$c["rtt_p50_us"] <= $c["rtt_p99_us"] && $c["rtt_p99_us"] <= $c["rtt_max_us"]) { print "rr row " NR " percentiles wrong" }
		$c["placement"] == "unpinned" || $c["placement"] == "" { print "row " NR " placement not recorded" }
		{ n[$c["mode"]]++ }
		END { if (n["stream"] != 2 || n["rr"] != 2) print "want 2 stream + 2 rr rows" }' "$TMP/rr/out.csv")
	if [[ -n $bad ]]; then
		fail driver_mode_both_rr_rows "$(echo "$bad" | head -n 3 | tr '\n' ';')"
	else
		pass driver_mode_both_rr_rows
	fi
fi


# The axes over a real veth pair: a1 and a3 with both engines and both receive paths make
# 6 rows (a1 never with io_uring), each recording the engine and receive path it ran with;
# --rx zerocopy picked MTU 4148; the mapped share is a fraction for zerocopy rows and empty
# for copy rows; fixed_buffers is filled for a3 with io_uring only.
rc=0
driver --no-build --no-plot --impls a1,a3 --engines syscall,uring --rx copy,zerocopy --sizes 64K --threads 1 \
	--repeats 1 --duration 0.5 --warmup 0.1 --out "$TMP/axes/out.csv" >/dev/null 2>"$TMP/axes.err" || rc=$?
if ((rc != 0)); then
	fail driver_axes_rows "exit $rc: $(grep -m1 FAILED "$TMP/axes.err" || tail -n 1 "$TMP/axes.err")"
elif [[ -n $(leftovers "$TMP/axes.err") ]]; then
	fail driver_axes_rows "$(leftovers "$TMP/axes.err")"
elif check_csv driver_axes_rows "$TMP/axes/out.csv" 6 '^ok$'; then
	got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ printf "%s/%s/%s \n", $c["strategy"], $c["engine"], $c["rx"] }' "$TMP/axes/out.csv" | sort | tr -d '\n')
	bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ if ($c["mtu"] != 4148) print "line " NR " mtu " $c["mtu"]
		  share = $c["rx_mapped_share"]
		  if ($c["rx"] == "zerocopy" && !(share ~ /^[0-9.]+$/ && share >= 0 && share <= 1)) print "line " NR " rx_mapped_share " share
		  if ($c["rx"] == "copy" && share != "") print "line " NR " rx_mapped_share " share " for rx copy"
		  fb = $c["fixed_buffers"]
		  if ($c["strategy"] == "a3" && $c["engine"] == "uring") { if (fb != "0" && fb != "1") print "line " NR " fixed_buffers " fb }
		  else if (fb != "") print "line " NR " fixed_buffers " fb " for " $c["strategy"] "/" $c["engine"] }' "$TMP/axes/out.csv")
	if [[ $got != "a1/syscall/copy a1/syscall/zerocopy a3/syscall/copy a3/syscall/zerocopy a3/uring/copy a3/uring/zerocopy " ]]; then
		fail driver_axes_rows "rows (strategy/engine/rx): $got"
	elif [[ -n $bad ]]; then
		fail driver_axes_rows "$(head -n 3 <<<"$bad" | tr '\n' ';')"
	elif ! grep -q 'engine=uring rx=zerocopy' "$TMP/axes.err"; then
		fail driver_axes_rows "the progress lines do not show the axes"
	else
		pass driver_axes_rows
	fi
fi

# A perf without --control (older than 5.9; a wrapper that refuses the option stands in):
# said once, and the counters cover each process's whole life: perf_interval=life, counts
# still filled.
mkdir -p "$TMP/oldperf"
real_perf=$(command -v perf || true)
if [[ -z $real_perf ]]; then
	skip driver_perf_without_control "perf not installed"
else
	# shellcheck disable=SC2016 # the $@ and $a are the wrapper's own, expanded when it runs
	printf '#!/bin/sh\nfor a in "$@"; do\n\tif [ "$a" = --control ]; then echo "  Error: unknown option control" >&2; exit 129; fi\ndone\nexec %s "$@"\n' \
		"$real_perf" >"$TMP/oldperf/perf"
	chmod +x "$TMP/oldperf/perf"
	rc=0
	PATH="$TMP/oldperf:$PATH" driver --no-netns --no-build --no-plot --impls a2 --sizes 4K --threads 1 --repeats 1 \
		--duration 0.3 --warmup 0.1 --out "$TMP/oldperf/out.csv" >/dev/null 2>"$TMP/oldperf.err" || rc=$?
	if ((rc != 0)); then
		fail driver_perf_without_control "exit $rc: $(tail -n 1 "$TMP/oldperf.err")"
	elif (($(grep -c 'no --control' "$TMP/oldperf.err") != 1)); then
		fail driver_perf_without_control "want one line saying perf has no --control: $(grep -m1 perf "$TMP/oldperf.err")"
	elif check_csv driver_perf_without_control "$TMP/oldperf/out.csv" 1 '^ok$'; then
		bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
			{ if ($c["perf_interval"] != "life") print "perf_interval " $c["perf_interval"]
			  if ($c["srv_task_clock"] !~ /^[0-9.]+$/ || $c["cli_task_clock"] !~ /^[0-9.]+$/) print "task_clock not filled"
			  if ($c["window"] != "measured") print "window " $c["window"] }' "$TMP/oldperf/out.csv")
		if [[ -n $bad ]]; then fail driver_perf_without_control "$(tr '\n' ';' <<<"$bad")"; else pass driver_perf_without_control; fi
	fi
fi

((FAILS == 0))
