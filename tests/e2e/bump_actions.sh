#!/usr/bin/env bash
# A sysroot bump is a one-attribute change. Proven with Bazel's execution
# log: build against v1, change the attribute to v3, build again and list
# the spawns that ran.
#
#   - app, compiled against its sysroot (the default): the bump re-runs its
#     compile and link (now against v3's headers and libraries), its bundle,
#     patch and glibc check, and nothing else;
#   - app_host with compile_against_sysroot = False: only its bundle, patch
#     and glibc check re-run, never a compile or a link;
#   - canary, already on v3: nothing of it re-runs, and no sysroot is built
#     (v3's run-time and dev sysroots were built for it before the bump).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/workspace.sh" bump bump
cat >"$ws/app/BUILD.bazel" <<'BUILD'
load("@rules_cc//cc:cc_binary.bzl", "cc_binary")
load("@rules_portable//rules:defs.bzl", "portable_binary", "sysroot_binary")

cc_binary(
    name = "app",
    srcs = ["app.c"],
    copts = ["-std=gnu17"],
)

portable_binary(
    name = "portable",
    binary = ":app",
    sysroot = "@rules_portable//sysroots:v1",
)

sysroot_binary(
    name = "app_installed",
    binary = ":app",
    sysroot = "@rules_portable//sysroots:v1",
)

cc_binary(
    name = "app_host",
    srcs = ["app.c"],
    copts = ["-std=gnu17"],
)

portable_binary(
    name = "portable_host",
    binary = ":app_host",
    compile_against_sysroot = False,
    sysroot = "@rules_portable//sysroots:v1",
)

sysroot_binary(
    name = "installed_host",
    binary = ":app_host",
    compile_against_sysroot = False,
    sysroot = "@rules_portable//sysroots:v1",
)

cc_binary(
    name = "canary",
    srcs = ["app.c"],
    copts = ["-std=gnu17"],
)

portable_binary(
    name = "canary_v3",
    binary = ":canary",
    sysroot = "@rules_portable//sysroots:v3",
)
BUILD
cd "$ws"
bazel() { "$top/tools/bazel" "$@"; }
targets=(//app:portable //app:app_installed //app:portable_host //app:installed_host //app:canary_v3)
bazel build "${targets[@]}"
# What the bump itself runs is counted with the disk cache off (an earlier
# run of this test would have left the v3 compile there). Bazel keeps no
# local record of a C++ compile the disk cache served (it discovers its
# headers when it runs), so one build without the cache comes first, and
# the bump is measured against it.
bazel build --disk_cache= "${targets[@]}"
sed -i 's|sysroots:v1"|sysroots:v3"|' app/BUILD.bazel
log=$ws/exec.json
bazel build --disk_cache= --execution_log_json_file="$log" "${targets[@]}"
# Count the mnemonics of the spawns that really ran (a cache hit ran nothing).
ran=$(python3 "$top/tests/e2e/lib/spawns.py" "$log" | awk '$2 == "ran" { print $1 }' | sort | uniq -c)
echo "spawns after the bump:"
echo "$ran"
fail=0
want() { # MNEMONIC COUNT
  local c
  c=$(awk -v m="$1" '$2 == m { print $1 }' <<<"$ran")
  [ "${c:-0}" = "$2" ] || { echo "FAIL: the bump ran ${c:-0} $1 actions, want $2" >&2; fail=1; }
}
want CppCompile 1 # app.c, against v3
want CppLink 1    # app, against v3
want PortableBundle 2
want PortablePatch 2
want PortableGlibcCheck 2
others=$(grep -vw 'CppCompile\|CppLink\|PortableBundle\|PortablePatch\|PortableGlibcCheck' <<<"$ran" || true)
[ -z "$others" ] || { echo "FAIL: the bump ran more than the compile, link, bundle, patch and check actions: $others" >&2; fail=1; }
tar -tf bazel-bin/app/portable.tar >/dev/null
for b in app_installed installed_host; do
  grep -q '/usr/sysroot/v3/' <(strings "bazel-bin/app/$b") || { echo "FAIL: $b does not point at /usr/sysroot/v3" >&2; fail=1; }
done
[ $fail = 0 ] && echo "bump re-ran the app's compile and link, and the bundle, patch and glibc-check actions, only: ok"
exit $fail
