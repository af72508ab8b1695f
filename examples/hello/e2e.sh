#!/usr/bin/env bash
# End-to-end check of examples/hello: build as a user would, run the output,
# assert what it prints.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
../../tools/bazel build //app:hello
out=$(./bazel-bin/app/hello)
printf '%s\n' "$out"
grep -q '^hello from rules_portable: glibc 2\.' <<<"$out" || { echo "FAIL: unexpected output" >&2; exit 1; }
grep -q "^/proc/self/exe=$(readlink -f bazel-bin/app/hello)\$" <<<"$out" || { echo "FAIL: /proc/self/exe wrong" >&2; exit 1; }
echo "examples/hello: ok"
