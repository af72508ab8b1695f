#!/bin/sh
# gcc for Go tests under Bazel (package testcc): the gcc bundled from pinned
# packages (PORTABLE_TEST_GCC) against sysroot v1's dev flavour
# (PORTABLE_TEST_SYSROOT), with the flags of a portable_cc_toolchain, so the
# fixtures need no compiler, headers or libc on the machine the test runs on.
g=${PORTABLE_TEST_GCC:?"PORTABLE_TEST_GCC is not set"}
s=${PORTABLE_TEST_SYSROOT:?"PORTABLE_TEST_SYSROOT is not set"}
t=x86_64-linux-gnu
exec "$g/bin/gcc" -B"$g/bin/" -no-canonical-prefixes --sysroot="$s" \
  -nostdinc -isystem "$g/lib/gcc/$t/16/include" -isystem "$s/usr/include/$t" -isystem "$s/usr/include" \
  -B"$s/usr/lib/gcc/$t/12/" -B"$s/usr/lib/$t/" -L"$s/usr/lib/gcc/$t/12" -L"$s/usr/lib/$t" -L"$s/lib/$t" \
  "$@"
