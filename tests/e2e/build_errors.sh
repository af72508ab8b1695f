#!/usr/bin/env bash
# The rules refuse what would not run, at build time, with messages that
# name the file, the cause and the sysroot:
#
#   - portable_binary of a program that needs a library the sysroot lacks
#     (a copy of this machine's curl: libcurl.so.4 is not in sysroot v2);
#   - portable_binary and sysroot_binary of a program that needs a newer
#     glibc than the sysroot has (built in the sid root against glibc 2.43
#     with C23's strtol, GLIBC_2.38, with compile_against_sysroot = False,
#     and pointed at sysroot v1, glibc 2.36).
#
# Each must fail the build with its message and leave no output behind.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/workspace.sh" builderr
mkdir -p app
sed "s|path = \"../..\"|path = \"$top\"|" "$top/examples/hello/MODULE.bazel" >MODULE.bazel
cp /usr/bin/curl app/curl
cat >app/new.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) { printf("%ld\n", strtol(argc > 1 ? argv[1] : "0b101", NULL, 0)); return 0; }
EOF
cat >app/BUILD.bazel <<'EOF'
load("@rules_cc//cc:cc_binary.bzl", "cc_binary")
load("@rules_portable//rules:defs.bzl", "portable_binary", "sysroot_binary")

portable_binary(
    name = "curl_v2",
    binary = "curl",
    sysroot = "@rules_portable//sysroots:v2",
)

cc_binary(
    name = "new",
    srcs = ["new.c"],
    copts = ["-std=c2x"],
)

# The gate: `new` as built for the host platform (the sid root, glibc
# 2.43) is only patched and bundled, not compiled against v1.
portable_binary(
    name = "new_v1",
    binary = ":new",
    compile_against_sysroot = False,
    sysroot = "@rules_portable//sysroots:v1",
)

sysroot_binary(
    name = "new_v1_installed",
    binary = ":new",
    compile_against_sysroot = False,
    sysroot = "@rules_portable//sysroots:v1",
)

# The same program is fine against v3 (glibc 2.43).
portable_binary(
    name = "new_v3",
    binary = ":new",
    sysroot = "@rules_portable//sysroots:v3",
)
EOF
fails=0 n=0
case_() { # NAME TARGET OUTPUT MESSAGE...
  local name=$1 target=$2 output=$3 out m
  shift 3
  n=$((n + 1))
  if out=$("$top/tools/bazel" build "$target" 2>&1); then
    echo "FAIL: $name: the build passed"
    fails=$((fails + 1))
    return
  fi
  for m in "$@"; do
    if ! grep -qF -- "$m" <<<"$out"; then
      echo "FAIL: $name: no '$m' in:"
      grep -m5 -E 'ERROR|rror' <<<"$out" || true
      fails=$((fails + 1))
      return
    fi
  done
  if [ -e "bazel-bin/app/$output" ]; then
    echo "FAIL: $name: the failed build left bazel-bin/app/$output"
    fails=$((fails + 1))
    return
  fi
  echo "ok: $name: $*"
}
case_ "a library the sysroot lacks" //app:curl_v2 curl_v2.tar \
  "libcurl.so.4 (needed by" "not found in sysroot v2"
case_ "a newer glibc than the sysroot's, bundled" //app:new_v1 new_v1.tar \
  "needs GLIBC_2.38 but sysroot v1 has glibc 2.36"
case_ "a newer glibc than the sysroot's, patched for an installed sysroot" //app:new_v1_installed new_v1_installed \
  "needs GLIBC_2.38 but sysroot v1 has glibc 2.36"
# The control: the program itself is fine, against a sysroot new enough.
n=$((n + 1))
# (The listing is read whole before grep: with pipefail, `tar | grep -q` fails
# whenever grep exits before tar has written its last line.)
if ! out=$("$top/tools/bazel" build //app:new_v3 2>&1); then
  echo "FAIL: the same program against v3 (glibc 2.43) does not build:"
  grep -m5 -E 'ERROR|rror' <<<"$out" || true
  fails=$((fails + 1))
elif ! listing=$(tar -tf bazel-bin/app/new_v3.tar) || ! grep -qx 'new/bin/new' <<<"$listing"; then
  echo "FAIL: bazel-bin/app/new_v3.tar lacks new/bin/new; it has:"
  echo "$listing"
  fails=$((fails + 1))
else
  echo "ok: the same program against v3 (glibc 2.43) builds"
fi
echo "build errors: $((n - fails)) passed, $fails failed"
[ $fails = 0 ]
