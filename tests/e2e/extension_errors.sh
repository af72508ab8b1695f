#!/usr/bin/env bash
# The sysroot.debian extension, its repository rule and the loading-time
# macro sysroot_linkopts fail with messages that name the problem and the
# fix. They run while Bazel loads packages or resolves and fetches
# repositories, where analysis tests can't reach, so each case is a small
# workspace that must fail with its message.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/workspace.sh" exterr
python3 - "$top/sysroots/v2.lock.json" <<'PY'
import json, sys
lock = json.load(open(sys.argv[1]))
json.dump(dict(lock, schema_version=2), open("future.lock.json", "w"))
json.dump(dict(lock, packages=[]), open("nolibc.lock.json", "w"))
json.dump(dict(lock, indexes=[]), open("nodate.lock.json", "w"))
json.dump(dict(lock, indexes=[dict(lock["indexes"][0], date="yesterday")]), open("baddate.lock.json", "w"))
PY
# A mirror URL with {snapshot} names a state of a snapshot archive: the
# lock's newest index date plus six hours. The host below is never reached.
snap='http://snapshot.example.invalid/archive/debian/{snapshot}'
stamp=$(python3 - "$top/sysroots/v2.lock.json" <<'PY'
import datetime, json, sys
dates = [datetime.datetime.strptime(i["date"], "%a, %d %b %Y %H:%M:%S %Z") for i in json.load(open(sys.argv[1]))["indexes"]]
print((max(dates) + datetime.timedelta(hours=6)).strftime("%Y%m%dT%H%M%SZ"))
PY
)
cp "$top/sysroots/v1.lock.json" "$top/sysroots/v2.lock.json" .
: >BUILD.bazel
echo 'exports_files(glob(["*.json"]))' >BUILD.bazel
fails=0
flags=()
# write_module REPO LINES...: the workspace's MODULE.bazel, depending on
# rules_portable at $top, with LINES (sysroot.debian tags and the like)
# and use_repo of REPO.
write_module() {
  local repo=$1
  shift
  {
    printf 'module(name = "exterr")\n'
    printf 'bazel_dep(name = "rules_portable", version = "0.0.0")\n'
    printf 'local_path_override(module_name = "rules_portable", path = "%s")\n' "$top"
    printf 'sysroot = use_extension("@rules_portable//rules:extensions.bzl", "sysroot")\n'
    printf '%s\n' "$@"
    printf 'use_repo(sysroot, "%s")\n' "$repo"
  } >MODULE.bazel
}
case_() { # NAME REPO MESSAGE TAGS...; bazel flags in the array flags
  local name=$1 repo=$2 msg=$3
  shift 3
  write_module "$repo" "$@"
  local out
  if out=$("$top/tools/bazel" build "${flags[@]}" "${target:-@$repo//:all}" 2>&1); then
    echo "FAIL: $name: the build passed"
    fails=$((fails + 1))
  elif grep -qF "$msg" <<<"$out"; then
    echo "ok: $name: $msg"
  else
    echo "FAIL: $name: no '$msg' in:"
    grep -m5 -E 'ERROR|Error' <<<"$out" || true
    fails=$((fails + 1))
  fi
}
case_ "same repository, two locks" dup "is declared twice, with lock" \
  'sysroot.debian(name = "dup", lock = "//:v1.lock.json")' \
  'sysroot.debian(name = "dup", lock = "//:v2.lock.json")'
case_ "lock from a newer portable" future "schema_version 2 is not supported (want 1); regenerate it with \`portable sysroot lock\`" \
  'sysroot.debian(name = "future", lock = "//:future.lock.json")'
case_ "lock without glibc" nolibc "lockfile has no libc6 package: a sysroot needs glibc" \
  'sysroot.debian(name = "nolibc", lock = "//:nolibc.lock.json")'
flags=("--repo_env=PORTABLE_DEBIAN_MIRROR=$snap")
case_ "snapshot mirror, lock without an index date" nodate "lockfile records no index date to pick a snapshot from; use a mirror URL without {snapshot}" \
  'sysroot.debian(name = "nodate", lock = "//:nodate.lock.json")'
case_ "snapshot mirror, lock with a bad index date" baddate "lockfile index date \"yesterday\" is not an RFC 1123 date" \
  'sysroot.debian(name = "baddate", lock = "//:baddate.lock.json")'
# No repository cache (it would serve the .debs by sha256 without a
# download): the download fails, and its message shows the URL.
flags=("--repo_env=PORTABLE_DEBIAN_MIRROR=$snap" --repository_cache=)
case_ "snapshot mirror: the state at the lock's index date" snap "${snap%\{snapshot\}}$stamp/pool/main/" \
  'sysroot.debian(name = "snap", lock = "//:v2.lock.json")'
flags=()
# sysroot_linkopts runs while the BUILD file loads.
mkdir -p app
echo 'int main(void) { return 0; }' >app/app.c
cat >app/BUILD.bazel <<'EOF2'
load("@rules_portable//rules:defs.bzl", "sysroot_linkopts")

cc_binary(
    name = "app",
    srcs = ["app.c"],
    linkopts = sysroot_linkopts("2"),
)
EOF2
target=//app case_ "sysroot_linkopts with a bad version" v2 "sysroot_linkopts: version \"2\" is not a version label like \"v2\"" \
  'sysroot.debian(name = "v2", lock = "//:v2.lock.json")'
# With no mirror configured, the machine's apt mirror is used: Bazel runs in
# tools/bazel's root, so that is the root's apt configuration. Without a
# repository cache the download is attempted, and its URL shows the mirror
# (the root's may not be reachable from here, which is fine).
root=$("$top/tools/offline/sidroot.sh" ensure)
apt=$( (cat "$root/etc/apt/sources.list.d/debian.sources" "$root/etc/apt/sources.list" 2>/dev/null || true) |
  awk '$1 == "URIs:" {print $2; exit} $1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}')
