#!/usr/bin/env bash
# Remote execution on a real engine: Buildbarn on 127.0.0.1 (tests/rbe/),
# its runner in a minimal bookworm root without a compiler.
#
#   tests/e2e/remote_execution.sh
#
# Starts the cluster (building Buildbarn and the runner root the first time,
# cached after that), and in a throwaway workspace runs a genrule and an
# sh_test with --remote_executor, no disk cache and no remote cache lookups,
# then asserts:
#   - the execution log shows both actions ran with the remote strategy
#     (runner "remote"), not locally, sandboxed or from a cache;
#   - the actions ran in the runner root: they find its stamp file and no
#     gcc, cc, as, ld, java or python3 (the host and the sid root where
#     Bazel runs have all of them).
# Then the project itself, from a clean clone, on the same cluster:
#   - `bazel test --config=remote //...` with no disk cache: every spawn
#     (C and C++ compiles with the bundled gcc, cgo in the tools, Go,
#     sysroots, the compiler bundle, rules_pkg's tar writer on the bundled
#     Python, Stardoc on the bundled JDK, the tests, the glibc matrix) runs
#     on the worker, none here;
#   - outputs built remotely have the sha256 of a local build: the v1 and
#     v3 C and C++ programs and sysroot tars of the project; examples/hello's
#     bundle, single-file bundle, patched binary and sysroot tar;
#     examples/go_cgo's cgo bundle (v3) and sysroot_test bundle (v1), built
#     with the remote flags a dependent module uses;
#   - a second clone at another path with --remote_cache only (no
#     executor) gets every action of `bazel test --config=remote //...`
#     from the cache, and no command line or environment of any spawn
#     (either clone, the examples) names a checkout's path.
# Stops the cluster on exit, pass or fail.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/workspace.sh" remote_execution
fail() { echo "FAIL: $*" >&2; exit 1; }
CACHE=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}
mkdir -p "$CACHE/rbe"
RBE_STATE=$(mktemp -d "$CACHE/rbe/state-e2e.XXXXXX")
export RBE_STATE
clones=()
# expunge DIR: deletes the output base of the workspace DIR, as soon as a
# part of the test is done with it (each holds gigabytes of downloads).
expunge() {
  (cd "$1" && "$top/tools/bazel" clean --expunge >/dev/null 2>&1) || true
}
cleanup() {
  "$top/tests/rbe/cluster.sh" down || true
  rm -rf "$RBE_STATE"
  local c
  for c in "${clones[@]}"; do expunge "$c"; done
  expunge "$ws"
  rm -rf "$ws"
}
trap cleanup EXIT
# Stopped by tests/run_all.sh (it runs this alongside other scripts): clean up.
trap 'exit 143' TERM INT
df_free() { df -h --output=avail "$1" | tail -n 1 | tr -d ' '; }

start=$(date +%s)
"$top/tests/rbe/cluster.sh" up
echo "cluster up in $(($(date +%s) - start))s (binaries and root included when not cached)"
read -r -a rbe_flags <<<"$("$top/tests/rbe/cluster.sh" env)"

# A user's module (examples/hello's, pointed at this checkout), plus rules_shell.
sed "s|path = \"../..\"|path = \"$top\"|" "$top/examples/hello/MODULE.bazel" >MODULE.bazel
echo 'bazel_dep(name = "rules_shell", version = "0.4.0")' >>MODULE.bazel
# The probe: what a remote action sees of the machine it runs on.
cat >probe.sh <<'EOF'
#!/bin/bash
# Prints where this runs: the runner root's stamp and which tools it has.
echo "stamp: $(cat /.rules_portable-stamp 2>/dev/null || echo none)"
for t in gcc cc as ld java python3; do
  echo "$t: $(command -v "$t" || echo none)"
done
echo "usr/bin: $(ls /usr/bin | wc -l) entries"
EOF
cat >probe_test.sh <<'EOF'
#!/bin/bash
# Fails unless it runs in the compiler-less runner root.
set -eu
grep -q '^runner-root/' /.rules_portable-stamp || { echo "not in the runner root"; exit 1; }
for t in gcc cc as ld java python3; do
  if command -v "$t"; then echo "found $t: not the runner root"; exit 1; fi
