#!/usr/bin/env bash
# tests/test_docs.sh — README.md as the front door and docs/ as the manual:
# every relative link (and #anchor) in README.md and docs/*.md resolves; README
# stays short and its quick start holds the test command .ci/run runs, each a
# command that exists; every docs/ page opens with its title and the question it
# answers, and is listed in README's contents; every CSV column the driver
# writes is documented in docs/csv-and-json.md.
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly README="$TOP/README.md" DOCS_DIR="$TOP/docs" CI_RUN="$TOP/.ci/run"
readonly CSV_DOC="$DOCS_DIR/csv-and-json.md"
readonly README_MAX_LINES=300

# prose FILE — FILE's lines outside fenced code blocks (``` or ~~~), as
# "LINENO<TAB>TEXT".
prose() {
	awk '/^[ \t]*(```|~~~)/ { fenced = !fenced; next } !fenced { print NR "\t" $0 }' "$1"
}

# anchors FILE — every anchor FILE's headings make, one a line, as GitHub makes
# them: lower case, everything but letters, digits, spaces, '-' and '_'
# dropped, spaces to '-'; a repeated heading gets -1, -2, ...
anchors() {
	prose "$1" |
		awk -F'\t' 'match($2, /^##*[ \t]+/) { t = substr($2, RLENGTH + 1); sub(/[ \t#]*$/, "", t); print t }' |
		LC_ALL=C.UTF-8 sed -E 's/`//g; s/.*/\L&/; s/[^[:alnum:] _-]//g; s/ /-/g' |
		awk '{ n = seen[$0]++; print (n ? $0 "-" n : $0) }'
}

# has_anchor FILE ANCHOR — whether a heading of FILE makes ANCHOR (each file's
# anchors are computed once).
declare -A ANCHORS=()
has_anchor() {
	[[ -n ${ANCHORS[$1]+set} ]] || ANCHORS[$1]=$(anchors "$1")
	grep -qxF -- "$2" <<<"${ANCHORS[$1]}"
}

# links FILE — "LINENO<TAB>TARGET" for each inline link or image in FILE's
# prose (inline code spans left out).
links() {
	prose "$1" | awk -F'\t' '{
		t = $2
		gsub(/`[^`]*`/, "", t)
		while (match(t, /\]\([^) ]+/)) {
			print $1 "\t" substr(t, RSTART + 2, RLENGTH - 2)
			t = substr(t, RSTART + RLENGTH)
		}
	}'
}

# check_links FILE — every relative link in FILE resolves to a file or
# directory, and every #anchor to a heading of the .md file it names.
check_links() {
	local file=$1 rel=${1#"$TOP"/} dir n target path anchor dest bad=() nlinks=0
	dir=$(dirname "$file")
	while IFS=$'\t' read -r n target; do
		[[ $target =~ ^[a-zA-Z][a-zA-Z0-9+.-]*: ]] && continue   # http:, mailto:, ...
		nlinks=$((nlinks + 1))
		path=${target%%#*} anchor=""
		[[ $target == *'#'* ]] && anchor=${target#*#}
		dest=$file
		[[ -n $path ]] && dest="$dir/$path"
		if [[ ! -e $dest ]]; then
			bad+=("line $n: $target (no such file)")
		elif [[ -n $anchor ]]; then
			if [[ $dest != *.md ]]; then
				bad+=("line $n: $target (an anchor into a file that is not markdown)")
			elif ! has_anchor "$dest" "$anchor"; then
				bad+=("line $n: $target (no heading makes #$anchor)")
			fi
		fi
	done < <(links "$file")
	if ((${#bad[@]})); then
		fail "links in $rel resolve" "$(printf '%s; ' "${bad[@]}")"
	elif ((nlinks == 0)) && [[ $file == "$README" ]]; then
		fail "links in $rel resolve" "no relative links found (README links docs/): is the parser broken?"
	else
		pass "links in $rel resolve ($nlinks relative links)"
	fi
}

# section FILE HEADING — the prose lines of FILE under '## HEADING' up to the
# next '## ' heading.
section() {
	prose "$1" | awk -F'\t' -v h="## $2" '
		$2 == h { on = 1; next }
		on && $2 ~ /^## / { exit }
		on { print $2 }'
}

# code_lines FILE HEADING — the command lines of the fenced blocks under
# '## HEADING' (comments and a leading sudo dropped, blanks squeezed).
code_lines() {
	awk -v h="## $2" '
		$0 == h { on = 1; next }
		on && /^## / { exit }
		on && /^[ \t]*(```|~~~)/ { fenced = !fenced; next }
		on && fenced { print }' "$1" |
		sed -E 's/[[:space:]]+#.*$//; s/^[[:space:]]*(sudo[[:space:]]+)?//; s/[[:space:]]+/ /g; s/ $//' |
		grep -v '^$'
}

check_readme_length() {
	local n
	n=$(wc -l <"$README")
	if ((n <= README_MAX_LINES)); then
		pass "README.md is a front door: $n lines (at most $README_MAX_LINES)"
	else
		fail "README.md is a front door" "$n lines, more than $README_MAX_LINES: move the detail into docs/"
	fi
}

