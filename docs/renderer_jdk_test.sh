#!/usr/bin/env bash
# The JDK bundle that runs Stardoc's renderer (//docs:renderer_jdk) runs
# from a moved copy on its own loader and glibc (sysroot v3's 2.43), so a
# worker with another glibc and no JDK runs it too:
#   - the manifest names sysroot v3 and the bundled loader;
#   - java starts from the copy and finds its home there;
#   - every shared object the JVM maps (loader, libc, libstdc++, libjvm, the
#     JDK's own libraries) is the copy's: none of the machine's;
#   - the renderer jar answers --help.
# tests/e2e/java_bundle.sh runs the same bundle on the bookworm host and in
# an empty root.
set -euo pipefail
jdk=$1 jar=$2 src=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
manifest=$jdk/.portable/manifest.json
[ -f "$manifest" ] || fail "$jdk has no .portable/manifest.json: not a portable bundle"
grep -q '"root": "v3"' "$manifest" || fail "$manifest does not name sysroot v3: $(grep -A3 '"libc"' "$manifest")"
grep -q '"loader": "lib/ld-linux-x86-64.so.2"' "$manifest" || fail "$manifest names no bundled loader"

# A moved copy, of the files themselves: the runfiles tree holds symlinks
# to the bundle in bazel-out.
moved=$TEST_TMPDIR/moved/jdk
mkdir -p "${moved%/*}"
cp -RL "$jdk" "$moved"
moved=$(cd "$moved" && pwd -P)
java=$moved/bin/java

version=$("$java" -version 2>&1) || fail "the moved bundle's java does not start: $version"
grep -q 'version "' <<<"$version" || fail "unexpected java -version output: $version"
home=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p')
[ "$home" = "$moved" ] || fail "java.home is '$home', not the moved copy $moved"

mapped=$("$java" "$src") || fail "java could not run $src: $mapped"
for want in lib/ld-linux-x86-64.so.2 lib/libc.so.6 lib/libstdc++.so.6 lib/server/libjvm.so lib/libjava.so; do
  grep -qx "$moved/$want" <<<"$mapped" || fail "the JVM did not map the copy's $want; it mapped:"$'\n'"$mapped"
done
outside=$(grep -v "^$moved/" <<<"$mapped" || true)
[ -z "$outside" ] || fail "the JVM mapped shared objects from outside its bundle:"$'\n'"$outside"

help=$("$java" -jar "$jar" --help 2>&1) || fail "the renderer does not start: $help"
grep -q -- '--input' <<<"$help" || fail "unexpected renderer --help output: $help"
echo "java on glibc 2.43 from its bundle, $(wc -l <<<"$mapped") shared objects, all the copy's; renderer starts: ok"
