#!/usr/bin/env bash
# End-to-end check of examples/bump: the same app bundled against v1, v2
# and v3, each run outside Bazel and reporting its own glibc.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
../../tools/bazel build //app:app_v1 //app:app_v2 //app:app_v3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for pair in v1=2.36 v2=2.41 v3=2.43; do
  v=${pair%=*} want=${pair#*=}
  tar -C "$dir" -xf "bazel-bin/app/app_$v.tar"
  out=$("$dir/app_$v/bin/app")
  echo "app_$v: $out"
  [ "$out" = "glibc $want" ] || { echo "FAIL: app_$v says '$out', want 'glibc $want'" >&2; exit 1; }
done
echo "examples/bump: ok"
