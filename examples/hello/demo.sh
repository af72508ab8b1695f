#!/usr/bin/env bash
# The main job: build the example app with Bazel and run what it built.
# Works on a fresh machine: tools/bazel provisions everything it needs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
../../tools/bazel build //app:hello
echo "--- running bazel-bin/app/hello outside Bazel"
./bazel-bin/app/hello
