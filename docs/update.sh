#!/usr/bin/env bash
# Copies the generated API pages (arguments: runfiles paths of
# docs/NAME_gen.md) over the checked-in docs/NAME.md. Run it through Bazel:
#
#   tools/bazel run //docs:update
#
# Each page is written to a temp file next to its destination and renamed
# into place, so an interrupted run never leaves a half-written page.
set -euo pipefail
if [ -z "${BUILD_WORKSPACE_DIRECTORY:-}" ]; then
  echo "update.sh: run me with: tools/bazel run //docs:update" >&2
  exit 2
fi
[ $# -gt 0 ] || { echo "update.sh: no generated pages given" >&2; exit 2; }
dest_dir=$BUILD_WORKSPACE_DIRECTORY/docs
for src in "$@"; do
  name=$(basename "$src")
  case "$name" in
    *_gen.md) ;;
    *) echo "update.sh: $src is not a generated page (NAME_gen.md)" >&2; exit 2 ;;
  esac
  dest=$dest_dir/${name%_gen.md}.md
  if cmp -s "$src" "$dest"; then
    echo "docs/${name%_gen.md}.md: up to date"
    continue
  fi
  tmp=$(mktemp "$dest_dir/.${name%_gen.md}.md.XXXXXX")
  if ! { cp "$src" "$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$dest"; }; then
    rm -f "$tmp"
    echo "update.sh: could not write $dest" >&2
    exit 1
  fi
  echo "docs/${name%_gen.md}.md: updated"
done
