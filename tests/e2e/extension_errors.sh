#!/usr/bin/env bash
# The sysroot.debian extension and its repository rule fail with messages
# that name the problem and the fix. They run while Bazel resolves and
# fetches repositories, where analysis tests can't reach, so each case is a
# small workspace that must fail with its message.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ws=$top/tests/e2e/workspaces/exterr.$$
mkdir -p "$ws"
trap '(cd "$ws" && "$top/tools/bazel" shutdown >/dev/null 2>&1); rm -rf "$ws"' EXIT
cd "$ws"
python3 - "$top/sysroots/v2.lock.json" <<'PY'
import json, sys
lock = json.load(open(sys.argv[1]))
json.dump(dict(lock, schema_version=2), open("future.lock.json", "w"))
json.dump(dict(lock, packages=[]), open("nolibc.lock.json", "w"))
PY
cp "$top/sysroots/v1.lock.json" "$top/sysroots/v2.lock.json" .
: >BUILD.bazel
echo 'exports_files(glob(["*.json"]))' >BUILD.bazel
fails=0
case_() { # NAME REPO MESSAGE TAGS...
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
  if out=$("$top/tools/bazel" build "@$repo//:all" 2>&1); then
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
echo "extension errors: $((3 - fails)) passed, $fails failed"
[ $fails = 0 ]
