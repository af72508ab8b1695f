package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/bundle"
	"github.com/rules-portable/rules_portable/tools/internal/compiler"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/sysroot"
)

const compilerUsage = "bundle (--lock LOCK.json [--cache DIR] [--mirror URL] [--offline] | --root DIR) [--tar FILE] [--launcher FILE] -o OUT"

const compilerHelp = `
Make a C/C++ toolchain that runs on any Linux of its architecture, whatever
its glibc, out of gcc and binutils from pinned Debian packages.

'compiler bundle' unpacks the packages of a compiler lock (or takes a tree
already unpacked with 'portable sysroot build'), finds gcc's driver, every
program it runs (cpp, cc1, cc1plus, lto1, collect2, lto-wrapper) and
binutils (as, ld, ar, nm, ranlib, objcopy, objdump, strip), and bundles
them all as entry points of one bundle, with their libraries resolved in
the tree, never on this machine:

  OUT/bin/gcc, g++, cpp, cc1, ..., as, ld, ar    launchers
  OUT/lib/gcc/<triplet>/<N>/include              gcc's builtin headers

Call the driver with -B OUT/bin/ (so it runs the bundled helpers) and
-no-canonical-prefixes (so every path it prints stays as you gave it,
relative if you like); crt objects, libc and libstdc++ headers come from
the target's dev sysroot (--sysroot, -isystem). This is what Bazel's
portable_cc_toolchain runs.

Example:
  portable sysroot lock --suite sid -p gcc-16 -p g++-16 \
    -p binutils-x86-64-linux-gnu --exclude libc6-dev \
    --exclude libstdc++-16-dev -o gcc16.lock.json
  portable compiler bundle --lock gcc16.lock.json -o gcc16
  gcc16/bin/gcc -B gcc16/bin/ -no-canonical-prefixes --sysroot=v1-dev ...
`

func runCompiler(e *env, args []string) error {
	if len(args) > 0 && args[0] == "bundle" {
		return runCompilerBundle(e, args[1:])
	}
	fs := newFlagSet(e, "compiler", compilerUsage, compilerHelp)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("compiler: no sub-command given (bundle)")
	}
	return usagef("compiler: unknown sub-command %q (want bundle)", args[0])
}

func runCompilerBundle(e *env, args []string) error {
	fs := newFlagSet(e, "compiler bundle", compilerUsage, compilerHelp)
	lockPath := fs.String("lock", "", "compiler lockfile written by 'portable sysroot lock' (gcc-N, g++-N, binutils-<triplet>)")
	root := fs.String("root", "", "use the tree `DIR` that 'portable sysroot build' unpacked, instead of --lock")
	cache := fs.String("cache", "", "download cache directory (default $XDG_CACHE_HOME/rules_portable or ~/.cache/rules_portable)")
	mirror := fs.String("mirror", "", "archive mirror URL (default $"+sysroot.MirrorEnv+", else apt's)")
	offline := fs.Bool("offline", false, "never download: every package must already be in --cache (Bazel passes the .debs it fetched)")
	out := fs.String("o", "", "write the toolchain to `OUT`: a new directory, or .tar, .tar.gz, .tar.zst")
	tarOut := fs.String("tar", "", "with a directory -o, also write it as the archive `FILE`")
	launcher := fs.String("launcher", "", "put the launcher `FILE` at bin/NAME instead of the one built into this helper")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("compiler bundle: unexpected argument %q", fs.Arg(0))
	}
	if (*lockPath == "") == (*root == "") {
		return usagef("compiler bundle: give exactly one of --lock and --root")
	}
	if *out == "" {
		return usagef("compiler bundle: -o is required")
	}
	if *tarOut != "" && (archive.IsArchiveName(*out) || !archive.IsArchiveName(*tarOut)) {
		return usagef("compiler bundle: --tar needs a directory -o and an archive name (.tar, .tar.gz, .tar.zst)")
	}
	mtime, err := sourceDateEpoch()
	if err != nil {
		return usagef("compiler bundle: %v", err)
	}
	opts := bundle.Options{MTime: mtime, Warn: e.stderr, Tar: *tarOut}
	if *launcher != "" {
		if opts.Launcher, err = fsutil.ReadInput("--launcher", *launcher, fsutil.MaxLauncherSize); err != nil {
			return err
		}
	}
	// Check where the outputs go before unpacking 80 MB of packages.
	for _, o := range []string{*out, *tarOut} {
		if o == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(o)); err != nil || !st.IsDir() {
			return fmt.Errorf("compiler bundle: %s: its directory %s does not exist; create it first", o, filepath.Dir(o))
		}
	}
	tree := *root
	if *lockPath != "" {
		lock, f, err := lockFetcher(e, "compiler bundle", *lockPath, *cache, *mirror, *offline)
		if err != nil {
			return err
		}
		tmp, err := os.MkdirTemp("", "portable-compiler-")
		if err != nil {
			return fmt.Errorf("compiler bundle: %w", err)
		}
		defer os.RemoveAll(tmp)
		tree = filepath.Join(tmp, "root")
		ctx, cancel := interruptible()
		defer cancel()
		if _, err := sysroot.Build(ctx, f, sysroot.BuildOptions{Lock: lock, Label: "compiler", Out: tree, MTime: mtime}); err != nil {
			return fmt.Errorf("compiler bundle: %s: %w", *lockPath, err)
		}
	}
	t, err := compiler.Find(tree)
	if err != nil {
		return fmt.Errorf("compiler bundle: %w", err)
	}
	res, err := t.Bundle(*out, opts)
	if err != nil {
		return fmt.Errorf("compiler bundle: %w", err)
	}
	fmt.Fprintf(e.stdout, "%s: gcc %s for %s (%s), %d files, %.1f MiB\n", res.Out, t.Major, t.Triplet, strings.Join(t.Names(), " "), res.Files, float64(res.Bytes)/(1<<20))
	return nil
}
