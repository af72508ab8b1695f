#!/usr/bin/env bash
# End-to-end check of examples/bump: the same app bundled against v1, v2
# and v3, each run outside Bazel and reporting its own glibc.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
../../tools/bazel build //app:all @rules_portable//sysroots:v2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for pair in v1=2.36 v2=2.41 v3=2.43; do
  v=${pair%=*} want=${pair#*=}
  tar -C "$dir" -xf "bazel-bin/app/app_$v.tar"
  out=$("$dir/app_$v/bin/app")
  echo "app_$v: $out"
  [ "$out" = "glibc $want" ] || { echo "FAIL: app_$v says '$out', want 'glibc $want'" >&2; exit 1; }
done
tar -C "$dir" -xf bazel-bin/app/prebuilt_v2.tar
out=$("$dir/prebuilt_v2/bin/prebuilt_app")
[ "$out" = "glibc 2.41" ] || { echo "FAIL: prebuilt_v2 says '$out'" >&2; exit 1; }
echo "prebuilt_v2: $out"

# The installed model, in a root that has only /usr/sysroot/v2 and the apps.
v2tar=$(../../tools/bazel cquery --output=files @rules_portable//sysroots:v2 2>/dev/null | grep '\.tar$')
root=$dir/root
mkdir -p "$root"
tar -C "$root" -xf "$v2tar"
cp bazel-bin/app/app_installed_v2 bazel-bin/app/app_linked_v2 "$root/"
for app in app_installed_v2 app_linked_v2; do
  out=$(chroot "$root" "/$app")
  echo "$app in a root with only /usr/sysroot/v2: $out"
  [ "$out" = "glibc 2.41" ] || { echo "FAIL: $app says '$out'" >&2; exit 1; }
done
# The linker reserved a PATH_MAX slot: PT_INTERP's p_filesz is 0x1000 bytes
# (read from the ELF64 program headers here, independently of the helper).
interp_size=$(python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
phoff, = struct.unpack_from("<Q", b, 32)
phentsize, phnum = struct.unpack_from("<HH", b, 54)
for i in range(phnum):
    off = phoff + i * phentsize
    if struct.unpack_from("<I", b, off)[0] == 3:  # PT_INTERP
        print(struct.unpack_from("<Q", b, off + 32)[0])
' bazel-bin/app/app_linked_v2)
[ "$interp_size" = 4096 ] ||
  { echo "FAIL: app_linked_v2's PT_INTERP is not a 4096-byte slot" >&2; exit 1; }
echo "examples/bump: ok"
