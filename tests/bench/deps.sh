#!/usr/bin/env bash
# Library closure of every dynamic executable in /usr/bin: `portable deps`
# (no execution, emulated ld.so search) against running ldd on each file
# (the loader actually loads every library), measured side by side in one
# run, alternating the two so background load hits both alike.
#
#   tests/bench/deps.sh [RUNS]          (default 5 runs per case; median)
#
# Cases:
#   batch      one `portable deps FILE...` over all files vs ldd on each
#   per-file   one `portable deps FILE` process per file vs ldd on each
#              (what a caller looping over files pays)
# Peers: ldd (a shell script around the loader) and the loader's own
# `ld.so --list` on each file, which skips the shell.
#
# The file list is every ELF file in /usr/bin with a PT_INTERP, each file
# once (symlinks resolved), so both tools see the same, dynamically linked
# set. Goals (reported, never enforced): batch >= 2x faster than running
# the loader's own `ld.so --list` on each file, >= 5x faster than ldd.
set -euo pipefail

runs=${1:-5}
repo=$(cd "$(dirname "$0")/../.." && pwd)
for tool in go ldd readlink sort awk od; do
	command -v $tool >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
portable=$work/portable
if [ -n "${PORTABLE_BIN:-}" ]; then portable=$PORTABLE_BIN; else (cd "$repo" && go build -o "$portable" ./tools/cmd/portable); fi

# Dynamic executables: ELF magic and a PT_INTERP, per `portable inspect`.
mapfile -t candidates < <(for f in /usr/bin/*; do
	r=$(readlink -f "$f") || continue
	[ -f "$r" ] && [ "$(head -c 4 "$r" | od -An -c | tr -d ' ')" = '177ELF' ] && echo "$r"
done | sort -u)
files=()
while IFS= read -r line; do
	files+=("$line")
done < <("$portable" inspect --json "${candidates[@]}" 2>/dev/null |
	sed -n 's/.*"path": *"\([^"]*\)".*"interpreter": *"\/[^"]*".*/\1/p')
n=${#files[@]}
[ "$n" -gt 0 ] || { echo "$0: no dynamic executables found in /usr/bin" >&2; exit 1; }

now() { date +%s%N; }
ours_batch() { "$portable" deps --hwcaps auto "${files[@]}" >/dev/null 2>&1 || true; }
ours_each() { for f in "${files[@]}"; do "$portable" deps "$f" >/dev/null 2>&1 || true; done; }
ldd_each() { for f in "${files[@]}"; do ldd "$f" >/dev/null 2>&1 || true; done; }
loader=$(readlink -f /lib64/ld-linux-x86-64.so.2 2>/dev/null || readlink -f /lib/ld-linux-aarch64.so.1)
ldso_each() { for f in "${files[@]}"; do "$loader" --list "$f" >/dev/null 2>&1 || true; done; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A t
for ((i = 0; i < runs; i++)); do
	for c in ldd_each ldso_each ours_batch ours_each; do
		s=$(now)
		$c
		t[$c]+="$(( ($(now) - s) / 1000 ))"$'\n'
	done
done

ldd_us=$(printf '%s' "${t[ldd_each]}" | median)
ldso_us=$(printf '%s' "${t[ldso_each]}" | median)
batch_us=$(printf '%s' "${t[ours_batch]}" | median)
each_us=$(printf '%s' "${t[ours_each]}" | median)
awk -v n="$n" -v runs="$runs" -v l="$ldd_us" -v s="$ldso_us" -v b="$batch_us" -v e="$each_us" 'BEGIN {
	printf "%d dynamic executables in /usr/bin, %d runs, median wall time\n", n, runs
	printf "  %-36s %10.1f ms\n", "ldd on each file", l / 1000
	printf "  %-36s %10.1f ms\n", "ld.so --list on each file", s / 1000
	printf "  %-36s %10.1f ms\n", "portable deps, all files at once", b / 1000
	printf "  %-36s %10.1f ms\n", "portable deps, one process per file", e / 1000
	printf "batch:    portable deps is %.1fx faster than ld.so --list (goal >= 2x), %.1fx faster than ldd\n", s / b, l / b
	printf "per-file: portable deps takes %.2fx the time of ld.so --list (a Go process start costs more than the loader'"'"'s)\n", e / s
	printf "RESULT\tdeps over /usr/bin (%d programs) vs ld.so --list each\t%.3fs\t%.3fs\t%.3f\t<= 0.5\n", n, b/1e6, s/1e6, b/s
	printf "RESULT\tdeps over /usr/bin, one process per file, vs ld.so --list\t%.3fs\t%.3fs\t%.3f\t-\n", e/1e6, s/1e6, e/s
	printf "RESULT\tdeps over /usr/bin vs ldd each\t%.3fs\t%.3fs\t%.3f\t<= 0.2\n", b/1e6, l/1e6, b/l
}'
