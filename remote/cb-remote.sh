#!/bin/sh
# remote/cb-remote.sh — what run_experiments.sh --remote runs on the other host (and, for
# `facts`, on this one): one POSIX sh file, so that both ends answer with the same code.
# Before the suite is copied it is sent on stdin (`ssh HOST sh -s -- probe ...`); after,
# it runs from the copy (DIR/src/remote/cb-remote.sh).
#
#   probe NEED_PERF      key=value lines: os, kernel, cpu_model, missing tools, perf's error
#                        (when NEED_PERF=1), the first allowed CPU, $SSH_CONNECTION
#   prepare [DIR]        create the private directory (mktemp -d when DIR is empty; a given
#                        DIR must be absent, empty or one this script made: .copybench-remote);
#                        prints dir=PATH
#   build DIR            check the copied files against their manifest, make, print the
#                        six binaries' --version (the build log goes to stderr)
#   facts PEER           link facts of the interface that routes to PEER: key=value lines
#   run STATE LIMIT FIFO CMD...   the launcher of every remote process: records its PID and
#                        start time in STATE/pids/, prints "copybench-remote-pid PID START" on
#                        stderr, makes FIFO.ctl/FIFO.ack (unless FIFO is -) for perf --control,
#                        then becomes timeout(1) LIMIT CMD — its own process group, which ends
#                        by itself at LIMIT whatever happens to the ssh connection
#   stop STATE           SIGTERM (SIGKILL after 2 s) the groups recorded in STATE/pids/ that
#                        still run — matched by PID and start time, never by name; prints them
#   remove DIR           rm -rf DIR, only when it carries the marker
set -u

MARKER=.copybench-remote

die() { printf 'cb-remote.sh: %s\n' "$*" >&2; exit 1; }

# start_of PID: the start time of PID (/proc/PID/stat field 22), empty when it is gone.
# Fields 3.. follow the last ')' (the command name may hold blanks).
start_of() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

probe() {
	need_perf=$1 missing="" perr=""
	echo "os=$(uname -s)"
	echo "kernel=$(uname -r)"
	cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
	[ -n "$cpu" ] || cpu=$(sed -n 's/^\(Hardware\|CPU part\|cpu model\)[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
	echo "cpu_model=${cpu:-unknown}"
	for t in gcc make tar timeout sha256sum mkfifo; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	if [ "$need_perf" = 1 ]; then
		if ! command -v perf >/dev/null 2>&1; then
			missing="$missing perf"
		elif ! perr=$(perf stat -x, -o /dev/null -e task-clock -- true 2>&1); then
			perr=$(printf '%s\n' "$perr" | grep -v '^[[:space:]]*$' | head -n 1)
			echo "perf_error=${perr:-perf stat failed}"
		fi
	fi
	echo "missing=${missing# }"
	cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status 2>/dev/null)
	echo "cpu0=$(printf '%s\n' "${cpus:-0}" | sed 's/[-,].*//')"
	echo "ssh_connection=${SSH_CONNECTION:-}"
}

