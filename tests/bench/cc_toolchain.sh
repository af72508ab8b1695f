#!/usr/bin/env bash
# Benchmark: building for glibc 2.36 with rules_portable's cc toolchain
# against the same build with the default (host) toolchain, side by side in
# one run. Not a test: nothing fails on time.
#
#   - clean: `bazel clean`, then `bazel build //app:portable` of
#     examples/hello bundled against v1, once compiled against v1's dev
#     sysroot (the default) and once compiled by the host toolchain
#     (compile_against_sysroot = False). Both rebuild the helper, rules_go's
#     standard library and the run-time sysroot; the first also builds v1's
#     dev sysroot and the compile and link for its platform. Goal: <= 1.2x.
#   - incremental: after a one-line change to hello.c, `bazel build
#     //app:hello` with --platforms=...glibc_2_36 against without: what the
#     toolchain adds to one compile and link (its sandbox holds the sysroot's
#     headers).
#
#   tests/bench/cc_toolchain.sh [ROUNDS]
set -euo pipefail
rounds=${1:-3}
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/workspace.sh" bench_cc hello
cat >app/BUILD.bazel <<'BUILD'
load("@rules_cc//cc:cc_binary.bzl", "cc_binary")
load("@rules_portable//rules:defs.bzl", "portable_binary")

cc_binary(
    name = "hello",
    srcs = ["hello.c"],
)

portable_binary(
    name = "portable_v1",
    binary = ":hello",
    sysroot = "@rules_portable//sysroots:v1",
)

portable_binary(
    name = "portable_host",
    binary = ":hello",
    compile_against_sysroot = False,
    sysroot = "@rules_portable//sysroots:v1",
)
BUILD
# hello.c uses C23's strtol: for the host toolchain (glibc 2.43) it needs
# GLIBC_2.38, which v1 lacks; the benchmark wants a program both can bundle.
sed -i 's|strtol(argv\[1\], NULL, 10)|atol(argv[1])|' app/hello.c
# No disk cache: a clean build must build.
bazel() { "$top/tools/bazel" "$1" --disk_cache= "${@:2}" >/dev/null 2>&1; }
v1=--platforms=@rules_portable//platforms:linux_x86_64_glibc_2_36
now() { date +%s.%N; }
# Everything fetched once, untimed.
bazel build //app:portable_v1 //app:portable_host
clean_v1=0 clean_host=0 inc_v1=0 inc_host=0
for i in $(seq 1 "$rounds"); do
  bazel clean
  t0=$(now); bazel build //app:portable_host; t1=$(now)
  bazel clean
  t2=$(now); bazel build //app:portable_v1; t3=$(now)
  a=$(echo "$t1 - $t0" | bc -l) b=$(echo "$t3 - $t2" | bc -l)
  clean_host=$(echo "$clean_host + $a" | bc -l) clean_v1=$(echo "$clean_v1 + $b" | bc -l)
  bazel build "$v1" //app:hello
  sed -i "s|hello from rules_portable[^:]*:|hello from rules_portable h$i:|" app/hello.c
  t4=$(now); bazel build //app:hello; t5=$(now)
  sed -i "s|hello from rules_portable[^:]*:|hello from rules_portable v$i:|" app/hello.c
  t6=$(now); bazel build "$v1" //app:hello; t7=$(now)
  c=$(echo "$t5 - $t4" | bc -l) d=$(echo "$t7 - $t6" | bc -l)
  inc_host=$(echo "$inc_host + $c" | bc -l) inc_v1=$(echo "$inc_v1 + $d" | bc -l)
  printf 'round %d: clean host %.1fs, clean glibc 2.36 %.1fs; incremental host %.2fs, glibc 2.36 %.2fs\n' "$i" "$a" "$b" "$c" "$d"
done
printf '| metric | ours (glibc 2.36) | peer (host toolchain) | ratio | goal |\n| --- | --- | --- | --- | --- |\n'
printf '| clean build of //app:portable | %.1f s | %.1f s | %.2f | <= 1.2 |\n' \
  "$(echo "$clean_v1 / $rounds" | bc -l)" "$(echo "$clean_host / $rounds" | bc -l)" "$(echo "$clean_v1 / $clean_host" | bc -l)"
printf '| one-line change, //app:hello | %.2f s | %.2f s | %.2f | - |\n' \
  "$(echo "$inc_v1 / $rounds" | bc -l)" "$(echo "$inc_host / $rounds" | bc -l)" "$(echo "$inc_v1 / $inc_host" | bc -l)"
