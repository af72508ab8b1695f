package deps

import (
	"errors"
	"fmt"
	"path"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// Source says which step of ld.so's search found a library.
type Source uint8

const (
	SourceInterp      Source = iota // the program's PT_INTERP
	SourcePath                      // a DT_NEEDED name containing '/', used as a path
	SourceRPath                     // DT_RPATH of the loader chain or of the executable
	SourceLibraryPath               // LD_LIBRARY_PATH (Options.LibraryPath)
	SourceRunPath                   // DT_RUNPATH of the object that needs it
	SourceCache                     // the root's /etc/ld.so.cache
	SourceConf                      // the emulated cache built from ld.so.conf
	SourceDefault                   // ld.so's built-in trusted directories
)

func (s Source) String() string {
	switch s {
	case SourceInterp:
		return "interpreter"
	case SourcePath:
		return "path"
	case SourceRPath:
		return "rpath"
	case SourceLibraryPath:
		return "library-path"
	case SourceRunPath:
		return "runpath"
	case SourceCache:
		return "ld.so.cache"
	case SourceConf:
		return "ld.so.conf"
	case SourceDefault:
		return "default"
	}
	return fmt.Sprintf("Source(%d)", uint8(s))
}

// MarshalText writes the source as its name in JSON.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Library is one object of a closure.
type Library struct {
	// Name is the name it was first asked for: the DT_NEEDED string, or
	// the PT_INTERP path for the interpreter.
	Name string `json:"name"`
	// Path is the path ld.so opens it by (its l_name): search directory +
	// subdirectory + name, not canonicalised, inside the root (on the
	// host when Outside).
	Path string `json:"path"`
	// RealPath is Path with every symlink followed inside the root.
	RealPath string `json:"real_path"`
	// HostPath is where RealPath is on this machine.
	HostPath string `json:"host_path"`
	SOName   string `json:"soname,omitempty"`
	// Aliases are the other DT_NEEDED names that reached this same file
	// (ld.so matches a file it already loaded by device and inode): a
	// compat symlink such as libalias.so.1 -> libfoo.so.1. A bundle must
	// carry each of them.
	Aliases []string `json:"aliases,omitempty"`
	// NeededBy lists the Path of every object whose DT_NEEDED (or
	// PT_INTERP) asks for it, in search order.
	NeededBy []string `json:"needed_by"`
	Source   Source   `json:"found_via"`
	// Interpreter marks the program's PT_INTERP loader.
	Interpreter bool `json:"interpreter,omitempty"`
	// Outside marks a library found through $ORIGIN of a program that
	// lies outside the root: it is a host file, not part of the root.
	Outside bool `json:"outside_root,omitempty"`
	// File is the parsed ELF file.
	File *elf.File `json:"-"`

	seq int // position among found and missing entries, for text output
}

// Missing is a library ld.so would not load.
type Missing struct {
	Name     string   `json:"name"`
	NeededBy []string `json:"needed_by"`
	// Reason is "not found", "wrong ELF class: ELFCLASS32" (only a
	// library of the other class exists), or the error ld.so would stop
	// with, naming the file, e.g. "/lib/libx.so.1: invalid ELF header".
	Reason string `json:"reason"`

	seq int
}

// Program is the closure of one input file.
type Program struct {
	// Path is the file as given, inside the root when it lies there.
	Path string `json:"path"`
	// RealPath is the canonical path ($ORIGIN of the program is its
	// directory, as the kernel's /proc/self/exe gives it).
	RealPath    string `json:"real_path"`
	HostPath    string `json:"host_path"`
	Outside     bool   `json:"outside_root,omitempty"`
	Linkage     string `json:"linkage"`
	Interpreter string `json:"interpreter,omitempty"`
	// Libraries are found objects in ld.so's load order (breadth-first
	// over DT_NEEDED), the interpreter where it is first needed or last.
	Libraries []Library `json:"libraries"`
	Missing   []Missing `json:"missing"`
	File      *elf.File `json:"-"`
}

// Closure is the result of resolving one or more programs in one root.
type Closure struct {
	Root     string    `json:"root"`
	Programs []Program `json:"programs"`
	// Libraries is the union over all programs, each once (by RealPath),
	// in first-seen order; NeededBy merges every program's.
	Libraries []Library `json:"libraries"`
	// Missing is the union of the programs' missing libraries by name.
	Missing []Missing `json:"missing"`
}

// maxListed bounds how many missing libraries of one kind Err names; the
// rest are counted.
const maxListed = 20

// Err returns nil when every library was found, and otherwise one error
// naming the missing libraries (up to maxListed of each kind, then a
// count), who needs them, why, and, once per kind, what to do.
func (c *Closure) Err() error {
	if len(c.Missing) == 0 {
		return nil
	}
	var notFound, otherClass, broken []string
	for _, m := range c.Missing {
		by := strings.Join(m.NeededBy, ", ")
		switch {
		case m.Reason == "not found":
			notFound = append(notFound, fmt.Sprintf("%s (needed by %s)", m.Name, by))
		case strings.HasPrefix(m.Reason, "wrong ELF class"):
			otherClass = append(otherClass, fmt.Sprintf("%s (needed by %s; %s)", m.Name, by, m.Reason))
		default:
			broken = append(broken, fmt.Sprintf("%s (needed by %s): %s", m.Name, by, m.Reason))
		}
	}
	var parts []string
	if len(notFound) > 0 {
		fix := "add the package that ships it to the root, or give its directory with --library-path"
		if len(notFound) > 1 {
			fix = "add the packages that ship them to the root, or give their directories with --library-path"
		}
		parts = append(parts, fmt.Sprintf("%s not found in root %s: %s; %s",
			count(len(notFound), "library", "libraries"), c.Root, listSome(notFound), fix))
	}
	if len(otherClass) > 0 {
		parts = append(parts, fmt.Sprintf("%s exist in root %s only for the other ELF class: %s; add the packages for this architecture",
			count(len(otherClass), "library", "libraries"), c.Root, listSome(otherClass)))
	}
	if len(broken) > 0 {
		parts = append(parts, fmt.Sprintf("%s cannot be loaded: %s; ld.so would stop at such a file, so remove or replace it",
			count(len(broken), "library", "libraries"), listSome(broken)))
	}
	return errors.New(strings.Join(parts, "; "))
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// listSome joins up to maxListed items and counts the rest.
func listSome(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxListed], ", "), len(items)-maxListed)
}

