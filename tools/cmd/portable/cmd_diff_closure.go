package main

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
	"github.com/rules-portable/rules_portable/tools/internal/trace"
)

const diffClosureUsage = "[--record FILE] [--as PATH] [-v] BUNDLE"

const diffClosureHelp = `
Compare what a run of a bundle loaded with what the bundle holds (its
static closure: every ELF object its manifest lists), so a build can fail
when a program needs something the bundle does not give it.

The record comes from the bundle's audit module in record mode:

  PORTABLE_AUDIT_RECORD=/tmp/curl.rec ./curl/bin/curl --version
  portable diff-closure --record /tmp/curl.rec ./curl

'portable bundle --trace' keeps the record of its sample run in the
bundle as .portable/trace, the default --record. Runs may append to one
record. Paths inside BUNDLE (as given, with symlinks resolved, or at --as
PATH where a chroot or container saw it) count as the bundle's own.

Printed, one per line, and each a difference (exit status 1):
  host: PATH       an object loaded from outside the bundle
  refused: PATH    one the bundle's policy kept out (asked for by a path
                   outside the bundle: add it, or let it in with --host-lib)
  missing: NAME    a library asked for by name that nothing answered
                   (a dlopen of something the bundle lacks: --add it)
  unlisted: PATH   an object inside the bundle its manifest does not list
  host-data: PATH  glibc runtime data (locale archive, gconv cache) mapped
                   from the host
With -v also "unused: PATH" for objects the run never loaded (not a
difference: code paths the run did not take). The exit status is 0 when
the run needed nothing the bundle lacks.
`

func runDiffClosure(e *env, args []string) error {
	fs := newFlagSet(e, "diff-closure", diffClosureUsage, diffClosureHelp)
	recPath := fs.String("record", "", "the record `FILE` (default BUNDLE/.portable/trace)")
	as := fs.String("as", "", "the run saw the bundle at the absolute `PATH` (a chroot or container)")
	verbose := fs.Bool("v", false, "also list the objects the run did not load")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("diff-closure: want exactly one bundle directory")
	}
	dir := fs.Arg(0)
	if *as != "" && (!path.IsAbs(*as) || path.Clean(*as) != *as) {
		return usagef("diff-closure: --as %q: want a clean absolute path", *as)
	}
	m, err := manifest.Read(dir)
	if err != nil {
		return err
	}
	if *recPath == "" {
		*recPath = filepath.Join(dir, filepath.FromSlash(trace.BundlePath))
	}
	data, err := fsutil.ReadInput("--record", *recPath, fsutil.MaxSmallFileSize)
	if err != nil {
		return err
	}
	rec, err := trace.Parse(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: %w", *recPath, err)
	}
	for _, root := range bundleRoots(dir, *as) {
		rec.Normalise(root)
	}
	objects, err := closureObjects(dir, m)
	if err != nil {
		return err
	}
	d := trace.Compare(m, objects, rec)
	for _, g := range []struct {
		what  string
		paths []string
	}{{"host", d.Host}, {"refused", d.Refused}, {"missing", d.Missing}, {"unlisted", d.Unlisted}, {"host-data", d.HostData}} {
		for _, p := range g.paths {
			fmt.Fprintf(e.stdout, "%s: %s\n", g.what, p)
		}
	}
	if *verbose {
		for _, p := range d.Unused {
			fmt.Fprintf(e.stdout, "unused: %s\n", p)
		}
	}
	n := len(d.Host) + len(d.Refused) + len(d.Missing) + len(d.Unlisted) + len(d.HostData)
	if d.Drift() {
		return fmt.Errorf("%s: the run of record %s needed %d thing(s) the bundle does not give; see above", dir, *recPath, n)
	}
	fmt.Fprintf(e.stdout, "%s: ok (the run loaded %d of the bundle's %d objects and nothing else)\n", dir, d.Loaded, len(objects))
	return nil
}

// bundleRoots lists the absolute paths a record may name the bundle by.
func bundleRoots(dir, as string) []string {
	var roots []string
	if abs, err := filepath.Abs(dir); err == nil {
		roots = append(roots, abs)
		if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
			roots = append(roots, real)
		}
	}
	if as != "" {
		roots = append(roots, as)
	}
	return roots
}

// closureObjects returns the manifest's ELF objects: the files ld.so may
// map (the launchers in bin/ are static and never are).
func closureObjects(dir string, m *manifest.Manifest) (map[string]bool, error) {
	out := map[string]bool{}
	for _, e := range m.Files {
		// The audit module is mapped before it can record anything.
		if e.Type != manifest.File || strings.HasPrefix(e.Path, "bin/") || e.Path == manifest.AuditModulePath || e.Size < 4 {
			continue
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w (run portable verify %s)", e.Path, err, dir)
		}
		var magic [4]byte
		_, err = f.ReadAt(magic[:], 0)
		f.Close()
		if err == nil && string(magic[:]) == "\x7fELF" {
			out[e.Path] = true
		}
	}
	return out, nil
}
