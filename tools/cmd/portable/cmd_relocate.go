package main

import (
	"fmt"

	"github.com/rules-portable/rules_portable/tools/internal/bundle"
)

const relocateHelp = `
Re-point the interpreter slot of every executable under DIR/libexec to the
loader at DIR/lib, where DIR is now. The launcher does the same on the first
run after a move when the bundle is writable; run this ahead of time for
installs, before making a bundle read-only (so that helpers a program runs
directly, such as gcc's cc1, find their loader), or to skip the launcher's
one-time fix-up.

It uses the launcher's algorithm: under an exclusive lock of
DIR/.portable/lock, each stale file is copied next to itself, the copy's
slot is written and the copy renamed over the original, which is never
opened for writing, so running programs and concurrent launches are safe.
DIR's symlinks are resolved first: the slots name its canonical path.

--direct also replaces each bin/NAME launcher with a symlink to
../libexec/NAME, for zero launcher cost; moving the bundle again then needs
another relocate (or the links will name a loader that is gone). The
manifest is updated to match, so 'portable verify' still passes.

--as PATH writes the slots for a bundle that will be at PATH, not where it
is now: prepare it here, then copy it into an image or bind-mount it
read-only at PATH, and helpers it spawns find their loader at once.

Examples:
  portable relocate /opt/curl
  portable relocate --as /opt/app ./rootfs/opt/app
  portable relocate --direct /opt/curl && ln -s /opt/curl/bin/curl /usr/local/bin/
`

func runRelocate(e *env, args []string) error {
	fs := newFlagSet(e, "relocate", "[--direct] [--as PATH] DIR", relocateHelp)
	var opts bundle.RelocateOptions
	fs.BoolVar(&opts.Direct, "direct", false, "also replace bin/ launchers with symlinks to the real programs")
	fs.StringVar(&opts.As, "as", "", "re-point as if the bundle lay at the absolute `PATH` (where it will be mounted or copied)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("relocate: want exactly one bundle directory")
	}
	res, err := bundle.Relocate(fs.Arg(0), opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d executables re-pointed", res.Root, len(res.Repointed))
	if opts.Direct {
		fmt.Fprintf(e.stdout, ", %d launchers replaced by symlinks", len(res.Direct))
	}
	fmt.Fprintln(e.stdout)
	return nil
}
