#!/usr/bin/env bash
# What the build itself produces travels with the program:
#   - a cc_library linked dynamically (cc_test links that way by default,
#     cc_binary with linkstatic = False) is found through the binary's own
#     $ORIGIN RUNPATH into bazel-out, never on the host, and bundled beside
#     the sysroot's glibc;
#   - a plugin the program dlopen()s by name, given as extra_libs, goes to
#     lib/ where that dlopen finds it;
#   - data files go to share/<short path>, where the program finds them
#     from /proc/self/exe.
# The sysroot_test of the cc_test passes on glibc 2.43, the
# portable_binary's tar runs on this host from a temp directory, and a
# change to the shared library alone re-runs the bundle.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/workspace.sh" contents
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
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "greet.h"
int main(int argc, char **argv) {
  const char *want = getenv("WANT_GLIBC");
  printf("glibc %s\n", greet());
  if (argc > 1) {
    /* The plugin, by name, as a program with plugins does. */
    void *h = dlopen("libplugin.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    printf("%s\n", ((const char *(*)(void))dlsym(h, "plugin_name"))());
    /* The data file, next to the real program: libexec/../share/app/. */
    char exe[PATH_MAX], path[PATH_MAX + 64], line[128] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) return 1;
    exe[n] = 0;
    snprintf(path, sizeof path, "%s/../share/app/greeting.txt", dirname(exe));
    FILE *f = fopen(path, "r");
    if (!f || !fgets(line, sizeof line, f)) { printf("no %s\n", path); return 1; }
    fputs(line, stdout);
  }
  return want && strcmp(want, greet()) != 0;
}
EOF2
cat >app/plugin.c <<'EOF2'
const char *plugin_name(void) { return "plugin loaded"; }
EOF2
echo "greeting from share/" >app/greeting.txt
cat >app/BUILD.bazel <<'EOF2'
load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")
load("@rules_portable//rules:defs.bzl", "portable_binary", "sysroot_binary", "sysroot_test")

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
    linkopts = ["-ldl"],
    linkstatic = False,
    deps = [":greet"],
)

cc_binary(
    name = "libplugin.so",
    srcs = ["plugin.c"],
    linkshared = True,
)

# For hosts with /usr/sysroot/v3 installed; the shared library stays
# reachable through the binary's $ORIGIN entries.
sysroot_binary(
    name = "main_installed",
    binary = ":main",
    sysroot = "@rules_portable//sysroots:v3",
)

portable_binary(
    name = "portable",
    binary = ":main",
    data = ["greeting.txt"],
    extra_libs = [":libplugin.so"],
    sysroot = "@rules_portable//sysroots:v3",
)
EOF2
fail() { echo "FAIL: $*"; exit 1; }
"$top/tools/bazel" test //app:main_test_v3 >/dev/null 2>&1 || { cat bazel-testlogs/app/main_test_v3/test.log; fail "sysroot_test of a cc_test with a shared cc_library failed"; }
grep -qx 'glibc 2.43' bazel-testlogs/app/main_test_v3/test.log || fail "the test did not run on glibc 2.43"
# Built for v3's platform (a configuration of its own), Bazel names the
# shared library after that configuration: libST-<hash>_app_Slibgreet.so.
# The configuration the programs were built in, for v3's platform (the
# launcher has one of its own, glibc 2.36's platform: it holds no app/).
cfgs=$(ls -d bazel-out/k8-fastbuild-ST-*/bin/app 2>/dev/null | sed 's|/app$||')
[ "$(wc -l <<<"$cfgs")" = 1 ] || fail "want one configuration for v3's platform, have: $(echo $cfgs)"
solib=$(cd bazel-bin/app/main_test_v3.bundle/lib && ls) || fail "the test's bundle has no lib/"
solib=$(grep -x 'lib\(ST-[0-9a-f]*_\)\{0,1\}app_Slibgreet\.so' <<<"$solib") || fail "the test's bundle lacks the build's libapp_Slibgreet.so: $(echo $solib)"
"$top/tools/bazel" build //app:portable >/dev/null 2>&1 || fail "portable_binary of a binary with a shared cc_library failed"
listing=$(tar -tf bazel-bin/app/portable.tar)
for f in "main/lib/$solib" main/lib/libplugin.so main/share/app/greeting.txt; do
  grep -qx "$f" <<<"$listing" || fail "the bundle lacks $f; it has: $(echo $listing)"
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"; (cd "$ws" && "$top/tools/bazel" clean --expunge >/dev/null 2>&1); rm -rf "$ws"' EXIT
tar -C "$dir" -xf bazel-bin/app/portable.tar
out=$(env -i "$dir/main/bin/main" all)
want=$(printf 'glibc 2.43\nplugin loaded\ngreeting from share/')
[ "$out" = "$want" ] || fail "the bundle printed: $out"
# sysroot_binary keeps the $ORIGIN entries that lead to the shared
# library: in a root with only /usr/sysroot/v3 and bazel-bin's layout
# (app/main_installed, _solib_*/), the program runs on glibc 2.43 and finds
# libapp_Slibgreet.so.
"$top/tools/bazel" build //app:main_installed >/dev/null 2>&1 || fail "sysroot_binary of a binary with a shared cc_library failed"
v3tar=$("$top/tools/bazel" cquery --output=files @rules_portable//sysroots:v3 2>/dev/null | grep '\.tar$')
root=$dir/root
mkdir -p "$root/w/app"
tar -C "$root" -xf "$v3tar"
cp bazel-bin/app/main_installed "$root/w/app/"
cp -rL "$cfgs"/_solib_* "$root/w/"
# ld.so finds $ORIGIN through /proc/self/exe: the root gets a /proc of its
# own, in a private mount namespace.
mkdir -p "$root/proc"
out=$(unshare -m --propagation private sh -c 'mount -t proc proc "$1/proc" && exec chroot "$1" /w/app/main_installed' - "$root" 2>&1) ||
  fail "main_installed in a root with only /usr/sysroot/v3: $out"
[ "$out" = "glibc 2.43" ] || fail "main_installed printed: $out"
# A change to the library alone (the program's own bytes stay the same)
# re-runs the bundle: the library is one of its inputs.
sed -i 's|return gnu_get_libc_version();|return gnu_get_libc_version() + 1;|' app/greet.c
"$top/tools/bazel" build //app:portable >/dev/null 2>&1 || fail "rebuild after changing greet.c failed"
got=$(tar -xOf bazel-bin/app/portable.tar "main/lib/$solib" | sha256sum | cut -d' ' -f1)
want=$(sha256sum <"$cfgs/app/libgreet.so" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "after greet.c changed, the bundle still has the old $solib"
echo "the build's shared libraries, plugin and data: bundled for sysroot_test and portable_binary, run on glibc 2.43, and rebundled when the library changes; sysroot_binary keeps the library reachable: ok"