// Resolver computes library closures inside one root, emulating glibc's
// ld.so without running anything. It caches what it reads, so resolving
// many programs with one Resolver reads each library once. It is safe
// for concurrent use.
type Resolver struct {
	opts    Options
	root    *rootFS
	host    *rootFS
	objs    objCache
	confDir func() ([]string, error)
	cache   func() (*Cache, error)
}

// NewResolver prepares a resolver for the directory root ("" or "/" for
// this machine's own files).
func NewResolver(root string, opts Options) (*Resolver, error) {
	if root == "" {
		root = "/"
	}
	var rfs *rootFS
	var err error
	if opts.Tree != nil {
		rfs, err = newTreeFS(root, opts.Tree)
	} else {
		rfs, err = newRootFS(root)
	}
	if err != nil {
		return nil, err
	}
	for p, t := range opts.Symlinks {
		if !strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "/" || t == "" {
			return nil, fmt.Errorf("root %s: recorded symlink %q -> %q: want a clean absolute path other than / and a non-empty target", rfs.host, p, t)
		}
	}
	rfs.links = opts.Symlinks
	hfs := rfs
	if rfs.host != "/" {
		if hfs, err = newRootFS("/"); err != nil {
			return nil, err
		}
	}
	if opts.WorkDir == "" {
		opts.WorkDir = "/"
	}
	if !strings.HasPrefix(opts.WorkDir, "/") {
		return nil, fmt.Errorf("work dir %s: must be an absolute path inside the root", opts.WorkDir)
	}
	r := &Resolver{opts: opts, root: rfs, host: hfs}
	r.objs.parsed = opts.Parsed
	r.confDir = sync.OnceValues(func() ([]string, error) {
		conf, err := readLDConf(rfs, "/etc/ld.so.conf")
		if err != nil {
			return nil, fmt.Errorf("root %s: %w", rfs.host, err)
		}
		return confSearchDirs(rfs, conf, []string{"/lib", "/usr/lib"}), nil
	})
	r.cache = sync.OnceValues(func() (*Cache, error) {
		data, err := rfs.readFile("/etc/ld.so.cache", maxCacheFile)
		if err != nil {
			return nil, fmt.Errorf("root %s: /etc/ld.so.cache: %w", rfs.host, unwrapPathError(err))
		}
		c, err := ParseCache(data)
		if err != nil {
			return nil, fmt.Errorf("root %s: /etc/ld.so.cache: %w; regenerate it (ldconfig -r ROOT) or use the ld.so.conf emulation", rfs.host, err)
		}
		return c, nil
	})
	return r, nil
}

