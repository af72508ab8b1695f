// Package deps computes the shared-library closure of ELF programs by
// emulating glibc's dynamic loader, ld.so, inside a chosen root directory
// (this machine's "/" or a sysroot), without running anything.
//
// For every DT_NEEDED name it takes the steps of glibc's _dl_map_object,
// in order:
//
//  1. a name containing '/' is a path (after $ORIGIN expansion);
//  2. an object already loaded is reused when the name matches a name it
//     was loaded by or its DT_SONAME, or when the file found is the same
//     file (device and inode);
//  3. DT_RPATH of the object that needs the name, then of the object that
//     loaded that one, and so on up to the executable, all skipped when
//     the needing object has DT_RUNPATH (DT_RPATH is ignored in any object
//     that also has DT_RUNPATH);
//  4. LD_LIBRARY_PATH, only when Options.LibraryPath sets one;
//  5. DT_RUNPATH of the needing object only, never of its loaders;
//  6. the root's /etc/ld.so.cache, or a cache emulated from its
//     /etc/ld.so.conf (see CacheMode);
//  7. ld.so's trusted directories (Debian: /lib/<tuple>, /usr/lib/<tuple>,
//     /lib, /usr/lib), unless the needing object has DF_1_NODEFLIB.
//
// Each directory is searched with the glibc-hwcaps subdirectories the
// emulated CPU supports first (and, for glibc before 2.37, the legacy
// tls/ and platform subdirectories), then itself. $ORIGIN, $LIB and
// $PLATFORM are expanded as glibc does, including the braced forms. A
// candidate file is checked like glibc's open_verify: one of the other
// ELF class or another machine is passed over and the search goes on,
// while a file ld.so cannot use at all (not ELF, too short, a directory,
// the wrong byte order) stops ld.so, and is reported as such. A symlink
// loop ends the current search list, as it does in ld.so.
//
// All lookups stay inside the root: symlinks are followed component by
// component, an absolute link target starts again at the root and ".."
// stops at it. A root that records its own symlinks (Options.Symlinks, a
// sysroot's manifest) is walked by that record where the disk holds
// copies. Results name files the way ld.so would (the search directory
// plus the name), canonically inside the root, and on the host.
//
// What is not emulated: LD_PRELOAD and /etc/ld.so.preload, DT_AUXILIARY
// and DT_FILTER objects, LD_AUDIT, secure (setuid) mode, the ABI-tag note
// check against the running kernel, and the x86 ISA-level check made
// after loading; dlopen'ed libraries are by nature outside any closure.
//
// TestOracleLddUsrBin compares the result with ldd for every dynamic
// executable in /usr/bin.
package deps
