#!/usr/bin/env bash
# rules_portable consumed as users get it: from a registry, with no override.
#
# tools/release/release.sh turns HEAD into a release (source archive and
# prebuilt helpers, served from file:// URLs) and a local Bazel registry. A
# fresh workspace whose MODULE.bazel holds only
#   bazel_dep(name = "rules_portable", version = ...)
# then builds, runs and tests portable_binary, sysroot_binary and
# sysroot_test with --registry pointing at that registry first. It declares
# no Go: the release's prebuilt helper is used, and no Go SDK is fetched.
# (The other modules come from the offline overrides of tools/bazel, as for
# every workspace here; a real user gets them from the BCR.)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/workspace.sh" registry
fail() { echo "FAIL: $*" >&2; exit 1; }
version=1.0.0-e2e
rel=$ws/.release
(cd "$top" && git diff --quiet HEAD -- . ':!tests/e2e/workspaces') ||
  echo "note: the release is made from HEAD; uncommitted changes are not in it"
"$top/tools/release/release.sh" --url-prefix "file://$rel/files" --registry "$rel/registry" "$version" "$rel/files"

# The release is deterministic: a second run gives the same bytes.
"$top/tools/release/release.sh" --url-prefix "file://$rel/files" "$version" "$rel/again" >/dev/null 2>&1
cmp "$rel/files/SHA256SUMS" "$rel/again/SHA256SUMS" || fail "two releases of one commit differ"
# A published version never changes: adding it again is refused.
if "$top/tools/release/release.sh" --url-prefix "file://$rel/files" --registry "$rel/registry" "$version" "$rel/again" 2>"$rel/err"; then
  fail "release.sh added $version to the registry twice"
fi
grep -q "a published version never changes" "$rel/err" || fail "unexpected error: $(cat "$rel/err")"

mkdir app
cat >MODULE.bazel <<EOF
module(name = "registry_user")

bazel_dep(name = "rules_portable", version = "$version")
EOF
cp "$top/examples/hello/app/hello.c" app/
cat >app/glibc_test.c <<'EOF'
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  const char *want = getenv("WANT_GLIBC"), *got = gnu_get_libc_version();
  printf("glibc %s, want %s\n", got, want ? want : "(unset)");
  return want && strcmp(want, got) == 0 ? 0 : 1;
}
EOF
cat >app/BUILD.bazel <<'EOF'
load("@rules_portable//rules:defs.bzl", "portable_binary", "sysroot_binary", "sysroot_test")

cc_binary(
    name = "hello",
    srcs = ["hello.c"],
)

portable_binary(
    name = "portable",
    binary = ":hello",
    sysroot = "@rules_portable//sysroots:v2",
)

sysroot_binary(
    name = "hello_v2",
    binary = ":hello",
    sysroot = "@rules_portable//sysroots:v2",
)

cc_test(
    name = "glibc_test",
    srcs = ["glibc_test.c"],
)

sysroot_test(
    name = "glibc_test_v3",
    env = {"WANT_GLIBC": "2.43"},
    sysroot = "@rules_portable//sysroots:v3",
    test = ":glibc_test",
)
EOF
bazel() { "$top/tools/bazel" "$@"; }
reg=(--registry="file://$rel/registry" --registry=https://bcr.bazel.build)

bazel build "${reg[@]}" //app:portable //app:hello_v2
out=$(mktemp -d)
trap 'rm -rf "$out"; (cd "$ws" && "$top/tools/bazel" clean --expunge >/dev/null 2>&1); rm -rf "$ws"' EXIT
tar -C "$out" -xf bazel-bin/app/portable.tar
mv "$out/hello" "$out/moved"
got=$("$out/moved/bin/hello") || fail "the bundle did not run: $got"
grep -q '^hello from rules_portable: glibc 2\.41$' <<<"$got" || fail "bundle: $got"
grep -q "^/proc/self/exe=$out/moved/libexec/hello\$" <<<"$got" || fail "bundle: /proc/self/exe: $got"
echo "portable_binary from the registry's rules_portable: runs, moved, on glibc 2.41"

interp=$(readelf -lW bazel-bin/app/hello_v2 | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ "$interp" = /usr/sysroot/v2/lib64/ld-linux-x86-64.so.2 ] || fail "sysroot_binary's interpreter is $interp"
echo "sysroot_binary: interpreter $interp"

bazel test "${reg[@]}" //app:glibc_test_v3 || fail "sysroot_test failed"

# Which helper ran: the release's prebuilt one, and no Go SDK was fetched.
ob=$(bazel info "${reg[@]}" output_base)
ls -d "$ob"/external/*rules_portable_helper_linux_amd64 >/dev/null 2>&1 ||
  fail "the prebuilt helper's repository was not fetched: $(ls "$ob/external")"
if ls -d "$ob"/external/*go_sdk* "$ob"/external/*go_default_sdk* 2>/dev/null | grep -q .; then
  fail "a Go SDK was fetched: $(ls -d "$ob"/external/*go_sdk* "$ob"/external/*go_default_sdk* 2>/dev/null)"
fi
version_out=$("$ob"/external/*rules_portable_helper_linux_amd64/portable version)
grep -q "^portable v$version " <<<"$version_out" || fail "helper version: $version_out"
echo "helper: $version_out (prebuilt; no Go SDK fetched)"
echo "PASS: rules_portable $version from a registry"
