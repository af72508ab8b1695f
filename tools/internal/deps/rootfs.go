package deps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// maxSymlinks is how many symbolic links one lookup may follow before it
// fails with ELOOP, the same limit as Linux (MAXSYMLINKS).
const maxSymlinks = 40

// rootFS resolves paths inside one directory tree as if that tree were
// "/": an absolute symlink target starts again at the tree's top, and ".."
// never climbs above it, so a lookup can never escape to the host. Results
// of lstat and readlink are cached, so probing many candidate names in the
// same directories costs one system call per distinct path.
//
// It is safe for concurrent use.
type rootFS struct {
	host string // absolute host path of the tree's top; "/" for the host itself
	// links are the tree's recorded symlinks (Options.Symlinks), which
	// take precedence over what lstat finds.
	links map[string]string
	// tree, when set, is the whole root (Options.Tree): the disk under
	// host is never read.
	tree *memTree

	mu       sync.Mutex
	nodes    map[string]node     // keyed by canonical in-root path
	resolved map[string]resolved // keyed by the path as asked
}

// resolved is a cached result of resolve.
type resolved struct {
	e   entry
	err error
}

// node is the cached lstat (and readlink) result for one canonical path.
type node struct {
	err    error       // lstat error (ENOENT, ENOTDIR, EACCES, ...)
	mode   fs.FileMode // type bits and permissions
	target string      // symlink target when mode is a symlink
	id     fileID      // device and inode
}

// fileID identifies a file the way ld.so does to notice that two names
// lead to one object (st_dev, st_ino).
type fileID struct{ dev, ino uint64 }

// FileID names a file by its device and inode numbers (st_dev, st_ino),
// as Options.Parsed keys it.
type FileID struct{ Dev, Ino uint64 }

// entry is the result of resolving one path inside a rootFS.
type entry struct {
	real string // canonical in-root path, every symlink followed
	mode fs.FileMode
	id   fileID
}

func newRootFS(dir string) (*rootFS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", dir, unwrapPathError(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("root %s: not a directory", dir)
	}
	return &rootFS{host: abs, nodes: map[string]node{}, resolved: map[string]resolved{}}, nil
}

// hostPath returns the host path of the canonical in-root path p.
func (r *rootFS) hostPath(p string) string {
	if r.host == "/" {
		return p
	}
	if p == "/" {
		return r.host
	}
	return r.host + p
}

// lstat returns the cached lstat result for the canonical in-root path p:
// a recorded symlink without asking the disk, else what the disk holds.
func (r *rootFS) lstat(p string) node {
	if t, ok := r.links[p]; ok {
		return node{mode: fs.ModeSymlink | 0o777, target: t}
	}
	if r.tree != nil {
		return r.tree.lstat(p)
	}
	r.mu.Lock()
	n, ok := r.nodes[p]
	r.mu.Unlock()
	if ok {
		return n
	}
	hp := r.hostPath(p)
	st, err := os.Lstat(hp)
	switch {
	case err != nil:
		n = node{err: unwrapPathError(err)}
	default:
		n = node{mode: st.Mode()}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			n.id = fileID{dev: uint64(sys.Dev), ino: sys.Ino}
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			t, lerr := os.Readlink(hp)
			if lerr != nil {
				n = node{err: unwrapPathError(lerr)}
			} else {
				n.target = t
			}
		}
	}
	r.mu.Lock()
	r.nodes[p] = n
	r.mu.Unlock()
	return n
}

// resolve follows p (an absolute in-root path; it need not be clean)
// component by component, like the kernel's path walk: symlinks are
// followed as they are met, so a ".." after a symlink leaves the link's
// target, not the link. The final component is followed too. Errors are
// *fs.PathError values carrying the in-root path and a syscall.Errno
// (ENOENT, ENOTDIR, ELOOP, ...).
func (r *rootFS) resolve(p string) (entry, error) {
	r.mu.Lock()
	c, ok := r.resolved[p]
	r.mu.Unlock()
	if ok {
		return c.e, c.err
	}
	e, err := r.walk(p)
	r.mu.Lock()
	r.resolved[p] = resolved{e, err}
	r.mu.Unlock()
	return e, err
}

