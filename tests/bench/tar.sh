#!/usr/bin/env bash
# Benchmark: our tar writer against rules_pkg's pkg_tar, packing the same
# files, side by side in one run (hyperfine, alternating).
#
# Ours is the writer behind `portable bundle --tar` and the sysroot rule's
# tar (tools/internal/archive, run alone by its tarwriter command). The peer
# is the program a pkg_tar action runs: rules_pkg's build_tar.py, given a
# manifest with the directory as one tree entry, as pkg_tar passes a tree
# artifact, with the flags pkg_tar passes by default (--mode 0555 --owner
# 0.0 --directory / --mtime portable). Both run as a process
# per archive, as each does under Bazel.
#
# File sets: the v2 sysroot (a few hundred shared libraries, 25 MB) and a
# bundle of python3 with its standard library (thousands of small files).
# Each is packed as .tar and as .tar.gz. Prints, per case, the mean times,
# the ratio (pkg_tar time / ours: above 1 means ours is faster) and both
# output sizes. Not a test: nothing fails on time.
#
#   tests/bench/tar.sh [RUNS]   (default 10)
set -euo pipefail
runs=${1:-10}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for tool in hyperfine python3 go; do
  command -v "$tool" >/dev/null || { echo "missing $tool (install the Debian package that ships it)" >&2; exit 1; }
done

# rules_pkg comes from the offline Bazel root (Debian's bazel-rules-pkg).
sidroot=$("$top/tools/offline/sidroot.sh" ensure)
rules_pkg=$sidroot/usr/share/bazel/rules/pkg
[ -f "$rules_pkg/pkg/private/tar/build_tar.py" ] || { echo "no rules_pkg in $sidroot" >&2; exit 1; }
version=$(sed -n '/^ *version = "/{s/^ *version = "\([^"]*\)".*/\1/p;q}' "$rules_pkg/MODULE.bazel")

(cd "$top" && go build -o "$work/tarwriter" ./tools/internal/archive/tarwriter)
if [ -n "${PORTABLE_BIN:-}" ]; then cp "$PORTABLE_BIN" "$work/portable"; else (cd "$top" && go build -o "$work/portable" ./tools/cmd/portable); fi

# The file sets.
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
export PORTABLE_DEBIAN_MIRROR=${PORTABLE_DEBIAN_MIRROR:-$mirror}
cache=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}/debs
mkdir -p "$cache"
"$work/portable" sysroot build --lock "$top/sysroots/v2.lock.json" --label v2 --cache "$cache" -o "$work/v2" >/dev/null 2>&1
py=$(python3 -c 'import sys; print("/usr/lib/python%d.%d" % sys.version_info[:2])')
"$work/portable" bundle -o "$work/python3" --add "$py" /usr/bin/python3 >/dev/null 2>&1

printf 'tar writing: ours (tools/internal/archive) against rules_pkg %s build_tar.py (pkg_tar), %d runs each\n' "$version" "$runs"
for set in v2 python3; do
  dir=$work/$set
  files=$(find "$dir" -type f | wc -l)
  mb=$(du -sm --apparent-size "$dir" | cut -f1)
  printf '[{"type": "tree", "dest": "", "src": "%s", "mode": null, "user": null, "group": null, "origin": null}]\n' "$dir" >"$work/$set.manifest"
  for ext in tar tar.gz; do
    comp=""
    [ "$ext" = tar.gz ] && comp="--compression gz"
    ours="$work/tarwriter $dir $work/ours.$ext"
    peer="env PYTHONPATH=$rules_pkg python3 $rules_pkg/pkg/private/tar/build_tar.py --output $work/peer.$ext --mode 0555 --owner 0.0 --owner_name . --directory / --manifest $work/$set.manifest --mtime portable $comp"
    hyperfine --style none --warmup 1 --runs "$runs" --export-json "$work/r.json" -n ours "$ours" -n pkg_tar "$peer" >/dev/null
    python3 - "$work/r.json" "$set ($files files, $mb MB) .$ext" "$(stat -c %s "$work/ours.$ext")" "$(stat -c %s "$work/peer.$ext")" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
o, p = r["ours"]["mean"], r["pkg_tar"]["mean"]
so, sp = int(sys.argv[3]), int(sys.argv[4])
print("%-36s ours %7.1f ms  pkg_tar %7.1f ms  ratio %5.2fx  size ours/pkg_tar %.3f (%d / %d bytes)"
      % (sys.argv[2], o * 1000, p * 1000, p / o, so / sp, so, sp))
print("RESULT\ttar writer, %s vs rules_pkg build_tar.py\t%.3fs\t%.3fs\t%.3f\t< 1.0" % (sys.argv[2], o, p, o / p))
EOF
  done
done
