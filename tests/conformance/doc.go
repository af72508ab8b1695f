// Package conformance is the self-location conformance suite of the
// launcher: it bundles a small C probe (testdata/probe.c), runs it through
// the launcher in every mode (fast path, fix-up after a move, a read-only
// bind mount, an empty root via chroot) and asserts what the program sees:
// /proc/self/exe, argv[0], AT_EXECFN, the environment byte for byte, exit
// statuses and signals, re-exec through /proc/self/exe, and clean one-line
// failures. It needs root (mount, chroot), gcc and patchelf.
//
// Run it with `go test ./tests/conformance/` (add -v for each case).
package conformance
