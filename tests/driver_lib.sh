# shellcheck shell=bash
# tests/driver_lib.sh — source this at the top level of a test script to use the driver as
# a library (its main runs only when executed): the one bounded wait (wait_until), its
# process predicates (gone, listening) and find_plot_python are the driver's own. The
# driver sets -e and exports LC_ALL=C; the sourcing shell's options and locale are put back.

t_opts=$(set +o) t_lc=$(declare -p LC_ALL 2>/dev/null || true)
# shellcheck source=run_experiments.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/run_experiments.sh"
eval "$t_opts"
unset LC_ALL
eval "$t_lc"
unset t_opts t_lc

# sigint_ignored: 0 when this shell started with SIGINT ignored (SigIgn bit 2), as every
# command started in the background by a non-interactive shell is (`make test &`): the
# driver then cannot trap SIGINT either (bash cannot trap a signal ignored on entry), so
# a SIGINT test would measure how the tests were started, not the driver.
sigint_ignored() {
	local mask
	mask=$(awk '/^SigIgn:/ { print $2 }' "/proc/$$/status" 2>/dev/null) || return 1
	[[ -n $mask ]] && ((16#$mask & 2))
}
