#!/usr/bin/env bash
# End-to-end check of examples/go_cgo: the cgo binary's bundle runs outside
# Bazel on glibc 2.43, and its go_test passes against v3 and v1 inside
# `bazel test`, reporting the sysroot's glibc from inside the test, with
# its XML report, split across shards, and failing when the test fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
../../tools/bazel build //app:portable
../../tools/bazel test //app:app_test_v3 //app:app_test_v1 //app:app_test
fail() { echo "FAIL: $*" >&2; exit 1; }
grep -q "running on glibc 2.43" bazel-testlogs/app/app_test_v3/test.log || fail "v3 test did not run on glibc 2.43"
grep -q "running on glibc 2.43, compiled against glibc 2.43 headers" bazel-testlogs/app/app_test_v3/test.log || fail "v3 test was not compiled against v3"
grep -q "running on glibc 2.36, compiled against glibc 2.36 headers" bazel-testlogs/app/app_test_v1/test.log || fail "v1 test did not run on glibc 2.36 with v1's headers"
grep -q "re-exec through" bazel-testlogs/app/app_test_v3/test.log || fail "re-exec test did not run"
# record_closure: the audit module's record of the v1 run, an undeclared
# output: the bundle's libc and loader, nothing from outside the bundle.
# (A file in test.outputs/, or in its outputs.zip where Bazel has zip(1).)
outputs=bazel-testlogs/app/app_test_v1/test.outputs
if [ -f "$outputs/portable-closure.txt" ]; then
  rec=$(cat "$outputs/portable-closure.txt")
else
  rec=$(python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("portable-closure.txt").decode())' "$outputs/outputs.zip") ||
    fail "app_test_v1 (record_closure = True) wrote no portable-closure.txt"
fi
grep -q '^object .*/app_test_v1\.bundle/lib/libc\.so\.6$' <<<"$rec" || fail "the record has no bundled libc: $rec"
if grep -E '^(host|refused) ' <<<"$rec"; then fail "the v1 test loaded (or tried) something from outside its bundle"; fi
# The cgo link by the bundled gcc: Go's linker found that gcc takes -no-pie
# (its probe drops the toolchain's -B flags, which the compiler driver puts
# back), so the program is a plain executable with no text relocations, not
# non-PIC Go code forced into a PIE (DT_TEXTREL).
for t in app_test_v1 app_test_v3; do
  prog=bazel-bin/app/$t.bundle/libexec/app_test
  if readelf -d "$prog" | grep -q TEXTREL; then fail "$prog has text relocations (DT_TEXTREL): gcc's -no-pie probe failed"; fi
  readelf -h "$prog" | grep -q 'EXEC (Executable file)' || fail "$prog is not a plain executable (Go asked for -no-pie)"
done
# XML output: the Go test's own report, one testcase per test.
for t in TestGlibc TestReexec TestTestEnv; do
  grep -q "<testcase [^>]*name=\"$t\"" bazel-testlogs/app/app_test_v3/test.xml || fail "test.xml of app_test_v3 lacks $t"
done
# Sharding: three shards, each ran its own part, together all three tests.
../../tools/bazel test //app:app_test_v3_sharded
ran=$(grep -ho -- '--- PASS: Test[A-Za-z]*' bazel-testlogs/app/app_test_v3_sharded/shard_*_of_3/test.log | sort || true)
[ "$ran" = "$(printf -- '--- PASS: %s\n' TestGlibc TestReexec TestTestEnv)" ] || fail "the shards ran: $ran"
for i in 1 2 3; do
  n=$(grep -c -- '--- PASS' "bazel-testlogs/app/app_test_v3_sharded/shard_${i}_of_3/test.log" || true)
  [ "$n" = 1 ] || fail "shard $i ran $n tests, want 1"
done
# A failing test fails: exit status 3 (tests failed), its message in the log.
set +e
../../tools/bazel test //app:app_test_v3_expect_failure >/dev/null 2>&1
status=$?
set -e
[ "$status" = 3 ] || fail "bazel test of a failing sysroot_test exited $status, want 3"
grep -q "glibc 2.43, want 2.41" bazel-testlogs/app/app_test_v3_expect_failure/test.log || fail "the failure's message is not in the log"
grep -q "<failure" bazel-testlogs/app/app_test_v3_expect_failure/test.xml || fail "the failure is not in test.xml"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tar -C "$dir" -xf bazel-bin/app/portable.tar
out=$("$dir/app/bin/app")
printf '%s\n' "$out"
grep -q '^go_cgo: glibc 2\.43$' <<<"$out" || fail "bundle does not run on its glibc 2.43"
echo "examples/go_cgo: ok"
