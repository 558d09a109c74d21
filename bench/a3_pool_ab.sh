#!/usr/bin/env bash
# bench/a3_pool_ab.sh — a3 against a2 in two builds of copybench, side by side: for each
# message size and round, the four runs (old a3, old a2, new a3, new a2) go back to back
# over loopback, and each build's a3/a2 ratio is taken within the round, so the two
# builds are compared on ratios that share the machine's state. Made to measure what
# issue 12's pool change (FIFO ring -> right-sized LIFO) did; it compares any two builds.
# Prints one line per run, then the table: median [min-max] of the per-round ratios.
set -euo pipefail

readonly PROG=a3_pool_ab.sh
AB_OLD="" AB_NEW="" AB_SIZES="64,4K,64K" AB_ROUNDS=5 AB_DURATION=2

ab_usage() {
	cat <<'TXT'
Usage: bench/a3_pool_ab.sh --old DIR --new DIR [options]

a3 vs a2, throughput and host CPU per byte, in two builds (DIR: a checkout with the six
binaries built), alternating within each round over loopback.

  --old DIR        the first build (e.g. a git worktree of an older commit, built)
  --new DIR        the second build
  --sizes LIST     message sizes                  (default: 64,4K,64K)
  --rounds N       rounds, 1-50                   (default: 5)
  --duration S     measured seconds per run, 1-60 (default: 2; plus 0.5 s warm-up)
  -h, --help       this text

Needs python3. No root: loopback only.
Exit: 0 ok, 1 a run failed, 2 usage error.
TXT
}

ab_die_usage() { printf '%s: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }

ab_parse() {
	while (($#)); do
		case $1 in
			-h | --help) ab_usage; exit 0 ;;
			--old | --new | --sizes | --rounds | --duration)
				(($# >= 2)) || ab_die_usage "option $1 needs a value"
				case $1 in
					--old) AB_OLD=$2 ;;
					--new) AB_NEW=$2 ;;
					--sizes) AB_SIZES=$2 ;;
					--rounds) AB_ROUNDS=$2 ;;
					--duration) AB_DURATION=$2 ;;
				esac
				shift 2 ;;
			*) ab_die_usage "unknown option '$1'" ;;
		esac
	done
	[[ -n $AB_OLD && -n $AB_NEW ]] || ab_die_usage "--old DIR and --new DIR are both needed"
	local d
	for d in "$AB_OLD" "$AB_NEW"; do
		[[ -x $d/a3_server && -x $d/a2_client ]] || ab_die_usage "no built binaries in '$d' (run make there)"
	done
	if ! [[ $AB_ROUNDS =~ ^[0-9]+$ ]] || ((AB_ROUNDS < 1 || AB_ROUNDS > 50)); then
		ab_die_usage "bad --rounds '$AB_ROUNDS' (1-50)"
	fi
	if ! [[ $AB_DURATION =~ ^[0-9]+$ ]] || ((AB_DURATION < 1 || AB_DURATION > 60)); then
		ab_die_usage "bad --duration '$AB_DURATION' (1-60)"
	fi
	[[ $AB_SIZES =~ ^[0-9]+[KkMm]?(,[0-9]+[KkMm]?)*$ ]] || ab_die_usage "bad --sizes '$AB_SIZES'"
}

# ab_run DIR STRATEGY SIZE OUT: one loopback pair; OUT gets "gbps host_cpu_ns_per_byte"
ab_run() {
	local d=$1 s=$2 z=$3 out=$4 port tmp
	tmp=$(mktemp -d)
	port=$((36000 + RANDOM % 2000))
	timeout $((AB_DURATION + 30)) "$d/${s}_server" -p "$port" -n 1 --json >"$tmp/s.json" 2>"$tmp/s.err" &
	local spid=$!
	for _ in $(seq 1 100); do grep -q 'listening on' "$tmp/s.err" && break; sleep 0.05; done
	if ! timeout $((AB_DURATION + 20)) "$d/${s}_client" -p "$port" -s "$z" -d "$AB_DURATION" --warmup 0.5 --json \
		>"$tmp/c.json" 2>"$tmp/c.err"; then
		printf '%s: %s %s %s failed: %s\n' "$PROG" "$d" "$s" "$z" "$(tail -n 1 "$tmp/c.err")" >&2
		kill "$spid" 2>/dev/null || true
		rm -rf "$tmp"
		return 1
	fi
	wait "$spid" || true
	python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
h = sum(c[k] for k in ("host_cpu_user_s", "host_cpu_sys_s", "host_cpu_irq_s", "host_cpu_softirq_s"))
print(round(c["gbps"], 4), round(h * 1e9 / max(1, c["bytes"]), 4))' "$tmp/c.json" >"$out"
	rm -rf "$tmp"
}

main() {
	ab_parse "$@"
	local round z b d g3 c3 g2 c2 rc=0
	AB_LINES=$(mktemp)
	trap 'rm -f "$AB_LINES" "$AB_LINES.r"' EXIT
	local lines=$AB_LINES
	for ((round = 1; round <= AB_ROUNDS; round++)); do
		for z in ${AB_SIZES//,/ }; do
			for b in old new; do
				d=$AB_OLD
				[[ $b == new ]] && d=$AB_NEW
				ab_run "$d" a3 "$z" "$lines.r" || { rc=1; continue; }
				read -r g3 c3 <"$lines.r"
				ab_run "$d" a2 "$z" "$lines.r" || { rc=1; continue; }
				read -r g2 c2 <"$lines.r"
				echo "$round $z $b a3 $g3 $c3 a2 $g2 $c2" | tee -a "$lines"
			done
		done
	done
	python3 - "$lines" <<'PY'
import statistics as st, sys
from collections import defaultdict
d = defaultdict(list)
for line in open(sys.argv[1]):
    rnd, z, b, _, g3, c3, _, g2, c2 = line.split()
    d[(z, b)].append((float(g3) / float(g2), float(c3) / float(c2)))
def cell(v):
    return f"{st.median(v):.2f} [{min(v):.2f}-{max(v):.2f}]" if v else "NA"
print("| size | a3/a2 throughput, old | new | a3/a2 host CPU per byte, old | new |")
print("|---|---|---|---|---|")
for z in dict.fromkeys(k[0] for k in d):
    o, n = d[(z, "old")], d[(z, "new")]
    print(f"| {z} | {cell([x[0] for x in o])} | {cell([x[0] for x in n])} | "
          f"{cell([x[1] for x in o])} | {cell([x[1] for x in n])} |")
PY
	return "$rc"
}

main "$@"