// Resolve computes the closure of files (host paths) inside root with a
// new Resolver. See Resolver.Resolve.
func Resolve(root string, files []string, opts Options) (*Closure, error) {
	r, err := NewResolver(root, opts)
	if err != nil {
		return nil, err
	}
	return r.Resolve(files...)
}

// Resolve computes the closure of each file, given as a host path. A file
// inside the root is treated as that file of the root (its $ORIGIN is
// inside the root); a file outside it, such as a program a build just
// produced, keeps its host location for $ORIGIN, so libraries it reaches
// through $ORIGIN are host files, and everything else is looked up in
// the root. Each program is resolved as its own process; the programs
// are resolved in parallel and the result is the same in every run.
//
// The error is for unusable input (a missing file, not ELF, a symlink
// loop); libraries that cannot be found are listed in Missing, see
// Closure.Err.
func (r *Resolver) Resolve(files ...string) (*Closure, error) {
	progs := make([]Program, len(files))
	errs := make([]error, len(files))
	jobs := r.opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p, err := r.resolveProgram(f)
			if err != nil {
				errs[i] = err
				return
			}
			progs[i] = *p
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := &Closure{Root: r.root.host, Programs: progs, Libraries: []Library{}, Missing: []Missing{}}
	libIdx := map[string]int{}
	missIdx := map[string]int{}
	for _, p := range progs {
		for _, l := range p.Libraries {
			key := fmt.Sprint(l.Outside, l.RealPath)
			if i, ok := libIdx[key]; ok {
				c.Libraries[i].NeededBy = appendUnique(c.Libraries[i].NeededBy, l.NeededBy...)
				for _, a := range append([]string{l.Name}, l.Aliases...) {
					if a != c.Libraries[i].Name && a != c.Libraries[i].SOName {
						c.Libraries[i].Aliases = appendUnique(c.Libraries[i].Aliases, a)
					}
				}
				continue
			}
			libIdx[key] = len(c.Libraries)
			l.NeededBy = append([]string(nil), l.NeededBy...)
			l.Aliases = append([]string(nil), l.Aliases...)
			c.Libraries = append(c.Libraries, l)
		}
		for _, m := range p.Missing {
			if i, ok := missIdx[m.Name]; ok {
				c.Missing[i].NeededBy = appendUnique(c.Missing[i].NeededBy, m.NeededBy...)
				continue
			}
			missIdx[m.Name] = len(c.Missing)
			m.NeededBy = append([]string(nil), m.NeededBy...)
			c.Missing = append(c.Missing, m)
		}
	}
	return c, nil
}

func appendUnique(list []string, add ...string) []string {
	for _, a := range add {
		dup := false
		for _, l := range list {
			if l == a {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, a)
		}
	}
	return list
}

// lmap is one loaded object of a program, ld.so's struct link_map.
type lmap struct {
	name    string // l_name: the path it was opened by ("" never: the main keeps its path)
	fsys    *rootFS
	outside bool
	real    string
	id      fileID
	obj     *object
	file    *elf.File
	names   []string // l_libname: every name it was asked for, plus its soname
	loader  *lmap    // l_loader: the object whose DT_NEEDED first loaded it
	isMain  bool
	isRtld  bool
	origin  string

	rpathOnce, runpathOnce bool
	rpath, runpath         []searchDir

	lib  *Library // output record (nil for the main program)
	inBF bool     // queued for the breadth-first walk
}

