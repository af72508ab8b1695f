#!/usr/bin/env bash
# Stardoc's renderer runs on a JDK that any x86_64 Linux runs (issue #17):
# //docs:renderer_jdk, the sid root's JDK 25 bundled with glibc 2.43 from
# sysroot v3, copied out of bazel-bin to a read-only place on this bookworm
# host (glibc 2.36), with no chroot and no mount namespace of the sid root:
#
#   - the control: the root's own java needs GLIBC_2.38 and fails here;
#   - the copy's java starts, finds its home in the copy, and maps only the
#     copy's shared objects (loader, libc, libstdc++, libjvm...);
#   - it renders docs/defs.md from the extracted docstrings byte for byte;
#   - it starts in an empty root that holds only the bundle and /proc.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
export PATH=/usr/local/go/bin:$PATH
sidroot=$top/tools/offline/sidroot.sh
bazel() { "$top/tools/bazel" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

root=$("$sidroot" ensure)
bazel build //docs:renderer_jdk //docs:defs_md
# The target configuration's outputs (cquery lists the exec one too when
# the target is also a tool).
outputs() { bazel cquery --output=files "$@" 2>/dev/null | grep -v -- '-exec-' || true; }
jdk=$(outputs //docs:renderer_jdk)
# Stardoc's intermediate output beside the page: the docstrings it renders.
page=$(outputs //docs:defs_md)
proto=${page%/*}/defs_md.extract.binaryproto
[ -d "$jdk" ] || fail "no bundle at $jdk"
[ -f "$proto" ] || fail "no extracted docstrings at $proto"

# The renderer jar and its templates live in the root's Debian stardoc
# module: copy them out from inside the root (whose /tmp is not ours).
jar=$(bazel cquery --output=files @stardoc//stardoc:renderer_prebuilt.jar 2>/dev/null)
execroot=$(bazel info execution_root 2>/dev/null)
mkdir -p "$tmp/stardoc"
"$sidroot" run -- tar -C "$(dirname "$execroot/$jar")" -chf - renderer_prebuilt.jar templates/markdown_tables |
  tar -C "$tmp/stardoc" -xf - || fail "could not copy the renderer jar out of the root"

echo "--- the control: the root's java on this host"
rootjava=$root/usr/lib/jvm/default-java/bin/java
if out=$("$rootjava" -version 2>&1); then
  fail "the root's own java ran on this host; the test no longer shows anything: $out"
fi
grep -q 'GLIBC_2\.3[89]\|GLIBC_2\.4' <<<"$out" || echo "note: the root's java failed otherwise: $out"

echo "--- the bundle, copied and read-only"
mkdir -p "$tmp/ro"
cp -a "$jdk" "$tmp/ro/jdk"
moved=$tmp/ro/jdk
# in_ro CMD...: run CMD with $tmp/ro mounted read-only.
in_ro() {
  unshare -m --propagation private sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' - "$tmp/ro" "$@"
}
in_ro sh -c ': >"$1/x"' - "$moved" 2>/dev/null && fail "$tmp/ro is writable in in_ro"
version=$(in_ro "$moved/bin/java" -version 2>&1) || fail "the bundled java does not start on this host: $version"
echo "$version" | head -n 1
home=$(in_ro "$moved/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p')
[ "$home" = "$moved" ] || fail "java.home is '$home', not $moved"
mapped=$(in_ro "$moved/bin/java" "$top/docs/testdata/MappedObjects.java") || fail "java could not run MappedObjects.java: $mapped"
for want in lib/ld-linux-x86-64.so.2 lib/libc.so.6 lib/libstdc++.so.6 lib/server/libjvm.so; do
  grep -qx "$moved/$want" <<<"$mapped" || fail "the JVM did not map $moved/$want; it mapped:"$'\n'"$mapped"
done
outside=$(grep -v "^$moved/" <<<"$mapped" || true)
[ -z "$outside" ] || fail "the JVM mapped host objects:"$'\n'"$outside"
echo "the JVM maps $(wc -l <<<"$mapped") shared objects, all from the copy"

t=$tmp/stardoc/templates/markdown_tables
args=()
for k in aspect header func macro provider rule repository_rule module_extension; do
  args+=("--${k}_template=$t/$k.vm")
done
in_ro "$moved/bin/java" -jar "$tmp/stardoc/renderer_prebuilt.jar" --input="$proto" --output="$tmp/defs.md" "${args[@]}" 2>"$tmp/render.err" ||
  fail "the renderer failed on this host: $(cat "$tmp/render.err")"
cmp -s "$tmp/defs.md" docs/defs.md || fail "the page rendered on this host differs from docs/defs.md: $(diff "$tmp/defs.md" docs/defs.md | head -5)"
echo "rendered docs/defs.md on this host, byte for byte"

echo "--- an empty root: the bundle and /proc, nothing else"
mkdir -p "$tmp/empty/proc"
cp -a "$jdk" "$tmp/empty/jdk"
out=$(unshare -m --propagation private sh -c 'mount -t proc proc "$1/proc" && exec chroot "$1" /jdk/bin/java -version' - "$tmp/empty" 2>&1) ||
  fail "the bundled java does not start in an empty root: $out"
echo "$out" | head -n 1
echo "java_bundle: ok"
