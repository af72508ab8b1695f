#!/usr/bin/env bash
# A sysroot bump is a one-attribute change that re-runs only the bundle,
# patch and glibc-check actions (portable_binary and sysroot_binary), never
# the compile or the link of the app. Proven with Bazel's
# execution log: build against v2, change the attribute to v3, build again
# and list the spawns that ran.
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
    sysroot = "@rules_portable//sysroots:v2",
)

sysroot_binary(
    name = "app_installed",
    binary = ":app",
    sysroot = "@rules_portable//sysroots:v2",
)
BUILD
cd "$ws"
bazel() { "$top/tools/bazel" "$@"; }
# Both sysroots are built up front: the bump itself must run no sysroot build.
bazel build //app:portable //app:app_installed @rules_portable//sysroots:v3
sed -i 's|sysroots:v2"|sysroots:v3"|' app/BUILD.bazel
log=$ws/exec.json
bazel build --execution_log_json_file="$log" //app:portable //app:app_installed
# The log is a stream of JSON objects, one per spawn; count the mnemonics of
# the spawns that really ran (a cache hit ran nothing).
ran=$(python3 -c '
import json, sys
text, dec, i = open(sys.argv[1]).read(), json.JSONDecoder(), 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    spawn, i = dec.raw_decode(text, i)
    if not spawn.get("cacheHit"):
        print(spawn.get("mnemonic", "?"))
' "$log" | sort | uniq -c)
echo "spawns after the bump:"
echo "$ran"
fail=0
for m in CppCompile CppLink GoCompilePkg GoLink PortableSysroot; do
  if grep -qw "$m" <<<"$ran"; then echo "FAIL: the bump re-ran $m" >&2; fail=1; fi
done
for m in PortableBundle PortablePatch PortableGlibcCheck; do
  c=$(awk -v m="$m" '$2 == m { print $1 }' <<<"$ran")
  [ "$c" = 1 ] || { echo "FAIL: the bump ran ${c:-0} $m actions, want 1" >&2; fail=1; }
done
others=$(grep -vw 'PortableBundle\|PortablePatch\|PortableGlibcCheck' <<<"$ran" || true)
[ -z "$others" ] || { echo "FAIL: the bump ran more than the bundle, patch and check actions: $others" >&2; fail=1; }
tar -tf bazel-bin/app/portable.tar >/dev/null
grep -q '/usr/sysroot/v3/' <(strings bazel-bin/app/app_installed) || { echo "FAIL: app_installed does not point at /usr/sysroot/v3" >&2; fail=1; }
[ $fail = 0 ] && echo "bump re-ran only the bundle, patch and glibc-check actions: ok"
exit $fail
