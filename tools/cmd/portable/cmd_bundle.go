package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/bundle"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/runfile"
)

const bundleUsage = "[-o OUT] [--tar FILE] [--sysroot DIR|ARCHIVE] [--add SRC[=DEST]]... [--gconv[=auto|yes|no]] [--host-libs never|listed|fallback] [--host-lib NAME]... [--enforce-checksums] [--locale NAME]... [--prefix DIR] [--launcher FILE] [--source-prefix-map OLD=NEW]... EXECUTABLE..."

const bundleHelp = `
Pack ELF programs, their whole shared-library closure (glibc and its loader
included) and a tiny launcher per program into a relocatable bundle that
runs from any directory on any Linux of the same architecture, even in an
empty root (FROM scratch), with /proc/self/exe naming the real program.
Nothing is executed to find the libraries: the closure is computed the way
ld.so searches, inside --sysroot when given, else on this machine.

--sysroot takes a sysroot directory or the archive 'portable sysroot build'
wrote (.tar, .tar.gz, .tar.zst, with or without a usr/sysroot/vN/ prefix);
an archive is unpacked to a temp dir for the run, a directory is read in
place. A copy of a sysroot made of one absolute symlink per file, the way
Bazel's sandbox stages a directory input, is read through to the sysroot
it copies. A copy whose symlinks became copies of what they point to (lib a
directory beside usr/lib, the way remote execution stages it) gives the same
bundle: inside a sysroot, paths follow the symlinks its manifest records,
not the disk.

OUT is a directory (it must not exist yet, or be empty), or an archive when it ends in
.tar, .tar.gz (.tgz) or .tar.zst (.tzst), or a single-file executable when
it ends in .run: one static file that runs the first program from anywhere
(unpacked once into a per-user cache, $XDG_CACHE_HOME/portable-run or
~/.cache/portable-run; FILE.run --portable-extract DIR unpacks it;
'portable inspect' and 'portable verify' read it; see docs/single-file.md).
The default is a directory named after the first program. The output appears only when complete: a bad input
leaves nothing behind, and neither does SIGINT or SIGTERM (exit 130/143).
What a killed run left (.OUT.portable-tmp-*) the next run on OUT removes.
With --tar, the directory and the archive appear together or not at all.
An OUT that is a symlink is refused. Bundle paths must be valid UTF-8. Archives are deterministic: the same inputs give the
same bytes (mtime 0, or $SOURCE_DATE_EPOCH when set).

Layout (see launcher/README.md for the launcher's side):
  bin/NAME                   the launcher; run this
  libexec/NAME               the program, PT_INTERP a 4096-byte slot, DT_RPATH=$ORIGIN/../lib
  lib/ld-linux-x86-64.so.2   the loader that matches the bundled libc
  lib/*.so*                  the closure; identical files stored once
  .portable/manifest.json    every file with mode and sha256, the entry points

The manifest also records where each file came from ("source"): its path
in the sysroot, or on this machine relative to the working directory when
below it, else absolute. --source-prefix-map OLD=NEW (repeatable, the
first match applies) rewrites a recorded origin that starts with OLD, as a
compiler's -ffile-prefix-map does: Bazel passes its output directories
(--source-prefix-map bazel-out/k8-fastbuild/bin/=) so that the bundle's
bytes do not depend on the configuration a program was built in.

Libraries are copied byte for byte, except that a DT_RPATH or DT_RUNPATH
(which would search the host) becomes DT_RPATH=$ORIGIN: ld.so finds the
other libraries through the program's DT_RPATH. Nothing is ever put into
the environment.

Closed by default (--host-libs never): the bundled loader is a copy whose
host paths are neutralised, so it reads neither /etc/ld.so.cache nor
/etc/ld.so.preload and searches none of the host's library directories. A
library the bundle lacks (a dlopen of something not bundled) is then not
found, rather than taken from a host built for another glibc. Your own
LD_LIBRARY_PATH and LD_PRELOAD still work. --host-lib NAME (repeatable)
lets the named host libraries in, and what they need, and nothing else
(policy "listed": GPU drivers, say, with --host-lib libGL.so.1);
--host-libs fallback keeps the loader as shipped: the host's libraries
fill whatever the bundle lacks. The manifest records the policy
(host_libs); see docs/closed.md.

--enforce-checksums puts an rtld-audit module in the bundle
(.portable/audit.so, named in each program's DT_AUDIT) that checks every
object ld.so maps against its sha256 before it runs, and refuses to start,
naming the file, the expected and the actual sha256, when one differs or
when an object from outside the bundle is not let in by the policy. The
first run remembers what it verified in .portable/verified (where the
bundle is writable), so later runs only stat the files. --host-lib uses
the same module.

Added by policy: libnss_files/libnss_dns (when the root has them; glibc
2.34+ has both built in), libgcc_s.so.1 (pthread_cancel), glibc's gconv
modules in lib/gconv when a bundled program calls iconv_open (--gconv=yes
always, --gconv=no never), and the standard library of a bundled
libpython3.X as lib/python3.X (gdb embeds one). A bundled libperl or JVM,
or a python3 without lib/python3.X, gets a warning naming the --add to use.

Runtime data of a closed bundle: the bundled libc is a copy whose
compiled-in gconv and locale paths are rewritten (docs/closed.md): it
reads the bundle's lib/gconv in every mode, an empty root included, with
no variable set (the audit module opens it as descriptor 1021,
close-on-exec, and libc reads /proc/self/fd/1021), and it never reads the
host's locales: programs run in the C locale unless --locale NAME carries
the root's compiled locale NAME (/usr/lib/locale/NAME, e.g. C.UTF-8 from
Debian's libc-bin) in lib/locale/locale-archive, read the same way
(descriptor 1022). With --host-libs fallback libc is bundled as it is:
set GCONV_PATH=BUNDLE/lib/gconv yourself.

--add SRC[=DEST] copies a file or directory into the bundle at DEST. Without
DEST, a shared library goes to lib/NAME and anything else keeps its path
with a leading /usr dropped (/usr/lib/python3.11 -> lib/python3.11).
Executables found inside go to libexec/DEST (slotted, so the launcher
re-points them after a move) with a symlink at DEST; a shared object's
DT_RPATH/DT_RUNPATH keeps its $ORIGIN entries and gains the way to lib/;
the closure of every ELF added is bundled too (a plugin's dependency that
is missing everywhere is a warning: the program may load it first).
Symlinks leaving the added tree are replaced by their target; dangling ones
are skipped with a warning.

Errors name the culprit: a script or other non-ELF program (pass it with
--add), a missing library and who needs it, an unreadable file, two files
for one bundle path, a file needing newer glibc symbol versions than the
bundled glibc has.

Examples:
  portable bundle -o curl.tar.zst /usr/bin/curl
  portable bundle -o curl.run /usr/bin/curl
  portable bundle -o py /usr/bin/python3 --add /usr/lib/python3.11
  portable bundle --sysroot /usr/sysroot/v2 -o app.tar.gz bazel-bin/app
  portable bundle -o jdk.tar.gz /usr/lib/jvm/java-17-openjdk-amd64/bin/java \
      --add /usr/lib/jvm/java-17-openjdk-amd64/lib=lib \
      --add /usr/lib/jvm/java-17-openjdk-amd64/conf=conf
`