done
echo "in the runner root, no compiler"
EOF
chmod +x probe.sh probe_test.sh
cat >BUILD.bazel <<'EOF'
load("@rules_shell//shell:sh_test.bzl", "sh_test")

genrule(
    name = "probe",
    srcs = ["probe.sh"],
    outs = ["probe.txt"],
    cmd = "$(location probe.sh) >$@",
)

sh_test(
    name = "probe_test",
    srcs = ["probe_test.sh"],
)
EOF

# No disk cache, no remote cache lookups, no cached test results: both
# actions must execute, and remotely.
flags=("${rbe_flags[@]}" --disk_cache= --noremote_accept_cached --nocache_test_results
  --execution_log_json_file="$ws/exec.json")
if ! "$top/tools/bazel" test "${flags[@]}" //:probe //:probe_test; then
  tail -n 20 "$RBE_STATE"/*.log >&2 || true
  fail "bazel test with ${rbe_flags[*]} failed (the cluster's logs are above)"
fi

echo "--- the genrule's view of its machine:"
cat bazel-bin/probe.txt
grep -q '^stamp: runner-root/' bazel-bin/probe.txt || fail "the genrule did not run in the runner root (no stamp): $(cat bazel-bin/probe.txt)"
for t in gcc cc as ld java python3; do
  grep -q "^$t: none\$" bazel-bin/probe.txt || fail "the genrule found $t: it did not run in the compiler-less runner root"
done

PYTHONPATH=$top/tests/e2e/lib python3 - "$ws/exec.json" <<'EOF'
import sys
from execlog import spawns

spawns = spawns(sys.argv[1])
want = {"Genrule": "//:probe", "TestRunner": "//:probe_test"}
for mnemonic, label in want.items():
    mine = [s for s in spawns if s.get("mnemonic") == mnemonic and s.get("targetLabel") == label]
    if not mine:
        sys.exit("FAIL: no %s spawn of %s in the execution log" % (mnemonic, label))
    for s in mine:
        runner = s.get("runner")
        print("%-10s %-14s runner=%s cacheHit=%s" % (mnemonic, label, runner, s.get("remoteCacheHit", False)))
        if runner != "remote" or s.get("remoteCacheHit"):
            sys.exit("FAIL: %s of %s ran with %r, not remotely" % (mnemonic, label, runner))
EOF
echo "PASS: a genrule and an sh_test ran on Buildbarn, in a root without a compiler"

# spawns LOG [--hits|--remote-or-hits]: prints the spawns of an execution
# log per mnemonic; fails unless every one ran remotely (with --hits: came
# from the remote cache; with --remote-or-hits: either, none ran here).
spawns() {
  PYTHONPATH=$top/tests/e2e/lib python3 - "$@" <<'EOF'
import collections, sys
from execlog import cache_hit, spawns

bad, kinds = [], collections.Counter()
hits = "--hits" in sys.argv
either = "--remote-or-hits" in sys.argv
for s in spawns(sys.argv[1]):
    m, runner = s.get("mnemonic", "?"), s.get("runner", "")
    hit = cache_hit(s)
    kinds[m] += 1
    ok = hit if hits else (runner == "remote" and not hit) or (either and hit)
    if not ok:
        bad.append("%s %s (runner %r, remote cache hit %s)" % (m, s.get("targetLabel", ""), runner, hit))
for m, n in sorted(kinds.items()):
    print("%6d %s" % (n, m))
print("%6d spawns in all" % sum(kinds.values()))
if bad:
    sys.exit("FAIL: %d spawns did not %s:\n  %s" % (len(bad), "come from the remote cache" if hits else "run remotely" + (" or come from the remote cache" if either else ""), "\n  ".join(bad[:40])))
EOF
}

echo "--- the project on the cluster: bazel test --config=remote //... from a clean clone"
self=$ws/one/rules_portable
mkdir -p "$ws/one"
git clone -q --no-local "$top" "$self"
clones+=("$self" "$self/examples/hello")
start=$(date +%s)
if ! (cd "$self" && "$self/tools/bazel" test --config=remote "${rbe_flags[@]}" --disk_cache= \
  --execution_log_json_file="$ws/self.json" //...); then
  fail "bazel test --config=remote //... failed on the cluster"
fi
echo "bazel test --config=remote //...: $(($(date +%s) - start))s"
spawns "$ws/self.json" | tee "$ws/self.kinds"
for m in CppCompile CppLink GoStdlib GoCompilePkg PortableSysroot PortableCompiler PortableBundle PackageTar TestRunner; do
  grep -q " $m\$" "$ws/self.kinds" || fail "no $m spawn ran remotely"
done

# outputs DIR TOP FLAGS... -- TARGETS...: the sha256 and bazel-bin path of
# each output file of the targets, as built in the workspace DIR with FLAGS
# (a directory output: the sha256 of its sorted listing of file sha256s and
# symlink targets).
outputs() {
  local dir=$1 tool=$2/tools/bazel flags=() targets
  shift 2
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  targets=$*
  (cd "$dir" && "$tool" cquery "${flags[@]}" --output=files "set($targets)" 2>/dev/null | grep -v -- '-exec-' |
    while read -r f; do
      if [ -d "$f" ]; then
        sum=$(cd "$f" && find . \( -type f -o -type l \) -print | LC_ALL=C sort | while read -r e; do
          if [ -L "$e" ]; then echo "link $(readlink "$e") $e"; else echo "$(sha256sum <"$e" | cut -d' ' -f1) $e"; fi
        done | sha256sum | cut -d' ' -f1)
        echo "$sum ${f#bazel-out/*/bin/}/"
      elif [ -f "$f" ]; then
        echo "$(sha256sum <"$f" | cut -d' ' -f1) ${f#bazel-out/*/bin/}"
      fi
    done | sort -k2)
}
# same NAME REMOTE_DIR LOCAL_DIR MIN FLAGS... -- TARGETS...: the outputs of
# TARGETS from the clone's remote build (REMOTE_DIR, this script's remote
# flags) and from the checkout's local build (LOCAL_DIR, no flags) are the
# same bytes; at least MIN outputs. Both list the output groups in $groups
# too; the local build has the flags in $lflags.
groups=() lflags=()
same() {
  local name=$1 rdir=$2 ldir=$3 min=$4 rflags=()
  shift 4
  while [ "$1" != -- ]; do rflags+=("$1"); shift; done
  shift
  outputs "$rdir" "$self" "${rflags[@]}" "${groups[@]}" -- "$@" >"$ws/$name.remote.sha"
  outputs "$ldir" "$top" "${lflags[@]}" "${groups[@]}" -- "$@" >"$ws/$name.local.sha"
  cat "$ws/$name.remote.sha"
  [ "$(wc -l <"$ws/$name.remote.sha")" -ge "$min" ] || fail "$name: fewer than $min outputs: $(cat "$ws/$name.remote.sha")"
  diff "$ws/$name.local.sha" "$ws/$name.remote.sha" || fail "$name: outputs differ between local and remote execution (local, then remote)"
  echo "$name: the same sha256 from local and remote execution"
}

