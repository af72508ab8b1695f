// Package ldso closes a glibc dynamic loader (ld.so) to the host's library
// universe, by neutralising the paths compiled into it.
//
// A glibc loader, after the DT_RPATH, LD_LIBRARY_PATH and DT_RUNPATH of the
// objects it loads, looks a library up in /etc/ld.so.cache and then in its
// default directories (on Debian /lib/<triplet>/, /usr/lib/<triplet>/,
// /lib/ and /usr/lib/), and before any of that it loads the libraries
// listed in /etc/ld.so.preload. A bundle carries its own loader, but that
// loader still reads the host's cache and preload list and still searches
// the host's directories when the bundle lacks a library, mixing libraries
// built for another glibc into the process.
//
// Close rewrites those strings in a copy of the loader, in place, keeping
// every length and offset:
//
//   - "/etc/ld.so.cache" and "/etc/ld.so.preload" become empty strings (their
//     first byte NUL). The loader then calls open("") and access(""), which
//     fail with ENOENT on every system, and carries on as if the files did
//     not exist; it never retries.
//   - every default directory becomes NUL bytes of the same length. The
//     loader joins a directory and a name with memcpy, so each such lookup
//     is open("") (ENOENT); it then stat("")s the directory, marks it
//     nonexistent and never tries it again.
//
// A closed loader still honours DT_RPATH, DT_RUNPATH, LD_LIBRARY_PATH,
// LD_PRELOAD and everything else a user sets; only the three host sources
// are gone. The alternatives measured against this (an rtld-audit module's
// la_objsearch, and starting the program through "ld.so --inhibit-cache")
// are described in docs/closed.md: the first cannot stop the preload file
// from being read and costs an extra object per start, the second changes
// /proc/self/exe and argv handling.
//
// The strings are found by content, not by offset, so any glibc build whose
// loader holds them (every Debian glibc from 2.31 to 2.44 does) can be
// closed; a loader without them is an error rather than a silently open
// bundle.
package ldso