// proc is the state of one emulated process.
type proc struct {
	r        *Resolver
	want     expectation
	mi       machineInfo
	known    bool // mi is valid
	platform string
	lib      string
	subdirs  []string // hwcaps and legacy subdirectories, each ending in '/', then ""
	hwcaps   []string
	legacy   bool
	defaults []searchDir
	llp      []searchDir

	main    *lmap
	rtld    *lmap
	loaded  []*lmap // ld.so's namespace list order for name matching
	prog    *Program
	order   []*Library // found libraries in load order
	seq     int
	missing map[string]int // name -> index in prog.Missing
}

// input resolves a host path given by the user to (fs, canonical path).
func (r *Resolver) input(file string) (*rootFS, string, string, bool, error) {
	if in, ok := r.root.inRoot(file); ok {
		e, err := r.root.resolve(in)
		if err != nil {
			return nil, "", "", false, fmt.Errorf("%s: %w", file, unwrapPathError(err))
		}
		return r.root, in, e.real, false, r.checkInput(file, e)
	}
	hostIn, _ := r.host.inRoot(file)
	e, err := r.host.resolve(hostIn)
	if err != nil {
		return nil, "", "", false, fmt.Errorf("%s: %w", file, unwrapPathError(err))
	}
	return r.host, hostIn, e.real, true, r.checkInput(file, e)
}

func (r *Resolver) checkInput(file string, e entry) error {
	switch {
	case e.mode.IsDir():
		return fmt.Errorf("%s: is a directory, not an ELF file", file)
	case !e.mode.IsRegular():
		return fmt.Errorf("%s: is %s, not an ELF file", file, fsutil.Kind(e.mode))
	}
	return nil
}

func (r *Resolver) resolveProgram(file string) (*Program, error) {
	fsys, given, real, outside, err := r.input(file)
	if err != nil {
		return nil, err
	}
	e, err := fsys.resolve(real)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, unwrapPathError(err))
	}
	obj := r.objs.get(e.id, fsys.hostPath(real), fsys.opener(e.real, fsys.hostPath(real)))
	f, err := obj.parse()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	prog := &Program{Path: given, RealPath: real, HostPath: fsys.hostPath(real), Outside: outside,
		Linkage: f.Linkage.String(), Interpreter: f.Interp, File: f,
		Libraries: []Library{}, Missing: []Missing{}}
	if f.Linkage != elf.Dynamic {
		return prog, nil
	}
	p := &proc{r: r, prog: prog, missing: map[string]int{},
		want: expectation{class: f.Class, data: f.Data, machine: f.Machine}}
	p.mi, p.known = lookupMachine(f.Class, f.Machine)
	main := &lmap{name: given, fsys: fsys, outside: outside, real: real, id: e.id, obj: obj, file: f,
		isMain: true, origin: path.Dir(real), inBF: true}
	p.main = main
	p.loaded = []*lmap{main}
	if err := p.setup(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	p.walk()
	for _, l := range p.order {
		prog.Libraries = append(prog.Libraries, *l)
	}
	return prog, nil
}

// setup loads the interpreter and computes the search lists.
func (p *proc) setup() error {
	o := p.r.opts
	f := p.main.file
	if f.Interp != "" {
		p.loadInterp(f.Interp)
	}
	legacy := o.Legacy == LegacyOn
	if o.Legacy == LegacyAuto && p.rtld != nil {
		if v := p.rtld.obj.glibcVersion(); v != "" && elf.CompareVersions("GLIBC_"+v, "GLIBC_2.37") < 0 {
			legacy = true
		}
	}
	p.legacy = legacy
	p.platform = o.CPU.Platform
	if p.platform == "" && p.known {
		p.platform = p.mi.platform
	}
	p.lib = o.Lib
	if p.lib == "" && p.known {
		p.lib = "lib/" + p.mi.triplet
	}
	p.hwcaps = o.CPU.HWCaps
	for _, h := range p.hwcaps {
		p.subdirs = append(p.subdirs, "glibc-hwcaps/"+h+"/")
	}
	if legacy {
		hw := o.CPU.LegacyHWCap
		if hw == nil && p.known && p.mi.legacyHWCap != "" {
			hw = []string{p.mi.legacyHWCap}
		}
		for _, d := range LegacyHWCapDirs(hw, p.platform) {
			p.subdirs = append(p.subdirs, d+"/")
		}
	}
	p.subdirs = append(p.subdirs, "")
	dd := o.DefaultDirs
	if dd == nil {
		var err error
		if dd, err = DefaultDirs(f.Class, f.Machine); err != nil {
			return err
		}
	}
	for _, d := range dd {
		p.defaults = append(p.defaults, splitSearchPath(d, ":", dstValues{}, false)...)
	}
	if o.LibraryPath != "" {
		p.llp = splitSearchPath(o.LibraryPath, ":;", p.dst(p.main), false)
	}
	return nil
}

