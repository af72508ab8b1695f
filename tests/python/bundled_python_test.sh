#!/usr/bin/env bash
# bundled_python_test.sh PYTHON: checks the portable_python interpreter
# script PYTHON (runfiles path) and the bundle beside it.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
python=$PWD/$1
[ -x "$python" ] || fail "$python is not an executable"

# Python 3.11, with the standard library's pure and extension modules (the
# ones rules_pkg's tar writer and common tools use), from the bundle.
out=$("$python" - <<'PY'
import sys, os, tarfile, gzip, bz2, lzma, zlib, hashlib, json, ssl, sqlite3, ctypes, argparse
print("version", "%d.%d" % sys.version_info[:2])
print("prefix", sys.prefix)
print("sha256", hashlib.sha256(b"abc").hexdigest())
# Every shared object this process mapped: the bundle's own.
for line in open("/proc/self/maps"):
    f = line.split()
    if len(f) >= 6 and ".so" in f[5]:
        print("mapped", os.path.realpath(f[5]))
PY
) || fail "the bundled Python failed: $out"
echo "$out" | grep -v '^mapped' 
grep -qx 'version 3.11' <<<"$out" || fail "not Python 3.11: $out"
grep -qx 'sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' <<<"$out" || fail "hashlib gave a wrong sha256"
prefix=$(sed -n 's/^prefix //p' <<<"$out")
bundle=$(dirname "$python")/$(basename "$python").bundle
# The sandbox may stage the runfiles' bundle as links to the real files:
# the interpreter of sys.prefix must be the bundle's, by inode.
[ "$prefix/bin/python3.11" -ef "$bundle/bin/python3.11" ] || fail "sys.prefix is $prefix, not the bundle $bundle"
bundle=$(cd "$prefix" && pwd -P)
n=0
while read -r obj; do
  n=$((n + 1))
  case $obj in "$bundle"/*) ;; *) fail "mapped a shared object from outside the bundle: $obj" ;; esac
done < <(sed -n 's/^mapped //p' <<<"$out" | sort -u)
[ "$n" -ge 5 ] || fail "only $n shared objects mapped: the check saw nothing"
echo "$n distinct shared objects mapped, all from the bundle"

# Moved to another directory, read-only: the same.
copy=$TEST_TMPDIR/moved
mkdir -p "$copy"
cp -a "$bundle" "$copy/python.bundle"
printf '#!/bin/sh\nexec "${0%%/*}/python.bundle/bin/python3.11" "$@"\n' >"$copy/python"
chmod +x "$copy/python"
chmod -R a-w "$copy"
got=$("$copy/python" -c 'import sys, zlib; print(sys.prefix)') || fail "the moved copy failed"
[ "$got" = "$copy/python.bundle" ] || fail "the moved copy's sys.prefix is $got"
chmod -R u+w "$copy"
echo "PASS: the bundled Python 3.11 runs from its bundle, moved and read-only"
