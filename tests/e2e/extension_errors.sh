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
# The default mirror (the snapshot archive at the lock's newest index date
# plus a delay) is computed only when no mirror is configured; this
# machine's offline rc configures one, so those cases clear it.
nomirror=--repo_env=PORTABLE_DEBIAN_MIRROR=
snapshot=$(sed -n 's/^SNAPSHOT_BASE = "\(.*\)"$/\1/p' "$top/rules/private/debian_repository.bzl")
[ -n "$snapshot" ] || { echo "FAIL: no SNAPSHOT_BASE in rules/private/debian_repository.bzl"; exit 1; }
stamp=$(python3 - "$top/sysroots/v2.lock.json" <<'PY'
import datetime, json, sys
# The newest index date plus the six hours the repository rule adds.
dates = [datetime.datetime.strptime(i["date"], "%a, %d %b %Y %H:%M:%S %Z") for i in json.load(open(sys.argv[1]))["indexes"]]
print((max(dates) + datetime.timedelta(hours=6)).strftime("%Y%m%dT%H%M%SZ"))
PY
)
cp "$top/sysroots/v1.lock.json" "$top/sysroots/v2.lock.json" .
: >BUILD.bazel
echo 'exports_files(glob(["*.json"]))' >BUILD.bazel
fails=0
flags=()
case_() { # NAME REPO MESSAGE TAGS...; bazel flags in the array flags
  local name=$1 repo=$2 msg=$3
  shift 3
  {
    printf 'module(name = "exterr")\n'
    printf 'bazel_dep(name = "rules_portable", version = "0.0.0")\n'
    printf 'local_path_override(module_name = "rules_portable", path = "%s")\n' "$top"
    printf 'sysroot = use_extension("@rules_portable//rules:extensions.bzl", "sysroot")\n'
    printf '%s\n' "$@"
    printf 'use_repo(sysroot, "%s")\n' "$repo"
  } >MODULE.bazel
  local out
  if out=$("$top/tools/bazel" build "${flags[@]}" "${target:-@$repo//:all}" 2>&1); then
    echo "FAIL: $name: the build passed"
    fails=$((fails + 1))
  elif grep -qF "$msg" <<<"$out"; then
    echo "ok: $name: $msg"
  else
    echo "FAIL: $name: no '$msg' in:"
    grep -E 'ERROR|Error' <<<"$out" | head -5
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
flags=("$nomirror")
case_ "lock without an index date, no mirror" nodate "lockfile records no index date; set PORTABLE_DEBIAN_MIRROR or the mirror attribute" \
  'sysroot.debian(name = "nodate", lock = "//:nodate.lock.json")'
case_ "lock with a bad index date, no mirror" baddate "lockfile index date \"yesterday\" is not an RFC 1123 date" \
  'sysroot.debian(name = "baddate", lock = "//:baddate.lock.json")'
# No network here and no repository cache (it would serve the .debs by
# sha256 without a download): the download fails, and its message shows
# the URL.
flags=("$nomirror" --repository_cache=)
case_ "no mirror: the snapshot archive at the index date" snap "$snapshot$stamp/pool/main/" \
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
echo "extension errors: $((7 - fails)) passed, $fails failed"
[ $fails = 0 ]
