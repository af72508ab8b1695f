#!/usr/bin/env bash
# Benchmark: remote execution and a shared remote cache, side by side in one
# run on this machine (so it measures overhead, not scale). Not a test:
# nothing fails on time.
#
#   - remote vs local: a clean build of examples/hello's //app:portable with
#     every action on Buildbarn (tests/rbe, its runner in a compiler-less
#     root on 127.0.0.1), against the same clean build executed locally;
#     neither has a disk cache, the remote one accepts no cached results.
#   - cached vs first: a second clone at another path builds the same with
#     --remote_cache only (every action a hit, outputs not downloaded),
#     against the first clone's remote build.
#
#   tests/bench/remote.sh [ROUNDS]
set -euo pipefail
rounds=${1:-1}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
CACHE=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}
mkdir -p "$CACHE/rbe"
RBE_STATE=$(mktemp -d "$CACHE/rbe/state-bench.XXXXXX")
export RBE_STATE
work=$(mktemp -d "$top/tests/e2e/workspaces/bench_remote.XXXXXX")
cleanup() {
  "$top/tests/rbe/cluster.sh" down >/dev/null 2>&1 || true
  rm -rf "$RBE_STATE"
  local d
  for d in "$work"/*/rules_portable/examples/hello; do
    [ -d "$d" ] && (cd "$d" && "$top/tools/bazel" clean --expunge >/dev/null 2>&1) || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
"$top/tests/rbe/cluster.sh" up >/dev/null
read -r -a rbe <<<"$("$top/tests/rbe/cluster.sh" env)"
for c in one two; do git clone -q --no-local "$top" "$work/$c/rules_portable"; done
one=$work/one/rules_portable/examples/hello two=$work/two/rules_portable/examples/hello
bazel() { (cd "$1" && "$top/tools/bazel" "${@:2}" >/dev/null 2>&1); }
now() { date +%s.%N; }
# Fetch once, untimed.
bazel "$one" fetch //app:portable
bazel "$two" fetch //app:portable
local_t=0 remote_t=0 cached_t=0
# Both builds as a module builds for a cluster (docs/remote-execution.md):
# for glibc 2.36's platform, tools too, py_binary tools on the bundled Python.
plat=(--platforms=@rules_portable//platforms:linux_x86_64_glibc_2_36
  --extra_execution_platforms=@rules_portable//platforms:linux_x86_64_glibc_2_36
  --@rules_portable//sysroots:bundled_python)
cache_flag=$(sed -n 's/.*--remote_executor=\([^ ]*\).*/--remote_cache=\1/p' <<<"${rbe[*]}")
for i in $(seq 1 "$rounds"); do
  bazel "$one" clean
  t0=$(now); bazel "$one" build "${plat[@]}" --disk_cache= //app:portable; t1=$(now)
  bazel "$one" clean
  t2=$(now); bazel "$one" build "${plat[@]}" --disk_cache= "${rbe[@]}" --noremote_accept_cached //app:portable; t3=$(now)
  bazel "$two" clean
  t4=$(now); bazel "$two" build "${plat[@]}" --disk_cache= "$cache_flag" --remote_download_minimal //app:portable; t5=$(now)
  a=$(echo "$t1 - $t0" | bc -l) b=$(echo "$t3 - $t2" | bc -l) c=$(echo "$t5 - $t4" | bc -l)
  local_t=$(echo "$local_t + $a" | bc -l) remote_t=$(echo "$remote_t + $b" | bc -l) cached_t=$(echo "$cached_t + $c" | bc -l)
  printf 'round %d: local %.1fs, remote %.1fs, second clone from the remote cache %.1fs\n' "$i" "$a" "$b" "$c"
done
printf 'RESULT\tclean //app:portable (examples/hello): remote vs local execution\t%.1fs\t%.1fs\t%.2f\t-\n' \
  "$(echo "$remote_t / $rounds" | bc -l)" "$(echo "$local_t / $rounds" | bc -l)" "$(echo "$remote_t / $local_t" | bc -l)"
printf 'RESULT\tsecond clone, --remote_cache only, vs the first clone'"'"'s remote build\t%.1fs\t%.1fs\t%.2f\t-\n' \
  "$(echo "$cached_t / $rounds" | bc -l)" "$(echo "$remote_t / $rounds" | bc -l)" "$(echo "$cached_t / $remote_t" | bc -l)"