# The test command CI runs: the first uncommented line of .ci/run that runs
# `make test` (with whatever options), as it is written there.
ci_test_command() {
	grep -E '^[[:space:]]*make([[:space:]]+[^#[:space:]]+)*[[:space:]]+test([[:space:]]|$)' "$CI_RUN" |
		head -n 1 | sed -E 's/[[:space:]]+#.*$//; s/^[[:space:]]+//; s/[[:space:]]+/ /g; s/ $//'
}

check_quick_start() {
	local ci cmd first found=0 bad=() args=()
	ci=$(ci_test_command)
	if [[ -z $ci ]]; then
		fail "README's quick start runs CI's test command" "no 'make ... test' line in .ci/run"
		return
	fi
	mapfile -t cmds < <(code_lines "$README" "Quick start")
	if ((${#cmds[@]} == 0)); then
		fail "README's quick start runs CI's test command" "no commands under '## Quick start'"
		return
	fi
	for cmd in "${cmds[@]}"; do
		[[ $cmd == "$ci" ]] && found=1
		first=${cmd%% *}
		case $first in
			make)
				# each target named must exist: make -n fails on an unknown target
				read -ra args <<<"${cmd#make}"
				make -n -C "$TOP" "${args[@]}" >/dev/null 2>&1 ||
					bad+=("'$cmd': make has no such target") ;;
			./*)
				[[ -x $TOP/${first#./} ]] || bad+=("'$cmd': $first is not an executable file") ;;
			*)
				command -v "$first" >/dev/null || bad+=("'$cmd': no command $first") ;;
		esac
	done
	if ((found)); then
		pass "README's quick start runs CI's test command ('$ci', from .ci/run)"
	else
		fail "README's quick start runs CI's test command" \
			".ci/run runs '$ci'; the quick start has: $(printf "'%s' " "${cmds[@]}")"
	fi
	if ((${#bad[@]})); then
		fail "README's quick start commands exist" "$(printf '%s; ' "${bad[@]}")"
	else
		pass "README's quick start commands exist (${#cmds[@]}: $(printf '%s; ' "${cmds[@]}"))"
	fi
}

# check_doc_opening FILE — line 1 a '# ' title, line 2 blank, then a paragraph
# of prose that asks the page's question.
check_doc_opening() {
	local file=$1 rel=${1#"$TOP"/} title blank para
	local not_prose='^[[:space:]]*([-#|!`~>*]|[0-9]+\.)'   # heading, table, image, code, quote, list
	title=$(sed -n 1p "$file") blank=$(sed -n 2p "$file")
	para=$(awk 'NR >= 3 { if ($0 ~ /^[[:space:]]*$/) exit; print }' "$file")
	if [[ ! $title =~ ^#\ [^[:space:]] ]]; then
		fail "$rel opens with a title" "line 1 is '$title', not '# Title'"
	elif [[ -n ${blank//[[:space:]]/} ]]; then
		fail "$rel opens with a title" "line 2 is not blank"
	elif [[ -z $para || $para =~ $not_prose ]]; then
		fail "$rel opens with a first paragraph" "line 3 does not start a paragraph of prose"
	elif [[ $para != *'?'* ]]; then
		fail "$rel opens with the question it answers" "its first paragraph asks no question"
	else
		pass "$rel opens with a title and the question it answers"
	fi
}

check_contents() {
	local f rel missing=() listed
	listed=$(section "$README" "The manual (docs/)" | links /dev/stdin | cut -f2 | sed 's/#.*//')
	for f in "$DOCS_DIR"/*.md; do
		rel=${f#"$TOP"/}
		grep -qxF -- "$rel" <<<"$listed" || missing+=("$rel")
	done
	if ((${#missing[@]})); then
		fail "every docs/ page is in README's contents" "not listed under '## The manual (docs/)': ${missing[*]}"
	else
		pass "every docs/ page is in README's contents ($(wc -w <<<"$listed") listed)"
	fi
}

# check_csv_columns — every column build_columns (the driver's one list) makes
# is named in docs/csv-and-json.md; the perf columns may be documented by
# their pattern (srv_<event>, srv_<event>_running_pct) with the event named.
check_csv_columns() {
	local c e missing=()
	build_columns
	for c in "${CSV_COLS[@]}"; do
		grep -qw -- "$c" "$CSV_DOC" && continue
		if [[ $c =~ ^(srv|cli)_(.+)_running_pct$ ]]; then
			e=${BASH_REMATCH[2]}
			grep -qF -- "${BASH_REMATCH[1]}_<event>_running_pct" "$CSV_DOC" && grep -qw -- "$e" "$CSV_DOC" && continue
		elif [[ $c =~ ^(srv|cli)_(.+)$ ]]; then
			e=${BASH_REMATCH[2]}
			grep -qF -- "${BASH_REMATCH[1]}_<event>" "$CSV_DOC" && grep -qw -- "$e" "$CSV_DOC" && continue
		fi
		missing+=("$c")
	done
	if ((${#missing[@]})); then
		fail "every CSV column is documented" "not in docs/csv-and-json.md: ${missing[*]}"
	else
		pass "every CSV column is documented (${#CSV_COLS[@]} columns)"
	fi
}

main() {
	local f
	check_readme_length
	check_quick_start
	check_links "$README"
	for f in "$DOCS_DIR"/*.md; do
		check_doc_opening "$f"
		check_links "$f"
	done
	check_contents
	check_csv_columns
	t_done
}

main "$@"
