package main

import (
	"encoding/json"
	"fmt"

	"github.com/rules-portable/rules_portable/tools/internal/deps"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

const depsDescription = `
Print the shared-library closure of each FILE the way glibc's ld.so would
load it, without running anything: each DT_NEEDED is looked up in the
DT_RPATH of the object and of the objects that loaded it (unless the
object has DT_RUNPATH), then --library-path (LD_LIBRARY_PATH), then the
object's own DT_RUNPATH, then ld.so.cache (or ld.so.conf, see --ld-cache),
then ld.so's default directories (Debian: /lib/<tuple>, /usr/lib/<tuple>,
/lib, /usr/lib). $ORIGIN, ${ORIGIN}, $LIB and $PLATFORM are expanded,
glibc-hwcaps subdirectories are searched, libraries of the wrong ELF class
or machine are skipped, and a library already loaded is reused by name or
SONAME. The PT_INTERP loader is part of the closure.

Everything is looked up inside --root: symlinks are followed inside it (an
absolute link target starts again at the root, ".." stops at it), and the
printed paths are as seen from inside the root. FILE is a path on this
machine; when it lies inside the root it is that file of the root. A FILE
outside the root (a program a build just produced) keeps its own location
for $ORIGIN, and libraries reached through its $ORIGIN are host files.

Output is like ldd's, without load addresses:

	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6
	/lib64/ld-linux-x86-64.so.2
	libfoo.so.1 => not found

--json prints one object: {"root", "programs": [{"path", "real_path",
"host_path", "linkage", "interpreter", "libraries": [...], "missing":
[...]}], "libraries": [...], "missing": [...]}. Each library is {"name",
"path", "real_path", "host_path", "soname", "needed_by": [...],
"found_via", "interpreter", "outside_root"}, in load order (breadth-first,
the same in every run); each missing entry is {"name", "needed_by",
"reason"}. The top-level lists are the union over all FILEs.

The exit status is 1, with one error line naming every missing library and
who needs it, when anything cannot be found or loaded.

Examples:
  portable deps /usr/bin/curl
  portable deps --root /usr/sysroot/v2 --json /usr/sysroot/v2/usr/bin/python3
  portable deps --root sysroot --hwcaps none --ld-cache conf bazel-bin/app/app
  portable deps --library-path '$ORIGIN/../lib' ./build/bin/tool
`

func runDeps(e *env, args []string) error {
	fs := newFlagSet(e, "deps", "[--root DIR] [--json] [--library-path P] FILE...", depsDescription)
	root := fs.String("root", "/", "resolve inside this directory instead of this machine's /")
	asJSON := fs.Bool("json", false, "print JSON instead of ldd-like text")
	libPath := fs.String("library-path", "", "search these directories (':'-separated, inside the root) after DT_RPATH, as LD_LIBRARY_PATH would")
	cacheMode := fs.String("ld-cache", "auto", "what stands for ld.so.cache: auto (the root's /etc/ld.so.cache if present, else conf), file, conf (emulate ldconfig over the root's /etc/ld.so.conf), none")
	hwcaps := fs.String("hwcaps", "auto", "glibc-hwcaps subdirectories to search, in priority order: auto (this CPU's x86-64 levels), none, or a list like x86-64-v3,x86-64-v2")
	platform := fs.String("platform", "", "value of $PLATFORM (default: from --hwcaps auto on this CPU, else the machine's usual AT_PLATFORM, e.g. x86_64)")
	legacy := fs.String("legacy-hwcaps", "auto", "search the pre-glibc-2.37 tls/ and platform subdirectories: auto (when the interpreter is glibc < 2.37), on, off")
	lib := fs.String("lib", "", "value of $LIB (default: lib/<Debian multiarch tuple>, e.g. lib/x86_64-linux-gnu)")
	workDir := fs.String("workdir", "/", "directory inside the root that relative search paths are taken from")
	// parseFlags silences the flag set's output, which would also hide the
	// flag list in --help; print usage to stdout regardless.
	usage := fs.Usage
	fs.Usage = func() { fs.SetOutput(e.stdout); usage() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("deps: no FILE given")
	}
	if _, err := fsutil.StatInput("--root", *root, fsutil.Directory); err != nil {
		return fmt.Errorf("deps: %w", err)
	}
	opts := deps.Options{LibraryPath: *libPath, Lib: *lib, WorkDir: *workDir}
	var err error
	if opts.Cache, err = deps.ParseCacheMode(*cacheMode); err != nil {
		return usagef("deps: --ld-cache: %v", err)
	}
	if opts.Legacy, err = deps.ParseLegacyMode(*legacy); err != nil {
		return usagef("deps: --legacy-hwcaps: %v", err)
	}
	switch *hwcaps {
	case "auto":
		if opts.CPU, err = deps.HostCPU(); err != nil {
			return fmt.Errorf("deps: --hwcaps auto: %w; pass --hwcaps none or a list", err)
		}
	default:
		if opts.CPU.HWCaps, err = deps.ParseHWCapsList(*hwcaps); err != nil {
			return usagef("deps: --hwcaps: %v", err)
		}
	}
	if *platform != "" {
		opts.CPU.Platform = *platform
	}
	c, err := deps.Resolve(*root, fs.Args(), opts)
	if err != nil {
		return fmt.Errorf("deps: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("deps: writing JSON: %w", err)
		}
	} else if err := deps.WriteText(e.stdout, c); err != nil {
		return fmt.Errorf("deps: writing output: %w", err)
	}
	if err := c.Err(); err != nil {
		return fmt.Errorf("deps: %w", err)
	}
	return nil
}
