package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/rules-portable/rules_portable/tools/internal/archive"

	"golang.org/x/term"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/sysroot"
)

const sysrootHelp = `
Build and check versioned, immutable sysroots from pinned Debian packages.

A sysroot is the glibc run time of one Debian suite (loader, libc,
libstdc++, libgcc_s and the libraries the lock names) laid out as a
merged-/usr root, with the loader at its canonical path
(lib64/ld-linux-x86-64.so.2 on amd64) and a manifest in
.sysroot/manifest.json. Once built, a sysroot never changes: an upgrade is
a new label (v1, v2, ...).

Sub-commands:
  lock    resolve packages in a suite's signed index into a lockfile
  build   fetch a lock's packages (sha256-checked, cached) and assemble a
          sysroot directory, .tar, .tar.gz or .tar.zst
  verify  check a sysroot directory against its manifest
  check   refuse ELF files that need a newer glibc than a sysroot has

Run 'portable sysroot SUB --help' for the flags of each.

Mirror: --mirror URL, else $PORTABLE_DEBIAN_MIRROR, else this machine's apt
configuration (the URIs: of /etc/apt/sources.list.d/debian.sources, or the
first deb line of /etc/apt/sources.list). Locks name no mirror, only pool
paths and hashes. In a mirror URL, {snapshot} stands for a state of a
snapshot archive of Debian: lock puts the time now there, build a time a
little after the lock's index date, so a lock keeps building after plain
mirrors have dropped its packages. PORTABLE_DEBIAN_MIRROR=offline makes
build work from its cache alone, as --offline does (lock refuses it).

Examples:
  portable sysroot lock --suite trixie -p libc6 -p libstdc++6 -p libgcc-s1 --dev -o v2.lock.json
  portable sysroot build --lock v2.lock.json --label v2 -o /usr/sysroot/v2
  portable sysroot build --lock v2.lock.json --label v2 --dev -o v2-dev.tar.zst
  portable sysroot verify /usr/sysroot/v2
  portable sysroot check --sysroot /usr/sysroot/v1 ./app
`

func runSysroot(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("sysroot: no sub-command given (lock, build, verify or check)")
	}
	switch args[0] {
	case "lock":
		return runSysrootLock(e, args[1:])
	case "build":
		return runSysrootBuild(e, args[1:])
	case "verify":
		return runSysrootVerify(e, args[1:])
	case "check":
		return runSysrootCheck(e, args[1:])
	}
	fs := newFlagSet(e, "sysroot", "lock|build|verify|check [FLAGS] [ARGS]", sysrootHelp)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return usagef("sysroot: unknown sub-command %q (want lock, build, verify or check)", args[0])
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// progress prints item lines only when stderr is a terminal.
func (e *env) progress() *sysroot.Progress {
	verbose := false
	if f, ok := e.stderr.(*os.File); ok {
		verbose = term.IsTerminal(int(f.Fd()))
	}
	return &sysroot.Progress{W: e.stderr, Verbose: verbose}
}

func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func cacheDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return sysroot.DefaultCacheDir()
}

const sysrootLockHelp = `
Resolve the packages given with -p, and everything they Depend or
Pre-Depend on, in the signed Packages index of SUITE, and write a lockfile:
the suite, the Date and sha256 of each index read, and for each package its
name, version, architecture, pool path, size and sha256. No mirror host is
recorded, so the lock builds from any mirror.

The InRelease file is checked against --keyring before anything in it is
used. Its Valid-Until date is checked too; --allow-expired-release accepts
an expired Release (the signature is still checked, and a warning is
printed).

Resolution: alternatives take the first satisfiable one, versioned
relations and versioned Provides are honoured, arch-qualified relations
(:any, :native) are accepted, Breaks/Conflicts among the chosen packages
are errors, and cycles end. No packages are excluded by default (the
libraries a sysroot needs pull in no maintainer-script machinery);
--exclude PKG drops a package and counts relations on it as satisfied.
SUITE experimental is resolved on top of unstable, as apt does: the -p
packages take their newest version from either, their dependencies prefer
unstable.

--dev adds libc6-dev (and any --dev-package) resolved on top of the run-time
closure; those extra packages are marked "dev" in the lock and only
'sysroot build --dev' installs them.

Examples:
  portable sysroot lock --suite bookworm -p libc6 -p libstdc++6 -p libgcc-s1 -p libssl3 -p zlib1g --dev -o sysroots/v1.lock.json
  portable sysroot lock --suite sid --allow-expired-release -p libc6=2.43-7 -o v3.lock.json
  PORTABLE_DEBIAN_MIRROR=http://mirror.example/debian portable sysroot lock --suite trixie -p libc6 -o v2.lock.json
`

