#!/usr/bin/env bash
# tests/test_remote.sh — run_experiments.sh --remote against a real OpenSSH server: sshd
# (Debian's openssh-server) with a throwaway host key and a throwaway client key, listening
# only inside a network namespace of this test, joined to this side by a veth pair in
# 198.19.0.0/16 (inside 198.18.0.0/15). The namespace shares this machine's filesystem; the
# suite still goes over ssh (copy, build, runs, perf output). No mocks.
# Checked: a wrong key and a remote without make give one clear line and exit 1; a short
# sweep (receiver remote, then sender remote) has every row ok, link=remote and the remote
# columns filled, the remote's raw files back, no copybench process left in the namespace
# and the remote directory gone; the same after SIGINT mid-sweep; when sshd is killed
# mid-run, that run fails naming the lost connection, the sweep stops with exit 1 and the
# remote processes end by themselves; sshd and the namespace are gone at the end.
# Output protocol: PASS:/FAIL:/SKIP: lines on stdout; exit 0 iff nothing failed. Every wait
# is bounded. SKIP only without root or without sshd.
set -uo pipefail
export CB_NO_APT=1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DRIVER=$ROOT/run_experiments.sh
# shellcheck source=tests/driver_lib.sh
source "$ROOT/tests/driver_lib.sh"
readonly SSHD=/usr/sbin/sshd
FAILS=0
TMP="" NS="" VETH="" SSHD_PID="" DRV_PID="" MADE_RUN_SSHD=0

pass() { printf 'PASS: %s\n' "$1"; }
fail() {
	printf 'FAIL: %s — %s\n' "$1" "$2"
	FAILS=$((FAILS + 1))
}
skip() { printf 'SKIP: %s — %s\n' "$1" "$2"; }

if ((EUID != 0)); then
	skip remote "needs root (a network namespace, a veth pair and sshd)"
	exit 0
fi
if [[ ! -x $SSHD ]] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
	skip remote "OpenSSH not installed (apt-get install openssh-server openssh-client)"
	exit 0
fi
for b in a1_server a1_client a2_server a2_client a3_server a3_client; do
	[[ -x $ROOT/$b ]] || { fail remote "binaries not built (make)"; exit 1; }
done

# stop_sshd: the test's sshd and every session process of it (all in the namespace).
stop_sshd() {
	local pid
	if [[ -n $SSHD_PID ]]; then kill -TERM "$SSHD_PID" 2>/dev/null; fi
	for pid in $(ns_pids_named sshd); do kill -KILL "$pid" 2>/dev/null; done
	if [[ -n $SSHD_PID ]]; then
		wait_until 5 0.05 gone "$SSHD_PID" || kill -KILL "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	fi
	SSHD_PID=""
}

cleanup_test() {
	local pid
	if [[ -n $DRV_PID ]] && kill -0 "$DRV_PID" 2>/dev/null; then
		kill -TERM "$DRV_PID" 2>/dev/null
		wait_until 20 0.1 gone "$DRV_PID" || kill -KILL "$DRV_PID" 2>/dev/null
	fi
	[[ -z $NS ]] || stop_sshd
	if [[ -n $NS ]]; then
		for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		ip netns del "$NS" 2>/dev/null
	fi
	if ((MADE_RUN_SSHD)); then rmdir /run/sshd 2>/dev/null; fi
	if [[ -n $TMP && -n ${CB_TEST_KEEP-} ]]; then rm -rf "$CB_TEST_KEEP"; cp -a "$TMP" "$CB_TEST_KEEP"; fi
	[[ -z $TMP ]] || rm -rf "$TMP"
}
trap cleanup_test EXIT

# ns_pids_named NAME: PIDs in the test's namespace whose command name is NAME.
ns_pids_named() {
	local pid
	for pid in $(ip netns pids "$NS" 2>/dev/null); do
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]] && printf '%s ' "$pid"
	done
}

