#!/usr/bin/env bash
# Benchmark: `portable image -o DIR BUNDLE` (an OCI image layout of a
# bundle) against what a Bazel user assembles by hand without it: rules_pkg's
# build_tar.py (what pkg_tar runs) packing the same bundle under /opt/NAME
# as a gzip layer, then a small script that hashes it and writes the OCI
# layout (config, manifest, index, blobs). Both run as a process each, side
# by side (hyperfine, alternating). Bundles: curl, and python3 with its
# standard library.
#
#   tests/bench/image.sh [RUNS]   (default 10)
#
# Prints "RESULT<TAB>metric<TAB>ours<TAB>peer<TAB>ratio<TAB>goal" lines for
# tests/bench/run. Not a test: nothing fails on time.
set -euo pipefail
runs=${1:-10}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for tool in hyperfine python3 go; do
  command -v "$tool" >/dev/null || { echo "missing $tool (install the Debian package that ships it)" >&2; exit 1; }
done
sidroot=$("$top/tools/offline/sidroot.sh" ensure)
rules_pkg=$sidroot/usr/share/bazel/rules/pkg
[ -f "$rules_pkg/pkg/private/tar/build_tar.py" ] || { echo "no rules_pkg in $sidroot" >&2; exit 1; }
if [ -n "${PORTABLE_BIN:-}" ]; then cp "$PORTABLE_BIN" "$work/portable"; else (cd "$top" && go build -o "$work/portable" ./tools/cmd/portable); fi

# The hand-written layout: hash the layer, write config, manifest, index.
cat >"$work/layout.py" <<'PY'
import gzip, hashlib, json, os, shutil, sys
layer, out, name = sys.argv[1:4]
raw = gzip.decompress(open(layer, "rb").read())
os.makedirs(out + "/blobs/sha256")
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(out + "/blobs/sha256/" + d, "wb").write(data)
    return "sha256:" + d, len(data)
ld, ls = blob(open(layer, "rb").read())
cd, cs = blob(json.dumps({"architecture": "amd64", "os": "linux",
    "config": {"Entrypoint": ["/opt/%s/bin/%s" % (name, name)]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}).encode())
md, ms = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}]}).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms}]}, open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY

py=$(python3 -c 'import sys; print("/usr/lib/python%d.%d" % sys.version_info[:2])')
"$work/portable" bundle -o "$work/curl" /usr/bin/curl >/dev/null 2>&1
"$work/portable" bundle -o "$work/python3" --add "$py" /usr/bin/python3 >/dev/null 2>&1
for name in curl python3; do
  dir=$work/$name
  printf '[{"type": "tree", "dest": "opt/%s", "src": "%s", "mode": null, "user": null, "group": null, "origin": null}]\n' "$name" "$dir" >"$work/$name.manifest"
  ours="rm -rf $work/o && $work/portable image -o $work/o $dir"
  peer="rm -rf $work/p $work/p.tar.gz && env PYTHONPATH=$rules_pkg python3 $rules_pkg/pkg/private/tar/build_tar.py --output $work/p.tar.gz --mode 0555 --owner 0.0 --owner_name . --directory / --manifest $work/$name.manifest --mtime portable --compression gz && python3 $work/layout.py $work/p.tar.gz $work/p $name"
  hyperfine --style none --warmup 1 --runs "$runs" --export-json "$work/r.json" -n ours "$ours" -n peer "$peer" >/dev/null
  python3 - "$work/r.json" "$name" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
o, p = r["ours"], r["peer"]
print("image of the %s bundle: portable image %.3fs, pkg_tar + hand-written layout %.3fs, ratio %.3f" % (sys.argv[2], o, p, o / p))
print("RESULT\timage of the %s bundle vs pkg_tar + a hand-written OCI layout\t%.3fs\t%.3fs\t%.3f\t< 1.0" % (sys.argv[2], o, p, o / p))
PY
done
