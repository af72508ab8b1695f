package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rules-portable/rules_portable/tools/internal/deps"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"golang.org/x/sys/unix"
)

// maxAddDepth bounds directory recursion through dereferenced symlinks.
const maxAddDepth = 64

// defaultDest derives where --add SRC goes when no DEST is given.
func (b *builder) defaultDest(given, real string, isDir bool) (string, error) {
	if !isDir {
		if f, err := openELF(real); err == nil && f != nil && isLibrary(f) {
			return "lib/" + filepath.Base(given), nil
		}
	}
	in, _ := b.inRoot(given)
	rel := strings.TrimPrefix(filepath.ToSlash(filepath.Clean(in)), "/")
	rel = strings.TrimPrefix(rel, "usr/")
	if rel == "" || rel == "usr" {
		return "", fmt.Errorf("--add %s: give a destination (--add %s=DEST); the whole root can't be added", given, given)
	}
	return rel, nil
}

// probed is what one open of a regular file tells the planner.
type probed struct {
	size int64
	mode uint32    // permission bits
	f    *elf.File // parsed, for a file with the ELF magic; else nil
	id   deps.FileID
	err  error
}

// probe opens the regular file p once: its size, permission bits, its
// identity and, when it starts with the ELF magic, its parse (read in a
// few blocks from the same descriptor).
func probe(p string) (pr probed) {
	fd, st, err := fsutil.OpenFD("", p)
	if err != nil {
		pr.err = err
		return pr
	}
	defer unix.Close(fd)
	pr.size, pr.mode, pr.id = st.Size, st.Mode&0o7777, deps.FileID{Dev: st.Dev, Ino: st.Ino}
	var head [4]byte
	n, err := unix.Pread(fd, head[:], 0)
	if err != nil {
		pr.err = &fs.PathError{Op: "read", Path: p, Err: err}
		return pr
	}
	if n == 4 && string(head[:]) == "\x7fELF" {
		if pr.f, err = elf.Parse(elf.FD(fd), st.Size); err != nil {
			pr.err = fmt.Errorf("%s: %w", p, err)
			return pr
		}
		pr.f.Path = p
	}
	return pr
}

// probeAll probes the files ps, a few at a time (the work is system
// calls, which overlap).
func (b *builder) probeAll(ps []string) []probed {
	out := make([]probed, len(ps))
	jobs := max(b.opts.Jobs, 2*runtime.GOMAXPROCS(0))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(jobs, len(ps)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ps) {
					return
				}
				out[i] = probe(ps[i])
			}
		}()
	}
	wg.Wait()
	return out
}

// openELF parses p when it starts with the ELF magic; it returns nil, nil
// for other files.
func openELF(p string) (*elf.File, error) {
	head, err := readMagic(p, 4)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(head, []byte("\x7fELF")) {
		return nil, nil
	}
	return elf.Open(p)
}

// isLibrary tells shared libraries from programs: a dynamic ELF without
// an interpreter, or one with a SONAME (glibc's libc.so.6 has both a
// PT_INTERP and a SONAME: it is a library that can also be run).
func isLibrary(f *elf.File) bool {
	return f.Type == elf.TypeDyn && f.Linkage == elf.Dynamic && (f.Interp == "" || f.SOName != "")
}

// addSpec adds one --add argument.
func (b *builder) addSpec(a Add) error {
	if _, err := fsutil.StatInput("--add", a.Src, fsutil.RegularFile|fsutil.Directory); err != nil {
		return err
	}
	given, err := filepath.Abs(a.Src)
	if err != nil {
		return err
	}
	real, err := b.resolvePath(given)
	if err != nil {
		return fmt.Errorf("--add %s: %w", a.Src, unwrap(err))
	}
	b.noteStaged(a.Src, given, real)
	st, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("--add %s: %w", a.Src, unwrap(err))
	}
	dest := a.Dest
	if dest == "" {
		if dest, err = b.defaultDest(given, real, st.IsDir()); err != nil {
			return err
		}
	}
	if dest == ".portable" || strings.HasPrefix(dest, ".portable/") {
		return fmt.Errorf("--add %s: destination %s is reserved for the bundle's own records", a.Src, dest)
	}
	why := "--add " + a.Src
	if st.IsDir() {
		return b.addTree(real, dest, why, 0, map[string]bool{})
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("--add %s: not a regular file or directory", a.Src)
	}
	return b.addFile(real, dest, why)
}

// addTree copies the directory tree at host path dir to bundle path dest.
// visiting guards against symlink cycles through dereferenced directories.
func (b *builder) addTree(dir, dest, why string, depth int, visiting map[string]bool) error {
	if depth > maxAddDepth {
		return fmt.Errorf("%s: directories nested more than %d deep through symlinks (%s)", dir, maxAddDepth, why)
	}
	if visiting[dir] {
		return fmt.Errorf("%s: symlink cycle (%s)", dir, why)
	}
	visiting[dir] = true
	defer delete(visiting, dir)
	if err := b.plan.put(&item{dest: dest, kind: kindDir, why: why}); err != nil {
		return err
	}
	// The regular files are probed together once the walk is done.
	var files, dests []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", why, err)
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		dp := path.Join(dest, filepath.ToSlash(rel))
		switch t := d.Type(); {
		case b.recordedLink(p):
			// A link of the sysroot that the disk holds as a copy.
			if err := b.addLink(p, dp, dir, dest, why, depth, visiting); err != nil || !t.IsDir() {
				return err
			}
			return fs.SkipDir
		case t.IsDir():
			return b.plan.put(&item{dest: dp, kind: kindDir, why: why})
		case t&fs.ModeSymlink != 0:
			return b.addLink(p, dp, dir, dest, why, depth, visiting)
		case t.IsRegular():
			files, dests = append(files, p), append(dests, dp)
			return nil
		default:
			return fmt.Errorf("%s: special file (%v) in %s; remove it from the tree or add the files one by one", p, t, why)
		}
	})
	if err != nil {
		return err
	}
	for i, pr := range b.probeAll(files) {
		if err := b.addProbed(files[i], dests[i], why, pr); err != nil {
			return err
		}
	}
	return nil
}

