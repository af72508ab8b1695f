#!/usr/bin/env bash
# Bundle creation: time and size of `portable bundle` against a plain
# ldd-and-copy shell baseline (written below), measured side by side in one
# run, alternating the two so background load hits both alike.
#
#   tests/bench/bundle.sh [RUNS]        (default 7 runs per case; median)
#
# Cases: git; python3 alone; python3 with its standard library
# (--add /usr/lib/python3.11, whose lib-dynload plugins the baseline also
# runs ldd on, as exodus does for added ELF files); each written as a
# directory and as a .tar.gz (the baseline then runs tar czf); and ours as
# .tar.zst against the baseline's .tar.gz, the smaller archive this
# machine's tar can make without an extra tool.
#
# Goals (reported, never enforced): >= 10x the baseline's speed, size no
# larger. Sizes are bytes on disk with hard links counted once (du -sb), or
# the archive's size.
set -euo pipefail

runs=${1:-7}
repo=$(cd "$(dirname "$0")/../.." && pwd)
for tool in go ldd tar gzip du; do
	command -v $tool >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done
for f in /usr/bin/git /usr/bin/python3 /usr/lib/python3.11/os.py; do
	[ -e $f ] || { echo "$0: $f not found (install git, python3)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
portable=$work/portable
(cd "$repo" && go build -o "$portable" ./tools/cmd/portable)

# baseline OUT PROG [DIR...]: copy PROG and what ldd lists for it into
# OUT/bin and OUT/lib, copy each DIR under OUT/lib, and copy what ldd lists
# for every shared object in those directories.
baseline() {
	local out=$1 prog=$2
	shift 2
	mkdir -p "$out/bin" "$out/lib"
	cp -L "$prog" "$out/bin/"
	local objs=("$prog") d
	for d in "$@"; do
		cp -a "$d" "$out/lib/"
		while IFS= read -r f; do objs+=("$f"); done < <(find "$d" -name '*.so*' -type f)
	done
	ldd "${objs[@]}" 2>/dev/null | awk '/^\t/ && $2 == "=>" && $3 ~ /^\// {print $3} /^\t\// {print $1}' | sort -u |
		while IFS= read -r lib; do cp -L "$lib" "$out/lib/"; done
}

now() { date +%s%N; }

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

size_of() { if [ -d "$1" ]; then du -sb "$1" | cut -f1; else stat -c %s "$1"; fi; }

printf '%-16s %-6s %10s %10s %8s %12s %12s %8s\n' case format "ours ms" "base ms" speedup "ours bytes" "base bytes" size
for case in git python3 python3+stdlib; do
	case $case in
	git) prog=/usr/bin/git adds=() dirs=() ;;
	python3) prog=/usr/bin/python3 adds=() dirs=() ;;
	python3+stdlib) prog=/usr/bin/python3 adds=(--add /usr/lib/python3.11) dirs=(/usr/lib/python3.11) ;;
	esac
	for format in dir tar.gz tar.zst; do
		: >"$work/t.ours"
		: >"$work/t.base"
		for ((i = 0; i < runs; i++)); do
			rm -rf "$work/o" "$work/o.tar.gz" "$work/o.tar.zst" "$work/b" "$work/b.tar.gz"
			out=$work/o
			[ $format = dir ] || out=$work/o.$format
			t0=$(now)
			"$portable" bundle -o "$out" "${adds[@]}" "$prog" 2>/dev/null
			t1=$(now)
			baseline "$work/b" "$prog" "${dirs[@]}"
			[ $format = dir ] || (cd "$work" && tar czf b.tar.gz b)
			t2=$(now)
			echo $(((t1 - t0) / 1000)) >>"$work/t.ours"
			echo $(((t2 - t1) / 1000)) >>"$work/t.base"
		done
		ours=$(median <"$work/t.ours")
		base=$(median <"$work/t.base")
		bsize=$(size_of "$work/b")
		[ $format = dir ] || bsize=$(size_of "$work/b.tar.gz")
		osize=$(size_of "$out")
		awk -v c="$case" -v f="$format" -v o="$ours" -v b="$base" -v os="$osize" -v bs="$bsize" 'BEGIN {
			printf "%-16s %-6s %10.1f %10.1f %7.2fx %12d %12d %7.3fx\n", c, f, o/1000, b/1000, b/o, os, bs, os/bs }'
	done
done
echo "speedup = baseline time / ours (goal >= 10x); size = ours / baseline (goal <= 1)"