// addFlag collects repeated --add values.
type addFlag []bundle.Add

func (a *addFlag) String() string { return "" }

func (a *addFlag) Set(s string) error {
	v, err := bundle.ParseAdd(s)
	if err != nil {
		return err
	}
	*a = append(*a, v)
	return nil
}

// gconvFlag is --gconv[=auto|yes|no]; alone it means yes.
type gconvFlag string

func (g *gconvFlag) String() string   { return string(*g) }
func (g *gconvFlag) IsBoolFlag() bool { return true }

func (g *gconvFlag) Set(v string) error {
	p, err := bundle.ParseGconv(v)
	*g = gconvFlag(p)
	return err
}

// stringsFlag collects a repeated string flag.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ",") }

func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// parseInterspersed parses flags that may come after positional
// arguments (portable bundle /usr/bin/curl -o curl.tar.gz); "--" ends
// flag parsing (but not as a flag's value: -o -- names the output "--").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, after, err := parseInterspersedSplit(fs, args)
	return append(pos, after...), err
}

// parseInterspersedSplit is parseInterspersed that keeps what came after
// the "--" terminator apart.
func parseInterspersedSplit(fs *flag.FlagSet, args []string) (pos, after []string, err error) {
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil, nil
		}
		if endsWithTerminator(fs, args[:len(args)-len(rest)]) {
			return pos, rest, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// endsWithTerminator reports whether the arguments fs.Parse consumed end
// with "--" as the terminator, not as a flag's value (-o --): parsed
// again without it, by a flag set with the same flags that stores
// nothing, they are complete only in the first case.
func endsWithTerminator(fs *flag.FlagSet, consumed []string) bool {
	n := len(consumed)
	if n == 0 || consumed[n-1] != "--" {
		return false
	}
	probe := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	probe.SetOutput(io.Discard)
	fs.VisitAll(func(f *flag.Flag) {
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		probe.Var(probeValue(ok && b.IsBoolFlag()), f.Name, "")
	})
	return probe.Parse(consumed[:n-1]) == nil
}

// probeValue is a flag value that accepts anything; true for a bool flag.
type probeValue bool

func (probeValue) String() string     { return "" }
func (probeValue) Set(string) error   { return nil }
func (v probeValue) IsBoolFlag() bool { return bool(v) }

// sourceDateEpoch reads $SOURCE_DATE_EPOCH; unset gives the zero time.
func sourceDateEpoch() (time.Time, error) {
	v, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || v == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want a non-negative number of seconds", v)
	}
	return time.Unix(n, 0), nil
}

