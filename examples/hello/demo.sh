#!/usr/bin/env bash
# The main job: build a portable bundle of the example app with Bazel and
# run it on this machine, from a directory of its own, outside Bazel.
# Works on a fresh machine: tools/bazel provisions everything it needs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
../../tools/bazel build //app:hello //app:portable
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tar -C "$dir" -xf bazel-bin/app/portable.tar
echo "--- this host: $(getconf GNU_LIBC_VERSION)"
echo "--- the plain binary, built against a newer glibc:"
./bazel-bin/app/hello || echo "(it cannot run here: exit $?)"
echo "--- the bundle, unpacked in $dir:"
"$dir/hello/bin/hello" 7 || echo "(exit status $?, passed through from the program)"
