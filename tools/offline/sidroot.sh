#!/usr/bin/env bash
# sidroot.sh: the offline Bazel environment of rules_portable.
#
# Machines that build this project may reach only Debian's archive and the Go
# module proxy: no Bazel Central Registry, no GitHub releases. Debian sid
# ships Bazel 7 and offline copies of the core Bazel modules, but sid's Bazel
# needs a newer glibc than a bookworm host has, so it runs in a sid root
# filesystem. This script creates that root once, reuses it after that, and
# runs commands in it with the workspace mounted at the same absolute path.
#
#   sidroot.sh ensure            create (or repair) the root; print its path
#   sidroot.sh run [--] CMD...   run CMD in the root, cwd preserved
#   sidroot.sh rcfile            print the path of the generated offline.bazelrc
#   sidroot.sh remove            delete everything this script created
#   sidroot.sh portable-bazel    bundle the root's Bazel and JDK to run on this
#                                host without the root (once); print its path
#   sidroot.sh run-portable-bazel [--bundle DIR] [--] ARGS...
#                                run that Bazel on this host (PORTABLE_BAZEL=bundle
#                                of tools/bazel); output root $PORTABLE_BAZEL_OUTPUT_ROOT
#                                (default $RULES_PORTABLE_CACHE/bazel-host)
#
# Where: $RULES_PORTABLE_CACHE (default /var/cache/rules_portable).
# Mirror: the first URIs: line of /etc/apt/sources.list.d/debian.sources, or
# $PORTABLE_DEBIAN_MIRROR. Go proxy: `go env GOPROXY`. No registry host is
# written in this file.
#
# Safety: every artefact is built under a temp name and renamed into place
# only when complete, and carries a stamp of the recipe that made it, so an
# interrupted run leaves nothing that a later run would trust. Mounts are made
# in a private mount namespace that the host never sees; it is kept (see
# ensure_ns) so that Bazel servers survive between calls.
set -euo pipefail

CACHE=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}
ROOT=$CACHE/sid-root
MODS=$CACHE/modules
RC=$CACHE/offline.bazelrc
OUTPUT_ROOT=$CACHE/bazel
RULES_GO_VERSION=v0.59.0
GAZELLE_VERSION=v0.47.0
HOST_GO=${PORTABLE_HOST_GOROOT:-$(go env GOROOT 2>/dev/null || echo /usr/local/go)}

# Packages of the sid root. Changing this list changes the recipe stamp, so
# existing roots are rebuilt on the next run.
PACKAGES=(
  bazel-bootstrap default-jdk-headless build-essential ca-certificates git
  bazel-rules-pkg bazel-rules-shell bazel-lib bazel-stardoc bazel-skylib
  bazel-platforms bazel-rules-cc patchelf file python3
)
ROOT_RECIPE="sid-root/3 ${PACKAGES[*]}"
MODS_RECIPE="modules/2 rules_go=$RULES_GO_VERSION gazelle=$GAZELLE_VERSION"

log() { printf 'sidroot: %s\n' "$*" >&2; }
die() { printf 'sidroot: error: %s\n' "$*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (it uses mmdebstrap, chroot and mounts); try: sudo $0 $*"
}

