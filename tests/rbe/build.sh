#!/usr/bin/env bash
# build.sh: Buildbarn's bb_storage, bb_scheduler, bb_worker and bb_runner,
# built from the Go module proxy at pinned exact versions, cached.
#
#   tests/rbe/build.sh        print the directory holding the four binaries
#
# The binaries live in $RULES_PORTABLE_CACHE/rbe/bin/KEY (default cache
# /var/cache/rules_portable), KEY naming the pinned versions, the local Go and
# this recipe; a second run finds them and prints at once. They are static
# (CGO_ENABLED=0), so bb_runner runs in a root that has no libc of its own
# choice.
#
# The recipe (see OFFLINE-BAZEL.md): the proxy serves these modules only by
# exact version, so `go mod download -json MOD@VERSION`, copy each module
# out of the module cache and build inside the copy. Two repairs that
# Buildbarn's own Bazel build makes with patches, made here at build time:
#   - go-fuse v2.5.1 gets the diffs that bb-remote-execution ships under
#     patches/com_github_hanwen_go_fuse_v2/, and a replace line points at it;
#   - bb_storage registers the ByteStream service on a grpc.ServiceRegistrar,
#     but the genproto that the modules pin wants a *grpc.Server (bb-storage
#     patches genproto for that): a type assertion in cmd/bb_storage/main.go.
set -euo pipefail

BB_RE=github.com/buildbarn/bb-remote-execution
BB_RE_VERSION=v0.0.0-20241215094620-d03d5e3708ed
BB_STORAGE=github.com/buildbarn/bb-storage
BB_STORAGE_VERSION=v0.0.0-20240918135726-256ec6c483a0 # what bb-remote-execution pins
GO_FUSE=github.com/hanwen/go-fuse/v2
GO_FUSE_VERSION=v2.5.1
RECIPE=1 # bump when the steps below change
BINARIES=(bb_storage bb_scheduler bb_worker bb_runner)

export PATH=/usr/local/go/bin:$PATH
CACHE=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}
die() { printf 'rbe/build.sh: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'rbe/build.sh: %s\n' "$*" >&2; }
command -v go >/dev/null || die "no go on PATH (expected /usr/local/go/bin/go); install Go"

gover=$(go env GOVERSION)
key=$(printf '%s\n' "recipe $RECIPE" "$BB_RE@$BB_RE_VERSION" "$BB_STORAGE@$BB_STORAGE_VERSION" \
  "$GO_FUSE@$GO_FUSE_VERSION" "$gover" | sha256sum | cut -c1-16)
out=$CACHE/rbe/bin/${BB_RE_VERSION##*-}-$gover-$key

complete() {
  local b
  for b in "${BINARIES[@]}"; do [ -x "$1/$b" ] || return 1; done
  [ -f "$1/VERSIONS" ]
}
if complete "$out"; then
  echo "$out"
  exit 0
fi

mkdir -p "$CACHE/rbe/bin"
tmp=$(mktemp -d "$CACHE/rbe/bin/build.tmp.XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
log "building ${BINARIES[*]} from $BB_RE@$BB_RE_VERSION (a few minutes on 2 cores) in $tmp"

# download MOD@VERSION: print the module's directory in the module cache.
download() {
  local i json
  for i in 1 2 3; do # the go command does not retry a failed fetch
    if json=$(GOFLAGS=-mod=mod go mod download -json "$1" 2>&1); then
      printf '%s\n' "$json" | awk -F'"' '$2 == "Dir" {print $4; exit}'
      return 0
    fi
    [ $i = 3 ] || { log "go mod download $1 failed; retrying in 10s"; sleep 10; }
  done
  die "go mod download -json $1 failed 3 times: $json"
}
copy_out() { # MOD@VERSION DEST
  local dir
  dir=$(download "$1")
  [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download $1 gave no directory"
  cp -r "$dir" "$2"
  chmod -R u+w "$2"
}
copy_out "$BB_RE@$BB_RE_VERSION" "$tmp/bb-remote-execution"
copy_out "$BB_STORAGE@$BB_STORAGE_VERSION" "$tmp/bb-storage"
copy_out "$GO_FUSE@$GO_FUSE_VERSION" "$tmp/go-fuse"

# The bb-storage that bb-remote-execution pins must be the one we copied.
grep -q "^[[:space:]]*$BB_STORAGE $BB_STORAGE_VERSION\$" "$tmp/bb-remote-execution/go.mod" ||
  die "$BB_RE@$BB_RE_VERSION does not pin $BB_STORAGE $BB_STORAGE_VERSION; update BB_STORAGE_VERSION in $0"

# go-fuse with Buildbarn's patches, in the order its MODULE.bazel lists them.
for p in direntrylist-offsets-and-testability writeback-cache notify-testability; do
  f=$tmp/bb-remote-execution/patches/com_github_hanwen_go_fuse_v2/$p.diff
  [ -f "$f" ] || die "$BB_RE@$BB_RE_VERSION has no patch $p.diff"
  (cd "$tmp/go-fuse" && patch -s -p0 <"$f") || die "patch $p.diff does not apply to $GO_FUSE@$GO_FUSE_VERSION"
done

# bb_storage: the one call that needs a *grpc.Server.
main=$tmp/bb-storage/cmd/bb_storage/main.go
grep -q 'bytestream.RegisterByteStreamServer($' "$main" && grep -q '^func(s grpc.ServiceRegistrar) {$' <(sed 's/^[[:space:]]*//' "$main") ||
  die "$main no longer looks as expected (RegisterByteStreamServer on a grpc.ServiceRegistrar); revisit the fix in $0"
awk '
  fix && /^[[:space:]]*s,$/ { sub(/s,$/, "s.(*grpc.Server),"); fix = 0 }
  /bytestream\.RegisterByteStreamServer\($/ { fix = 1 }
  { print }
' "$main" >"$main.new"
mv "$main.new" "$main"
grep -q 's.(\*grpc.Server),' "$main" || die "could not apply the grpc.Server fix to $main"

(
  cd "$tmp/bb-remote-execution"
  go mod edit -replace "$GO_FUSE=../go-fuse" -replace "$BB_STORAGE=../bb-storage"
  mkdir -p "$tmp/out"
  for i in 1 2 3; do
    CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false -trimpath" go build -ldflags=-s -o "$tmp/out/" \
      ./cmd/bb_scheduler ./cmd/bb_worker ./cmd/bb_runner "$BB_STORAGE/cmd/bb_storage" && exit 0
    [ $i = 3 ] || { log "go build failed (a module fetch, perhaps); retrying in 10s"; sleep 10; }
  done
  exit 1
) || die "go build of Buildbarn failed (see above)"

printf '%s\n' "$BB_RE@$BB_RE_VERSION" "$BB_STORAGE@$BB_STORAGE_VERSION" \
  "$GO_FUSE@$GO_FUSE_VERSION (with bb-remote-execution's patches)" "$gover CGO_ENABLED=0" "recipe $RECIPE" >"$tmp/out/VERSIONS"
rm -rf "$out"
mv "$tmp/out" "$out"
echo "$out"
