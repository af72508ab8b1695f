// Package bundle builds relocatable bundles: a directory or a tar holding
// programs, their whole library closure (glibc and its loader included),
// a tiny launcher per program and a manifest, which runs from any
// directory on any Linux of the same architecture, even an empty root.
//
// # Layout
//
//	B/bin/NAME               the launcher (embedded in the CLI); entry points share one file via hard links
//	B/libexec/NAME           the real program: PT_INTERP is a 4096-byte slot, DT_RPATH=$ORIGIN/../lib
//	B/libexec/DEST           an executable that --add brought in (see below), slotted the same way
//	B/lib/<loader>           the loader of the bundled libc (e.g. ld-linux-x86-64.so.2), unpatched
//	B/lib/NAME               every library of the closure under the name it is asked for (DT_NEEDED),
//	                         with DT_RPATH=$ORIGIN and no DT_RUNPATH
//	B/.portable/manifest.json  see package manifest
//
// A slot initially holds Placeholder(loader), an absolute path that ends in
// the loader's name; the launcher (or Relocate) re-points it to
// B/lib/<loader> where the bundle lies. See launcher/README.md for the
// contract with the launcher.
//
// # What goes in
//
// The closure is computed by package deps inside the chosen root (the host
// "/" or a sysroot), without running anything. A library that cannot be
// found is an error naming it and what needs it. Two different files that
// would land on the same bundle path, or two programs of the same name, are
// an error naming both sources. Identical files are stored once (hard
// links in the directory and in the tar). Inside a sysroot, paths follow
// the symlinks its manifest records rather than the disk, so a copy of the
// sysroot whose links became copies (lib a directory beside usr/lib, as
// Bazel's remote execution stages it) gives the same bundle.
//
// glibc loads some libraries itself with dlopen; they are added by policy,
// not by luck:
//   - libnss_files.so.2 and libnss_dns.so.2 when the root has them (glibc
//     2.34 and later build both into libc.so.6 and ship these files as
//     empty stubs, which are still added so a program that names them finds
//     them). Other NSS modules (systemd, mdns, ldap) are not added; pass
//     them with --add when the bundle needs them.
//   - libgcc_s.so.1, which pthread_cancel and pthread_exit need for
//     unwinding. A root without it gets a warning, not an error.
//   - with Options.Gconv, the gconv modules directory next to libc.so.6 as
//     lib/gconv. glibc only looks for gconv modules in a path fixed when it
//     was built, or in $GCONV_PATH; since the launcher never sets the
//     environment, a program finds them only when the user sets
//     GCONV_PATH=B/lib/gconv.
//
// Closure libraries are patched only when they carry DT_RPATH or
// DT_RUNPATH (rewritten to DT_RPATH=$ORIGIN): ld.so resolves the
// dependencies of a library without DT_RUNPATH through the DT_RPATH of its
// loaders up to the executable, and every bundled executable has
// DT_RPATH=$ORIGIN/../lib, so the rest (glibc's own libraries among them)
// are stored byte for byte as they came. A library with DT_RUNPATH would
// switch that search off and look on the host, hence the rewrite.
//
// # --add
//
// Add{Src, Dest} copies a file or a directory tree into the bundle at Dest
// (relative to the bundle root). When Dest is empty it is derived from Src:
// a single ELF shared library goes to lib/<name>; anything else keeps its
// path inside the root with a leading usr/ dropped, so /usr/lib/python3.11
// becomes lib/python3.11 and /etc/ssl/certs becomes etc/ssl/certs (prefix
// lookups such as Python's, which search upwards from the program for
// lib/python3.X, then find it). Inside an added tree:
//   - an ELF executable with an interpreter goes to libexec/DEST with a
//     slot and a DT_RPATH into lib/, and DEST becomes a relative symlink to
//     it, so a program that runs it by its usual relative path (gcc running
//     cc1) gets a re-pointable copy that the launcher's fix-up finds;
//   - an ELF shared object keeps its place and gets DT_RPATH made of its
//     $ORIGIN-relative entries plus the way to lib/ ($ORIGIN/../../lib, ...);
//   - the closure of every such ELF is added to lib/;
//   - symlinks that stay inside the tree are kept (made relative); symlinks
//     that leave it are replaced by what they point to; dangling ones are
//     skipped with a warning;
//   - other files are copied as they are.
//
// Python's bytecode caches record their source's mtime; archives carry a
// fixed mtime, so Python finds the caches stale, recompiles, and, when the
// bundle is writable, rewrites them (verify then lists those .pyc files as
// changed). Set PYTHONDONTWRITEBYTECODE=1, or ship the bundle read-only,
// to keep it as built.
//
// # Output
//
// Build writes a directory (renamed into place from a temp directory next
// to it) or a .tar, .tar.gz or .tar.zst (package archive, written to a temp
// file and renamed). On any error nothing is left at the output path. The
// same inputs give byte-identical archives.
package bundle