func runBundle(e *env, args []string) error {
	fs := newFlagSet(e, "bundle", bundleUsage, bundleHelp)
	out := fs.String("o", "", "write the bundle to `OUT`: a new directory, or .tar, .tar.gz, .tar.zst, or a single-file .run")
	root := fs.String("sysroot", "", "resolve the closure inside `SYSROOT` instead of this machine: a directory, or an archive written by 'portable sysroot build'")
	launcher := fs.String("launcher", "", "put the launcher `FILE` at bin/NAME instead of the one built into this helper")
	tarOut := fs.String("tar", "", "with a directory -o, also write the same bundle as the archive `FILE` (.tar, .tar.gz, .tar.zst) or single-file executable (.run), in one run")
	var adds addFlag
	fs.Var(&adds, "add", "copy `SRC[=DEST]` (file or directory) into the bundle; repeatable")
	gconv := gconvFlag(bundle.GconvAuto)
	fs.Var(&gconv, "gconv", "add glibc's gconv modules as lib/gconv: `auto` (the default: when a bundled program calls iconv_open), yes (--gconv) or no")
	hostLibs := fs.String("host-libs", "", "which host libraries the bundle may load: `POLICY` never (the default: closed loader), listed (the --host-lib names) or fallback (the host's for what the bundle lacks)")
	var hostLib stringsFlag
	fs.Var(&hostLib, "host-lib", "let the host library `NAME` (e.g. libGL.so.1) and what it needs in; repeatable")
	var locales stringsFlag
	fs.Var(&locales, "locale", "carry the locale `NAME` (C.UTF-8, en_US.UTF-8: compiled under the root's /usr/lib/locale) in lib/locale/locale-archive; repeatable")
	enforce := fs.Bool("enforce-checksums", false, "refuse to run any object whose sha256 differs from the bundle's (rtld-audit module)")
	prefix := fs.String("prefix", "", "put every archive entry under the directory `DIR`")
	var srcMaps stringsFlag
	fs.Var(&srcMaps, "source-prefix-map", "record an origin that starts with OLD as starting with NEW in the manifest (`OLD=NEW`); repeatable, the first match applies")
	traceRun := fs.Bool("trace", false, "run the first program once, bundled, with the arguments after -- (your own sample command), record what it loads and add the libraries it asked for by name that the bundle lacks; the record is kept as .portable/trace")
	progs, sample, err := parseInterspersedSplit(fs, args)
	if err != nil {
		return err
	}
	if !*traceRun {
		progs, sample = append(progs, sample...), nil
	}
	if len(progs) == 0 {
		return usagef("bundle: name at least one executable")
	}
	policy, err := bundle.ParseHostLibs(*hostLibs, hostLib)
	if err != nil {
		return usagef("bundle: %v", err)
	}
	mtime, err := sourceDateEpoch()
	if err != nil {
		return usagef("bundle: %v", err)
	}
	if *out == "" {
		*out = filepath.Base(progs[0])
	}
	if *prefix != "" && !archive.IsArchiveName(*out) && *tarOut == "" {
		return usagef("bundle: --prefix is for archives (.tar, .tar.gz, .tar.zst)")
	}
	isRun := func(p string) bool { return strings.HasSuffix(p, runfile.Ext) }
	if *tarOut != "" && (archive.IsArchiveName(*out) || isRun(*out) || !archive.IsArchiveName(*tarOut) && !isRun(*tarOut)) {
		return usagef("bundle: --tar needs a directory -o and an archive name (.tar, .tar.gz, .tar.zst) or a single-file .run")
	}
	if *prefix != "" && (isRun(*out) || isRun(*tarOut)) {
		return usagef("bundle: --prefix is for archives; a .run file holds the bundle at its root")
	}
	opts := bundle.Options{Root: *root, Adds: adds, Gconv: string(gconv), HostLibs: policy, HostLib: hostLib, EnforceChecksums: *enforce, Locales: locales, Prefix: *prefix, MTime: mtime, Warn: e.stderr}
	for _, s := range srcMaps {
		m, err := bundle.ParsePrefixMap(s)
		if err != nil {
			return usagef("bundle: --source-prefix-map: %v", err)
		}
		opts.SourcePrefixMap = append(opts.SourcePrefixMap, m)
	}
	if *tarOut != "" {
		// The prefix is for the archive only.
		opts.Prefix, opts.Tar, opts.TarPrefix = "", *tarOut, *prefix
	}
	if *launcher != "" {
		if opts.Launcher, err = fsutil.ReadInput("--launcher", *launcher, fsutil.MaxLauncherSize); err != nil {
			return err
		}
	}
	if *traceRun {
		if err := traceFirst(e, progs, &opts, sample); err != nil {
			return err
		}
	}
	pr := newProgress(e.stderr)
	if pr != nil {
		opts.Progress = pr.report
		defer pr.finish()
	}
	res, err := bundle.Build(*out, progs, opts)
	if err != nil {
		return err
	}
	if pr != nil {
		pr.finish()
		fmt.Fprintf(e.stderr, "portable bundle: wrote %s (%d entry points, %d files, %.1f MiB before compression)\n",
			res.Out, len(res.Manifest.EntryPoints), res.Files, float64(res.Bytes)/(1<<20))
	}
	return nil
}

