#!/usr/bin/env bash
# The portable Bazel: the sid root's Bazel 7 (client, install base, server
# jars, sandbox helpers) and its JDK, bundled by this project's own CLI
# (tools/offline/sidroot.sh portable-bazel), run on this bookworm host with
# no chroot and no mount namespace:
#
#   - a copy of the bundle moved to a temp dir answers `bazel version` (the
#     root's answer: Debian's bootstrap build carries no version stamp) and
#     `bazel info`; its server is the moved copy's java, in this process's
#     mount namespace and root, mapping the bundle's glibc 2.43 and not the
#     host's 2.36, with its jars from the moved copy;
#   - from that copy, with an output root of its own, examples/hello's
#     //app:hello compiles under the bundled linux-sandbox, //app:portable
#     builds (process-wrapper, the route's default, or disk cache hits), and
#     its bundle runs here, moved, on glibc 2.41;
#   - what differs from the root: the actions use this host's gcc 12, so
#     the plain //app:hello needs only the host's glibc and runs here.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH
sidroot=$top/tools/offline/sidroot.sh
fail() { echo "FAIL: $*" >&2; exit 1; }

bundle=$("$sidroot" portable-bazel) || fail "sidroot.sh portable-bazel could not make the portable Bazel"
tmp=$(mktemp -d)
moved=$tmp/moved
ws=$tmp/hello
cache=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}
# An output root of this test's own: no server of tools/bazel (either
# route) is touched; its repository cache is kept between runs.
export PORTABLE_BAZEL_OUTPUT_ROOT=$cache/bazel-host-e2e
pbazel() { (cd "$ws" && "$sidroot" run-portable-bazel --bundle "$moved" -- "$@"); }
output_base=""
cleanup() {
  # clean --expunge also stops the server.
  if [ -f "$ws/MODULE.bazel" ] && [ -x "$moved/bazel/bin/bazel" ]; then
    pbazel clean --expunge >/dev/null 2>&1 || true
  fi
  [ -z "$output_base" ] || rm -rf "$output_base"
  rm -rf "$tmp"
}
trap cleanup EXIT

cp -a "$bundle" "$moved"
cp -r "$top/examples/hello/." "$ws/"
rm -f "$ws"/bazel-*
sed -i "s|path = \"../..\"|path = \"$top\"|" "$ws/MODULE.bazel"

# bazel version: Debian's Bazel answers "Version information not available"
# with exit 2 in the root too; anything else means the server did not answer.
set +e
out=$(pbazel version 2>&1)
rc=$?
set -e
case "$rc:$out" in
0:*"Build label:"* | 2:*"Version information not available"*) ;;
*) fail "bazel version from the moved copy: exit $rc: $out" ;;
esac
echo "bazel version (moved copy, exit $rc): $(tail -n 1 <<<"$out")"
info=$(pbazel info release server_pid java-home install_base output_base 2>/dev/null) || fail "bazel info from the moved copy failed"
val() { sed -n "s/^$1: //p" <<<"$info"; }
pid=$(val server_pid)
output_base=$(val output_base)
case "$output_base" in "$PORTABLE_BAZEL_OUTPUT_ROOT"/?*) ;; *) fail "output_base $output_base is not under $PORTABLE_BAZEL_OUTPUT_ROOT" ;; esac
[ "$(val java-home)" = "$moved/jdk" ] || fail "java-home is $(val java-home), want $moved/jdk"
[ "$(val install_base)" = "$moved/bazel/share/bazel" ] || fail "install_base is $(val install_base), want $moved/bazel/share/bazel"
[ -d "/proc/$pid" ] || fail "no server process $pid"

# The server runs here: same mount namespace and root as this script, the
# moved copy's java and glibc, none of the host's libc, none of its jars.
[ "$(readlink "/proc/$pid/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ] ||
  fail "the server runs in another mount namespace"