// dst returns the token values for strings of object m.
func (p *proc) dst(m *lmap) dstValues {
	return dstValues{Origin: m.origin, Platform: p.platform, Lib: p.lib}
}

// loadInterp maps the PT_INTERP loader, looked up inside the root (the
// kernel opens it on the machine the program runs on).
func (p *proc) loadInterp(interp string) {
	lib := &Library{Name: interp, Path: interp, Source: SourceInterp, Interpreter: true, NeededBy: []string{p.main.name}}
	target := interp
	if !strings.HasPrefix(target, "/") {
		target = path.Join(p.r.opts.WorkDir, target)
	}
	e, err := p.r.root.resolve(target)
	if err != nil {
		p.addMissing(interp, p.main, "interpreter "+interp+" not found in the root")
		return
	}
	if !e.mode.IsRegular() {
		p.addMissing(interp, p.main, "interpreter "+interp+" is not a regular file")
		return
	}
	obj := p.r.objs.get(e.id, p.r.root.hostPath(e.real), p.r.root.opener(e.real, p.r.root.hostPath(e.real)))
	if v, msg := obj.verify(p.want); v != verdictOK {
		if msg == "" {
			msg = "not a loader for this program's class and machine"
		}
		p.addMissing(interp, p.main, "interpreter "+interp+": "+msg)
		return
	}
	f, err := obj.parse()
	if err != nil {
		p.addMissing(interp, p.main, "interpreter "+interp+": "+err.Error())
		return
	}
	m := &lmap{name: interp, fsys: p.r.root, real: e.real, id: e.id, obj: obj, file: f,
		names: []string{interp}, isRtld: true}
	if f.SOName != "" && f.SOName != interp {
		m.names = append(m.names, f.SOName)
	}
	lib.RealPath, lib.HostPath, lib.SOName, lib.File = e.real, p.r.root.hostPath(e.real), f.SOName, f
	m.lib = lib
	p.rtld = m
	p.loaded = append(p.loaded, m)
}

// walk loads DT_NEEDED breadth-first, as _dl_map_object_deps does.
func (p *proc) walk() {
	queue := []*lmap{p.main}
	for i := 0; i < len(queue); i++ {
		m := queue[i]
		for _, name := range m.file.Needed {
			dep := p.mapObject(m, name)
			if dep == nil {
				continue
			}
			if dep.lib != nil {
				dep.lib.NeededBy = appendUnique(dep.lib.NeededBy, m.name)
			}
			if !dep.inBF {
				dep.inBF = true
				queue = append(queue, dep)
				p.emit(dep)
			}
		}
	}
	if p.rtld != nil && !p.rtld.inBF {
		p.rtld.inBF = true
		p.emit(p.rtld)
	}
}

func (p *proc) emit(m *lmap) {
	if m.lib == nil {
		return
	}
	m.lib.seq = p.seq
	p.seq++
	p.order = append(p.order, m.lib)
}

func (p *proc) addMissing(name string, by *lmap, reason string) {
	if i, ok := p.missing[name]; ok {
		p.prog.Missing[i].NeededBy = appendUnique(p.prog.Missing[i].NeededBy, by.name)
		return
	}
	p.missing[name] = len(p.prog.Missing)
	p.prog.Missing = append(p.prog.Missing, Missing{Name: name, NeededBy: []string{by.name}, Reason: reason, seq: p.seq})
	p.seq++
}

