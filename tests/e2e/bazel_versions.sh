#!/usr/bin/env bash
# Bazel versions: the Bazel the suite runs satisfies MODULE.bazel's
# bazel_compatibility, and Bazel 8's defaults (tools/bazel8.bazelrc) are in
# effect in the repository and in a user's workspace (examples/hello), so the
# whole suite runs with them. No Bazel 8 can be had on this machine (Debian
# sid and experimental ship 7.7.1; npm's last Bazel is 2.1.0), so these
# defaults on 7.7 are what stands in for it; .bcr/presubmit.yml asks the
# registry's CI for 7.x and 8.x.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
fail() { echo "FAIL: $*" >&2; exit 1; }

# (Debian's build says "Version information not available" to `bazel version`.)
ver=$(tools/bazel --version | awk '$1 == "bazel" {print $2}') || fail "bazel --version failed"
[[ "$ver" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "bazel --version gave no version: $ver"
compat=$(sed -n 's/^ *bazel_compatibility = \[\(.*\)\],$/\1/p' MODULE.bazel)
[ -n "$compat" ] || fail "MODULE.bazel declares no bazel_compatibility"
for c in $(tr -d '", ' <<<"$compat" | tr ',' ' '); do
  case "$c" in
    '>='*) min=${c#>=}
      [ "$(printf '%s\n%s\n' "$min" "$ver" | sort -V | head -1)" = "$min" ] ||
        fail "Bazel $ver does not satisfy bazel_compatibility $c" ;;
    *) fail "bazel_compatibility entry $c: this check knows only >=" ;;
  esac
done
echo "Bazel $ver satisfies bazel_compatibility [$compat]"

flags=$(grep -v '^#' tools/bazel8.bazelrc | awk '$1 == "common" {print $2}')
[ -n "$flags" ] || fail "tools/bazel8.bazelrc sets no flag"
for ws in examples/hello; do
  rc=$(cd "$ws" && "$top/tools/bazel" build --nobuild --announce_rc //app:hello 2>&1) || fail "$ws: bazel build --nobuild failed: $rc"
  for f in $flags; do
    grep -q -- "$f" <<<"$rc" || fail "$ws: $f is not in effect"
  done
  echo "$ws: Bazel 8 defaults in effect: $(echo $flags)"
done

# And they act: an empty glob fails the build, as on Bazel 8.
probe=tests/bazel8_probe.$$
trap 'rm -rf "$probe"' EXIT
mkdir "$probe"
echo 'filegroup(name = "empty", srcs = glob(["*.nothing"]))' >"$probe/BUILD.bazel"
if out=$(tools/bazel build --nobuild "//$probe:empty" 2>&1); then
  fail "an empty glob was accepted: --incompatible_disallow_empty_glob is not on"
fi
grep -q "allow_empty" <<<"$out" || fail "unexpected error for an empty glob: $out"
echo "an empty glob is refused, as on Bazel 8"
