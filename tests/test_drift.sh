#!/usr/bin/env bash
# tests/test_drift.sh — tools/cb_drift, the sweep's machine-drift probe (the driver's use of
# it: tests/test_driver.sh). Runs against $BIN_DIR (make sanitize: build/asan, build/tsan)
# like the binaries' suites.
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DR=$BIN_DIR/tools/cb_drift

# kv LINE KEY: the value of KEY=VALUE in LINE
kv() { sed -n "s/.*\\<$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }

# is_pos NUMBER: a finite number > 0
is_pos() { awk -v v="$1" 'BEGIN { exit !(v ~ /^[0-9]+(\.[0-9]+)?$/ && v + 0 > 0) }'; }
# is_nonneg NUMBER: a finite number >= 0
is_nonneg() { awk -v v="$1" 'BEGIN { exit !(v ~ /^[0-9]+(\.[0-9]+)?$/) }'; }

if [[ ! -x $DR ]]; then
	skip drift_tool "tools/cb_drift not built"
	t_done
fi

# usage errors exit 2 with one line; a CPU that is not there exits 1 with one line
bad="" args=()
"$DR" --help | grep -q '^Usage: cb_drift --cpus LIST' || bad+="--help: no usage line; "
for c in "" "--cpus x" "--cpus 0 --windows 2" "--cpus 0 --windows 1001" "--cpus 0 --window 0" \
	"--cpus 0 --window 61" "--cpus 0 --size 1K" "--cpus 0 --size 2G" "--cpus 0 extra" "--bogus" "--cpus" \
	"--cpus 0,0"; do
	rc=0
	eval "args=($c)"
	"$DR" "${args[@]}" >/dev/null 2>"$T_TMP/dr.err" || rc=$?
	((rc == 2 && $(wc -l <"$T_TMP/dr.err") == 1)) || bad+="'$c': exit $rc, $(wc -l <"$T_TMP/dr.err") lines; "
done
nocpu=$(($(nproc --all) + 1)) rc=0
if ((nocpu < 1024)); then
	"$DR" --cpus "$nocpu" --windows 3 --window 0.01 >"$T_TMP/dr.out" 2>"$T_TMP/dr.err" || rc=$?
	((rc == 1 && $(wc -l <"$T_TMP/dr.err") == 1)) && grep -q "CPU $nocpu: no such CPU" "$T_TMP/dr.err" &&
		[[ ! -s $T_TMP/dr.out ]] || bad+="CPU $nocpu: exit $rc, $(head -n 1 "$T_TMP/dr.err"); "
fi
if [[ -n $bad ]]; then fail drift_usage "$bad"; else pass drift_usage; fi

# One CPU: a line for it and the pooled line, which then carries the same figures; no
# ping-pong (NA); the windows as asked; it takes about windows x window. A size that is
# not a multiple of the page (its buffers are page-aligned all the same).
mapfile -t cpus < <(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status | tr ',' '\n' |
	awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }')
bad=""
start=$(date +%s%N)
"$DR" --cpus "${cpus[0]}" --windows 5 --window 0.1 --size 5000 >"$T_TMP/one.out" 2>"$T_TMP/one.err" || bad+="exit $?: $(head -n 1 "$T_TMP/one.err"); "
ms=$((($(date +%s%N) - start) / 1000000))
((ms >= 500 && ms < 20000)) || bad+="5 windows of 0.1 s took $ms ms; "
cpu_line=$(grep "^cpu=${cpus[0]} " "$T_TMP/one.out") all_line=$(grep '^all ' "$T_TMP/one.out")
(($(wc -l <"$T_TMP/one.out") == 2)) || bad+="$(wc -l <"$T_TMP/one.out") lines, not 2; "
for k in copy_gbps copy_step alu_step sys_ns sys_step; do
	[[ -n $(kv "$cpu_line" "$k") && $(kv "$cpu_line" "$k") == "$(kv "$all_line" "$k")" ]] ||
		bad+="$k: cpu line '$(kv "$cpu_line" "$k")', pooled '$(kv "$all_line" "$k")'; "
done
for k in copy_gbps sys_ns; do is_pos "$(kv "$all_line" "$k")" || bad+="$k '$(kv "$all_line" "$k")' not > 0; "; done
for k in copy_step alu_step sys_step; do is_nonneg "$(kv "$all_line" "$k")" || bad+="$k '$(kv "$all_line" "$k")'; "; done
[[ $(kv "$all_line" wake_us) == NA && $(kv "$all_line" wake_step) == NA ]] || bad+="one CPU has a ping-pong: $all_line; "
[[ $(kv "$all_line" windows) == 5 ]] || bad+="windows '$(kv "$all_line" windows)'; "
if [[ -n $bad ]]; then fail drift_one_cpu "$bad"; else pass drift_one_cpu; fi

# Two CPUs: a line each, the ping-pong's round trip a positive number of microseconds, and
# the pooled copy step between the two CPUs' own (the root of their variances' mean).
if ((${#cpus[@]} < 2)); then
	skip drift_two_cpus "one CPU allowed here"
else
	bad=""
	"$DR" --cpus "${cpus[0]},${cpus[1]}" --windows 4 --window 0.1 >"$T_TMP/two.out" 2>"$T_TMP/two.err" || bad+="exit $?: $(head -n 1 "$T_TMP/two.err"); "
	all_line=$(grep '^all ' "$T_TMP/two.out")
	a=$(kv "$(grep "^cpu=${cpus[0]} " "$T_TMP/two.out")" copy_step) b=$(kv "$(grep "^cpu=${cpus[1]} " "$T_TMP/two.out")" copy_step)
	p=$(kv "$all_line" copy_step)
	awk -v a="$a" -v b="$b" -v p="$p" 'BEGIN { e = sqrt((a * a + b * b) / 2); exit !(a != "" && b != "" && p - e < 0.0002 && e - p < 0.0002) }' ||
		bad+="pooled copy_step $p, CPUs' $a and $b; "
	is_pos "$(kv "$all_line" wake_us)" || bad+="wake_us '$(kv "$all_line" wake_us)'; "
	is_nonneg "$(kv "$all_line" wake_step)" || bad+="wake_step '$(kv "$all_line" wake_step)'; "
	if [[ -n $bad ]]; then fail drift_two_cpus "$bad"; else pass drift_two_cpus; fi
fi
t_done