// matchLoaded finds an already loaded object for name, as the loop at the
// top of _dl_map_object does: by a name it was opened or asked by, or by
// its DT_SONAME.
func (p *proc) matchLoaded(name string) *lmap {
	for _, l := range p.loaded {
		if l.name == name && !l.isMain {
			return l
		}
		for _, n := range l.names {
			if n == name {
				return l
			}
		}
		if l.file.SOName == name {
			l.names = append(l.names, name)
			return l
		}
	}
	return nil
}

// found is a file ld.so's search settled on.
type found struct {
	name   string // the path ld.so opened (its l_name)
	fsys   *rootFS
	e      entry
	obj    *object
	source Source
}

// failure is why a search did not produce a file.
type failure struct {
	fatal      string // ld.so stops here with this message
	otherClass bool   // a library of the other ELF class was skipped
}

// mapObject is _dl_map_object for one DT_NEEDED name of loader.
func (p *proc) mapObject(loader *lmap, name string) *lmap {
	if l := p.matchLoaded(name); l != nil {
		return l
	}
	var fd *found
	var fail failure
	if strings.Contains(name, "/") {
		exp, usedOrigin, ok := expandDST(name, p.dst(loader))
		if ok && exp != "" {
			fsys := p.r.root
			if usedOrigin && loader.outside {
				fsys = p.r.host
			}
			var f failureWithErrno
			fd, f = p.try(fsys, exp, SourcePath, false)
			fail = f.failure
		}
	} else {
		fd, fail = p.search(loader, name)
	}
	if fd == nil {
		switch {
		case fail.fatal != "":
			p.addMissing(name, loader, fail.fatal)
		case fail.otherClass:
			other := "ELFCLASS32"
			if p.want.class == elf.Class32 {
				other = "ELFCLASS64"
			}
			p.addMissing(name, loader, "wrong ELF class: "+other)
		default:
			p.addMissing(name, loader, "not found")
		}
		return nil
	}
	// _dl_map_object_from_fd: the same file under another name is the
	// object already loaded.
	for _, l := range p.loaded {
		if l.id == fd.e.id {
			l.names = appendUnique(l.names, name)
			if l.lib != nil && name != l.lib.Name && name != l.lib.SOName {
				l.lib.Aliases = appendUnique(l.lib.Aliases, name)
			}
			return l
		}
	}
	f, err := fd.obj.parse()
	if err != nil {
		p.addMissing(name, loader, fd.name+": "+err.Error())
		return nil
	}
	if msg := mapCheck(f); msg != "" {
		p.addMissing(name, loader, fd.name+": "+msg)
		return nil
	}
	outside := fd.fsys != p.r.root
	m := &lmap{name: fd.name, fsys: fd.fsys, outside: outside, real: fd.e.real, id: fd.e.id, obj: fd.obj,
		file: f, names: []string{name}, loader: loader}
	abs := fd.name
	if !strings.HasPrefix(abs, "/") {
		abs = path.Join(p.r.opts.WorkDir, abs)
	}
	// ld.so cuts at the last slash without cleaning the path.
	m.origin = abs[:strings.LastIndexByte(abs, '/')]
	if m.origin == "" {
		m.origin = "/"
	}
	m.lib = &Library{Name: name, Path: fd.name, RealPath: fd.e.real, HostPath: fd.fsys.hostPath(fd.e.real),
		SOName: f.SOName, Source: fd.source, Outside: outside, File: f}
	p.loaded = append(p.loaded, m)
	return m
}

// rpathOf returns the decomposed DT_RPATH of m (empty when it also has
// DT_RUNPATH, which makes ld.so ignore DT_RPATH).
func (p *proc) rpathOf(m *lmap) []searchDir {
	if !m.rpathOnce {
		m.rpathOnce = true
		if m.file.HasRPath && !m.file.HasRunPath {
			m.rpath = splitSearchPath(m.file.RPath, ":", p.dst(m), m.outside)
		}
	}
	return m.rpath
}

func (p *proc) runpathOf(m *lmap) []searchDir {
	if !m.runpathOnce {
		m.runpathOnce = true
		if m.file.HasRunPath {
			m.runpath = splitSearchPath(m.file.RunPath, ":", p.dst(m), m.outside)
		}
	}
	return m.runpath
}

