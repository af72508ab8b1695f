#!/usr/bin/env bash
# Benchmark: which compiler the hermetic cc toolchain bundles. gcc 16 (what
# it runs: sysroots/gcc16.lock.json) against clang 19 and lld
# (tests/bench/clang19.lock.json, resolved in Debian sid like gcc's), each
# bundled by the helper from its pinned packages and run side by side in one
# run, on the same sources against sysroot v1's dev tree. Not a test:
# nothing fails on time.
#
#   - compile time at -O2 (-c, each file in turn, rounds interleaved):
#     C: the launcher, the single-file runtime and the audit module (with
#     their freestanding flags) and tests/cc's C programs; C++: tests/cc's
#     cxx20.cc and a file that includes all of libstdc++'s headers (v1's
#     libstdc++ 12, the headers every C++ compile of a v1 target parses);
#   - bundle size, and the size of the pinned .deb files.
#
#   tests/bench/compilers.sh [ROUNDS]
set -euo pipefail
rounds=${1:-3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
CACHE=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}
export PATH=/usr/local/go/bin:$PATH
portable=${PORTABLE_BIN:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$portable" ]; then
  (cd "$top" && go build -o "$work/portable" ./tools/cmd/portable)
  portable=$work/portable
fi
debs=$CACHE/debs
mkdir -p "$debs"

# The compilers and v1's dev tree, made fresh for this run (a few seconds
# each from the cached .debs).
"$portable" compiler bundle --lock "$top/sysroots/gcc16.lock.json" --cache "$debs" -o "$work/gcc" >/dev/null
"$portable" sysroot build --lock "$here/clang19.lock.json" --label clang19 --cache "$debs" -o "$work/clangroot" >/dev/null
"$portable" bundle --sysroot "$work/clangroot" -o "$work/clang" \
  "$work/clangroot/usr/lib/llvm-19/bin/clang-19" "$work/clangroot/usr/lib/llvm-19/bin/lld" \
  --add "$work/clangroot/usr/lib/llvm-19/lib/clang=lib/clang" >/dev/null 2>&1
"$portable" sysroot build --lock "$top/sysroots/v1.lock.json" --label v1 --dev --cache "$debs" -o "$work/v1" >/dev/null
gcc=$work/gcc/bin/gcc
clang=$work/clang/bin/clang-19
"$gcc" --version | head -1
"$clang" --version | head -1

v1=$work/v1
t=x86_64-linux-gnu
sys=(-nostdinc -isystem "$v1/usr/include/$t" -isystem "$v1/usr/include")
cxx=(-nostdinc++ -isystem "$v1/usr/include/c++/12" -isystem "$v1/usr/include/$t/c++/12" -isystem "$v1/usr/include/c++/12/backward")
gcc_sys=(-B"$work/gcc/bin/" -isystem "$work/gcc/lib/gcc/$t/16/include")
clang_sys=(-isystem "$("$clang" -print-resource-dir)/include")
printf '#include <bits/stdc++.h>\nint main() { std::vector<int> v{3, 1, 2}; std::ranges::sort(v); return v[0]; }\n' >"$work/stdcxx.cc"

# One compile per line: NAME LANG FLAGS... -- FILE
cat >"$work/jobs" <<JOBS
launcher c -ffreestanding -fno-stack-protector -fno-builtin -Os -fno-pie -std=gnu11 -- $top/launcher/launcher.c
run c -ffreestanding -fno-stack-protector -fno-builtin -Os -fno-pie -std=gnu11 -- $top/launcher/run.c
audit c -ffreestanding -fno-stack-protector -fno-builtin -O2 -fPIC -std=gnu11 -- $top/launcher/audit.c
strtol c -O2 -- $top/tests/cc/strtol.c
glibc_test c -O2 -- $top/tests/cc/glibc_test.c
cxx20 c++ -O2 -std=c++20 -- $top/tests/cc/cxx20.cc
stdcxx c++ -O2 -std=c++20 -- $work/stdcxx.cc
JOBS

now() { date +%s%N; }
# compile COMPILER NAME LANG FLAGS... -- FILE: prints the nanoseconds it took.
compile() {
  local which=$1 name=$2 lang=$3 flags=() file
  shift 3
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  file=$2
  local cc=$gcc extra=("${gcc_sys[@]}")
  if [ "$which" = clang ]; then cc=$clang extra=("${clang_sys[@]}" -fuse-ld=lld); fi
  local inc=("${sys[@]}")
  [ "$lang" = c++ ] && inc=("${cxx[@]}" "${sys[@]}")
  [ "$which" = clang ] && [ "$lang" = c++ ] && cc=$clang
  local t0 t1
  t0=$(now)
  "$cc" -x "$lang" "${extra[@]}" "${inc[@]}" "${flags[@]}" -c "$file" -o "$work/$which.$name.o" 2>"$work/$which.$name.err" ||
    { echo "$which failed on $name:" >&2; cat "$work/$which.$name.err" >&2; exit 1; }
  t1=$(now)
  echo $((t1 - t0))
}

declare -A total
for kind in c c++; do total[gcc.$kind]=0 total[clang.$kind]=0; done
for r in $(seq 1 "$rounds"); do
  while read -r name lang rest; do
    # shellcheck disable=SC2086 # the job line's flags
    for which in gcc clang; do
      ns=$(compile "$which" "$name" "$lang" $rest)
      total[$which.$lang]=$((total[$which.$lang] + ns))
    done
  done <"$work/jobs"
  echo "round $r: C gcc $((total[gcc.c] / 1000000)) ms, clang $((total[clang.c] / 1000000)) ms; C++ gcc $((total[gcc.c++] / 1000000)) ms, clang $((total[clang.c++] / 1000000)) ms (running totals)"
done
for lang in c c++; do
  g=${total[gcc.$lang]} c=${total[clang.$lang]}
  label=C; [ "$lang" = c++ ] && label=C++
  printf 'RESULT\tcompile at -O2 against v1, %s sources: gcc 16 vs clang 19\t%.2fs\t%.2fs\t%.2f\t-\n' "$label" \
    "$(echo "$g / $rounds / 1000000000" | bc -l)" "$(echo "$c / $rounds / 1000000000" | bc -l)" "$(echo "$g / $c" | bc -l)"
done
mib() { du -sm "$1" | cut -f1; }
debmib() { python3 -c 'import json, sys; print(round(sum(p["size"] for p in json.load(open(sys.argv[1]))["packages"]) / 2**20, 1))' "$1"; }
printf 'RESULT\tbundle size: gcc 16 + binutils vs clang 19 + lld\t%s MiB\t%s MiB\t%.2f\t-\n' \
  "$(mib "$work/gcc")" "$(mib "$work/clang")" "$(echo "$(mib "$work/gcc") / $(mib "$work/clang")" | bc -l)"
printf 'RESULT\tpinned .deb files: gcc 16 vs clang 19\t%s MiB\t%s MiB\t%.2f\t-\n' \
  "$(debmib "$top/sysroots/gcc16.lock.json")" "$(debmib "$here/clang19.lock.json")" \
  "$(echo "$(debmib "$top/sysroots/gcc16.lock.json") / $(debmib "$here/clang19.lock.json")" | bc -l)"
