package bundle

import (
	"bytes"
	debugelf "debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/deps"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/launcherbin"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
	"github.com/rules-portable/rules_portable/tools/internal/sysroot"
)

// Add is one --add argument: a file or directory and where it goes in the
// bundle ("" derives it, see the package doc).
type Add struct {
	Src  string
	Dest string
}

// ParseAdd reads "SRC" or "SRC=DEST".
func ParseAdd(s string) (Add, error) {
	src, dest, _ := strings.Cut(s, "=")
	if src == "" {
		return Add{}, fmt.Errorf("--add %q: empty source path", s)
	}
	if dest != "" {
		dest = strings.TrimSuffix(dest, "/")
		if err := archive.ValidName(dest); err != nil {
			return Add{}, fmt.Errorf("--add %q: destination %q: %w; give a path relative to the bundle root, like lib/python3.11", s, dest, err)
		}
	}
	return Add{Src: src, Dest: dest}, nil
}

// The host-library policies (Options.HostLibs, --host-libs).
const (
	// HostLibsNever closes the bundled loader: it reads neither the
	// host's /etc/ld.so.cache nor /etc/ld.so.preload and searches none of
	// its default directories, so a library the bundle lacks is not
	// found (package ldso).
	HostLibsNever = "never"
	// HostLibsListed lets in only the host libraries named (and what
	// they need): the loader keeps its cache and default directories but
	// not /etc/ld.so.preload, and the audit module refuses every other
	// object from outside the bundle.
	HostLibsListed = "listed"
	// HostLibsFallback ships the loader as it is: a library the bundle
	// lacks is looked up in the host's cache and directories, and the
	// host's /etc/ld.so.preload is honoured.
	HostLibsFallback = "fallback"
)

// The gconv policies (Options.Gconv, --gconv).
const (
	GconvAuto = "auto"
	GconvYes  = "yes"
	GconvNo   = "no"
)

// ParseGconv checks a --gconv value; "true" and "false" are yes and no.
func ParseGconv(s string) (string, error) {
	switch s {
	case "", GconvAuto:
		return GconvAuto, nil
	case GconvYes, "true", "1":
		return GconvYes, nil
	case GconvNo, "false", "0":
		return GconvNo, nil
	}
	return "", fmt.Errorf("--gconv=%q: want auto (when a bundled program calls iconv_open), yes or no", s)
}

// ParseHostLibs checks a --host-libs value against the --host-lib names
// and returns the policy: names alone mean "listed".
func ParseHostLibs(s string, names []string) (string, error) {
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, "/\n\x00") {
			return "", fmt.Errorf("--host-lib %q: want a library's file name, like libGL.so.1 (no directory: the host's loader search finds it)", n)
		}
	}
	switch s {
	case "", HostLibsNever, HostLibsListed:
		if len(names) > 0 {
			return HostLibsListed, nil
		}
		if s == HostLibsListed {
			return "", fmt.Errorf("--host-libs listed: name the host libraries with --host-lib NAME")
		}
		return HostLibsNever, nil
	case HostLibsFallback:
		if len(names) > 0 {
			return "", fmt.Errorf("--host-lib %s with --host-libs fallback: fallback lets every host library in already; drop one", names[0])
		}
		return s, nil
	}
	return "", fmt.Errorf("--host-libs %q: want %s (the default: nothing from the host), %s (with --host-lib NAME: those) or %s (the host's libraries for what the bundle lacks)", s, HostLibsNever, HostLibsListed, HostLibsFallback)
}

func (b *builder) hostLibs() string {
	p, _ := ParseHostLibs(b.opts.HostLibs, b.opts.HostLib)
	return p
}

// needsAudit says whether the bundle carries the audit module: a closed
// bundle does (the module refuses libraries a program opens by an
// absolute path outside the bundle, which no loader search is involved
// in), and so does one that enforces checksums.
func (b *builder) needsAudit() bool {
	return b.opts.EnforceChecksums || b.hostLibs() != HostLibsFallback
}

// Progress receives progress reports: the stage ("resolve"; "copy" into
// a directory, or "read" for an archive written straight from the
// sources; "archive") and how far it is, in the stage's own unit.
type Progress func(stage string, done, total int64)

