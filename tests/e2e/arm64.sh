#!/usr/bin/env bash
# A sysroot of another architecture, end to end: Bazel builds the arm64
# sysroot //tests/arm64:v2_arm64 from Debian's arm64 packages on this x86_64
# machine, and sysroot_binary points a prebuilt arm64 program at the place
# that sysroot installs (/usr/sysroot/v2, arm64 layout). Installed into an
# otherwise empty root (the sysroot's tar unpacked there), the program runs
# under qemu-aarch64 with the sysroot's loader and libc, glibc 2.41.
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
