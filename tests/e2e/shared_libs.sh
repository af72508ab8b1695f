#!/usr/bin/env bash
# Shared libraries the build itself produces travel with the program: a
# cc_library linked dynamically (cc_test links that way by default,
# cc_binary with linkstatic = False) is found through the binary's own
# $ORIGIN RUNPATH into bazel-out, never on the host, and bundled beside the
# sysroot's glibc. The sysroot_test of the cc_test passes on glibc 2.43,
# and the portable_binary's tar runs on this host from a temp directory.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/workspace.sh" sharedlibs
mkdir -p app
sed "s|path = \"../..\"|path = \"$top\"|" "$top/examples/hello/MODULE.bazel" >MODULE.bazel
cat >app/greet.h <<'EOF2'
const char *greet(void);
EOF2
cat >app/greet.c <<'EOF2'
#include <gnu/libc-version.h>
const char *greet(void) { return gnu_get_libc_version(); }
EOF2
cat >app/main.c <<'EOF2'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "greet.h"
int main(void) {
  const char *want = getenv("WANT_GLIBC");
  printf("glibc %s\n", greet());
  return want && strcmp(want, greet()) != 0;
}
EOF2
cat >app/BUILD.bazel <<'EOF2'
load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")
load("@rules_portable//rules:defs.bzl", "portable_binary", "sysroot_test")

cc_library(
    name = "greet",
    srcs = ["greet.c"],
    hdrs = ["greet.h"],
)

cc_test(
    name = "main_test",
    srcs = ["main.c"],
    deps = [":greet"],
)

sysroot_test(
    name = "main_test_v3",
    env = {"WANT_GLIBC": "2.43"},
    sysroot = "@rules_portable//sysroots:v3",
    test = ":main_test",
)

cc_binary(
    name = "main",
    srcs = ["main.c"],
    linkstatic = False,
    deps = [":greet"],
)

portable_binary(
    name = "portable",
    binary = ":main",
    sysroot = "@rules_portable//sysroots:v3",
)
EOF2
fail() { echo "FAIL: $*"; exit 1; }
"$top/tools/bazel" test //app:main_test_v3 >/dev/null 2>&1 || { cat bazel-testlogs/app/main_test_v3/test.log; fail "sysroot_test of a cc_test with a shared cc_library failed"; }
grep -qx 'glibc 2.43' bazel-testlogs/app/main_test_v3/test.log || fail "the test did not run on glibc 2.43"
[ -f bazel-bin/app/main_test_v3.bundle/lib/libapp_Slibgreet.so ] || fail "the test's bundle lacks the build's libapp_Slibgreet.so"
"$top/tools/bazel" build //app:portable >/dev/null 2>&1 || fail "portable_binary of a binary with a shared cc_library failed"
tar -tf bazel-bin/app/portable.tar | grep -qx 'main/lib/libapp_Slibgreet.so' || fail "the bundle lacks main/lib/libapp_Slibgreet.so"
dir=$(mktemp -d)
trap 'rm -rf "$dir"; (cd "$ws" && "$top/tools/bazel" clean --expunge >/dev/null 2>&1); rm -rf "$ws"' EXIT
tar -C "$dir" -xf bazel-bin/app/portable.tar
out=$(env -i "$dir/main/bin/main")
[ "$out" = "glibc 2.43" ] || fail "the bundle printed: $out"
echo "shared libraries of the build: bundled for sysroot_test and portable_binary, run on glibc 2.43: ok"