echo "--- the project: v1 and v3 C and C++ programs and sysroot tars, remote and local"
cc_targets=(//tests/cc:strtol_v1 //tests/cc:cxx20_v1 //tests/cc:strtol_v3 //tests/cc:cxx20_v3 //sysroots:v1 //sysroots:v3)
(cd "$top" && "$top/tools/bazel" build "${cc_targets[@]}") || fail "the project's C and C++ targets did not build locally"
same project "$self" "$top" 8 --config=remote "${rbe_flags[@]}" --disk_cache= -- "${cc_targets[@]}"
echo "free disk before expunging the clone's output base: $(df_free "$ws")"
expunge "$self"

# What a module that depends on rules_portable puts in its remote config
# (docs/remote-execution.md).
user_remote=(--platforms=@rules_portable//platforms:linux_x86_64_glibc_2_36
  --extra_execution_platforms=@rules_portable//platforms:linux_x86_64_glibc_2_36
  --@rules_portable//sysroots:bundled_python)

echo "--- examples/hello: remote and local outputs are the same bytes"
start=$(date +%s)
targets=(//app:portable //app:portable_run //app:hello_v2 @rules_portable//sysroots:v2)
(cd "$self/examples/hello" && "$self/tools/bazel" build "${user_remote[@]}" "${rbe_flags[@]}" --disk_cache= \
  --execution_log_json_file="$ws/hello.json" "${targets[@]}") || fail "examples/hello did not build on the cluster"
spawns "$ws/hello.json" --remote-or-hits >/dev/null || fail "examples/hello: a spawn ran here, not on the cluster"
(cd "$top/examples/hello" && "$top/tools/bazel" build "${targets[@]}") || fail "examples/hello did not build locally"
same hello "$self/examples/hello" "$top/examples/hello" 4 "${user_remote[@]}" "${rbe_flags[@]}" --disk_cache= -- "${targets[@]}"
expunge "$self/examples/hello"
echo "examples/hello: $(($(date +%s) - start))s"

echo "--- examples/go_cgo: the cgo bundle and the sysroot_test bundles, remote and local"
start=$(date +%s)
clones+=("$self/examples/go_cgo")
targets=(//app:portable //app:app_test_v1)
# A sysroot_test's bundle is in its runfiles, and in its output group.
groups=(--output_groups=+bundle)
(cd "$self/examples/go_cgo" && "$self/tools/bazel" build "${user_remote[@]}" "${rbe_flags[@]}" "${groups[@]}" --disk_cache= \
  --execution_log_json_file="$ws/go_cgo.json" "${targets[@]}") || fail "examples/go_cgo did not build on the cluster"
spawns "$ws/go_cgo.json" --remote-or-hits | tee "$ws/go_cgo.kinds"
grep -q " CGoCompile\| CppCompile\| GoCompilePkg" "$ws/go_cgo.kinds" || fail "examples/go_cgo: no compile ran remotely"
# Against a local build with the same flags: the test binary of a default
# build differs, because Go records the path of rules_go's generated
# testmain.go, bazel-out/CONFIG/bin/app/app_test_/testmain.go, and a default
# build makes it in a transitioned configuration (k8-fastbuild-ST-...).
lflags=("${user_remote[@]}")
(cd "$top/examples/go_cgo" && "$top/tools/bazel" build "${lflags[@]}" "${groups[@]}" "${targets[@]}") || fail "examples/go_cgo did not build locally"
same go_cgo "$self/examples/go_cgo" "$top/examples/go_cgo" 3 "${user_remote[@]}" "${rbe_flags[@]}" --disk_cache= -- "${targets[@]}"
expunge "$self/examples/go_cgo"
echo "examples/go_cgo: $(($(date +%s) - start))s"

echo "--- a second clone at another path, --remote_cache only: everything from the cache"
start=$(date +%s)
other=$ws/two/and/deeper/rules_portable
mkdir -p "$ws/two/and/deeper"
git clone -q --no-local "$top" "$other"
clones+=("$other")
cache_flag=$(sed -n 's/.*--remote_executor=\([^ ]*\).*/--remote_cache=\1/p' <<<"${rbe_flags[*]}")
(cd "$other" && "$other/tools/bazel" test --config=remote "$cache_flag" --disk_cache= --remote_download_minimal \
  --execution_log_json_file="$ws/two.json" //...) || fail "the second clone's cached build failed"
spawns "$ws/two.json" --hits
echo "second clone: $(($(date +%s) - start))s"
# What made the hits possible: no action key names a checkout's path.
PYTHONPATH=$top/tests/e2e/lib python3 - "$ws" "$top" "$ws"/{self,hello,go_cgo,two}.json <<'EOF_PY'
import json, sys
from execlog import spawns

paths, bad, n = sys.argv[1:3], [], 0
for log in sys.argv[3:]:
    for s in spawns(log):
        n += 1
        key = json.dumps([s.get("commandArgs", []), s.get("environmentVariables", [])])
        bad += ["%s: %s %s names %s" % (log.rsplit("/", 1)[1], s.get("mnemonic"), s.get("targetLabel"), p) for p in paths if p in key]
if bad:
    sys.exit("FAIL: %d action keys name a checkout's path:\n  %s" % (len(bad), "\n  ".join(bad[:20])))
print("no command line or environment of %d spawns names a checkout's path" % n)
EOF_PY
echo "PASS: //... ran remotely; the project's, examples/hello's and examples/go_cgo's outputs match a local build; a second clone at another path got 100% cache hits"
