#!/usr/bin/env bash
# Both pkg_tar layers built from //sysroots:v2 hold the sysroot at
# usr/sysroot/v2, with its manifest, libc and loader. The layer that merges
# the sysroot's tar has exactly the tar's entries, symlinks and all; the one
# made from the directory has no symlinks left (Bazel followed them).
set -euo pipefail
layer=$1 exact=$2 tar=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
# listing FILE: one line per entry: type, name, link target.
listing() { tar -tvf "$1" | awk '{t = substr($1, 1, 1); n = $6; sub(/^\.\//, "", n); sub(/\/$/, "", n); l = ($7 == "->") ? $8 : ""; if (n != "" && n != ".") print t, n, l}' | sort; }
for f in "$layer" "$exact"; do
  names=$(tar -tf "$f" | sed 's|^\./||')
  for want in usr/sysroot/v2/.sysroot/manifest.json usr/sysroot/v2/usr/lib/x86_64-linux-gnu/libc.so.6 usr/sysroot/v2/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
    grep -qx "$want" <<<"$names" || fail "$f lacks $want"
  done
done
want=$(listing "$tar")
# pkg_tar adds the parent directories, which the sysroot tar leaves out.
got=$(listing "$exact" | grep -vx 'd usr \|d usr/sysroot ')
[ "$got" = "$want" ] || fail "$exact differs from $tar: $(diff <(echo "$want") <(echo "$got") | head -5)"
links=$(grep -c '^l' <<<"$want" || true)
[ "$links" -gt 0 ] || fail "$tar has no symlinks; expected lib -> usr/lib and friends"
grep -q '^l usr/sysroot/v2/lib64 usr/lib64$' <<<"$got" || fail "$exact lacks the link lib64 -> usr/lib64"
layer_listing=$(listing "$layer")
if grep -q '^l' <<<"$layer_listing"; then fail "$layer has symlinks; the test's premise (Bazel follows them) changed: update the rule's docs"; fi
echo "exact layer: $(wc -l <<<"$got") entries, $links symlinks, same as the sysroot tar; directory layer: $(wc -l <<<"$layer_listing") entries, no symlinks: ok"
