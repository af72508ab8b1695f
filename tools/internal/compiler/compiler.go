// Package compiler makes a relocatable C/C++ toolchain out of a gcc and
// binutils unpacked from Debian packages (a tree written by `portable
// sysroot build` from a compiler lock).
//
// gcc is not one program but a driver and the programs it runs: cpp and
// cc1 (cc1plus for C++, lto1 for link-time optimisation), as, collect2,
// lto-wrapper and ld. Each of them needs the glibc of its own Debian
// release, which the machine that compiles may not have (a remote worker
// running an older Debian, or no compiler at all). Find locates all of
// them in the tree, and Bundle makes each one an entry point of one
// bundle, so each gets a launcher in bin/ under the name gcc looks for and
// runs on the bundled glibc, from any directory, even read-only:
//
//	bin/gcc bin/g++ bin/cpp          the drivers
//	bin/cc1 bin/cc1plus bin/lto1     the compilers proper
//	bin/collect2 bin/lto-wrapper     the link steps
//	bin/as bin/ld bin/ld.bfd bin/ar  binutils
//	lib/gcc/<triplet>/<N>/include    gcc's builtin headers (stddef.h, intrinsics)
//	lib/gcc/<triplet>/<N>/*_asneeded.so   gcc 16's ld scripts for -lgcc_s, -latomic
//	lib/gcc/<triplet>/<N>/*_asneeded.a    and for -static, gcc's libatomic.a
//	bin/liblto_plugin.so             the plugin ld loads for -flto (gcc
//	                                 looks in its -B directory)
//
// The driver finds its helpers through -B<bundle>/bin/ and, with
// -no-canonical-prefixes, names every path relative to where it was
// called from, so a build system can pass execroot-relative paths only.
// gcc's own crt objects and libgcc are left out: a toolchain links those
// of the target's sysroot.
package compiler

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/bundle"
)

// Toolchain is a gcc and binutils found in an unpacked tree.
type Toolchain struct {
	// Root is the tree, e.g. the output of `portable sysroot build`.
	Root string
	// Triplet is the GNU triplet gcc runs on and builds for, e.g.
	// "x86_64-linux-gnu".
	Triplet string
	// Major is gcc's major version, e.g. "16": its builtin headers are
	// at lib/gcc/<Triplet>/<Major>/include in the bundle.
	Major string
	// Programs are the entry points, in bundle order.
	Programs []Program
	// Data are gcc's files other than programs (builtin headers, the LTO
	// plugin), as bundle --add arguments.
	Data []bundle.Add
}

// Program is one program of the toolchain.
type Program struct {
	// Name is its name in the bundle's bin/, the one gcc looks for.
	Name string
	// Path is where it is under Root.
	Path string
}

// BuiltinIncludeDir is the bundle-relative directory of gcc's builtin
// headers, e.g. "lib/gcc/x86_64-linux-gnu/16/include".
func (t *Toolchain) BuiltinIncludeDir() string {
	return path.Join("lib/gcc", t.Triplet, t.Major, "include")
}

var driverRE = regexp.MustCompile(`^([a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+(?:-[a-z0-9_]+)?)-gcc-([0-9]+)$`)

// tool is a program Find looks for.
type tool struct {
	name     string   // in bin/
	dirs     []string // where to look, relative to the root; %T triplet, %N major
	files    []string // file names to try, in order
	required bool
}

func (t *Toolchain) expand(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+1 < len(s) {
			switch s[i+1] {
			case 'T':
				out = append(out, t.Triplet...)
				i++
				continue
			case 'N':
				out = append(out, t.Major...)
				i++
				continue
			}
		}
		out = append(out, s[i])
	}
	return string(out)
}