// Options control Build.
type Options struct {
	// Root is the directory the closure is resolved in: a sysroot, or ""
	// for this machine's own files.
	Root string
	// Adds are the --add arguments.
	Adds []Add
	// Gconv says whether glibc's gconv modules go in as lib/gconv:
	// GconvAuto ("" means the same: when a bundled object calls
	// iconv_open), GconvYes or GconvNo. See the package doc.
	Gconv string
	// HostLibs says which host libraries the bundled loader may load:
	// HostLibsNever ("" means the same), HostLibsListed (with HostLib)
	// or HostLibsFallback.
	HostLibs string
	// HostLib names the host libraries a "listed" bundle may load
	// (--host-lib); setting it implies HostLibsListed.
	HostLib []string
	// EnforceChecksums adds the audit module, which refuses to run an
	// object whose sha256 differs from the bundle's list.
	EnforceChecksums bool
	// Locales are the locales to carry (--locale), by name (C.UTF-8,
	// en_US.UTF-8): the root's compiled locale directories, written as
	// lib/locale/locale-archive, which a closed libc reads.
	Locales []string
	// TraceRecord, when set, is kept in the bundle as .portable/trace
	// (the normalised record of a --trace run, see Trace).
	TraceRecord []byte
	// Prefix puts every archive entry under one top directory.
	Prefix string
	// Tar, with a directory out, also writes the bundle as this archive
	// (under TarPrefix): both outputs appear, or neither.
	Tar       string
	TarPrefix string
	// MTime is stamped on archive entries (SOURCE_DATE_EPOCH); zero is the
	// Unix epoch.
	MTime time.Time
	// Progress, when set, is told how the build advances.
	Progress Progress
	// Warn receives warnings (one line each); nil discards them.
	Warn io.Writer
	// Jobs bounds parallel file writes; 0 means one per CPU, at least 2
	// (a copy waits on the disk as much as on the CPU).
	Jobs int
	// Launcher, when set, is the launcher put at bin/NAME instead of the
	// copy embedded in this helper (Bazel passes the one it built from
	// launcher/). It must be an ELF of the programs' machine.
	Launcher []byte
	// Names renames entry points: a program's path, as passed to Build,
	// to the name of its launcher in bin/ and of its copy in libexec/
	// (package compiler bundles x86_64-linux-gnu-gcc-16 as gcc). Programs
	// not in it keep their base name.
	Names map[string]string
	// SourcePrefixMap rewrites the origins the manifest records (each
	// file's "source"), like a compiler's -ffile-prefix-map: a recorded
	// path that starts with a pair's Old starts with its New instead; the
	// first pair that matches applies. Bazel maps its output directories
	// (bazel-out/CONFIG/bin/) to "", so a bundle's bytes do not depend on
	// the configuration its program was built in.
	SourcePrefixMap []PrefixMap
}

// PrefixMap is one --source-prefix-map OLD=NEW.
type PrefixMap struct {
	Old, New string
}

// ParsePrefixMap parses OLD=NEW (NEW may be empty; OLD may not).
func ParsePrefixMap(s string) (PrefixMap, error) {
	old, repl, ok := strings.Cut(s, "=")
	if !ok || old == "" {
		return PrefixMap{}, fmt.Errorf("source prefix map %q: want OLD=NEW with a non-empty OLD, e.g. bazel-out/k8-fastbuild/bin/=", s)
	}
	return PrefixMap{Old: old, New: repl}, nil
}

// Result describes a finished bundle.
type Result struct {
	Out      string
	Manifest *manifest.Manifest
	// Files and Bytes count the regular files and their content, counting
	// hard-linked copies once.
	Files int
	Bytes int64
}

type builder struct {
	opts    Options
	elfs    map[string]bool // bundle paths of the files written that are ELF
	root    string          // absolute; "/" for the host
	tmpRoot string          // temp dir an archived sysroot was unpacked into, or ""
	cwd     string          // canonical working directory, for sourceOf
	// A build sandbox mirrors the exec root: each input is an absolute
	// symlink to the same relative path under a directory of the same
	// name as the working directory. Such inputs are named as given
	// (staged, by resolved host path), and files under the mirrored
	// directories relative to them (mirrors), so the manifest does not
	// depend on where the sandbox or the exec root is.
	staged  map[string]string
	mirrors []string
	label   string // "host" or the sysroot's label
	// links are the sysroot's symlinks as its manifest records them, by
	// in-root path: lookups inside the root follow these rather than the
	// disk, where a build tool may have left copies (see deps.Options).
	links   map[string]string
	plan    *plan
	machine elf.Machine
	hasMach bool

	// ELF inputs for the closure, by host path, with the bundle path they
	// were placed at (for messages).
	inputs    []string
	plugins   map[string]bool // inputs that are shared objects from --add or policy
	inputDest map[string]string
	objects   map[string]*elf.File // bundle path -> parsed ELF (for the version gate)
	// parsed holds the ELF files probed so far by identity, for the
	// resolver to take instead of reading them again.
	parsed     map[deps.FileID]*elf.File
	entries    []manifest.EntryPoint
	loader     string // bundle path of the loader, "" for static-only bundles
	loaderHost string // its host path
	libc       *deps.Library
	glibc      string // version of the bundled glibc, once known
}