prepare() {
	dir=${1:-}
	if [ -z "$dir" ]; then
		dir=$(mktemp -d "${TMPDIR:-/tmp}/copybench-remote.XXXXXXXX") || die "mktemp -d failed in ${TMPDIR:-/tmp}"
	elif [ -e "$dir" ] && [ ! -e "$dir/$MARKER" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
		die "--remote-dir $dir exists and is not empty (and not a copybench remote directory): choose another"
	fi
	mkdir -p "$dir/src" "$dir/pids" "$dir/runs" || die "cannot create $dir"
	chmod 700 "$dir" || die "cannot chmod $dir"
	: >"$dir/$MARKER"
	echo "dir=$(cd "$dir" && pwd)"
}

build() {
	cd "$1/src" || die "no $1/src"
	sha256sum -c --quiet .copybench-manifest >&2 || die "the copied sources differ from this checkout's (sha256sum -c .copybench-manifest)"
	make >&2 || die "make failed"
	for b in a1_server a1_client a2_server a2_client a3_server a3_client; do
		echo "$b $(./"$b" --version 2>&1)"
	done
}

facts() {
	route=$(ip -o route get "$1" 2>/dev/null | head -n 1)
	ifc=$(printf '%s\n' "$route" | sed -n 's/.* dev \([^ ]*\).*/\1/p')
	echo "src=$(printf '%s\n' "$route" | sed -n 's/.* src \([^ ]*\).*/\1/p')"
	echo "if=$ifc"
	[ -n "$ifc" ] || return 0
	d=/sys/class/net/$ifc
	drv="" fw="" sg="" tso="" gso=""
	if command -v ethtool >/dev/null 2>&1; then
		drv=$(ethtool -i "$ifc" 2>/dev/null | sed -n 's/^driver: *//p')
		fw=$(ethtool -i "$ifc" 2>/dev/null | sed -n 's/^firmware-version: *//p')
		k=$(ethtool -k "$ifc" 2>/dev/null)
		sg=$(printf '%s\n' "$k" | sed -n 's/^scatter-gather: *\([a-z]*\).*/\1/p')
		tso=$(printf '%s\n' "$k" | sed -n 's/^tcp-segmentation-offload: *\([a-z]*\).*/\1/p')
		gso=$(printf '%s\n' "$k" | sed -n 's/^generic-segmentation-offload: *\([a-z]*\).*/\1/p')
	fi
	[ -n "$drv" ] || { [ -e "$d/device/driver" ] && drv=$(basename "$(readlink "$d/device/driver")"); }
	[ -n "$drv" ] || drv=$(ip -d -j link show dev "$ifc" 2>/dev/null | sed -n 's/.*"info_kind":"\([^"]*\)".*/\1/p')
	speed=$(cat "$d/speed" 2>/dev/null) || speed=""
	case $speed in '' | -*) speed="" ;; esac
	echo "driver=$drv"
	echo "firmware=$fw"
	echo "mtu=$(cat "$d/mtu" 2>/dev/null)"
	echo "speed=$speed"
	echo "sg=$sg"
	echo "tso=$tso"
	echo "gso=$gso"
}

run() {
	state=$1 limit=$2 fifo=$3
	shift 3
	if [ "$fifo" != - ]; then
		rm -f "$fifo.ctl" "$fifo.ack"
		mkfifo -m 600 "$fifo.ctl" "$fifo.ack" || die "mkfifo $fifo.ctl $fifo.ack failed"
	fi
	start=$(start_of $$)
	echo "$start" >"$state/pids/$$" || die "cannot record the PID in $state/pids"
	# Printed before the exec: when the ssh channel is already gone, this write ends us
	# (SIGPIPE) before anything starts.
	echo "copybench-remote-pid $$ $start" >&2
	exec timeout -k 2 "$limit" "$@"
}

stop() {
	state=$1 live=""
	for f in "$state"/pids/*; do
		[ -e "$f" ] || continue
		p=${f##*/}
		if [ "$(start_of "$p")" = "$(cat "$f")" ]; then
			kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null
			live="$live $p"
		else
			rm -f "$f"
		fi
	done
	[ -n "$live" ] || return 0
	n=0 left=$live
	while [ $n -lt 20 ]; do
		left=""
		for p in $live; do
			[ "$(start_of "$p")" = "$(cat "$state/pids/$p")" ] && left="$left $p"
		done
		[ -n "$left" ] || break
		sleep 0.1
		n=$((n + 1))
	done
	for p in $left; do
		[ "$(start_of "$p")" = "$(cat "$state/pids/$p")" ] && kill -KILL -- "-$p" 2>/dev/null
	done
	for p in $live; do rm -f "$state/pids/$p"; done
	echo "stopped:$live"
}

remove() {
	[ -e "$1/$MARKER" ] || die "$1 is not a copybench remote directory (no $MARKER): not removed"
	rm -rf "$1"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
probe | prepare | build | facts | run | stop | remove) "$cmd" "$@" ;;
*) die "usage: cb-remote.sh probe|prepare|build|facts|run|stop|remove ARGS" ;;
esac