# copybench_left: the namespace's processes that are not sshd ("" = none), as PID:comm.
copybench_left() {
	local pid c out=""
	for pid in $(ip netns pids "$NS" 2>/dev/null); do
		c=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
		[[ $c == sshd ]] || out+="$pid:$c "
	done
	printf '%s' "$out"
}
no_copybench_left() { [[ -z $(copybench_left) ]]; }

# in_flight DIR MIN_ROWS PID: for wait_until. 0 when the driver writing DIR/results.csv has
# at least MIN_ROWS rows and a remote process of the next run has started (its PID line
# came back) and still runs; 2 when the driver (PID) is gone.
in_flight() {
	local rows started
	kill -0 "$3" 2>/dev/null || return 2
	rows=$(($({ wc -l <"$1/results.csv"; } 2>/dev/null || echo 1) - 1))
	started=$(grep -l '^copybench-remote-pid ' "$1"/results/*/*.cli.err 2>/dev/null | wc -l)
	((rows >= $2 && started > rows)) && [[ $(copybench_left) == *_client* ]]
}

# ---------------------------------------------------------------------------------------
# The remote host: a namespace, a veth pair, sshd on the namespace's address.

TMP=$(mktemp -d)
NET=$(($$ % 250 + 1))
NS="cbrt-$$-$RANDOM"
VETH="cbrt$$"
VETH=${VETH:0:15}
LADDR=198.19.$NET.1 RADDR=198.19.$NET.2
HOST=root@$RADDR

setup_remote() {
	ip netns add "$NS" || return 1
	ip link add "$VETH" type veth peer name eth0 netns "$NS" || return 1
	ip addr add "$LADDR/30" dev "$VETH" && ip link set "$VETH" up || return 1
	ip -n "$NS" addr add "$RADDR/30" dev eth0 && ip -n "$NS" link set eth0 up && ip -n "$NS" link set lo up || return 1
	ssh-keygen -q -t ed25519 -N '' -C cbtest-host -f "$TMP/host_key" &&
		ssh-keygen -q -t ed25519 -N '' -C cbtest -f "$TMP/id" &&
		ssh-keygen -q -t ed25519 -N '' -C cbtest-wrong -f "$TMP/wrong" || return 1
	cp "$TMP/id.pub" "$TMP/authorized_keys"
	printf "%s\n" "$RADDR" "[$RADDR]:2222" | while read -r h; do
		printf '%s %s\n' "$h" "$(cut -d' ' -f1,2 "$TMP/host_key.pub")"
	done >"$TMP/known_hosts"
	cat >"$TMP/sshd_config" <<-EOF
		ListenAddress $RADDR:22
		ListenAddress $RADDR:2222
		HostKey $TMP/host_key
		PidFile none
		AuthorizedKeysFile $TMP/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		PrintMotd no
		MaxSessions 50
		AcceptEnv CBTEST_*
		PermitUserEnvironment no
		Subsystem sftp internal-sftp
	EOF
	# A remote without make: on port 2222 every command runs with PATH = a farm of every
	# command but make (ForceCommand: sshd itself never lets a client set PATH, and root's
	# .bashrc rebuilds it).
	# shellcheck disable=SC2016 # expanded by the remote shell
	printf 'Match LocalPort 2222\n\tForceCommand PATH=%s; export PATH; eval "$SSH_ORIGINAL_COMMAND"\n' \
		"$TMP/nomake" >>"$TMP/sshd_config"
	if [[ ! -d /run/sshd ]]; then mkdir -m 755 /run/sshd && MADE_RUN_SSHD=1; fi
	ip netns exec "$NS" "$SSHD" -D -e -f "$TMP/sshd_config" 2>"$TMP/sshd.log" &
	SSHD_PID=$!
	wait_until 10 0.05 sshd_listening || return 1
}
sshd_listening() {
	kill -0 "$SSHD_PID" 2>/dev/null || return 2
	[[ $(ip netns exec "$NS" ss -Hltn "( sport = :22 or sport = :2222 )" 2>/dev/null | wc -l) == 2 ]]
}

if ! setup_remote; then
	fail remote_setup "could not start sshd in $NS: $(tail -n 3 "$TMP/sshd.log" 2>/dev/null | tr '\n' ' ')"
	exit 1
fi
pass remote_setup

SSH_OK=(--ssh-option "IdentityFile=$TMP/id" --ssh-option IdentitiesOnly=yes
	--ssh-option "UserKnownHostsFile=$TMP/known_hosts" --ssh-option StrictHostKeyChecking=yes)
SHORT=(--impls "a2 a3" --sizes 64K --threads 1 --repeats 1 --duration 0.4 --warmup 0.1 --no-plot --no-build)

# remote_dir_of STDERR: the remote directory a driver announced.
remote_dir_of() { sed -n 's/.*to root@[0-9.]*:\([^ ]*\) and building there.*/\1/p' "$1" | head -n 1; }

# col FILE NAME: column NAME of every data row, one per line.
col() {
	awk -F, -v want="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == want) c = i; next } { print (c ? $c : "NO_COLUMN") }' "$1"
}

# run_driver NAME ARGS...: the driver, bounded to 120 s, stderr to $TMP/NAME.err; rc in RC.
run_driver() {
	local name=$1
	shift
	RC=0
	timeout -k 5 120 "$DRIVER" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
}

# ---- a wrong key: one line naming the fix, exit 1 --------------------------------------
run_driver wrongkey --remote "$HOST" --ssh-option "IdentityFile=$TMP/wrong" --ssh-option IdentitiesOnly=yes \
	--ssh-option "UserKnownHostsFile=$TMP/known_hosts" "${SHORT[@]}" --out "$TMP/wrongkey.csv"
if ((RC == 1)) && grep -q "cannot log in to $HOST" "$TMP/wrongkey.err" && grep -q 'IdentityFile' "$TMP/wrongkey.err" &&
	grep -q 'BatchMode' "$TMP/wrongkey.err"; then
	pass remote_wrong_key
else
	fail remote_wrong_key "exit $RC: $(tail -n 2 "$TMP/wrongkey.err" | tr '\n' ' ')"
fi

# ---- a remote without make (sshd's port 2222): one line, exit 1 -----------------------
path_farm() {
	local dir=$1 d f
	mkdir -p "$dir"
	for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
		[[ -d $d && ! -L $d ]] || continue
		for f in "$d"/*; do
			[[ -x $f && ! -d $f && ${f##*/} != make && ! -e $dir/${f##*/} ]] && ln -s -- "$f" "$dir/"
		done
	done
	return 0
}
path_farm "$TMP/nomake"
run_driver nomake --remote "$HOST" --ssh-port 2222 "${SSH_OK[@]}" "${SHORT[@]}" \
	--out "$TMP/nomake.csv"
if ((RC == 1)) && grep -q "$HOST lacks make" "$TMP/nomake.err" && grep -q 'apt-get install make' "$TMP/nomake.err"; then
	pass remote_missing_make
else
	fail remote_missing_make "exit $RC: $(tail -n 2 "$TMP/nomake.err" | tr '\n' ' ')"
fi

# ---- a short sweep, receiver remote ----------------------------------------------------

# check_sweep NAME CSV ERR ROWS ROLE: rows ok, remote columns filled, raw files back,
# nothing left in the namespace, the remote directory removed.
check_sweep() {
	local name=$1 csv=$2 errf=$3 want=$4 role=$5 side=cli bad="" raw rdir c v f
	[[ $role == receiver ]] || side=srv
	if ((RC != 0)); then
		fail "$name" "exit $RC: $(tail -n 3 "$errf" | tr '\n' ' ')"
		return
	fi
	[[ $(col "$csv" status | grep -c '^ok$') == "$want" ]] || bad+="not $want ok rows: $(col "$csv" reason | tr '\n' ' '); "
	[[ $(col "$csv" link | sort -u) == remote ]] || bad+="link $(col "$csv" link | sort -u | tr '\n' ' '); "
	[[ $(col "$csv" remote_role | sort -u) == "$role" ]] || bad+="remote_role $(col "$csv" remote_role | sort -u); "
	[[ $(col "$csv" remote_host | sort -u) == "$HOST" ]] || bad+="remote_host $(col "$csv" remote_host | sort -u); "
	[[ $(col "$csv" remote_addr | sort -u) == "$RADDR" && $(col "$csv" local_addr | sort -u) == "$LADDR" ]] ||
		bad+="addresses $(col "$csv" local_addr | sort -u) $(col "$csv" remote_addr | sort -u); "
	[[ $(col "$csv" local_if | sort -u) == "$VETH" && $(col "$csv" remote_if | sort -u) == eth0 ]] ||
		bad+="interfaces $(col "$csv" local_if | sort -u) $(col "$csv" remote_if | sort -u); "
	for c in remote_kernel remote_cpu_model remote_driver local_driver remote_mtu local_mtu; do
		v=$(col "$csv" "$c" | sort -u)
		[[ -n $v && $v != NA && $v != NO_COLUMN ]] || bad+="$c '$v'; "
	done
	[[ $(col "$csv" remote_kernel | sort -u) == "$(uname -r)" ]] || bad+="remote_kernel not $(uname -r); "
	[[ $(col "$csv" remote_driver | sort -u) == veth ]] || bad+="remote_driver $(col "$csv" remote_driver | sort -u); "
	[[ $(col "$csv" remote_mtu | sort -u) == 1500 ]] || bad+="remote_mtu $(col "$csv" remote_mtu | sort -u); "
	# a3: completions counted, all copied on one host (veth between namespaces)
	v=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$h["strategy"] == "a3" { print ($h["zc_completions"] > 0 && $h["zc_copied"] == $h["zc_completions"]) ? "ok" : "bad " $h["zc_copied"] "/" $h["zc_completions"] }' "$csv")
	[[ $v == ok ]] || bad+="a3 zc: $v; "
	raw=$(dirname "$csv")/results/$(col "$csv" run_id | head -n 1)
	for f in "$raw"/*."$side".json; do
		[[ -s $f ]] || { bad+="no remote JSON in $raw; "; break; }
		grep -q '"status": *"ok"' "$f" || bad+="$f not ok; "
		grep -q '^copybench-remote-pid [0-9]* [0-9]*$' "${f%.json}.err" || bad+="no remote PID line in ${f%.json}.err; "
		if perf stat -x, -o /dev/null -e task-clock -- true 2>/dev/null; then
			grep -q '"perf_counters": *"window"' "$f" || bad+="$f: perf not over the window; "
			grep -q 'task-clock' "${f%.json}.perf" 2>/dev/null || bad+="no remote perf output ${f%.json}.perf; "
		fi
	done
	[[ -s $raw/remote-build.log && -s $raw/remote-version.txt ]] || bad+="no remote build log / version in $raw; "
	wait_until 5 0.05 no_copybench_left || bad+="left in $NS: $(copybench_left); "
	rdir=$(remote_dir_of "$errf")
	[[ -n $rdir ]] || bad+="no remote directory announced; "
	[[ -z $rdir || ! -e $rdir ]] || bad+="remote directory $rdir still there; "
	ls -d "${TMPDIR:-/tmp}"/cb-ssh.* >/dev/null 2>&1 && [[ $(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'cb-ssh.*' -newer "$TMP/id" | wc -l) != 0 ]] &&
		bad+="ssh control directory left: $(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'cb-ssh.*' -newer "$TMP/id"); "
	if [[ -z $bad ]]; then pass "$name"; else fail "$name" "$bad"; fi
}

run_driver ok --remote "$HOST" "${SSH_OK[@]}" "${SHORT[@]}" --out "$TMP/ok/results.csv"
check_sweep remote_sweep_receiver "$TMP/ok/results.csv" "$TMP/ok.err" 2 receiver

run_driver sender --remote "$HOST" --remote-role sender "${SSH_OK[@]}" "${SHORT[@]}" --impls a3 \
	--out "$TMP/sender/results.csv"
check_sweep remote_sweep_sender "$TMP/sender/results.csv" "$TMP/sender.err" 1 sender

# bg_sweep NAME DURATION: a 4-round sweep in the background (DRV_PID), output in
# $TMP/NAME.{out,err}; status 0 once its first remote client is in flight (60 s at most).
bg_sweep() {
	set -m # job control: a background job of a script would otherwise ignore SIGINT
	"$DRIVER" --remote "$HOST" "${SSH_OK[@]}" "${SHORT[@]}" --repeats 4 --duration "$2" \
		--out "$TMP/$1/results.csv" >"$TMP/$1.out" 2>"$TMP/$1.err" &
	DRV_PID=$!
	set +m
	wait_until 60 0.02 in_flight "$TMP/$1" 1 "$DRV_PID"
}

# ---- SIGINT mid-sweep ------------------------------------------------------------------
if sigint_ignored; then
	skip remote_sigint "SIGINT is ignored in this shell (the tests were started in the background): the driver could not trap it"
elif ! bg_sweep int 1.5; then
	fail remote_sigint "no remote client started within 60 s: $(tail -n 2 "$TMP/int.err" | tr '\n' ' ')"
else
	sleep 0.2
	kill -INT "$DRV_PID"
	RC=0
	wait_until 30 0.1 gone "$DRV_PID" || kill -KILL "$DRV_PID"
	wait "$DRV_PID" || RC=$?
	DRV_PID=""
	bad=""
	((RC == 130)) || bad+="exit $RC (want 130); "
	wait_until 5 0.05 no_copybench_left || bad+="left in $NS: $(copybench_left); "
	rdir=$(remote_dir_of "$TMP/int.err")
	[[ -n $rdir && ! -e $rdir ]] || bad+="remote directory '$rdir' not removed; "
	grep -q 'remote: stopped processes on' "$TMP/int.err" || bad+="no 'stopped processes' line; "
	if [[ -z $bad ]]; then pass remote_sigint; else fail remote_sigint "$bad $(tail -n 3 "$TMP/int.err" | tr '\n' ' ')"; fi
fi

# ---- sshd killed mid-run: that run fails naming the lost connection, exit 1 ------------
if ! bg_sweep lost 2; then
	fail remote_ssh_lost "no remote client started within 60 s: $(tail -n 2 "$TMP/lost.err" | tr '\n' ' ')"
else
	sleep 0.3
	stop_sshd
	RC=0
	wait_until 60 0.1 gone "$DRV_PID" || kill -KILL "$DRV_PID"
	wait "$DRV_PID" || RC=$?
	DRV_PID=""
	bad=""
	((RC == 1)) || bad+="exit $RC (want 1); "
	[[ $(col "$TMP/lost/results.csv" reason | tail -n 1) == "ssh connection to $HOST lost during the run"* ]] ||
		bad+="last row's reason: $(col "$TMP/lost/results.csv" reason | tail -n 1); "
	grep -q "ssh connection to $HOST lost in run [0-9]* of [0-9]* and not re-established: sweep stopped" "$TMP/lost.err" ||
		bad+="no 'sweep stopped' line; "
	# the remote processes end by themselves (the client at its end, or its timeout)
	wait_until 25 0.1 no_copybench_left || bad+="left in $NS after 25 s: $(copybench_left); "
	rdir=$(remote_dir_of "$TMP/lost.err")
	grep -qF "could not remove $HOST:$rdir: remove it by hand" "$TMP/lost.err" || bad+="the remote directory is not named for removal; "
	[[ -z $rdir || $rdir != /tmp/copybench-remote.* ]] || rm -rf "$rdir"
	if [[ -z $bad ]]; then pass remote_ssh_lost; else fail remote_ssh_lost "$bad $(tail -n 3 "$TMP/lost.err" | tr '\n' ' ')"; fi
fi

# ---- the end: sshd and its namespace gone ----------------------------------------------
ns=$NS sshd_pid=$SSHD_PID config=$TMP/sshd_config
cleanup_test
NS="" TMP=""
if ip netns list | grep -q "^$ns\b" || kill -0 "$sshd_pid" 2>/dev/null || pgrep -f "$config" >/dev/null; then
	fail remote_teardown "namespace $ns or sshd still there"
else
	pass remote_teardown
fi
((FAILS == 0))
