#!/usr/bin/env bash
# tests/test_profile.sh — run_experiments.sh --profile on a short real sweep: where each
# byte's CPU goes, copy by copy, must obey the physics of the three strategies on one host:
# a1 has a user-space copy and a2 none; a3 has no send copy but a deferred copy at local
# delivery, which a1 and a2 do not. Needs root and perf (SKIP otherwise).
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if why=$(profile_unavailable); then
	skip "profile physics" "$why"
	t_done
fi

out="$T_TMP/prof.csv"
if ! CB_NO_APT=1 "$TOP/run_experiments.sh" --profile --impls a1,a2,a3 --sizes 64K --threads 1 --repeats 1 \
	--duration 1 --pin split --no-plot --no-build --out "$out" >"$T_TMP/drv.out" 2>"$T_TMP/drv.err"; then
	fail "profiled sweep" "$(tail -n 2 "$T_TMP/drv.err")"
	t_done
fi

# check NAME EXPR — EXPR in Python over p[strategy][category] (ns per byte)
check() {
	local out
	if out=$(python3 - "$T_TMP/prof.csv" "$2" <<'PY'
import csv, sys
p = {}
for r in csv.DictReader(open(sys.argv[1])):
    p[r["strategy"]] = {k[5:]: float(v) for k, v in r.items() if k.startswith("prof_") and v not in ("", "NA")}
    p[r["strategy"]]["status"] = r["status"]
ok = eval(sys.argv[2], {"p": p})
print(" ".join(f"{s}:{ {k: round(v, 4) for k, v in d.items() if k != 'status'} }" for s, d in sorted(p.items())))
sys.exit(0 if ok else 1)
PY
	); then pass "$1"; else fail "$1" "$out"; fi
}

check "every profiled run ok with samples in every run" \
	'all(p[s]["status"] == "ok" and p[s].get("samples", 0) > 100 for s in ("a1", "a2", "a3"))'
check "a1 serializes in user space (user_copy > 0); a2 does not (< 15% of a1's)" \
	'p["a1"]["user_copy"] > 0 and p["a2"]["user_copy"] < 0.15 * p["a1"]["user_copy"]'
check "a3 has no send copy (< 25% of a2's) but a deferred copy (> 0)" \
	'p["a3"]["send_copy"] < 0.25 * p["a2"]["send_copy"] and p["a3"]["deferred_copy"] > 0'
check "a1 and a2 have no deferred copy (< 15% of a3's)" \
	'max(p["a1"]["deferred_copy"], p["a2"]["deferred_copy"]) < 0.15 * p["a3"]["deferred_copy"]'
check "every strategy's receiver copies (recv_copy > 0), and a3 pays zero-copy overhead (> a2's)" \
	'all(p[s]["recv_copy"] > 0 for s in p) and p["a3"]["zc_overhead"] > p["a2"]["zc_overhead"]'
if [[ -n $(find "$T_TMP" -name '*.prof.data' 2>/dev/null) ]]; then
	fail "the samples are not kept" "$(find "$T_TMP" -name '*.prof.data' | head -n 1)"
elif (($(find "$T_TMP/results" -name '*.prof.txt' | wc -l) != 3)); then
	fail "the counts are kept" "$(find "$T_TMP/results" -name '*.prof.txt' | wc -l) prof.txt files for 3 runs"
else
	pass "the samples are classified and removed (BASE.prof.txt keeps the counts)"
fi

t_done
