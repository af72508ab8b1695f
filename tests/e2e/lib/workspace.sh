# Sourced by the end-to-end tests and benchmarks that need a Bazel
# workspace of their own. Sets top (the repository) and ws (a new, empty
# workspace under tests/e2e/workspaces), and on exit expunges the
# workspace's Bazel output base and deletes the workspace.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib/workspace.sh" NAME [EXAMPLE]
#
# With EXAMPLE, the workspace starts as a copy of examples/EXAMPLE, its
# rules_portable override pointed back at this repository.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
ws=$top/tests/e2e/workspaces/$1.$$
mkdir -p "$ws"
trap '(cd "$ws" && "$top/tools/bazel" clean --expunge >/dev/null 2>&1); rm -rf "$ws"' EXIT
if [ -n "${2:-}" ]; then
  cp -r "$top/examples/$2/." "$ws/"
  rm -f "$ws"/bazel-*
  sed -i "s|path = \"../..\"|path = \"$top\"|" "$ws/MODULE.bazel"
fi
cd "$ws"
