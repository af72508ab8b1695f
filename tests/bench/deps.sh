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
#
# The file list is every ELF file in /usr/bin with a PT_INTERP, each file
# once (symlinks resolved), so both tools see the same, dynamically linked
# set. Goal (reported, never enforced): batch >= 5x faster than ldd.
set -euo pipefail

runs=${1:-5}
repo=$(cd "$(dirname "$0")/../.." && pwd)
for tool in go ldd readlink sort awk od; do
	command -v $tool >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
portable=$work/portable
(cd "$repo" && go build -o "$portable" ./tools/cmd/portable)

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

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A t
for ((i = 0; i < runs; i++)); do
	for c in ldd_each ours_batch ours_each; do
		s=$(now)
		$c
		t[$c]+="$(( ($(now) - s) / 1000 ))"$'\n'
	done
done

ldd_us=$(printf '%s' "${t[ldd_each]}" | median)
batch_us=$(printf '%s' "${t[ours_batch]}" | median)
each_us=$(printf '%s' "${t[ours_each]}" | median)
awk -v n="$n" -v runs="$runs" -v l="$ldd_us" -v b="$batch_us" -v e="$each_us" 'BEGIN {
	printf "%d dynamic executables in /usr/bin, %d runs, median wall time\n", n, runs
	printf "  %-36s %10.1f ms\n", "ldd on each file", l / 1000
	printf "  %-36s %10.1f ms\n", "portable deps, all files at once", b / 1000
	printf "  %-36s %10.1f ms\n", "portable deps, one process per file", e / 1000
	printf "batch:    portable deps is %.1fx faster than ldd (goal >= 5x)\n", l / b
	printf "per-file: portable deps is %.1fx faster than ldd\n", l / e
}'