// search is the no-slash branch of _dl_map_object.
func (p *proc) search(loader *lmap, name string) (*found, failure) {
	var fail failure
	// run searches one list; done is true when the search is over
	// (found, or a fatal file).
	run := func(dirs []searchDir, src Source) (fd *found, done bool) {
		fd, f := p.openPath(name, dirs, src)
		if f.otherClass {
			fail.otherClass = true
		}
		if f.fatal != "" {
			fail.fatal = f.fatal
			return nil, true
		}
		return fd, fd != nil
	}
	if !loader.file.HasRunPath {
		didMain := false
		for l := loader; l != nil; l = l.loader {
			if !l.file.HasRPath || l.file.HasRunPath {
				continue
			}
			if fd, done := run(p.rpathOf(l), SourceRPath); done {
				return fd, fail
			}
			if l == p.main {
				didMain = true
			}
		}
		if !didMain && p.main.file.HasRPath && !p.main.file.HasRunPath {
			if fd, done := run(p.rpathOf(p.main), SourceRPath); done {
				return fd, fail
			}
		}
	}
	if p.llp != nil {
		if fd, done := run(p.llp, SourceLibraryPath); done {
			return fd, fail
		}
	}
	if loader.file.HasRunPath {
		if fd, done := run(p.runpathOf(loader), SourceRunPath); done {
			return fd, fail
		}
	}
	const df1NoDefLib = 0x800
	nodeflib := loader.file.Flags1&df1NoDefLib != 0
	if fd, f := p.cacheLookup(name, nodeflib); fd != nil || f.fatal != "" {
		if f.fatal != "" {
			fail.fatal = f.fatal
		}
		return fd, fail
	} else if f.otherClass {
		fail.otherClass = true
	}
	if !nodeflib {
		if fd, done := run(p.defaults, SourceDefault); done {
			return fd, fail
		}
	}
	return nil, fail
}

// cacheLookup is the ld.so.cache step.
func (p *proc) cacheLookup(name string, nodeflib bool) (*found, failure) {
	mode := p.r.opts.Cache
	if mode == CacheNone {
		return nil, failure{}
	}
	useFile := mode == CacheFile
	if mode == CacheAuto {
		_, err := p.r.root.resolve("/etc/ld.so.cache")
		useFile = err == nil
	}
	if !useFile {
		return p.confLookup(name, nodeflib)
	}
	c, err := p.r.cache()
	if err != nil {
		return nil, failure{fatal: err.Error()}
	}
	q := CacheQuery{HWCaps: p.hwcaps, Legacy: p.legacy}
	if p.known {
		q.Flags = p.mi.cacheFlags
		if p.mi.x86 {
			q.X86ISALevels = x86ISALevelBits(p.hwcaps)
		}
	} else {
		q.Flags = []int32{3, 1}
	}
	cached, ok := c.Lookup(name, q)
	if !ok {
		return nil, failure{}
	}
	if nodeflib && p.inDefaultDir(cached) {
		return nil, failure{}
	}
	fd, f := p.try(p.r.root, cached, SourceCache, false)
	return fd, f.failure
}

func (p *proc) inDefaultDir(file string) bool {
	for _, d := range p.defaults {
		if strings.HasPrefix(file, d.name) {
			return true
		}
	}
	return false
}

// confLookup emulates the lookup in a cache ldconfig would build from the
// root's ld.so.conf: a library in a supported glibc-hwcaps subdirectory
// of any listed directory wins by subdirectory priority, then the first
// directory holding the name. Files ldconfig would not list (not ELF, of
// another class or machine) are passed over instead of stopping ld.so.
func (p *proc) confLookup(name string, nodeflib bool) (*found, failure) {
	dirs, err := p.r.confDir()
	if err != nil {
		return nil, failure{fatal: err.Error()}
	}
	var fail failure
	for _, h := range p.hwcaps {
		for _, d := range dirs {
			cand := strings.TrimSuffix(d, "/") + "/glibc-hwcaps/" + h + "/" + name
			if nodeflib && p.inDefaultDir(cand) {
				continue
			}
			if fd, f := p.try(p.r.root, cand, SourceConf, true); fd != nil {
				return fd, failure{}
			} else if f.otherClass {
				fail.otherClass = true
			}
		}
	}
	for _, d := range dirs {
		cand := strings.TrimSuffix(d, "/") + "/" + name
		if nodeflib && p.inDefaultDir(cand) {
			continue
		}
		if fd, f := p.try(p.r.root, cand, SourceConf, true); fd != nil {
			return fd, failure{}
		} else if f.otherClass {
			fail.otherClass = true
		}
	}
	return nil, fail
}

