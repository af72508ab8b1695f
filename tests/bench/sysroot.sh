#!/usr/bin/env bash
# Benchmark: build sysroot v2 with `portable sysroot build` (which also
# verifies sha256s, merges /usr, fixes symlinks, reads the glibc version and
# writes the manifest) against the plain peer: `dpkg-deb -x` of the same
# .debs plus `tar --sort=name` of the result. Both are measured in the same
# run, on the same cached files, alternating, and compared as ratios of
# medians (times on a shared machine are noise; their ratio is not):
#
#   cold: portable's cache holds only the .debs, so it decompresses every
#         data.tar (xz, in Go) like the peer does. Goal: at most 1.0x the
#         peer's time.
#   warm: portable's cache also holds each package's decompressed data.tar,
#         which a build keeps beside the .debs. Goal: at most 0.5x.
#
# Both use private caches under a temp dir (hard links to the shared .debs),
# so the shared cache is only read. Besides the human text, each metric is
# one line for a runner to collect:
#   RESULT<TAB>metric<TAB>ours<TAB>peer<TAB>ratio<TAB>goal
# where ratio = ours/peer and goal is the ratio to stay at or under; the
# script never fails on time.
#
# Usage: tests/bench/sysroot.sh [RUNS]   (default 5)
# The mirror comes from apt's configuration; the .deb cache is
# ${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}/debs. BENCH_SIZES=0
# skips the table of sysroot sizes.
set -euo pipefail
runs=${1:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in dpkg-deb tar go; do
  command -v "$tool" >/dev/null || { echo "missing $tool (install the Debian package that ships it)" >&2; exit 1; }
done
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
[ -n "$mirror" ] || { echo "no URIs: line in /etc/apt/sources.list.d/debian.sources" >&2; exit 1; }
export PORTABLE_DEBIAN_MIRROR=$mirror
cache=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}/debs
mkdir -p "$cache"

(cd "$root" && go build -o "$work/portable" ./tools/cmd/portable)
portable=$work/portable
lock=$root/sysroots/v2.lock.json

# Make sure the shared cache has the .debs (this fetches only what is
# missing), and check that the lock builds at all. After this the shared
# cache is only read.
"$portable" sysroot build --lock "$lock" --label v2 --cache "$cache" -o "$work/warm.tar" >/dev/null 2>&1

# The run-time packages of the lock, as cached files.
debs=$(awk '
  /"sha256":/ { gsub(/[",]/, "", $2); sum = $2 }
  /"dev": true/ { dev = 1 }
  /^    }/ { if (sum != "" && !dev) print sum; sum = ""; dev = 0 }
' "$lock")
# The index entries carry sha256s too; keep only cached files that are
# .debs.
files=()
for s in $debs; do
  f=$cache/sha256/$s
  if [ -f "$f" ] && dpkg-deb -f "$f" Package >/dev/null 2>&1; then files+=("$f"); fi
done
echo "v2: ${#files[@]} run-time packages from the warm cache"
[ "${#files[@]}" -gt 0 ] || { echo "no cached .debs for $lock in $cache" >&2; exit 1; }

# A private cache holding only the .debs (hard links, or copies across
# file systems).
debs_only() {
  mkdir -p "$1/sha256"
  for f in "${files[@]}"; do ln "$f" "$1/sha256/" 2>/dev/null || cp "$f" "$1/sha256/"; done
}
# The warm private cache: the .debs plus the data.tars one build leaves.
warm=$work/warm-cache
debs_only "$warm"
"$portable" sysroot build --lock "$lock" --label v2 --cache "$warm" -o "$work/warm-check.tar" >/dev/null 2>&1
rm -f "$work/warm-check.tar"

now() { date +%s.%N; }
# time_build CACHE OUT: seconds of one portable build into OUT.
time_build() {
  local t0
  t0=$(now)
  "$portable" sysroot build --lock "$lock" --label v2 --cache "$1" -o "$2" >/dev/null 2>&1
  echo "$(now) - $t0" | bc
}
ours=() peer=() cold=()
for i in $(seq "$runs"); do
  cc=$work/cold-cache-$i
  debs_only "$cc"
  cold+=("$(time_build "$cc" "$work/cold-$i.tar")")
  rm -rf "$cc" "$work/cold-$i.tar"

  ours+=("$(time_build "$warm" "$work/ours-$i.tar")")
  rm -f "$work/ours-$i.tar"

  t1=$(now)
  mkdir "$work/peer-$i"
  for f in "${files[@]}"; do dpkg-deb -x "$f" "$work/peer-$i"; done
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work/peer-$i.tar" -C "$work/peer-$i" .
  peer+=("$(echo "$(now) - $t1" | bc)")
  rm -rf "$work/peer-$i" "$work/peer-$i.tar"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mo=$(median "${ours[@]}") mp=$(median "${peer[@]}") mc=$(median "${cold[@]}")
rc=$(echo "$mc / $mp" | bc -l) rw=$(echo "$mo / $mp" | bc -l)
printf 'portable sysroot build -o v2.tar, only the .debs cached (cold):  median %.3f s over %d runs\n' "$mc" "$runs"
printf 'portable sysroot build -o v2.tar, debs + data.tars cached (warm): median %.3f s\n' "$mo"
printf 'dpkg-deb -x + tar --sort=name of the same .debs (peer):           median %.3f s\n' "$mp"
printf 'time portable/peer: cold %.2fx (goal <= 1.0), warm %.2fx (goal <= 0.5); below the goal is good\n' "$rc" "$rw"
printf 'RESULT\tsysroot build v2, cold (.debs cached) vs dpkg-deb -x + tar\t%.3fs\t%.3fs\t%.3f\t<= 1.0\n' "$mc" "$mp" "$rc"
printf 'RESULT\tsysroot build v2, warm (data.tars cached) vs dpkg-deb -x + tar\t%.3fs\t%.3fs\t%.3f\t<= 0.5\n' "$mo" "$mp" "$rw"

[ -n "${BENCH_SIZES:-1}" ] && [ "${BENCH_SIZES:-1}" != 0 ] || exit 0
echo "sizes:"
for v in v1 v2 v3 v4; do
  [ -f "$root/sysroots/$v.lock.json" ] || continue
  for flavour in runtime dev; do
    extra=(); [ "$flavour" = dev ] && extra=(--dev)
    out=$work/size-$v-$flavour
    "$portable" sysroot build --lock "$root/sysroots/$v.lock.json" --label "$v" "${extra[@]}" --cache "$cache" -o "$out" >/dev/null 2>&1
    "$portable" sysroot build --lock "$root/sysroots/$v.lock.json" --label "$v" "${extra[@]}" --cache "$cache" -o "$out.tar.zst" >/dev/null 2>&1
    printf '  %s %-7s dir %6s  .tar.zst %6s\n' "$v" "$flavour" "$(du -sh "$out" | cut -f1)" "$(du -sh "$out.tar.zst" | cut -f1)"
    rm -rf "$out" "$out.tar.zst"
  done
done
