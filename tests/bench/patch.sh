#!/usr/bin/env bash
# Benchmark: set the interpreter and RPATH of the 20 largest dynamic
# executables in /usr/bin with `portable patch` and with patchelf (Debian
# package patchelf), side by side in one run, and print the time ratio and
# the total output size ratio (lower is better for portable).
#
# Both tools get the same inputs: a copy of the system loader under a path
# of more than 120 bytes, and a long RPATH. portable writes atomically
# (temp file, fsync, rename); patchelf rewrites the file in place without
# fsync, so patchelf is also timed followed by `sync FILE` (an fsync of the
# output) for the same durability. Each tool patches fresh copies; the best
# of ROUNDS rounds counts.
#
# Usage: tests/bench/patch.sh [ROUNDS]   (default 3)
set -euo pipefail
rounds=${1:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v patchelf >/dev/null || { echo "patchelf not found: apt-get install patchelf" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$root" && go build -o "$work/portable" ./tools/cmd/portable)
portable=$work/portable

# The 20 largest ELF executables of /usr/bin that have a PT_INTERP.
mapfile -t files < <(
	n=0
	while read -r _ f && [ $n -lt 20 ]; do
		info=$("$portable" inspect --json "$f" 2>/dev/null) || continue
		if grep -q '"interpreter":"/' <<<"$info"; then echo "$f"; n=$((n + 1)); fi
	done < <(find /usr/bin -maxdepth 1 -type f -printf '%s %p\n' | sort -rn)
)
[ "${#files[@]}" -eq 20 ] || { echo "found only ${#files[@]} dynamic executables" >&2; exit 1; }

loaderdir=$work/$(printf 'loader-dir-%.0s' 1 2 3 4 5 6 7 8 9 10 11)
mkdir -p "$loaderdir"
cp /lib64/ld-linux-x86-64.so.2 "$loaderdir/"
interp=$loaderdir/ld-linux-x86-64.so.2
rpath=$work/$(printf 'rpath-dir-%.0s' 1 2 3 4 5 6 7 8 9 10):/usr/lib/x86_64-linux-gnu

now() { date +%s%N; }

best_portable=0 best_patchelf=0 best_synced=0
for r in $(seq "$rounds"); do
	rm -rf "$work/in" "$work/p" "$work/e"
	rm -rf "$work/s"
	mkdir -p "$work/in" "$work/p" "$work/e" "$work/s"
	for f in "${files[@]}"; do
		cp "$f" "$work/in/"
		cp "$f" "$work/e/"
		cp "$f" "$work/s/"
	done
	sync
	t0=$(now)
	for f in "${files[@]}"; do
		b=$(basename "$f")
		"$portable" patch --set-interpreter "$interp" --set-rpath "$rpath" -o "$work/p/$b" "$work/in/$b"
	done
	t1=$(now)
	for f in "${files[@]}"; do
		patchelf --set-interpreter "$interp" --set-rpath "$rpath" --force-rpath "$work/e/$(basename "$f")"
	done
	t2=$(now)
	for f in "${files[@]}"; do
		patchelf --set-interpreter "$interp" --set-rpath "$rpath" --force-rpath "$work/s/$(basename "$f")"
		sync "$work/s/$(basename "$f")"
	done
	t3=$(now)
	tp=$((t1 - t0)) te=$((t2 - t1)) ts=$((t3 - t2))
	if [ "$best_synced" -eq 0 ] || [ "$ts" -lt "$best_synced" ]; then best_synced=$ts; fi
	if [ "$best_portable" -eq 0 ] || [ "$tp" -lt "$best_portable" ]; then best_portable=$tp; fi
	if [ "$best_patchelf" -eq 0 ] || [ "$te" -lt "$best_patchelf" ]; then best_patchelf=$te; fi
done

size_in=0 size_p=0 size_e=0
for f in "${files[@]}"; do
	b=$(basename "$f")
	size_in=$((size_in + $(stat -c %s "$f")))
	size_p=$((size_p + $(stat -c %s "$work/p/$b")))
	size_e=$((size_e + $(stat -c %s "$work/e/$b")))
	# Both must read back the same interpreter and RPATH.
	for out in "$work/p/$b" "$work/e/$b"; do
		grep -qF "interpreter: $interp]" <<<"$(readelf -lW "$out")" || { echo "$out: wrong interpreter" >&2; exit 1; }
		grep -qF "Library rpath: [$rpath]" <<<"$(readelf -dW "$out")" || { echo "$out: wrong RPATH" >&2; exit 1; }
	done
	printf '%-40s in %10d  portable %+9d  patchelf %+9d bytes\n' "$b" "$(stat -c %s "$f")" \
		$(($(stat -c %s "$work/p/$b") - $(stat -c %s "$f"))) $(($(stat -c %s "$work/e/$b") - $(stat -c %s "$f")))
done

echo
echo "files: ${#files[@]} ($((size_in / 1048576)) MiB), best of $rounds rounds"
awk -v p="$best_portable" -v e="$best_patchelf" -v s="$best_synced" 'BEGIN { printf "time: portable %.3fs, patchelf %.3fs, patchelf+fsync %.3fs; ratio portable/patchelf = %.3f, portable/(patchelf+fsync) = %.3f\n", p/1e9, e/1e9, s/1e9, p/e, p/s }'
awk -v p="$size_p" -v e="$size_e" -v i="$size_in" 'BEGIN { printf "output size: portable %d, patchelf %d bytes, ratio = %.4f (growth: portable %d, patchelf %d bytes)\n", p, e, p/e, p-i, e-i }'
