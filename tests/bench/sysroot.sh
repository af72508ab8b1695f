#!/usr/bin/env bash
# Benchmark: build sysroot v2 from a warm cache with `portable sysroot build`
# (which also verifies sha256s, merges /usr, fixes symlinks, reads the glibc
# version and writes the manifest) against the plain peer: `dpkg-deb -x` of
# the same .debs plus `tar --sort=name` of the result. Both measured in the
# same run, on the same cached files; prints the ratios and each sysroot's
# size. portable's warm cache also holds each package's decompressed
# data.tar, so a second line times it with only the .debs cached, which
# makes it decompress xz (in Go) like the peer does.
#
# Usage: tests/bench/sysroot.sh [RUNS]   (default 5)
# The mirror comes from apt's configuration; the .deb cache is
# ${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}/debs.
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

# Warm the cache (the .debs and the decompressed data.tars portable keeps
# beside them), and check that the lock builds at all.
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

now() { date +%s.%N; }
ours=() peer=() cold=()
for i in $(seq "$runs"); do
  # portable with only the .debs cached: it decompresses every data.tar.
  debsonly=$work/debsonly-$i
  mkdir -p "$debsonly/sha256"
  for f in "${files[@]}"; do ln "$f" "$debsonly/sha256/" 2>/dev/null || cp "$f" "$debsonly/sha256/"; done
  tc=$(now)
  "$portable" sysroot build --lock "$lock" --label v2 --cache "$debsonly" -o "$work/cold-$i.tar" >/dev/null 2>&1
  cold+=("$(echo "$(now) - $tc" | bc)")
  rm -rf "$debsonly" "$work/cold-$i.tar"

  t0=$(now)
  "$portable" sysroot build --lock "$lock" --label v2 --cache "$cache" -o "$work/ours-$i.tar" >/dev/null 2>&1
  t1=$(now)
  mkdir "$work/peer-$i"
  for f in "${files[@]}"; do dpkg-deb -x "$f" "$work/peer-$i"; done
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work/peer-$i.tar" -C "$work/peer-$i" .
  t2=$(now)
  ours+=("$(echo "$t1 - $t0" | bc)") peer+=("$(echo "$t2 - $t1" | bc)")
  rm -rf "$work/peer-$i" "$work/ours-$i.tar" "$work/peer-$i.tar"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mo=$(median "${ours[@]}") mp=$(median "${peer[@]}") mc=$(median "${cold[@]}")
printf 'portable sysroot build -o v2.tar, warm cache (debs + data.tars): median %.3f s over %d runs\n' "$mo" "$runs"
printf 'portable sysroot build -o v2.tar, only the .debs cached (xz):    median %.3f s\n' "$mc"
printf 'dpkg-deb -x + tar --sort=name of the same .debs:                 median %.3f s\n' "$mp"
printf 'ratio peer/portable (warm): %.2fx, peer/portable (debs only): %.2fx (above 1: portable is faster)\n' "$(echo "$mp / $mo" | bc -l)" "$(echo "$mp / $mc" | bc -l)"

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
