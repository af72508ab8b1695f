#!/bin/sh
# Rebuilds the checked-in test binaries. Debian 12 packages: gcc,
# gcc-i686-linux-gnu, gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf,
# gcc-riscv64-linux-gnu, gcc-powerpc64le-linux-gnu, gcc-s390x-linux-gnu,
# gcc-mips-linux-gnu (all gcc 12.2). The outputs are not bit-reproducible
# across toolchain versions; the tests only rely on what readelf reports.
set -eu
cd "$(dirname "$0")"
CFLAGS="-Os -s -fno-asynchronous-unwind-tables"
gcc $CFLAGS -o hello-x86_64 hello.c
gcc $CFLAGS -no-pie -o hello-x86_64-nopie hello.c
gcc $CFLAGS -Wl,-rpath,/opt/old/lib -Wl,--enable-new-dtags -o hello-x86_64-runpath hello.c
gcc $CFLAGS -Wl,-rpath,/opt/old/lib -Wl,--disable-new-dtags -o hello-x86_64-rpath hello.c
gcc $CFLAGS -shared -fPIC -Wl,-soname,libhello.so.1 -o libhello-x86_64.so hello.c
gcc -Os -s -nostdlib -static -o nolibc-x86_64-static nolibc.c
gcc -Os -s -nostdlib -static-pie -fPIE -o nolibc-x86_64-static-pie nolibc.c
i686-linux-gnu-gcc $CFLAGS -o hello-i386 hello.c
aarch64-linux-gnu-gcc $CFLAGS -o hello-aarch64 hello.c
arm-linux-gnueabihf-gcc $CFLAGS -o hello-arm hello.c
riscv64-linux-gnu-gcc $CFLAGS -o hello-riscv64 hello.c
powerpc64le-linux-gnu-gcc $CFLAGS -o hello-ppc64le hello.c
s390x-linux-gnu-gcc $CFLAGS -o hello-s390x hello.c
mips-linux-gnu-gcc $CFLAGS -o hello-mips hello.c