// openPath is glibc's open_path: every directory of the list, and in each
// the hwcaps subdirectories then the directory itself. A fatal file stops
// ld.so; an existing directory whose last attempt failed with an error
// other than ENOENT or EACCES (a symlink loop, say) ends this list.
func (p *proc) openPath(name string, dirs []searchDir, src Source) (*found, failure) {
	var fail failure
	for _, d := range dirs {
		fsys := p.r.root
		if d.outside {
			fsys = p.r.host
		}
		hereAny := false
		var lastErr syscall.Errno
		for _, sub := range p.subdirs {
			dir := d.name + sub
			if !p.dirExists(fsys, dir) {
				continue
			}
			hereAny = true
			fd, f := p.try(fsys, dir+name, src, false)
			if fd != nil {
				return fd, fail
			}
			if f.fatal != "" {
				fail.fatal = f.fatal
				return nil, fail
			}
			if f.otherClass {
				fail.otherClass = true
			}
			lastErr = f.errno
		}
		if hereAny && lastErr != 0 && lastErr != syscall.ENOENT && lastErr != syscall.EACCES {
			return nil, fail
		}
	}
	return nil, fail
}

// dirExists reports whether the (possibly relative) directory exists.
func (p *proc) dirExists(fsys *rootFS, dir string) bool {
	if dir == "" {
		dir = p.r.opts.WorkDir
	} else if !strings.HasPrefix(dir, "/") {
		dir = path.Join(p.r.opts.WorkDir, dir)
	}
	e, err := fsys.resolve(dir)
	return err == nil && e.mode.IsDir()
}

// try is open_verify on one candidate path. lenient turns fatal
// verdicts into a silent skip (for the emulated cache).
func (p *proc) try(fsys *rootFS, name string, src Source, lenient bool) (*found, failureWithErrno) {
	abs := name
	if !strings.HasPrefix(abs, "/") {
		abs = path.Join(p.r.opts.WorkDir, abs)
	}
	e, err := fsys.resolve(abs)
	if err != nil {
		en := errnoOf(err)
		if en == 0 {
			en = syscall.ENOENT
		}
		return nil, failureWithErrno{errno: en}
	}
	if !e.mode.IsRegular() && !e.mode.IsDir() {
		if lenient {
			return nil, failureWithErrno{errno: syscall.ENOENT}
		}
		return nil, failureWithErrno{failure: failure{fatal: name + ": not a regular file"}}
	}
	obj := p.r.objs.get(e.id, fsys.hostPath(e.real), fsys.opener(e.real, fsys.hostPath(e.real)))
	var v verdict
	var msg string
	if e.mode.IsDir() {
		v, msg = verdictFatal, "cannot read file data: Is a directory"
	} else {
		v, msg = obj.verify(p.want)
	}
	switch v {
	case verdictOK:
		if lenient {
			f, err := obj.parse()
			if err != nil || mapCheck(f) != "" {
				return nil, failureWithErrno{errno: syscall.ENOENT}
			}
		}
		return &found{name: name, fsys: fsys, e: e, obj: obj, source: src}, failureWithErrno{}
	case verdictOtherClass:
		return nil, failureWithErrno{failure: failure{otherClass: true}, errno: syscall.ENOENT}
	case verdictSkip:
		return nil, failureWithErrno{errno: syscall.ENOENT}
	case verdictNoAccess:
		return nil, failureWithErrno{errno: syscall.EACCES}
	}
	if lenient {
		return nil, failureWithErrno{errno: syscall.ENOENT}
	}
	return nil, failureWithErrno{failure: failure{fatal: name + ": " + msg}}
}

// failureWithErrno is a failure plus the errno of the open attempt.
type failureWithErrno struct {
	failure
	errno syscall.Errno
}
