#!/usr/bin/env bash
# Single-file executables: `curl.run --version` against the same bundle
# unpacked (bin/curl --version), first run (fresh cache: unpack, then run)
# and warm run (cache filled), rounds interleaved, medians; and the size of
# curl.run against an AppImage-style squashfs of the same bundle directory
# (mksquashfs -comp zstd, its default level and level 19 with 1 MiB
# blocks), where mksquashfs (Debian package squashfs-tools) is installed.
#
#   tests/bench/single_file.sh [ROUNDS]   (default 20)
#
# Goals: warm run <= 1.1x the unpacked bundle; size <= 1.0x the squashfs.
# Prints "RESULT<TAB>metric<TAB>ours<TAB>peer<TAB>ratio<TAB>goal" lines for
# tests/bench/run.
set -euo pipefail
rounds=${1:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
portable=${PORTABLE_BIN:-}
if [ -z "$portable" ]; then
	(cd "$root" && go build -o "$work/portable" ./tools/cmd/portable)
	portable=$work/portable
fi
"$portable" bundle -o "$work/curl.run" /usr/bin/curl 2>/dev/null
"$portable" bundle -o "$work/dir" /usr/bin/curl 2>/dev/null

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$work/first" ; : >"$work/warm" ; : >"$work/direct"
for ((i = 0; i < rounds; i++)); do
	rm -rf "$work/cache"
	t0=$(now)
	XDG_CACHE_HOME=$work/cache "$work/curl.run" --version >/dev/null
	t1=$(now)
	XDG_CACHE_HOME=$work/cache "$work/curl.run" --version >/dev/null
	t2=$(now)
	"$work/dir/bin/curl" --version >/dev/null
	t3=$(now)
	echo $((t1 - t0)) >>"$work/first"
	echo $((t2 - t1)) >>"$work/warm"
	echo $((t3 - t2)) >>"$work/direct"
done
f=$(median <"$work/first") w=$(median <"$work/warm") d=$(median <"$work/direct")
awk -v f="$f" -v w="$w" -v d="$d" -v n="$rounds" 'BEGIN {
	printf "curl --version, median of %d: first run %.1f ms, warm %.1f ms, unpacked bundle %.1f ms\n", n, f/1e6, w/1e6, d/1e6
	printf "RESULT\tcurl.run --version, warm vs the unpacked bundle\t%.1fms\t%.1fms\t%.3f\t<= 1.1\n", w/1e6, d/1e6, w/d
	printf "RESULT\tcurl.run --version, first run vs the unpacked bundle\t%.1fms\t%.1fms\t%.3f\t-\n", f/1e6, d/1e6, f/d
}'
size=$(stat -c %s "$work/curl.run")
if command -v mksquashfs >/dev/null; then
	mksquashfs "$work/dir" "$work/a.sqfs" -comp zstd -noappend -quiet -all-root >/dev/null
	mksquashfs "$work/dir" "$work/b.sqfs" -comp zstd -Xcompression-level 19 -b 1M -noappend -quiet -all-root >/dev/null
	a=$(stat -c %s "$work/a.sqfs") b=$(stat -c %s "$work/b.sqfs")
	awk -v s="$size" -v a="$a" -v b="$b" 'BEGIN {
		printf "size: curl.run %d, squashfs zstd %d, squashfs zstd -19 -b 1M %d bytes\n", s, a, b
		printf "RESULT\tcurl.run size vs squashfs (zstd, default level)\t%d\t%d\t%.3f\t<= 1.0\n", s, a, s/a
		printf "RESULT\tcurl.run size vs squashfs (zstd -19, 1 MiB blocks)\t%d\t%d\t%.3f\t<= 1.0\n", s, b, s/b
	}'
else
	echo "mksquashfs not found (apt-get install squashfs-tools): size comparison skipped" >&2
	printf 'RESULT\tcurl.run size vs squashfs\t%d\t-\t-\t(mksquashfs missing)\n' "$size"
fi