[ "$(readlink "/proc/$pid/root")" = / ] || fail "the server runs chrooted to $(readlink "/proc/$pid/root")"
[ "$(readlink "/proc/$pid/exe")" = "$moved/jdk/libexec/java" ] ||
  fail "the server is $(readlink "/proc/$pid/exe"), not the moved copy's java"
libc=$(awk '$6 ~ /\/libc\.so\.6$/ {print $6}' "/proc/$pid/maps" | sort -u)
[ "$libc" = "$moved/jdk/lib/libc.so.6" ] || fail "the server maps libc from: $libc"
grep -q "$cache/sid-root" "/proc/$pid/maps" && fail "the server maps files of the sid root"
version=$(grep -a -o 'release version [0-9.]*[0-9]' "$libc" | head -n 1 | awk '{print $3}')
host=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
[ "$(printf '%s\n2.38\n' "$version" | sort -V | head -n 1)" = 2.38 ] ||
  fail "the bundled glibc is $version, want the root's (2.38 or newer)"
[ "$version" != "$host" ] || fail "the bundled glibc is the host's ($host)"
jars=$(find "/proc/$pid/fd" -type l -lname '*.jar' -printf '%l\n' | sort -u)
grep -q "^$moved/bazel/share/java/guava.jar\$" <<<"$jars" || fail "the server has not opened the moved copy's guava.jar: $jars"
grep -v "^$moved/" <<<"$jars" && fail "the server opened jars outside the moved copy"
echo "server $pid: $(readlink "/proc/$pid/exe"), glibc $version (host: $host), same mount namespace and root as the host"

# examples/hello, built by the moved copy: the plain binary without the disk
# cache, so that its compile and link run, sandboxed by the bundled
# linux-sandbox (the route's default is the bundled process-wrapper, as in
# the root).
out=$(pbazel build --disk_cache= --spawn_strategy=linux-sandbox //app:hello 2>&1) ||
  fail "bazel build --spawn_strategy=linux-sandbox //app:hello: $(tail -n 30 <<<"$out")"
grep -Eq 'processes: .*linux-sandbox' <<<"$out" ||
  fail "no action ran through the bundled linux-sandbox: $(tail -n 5 <<<"$out")"
echo "//app:hello: $(grep -o '[0-9]* processes: .*' <<<"$out")"
out=$(pbazel build //app:portable 2>&1) || fail "bazel build //app:portable: $(tail -n 30 <<<"$out")"
grep -Eq 'processes: .*(processwrapper-sandbox|disk cache hit)' <<<"$out" ||
  fail "bazel build //app:portable ran no action through the bundled process-wrapper: $(tail -n 5 <<<"$out")"
echo "//app:portable: $(grep -o 'Elapsed time: .*' <<<"$out"); $(grep -o '[0-9]* processes: .*' <<<"$out")"
bin=$(pbazel info bazel-bin 2>/dev/null)
mkdir "$tmp/run"
tar -C "$tmp/run" -xf "$bin/app/portable.tar"
mv "$tmp/run/hello" "$tmp/run/moved"
set +e
out=$("$tmp/run/moved/bin/hello" 7)
rc=$?
set -e
[ $rc = 7 ] || fail "the built bundle: exit status $rc, want 7: $out"
grep -q '^hello from rules_portable: glibc 2\.41$' <<<"$out" || fail "the built bundle is not running on its glibc 2.41: $out"
grep -q "^/proc/self/exe=$tmp/run/moved/libexec/hello\$" <<<"$out" || fail "the built bundle: /proc/self/exe: $out"
echo "//app:portable, built by the portable Bazel, runs moved: $(head -n 1 <<<"$out")"
# What differs from the root: this host's gcc and glibc built the plain
# binary, which therefore runs here (the root's needs GLIBC_2.38).
out=$("$bin/app/hello") || fail "the plain //app:hello, built with this host's gcc, does not run here: $out"
grep -q "^hello from rules_portable: glibc $host\$" <<<"$out" || fail "the plain //app:hello: $out"
echo "plain //app:hello (host gcc) runs on the host's glibc $host, as expected on this route"
echo "portable Bazel: ok"
