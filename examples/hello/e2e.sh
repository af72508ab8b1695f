#!/usr/bin/env bash
# End-to-end check of examples/hello, as a user would: build the bundle,
# unpack it somewhere else, run it, and check what it says.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
../../tools/bazel build //app:hello //app:portable //app:portable_run //app:image
fail() { echo "FAIL: $*" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# The plain binary needs GLIBC_2.38 (C23 strtol): on this test's host,
# Debian 12 with glibc 2.36, it must fail, which is the point of the bundle.
host=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
[ "$(printf '%s\n2.38\n' "$host" | sort -V | sed -n 1p)" != 2.38 ] ||
  fail "this host has glibc $host; the test needs one older than 2.38 (Debian 12 has 2.36) to show the plain binary failing"
if out=$(./bazel-bin/app/hello 2>&1); then fail "plain binary ran on glibc $host: $out"; fi
grep -q "GLIBC_2.38' not found" <<<"$out" || fail "unexpected error from the plain binary: $out"
echo "plain binary fails on host glibc $host, as expected: $out"

tar -C "$dir" -xf bazel-bin/app/portable.tar
mv "$dir/hello" "$dir/moved"
set +e
out=$("$dir/moved/bin/hello" 7)
rc=$?
set -e
printf '%s\n' "$out"
[ $rc = 7 ] || fail "exit status $rc, want 7"
grep -q '^hello from rules_portable: glibc 2\.41$' <<<"$out" || fail "not running on the bundled glibc 2.41"
grep -q "^/proc/self/exe=$dir/moved/libexec/hello\$" <<<"$out" || fail "/proc/self/exe is not the real program"
grep -q "^argv\\[0\\]=$dir/moved/bin/hello\$" <<<"$out" || fail "argv[0] not preserved"
# A moved, read-only copy (the launcher maps the program itself, writes
# nothing), and an empty root with only the bundle and /proc (FROM scratch).
cp -a "$dir/moved" "$dir/copy"
mkdir "$dir/ro" "$dir/root"
out=$(unshare --mount --propagation private -- sh -c '
  mount --bind -o ro "$1" "$2" && exec "$2/bin/hello" 3' _ "$dir/copy" "$dir/ro") || [ $? = 3 ] ||
  fail "read-only copy failed: $out"
grep -q '^hello from rules_portable: glibc 2\.41$' <<<"$out" || fail "read-only copy: $out"
grep -q "^/proc/self/exe=$dir/ro/bin/hello\$" <<<"$out" || fail "read-only copy: /proc/self/exe is not the launcher: $out"
echo "read-only copy: ok"
cp -a "$dir/moved" "$dir/root/app"
mkdir "$dir/root/proc"
out=$(unshare --mount --propagation private -- sh -c '
  mount -t proc proc "$1/proc" && exec chroot "$1" /app/bin/hello' _ "$dir/root") || fail "empty root: $out"
grep -q '^hello from rules_portable: glibc 2\.41$' <<<"$out" || fail "empty root: $out"
grep -q '^/proc/self/exe=/app/libexec/hello$' <<<"$out" || fail "empty root: /proc/self/exe: $out"
echo "empty root (chroot, only the bundle and /proc): ok"
# bazel run: the bundle directory Bazel owns runs read-only (nothing rewritten).
set +e
out=$(../../tools/bazel run //app:portable -- 4 2>/dev/null)
rc=$?
set -e
[ $rc = 4 ] || fail "bazel run //app:portable: exit status $rc, want 4"
grep -q '^hello from rules_portable: glibc 2\.41$' <<<"$out" || fail "bazel run: $out"
echo "bazel run //app:portable: ok"

# The single file (format = "run"): moved, from a fresh cache and a warm
# one, as another user, and in an empty root with only /proc.
cp bazel-bin/app/portable_run.run "$dir/hello.run"
chmod 0755 "$dir" "$dir/hello.run"
for pass in first warm; do
  set +e
  out=$(XDG_CACHE_HOME="$dir/cache" "$dir/hello.run" 5)
  rc=$?
  set -e
  [ $rc = 5 ] || fail "hello.run ($pass run): exit status $rc, want 5: $out"
  grep -q '^hello from rules_portable: glibc 2\.41$' <<<"$out" || fail "hello.run ($pass run): $out"
  grep -q "^/proc/self/exe=$dir/cache/portable-run/[0-9a-f]\{64\}/libexec/hello\$" <<<"$out" ||
    fail "hello.run ($pass run): /proc/self/exe is not the real program: $out"
done
# As nobody, with a cache of its own under $dir (nothing left in /tmp).
mkdir "$dir/nobody-cache"
chown nobody "$dir/nobody-cache"
out=$(su -s /bin/sh nobody -c "HOME=/nonexistent XDG_CACHE_HOME=$dir/nobody-cache $dir/hello.run") || fail "hello.run as nobody: $out"
[ -n "$(ls "$dir/nobody-cache/portable-run")" ] || fail "hello.run as nobody did not use its cache"
grep -q '^hello from rules_portable: glibc 2\.41$' <<<"$out" || fail "hello.run as nobody: $out"
mkdir "$dir/root2" "$dir/root2/proc"
cp "$dir/hello.run" "$dir/root2/"
out=$(unshare --mount --propagation private -- sh -c '
  mount -t proc proc "$1/proc" && exec env -i "$2" "$1" /hello.run' _ "$dir/root2" "$(command -v chroot)") || fail "hello.run, empty root: $out"
grep -q '^hello from rules_portable: glibc 2\.41$' <<<"$out" || fail "hello.run, empty root: $out"
[ "$(ls -A "$dir/root2")" = "$(printf 'hello.run\nproc')" ] || fail "hello.run left files in the empty root: $(ls -A "$dir/root2")"
echo "hello.run (one file: moved, first and warm run, as nobody, empty root): ok"

# The OCI image: valid for skopeo and umoci, and its root runs the
# entrypoint with nothing else in it.
skopeo inspect oci:bazel-bin/app/image | grep -q '"Architecture": "amd64"' || fail "skopeo inspect of the image"
umoci unpack --image bazel-bin/app/image:latest "$dir/unpacked" >/dev/null || fail "umoci unpack of the image"
[ "$(ls -A "$dir/unpacked/rootfs")" = opt ] || fail "the image root holds more than opt: $(ls -A "$dir/unpacked/rootfs")"
mkdir "$dir/unpacked/rootfs/proc"
out=$(unshare --mount --propagation private -- sh -c '
  mount -t proc proc "$1/proc" && exec chroot "$1" /opt/hello/bin/hello' _ "$dir/unpacked/rootfs") || fail "image root: $out"
grep -q '^hello from rules_portable: glibc 2\.41$' <<<"$out" || fail "image root: $out"
echo "OCI image (skopeo, umoci, the entrypoint in its root): ok"
echo "examples/hello: ok"
