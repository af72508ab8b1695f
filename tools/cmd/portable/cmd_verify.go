package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"unicode/utf8"

	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
	"github.com/rules-portable/rules_portable/tools/internal/runfile"
)

const verifyHelp = `
Check a bundle made by 'portable bundle' against its .portable/manifest.json
(for a single-file FILE.run: first the payload's sha256 against its
trailer, then the bundle inside it, unpacked aside):
every listed file must exist with its type, size, sha256 and full mode
(set-UID, set-GID and sticky bits included: the bundler writes none),
every symlink with its target, and nothing unlisted may be there (the
launcher's .portable/lock excepted). A file of the wrong size is reported
without being read.

Executables' interpreter slots are hashed as the placeholder they held
when bundled, so a bundle that the launcher or 'portable relocate'
re-pointed still verifies. Each slot must name this bundle's own loader:
the placeholder, the loader where DIR is (as given or with symlinks
resolved), the one where 'portable relocate --as' said the bundle would
be, or one where --as says it is seen. A slot naming any other file (a
bundle moved since its last run, or tampered with) is reported: a program
run directly would load that file.

What verify does not check: who wrote the manifest. It is not signed;
compare its sha256 with one you trust (see docs/security.md).

Every difference is printed, one per line: "PATH: changed|missing|extra|
mode|type[: detail]". The exit status is 0 when the bundle matches, 1
otherwise.

Examples:
  portable verify ./curl
  tar -xf app.tar.zst -C /opt/app && portable verify /opt/app
  portable verify --as /app ./rootfs/app     # seen at /app in a container
`

func runVerify(e *env, args []string) error {
	fs := newFlagSet(e, "verify", "[--as PATH] DIR|FILE.run", verifyHelp)
	as := fs.String("as", "", "the bundle is also seen at the absolute `PATH` (a chroot, container or mount point): slots may name the loader there")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("verify: want exactly one bundle directory or .run file")
	}
	var seenAs []string
	if *as != "" {
		if !path.IsAbs(*as) || path.Clean(*as) != *as || !utf8.ValidString(*as) {
			return usagef("verify: --as %q: want a clean absolute path in UTF-8", *as)
		}
		seenAs = append(seenAs, *as)
	}
	dir := fs.Arg(0)
	if st, err := os.Stat(dir); err == nil && st.Mode().IsRegular() {
		// A single-file executable: its payload, unpacked aside.
		tmp, err := fsutil.MkdirTemp("", "portable-verify"+fsutil.TempInfix)
		if err != nil {
			return err
		}
		defer fsutil.RemoveTemp(tmp)
		t, err := runfile.Extract(dir, filepath.Join(tmp, "b"))
		if err != nil {
			return err
		}
		m, err := manifest.Read(filepath.Join(tmp, "b"))
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		probs, err := manifest.Verify(filepath.Join(tmp, "b"), m)
		if err != nil {
			return err
		}
		for _, p := range probs {
			fmt.Fprintln(e.stdout, p)
		}
		if len(probs) > 0 {
			return fmt.Errorf("%s: its payload does not match its manifest: %s", dir, manifest.Summary(probs))
		}
		fmt.Fprintf(e.stdout, "%s: ok (%d entries, payload sha256 %x)\n", dir, len(m.Files), t.Sum)
		return nil
	}
	m, err := manifest.Read(dir)
	if err != nil {
		return err
	}
	probs, err := manifest.Verify(dir, m, seenAs...)
	if err != nil {
		return err
	}
	for _, p := range probs {
		fmt.Fprintln(e.stdout, p)
	}
	if len(probs) > 0 {
		return fmt.Errorf("%s: does not match its manifest: %s", dir, manifest.Summary(probs))
	}
	fmt.Fprintf(e.stdout, "%s: ok (%d entries)\n", dir, len(m.Files))
	return nil
}
