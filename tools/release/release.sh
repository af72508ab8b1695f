#!/usr/bin/env bash
# release.sh: turn a commit of rules_portable into a release and a registry entry.
#
#   tools/release/release.sh [options] VERSION OUT_DIR
#
# Writes to OUT_DIR:
#   rules_portable-vVERSION.tar.gz   the source archive (git archive of REV,
#                                    MODULE.bazel's version set, and
#                                    rules/private/release.bzl naming the helpers)
#   portable-linux_amd64             the `portable` helper, static, for each
#   portable-linux_arm64             platform; the archive names their integrity
#   SHA256SUMS
# With --registry DIR, also adds VERSION to the Bazel registry at DIR
# (modules/rules_portable/VERSION/{MODULE.bazel,source.json} and metadata.json,
# from the templates in .bcr/), as the Bazel Central Registry lays it out.
#
# Options:
#   --rev REV          the commit to release (default HEAD)
#   --url-prefix URL   where the release's files will be served; the archive's
#                      helper URLs and source.json point there
#                      (default: the GitHub release of vVERSION)
#   --registry DIR     add the version to the registry at DIR
#
# Everything is deterministic: the same commit and VERSION give the same bytes
# (files in name order, the commit's time as every mtime, owner 0, gzip -n,
# Go builds with -trimpath and no build ID). Outputs are written under temp
# names and renamed into place only when all of them are complete.
#
# Example: a local registry for trying a commit as users would get it:
#   tools/release/release.sh --url-prefix file:///tmp/rel --registry /tmp/reg 0.1.0 /tmp/rel
#   bazel build --registry=file:///tmp/reg --registry=https://bcr.bazel.build //...
set -euo pipefail

die() { printf 'release: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'release: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

rev=HEAD url_prefix="" registry=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rev) rev=${2:?--rev needs a commit}; shift 2 ;;
    --url-prefix) url_prefix=${2:?--url-prefix needs a URL}; shift 2 ;;
    --registry) registry=${2:?--registry needs a directory}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
[ $# = 2 ] || { usage >&2; exit 2; }
version=$1 out=$2
# Bazel's module versions: RELEASE[-PRERELEASE][+BUILD], dot-separated parts.
[[ "$version" =~ ^[0-9]+(\.[0-9]+)*(-[0-9A-Za-z.-]+)?$ ]] ||
  die "version $version is not a Bazel module version (e.g. 0.1.0 or 0.1.0-rc.1); drop any leading v"

top=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel) ||
  die "release.sh must run from a git checkout of rules_portable"
cd "$top"
commit=$(git rev-parse --verify "$rev^{commit}") || die "no commit $rev"
epoch=$(git log -1 --format=%ct "$commit")
repo=rules_portable owner=rules-portable
[ -n "$url_prefix" ] || url_prefix="https://github.com/$owner/$repo/releases/download/v$version"
url_prefix=${url_prefix%/}
archive=$repo-v$version.tar.gz
prefix=$repo-$version

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/.release.tmp.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
src=$work/$prefix
log "releasing $version from ${commit:0:12} into $out"
git -c tar.umask=0022 archive --format=tar --prefix="$prefix/" "$commit" | tar -x -C "$work"

# MODULE.bazel's version: exactly the one line of the module() call.
n=$(grep -c '^    version = "0\.0\.0",$' "$src/MODULE.bazel" || true)
[ "$n" = 1 ] || die "MODULE.bazel of $commit has $n lines 'version = \"0.0.0\",' in module(); want exactly one"
sed -i "s/^    version = \"0\.0\.0\",\$/    version = \"$version\",/" "$src/MODULE.bazel"

# integrity FILE: its Subresource Integrity string.
integrity() {
  python3 -c 'import base64, hashlib, sys; print("sha256-" + base64.b64encode(hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).decode())' "$1"
}

# The helpers, built from the archive's own source.
export PATH=/usr/local/go/bin:$PATH
declare -A integ
for arch in amd64 arm64; do
  log "building the portable helper for linux/$arch"
  (cd "$src" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOFLAGS=-mod=readonly go build -trimpath -buildvcs=false \
    -ldflags "-s -w -buildid= -X main.version=v$version" -o "$work/portable-linux_$arch" ./tools/cmd/portable) ||
    die "go build of the helper for linux/$arch failed"
  integ[$arch]=$(integrity "$work/portable-linux_$arch")
done

cat >"$src/rules/private/release.bzl" <<EOF
"""What this release archive of rules_portable carries about its prebuilt helpers.

Written by tools/release/release.sh for $version (commit $commit).
"""

RELEASE = {
    "version": "$version",
    "urls": ["$url_prefix/portable-{platform}"],
    "integrity": {
        "linux_amd64": "${integ[amd64]}",
        "linux_arm64": "${integ[arm64]}",
    },
}
EOF
chmod 0644 "$src/rules/private/release.bzl" "$src/MODULE.bazel"

log "writing $archive"
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$work" -cf - "$prefix" | gzip -n -9 >"$work/$archive"
(cd "$work" && sha256sum "$archive" portable-linux_amd64 portable-linux_arm64 >SHA256SUMS)
archive_integrity=$(integrity "$work/$archive")

for f in "$archive" portable-linux_amd64 portable-linux_arm64 SHA256SUMS; do
  mv -f "$work/$f" "$out/$f"
done

if [ -n "$registry" ]; then
  mkdir -p "$registry"
  registry=$(cd "$registry" && pwd)
  mod=$registry/modules/$repo
  [ ! -e "$mod/$version" ] || die "$mod/$version exists: a published version never changes; use another version"
  log "adding $version to the registry at $registry"
  mkdir -p "$work/registry/$version"
  cp "$src/MODULE.bazel" "$work/registry/$version/MODULE.bazel"
  ARCHIVE_INTEGRITY=$archive_integrity URL="$url_prefix/$archive" PREFIX="$prefix" \
    python3 - "$top/.bcr/source.template.json" >"$work/registry/$version/source.json" <<'EOF'
import json, os, sys
t = json.load(open(sys.argv[1]))
t["integrity"] = os.environ["ARCHIVE_INTEGRITY"]
t["url"] = os.environ["URL"]
t["strip_prefix"] = os.environ["PREFIX"]
print(json.dumps(t, indent=4, sort_keys=True))
EOF
  VERSION=$version python3 - "$top/.bcr/metadata.template.json" "$mod/metadata.json" >"$work/registry/metadata.json" <<'EOF'
import json, os, sys
path = sys.argv[2] if os.path.exists(sys.argv[2]) else sys.argv[1]
m = json.load(open(path))
v = os.environ["VERSION"]
if v not in m["versions"]:
    m["versions"].append(v)
print(json.dumps(m, indent=4, sort_keys=True))
EOF
  [ -f "$registry/bazel_registry.json" ] || printf '{\n    "mirrors": []\n}\n' >"$registry/bazel_registry.json"
  mkdir -p "$mod"
  mv "$work/registry/$version" "$mod/$version"
  mv "$work/registry/metadata.json" "$mod/metadata.json"
fi

log "done: $out/$archive"
cat "$out/SHA256SUMS"