func (b *builder) warnf(format string, args ...any) {
	if b.opts.Warn != nil {
		fmt.Fprintf(b.opts.Warn, "warning: "+format+"\n", args...)
	}
}

func (b *builder) progress(stage string, done, total int64) {
	if b.opts.Progress != nil {
		b.opts.Progress(stage, done, total)
	}
}

// inRoot returns the path of host path p inside the root, and whether it
// lies there.
func (b *builder) inRoot(p string) (string, bool) {
	if b.root == "/" {
		return p, true
	}
	rel, err := filepath.Rel(b.root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return p, false
	}
	return "/" + filepath.ToSlash(rel), true
}

// sourceOf is what the manifest records as a file's origin: its path
// inside the sysroot, or, on the host, relative to the working directory
// when it lies below it (a build's outputs: Bazel runs actions in a
// sandbox whose absolute path changes from run to run, and the manifest
// must not), else its absolute path.
// Options.SourcePrefixMap rewrites the result.
func (b *builder) sourceOf(host string) string {
	return b.mapSource(b.origin(host))
}

func (b *builder) origin(host string) string {
	if in, ok := b.inRoot(host); ok && b.root != "/" {
		return in
	}
	if name, ok := b.staged[host]; ok {
		return name
	}
	for _, dir := range append([]string{b.cwd}, b.mirrors...) {
		if dir == "" || dir == "/" {
			continue
		}
		if rel, err := filepath.Rel(dir, host); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return filepath.ToSlash(rel)
		}
	}
	return host
}

func (b *builder) mapSource(s string) string {
	for _, m := range b.opts.SourcePrefixMap {
		if rest, ok := strings.CutPrefix(s, m.Old); ok {
			return m.New + rest
		}
	}
	return s
}

// noteStaged recognises an input staged by a build sandbox (see
// builder.staged): given is the relative path from the command line, abs
// the same path made absolute, real its resolved host path.
func (b *builder) noteStaged(given, abs, real string) {
	rel := filepath.Clean(given)
	if filepath.IsAbs(given) || rel == "." || strings.HasPrefix(rel, "..") || b.cwd == "" {
		return
	}
	target, err := os.Readlink(abs)
	if err != nil || !filepath.IsAbs(target) {
		return
	}
	dir, ok := strings.CutSuffix(target, string(filepath.Separator)+rel)
	if !ok || filepath.Base(dir) != filepath.Base(b.cwd) {
		return
	}
	if b.staged == nil {
		b.staged = map[string]string{}
	}
	b.staged[real] = filepath.ToSlash(rel)
	if d, err := filepath.EvalSymlinks(dir); err == nil && d != b.cwd && !slices.Contains(b.mirrors, d) {
		b.mirrors = append(b.mirrors, d)
	}
}

func (b *builder) hostOf(inRoot string) string {
	if b.root == "/" {
		return inRoot
	}
	return filepath.Join(b.root, filepath.FromSlash(inRoot))
}

// Build bundles programs (host paths of ELF executables) into out: a
// directory, or an archive when out ends in .tar, .tar.gz or .tar.zst.
func Build(out string, programs []string, opts Options) (*Result, error) {
	if len(programs) == 0 {
		return nil, errors.New("no program to bundle")
	}
	if _, err := ParseHostLibs(opts.HostLibs, opts.HostLib); err != nil {
		return nil, err
	}
	if _, err := ParseGconv(opts.Gconv); err != nil {
		return nil, err
	}
	b := &builder{opts: opts, plan: newPlan(), inputDest: map[string]string{}, plugins: map[string]bool{}, objects: map[string]*elf.File{}, parsed: map[deps.FileID]*elf.File{}}
	if err := b.setRoot(); err != nil {
		return nil, err
	}
	if b.tmpRoot != "" {
		defer fsutil.RemoveTemp(b.tmpRoot)
	}
	if wd, err := os.Getwd(); err == nil {
		if wd, err = filepath.EvalSymlinks(wd); err == nil {
			b.cwd = wd
		}
	}
	if err := b.prepareOut(out); err != nil {
		return nil, err
	}
	if err := checkOut(out); err != nil {
		return nil, err
	}
	if opts.Tar != "" {
		if err := b.prepareOut(opts.Tar); err != nil {
			return nil, err
		}
		if err := checkOut(opts.Tar); err != nil {
			return nil, err
		}
	}
	b.progress("resolve", 0, 0)
	for _, p := range programs {
		if err := b.addProgram(p); err != nil {
			return nil, err
		}
	}
	for _, a := range opts.Adds {
		if err := b.addSpec(a); err != nil {
			return nil, err
		}
	}
	if err := b.resolve(); err != nil {
		return nil, err
	}
	if err := b.versionGate(); err != nil {
		return nil, err
	}
	return b.write(out)
}

