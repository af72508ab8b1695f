#!/usr/bin/env bash
# End-to-end check of examples/go_cgo: the cgo binary's bundle runs outside
# Bazel on glibc 2.43, and its go_test passes against v3 and v2 inside
# `bazel test`, reporting the sysroot's glibc from inside the test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
../../tools/bazel build //app:portable
../../tools/bazel test //app:app_test_v3 //app:app_test_v2 //app:app_test
fail() { echo "FAIL: $*" >&2; exit 1; }
grep -q "running on glibc 2.43" bazel-testlogs/app/app_test_v3/test.log || fail "v3 test did not run on glibc 2.43"
grep -q "running on glibc 2.41" bazel-testlogs/app/app_test_v2/test.log || fail "v2 test did not run on glibc 2.41"
grep -q "re-exec through" bazel-testlogs/app/app_test_v3/test.log || fail "re-exec test did not run"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tar -C "$dir" -xf bazel-bin/app/portable.tar
out=$("$dir/app/bin/app")
printf '%s\n' "$out"
grep -q '^go_cgo: glibc 2\.43$' <<<"$out" || fail "bundle does not run on its glibc 2.43"
echo "examples/go_cgo: ok"