// progress draws one status line on a terminal, at most ten times a
// second. It is nil when stderr is not a terminal.
type progress struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
	drew bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{w: w}
}

func (p *progress) report(stage string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last = now
	var line string
	switch {
	case total <= 0:
		line = stage + "..."
	case stage == "archive":
		line = fmt.Sprintf("archive %.1f/%.1f MiB", float64(done)/(1<<20), float64(total)/(1<<20))
	default:
		line = fmt.Sprintf("%s %d/%d files", stage, done, total)
	}
	fmt.Fprintf(p.w, "\r\033[Kportable bundle: %s", line)
	p.drew = true
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drew {
		fmt.Fprint(p.w, "\r\033[K")
		p.drew = false
	}
}

// traceFirst runs the sample command in record mode (bundle.Trace) and
// folds what it learnt into opts: the libraries to add, the record.
func traceFirst(e *env, progs []string, opts *bundle.Options, sample []string) error {
	if opts.HostLibs == bundle.HostLibsFallback && !opts.EnforceChecksums {
		return usagef("bundle: --trace needs the bundle's audit module, which --host-libs fallback leaves out; add --enforce-checksums or drop --host-libs fallback")
	}
	fmt.Fprintf(e.stderr, "portable bundle --trace: running %s %s\n", filepath.Base(progs[0]), strings.Join(sample, " "))
	res, err := bundle.Trace(progs, *opts, sample, os.Stdin, e.stdout, e.stderr)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		fmt.Fprintf(e.stderr, "warning: the sample command exited with status %d; its record is used all the same\n", res.ExitCode)
	}
	for _, a := range res.Added {
		fmt.Fprintf(e.stderr, "portable bundle --trace: adding %s as %s (the run asked for it by name)\n", a.Src, a.Dest)
	}
	opts.Adds = append(opts.Adds, res.Added...)
	for _, n := range res.Unfound {
		fmt.Fprintf(e.stderr, "warning: the run asked for %s, which neither the bundle nor the root has\n", n)
	}
	for _, p := range res.Diff.Refused {
		fmt.Fprintf(e.stderr, "warning: the run opened %s by its path outside the bundle, which the bundle refuses; --host-lib %s lets the host's in\n", p, filepath.Base(p))
	}
	for _, p := range res.Diff.Host {
		fmt.Fprintf(e.stderr, "portable bundle --trace: the run loaded %s from the host, as the policy allows\n", p)
	}
	var buf bytes.Buffer
	if err := res.Record.Format(&buf); err != nil {
		return err
	}
	opts.TraceRecord = buf.Bytes()
	return nil
}
