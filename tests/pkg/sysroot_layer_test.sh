#!/usr/bin/env bash
# The pkg_tar layer built from //sysroots:v2 holds the sysroot at
# usr/sysroot/v2, with its manifest and loader.
set -euo pipefail
layer=$1
names=$(tar -tf "$layer" | sed 's|^\./||')
for want in usr/sysroot/v2/.sysroot/manifest.json usr/sysroot/v2/usr/lib/x86_64-linux-gnu/libc.so.6 usr/sysroot/v2/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
  grep -qx "$want" <<<"$names" || { echo "FAIL: $layer lacks $want" >&2; exit 1; }
done
echo "$(wc -l <<<"$names") entries under usr/sysroot/v2: ok"