// The programs of a toolchain. Debian installs gcc's own programs under
// usr/libexec/gcc/<triplet>/<N> (bookworm and older: usr/lib/gcc/...),
// and binutils' with the triplet as prefix.
var tools = []tool{
	{name: "gcc", dirs: []string{"usr/bin"}, files: []string{"%T-gcc-%N"}, required: true},
	{name: "g++", dirs: []string{"usr/bin"}, files: []string{"%T-g++-%N"}},
	{name: "cpp", dirs: []string{"usr/bin"}, files: []string{"%T-cpp-%N"}},
	{name: "cc1", dirs: helperDirs, files: []string{"cc1"}, required: true},
	{name: "cc1plus", dirs: helperDirs, files: []string{"cc1plus"}},
	{name: "collect2", dirs: helperDirs, files: []string{"collect2"}, required: true},
	{name: "lto-wrapper", dirs: helperDirs, files: []string{"lto-wrapper"}},
	{name: "lto1", dirs: helperDirs, files: []string{"lto1"}},
	{name: "as", dirs: []string{"usr/bin"}, files: []string{"%T-as"}, required: true},
	{name: "ld", dirs: []string{"usr/bin"}, files: []string{"%T-ld", "%T-ld.bfd"}, required: true},
	// -fuse-ld=bfd makes gcc run ld.bfd: without its own, it would take
	// the machine's from PATH.
	{name: "ld.bfd", dirs: []string{"usr/bin"}, files: []string{"%T-ld.bfd"}},
	{name: "ar", dirs: []string{"usr/bin"}, files: []string{"%T-ar"}, required: true},
	{name: "nm", dirs: []string{"usr/bin"}, files: []string{"%T-nm"}},
	{name: "ranlib", dirs: []string{"usr/bin"}, files: []string{"%T-ranlib"}},
	{name: "objcopy", dirs: []string{"usr/bin"}, files: []string{"%T-objcopy"}},
	{name: "objdump", dirs: []string{"usr/bin"}, files: []string{"%T-objdump"}},
	{name: "strip", dirs: []string{"usr/bin"}, files: []string{"%T-strip"}},
}

var helperDirs = []string{"usr/libexec/gcc/%T/%N", "usr/lib/gcc/%T/%N"}

