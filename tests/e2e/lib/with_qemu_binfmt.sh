#!/usr/bin/env bash
# with_qemu_binfmt.sh ARCH CMD...: runs CMD where the kernel executes ELF
# files of ARCH (aarch64) through qemu-user, as on a machine of that
# architecture: execve of such a file works, so a bundle's launcher can exec
# the real program.
#
# It re-runs itself in a new user and mount namespace and registers
# qemu-ARCH with a binfmt_misc instance of its own (Linux 6.7+), so the
# host's binfmt_misc is never touched and nothing outlives CMD. Inside, CMD
# runs as root of that namespace and may make private mounts (a read-only
# bind mount, say).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 ARCH CMD..." >&2; exit 2; }
arch=$1
shift
case $arch in
aarch64)
  # ELF header of a 64-bit little-endian executable or shared object for
  # EM_AARCH64 (183), and the mask that ignores the OS ABI and the type's low bit.
  magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
  mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
  ;;
*) echo "$0: no binfmt entry for $arch (want aarch64)" >&2; exit 2 ;;
esac
qemu=$(command -v "qemu-$arch") || { echo "$0: qemu-$arch not found (Debian package qemu-user)" >&2; exit 1; }

if [ "${PORTABLE_IN_BINFMT_NS:-}" != "$arch" ]; then
  PORTABLE_IN_BINFMT_NS=$arch exec unshare --user --map-root-user --mount "$0" "$arch" "$@"
fi
unset PORTABLE_IN_BINFMT_NS
mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || {
  echo "$0: cannot mount a private binfmt_misc (needs Linux 6.7 or newer; this is $(uname -r))" >&2
  exit 1
}
# F: qemu is opened now, so it need not be reachable from CMD's root;
# P: the program gets its own argv[0], not the path qemu was started with.
# The kernel decodes the \x escapes itself (raw bytes would hold NULs).
printf '%s' ":qemu-$arch:M::$magic:$mask:$qemu:FP" >/proc/sys/fs/binfmt_misc/register
"$@"
