#!/usr/bin/env bash
# A sysroot of another architecture, end to end: Bazel builds the arm64
# sysroot //tests/arm64:v2_arm64 from Debian's arm64 packages on this x86_64
# machine, and sysroot_binary points a prebuilt arm64 program at the place
# that sysroot installs (/usr/sysroot/v2, arm64 layout). Installed into an
# otherwise empty root (the sysroot's tar unpacked there), the program runs
# under qemu-aarch64 with the sysroot's loader and libc, glibc 2.41.
#
# The same program bundled by portable_binary (//tests/arm64:hello_portable)
# then runs with nothing installed. The launcher execs the real program, so
# the kernel must run aarch64 files: lib/with_qemu_binfmt.sh gives it a
# private binfmt_misc entry for qemu-aarch64.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v qemu-aarch64 >/dev/null || { echo "FAIL: no qemu-aarch64 (Debian package qemu-user)"; exit 1; }
cd "$top"
tools/bazel build //tests/arm64:all >/dev/null 2>&1 || { tools/bazel build //tests/arm64:all; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
tar -C "$root" -xf bazel-bin/tests/arm64/v2_arm64.tar
fail() { echo "FAIL: $*"; exit 1; }
loader=$root/usr/sysroot/v2/lib/ld-linux-aarch64.so.1
# e_machine (offset 18) of an aarch64 ELF is 183.
m=$(od -An -tu2 -j18 -N2 "$(readlink -f "$loader")" | tr -d ' ')
[ "$m" = 183 ] || fail "the sysroot's loader has e_machine $m, not 183 (aarch64)"
v=$(qemu-aarch64 -L "$root" "$loader" --version | sed -n 1p)
grep -q 'version 2.41' <<<"$v" || fail "the sysroot's loader says: $v"
out=$(qemu-aarch64 -L "$root" -E LD_DEBUG=libs bazel-bin/tests/arm64/hello_v2 arm64 2>"$root/ld.log")
[ "$out" = "hello from arm64" ] || fail "hello_v2 printed: $out"
grep -q 'calling init: /usr/sysroot/v2/lib/aarch64-linux-gnu/libc.so.6' "$root/ld.log" ||
  fail "libc did not come from /usr/sysroot/v2: $(grep 'calling init' "$root/ld.log")"
# Without the sysroot installed, the program has no loader.
if qemu-aarch64 -L "$root/usr/sysroot/v2/etc" bazel-bin/tests/arm64/hello_v2 >/dev/null 2>&1; then
  fail "hello_v2 ran without the sysroot installed"
fi
echo "arm64: $v; hello_v2 ran under qemu-aarch64 with libc from /usr/sysroot/v2: ok"

# The bundle, with the helper's aarch64 launcher, runs with nothing
# installed: from a moved writable copy (the launcher fixes the program up,
# then execs it) and from a read-only one (it loads the program itself).
b=$root/bundle
mkdir -p "$b"
tar -C "$b" -xf bazel-bin/tests/arm64/hello_portable.tar
m=$(od -An -tu2 -j18 -N2 "$b/hello/bin/hello-aarch64" | tr -d ' ')
[ "$m" = 183 ] || fail "the bundle's launcher has e_machine $m, not 183 (aarch64)"
cp -a "$b/hello" "$b/moved"
mkdir "$b/ro"
got=$("$top/tests/e2e/lib/with_qemu_binfmt.sh" aarch64 bash -c '
  b=$1
  mount --bind "$b/hello" "$b/ro" && mount -o remount,bind,ro "$b/ro" || exit 1
  for d in moved ro; do
    out=$(LD_DEBUG=libs "$b/$d/bin/hello-aarch64" "$d" x 2>"$b/$d.log")
    echo "$d status=$? out=$out"
  done' - "$b") || fail "running the arm64 bundle failed: $got"
want="moved status=3 out=hello from moved
ro status=3 out=hello from ro"
[ "$got" = "$want" ] || fail "the arm64 bundle printed:
$got
want:
$want"
for d in moved ro; do
  # ld.so names it by $ORIGIN/../lib: B/libexec/../lib, or B/bin/../lib when
  # the launcher loaded the program. (qemu itself, an x86_64 program, logs too.)
  awk -v p="calling init: $b/$d/" 'index($0, p) && /\/lib\/libc\.so\.6$/ { f = 1 } END { exit !f }' "$b/$d.log" ||
    fail "$d: libc did not come from the bundle: $(grep 'calling init' "$b/$d.log" | tail -3)"
done
# The closed bundle's audit module must be taken, not ignored: glibc 2.35+
# on aarch64 ignores one that answers la_version 1.
for d in moved ro; do
  if grep -q 'audit interface' "$b/$d.log"; then fail "$d: ld.so ignored the audit module: $(grep 'audit interface' "$b/$d.log" | head -1)"; fi
done
grep -qF "$b/moved/lib/ld-linux-aarch64.so.1" "$b/moved/libexec/hello-aarch64" ||
  fail "the moved copy's program does not name its own loader: the launcher did not fix it up"
if grep -qF "$b/" "$b/hello/libexec/hello-aarch64"; then fail "the read-only copy was written to"; fi
echo "arm64 bundle: ran moved (fixed up, then exec'd) and read-only (loaded by the launcher), libc from the bundle, exit status kept: ok"

# The single file: the aarch64 runtime unpacks the bundle into a cache and
# execs its launcher.
cp bazel-bin/tests/arm64/hello_portable_run.run "$root/hello.run"
m=$(od -An -tu2 -j18 -N2 "$root/hello.run" | tr -d ' ')
[ "$m" = 183 ] || fail "hello.run's runtime has e_machine $m, not 183 (aarch64)"
got=$("$top/tests/e2e/lib/with_qemu_binfmt.sh" aarch64 bash -c '
  for pass in first warm; do
    out=$(XDG_CACHE_HOME="$1/cache" "$1/hello.run" run x)
    echo "$pass status=$? out=$out"
  done' - "$root") || fail "running the arm64 .run file failed: $got"
want="first status=3 out=hello from run
warm status=3 out=hello from run"
[ "$got" = "$want" ] || fail "the arm64 .run file printed:
$got
want:
$want"
echo "arm64 .run file: ran, first and warm, from its cache: ok"