func (b *builder) setRoot() error {
	if b.opts.Root == "" || b.opts.Root == "/" {
		b.root, b.label = "/", "host"
		return nil
	}
	if _, err := fsutil.StatInput("--sysroot", b.opts.Root, fsutil.RegularFile|fsutil.Directory); err != nil {
		return err
	}
	abs, err := filepath.Abs(b.opts.Root)
	if err != nil {
		return err
	}
	if isArchiveFile(abs) {
		root, tmp, err := unpackSysroot(abs)
		if err != nil {
			return err
		}
		b.tmpRoot = tmp
		abs = root
	} else if abs, err = sysroot.Unstaged(abs); err != nil {
		return err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return fmt.Errorf("sysroot %s: %w", b.opts.Root, err)
	}
	st, err := os.Stat(abs)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("sysroot %s: not a directory", b.opts.Root)
	}
	b.root = abs
	b.label = filepath.Base(abs)
	// Any directory may be a root; one that has a sysroot manifest must
	// be able to read it.
	if _, err := os.Lstat(filepath.Join(abs, sysroot.ManifestPath)); err == nil {
		m, err := sysroot.ReadManifest(abs)
		if err != nil {
			return fmt.Errorf("--sysroot %s: %w", b.opts.Root, err)
		}
		if m.Label != "" {
			b.label = m.Label
		}
		b.links = m.Symlinks()
	}
	return nil
}

