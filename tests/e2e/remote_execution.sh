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
#     gcc, cc, as, ld or java (the host and the sid root where Bazel runs
#     have all of them).
# Stops the cluster on exit, pass or fail.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/workspace.sh" remote_execution
fail() { echo "FAIL: $*" >&2; exit 1; }
CACHE=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}
mkdir -p "$CACHE/rbe"
RBE_STATE=$(mktemp -d "$CACHE/rbe/state-e2e.XXXXXX")
export RBE_STATE
cleanup() {
  "$top/tests/rbe/cluster.sh" down || true
  rm -rf "$RBE_STATE"
  (cd "$ws" && "$top/tools/bazel" clean --expunge >/dev/null 2>&1) || true
  rm -rf "$ws"
}
trap cleanup EXIT

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
for t in gcc cc as ld java; do
  echo "$t: $(command -v "$t" || echo none)"
done
echo "usr/bin: $(ls /usr/bin | wc -l) entries"
EOF
cat >probe_test.sh <<'EOF'
#!/bin/bash
# Fails unless it runs in the compiler-less runner root.
set -eu
grep -q '^runner-root/' /.rules_portable-stamp || { echo "not in the runner root"; exit 1; }
for t in gcc cc as ld java; do
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
for t in gcc cc as ld java; do
  grep -q "^$t: none\$" bazel-bin/probe.txt || fail "the genrule found $t: it did not run in the compiler-less runner root"
done

python3 - "$ws/exec.json" <<'EOF'
import json, sys

text, dec, i, spawns = open(sys.argv[1]).read(), json.JSONDecoder(), 0, []
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    s, i = dec.raw_decode(text, i)
    spawns.append(s)
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