// Find locates gcc, the programs it runs and binutils under root.
func Find(root string) (*Toolchain, error) {
	entries, err := os.ReadDir(filepath.Join(root, "usr/bin"))
	if err != nil {
		return nil, fmt.Errorf("%s: no usr/bin (%v): give the tree that `portable sysroot build` unpacked from a compiler lock", root, err)
	}
	var found []*Toolchain
	for _, e := range entries {
		if m := driverRE.FindStringSubmatch(e.Name()); m != nil {
			found = append(found, &Toolchain{Root: root, Triplet: m[1], Major: m[2]})
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s: no gcc driver (usr/bin/<triplet>-gcc-<N>): lock the compiler's packages, e.g. `portable sysroot lock -p gcc-16 -p g++-16 -p binutils-x86-64-linux-gnu`", root)
	case 1:
	default:
		var names []string
		for _, t := range found {
			names = append(names, t.Triplet+"-gcc-"+t.Major)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%s: several gcc drivers (%v): a toolchain bundle holds one gcc; lock one version for one target", root, names)
	}
	t := found[0]
	for _, tl := range tools {
		p, ok := t.lookFor(tl)
		if !ok {
			if tl.required {
				return nil, fmt.Errorf("%s: gcc %s for %s has no %s (looked for %v in %v): lock the package that ships it (gcc-%s, g++-%s or binutils-%s)", root, t.Major, t.Triplet, tl.name, t.expandAll(tl.files), t.expandAll(tl.dirs), t.Major, t.Major, debianArchOf(t.Triplet))
			}
			continue
		}
		if slices.ContainsFunc(t.Programs, func(q Program) bool { return q.Path == p }) {
			continue // one file, one name (Debian's ld and ld.bfd are two)
		}
		t.Programs = append(t.Programs, Program{Name: tl.name, Path: p})
	}
	lib := filepath.Join("usr/lib/gcc", t.Triplet, t.Major)
	dest := path.Join("lib/gcc", t.Triplet, t.Major)
	if _, err := os.Stat(filepath.Join(root, lib, "include", "stddef.h")); err != nil {
		return nil, fmt.Errorf("%s: gcc %s has no builtin headers (%s/include/stddef.h): lock libgcc-%s-dev too (gcc-%s depends on it)", root, t.Major, lib, t.Major, t.Major)
	}
	for _, name := range []string{"include", "include-fixed"} {
		if _, err := os.Stat(filepath.Join(root, lib, name)); err == nil {
			t.Data = append(t.Data, bundle.Add{Src: filepath.Join(root, lib, name), Dest: path.Join(dest, name)})
		}
	}
	// gcc 16's specs link -lgcc_s_asneeded and -latomic_asneeded: ld
	// scripts that name -lgcc_s and -latomic AS_NEEDED, which then resolve
	// in the target's sysroot. Only such scripts come along, never gcc's
	// own libraries or crt objects.
	scripts, _ := filepath.Glob(filepath.Join(root, lib, "*_asneeded.so"))
	for _, p := range scripts {
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() && st.Size() < 4096 && !isELF(p) {
			t.Data = append(t.Data, bundle.Add{Src: p, Dest: path.Join(dest, filepath.Base(p))})
		}
	}
	// With -static they are archives: Debian links libatomic_asneeded.a
	// to gcc's own libatomic.a, which comes along (resolved) as it does
	// with the installed gcc.
	archives, _ := filepath.Glob(filepath.Join(root, lib, "*_asneeded.a"))
	for _, p := range archives {
		if real, err := filepath.EvalSymlinks(p); err == nil && strings.HasPrefix(real, filepath.Clean(root)+string(filepath.Separator)) {
			if st, err := os.Stat(real); err == nil && st.Mode().IsRegular() {
				t.Data = append(t.Data, bundle.Add{Src: real, Dest: path.Join(dest, filepath.Base(p))})
			}
		}
	}
	// The LTO plugin, which ld loads for -flto: the driver looks for it
	// in its exec prefixes, <prefix>/libexec/gcc/<triplet>/<N> among them.
	if p, ok := t.lookFor(tool{dirs: helperDirs, files: []string{"liblto_plugin.so"}}); ok {
		t.Data = append(t.Data, bundle.Add{Src: p, Dest: "bin/liblto_plugin.so"})
	}
	return t, nil
}

func (t *Toolchain) expandAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = t.expand(s)
	}
	return out
}

// lookFor finds a program: the first file that exists, in the first
// directory that has one.
func (t *Toolchain) lookFor(tl tool) (string, bool) {
	for _, d := range tl.dirs {
		for _, f := range tl.files {
			p := filepath.Join(t.Root, t.expand(d), t.expand(f))
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p, true
			}
		}
	}
	return "", false
}

// isELF says whether p starts with the ELF magic.
func isELF(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 4)
	n, _ := f.Read(b)
	return n == 4 && string(b) == "\x7fELF"
}

// debianArchOf names binutils' package suffix for a triplet, for messages.
func debianArchOf(triplet string) string {
	b := []byte(triplet)
	for i, c := range b {
		if c == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}

// Names lists the programs' names in bin/.
func (t *Toolchain) Names() []string {
	var n []string
	for _, p := range t.Programs {
		n = append(n, p.Name)
	}
	return n
}

// Bundle writes the toolchain as a bundle to out (a directory or an
// archive, as bundle.Build), resolving every library in the tree, never
// on this machine. opts' Root, Names and the program list are set here;
// opts.Adds are added after gcc's own data.
func (t *Toolchain) Bundle(out string, opts bundle.Options) (*bundle.Result, error) {
	opts.Root = t.Root
	opts.Names = map[string]string{}
	var progs []string
	for _, p := range t.Programs {
		progs = append(progs, p.Path)
		opts.Names[p.Path] = p.Name
	}
	opts.Adds = append(slices.Clone(t.Data), opts.Adds...)
	return bundle.Build(out, progs, opts)
}
