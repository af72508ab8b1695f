#!/usr/bin/env bash
# The layer made from //tests/pkg:hello_portable holds the bundle at
# opt/hello, entry for entry as in the bundle's own tar; unpacked into an
# empty directory, its launcher runs the program on the sysroot's glibc
# (2.41), whatever glibc runs this test.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
layer=$1 bundle=$2
# tar -tv minus the date columns: type and mode, owner, size, name.
# pkg_tar adds the opt/ directory itself; the rest must match.
entries() { tar -tvf "$1" | awk '$6 != "opt/" {sub(/^opt\//, "", $6); print $1, $2, $3, $6}' | sort; }
want=$(entries "$bundle")
got=$(entries "$layer")
[ "$got" = "$want" ] || fail "$layer differs from $bundle: $(diff <(echo "$want") <(echo "$got") | head -5)"
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/layer.XXXXXX")
tar -C "$dir" -xf "$layer"
[ -x "$dir/opt/hello/bin/hello" ] || fail "$layer has no executable opt/hello/bin/hello"
out=$(env -i "$dir/opt/hello/bin/hello")
[ "$out" = "hello from an image layer: glibc 2.41" ] || fail "$layer: the bundle printed: $out"
echo "$layer: the $(wc -l <<<"$want") entries of $bundle under opt/; opt/hello/bin/hello: $out"