// walk does the work of resolve.
func (r *rootFS) walk(p string) (entry, error) {
	if !strings.HasPrefix(p, "/") {
		return entry{}, &fs.PathError{Op: "resolve", Path: p, Err: errors.New("path is not absolute")}
	}
	rest := splitComponents(p)
	var stack []string // canonical components resolved so far
	links := 0
	var last node
	last.mode = fs.ModeDir // "/" itself
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		if !last.mode.IsDir() {
			return entry{}, &fs.PathError{Op: "open", Path: p, Err: syscall.ENOTDIR}
		}
		switch c {
		case ".":
			continue
		case "..":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			last = node{mode: fs.ModeDir}
			continue
		}
		cur := "/" + strings.Join(append(stack, c), "/")
		n := r.lstat(cur)
		if n.err != nil {
			return entry{}, &fs.PathError{Op: "open", Path: p, Err: n.err}
		}
		if n.mode&fs.ModeSymlink != 0 {
			links++
			if links > maxSymlinks {
				return entry{}, &fs.PathError{Op: "open", Path: p, Err: syscall.ELOOP}
			}
			if n.target == "" {
				return entry{}, &fs.PathError{Op: "open", Path: p, Err: syscall.ENOENT}
			}
			if strings.HasPrefix(n.target, "/") {
				stack = stack[:0]
			}
			rest = append(splitComponents(n.target), rest...)
			last = node{mode: fs.ModeDir} // the link's parent, a directory
			continue
		}
		stack = append(stack, c)
		last = n
	}
	if !last.mode.IsDir() && strings.HasSuffix(p, "/") {
		return entry{}, &fs.PathError{Op: "open", Path: p, Err: syscall.ENOTDIR}
	}
	real := "/" + strings.Join(stack, "/")
	if len(stack) == 0 {
		// The root itself: stat it for its identity.
		n := r.lstat("/")
		if n.err != nil {
			return entry{}, &fs.PathError{Op: "open", Path: p, Err: n.err}
		}
		last = n
	}
	return entry{real: real, mode: last.mode, id: last.id}, nil
}

// readDir lists the names in the in-root directory dir (symlinks
// followed), sorted.
func (r *rootFS) readDir(dir string) ([]string, error) {
	e, err := r.resolve(dir)
	if err != nil {
		return nil, err
	}
	if !e.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: syscall.ENOTDIR}
	}
	if r.tree != nil {
		return slices.Clone(r.tree.readDir(e.real)), nil
	}
	ents, err := os.ReadDir(r.hostPath(e.real))
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: unwrapPathError(err)}
	}
	names := make([]string, len(ents))
	for i, d := range ents {
		names[i] = d.Name()
	}
	return names, nil
}

// readFile reads the in-root file p, following symlinks inside the root,
// refusing anything larger than limit bytes.
func (r *rootFS) readFile(p string, limit int64) ([]byte, error) {
	e, err := r.resolve(p)
	if err != nil {
		return nil, err
	}
	if e.mode.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: syscall.EISDIR}
	}
	if !e.mode.IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("not a regular file")}
	}
	ra, size, closeFn, err := r.opener(e.real, r.hostPath(e.real))()
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: p, Err: unwrapPathError(err)}
	}
	defer closeFn()
	if size > limit {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("file is %d bytes, more than the %d this reader accepts", size, limit)}
	}
	buf := make([]byte, size)
	n, err := ra.ReadAt(buf, 0)
	if err != nil && n != len(buf) {
		return nil, &fs.PathError{Op: "read", Path: p, Err: err}
	}
	return buf, nil
}

// splitComponents splits a slash-separated path into its non-empty
// components.
func splitComponents(p string) []string {
	parts := strings.Split(p, "/")
	out := parts[:0]
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// inRoot maps a host path to the in-root path it names when it lies
// inside the tree (lexically, after making it absolute), e.g.
// /srv/root/usr/bin/ls -> /usr/bin/ls for the root /srv/root.
func (r *rootFS) inRoot(hostPath string) (string, bool) {
	abs, err := filepath.Abs(hostPath)
	if err != nil {
		return "", false
	}
	if r.host == "/" {
		return abs, true
	}
	if abs == r.host {
		return "/", true
	}
	if rest, ok := strings.CutPrefix(abs, r.host+"/"); ok {
		return path.Clean("/" + rest), true
	}
	return "", false
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// errnoOf returns the syscall.Errno inside err, or 0.
func errnoOf(err error) syscall.Errno {
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	return 0
}