func runSysrootLock(e *env, args []string) error {
	fs := newFlagSet(e, "sysroot lock", "--suite SUITE -p PKG[=VERSION]... [--dev] -o LOCK.json", sysrootLockHelp)
	var pkgs, devPkgs, exclude listFlag
	suite := fs.String("suite", "", "Debian suite or codename to resolve in (bookworm, trixie, sid, experimental, ...)")
	arch := fs.String("arch", "amd64", "Debian architecture")
	fs.Var(&pkgs, "p", "package to include, as NAME or NAME=VERSION (repeatable)")
	dev := fs.Bool("dev", false, "also lock the dev flavour: libc6-dev plus any --dev-package")
	fs.Var(&devPkgs, "dev-package", "extra package for the dev flavour (repeatable; implies --dev)")
	fs.Var(&exclude, "exclude", "package to leave out; relations on it count as satisfied (repeatable)")
	mirror := fs.String("mirror", "", "archive mirror URL (default $"+sysroot.MirrorEnv+", else apt's); {snapshot} becomes the time now")
	keyring := fs.String("keyring", deb.DefaultKeyring, "OpenPGP keyring to check InRelease signatures against")
	allowExpired := fs.Bool("allow-expired-release", false, "accept a Release past its Valid-Until (the signature is still checked)")
	cache := fs.String("cache", "", "download cache directory (default $XDG_CACHE_HOME/rules_portable or ~/.cache/rules_portable)")
	out := fs.String("o", "", "lockfile to write")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("sysroot lock: unexpected argument %q", fs.Arg(0))
	}
	if *suite == "" || *out == "" || len(pkgs) == 0 {
		return usagef("sysroot lock: --suite, -p and -o are required")
	}
	if len(devPkgs) > 0 {
		*dev = true
	}
	if *dev {
		devPkgs = append(listFlag{"libc6-dev"}, devPkgs...)
	}
	cd, err := cacheDir(*cache)
	if err != nil {
		return err
	}
	now := time.Now()
	pr := e.progress()
	m, err := sysroot.LockMirror(*mirror, now)
	if err != nil {
		return fmt.Errorf("sysroot lock: %w", err)
	}
	f := &sysroot.Fetcher{Client: http.DefaultClient, Mirror: m, Cache: &sysroot.Cache{Dir: cd}, Progress: pr}
	ctx, cancel := interruptible()
	defer cancel()
	lock, err := sysroot.Lock(ctx, f, sysroot.LockOptions{
		Suite: *suite, Arch: *arch, Packages: pkgs, DevPackages: devPkgs, Exclude: exclude,
		Keyring: *keyring, AllowExpired: *allowExpired, Now: now,
	})
	if err != nil {
		return fmt.Errorf("sysroot lock: %w", err)
	}
	data, err := lock.Marshal()
	if err != nil {
		return err
	}
	if err := fsutil.WriteBytesAtomic(*out, 0o644, data); err != nil {
		return err
	}
	var runtime, devOnly int
	for _, p := range lock.Packages {
		if p.Dev {
			devOnly++
		} else {
			runtime++
		}
	}
	fmt.Fprintf(e.stdout, "%s: %d packages (%d run time, %d dev only) from %s\n", *out, len(lock.Packages), runtime, devOnly, *suite)
	return nil
}

const sysrootBuildHelp = `
Fetch the packages a lockfile pins and assemble a sysroot at OUT: a
directory (which must not exist yet) or a .tar, .tar.gz or .tar.zst file.

Each .deb is downloaded into a content-addressed cache and checked against
the lock's size and sha256 before it is used; a mismatch or an interrupted
download keeps nothing. The data trees are extracted (entries that are
absolute, climb with "..", or would be written through a symlink are
refused), /bin /lib /lib64 ... are merged into /usr with symlinks as on a
merged-/usr Debian system, absolute symlinks become relative, the loader
is placed at the architecture's canonical path, manual pages and
changelogs are dropped (copyright files stay), and the glibc version is
read from libc.so.6 itself. .sysroot/manifest.json lists the label, arch,
glibc version, source packages and every file with its mode, size and
sha256 (or symlink target).

--dev also installs the lock's dev packages (headers, crt objects) and
rewrites absolute paths in linker scripts such as libc.so to ld's
sysroot-relative "=/..." form, so 'gcc --sysroot=OUT' links against the
sysroot and never the host.

Archives are deterministic: the same lock gives byte-identical output
(sorted entries, uid/gid 0, normalised modes, mtime from
$SOURCE_DATE_EPOCH or the Unix epoch).

Examples:
  portable sysroot build --lock sysroots/v2.lock.json --label v2 -o /usr/sysroot/v2
  portable sysroot build --lock sysroots/v3.lock.json --label v3 --dev -o v3-dev.tar.zst
`

