// Package sysroot builds versioned, immutable sysroots from pinned Debian
// packages, and checks them.
//
// A sysroot is the run-time half of a glibc system: the loader, libc and
// its companions (libstdc++, libgcc_s, whatever else the lock names),
// laid out the way a merged-/usr Debian system has them, so that
// SYSROOT/lib64/ld-linux-x86-64.so.2 can load a program against
// SYSROOT/usr/lib/x86_64-linux-gnu. The dev flavour adds headers, crt
// objects and linker scripts, enough for gcc --sysroot=SYSROOT to link
// against it.
//
// The steps:
//
//   - Lock resolves package names against the signed Packages index of a
//     suite into a deb.Lockfile (name, version, pool path, size, sha256);
//   - Fetcher downloads pool files into a content-addressed Cache, checking
//     size and sha256 before anything lands under its final name;
//   - Build extracts the data trees, maps /bin, /lib, /lib64 ... into /usr
//     as usrmerge does, rewrites absolute symlinks to relative ones, places
//     the loader at the architecture's canonical path, reads the glibc
//     version out of libc.so.6 itself and writes .sysroot/manifest.json;
//     the result is a directory or a deterministic .tar / .tar.zst;
//   - Verify checks a sysroot against its manifest;
//   - CheckCompat is the symbol-version gate: a binary that needs a newer
//     GLIBC_x.y than the sysroot has is refused with both versions named.
package sysroot
