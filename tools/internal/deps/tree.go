package deps

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
)

// TreeNode is one path of a root given in memory (Options.Tree).
type TreeNode struct {
	// Mode holds the type (fs.ModeDir, fs.ModeSymlink, or neither for a
	// regular file) and the permission bits.
	Mode fs.FileMode
	// Link is a symlink's target, as the link holds it.
	Link string
	// ID identifies a regular file: hard links share one. Options.Parsed
	// is keyed by it, so a file parsed already is not opened. Give IDs
	// that no file on the host can have, e.g. Dev = TreeDev.
	ID FileID
	// Open returns a regular file's content and size; close is called
	// when the resolver is done reading.
	Open func() (content io.ReaderAt, size int64, close func() error, err error)
}

// TreeDev is a device number no mounted filesystem has (all bits set),
// for the IDs of an in-memory tree's files.
const TreeDev = ^uint64(0)

// memTree is a root's in-memory tree and its directories' listings.
type memTree struct {
	nodes    map[string]TreeNode
	listOnce sync.Once
	lists    map[string][]string
}

// lstat returns what the tree holds at the canonical in-root path p.
func (t *memTree) lstat(p string) node {
	n, ok := t.nodes[p]
	if !ok {
		if p == "/" {
			return node{mode: fs.ModeDir | 0o755, id: fileID{dev: TreeDev}}
		}
		return node{err: syscall.ENOENT}
	}
	return node{mode: n.Mode, target: n.Link, id: fileID{dev: n.ID.Dev, ino: n.ID.Ino}}
}

// readDir lists the names directly under the in-root directory dir.
func (t *memTree) readDir(dir string) []string {
	t.listOnce.Do(func() {
		t.lists = map[string][]string{}
		for p := range t.nodes {
			if p != "/" {
				d := path.Dir(p)
				t.lists[d] = append(t.lists[d], path.Base(p))
			}
		}
		for _, l := range t.lists {
			slices.Sort(l)
		}
	})
	return t.lists[dir]
}

// opener returns how to read the file at the canonical in-root path real:
// from the tree when the root is in memory, else from hostPath on disk.
func (r *rootFS) opener(real, hostPath string) func() (io.ReaderAt, int64, func() error, error) {
	if r.tree != nil {
		n := r.tree.nodes[real]
		if n.Open == nil {
			return func() (io.ReaderAt, int64, func() error, error) {
				return nil, 0, nil, &fs.PathError{Op: "open", Path: real, Err: syscall.ENOENT}
			}
		}
		return n.Open
	}
	return func() (io.ReaderAt, int64, func() error, error) {
		return openDisk(hostPath)
	}
}

// openDisk opens a file on disk for the resolver. The *os.File itself is
// the reader, so that elf.Parse reads it in pooled blocks.
func openDisk(hostPath string) (io.ReaderAt, int64, func() error, error) {
	f, err := os.Open(hostPath)
	if err != nil {
		return nil, 0, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return f, st.Size(), f.Close, nil
}

// newTreeFS is newRootFS for a root given in memory: dir only names it.
func newTreeFS(dir string, tree map[string]TreeNode) (*rootFS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", dir, err)
	}
	if n, ok := tree["/"]; ok && !n.Mode.IsDir() {
		return nil, fmt.Errorf("root %s: the in-memory tree's / is not a directory", dir)
	}
	return &rootFS{host: abs, tree: &memTree{nodes: tree}, nodes: map[string]node{}, resolved: map[string]resolved{}}, nil
}