// recordedLink reports whether host path p is a symlink of the sysroot by
// its manifest, whatever the disk holds there.
func (b *builder) recordedLink(p string) bool {
	if b.root == "/" {
		return false
	}
	in, ok := b.inRoot(p)
	_, rec := b.links[in]
	return ok && rec
}

// addLink handles a symlink at host path p (bundle path dp) inside the
// added tree whose top is host dir top (bundle path destTop).
func (b *builder) addLink(p, dp, top, destTop, why string, depth int, visiting map[string]bool) error {
	target, err := b.resolvePath(p)
	if err != nil {
		t, _ := os.Readlink(p)
		b.warnf("%s: skipping dangling symlink to %s (%v) (%s)", p, t, unwrap(err), why)
		return nil
	}
	st, err := os.Stat(target)
	if err != nil {
		b.warnf("%s: skipping symlink to %s: %v (%s)", p, target, unwrap(err), why)
		return nil
	}
	if rel, err := filepath.Rel(top, target); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		// Inside the tree: keep a symlink, relative, to the final target.
		to := path.Join(destTop, filepath.ToSlash(rel))
		link, err := filepath.Rel(path.Dir(dp), to)
		if err != nil {
			return err
		}
		return b.plan.put(&item{dest: dp, kind: kindSymlink, link: filepath.ToSlash(link), why: why})
	}
	// Outside the tree (or the tree itself): copy what it points to.
	if st.IsDir() {
		return b.addTree(target, dp, why, depth+1, visiting)
	}
	if !st.Mode().IsRegular() {
		b.warnf("%s: skipping symlink to %s, not a regular file (%s)", p, target, why)
		return nil
	}
	return b.addFile(target, dp, why)
}

// addFile adds the regular file at host path p as bundle path dest.
func (b *builder) addFile(p, dest, why string) error {
	return b.addProbed(p, dest, why, probe(p))
}

// addProbed is addFile with the file probed.
func (b *builder) addProbed(p, dest, why string, pr probed) error {
	if err := pr.err; err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%s: cannot read: %w (%s)", p, unwrap(err), why)
		}
		return fmt.Errorf("%w (%s)", err, why)
	}
	source := b.sourceOf(p)
	exec := pr.mode&0o111 != 0
	f := pr.f
	if f != nil {
		b.parsed[pr.id] = f
	}
	it := &item{dest: dest, kind: kindFile, src: p, source: source, exec: exec, why: why, size: pr.size, isELF: f != nil, elf: f}
	switch {
	case f == nil || f.Linkage != elf.Dynamic || f.Type == elf.TypeRel || f.Type == elf.TypeCore:
		// Not ELF, static, or an object file: copied as is.
	case !isLibrary(f):
		// An executable: the real file goes under libexec/ where the
		// launcher's fix-up finds it, with a symlink at its place.
		if err := b.checkMachine(p, f); err != nil {
			return err
		}
		real := "libexec/" + dest
		if strings.HasPrefix(dest, "libexec/") {
			real = dest
		}
		if depth := strings.Count(real, "/") - 1; depth > MaxLibexecDepth {
			return fmt.Errorf("%s: an executable at %s is %d directories below libexec/, deeper than the launcher's fix-up looks (%d); add it with a shorter --add SRC=DEST (%s)", p, real, depth, MaxLibexecDepth, why)
		}
		it.dest, it.exec, it.slot = real, true, true
		it.patch = &elf.PatchOptions{SetRPath: true, RPath: rpathFor(real, keptOrigins(f))}
		if err := b.plan.put(it); err != nil {
			return err
		}
		b.objects[real] = f
		b.input(p, real)
		if real == dest {
			return nil
		}
		link, err := filepath.Rel(path.Dir(dest), real)
		if err != nil {
			return err
		}
		return b.plan.put(&item{dest: dest, kind: kindSymlink, link: filepath.ToSlash(link), why: why})
	default:
		// A shared object: searched from where it is, then in lib/.
		if err := b.checkMachine(p, f); err != nil {
			return err
		}
		if hasSearchPath(f) {
			it.patch = &elf.PatchOptions{SetRPath: true, RPath: rpathFor(dest, keptOrigins(f))}
		}
		if len(f.Needed) > 0 {
			b.input(p, dest)
			b.plugins[p] = true
		}
		b.objects[dest] = f
	}
	return b.plan.put(it)
}

func (b *builder) input(hostPath, dest string) {
	if _, ok := b.inputDest[hostPath]; !ok {
		b.inputs = append(b.inputs, hostPath)
		b.inputDest[hostPath] = dest
	}
}