[ -n "$apt" ] || { echo "FAIL: the root has no apt mirror"; exit 1; }
n=8
write_module apt 'sysroot.debian(name = "apt", lock = "//:v2.lock.json")'
if out=$("$top/tools/bazel" build --repo_env=PORTABLE_DEBIAN_MIRROR= --repository_cache= @apt//:all 2>&1); then
  echo "ok: no mirror configured: the .debs came from apt's mirror $apt"
elif grep -qF "${apt%/}/pool/main/" <<<"$out"; then
  echo "ok: no mirror configured: the download went to apt's mirror $apt"
else
  echo "FAIL: no mirror configured: no download from apt's mirror $apt in:"
  grep -m5 -E 'ERROR|rror' <<<"$out" || true
  fails=$((fails + 1))
fi
# PORTABLE_DEBIAN_MIRROR=offline (as with no mirror configured at all): the
# .debs come from the repository cache or --distdir, or the fetch fails with
# a message that says so.
module_with() { # REPO: a module with one sysroot.debian of v2's lock
  write_module "$1" "sysroot.debian(name = \"$1\", lock = \"//:v2.lock.json\")"
}
offline_case() { # NAME REPO WANT(pass|MESSAGE) FLAGS...
  local name=$1 repo=$2 want=$3 out
  shift 3
  n=$((n + 1))
  module_with "$repo"
  if out=$("$top/tools/bazel" build --repo_env=PORTABLE_DEBIAN_MIRROR=offline "$@" "@$repo//:all" 2>&1); then
    if [ "$want" = pass ]; then echo "ok: $name: built"; return; fi
    echo "FAIL: $name: the build passed"
  elif [ "$want" != pass ] && grep -qF "$want" <<<"$out"; then
    echo "ok: $name: $want"
    return
  else
    echo "FAIL: $name: $([ "$want" = pass ] && echo "the build failed" || echo "no '$want'"):"
    grep -m5 -E 'ERROR|rror' <<<"$out" || true
  fi
  fails=$((fails + 1))
}
# The shared repository cache gets v2's .debs the normal way first.
module_with cached
"$top/tools/bazel" build @cached//:all >/dev/null 2>&1 || { echo "FAIL: fetching v2's .debs into the repository cache"; fails=$((fails + 1)); }
offline_case "offline, from the repository cache" offline_cache pass
offline_case "offline, nothing cached" offline_none "is in neither the repository cache nor --distdir, and PORTABLE_DEBIAN_MIRROR is offline" --repository_cache=
# A --distdir holds the files by their pool names. (Inside the workspace:
# Bazel runs in tools/bazel's root, which sees the workspace but not /tmp.)
distdir=$PWD/distdir
mkdir -p "$distdir"
repo_cache=$("$top/tools/bazel" info repository_cache 2>/dev/null)
python3 - "$top/sysroots/v2.lock.json" "$repo_cache" "$distdir" <<'PY'
import json, os, shutil, sys
lock, cache, out = sys.argv[1:]
for p in json.load(open(lock))["packages"]:
    shutil.copy(os.path.join(cache, "content_addressable", "sha256", p["sha256"], "file"), os.path.join(out, os.path.basename(p["filename"])))
PY
offline_case "offline, from --distdir" offline_distdir pass --repository_cache= "--distdir=$distdir"
rm -rf "$distdir"

# A user's repository may take the name of the docs' example, glibc_2_41,
# for a lock of its own (v1's here): rules_portable's own repositories are
# prefixed, so nothing collides, and each keeps its own lock.
n=$((n + 1))
# The helper is built with this machine's Go, as in examples/hello.
write_module glibc_2_41 \
  'sysroot.debian(name = "glibc_2_41", lock = "//:v1.lock.json")' \
  'bazel_dep(name = "rules_go", version = "0.59.0")' \
  'go_sdk = use_extension("@rules_go//go:extensions.bzl", "go_sdk")' \
  'go_sdk.host()'
cat >app/BUILD.bazel <<'EOF2'
load("@rules_portable//rules:defs.bzl", "sysroot")

sysroot(
    name = "mine",
    packages = "@glibc_2_41",
    version = "v9",
)
EOF2
# glibc_of TARGET: the glibc version in the manifest of a built sysroot.
glibc_of() {
  local tree
  tree=$("$top/tools/bazel" cquery --output=files "$1" 2>/dev/null | grep -v '\.tar$')
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1] + "/.sysroot/manifest.json"))["glibc"])' "$tree"
}
if ! out=$("$top/tools/bazel" build //app:mine @rules_portable//sysroots:v2 2>&1); then
  echo "FAIL: a user's glibc_2_41 next to rules_portable's own:"
  grep -m5 -E 'ERROR|rror' <<<"$out" || true
  fails=$((fails + 1))
elif [ "$(glibc_of //app:mine) $(glibc_of @rules_portable//sysroots:v2)" != "2.36 2.41" ]; then
  echo "FAIL: a user's glibc_2_41 next to rules_portable's own: glibc $(glibc_of //app:mine) and $(glibc_of @rules_portable//sysroots:v2), want 2.36 (the user's lock) and 2.41 (v2)"
  fails=$((fails + 1))
else
  echo "ok: a user's glibc_2_41 (v1's lock, glibc 2.36) next to rules_portable's v2 (glibc 2.41)"
fi
echo "extension errors: $((n - fails)) passed, $fails failed"
[ $fails = 0 ]
