#!/usr/bin/env bash
# tests/test_pagecache.sh — the receiver that does not copy (--rx discard:
# recvmsg(MSG_TRUNC)) behind every strategy and engine, and a3's sends from
# the page cache (--engine sendfile, --engine splice: a ring of messages
# written once into a memfd, sequence numbers modulo the ring), each over
# loopback with real pairs; then the physics, by the profile's categories on
# a short real sweep (needs root and perf).
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# keys — the figures a failure shows
keys() {
	grep -o '"\(rx\|engine\|status\|reason\|bytes_total\|bytes_sent\|rx_[a-z_]*\|verify_errors\|zc_pool_depth\)": \("[^"]*"\|[0-9]*\)' \
		"$T_TMP/srv.json" "$T_TMP/cli.json" 2>/dev/null | sed 's/.*json://' | tr '\n' ' '
}

# pair_run NAME STRATEGY THREADS CLIENT-ARGS... — one pair over loopback
pair_run() {
	local name=$1 s=$2 t=$3 port
	shift 3
	port=$(free_port)
	if ! start_server "${s}_server" "$port" -n "$t"; then
		fail "$name" "server did not start: $(tail -n 1 "$T_TMP/srv.err")"
		return 1
	fi
	if ! "$BIN_DIR/${s}_client" -p "$port" -t "$t" -d "${T_DURATION:-0.3}" --json "$@" >"$T_TMP/cli.json" 2>"$T_TMP/cli.err"; then
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

# check NAME EXPR — pass when EXPR holds over the last pair's JSON
check() {
	if jq_py "$2"; then pass "$1"; else fail "$1" "$(keys)"; fi
}

# ---- --rx discard ------------------------------------------------------------
for s in a1 a2 a3; do
	for size in 64 64K 1M; do
		for t in 1 4; do
			name="$s --rx discard $size x$t: every byte sent is received, none copied"
			pair_run "$name" "$s" "$t" -s "$size" --rx discard &&
				check "$name" 'c["rx"] == "discard" and c["status"] == "ok" and s["bytes_sent"] == c["bytes_total"] > 0 and c["rx_discarded_bytes"] == c["bytes_total"] and c["rx_copied_bytes"] == 0 == c["rx_mapped_bytes"]'
		done
	done
	name="$s --rx discard --mode rr: round trips timed, nothing copied"
	pair_run "$name" "$s" 1 -s 4K --rx discard --mode rr &&
		check "$name" 'c["status"] == "ok" and c["transactions"] > 0 and c["rx_copied_bytes"] == 0 and c["rx_discarded_bytes"] == c["bytes_total"] == s["bytes_sent"]'
done
if "$BIN_DIR/a2_client" --rx discard --verify -p 1 >/dev/null 2>"$T_TMP/use.err"; then
	fail "--rx discard --verify is a usage error" "it ran"
elif (($? != 2)) || ! grep -q 'discard' "$T_TMP/use.err"; then
	fail "--rx discard --verify is a usage error" "$(cat "$T_TMP/use.err")"
else
	pass "--rx discard --verify is a usage error (exit 2): there are no bytes to check"
fi

# ---- a3 --engine sendfile / splice ------------------------------------------------
# ring = pc_ring_len: max(--buffers, ceil(4 MiB / size), 2), at most 65536
ring_of() { python3 -c "import sys; s, b = int(sys.argv[1]), int(sys.argv[2]); print(min(65536, max(b, -(-4194304 // s), 2)))" "$1" "$2"; }
for e in sendfile splice; do
	for size in 64 1000 65536 1048576; do
		for t in 1 4; do
			ring=$(ring_of "$size" 1)
			name="a3 --engine $e $size x$t --verify: every byte right, sequences modulo the ring of $ring"
			pair_run "$name" a3 "$t" -s "$size" --engine "$e" --verify &&
				check "$name" 'c["status"] == s["status"] == "ok" and c["verify_errors"] == 0 and s["bytes_sent"] == c["bytes_total"] > 0 and c["engine"] == s["engine"] == "'"$e"'" and s["zc_pool_depth"] == '"$ring"' and s["zc_sends"] == 0 and ('"$size"' < 65536 or c["messages_total"] > 2 * '"$ring"')'
		done
	done
	name="a3 --engine $e --buffers 300 -s 64K: the ring is at least --buffers long, checked modulo it"
	pair_run "$name" a3 1 -s 64K --engine "$e" --buffers 300 --verify &&
		check "$name" 'c["verify_errors"] == 0 and s["zc_pool_depth"] == 300 and c["messages_total"] > 300'
	name="a3 --engine $e --mode rr --verify: request numbers go on, stamps wrap"
	pair_run "$name" a3 1 -s 1M --engine "$e" --mode rr --verify &&
		check "$name" 'c["status"] == s["status"] == "ok" and c["verify_errors"] == 0 and c["transactions"] > 4'
	name="a3 --engine $e --rx zerocopy --verify: the in-place reader wraps with the ring"
	pair_run "$name" a3 1 -s 64K --engine "$e" --rx zerocopy --verify &&
		check "$name" 'c["status"] == "ok" and c["verify_errors"] == 0 and c["messages_total"] > 128 and c["rx_mapped_bytes"] + c["rx_copied_bytes"] == c["bytes_total"] == s["bytes_sent"]'
	name="a3 --engine $e --rx discard: nothing copied at either end's user side"
	pair_run "$name" a3 1 -s 64K --engine "$e" --rx discard &&
		check "$name" 'c["status"] == "ok" and c["rx_copied_bytes"] == 0 and c["rx_discarded_bytes"] == c["bytes_total"] == s["bytes_sent"]'
	for s in a1 a2; do
		if "$BIN_DIR/${s}_client" --engine "$e" -p 1 >/dev/null 2>"$T_TMP/use.err" || (($? != 2)); then
			fail "$s --engine $e is a usage error" "$(cat "$T_TMP/use.err")"
		else
			pass "$s --engine $e is a usage error (exit 2): the page-cache engines are a3's"
		fi
	done
done
# ---- the driver's axes ---------------------------------------------------------------
if ! "$TOP/run_experiments.sh" --dry-run --quick --engines syscall,sendfile,splice --rx copy,discard \
	--out "$T_TMP/none.csv" >"$T_TMP/plan" 2>&1; then
	fail "driver: --engines sendfile,splice and --rx discard are accepted" "$(tail -n 2 "$T_TMP/plan")"
elif ! grep -q '^axes: engines syscall sendfile splice; rx copy discard;' "$T_TMP/plan" ||
	! grep -q '^skipped: a2 with engine splice: the page-cache engines are a3' "$T_TMP/plan" ||
	! grep -q '^copybench plan: first pass 40 runs' "$T_TMP/plan"; then
	fail "driver: --engines sendfile,splice and --rx discard are accepted" "$(grep -E '^(axes|skipped|copybench plan)' "$T_TMP/plan" | tr '\n' ' ')"
else
	pass "driver: --engines sendfile,splice and --rx discard are accepted; a1/a2 x page cache skipped (40 runs)"
fi
if "$TOP/run_experiments.sh" --dry-run --engines sendfil >/dev/null 2>"$T_TMP/bad.err" || (($? != 2)); then
	fail "driver: an unknown engine is a usage error" "$(cat "$T_TMP/bad.err")"
else
	pass "driver: an unknown engine is a usage error (exit 2)"
fi

# ---- the physics, by the profile's categories ------------------------------------------
# One short real sweep, every run profiled: a2 and a3 (MSG_ZEROCOPY) as the references, a3
# over sendfile and splice, each behind --rx copy and --rx discard, 3 rounds. The profile
# tells our processes by name (aN_server, aN_client, ksoftirqd, kworker): where other
# copybench runs go on at the same time (a shared machine), their copies land in these
# categories too — only ever adding. So a copy that must be gone is judged by its smallest
# value over the rounds, and one that must be there by its median.
physics() {
	local csv="$T_TMP/prof/prof.csv"
	if [[ $BIN_DIR != "$TOP" ]]; then   # make sanitize: the driver runs the normal build
		skip "page-cache physics" "the sanitizer build ($BIN_DIR) runs the pairs only"
		return
	fi
	local why
	if why=$(profile_unavailable); then
		skip "page-cache physics" "$why"
		return
	fi
	if ! CB_NO_APT=1 "$TOP/run_experiments.sh" --profile --impls a2,a3 --engines syscall,sendfile,splice \
		--rx copy,discard --sizes 64K --threads 1 --repeats 3 --duration 1 --pin split --no-plot \
		--no-build --out "$csv" >"$T_TMP/drv.out" 2>"$T_TMP/drv.err"; then
		fail "profiled page-cache sweep" "$(tail -n 2 "$T_TMP/drv.err")"
		return
	fi
	# pcheck NAME EXPR — EXPR in Python over lo[path][category] and med[path][category]
	# (ns per byte: the smallest and the median over the rounds), path "strategy/engine/rx"
	pcheck() {
		local out
		if out=$(python3 - "$csv" "$2" <<'PY'
import csv, statistics, sys
from collections import defaultdict
runs, ok = defaultdict(list), defaultdict(list)
for r in csv.DictReader(open(sys.argv[1])):
    k = f'{r["strategy"]}/{r["engine"]}/{r["rx"]}'
    runs[k].append({c[5:]: float(v) for c, v in r.items() if c.startswith("prof_") and v not in ("", "NA")})
    ok[k].append(r["status"] == "ok")
cats = {c for rs in runs.values() for d in rs for c in d}
lo = {k: {c: min(d.get(c, 0) for d in rs) for c in cats} for k, rs in runs.items()}
med = {k: {c: statistics.median(d.get(c, 0) for d in rs) for c in cats} for k, rs in runs.items()}
good = eval(sys.argv[2], {"lo": lo, "med": med, "runs": runs, "ok": ok})
show = ("send_copy", "deferred_copy", "recv_copy", "zc_overhead", "foreign")
print(" ".join(f"{k}:" + ",".join(f"{c[:4]}={lo[k][c]:.3f}/{med[k][c]:.3f}" for c in show) for k in sorted(runs)))
sys.exit(0 if good else 1)
PY
		); then pass "$1"; else fail "$1" "(min/median) $out"; fi
	}
	pcheck "page-cache sweep: 8 paths x 3 rounds, every run ok and profiled" \
		'len(runs) == 8 and all(len(rs) == 3 and all(o) and all(d.get("samples", 0) > 100 for d in rs) for o, rs in zip(ok.values(), runs.values()))'
	for e in sendfile splice; do
		pcheck "a3 $e: no send copy (< 10% of a2's) and no deferred copy at local delivery (< 10% of a3 MSG_ZEROCOPY's, which is > 0)" \
			'lo["a3/'"$e"'/copy"]["send_copy"] < 0.1 * med["a2/syscall/copy"]["send_copy"] and med["a3/syscall/copy"]["deferred_copy"] > 0 and lo["a3/'"$e"'/copy"]["deferred_copy"] < 0.1 * med["a3/syscall/copy"]["deferred_copy"]'
	done
	pcheck "--rx discard: no receive copy (< 10% of --rx copy's, which is > 0), every strategy and engine" \
		'all(med[k]["recv_copy"] > 0 and lo[k[:-4] + "discard"]["recv_copy"] < 0.1 * med[k]["recv_copy"] for k in runs if k.endswith("/copy"))'
	# the report's "Every zero-copy path" shows the new paths and says which copy they removed
	local py report="$T_TMP/prof/plots/report.md"
	if ! py=$(find_plot_python); then
		skip "report: the page-cache paths" "no Python with matplotlib ($(type -aP python3 | tr '\n' ' '))"
	elif ! "$py" "$TOP/plot_results.py" "$csv" --out "$T_TMP/prof/plots" >"$T_TMP/plot.out" 2>&1; then
		fail "report: the page-cache paths" "$(tail -n 2 "$T_TMP/plot.out")"
	elif ! sed -n '/^## Every zero-copy path/,/^## [A-Z]/p' "$report" >"$T_TMP/paths.md" ||
		! grep -q '^| a3/sendfile+rx-discard | 64 KiB |' "$T_TMP/paths.md" ||
		! grep -q '^| a3/splice | 64 KiB | 3 | [0-9]' "$T_TMP/paths.md" ||
		! grep -q '^| a2/rx-discard | 64 KiB | 3 | [0-9]' "$T_TMP/paths.md" ||
		! grep -Eq '^(A copy is gone \(at most 10% of the largest at that size\): .*no (send|deferred|receive) copy \([0-9.]+ against up to [0-9.]+ ns/B\)|No page-cache engine or discarding receiver removed a copy here)' "$T_TMP/paths.md"; then
		fail "report: the page-cache paths" "$(tr '\n' ' ' <"$T_TMP/paths.md" | head -c 1500)"
	else
		pass "report: every page-cache and discard path in its table with its profiled copies, and a sentence on which copy each removed"
	fi
}
physics

if "$BIN_DIR/a3_client" --help | tr '\n' ' ' | grep -q 'sequence numbers repeat modulo N'; then
	pass "a3_client --help says sequence numbers repeat modulo the ring"
else
	fail "a3_client --help says sequence numbers repeat modulo the ring" "not in --help"
fi

t_done