func runSysrootBuild(e *env, args []string) error {
	fs := newFlagSet(e, "sysroot build", "--lock LOCK.json --label LABEL [--dev] [--cache DIR] [--mirror URL] [--offline] [--tar FILE [--tar-prefix DIR]] [--loader-out FILE] -o OUT", sysrootBuildHelp)
	lockPath := fs.String("lock", "", "lockfile written by 'portable sysroot lock'")
	label := fs.String("label", "", "version label recorded in the manifest, e.g. v2")
	dev := fs.Bool("dev", false, "build the dev flavour (headers, crt objects, sysroot-relative linker scripts)")
	cache := fs.String("cache", "", "download cache directory (default $XDG_CACHE_HOME/rules_portable or ~/.cache/rules_portable)")
	mirror := fs.String("mirror", "", "archive mirror URL (default $"+sysroot.MirrorEnv+", else apt's); {snapshot} becomes the lock's index date + 6h")
	jobs := fs.Int("j", 0, "parallel extractions (default: number of CPUs)")
	out := fs.String("o", "", "output directory, .tar, .tar.gz or .tar.zst")
	offline := fs.Bool("offline", false, "never download: every package must already be in --cache (Bazel passes the .debs it fetched)")
	tarOut := fs.String("tar", "", "with a directory -o, also write the sysroot as this .tar, .tar.gz or .tar.zst `FILE`")
	tarPrefix := fs.String("tar-prefix", "", "put the --tar entries under `DIR`, e.g. usr/sysroot/v2 for a tar that installs at /usr/sysroot/v2")
	loaderOut := fs.String("loader-out", "", "with a directory -o, also copy the sysroot's dynamic loader to `FILE`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("sysroot build: unexpected argument %q", fs.Arg(0))
	}
	if (*tarOut != "" || *loaderOut != "") && archive.IsArchiveName(*out) {
		return usagef("sysroot build: --tar and --loader-out need a directory -o")
	}
	if *tarPrefix != "" && *tarOut == "" {
		return usagef("sysroot build: --tar-prefix needs --tar")
	}
	if *lockPath == "" || *label == "" || *out == "" {
		return usagef("sysroot build: --lock, --label and -o are required")
	}
	lock, f, err := lockFetcher(e, "sysroot build", *lockPath, *cache, *mirror, *offline)
	if err != nil {
		return err
	}
	mtime, err := sourceDateEpoch()
	if err != nil {
		return fmt.Errorf("sysroot build: %w", err)
	}
	ctx, cancel := interruptible()
	defer cancel()
	if err := replaceEmptyDir(*out); err != nil {
		return fmt.Errorf("sysroot build: %w", err)
	}
	man, err := sysroot.Build(ctx, f, sysroot.BuildOptions{Lock: lock, Label: *label, Dev: *dev, Out: *out, MTime: mtime, Jobs: *jobs})
	if err != nil {
		return fmt.Errorf("sysroot build: %w", err)
	}
	if *loaderOut != "" {
		data, err := os.ReadFile(filepath.Join(*out, filepath.FromSlash(man.Loader)))
		if err != nil {
			return fmt.Errorf("sysroot build: loader: %w", err)
		}
		if err := fsutil.WriteBytesAtomic(*loaderOut, 0o755, data); err != nil {
			return fmt.Errorf("sysroot build: %w", err)
		}
	}
	if *tarOut != "" {
		if err := archive.Create(*tarOut, *out, archive.Options{MTime: mtime, Prefix: *tarPrefix}); err != nil {
			return fmt.Errorf("sysroot build: %w", err)
		}
	}
	fmt.Fprintf(e.stdout, "%s: sysroot %s (%s), glibc %s, %d packages, %d entries\n", *out, man.Label, man.Flavour, man.Glibc, len(man.Packages), len(man.Files))
	return nil
}

const sysrootVerifyHelp = `
Check every entry of the sysroot DIR against DIR/.sysroot/manifest.json:
missing or added files, a changed type, mode, size, sha256 or symlink
target. Exit status 1 lists the differences.

Example:
  portable sysroot verify /usr/sysroot/v2
`

