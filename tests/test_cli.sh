#!/usr/bin/env bash
# tests/test_cli.sh — the command line of the six binaries: every option
# --help names is accepted, every option a binary accepts is in its --help,
# and an option meant for another program is refused as such (exit 2).
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly BINS=(a1_server a1_client a2_server a2_client a3_server a3_client)

# help_opts BIN — the long options BIN's --help lists, one per line.
help_opts() {
	"$BIN_DIR/$1" --help | grep -Eo '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' | grep -Eo -- '--[a-z-]+' | sort -u
}

# probe BIN OPT — how BIN takes OPT, without starting anything: OPT is
# followed by two stray words; a flag leaves the first, a valued option
# takes the first as its value (or calls it bad) and leaves the second, and
# a parsed command line stops at a stray word with a usage error.
# Prints accepted|refused|unknown|other(...).
probe() {
	local err rc
	err=$("$BIN_DIR/$1" "$2" stray1 stray2 2>&1 >/dev/null </dev/null)
	rc=$?
	case $err in
		*"does not apply"*) echo refused ;;
		*"unknown option"*) echo unknown ;;
		*"bad "*"'stray1'"* | *"unexpected argument 'stray"[12]"'"*) echo accepted ;;
		*) if ((rc == 0)); then echo accepted; else echo "other($rc): $err"; fi ;;
	esac
}

declare -A IN_HELP=()
all_opts=()
for b in "${BINS[@]}"; do
	while read -r o; do
		IN_HELP[$b$o]=1
		all_opts+=("$o")
	done < <(help_opts "$b")
done
# the option table itself, so an option in no --help at all is caught too
while read -r o; do all_opts+=("--$o"); done < <(sed -n 's/^\t{ [^,]*, "\([a-z-]*\)",.*/\1/p' "$TOP/lib/cli.c")
mapfile -t all_opts < <(printf '%s\n' "${all_opts[@]}" | sort -u)

if ((${#all_opts[@]} < 15)); then
	fail "option_inventory" "found only ${#all_opts[@]} options: ${all_opts[*]}"
else
	pass "option_inventory (${#all_opts[@]} options)"
fi

for b in "${BINS[@]}"; do
	bad=()
	for o in "${all_opts[@]}"; do
		how=$(probe "$b" "$o")
		if [[ -n ${IN_HELP[$b$o]:-} ]]; then
			[[ $how == accepted ]] || bad+=("$o in --help but $how")
		else
			[[ $how == refused ]] || bad+=("$o not in --help but $how")
		fi
	done
	if ((${#bad[@]})); then
		fail "help_matches_options $b" "${bad[*]}"
	else
		pass "help_matches_options $b"
	fi
done

# short letters named in --help are accepted too
for b in "${BINS[@]}"; do
	bad=()
	while read -r s; do
		how=$(probe "$b" "$s")
		[[ $how == accepted ]] || bad+=("$s $how")
	done < <("$BIN_DIR/$b" --help | grep -Eo '^ +-[a-zA-Z],' | grep -Eo -- '-[a-zA-Z]')
	if ((${#bad[@]})); then fail "short_options $b" "${bad[*]}"; else pass "short_options $b"; fi
done

# defaults in --help are the values the program runs with: the client's
# JSON on a refused connection reports the defaults it used
port=$(free_port)
"$BIN_DIR/a1_client" -p "$port" --json >"$T_TMP/def.json" 2>/dev/null
size=$(json_get "$T_TMP/def.json" msg_size) threads=$(json_get "$T_TMP/def.json" threads)
help_size=$("$BIN_DIR/a1_client" --help | sed -n 's/.*--size.*(default \([^)]*\)).*/\1/p')
if [[ $help_size == 64K && $size == 65536 && $threads == 1 ]]; then
	pass "defaults_in_help_are_applied"
else
	fail "defaults_in_help_are_applied" "help says size $help_size, run used msg_size=$size threads=$threads"
fi

# an option of the other role names the option and the program, exit 2
err=$("$BIN_DIR/a2_server" --size 1K 2>&1)
rc=$?
if ((rc == 2)) && [[ $err == *"option '--size' does not apply to a2_server"* ]]; then
	pass "other_role_option_refused"
else
	fail "other_role_option_refused" "rc=$rc: $err"
fi

exit "$T_FAILED"