mirror() {
  if [ -n "${PORTABLE_DEBIAN_MIRROR:-}" ]; then
    echo "$PORTABLE_DEBIAN_MIRROR"
    return
  fi
  local f uri=""
  for f in /etc/apt/sources.list.d/debian.sources; do
    [ -r "$f" ] && uri=$(awk '/^URIs:/ {print $2; exit}' "$f")
  done
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $2 !~ /^\[/ {print $2; exit} $1 == "deb" && $2 ~ /^\[/ {print $3; exit}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources; set PORTABLE_DEBIAN_MIRROR"
  echo "$uri"
}

stamp_ok() { # DIR RECIPE
  [ -f "$1/.rules_portable-stamp" ] && [ "$(cat "$1/.rules_portable-stamp")" = "$2" ]
}

# ensure_host_tools installs what the host needs to make the root.
ensure_host_tools() {
  if ! command -v mmdebstrap >/dev/null; then
    log "installing mmdebstrap on the host"
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq mmdebstrap >&2
  fi
  [ -x "$HOST_GO/bin/go" ] || die "no Go toolchain at $HOST_GO; install Go or set PORTABLE_HOST_GOROOT"
}

build_root() {
  local m tmp
  m=$(mirror)
  tmp=$(mktemp -d "$CACHE/sid-root.tmp.XXXXXX")
  log "creating the Debian sid root (about 1.7 GB, a few minutes) in $tmp"
  # The archive served here is a snapshot, so sid's Release is past its
  # Valid-Until date: relax only the date. Signatures are still checked
  # against the host's debian-archive-keyring.
  # A private mount namespace: mmdebstrap's own mounts inside $tmp vanish
  # with it, even when it is killed.
  unshare --mount --propagation private -- mmdebstrap --quiet --variant=apt \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    sid "$tmp" "deb $m sid main" >&2
  # Registry traffic may go through a TLS proxy whose CA the host trusts.
  if [ -d /usr/local/share/ca-certificates ]; then
    cp -a /usr/local/share/ca-certificates/. "$tmp/usr/local/share/ca-certificates/"
  fi
  chroot "$tmp" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in $tmp"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
  # rules_go's cgo builder must match the Go it runs: use the host's Go,
  # copied in, first on PATH (sid's own Go is not installed).
  mkdir -p "$tmp/opt"
  cp -a "$HOST_GO" "$tmp/opt/go"
  echo "$ROOT_RECIPE" >"$tmp/.rules_portable-stamp"
  rm -rf "$ROOT"
  mv "$tmp" "$ROOT"
  log "sid root ready at $ROOT"
}

write_stub() { # DIR NAME
  mkdir -p "$1/$2"
  printf 'module(name = "%s")\n' "$2" >"$1/$2/MODULE.bazel"
  : >"$1/$2/BUILD.bazel"
}

build_modules() {
  local tmp gp
  tmp=$(mktemp -d "$CACHE/modules.tmp.XXXXXX")
  gp=$(go env GOPROXY)
  log "fetching rules_go $RULES_GO_VERSION and gazelle $GAZELLE_VERSION from the Go module proxy"
  local gomodcache
  gomodcache=$(mktemp -d "$CACHE/gomodcache.tmp.XXXXXX")
  local dirs i
  # The Go command does not retry a failed fetch: try three times.
  for i in 1 2 3; do
    GOPROXY=$gp GOMODCACHE=$gomodcache GOFLAGS=-mod=mod go mod download -json \
      "github.com/bazelbuild/rules_go@$RULES_GO_VERSION" \
      "github.com/bazelbuild/bazel-gazelle@$GAZELLE_VERSION" >"$tmp/download.json" && break
    [ $i = 3 ] && die "go mod download of rules_go and gazelle failed 3 times"
    log "go mod download failed; retrying in 10s"
    sleep 10
  done
  dirs=$(awk -F'"' '/"Dir":/ {print $4}' "$tmp/download.json")
  rm -f "$tmp/download.json"
  local rg gz
  rg=$(echo "$dirs" | grep '/rules_go@') || die "rules_go download failed"
  gz=$(echo "$dirs" | grep '/bazel-gazelle@') || die "gazelle download failed"
  cp -r "$rg" "$tmp/rules_go"
  cp -r "$gz" "$tmp/gazelle"
  chmod -R u+w "$tmp" "$gomodcache"
  rm -rf "$gomodcache"
  # Module zips drop exec bits; actions fail with "Permission denied".
  find "$tmp" -type f \( -name '*.sh' -o -name '*.bash' -o -name '*.py' \) -exec chmod +x {} +
  # ...and gazelle's vendor/ tree, which go_repository_tools builds with
  # GO111MODULE=off. -e: test-only imports are not needed.
  for i in 1 2 3; do
    (cd "$tmp/gazelle" && GOPROXY=$gp GOFLAGS=-mod=mod go mod vendor -e >/dev/null 2>&1) && break
    [ $i = 3 ] && die "go mod vendor failed in gazelle 3 times"
    log "go mod vendor failed; retrying in 10s"
    sleep 10
  done
  # Modules that bzlmod resolves but nothing here loads.
  local s
  for s in protobuf buildozer zlib apple_support; do write_stub "$tmp/stubs" "$s"; done
  write_stub "$tmp/stubs" package_metadata
  mkdir -p "$tmp/stubs/package_metadata/rules"
  : >"$tmp/stubs/package_metadata/rules/BUILD.bazel"
  cat >"$tmp/stubs/package_metadata/rules/package_metadata.bzl" <<'EOF'
"""Offline stand-in for package_metadata: records nothing."""

def _noop_impl(_ctx):
    return []

_noop = rule(implementation = _noop_impl, attrs = {"purl": attr.string(), "attributes": attr.label_list()})

def package_metadata(name, visibility = None, **kwargs):
    _noop(name = name, visibility = visibility, applicable_licenses = [])
EOF
  echo "$MODS_RECIPE" >"$tmp/.rules_portable-stamp"
  rm -rf "$MODS"
  mv "$tmp" "$MODS"
}

# disk_cache_dir prints the disk cache of this root: one directory per set
# of the root's packages (and its copied Go), so a root rebuilt with
# another gcc, JDK or Go never reads outputs an earlier one made.
disk_cache_dir() {
  local key
  key=$(cat "$ROOT/var/lib/dpkg/status" "$ROOT/opt/go/VERSION" 2>/dev/null | sha256sum | cut -c1-16)
  echo "$CACHE/disk-cache/$key"
}

# rc_lines SHARE HOST_SHARE GOBIN DISK_CACHE GOBIN_COMMENT prints the
# offline settings of both routes (the sid root, and the portable Bazel on
# the host): SHARE is where Bazel reads Debian's module copies
# (/usr/share/bazel in the root, the bundle's share/bazel on the host),
# HOST_SHARE the same directory as seen from here, GOBIN the Go that
# actions find first on PATH, DISK_CACHE the disk cache of that toolchain.
rc_lines() {
  local share=$1 host_share=$2 gobin=$3 disk=$4 s
  echo "# Modules come from local copies: Debian's offline modules and the Go module proxy."
  echo "common --override_module=rules_go=$MODS/rules_go"
  echo "common --override_module=gazelle=$MODS/gazelle"
  for s in protobuf buildozer zlib apple_support package_metadata; do
    echo "common --override_module=$s=$MODS/stubs/$s"
  done
  # Debian's offline modules; /etc/bazel/bazelrc of the root names the core ones.
  [ -d "$host_share/rules/pkg" ] && echo "common --override_module=rules_pkg=$share/rules/pkg"
  [ -d "$host_share/rules/shell" ] && echo "common --override_module=rules_shell=$share/rules/shell"
  echo "# Java tools (stardoc's renderer) run on the root's JDK, not a downloaded one."
  echo "common --java_runtime_version=local_jdk"
  echo "common --tool_java_runtime_version=local_jdk"
  echo "# The root's /etc/bazel/bazelrc keeps every sandbox (--sandbox_debug): hundreds of MB per workspace."
  echo "build --nosandbox_debug"
  echo "# Resolution differs from the registry's, so no lockfile is read or written offline."
  echo "common --lockfile_mode=off"
  echo "# WORKSPACE's default suffix would try to download rules_cc."
  echo "common --noenable_workspace"
  echo "# gazelle's go_deps fetches Go modules through the machine's Go proxy."
  echo "common --repo_env=GOPROXY=$(go env GOPROXY)"
  echo "common --repo_env=GOSUMDB=$(go env GOSUMDB)"
  echo "# Sysroot packages come from this machine's Debian mirror (its apt configuration)."
  echo "common --repo_env=PORTABLE_DEBIAN_MIRROR=$(mirror)"
  echo "# One disk cache for every workspace of this root (the examples, the e2e"
  echo "# workspaces): an action one of them ran is not run again by the next."
  echo "# Tests that count the actions a build runs turn it off (--disk_cache=)."
  echo "build --disk_cache=$disk"
  echo "build --experimental_disk_cache_gc_max_size=10G"
  echo "# Every output a hit names is downloaded, as in a build without the cache: tests"
  echo "# read intermediate files (a sysroot's tar), and a later build with the cache"
  echo "# off must find them (Bazel 7 would fetch only top-level outputs)."
  echo "build --remote_download_outputs=all"
  echo "# The root has no zip(1): a test's undeclared outputs stay files (test.outputs/)."
  echo "test --nozip_undeclared_test_outputs"
  echo "# Bazel 8's defaults (tools/bazel8.bazelrc), for every workspace."
  grep -v '^#' "$TOP/tools/bazel8.bazelrc"
  echo "$5"
  echo "common --action_env=PATH=$gobin:/usr/local/bin:/usr/bin:/bin"
}

write_rc() {
  local tmp
  tmp=$(mktemp "$CACHE/offline.bazelrc.tmp.XXXXXX")
  {
    echo "# Generated by tools/offline/sidroot.sh; imported only by the offline wrapper (tools/bazel)."
    rc_lines /usr/share/bazel "$ROOT/usr/share/bazel" /opt/go/bin "$(disk_cache_dir)" \
      "# Actions and tests need the Go toolchain copied into the root."
  } >"$tmp"
  mv "$tmp" "$RC"
}

# remove_leftovers deletes the temp dirs of interrupted runs. It first
# detaches anything still mounted below them (a killed process may leave
# mounts behind if it ran outside a private namespace) and never crosses into
# another file system.
remove_leftovers() {
  local d m
  for d in "$CACHE"/*.tmp.*; do
    [ -e "$d" ] || continue
    for m in $(awk -v p="$d/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
      umount -l "$m" 2>/dev/null || true
    done
    if awk -v p="$d/" 'index($5, p) == 1 {found=1} END {exit !found}' /proc/self/mountinfo; then
      die "$d still has mounts below it; unmount them, then run again"
    fi
    chmod -R u+w "$d" 2>/dev/null || true
    rm -rf --one-file-system "$d"
  done
}

# Debian modules that only some workspaces depend on (for example a dev
# dependency of the root module), under Debian's /usr/share/bazel. Bazel
# refuses an override of a module that is not in the graph, so these are
# added per workspace.
OPTIONAL_MODULES="stardoc=tools/stardoc bazel_lib=tools/bazel_lib"

# workspace_rc WS [BASE_RC SHARE] prints an rc file for the workspace WS:
# BASE_RC (the shared offline.bazelrc), overrides for the optional modules
# its MODULE.bazel names (under SHARE, /usr/share/bazel in the root), and
# --config=offline when its .bazelrc defines that config.
workspace_rc() {
  local ws=$1 base=${2:-$RC} share=${3:-/usr/share/bazel} m name path out extra=""
  [ -n "$ws" ] && [ -f "$ws/MODULE.bazel" ] || { echo "$base"; return; }
  for m in $OPTIONAL_MODULES; do
    name=${m%%=*} path=$share/${m#*=}
    if grep -Eq "bazel_dep\(name = \"$name\"" "$ws/MODULE.bazel"; then
      extra="${extra}common --override_module=$name=$path"$'\n'
    fi
  done
  # Settings a workspace keeps for this root, under --config=offline.
  if [ -f "$ws/.bazelrc" ] && grep -Eq '^(common|build|test|run):offline ' "$ws/.bazelrc"; then
    extra="${extra}common --config=offline"$'\n'
  fi
  [ -n "$extra" ] || { echo "$base"; return; }
  mkdir -p "$CACHE/rc"
  if [ "$base" = "$RC" ]; then
    out=$CACHE/rc/$(printf '%s' "$ws" | md5sum | cut -c1-16).bazelrc
  else
    out=$CACHE/rc/$(printf '%s\n%s' "$ws" "$base" | md5sum | cut -c1-16).bazelrc
  fi
  printf 'import %s\n# For %s: its optional modules and offline config\n%s' "$base" "$ws" "$extra" >"$out.tmp.$$"
  mv "$out.tmp.$$" "$out"
  echo "$out"
}

ensure() {
  need_root ensure
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  # Leftovers of interrupted runs are never trusted.
  remove_leftovers
  ensure_host_tools
  stamp_ok "$ROOT" "$ROOT_RECIPE" || build_root
  stamp_ok "$MODS" "$MODS_RECIPE" || build_modules
  write_rc
  mkdir -p "$OUTPUT_ROOT"
  flock -u 9
  echo "$ROOT"
}

# ---------------------------------------------------------------------------
# The portable Bazel: the root's Bazel client, install base, server jars,
# sandbox helpers and JDK, bundled by this project's own `portable` CLI with
# the root's glibc, so that Bazel runs on this host with no mount namespace
# (tools/bazel with PORTABLE_BAZEL=bundle). Two bundles side by side:
#
#   BUNDLE/bazel/bin/bazel          the client (launcher); libexec/bazel is the ELF
#   BUNDLE/bazel/share/bazel/       the install base (--install_base), with
#                                   process-wrapper, linux-sandbox, build-runfiles,
#                                   daemonize and zipper slotted under libexec/
#   BUNDLE/bazel/share/java/        the server's jars (A-server.jar's Class-Path)
#   BUNDLE/jdk/                     the JDK: bin/java, bin/javac, lib/, conf/ (JAVA_HOME)
#
# Debian's client puts /usr/share/java/X.jar on the server's class path, read
# from bazel_classpath_debian_depends.txt, and some of those jars name more
# by absolute path in their manifests; on this host such paths would load
# the host's jars (another guava, another grpc) or none. The bundle's list is
# empty, and its A-server.jar names the jars relative to itself in its
# manifest's Class-Path, which the JVM resolves against the jar's own
# location, so the bundle can move (tools/offline/portable_bazel_jars.py).
PB_DIR=$CACHE/portable-bazel
PB=$PB_DIR/bundle
PB_OUTPUT_ROOT=${PORTABLE_BAZEL_OUTPUT_ROOT:-$CACHE/bazel-host}
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
TOP=$(cd "$(dirname "$SELF")/../.." && pwd)

# cli_key hashes the sources of the portable CLI (and its launcher) and the
# jar stager, so a bundle made by an older one is rebuilt.
cli_key() {
  (cd "$TOP" && find tools/cmd/portable tools/internal launcher go.mod go.sum \
    tools/offline/portable_bazel_jars.py -type f \
    ! -name '*_test.go' ! -path '*/testdata/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
    sha256sum | cut -c1-16
}

pb_recipe() {
  echo "portable-bazel/1 root=$(sha256sum <"$ROOT/var/lib/dpkg/status" | cut -c1-16) cli=$(cli_key)"
}

# pb_client_ok BUNDLE: the bundled client starts here and reads its install
# base (no server: `bazel --version` is answered by the client).
pb_client_ok() {
  "$1/bazel/bin/bazel" --nosystem_rc --install_base="$1/bazel/share/bazel" --trust_install_base \
    --version 2>/dev/null | grep -q '^bazel [0-9]'
}

# build_portable_bazel makes $PB from the root, under a temp name.
build_portable_bazel() {
  local tmp jdk j f name adds=() jars=()
  tmp=$(mktemp -d "$PB_DIR/.build.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf --one-file-system '$tmp'" EXIT
  # The JDK the root's Bazel runs on (default-java, a relative symlink).
  j=$(readlink -f "$ROOT/usr/lib/jvm/default-java")
  case "$j" in "$ROOT"/*) jdk=${j#"$ROOT"} ;; *) die "cannot resolve the root's default-java ($j)" ;; esac
  [ -x "$ROOT$jdk/bin/java" ] || die "no $jdk/bin/java in the root"
  log "portable Bazel: building the portable CLI with $(go env GOROOT)"
  (cd "$TOP" && CGO_ENABLED=0 go build -trimpath -o "$tmp/portable" ./tools/cmd/portable) ||
    die "go build ./tools/cmd/portable failed"
  # The server's jars (the client's list and what their manifests name),
  # and copies of A-server.jar and of the jars whose manifests name absolute
  # /usr/share/java paths, naming them relative to themselves.
  (cd "$TOP" && "$SELF" run -- python3 "$TOP/tools/offline/portable_bazel_jars.py" /usr/share/bazel "$tmp/stage") ||
    die "staging the server's jars failed (tools/offline/portable_bazel_jars.py)"
  : >"$tmp/stage/bazel_classpath_debian_depends.txt"
  while read -r name; do
    if [ -f "$tmp/stage/java/$name" ]; then
      jars+=(--add "$tmp/stage/java/$name=share/java/$name")
    else
      jars+=(--add "/usr/share/java/$name=share/java/$name")
    fi
  done <"$tmp/stage/jars.txt"
  # The install base, entry by entry: symlinks to the helpers are followed
  # (their ELF files are bundled under libexec/share/bazel/ with their
  # closure), the two staged files replace Debian's.
  for f in "$ROOT"/usr/share/bazel/* "$ROOT"/usr/share/bazel/.[!.]*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    name=$(basename "$f")
    case "$name" in
      A-server.jar | bazel_classpath_debian_depends.txt) adds+=(--add "$tmp/stage/$name=share/bazel/$name") ;;
      *) adds+=(--add "/usr/share/bazel/$name=share/bazel/$name") ;;
    esac
  done
  mkdir -p "$tmp/out"
  log "portable Bazel: bundling the client, install base and jars"
  (cd "$TOP" && "$SELF" run -- "$tmp/portable" bundle -o "$tmp/out/bazel" /usr/bin/bazel "${adds[@]}" "${jars[@]}") ||
    die "portable bundle of the Bazel client failed"
  # The JDK: the bundle's root is JAVA_HOME, since java finds its home from
  # /proc/self/exe (libexec/java) and lib/libjli.so. Left out: jmods/ (jlink
  # only), include/, man/, docs/ and lib/src.zip (a dangling link).
  log "portable Bazel: bundling the JDK $jdk"
  (cd "$TOP" && "$SELF" run -- "$tmp/portable" bundle -o "$tmp/out/jdk" "$jdk/bin/java" "$jdk/bin/javac" \
    --add "$jdk/lib=lib" --add "$jdk/conf=conf" --add "$jdk/release=release" --add "$jdk/legal=legal" 2>&1 |
    { grep -v -e 'lib/src.zip: skipping dangling symlink' -e 'libfontmanager.so' -e 'libjsound.so' || true; } >&2) ||
    die "portable bundle of the JDK failed"
  [ -x "$tmp/out/jdk/bin/java" ] || die "portable bundle of the JDK failed"
  "$tmp/portable" verify "$tmp/out/bazel" >/dev/null || die "portable verify of the Bazel bundle failed"
  "$tmp/portable" verify "$tmp/out/jdk" >/dev/null || die "portable verify of the JDK bundle failed"
  # Self-check on this host, outside the root.
  pb_client_ok "$tmp/out" || die "the bundled Bazel client does not run on this host"
  "$tmp/out/jdk/bin/java" -version >/dev/null 2>&1 || die "the bundled java does not run on this host"
  pb_recipe >"$tmp/out/.rules_portable-stamp"
  rm -rf "$PB"
  mv "$tmp/out" "$PB"
  rm -rf "$tmp"
  trap - EXIT
  log "portable Bazel ready at $PB ($(du -sh "$PB" | cut -f1))"
}

# portable_bazel makes the bundle once (again when the root or the CLI
# changed) and prints its path.
portable_bazel() {
  need_root portable-bazel
  ensure >/dev/null
  mkdir -p "$PB_DIR"
  exec 7>"$PB_DIR/.lock"
  flock 7
  local d
  for d in "$PB_DIR"/.build.*; do
    [ -e "$d" ] && rm -rf --one-file-system "$d"
  done
  stamp_ok "$PB" "$(pb_recipe)" || build_portable_bazel
  flock -u 7
  exec 7>&-
  pb_client_ok "$PB" || die "the portable Bazel at $PB does not start on this host"
  echo "$PB"
}

# stop_portable_bazel_servers stops the servers of the portable Bazel's
# output root, each by the pid its output base records (it is a java of a
# portable Bazel bundle, or it is left alone).
stop_portable_bazel_servers() {
  local f pid
  for f in "$PB_OUTPUT_ROOT"/*/server/server.pid.txt; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    case "$(readlink "/proc/$pid/exe" 2>/dev/null)" in
      */jdk/libexec/java) kill -TERM "$pid" 2>/dev/null || true ;;
    esac
  done
}

# host_disk_cache_dir: the disk cache of the portable Bazel's actions, which
# run with this host's gcc and Go (and the root's JDK): never the root's.
host_disk_cache_dir() {
  local key
  key=$(cat /var/lib/dpkg/status "$HOST_GO/VERSION" "$ROOT/var/lib/dpkg/status" 2>/dev/null | sha256sum | cut -c1-16)
  echo "$CACHE/disk-cache/host-$key"
}

# portable_bazel_rc BUNDLE [WS] prints the rc file of the portable Bazel at
# BUNDLE for the workspace WS: what the root's /etc/bazel/bazelrc says (the
# bundled client is run with --nosystem_rc: the host's /etc/bazel.bazelrc is
# not the root's) with the bundle's copies of Debian's modules, then the
# offline settings with this host's Go and a disk cache of its own.
portable_bazel_rc() {
  local b=$1 ws=${2:-} share=$1/bazel/share/bazel out tmp
  [ -d "$share" ] || die "no portable Bazel at $b"
  mkdir -p "$CACHE/rc"
  out=$CACHE/rc/portable-bazel-$(printf '%s' "$b" | md5sum | cut -c1-16).bazelrc
  tmp=$(mktemp "$out.tmp.XXXXXX")
  {
    echo "# Generated by tools/offline/sidroot.sh for the portable Bazel at $b,"
    echo "# run on this host without the root (tools/bazel with PORTABLE_BAZEL=bundle)."
    echo "# From the root's /etc/bazel/bazelrc, with the bundle's copy of /usr/share/bazel:"
    grep -E '^(build|common|test|run|query|fetch|sync|info)[ :]' "$ROOT/etc/bazel/bazelrc" | sed "s#/usr/share/bazel/#$share/#g"
    rc_lines "$share" "$share" "$HOST_GO/bin" "$(host_disk_cache_dir)" \
      "# Actions and tests find this host's Go first (gcc is the host's too)."
    echo "# The autodetected C toolchain prefers gold where gcc has it (this host's"
    echo "# binutils does, the root's has none): link with bfd, as in the root; gold"
    echo "# rejects the launcher's -z noseparate-code."
    echo "build --linkopt=-fuse-ld=bfd --host_linkopt=-fuse-ld=bfd"
    echo "# Actions run under process-wrapper, as in the root, where linux-sandbox is"
    echo "# not available. Here it is (the bundle's), but its user namespace maps root"
    echo "# alone, so a test that chowns a file to another user fails (EINVAL);"
    echo "# --spawn_strategy=linux-sandbox on the command line selects it."
    echo "build --spawn_strategy=processwrapper-sandbox"
  } >"$tmp"
  mv "$tmp" "$out"
  workspace_rc "$ws" "$out" "$share"
}

# run_portable_bazel BUNDLE ARGS... runs the bundled Bazel at BUNDLE on this
# host, in the caller's mount namespace, with the environment the root's
# route gives Bazel (plus JAVA_HOME, the bundled JDK) and its own output root.
run_portable_bazel() {
  local b=$1 ws
  shift
  [ -x "$b/bazel/bin/bazel" ] && [ -x "$b/jdk/bin/java" ] || die "no portable Bazel at $b"
  ws=$(pwd)
  while [ "$ws" != / ] && [ ! -f "$ws/MODULE.bazel" ]; do ws=$(dirname "$ws"); done
  local envs=(
    "PATH=$HOST_GO/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "HOME=${HOME:-/root}" "LANG=C.UTF-8" "TERM=${TERM:-dumb}"
    "GOPROXY=$(go env GOPROXY)" "GOSUMDB=$(go env GOSUMDB)" "GOFLAGS=-mod=mod"
    "RULES_PORTABLE_CACHE=$CACHE" "JAVA_HOME=$b/jdk" "PORTABLE_BAZEL_BUNDLE=$b"
  )
  [ -n "${CI:-}" ] && envs+=("CI=$CI")
  [ -n "${PORTABLE_DEBIAN_MIRROR:-}" ] && envs+=("PORTABLE_DEBIAN_MIRROR=$PORTABLE_DEBIAN_MIRROR")
  [ -n "${SOURCE_DATE_EPOCH:-}" ] && envs+=("SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH")
  mkdir -p "$PB_OUTPUT_ROOT"
  exec /usr/bin/env -i "${envs[@]}" "$b/bazel/bin/bazel" \
    --nosystem_rc \
    --install_base="$b/bazel/share/bazel" --trust_install_base \
    --server_javabase="$b/jdk" \
    --output_user_root="$PB_OUTPUT_ROOT" \
    --bazelrc="$(portable_bazel_rc "$b" "$ws")" \
    "$@"
}

# The mount namespace that commands run in. It is created once and kept
# (bound to a file under $NSDIR, which is a private tmpfs-backed directory
# that a reboot clears), so every run shares one view of the root: a Bazel
# server started by one call is found, and reused, by the next. Separate
# namespaces would make its working directory look moved, and the client
# would restart the server (and re-analyse everything) on every call.
# The mounts stay inside that namespace; the host never sees them.
NSDIR=${RULES_PORTABLE_RUNDIR:-/run/rules_portable}/$(printf '%s' "$CACHE" | cksum | cut -d' ' -f1)
NS=$NSDIR/mnt

# in_ns runs "$@" in the kept namespace.
in_ns() { nsenter --mount="$NS" -- "$@"; }

# same_dir tells whether host path $1 and path $2 in the namespace are the
# same directory (device and inode), e.g. not a deleted and recreated one.
same_dir() {
  [ "$(stat -c %d:%i "$1")" = "$(in_ns stat -c %d:%i "$2" 2>/dev/null)" ]
}

# ensure_ns creates the kept namespace if a reboot or `remove` dropped it,
# and bind-mounts the cache and workspace $1 into the root inside it.
ensure_ns() {
  local ws=$1
  mkdir -p "$NSDIR"
  exec 8>"$NSDIR.lock"
  flock 8
  if ! mountpoint -q "$NSDIR"; then
    mount --bind "$NSDIR" "$NSDIR"
    mount --make-private "$NSDIR"
  fi
  if ! in_ns true 2>/dev/null; then
    touch "$NS"
    unshare --mount="$NS" --propagation private true
    in_ns /bin/sh -ec '
      mount -t proc proc "$1/proc"
      mount --rbind /sys "$1/sys"; mount --make-rslave "$1/sys"
      mount --rbind /dev "$1/dev"; mount --make-rslave "$1/dev"
      mkdir -p "$1/tmp"; chmod 1777 "$1/tmp"' _ "$ROOT"
  fi
  local d
  for d in "$CACHE" "$ws"; do
    same_dir "$d" "$ROOT$d" && continue
    # Not mounted yet, or the host directory was replaced since.
    in_ns /bin/sh -ec '
      if mountpoint -q "$2$1"; then umount -l "$2$1"; fi
      mkdir -p "$2$1"
      mount --bind "$1" "$2$1"' _ "$d" "$ROOT"
  done
  flock -u 8
  exec 8>&-
}

# drop_ns stops the Bazel servers of this cache and unmounts the kept
# namespace; it ends when its last process does.
drop_ns() {
  pkill -TERM -f -- "--output_user_root=$OUTPUT_ROOT( |$)" 2>/dev/null || true
  if [ -e "$NS" ]; then umount "$NS" 2>/dev/null || true; fi
  if mountpoint -q "$NSDIR" 2>/dev/null; then umount -l "$NSDIR"; fi
  rm -rf "$NSDIR" "$NSDIR.lock"
}

# run_in_root runs "$@" in the root, in the kept mount namespace, with /proc,
# /sys, /dev, the cache and the workspace (the git top level, or cwd) mounted
# at the same absolute paths as on the host, so bazel-bin works outside.
run_in_root() {
  need_root run
  stamp_ok "$ROOT" "$ROOT_RECIPE" || die "no complete sid root at $ROOT; run: $0 ensure"
  local ws
  ws=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
  local envs=(
    "PATH=/opt/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "HOME=/root" "LANG=C.UTF-8" "TERM=${TERM:-dumb}"
    "GOPROXY=$(go env GOPROXY)" "GOSUMDB=$(go env GOSUMDB)" "GOFLAGS=-mod=mod"
    "RULES_PORTABLE_CACHE=$CACHE" "PORTABLE_IN_SIDROOT=1"
  )
  [ -n "${CI:-}" ] && envs+=("CI=$CI")
  [ -n "${PORTABLE_DEBIAN_MIRROR:-}" ] && envs+=("PORTABLE_DEBIAN_MIRROR=$PORTABLE_DEBIAN_MIRROR")
  [ -n "${SOURCE_DATE_EPOCH:-}" ] && envs+=("SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH")
  ensure_ns "$ws"
  # shellcheck disable=SC2016
  exec nsenter --mount="$NS" -- chroot "$ROOT" /usr/bin/env -i "${envs[@]}" \
    /bin/sh -c 'cd "$0" && exec "$@"' "$PWD" "$@"
}

case "${1:-}" in
  ensure) ensure ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    [ $# -gt 0 ] || die "usage: $0 run [--] CMD..."
    run_in_root "$@"
    ;;
  rcfile) shift; workspace_rc "${1:-}" ;;
  output-root) echo "$OUTPUT_ROOT" ;;
  portable-bazel) portable_bazel ;;
  portable-bazel-rc)
    shift
    [ $# -ge 1 ] || die "usage: $0 portable-bazel-rc BUNDLE [WORKSPACE]"
    portable_bazel_rc "$@"
    ;;
  run-portable-bazel)
    shift
    b=$PB
    if [ "${1:-}" = --bundle ]; then b=$2; shift 2; fi
    [ "${1:-}" = "--" ] && shift
    run_portable_bazel "$b" "$@"
    ;;
  remove)
    need_root remove
    drop_ns
    remove_leftovers
    stop_portable_bazel_servers
    rm -rf --one-file-system "$ROOT" "$MODS" "$RC" "$PB_DIR"
    ;;
  *)
    sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
