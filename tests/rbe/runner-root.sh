#!/usr/bin/env bash
# runner-root.sh: the minimal Debian 12 root that Buildbarn's bb_runner
# runs actions in: `mmdebstrap --variant=minbase bookworm`: no compiler, no
# JDK, no Python (py_binary tools such as rules_pkg's tar writer run on the
# bundled interpreter of --@rules_portable//sysroots:bundled_python). Built
# once, reused after that.
#
#   tests/rbe/runner-root.sh        print the root's path (build it if needed)
#
# Where: $RULES_PORTABLE_CACHE/rbe/runner-root (default cache
# /var/cache/rules_portable). Mirror: the first URIs: line of
# /etc/apt/sources.list.d/debian.sources, or $PORTABLE_DEBIAN_MIRROR, read at
# run time. The root is made under a temp name and renamed into place only
# once it is complete and checked, with a stamp of this recipe: a root
# without the stamp (an interrupted run) is rebuilt.
#
# Callers never write into it: cluster.sh mounts it read-only under an
# overlay, so actions cannot change the next run's root.
set -euo pipefail

RECIPE="runner-root/3 minbase bookworm"
# What an action must not find in the root: a compiler, an assembler, a
# linker, a JDK or a Python.
FORBIDDEN=(gcc cc c++ g++ cpp clang as ld ld.bfd ld.gold java javac python3 python)

CACHE=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}
ROOT=$CACHE/rbe/runner-root
die() { printf 'rbe/runner-root.sh: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'rbe/runner-root.sh: %s\n' "$*" >&2; }

# check DIR: fail naming any compiler-like program found in DIR.
check() {
  local p d found=()
  for p in "${FORBIDDEN[@]}"; do
    for d in usr/bin bin usr/sbin sbin usr/local/bin; do
      if [ -e "$1/$d/$p" ] || [ -L "$1/$d/$p" ]; then found+=("/$d/$p"); fi
    done
  done
  [ ${#found[@]} = 0 ] || die "$1 has ${found[*]}: the runner root must have no compiler, linker, JDK or Python"
  [ -x "$1/bin/sh" ] || die "$1 has no /bin/sh: incomplete root"
}

if [ -f "$ROOT/.rules_portable-stamp" ] && [ "$(cat "$ROOT/.rules_portable-stamp")" = "$RECIPE" ]; then
  check "$ROOT"
  echo "$ROOT"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap makes device nodes and owners); try: sudo $0"
if ! command -v mmdebstrap >/dev/null; then
  log "installing mmdebstrap on the host"
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq mmdebstrap >&2
fi
mirror=${PORTABLE_DEBIAN_MIRROR:-}
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list.d/debian.sources ]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list.d/debian.sources; set PORTABLE_DEBIAN_MIRROR"

mkdir -p "$CACHE/rbe"
tmp=$(mktemp -d "$CACHE/rbe/runner-root.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "creating a minbase bookworm root (no compiler) in $tmp"
# A private mount namespace: mmdebstrap's own mounts vanish with it.
unshare --mount --propagation private -- mmdebstrap --quiet --variant=minbase \
  --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
  bookworm "$tmp" "deb $mirror bookworm main" >&2 || die "mmdebstrap failed for $tmp"
check "$tmp"
echo "$RECIPE" >"$tmp/.rules_portable-stamp"
rm -rf "$ROOT"
mv "$tmp" "$ROOT"
trap - EXIT
log "runner root ready at $ROOT"
echo "$ROOT"