func runSysrootVerify(e *env, args []string) error {
	fs := newFlagSet(e, "sysroot verify", "DIR", sysrootVerifyHelp)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("sysroot verify: want exactly one DIR")
	}
	dir := fs.Arg(0)
	if _, err := fsutil.StatInput("", dir, fsutil.Directory); err != nil {
		return fmt.Errorf("sysroot verify: %w", err)
	}
	m, err := sysroot.Verify(dir)
	if err != nil {
		return fmt.Errorf("sysroot verify: %w", err)
	}
	fmt.Fprintf(e.stdout, "%s: sysroot %s (glibc %s) matches its manifest: %d entries\n", dir, m.Label, m.Glibc, len(m.Files))
	return nil
}

const sysrootCheckHelp = `
The symbol-version gate: read each ELF FILE (never running it) and refuse
it when it needs a GLIBC_x.y (or GLIBCXX_x.y) symbol version newer than
the sysroot at --sysroot provides, naming both versions, e.g.

  app: needs GLIBC_2.38 but sysroot v1 has glibc 2.36

Exit status 1 when any FILE is refused.

Example:
  portable sysroot check --sysroot /usr/sysroot/v1 bazel-bin/app/app
`

func runSysrootCheck(e *env, args []string) error {
	fs := newFlagSet(e, "sysroot check", "--sysroot DIR|ARCHIVE [--stamp FILE] FILE...", sysrootCheckHelp)
	dir := fs.String("sysroot", "", "sysroot directory, or archive, built by 'portable sysroot build'")
	stamp := fs.String("stamp", "", "on success, write an empty `FILE` (for build systems that want an output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() == 0 {
		return usagef("sysroot check: --sysroot and at least one FILE are required")
	}
	if _, err := fsutil.StatInput("--sysroot", *dir, fsutil.RegularFile|fsutil.Directory); err != nil {
		return fmt.Errorf("sysroot check: %w", err)
	}
	m, err := sysroot.ReadManifestAt(*dir)
	if err != nil {
		return fmt.Errorf("sysroot check: %w", err)
	}
	var errs []error
	for _, p := range fs.Args() {
		f, err := elf.Open(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := sysroot.CheckCompat(p, f, m.Compat()); err != nil {
			errs = append(errs, err)
			continue
		}
		need := f.MaxVersion("GLIBC_")
		if need == "" {
			need = "no GLIBC_ version"
		}
		fmt.Fprintf(e.stdout, "%s: ok (needs %s; sysroot %s has glibc %s)\n", p, need, m.Label, m.Glibc)
	}
	if len(errs) > 0 {
		return fmt.Errorf("sysroot check: %w", errors.Join(errs...))
	}
	if *stamp != "" {
		return fsutil.WriteBytesAtomic(*stamp, 0o644, nil)
	}
	return nil
}

// replaceEmptyDir lets a sysroot directory be written where an empty
// directory already stands.
// lockFetcher reads the lockfile at lockPath and makes the fetcher of its
// packages: from the cache only when offline (or PORTABLE_DEBIAN_MIRROR
// says so), else from mirror (default: apt's). cmd prefixes errors.
func lockFetcher(e *env, cmd, lockPath, cache, mirror string, offline bool) (*deb.Lockfile, *sysroot.Fetcher, error) {
	data, err := fsutil.ReadInput("--lock", lockPath, fsutil.MaxSmallFileSize)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", cmd, err)
	}
	lock, err := deb.ParseLockfile(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s: %w", cmd, lockPath, err)
	}
	if mirror == "" && sysroot.OfflineByEnv() {
		offline = true
	}
	var m string
	if !offline { // offline, nothing is downloaded: no mirror is needed
		if m, err = sysroot.BuildMirror(mirror, lock); err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", cmd, lockPath, err)
		}
	}
	cd, err := cacheDir(cache)
	if err != nil {
		return nil, nil, err
	}
	return lock, &sysroot.Fetcher{Client: http.DefaultClient, Mirror: m, Cache: &sysroot.Cache{Dir: cd}, Progress: e.progress(), Offline: offline}, nil
}

func replaceEmptyDir(out string) error {
	for _, p := range fsutil.RemoveStale(out) {
		log.Printf("sysroot build: removed %s, left by an interrupted run", p)
	}
	if archive.IsArchiveName(out) {
		return nil
	}
	return fsutil.RemoveEmptyDir(out)
}
