package main

import (
	"fmt"

	"github.com/rules-portable/rules_portable/tools/internal/manifest"
)

const verifyHelp = `
Check a bundle made by 'portable bundle' against its .portable/manifest.json:
every listed file must exist with its type, mode, size and sha256, every
symlink with its target, and nothing unlisted may be there (the launcher's
.portable/lock excepted). Executables' interpreter slots are hashed as the
placeholder they held when bundled, so a bundle that the launcher or
'portable relocate' re-pointed still verifies; the slot itself must hold an
absolute path to a file named like the bundled loader, NUL-padded.

Every difference is printed, one per line: "PATH: changed|missing|extra|
mode|type[: detail]". The exit status is 0 when the bundle matches, 1
otherwise.

Examples:
  portable verify ./curl
  tar -xf app.tar.zst -C /opt/app && portable verify /opt/app
`

func runVerify(e *env, args []string) error {
	fs := newFlagSet(e, "verify", "DIR", verifyHelp)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("verify: want exactly one bundle directory")
	}
	dir := fs.Arg(0)
	m, err := manifest.Read(dir)
	if err != nil {
		return err
	}
	probs, err := manifest.Verify(dir, m)
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