// checkOut refuses outputs that can't be written before any work is done.
func checkOut(out string) error {
	if out == "" {
		return errors.New("no output path")
	}
	parent := filepath.Dir(out)
	st, err := os.Stat(parent)
	if err != nil {
		return fmt.Errorf("%s: output directory: %w", out, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: %s is not a directory", out, parent)
	}
	if st, err := os.Lstat(out); err == nil && st.Mode()&os.ModeSymlink != 0 {
		target, _ := os.Readlink(out)
		return fmt.Errorf("%s: is a symlink (to %s), which the bundle would replace; give the path it names, or remove the link", out, target)
	}
	if isFileOut(out) {
		if st, err := os.Stat(out); err == nil && st.IsDir() {
			return fmt.Errorf("%s: is a directory; remove it or choose another -o", out)
		}
		return nil
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("%s: already exists; remove it or choose another -o (a directory bundle is never written over)", out)
	}
	return nil
}

// readMagic returns the first bytes of a file (fewer if it is shorter).
func readMagic(p string, n int) ([]byte, error) {
	f, _, err := fsutil.OpenInput("", p, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	k, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:k], nil
}

func (b *builder) checkMachine(p string, f *elf.File) error {
	if !b.hasMach {
		b.machine, b.hasMach = f.Machine, true
		return nil
	}
	if f.Machine != b.machine {
		return fmt.Errorf("%s: is for %v but the bundle is for %v; bundle each architecture separately", p, f.Machine, b.machine)
	}
	return nil
}

// addProgram plans bin/NAME and libexec/NAME for one program.
func (b *builder) addProgram(given string) error {
	abs, err := filepath.Abs(given)
	if err != nil {
		return err
	}
	real, err := b.resolvePath(abs)
	if err != nil {
		return fmt.Errorf("%s: %w", given, unwrap(err))
	}
	b.noteStaged(given, abs, real)
	st, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("%s: %w", given, unwrap(err))
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: is %s, not a program; bundle programs, and pass directories with --add", given, fsutil.Kind(st.Mode()))
	}
	head, err := readMagic(real, 4)
	if err != nil {
		return fmt.Errorf("%s: cannot read: %w", given, unwrap(err))
	}
	if !bytes.Equal(head, []byte("\x7fELF")) {
		if bytes.HasPrefix(head, []byte("#!")) {
			line, _ := readMagic(real, 128)
			line, _, _ = bytes.Cut(line, []byte("\n"))
			return fmt.Errorf("%s: not an ELF program but a script (%s); bundle its interpreter and pass the script with --add %s", given, line, given)
		}
		return fmt.Errorf("%s: not an ELF program; only ELF executables can be entry points, pass other files with --add %s", given, given)
	}
	f, err := elf.Open(real)
	if err != nil {
		return err // it names the file
	}
	if f.Type != elf.TypeExec && f.Type != elf.TypeDyn {
		return fmt.Errorf("%s: is an ELF %v, not an executable", given, f.Type)
	}
	if f.Type == elf.TypeDyn && f.Interp == "" && f.Linkage == elf.Dynamic {
		return fmt.Errorf("%s: is a shared library, not a program; pass it with --add %s", given, given)
	}
	if err := b.checkMachine(given, f); err != nil {
		return err
	}
	name := filepath.Base(abs)
	if n, ok := b.opts.Names[given]; ok {
		name = n
	}
	if err := archive.ValidName(name); err != nil || name == ".portable" || strings.Contains(name, "/") {
		return fmt.Errorf("%s: cannot be an entry point name", given)
	}
	source := b.sourceOf(real)
	target := "libexec/" + name
	launcherBytes, err := b.launcherFor(given, f)
	if err != nil {
		return err
	}
	why := "program " + given
	it := &item{dest: target, kind: kindFile, src: real, source: source, exec: true, why: why}
	if f.Interp != "" {
		it.slot = true
		b.inputs = append(b.inputs, real)
		b.inputDest[real] = target
	}
	for _, ep := range b.entries {
		if ep.Name == name && ep.Source != source {
			return fmt.Errorf("%w: two programs are named %s: %s and %s; bundle one of them separately", errClash, name, ep.Source, source)
		}
	}
	if err := b.plan.put(it); err != nil {
		return err
	}
	b.objects[target] = f
	if err := b.plan.put(&item{dest: "bin/" + name, kind: kindFile, data: launcherBytes, exec: true, why: "launcher"}); err != nil {
		return err
	}
	if !slices.ContainsFunc(b.entries, func(e manifest.EntryPoint) bool { return e.Name == name }) {
		b.entries = append(b.entries, manifest.EntryPoint{Name: name, Launcher: "bin/" + name, Target: target, Source: source})
	}
	return nil
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// resolvePath follows every symlink of host path p. Inside a sysroot an
// absolute symlink target starts again at the sysroot's top, as it would
// for a program running in that root, and a link the sysroot records is
// followed as recorded even where the disk holds a copy; elsewhere it is
// the host's.
func (b *builder) resolvePath(p string) (string, error) {
	in, ok := b.inRoot(p)
	if !ok || b.root == "/" {
		return filepath.EvalSymlinks(p)
	}
	todo := strings.Split(strings.TrimPrefix(in, "/"), "/")
	cur := "/"
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		t, recorded := b.links[next]
		if !recorded {
			st, err := os.Lstat(b.hostOf(next))
			if err != nil {
				return "", err
			}
			if st.Mode()&fs.ModeSymlink == 0 {
				cur = next
				continue
			}
		}
		if hops++; hops > 40 {
			return "", &fs.PathError{Op: "resolve", Path: p, Err: errors.New("too many levels of symbolic links")}
		}
		if !recorded {
			var err error
			if t, err = os.Readlink(b.hostOf(next)); err != nil {
				return "", err
			}
		}
		if path.IsAbs(t) {
			cur = "/"
		}
		todo = append(strings.Split(t, "/"), todo...)
	}
	return b.hostOf(cur), nil
}

// launcherFor returns the launcher bytes for a program of f's machine: the
// one given in Options.Launcher, or the copy embedded in this helper.
func (b *builder) launcherFor(given string, f *elf.File) ([]byte, error) {
	if b.opts.Launcher == nil {
		l, err := launcherbin.ForMachine(debugelf.Machine(f.Machine))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", given, err)
		}
		return l, nil
	}
	lf, err := elf.Parse(bytes.NewReader(b.opts.Launcher), int64(len(b.opts.Launcher)))
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	if lf.Machine != f.Machine || lf.Class != f.Class {
		return nil, fmt.Errorf("%s: is %v %v but the launcher is %v %v; pass a launcher built for %v", given, f.Class, f.Machine, lf.Class, lf.Machine, f.Machine)
	}
	if lf.Interp != "" {
		return nil, fmt.Errorf("launcher: has an interpreter (%s); a launcher must be static", lf.Interp)
	}
	return b.opts.Launcher, nil
}
