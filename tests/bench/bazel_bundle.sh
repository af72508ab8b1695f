#!/usr/bin/env bash
# Benchmark: what a portable bundle adds to an incremental Bazel build.
# After a one-line change to the app, time `bazel build //app:hello` (compile
# + link) and `bazel build //app:portable` (compile + link + bundle), in
# alternation, in one run, and print the ratio. Not a test: nothing fails on
# time.
#
#   tests/bench/bazel_bundle.sh [ROUNDS]
set -euo pipefail
rounds=${1:-5}
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/workspace.sh" bench hello
# No disk cache: an earlier run left the same changes' outputs there.
bazel() { "$top/tools/bazel" "$1" --disk_cache= "${@:2}" >/dev/null 2>&1; }
bazel build //app:hello //app:portable
change() { sed -i "s|hello from rules_portable[^:]*:|hello from rules_portable $1:|" app/hello.c; }
now() { date +%s.%N; }
app=0 bundle=0
for i in $(seq 1 "$rounds"); do
  change "a$i"
  t0=$(now); bazel build //app:hello; t1=$(now)
  bazel build //app:portable # bring the bundle up to date, untimed
  change "b$i"
  t2=$(now); bazel build //app:portable; t3=$(now)
  app=$(echo "$app + $t1 - $t0" | bc -l)
  bundle=$(echo "$bundle + $t3 - $t2" | bc -l)
  printf 'round %d: app %.2fs, app+bundle %.2fs\n' "$i" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$t3 - $t2" | bc -l)"
done
printf 'mean over %d rounds: bazel build //app:hello %.2fs, //app:portable %.2fs, ratio %.2f (the bundle adds %.0f%%)\n' \
  "$rounds" "$(echo "$app / $rounds" | bc -l)" "$(echo "$bundle / $rounds" | bc -l)" \
  "$(echo "$bundle / $app" | bc -l)" "$(echo "($bundle / $app - 1) * 100" | bc -l)"
printf 'RESULT\tbazel build //app:portable vs //app:hello after a one-line change\t%.2fs\t%.2fs\t%.3f\t< 1.10\n' \
  "$(echo "$bundle / $rounds" | bc -l)" "$(echo "$app / $rounds" | bc -l)" "$(echo "$bundle / $app" | bc -l)"
