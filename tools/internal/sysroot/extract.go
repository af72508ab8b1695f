package sysroot

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
)

// Limits on what one package may unpack: the largest file in the
// packages of this project's sysroots is a few MiB.
const (
	maxEntrySize   = 1 << 30
	maxPackageSize = 4 << 30
)

// pkgTree is what one package's data.tar put into its own directory.
type pkgTree struct {
	name  string
	dir   string
	nodes map[string]*node
	order []string // paths in archive order
	dirs  dirRoots
}

// extractPackage unpacks the data tree of a locked package into dir,
// which it creates. The uncompressed data.tar comes from the cache when an
// earlier build left it there; it is hashed while it is read, and a cached
// copy that fails its hash is dropped and made again from the .deb, whose
// own hash is checked when it is fetched. Otherwise the .deb's data.tar is
// unpacked as it is decompressed, and kept in the cache on the way.
func extractPackage(ctx context.Context, f *Fetcher, p deb.LockedPackage, dir string) (*pkgTree, error) {
	c := f.Cache
	if tarPath, tarSum, ok := c.cachedDataTar(p.SHA256); ok {
		t, err := extractVerified(tarPath, tarSum, p.Name, dir)
		if err == nil {
			return t, nil
		}
		if !errors.Is(err, errCacheCorrupt) {
			return nil, fmt.Errorf("%s %s: %w", p.Name, p.Version, err)
		}
		f.Progress.Phasef("warning: cached data of %s %s was corrupt (%v); unpacking the .deb again", p.Name, p.Version, err)
		c.forgetDataTar(p.SHA256, tarSum)
	}
	debPath, err := f.Fetch(ctx, p.Filename, p.Size, p.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", p.Name, p.Version, err)
	}
	if err := freshDir(dir); err != nil {
		return nil, err
	}
	var t *pkgTree
	_, _, err = c.dataTar(debPath, p.SHA256, func(r io.Reader) (err error) {
		t, err = extractTar(r, p.Name, dir)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", p.Name, debPath, err)
	}
	return t, nil
}

// freshDir makes dir empty, creating it.
func freshDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// errCacheCorrupt marks a cached data.tar whose content no longer matches
// its hash.
var errCacheCorrupt = errors.New("cached data.tar does not match its sha256")

// extractVerified extracts the plain tar at tarPath into a fresh dir,
// hashing it on the way; a hash mismatch (even when extraction failed for
// another reason) is errCacheCorrupt.
func extractVerified(tarPath, tarSum, pkgName, dir string) (*pkgTree, error) {
	if err := freshDir(dir); err != nil {
		return nil, err
	}
	in, err := os.Open(tarPath)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	h := sha256.New()
	t, xerr := extractTar(io.TeeReader(in, h), pkgName, dir)
	if _, err := io.Copy(h, in); err != nil {
		return nil, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != tarSum {
		return nil, fmt.Errorf("%s: %w (got %s)", tarPath, errCacheCorrupt, got)
	}
	return t, xerr
}

// extractTar unpacks a data.tar stream into the empty directory dir,
// applying mergeUsr, dropping documentation and normalising modes and
// symlink targets. It refuses names that are absolute or climb with "..",
// entries that would be written through a symlink, and special files.
func extractTar(r io.Reader, pkgName, dir string) (*pkgTree, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	t := &pkgTree{name: pkgName, dir: dir, nodes: map[string]*node{}}
	defer t.dirs.close()
	tr := tar.NewReader(r)
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("data.tar: %w", err)
		}
		for k := range h.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				return nil, fmt.Errorf("data.tar: entry %q: sparse files are not allowed in a sysroot", h.Name)
			}
		}
		if h.Typeflag == tar.TypeReg {
			total += h.Size
			if h.Size < 0 || h.Size > maxEntrySize || total > maxPackageSize {
				return nil, fmt.Errorf("data.tar: entry %q: %d bytes; more than a package of a sysroot holds (%d per file, %d per package)", h.Name, h.Size, int64(maxEntrySize), int64(maxPackageSize))
			}
		}
		if err := t.add(root, h, tr); err != nil {
			return nil, fmt.Errorf("data.tar: %w", err)
		}
	}
}

// add places one tar entry.
func (t *pkgTree) add(root *os.Root, h *tar.Header, body io.Reader) error {
	orig, err := cleanEntryName(h.Name)
	if err != nil {
		return err
	}
	if orig == "" {
		return nil // the root directory itself
	}
	p := mergeUsr(orig)
	if !strings.Contains(orig, "/") && isMergedDir(orig) && h.Typeflag == tar.TypeSymlink {
		// A package that ships /lib -> usr/lib itself: the merged layout
		// gets these links from Build, not from packages.
		return nil
	}
	if dropDoc(p) {
		return nil
	}
	if err := t.checkParents(root, p, h.Name); err != nil {
		return err
	}
	if old, ok := t.nodes[p]; ok && !(old.Type == TypeDir && h.Typeflag == tar.TypeDir) {
		return fmt.Errorf("entry %q: %s appears twice", h.Name, p)
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if _, ok := t.nodes[p]; ok {
			return nil
		}
		if err := t.dirs.mkdir(root, p); err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		t.put(&node{Path: p, Type: TypeDir, Mode: 0o755, Pkg: t.name})
	case tar.TypeReg:
		if h.Size < 0 {
			return fmt.Errorf("entry %q: negative size", h.Name)
		}
		mode := normalMode(TypeFile, h.Mode)
		out, err := t.dirs.create(root, p, mode)
		if err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		hs := sha256.New()
		n, err := io.Copy(io.MultiWriter(out, hs), body)
		if err == nil {
			err = out.Chmod(mode) // the mode without the umask
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		if n != h.Size {
			return fmt.Errorf("entry %q: %d bytes, header says %d", h.Name, n, h.Size)
		}
		t.put(&node{Path: p, Type: TypeFile, Mode: mode, Size: n, SHA256: hex.EncodeToString(hs.Sum(nil)), Pkg: t.name})
	case tar.TypeSymlink:
		target, err := normalLinkTarget(orig, p, h.Linkname)
		if err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		if err := t.dirs.symlink(root, target, p); err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		t.put(&node{Path: p, Type: TypeSymlink, Mode: 0o777, Target: target, Pkg: t.name})
	case tar.TypeLink:
		lo, err := cleanEntryName(h.Linkname)
		if err != nil || lo == "" {
			return fmt.Errorf("entry %q: hard link target %q refused", h.Name, h.Linkname)
		}
		lp := mergeUsr(lo)
		src, ok := t.nodes[lp]
		if !ok || src.Type != TypeFile {
			return fmt.Errorf("entry %q: hard link to %q, which is not an earlier regular file of the package", h.Name, h.Linkname)
		}
		if err := root.Link(lp, p); err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		n := *src
		n.Path = p
		t.put(&n)
	default:
		return fmt.Errorf("entry %q: type %q (%s) is not allowed in a sysroot", h.Name, h.Typeflag, typeName(h.Typeflag))
	}
	return nil
}

func (t *pkgTree) put(n *node) {
	if _, ok := t.nodes[n.Path]; !ok {
		t.order = append(t.order, n.Path)
	}
	t.nodes[n.Path] = n
}

// checkParents makes sure every parent of p is a directory of this tree,
// creating the missing ones. A parent that is a file or a symlink is an
// error: nothing is ever written through a symlink.
func (t *pkgTree) checkParents(root *os.Root, p, name string) error {
	dir := path.Dir(p)
	if dir == "." {
		return nil
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		d := strings.Join(parts[:i+1], "/")
		n, ok := t.nodes[d]
		if !ok {
			if err := t.dirs.mkdir(root, d); err != nil {
				return fmt.Errorf("entry %q: %w", name, err)
			}
			t.put(&node{Path: d, Type: TypeDir, Mode: 0o755, Pkg: t.name})
			continue
		}
		if n.Type == TypeSymlink {
			return fmt.Errorf("entry %q: refused: its parent %s is a symlink, and writing through it could leave the sysroot", name, d)
		}
		if n.Type != TypeDir {
			return fmt.Errorf("entry %q: parent %s is a %s", name, d, n.Type)
		}
	}
	return nil
}

// dirRoots keeps a few directories of a package's tree open, so that
// creating an entry is one call relative to its directory instead of a walk
// from the top of the tree (os.Root opens every component on the way, and
// the files of a package come a directory at a time). Each is an os.Root of
// its own, opened through the tree's root, so nothing escapes either; the
// directories are ones the package made, never symlinks (checkParents).
type dirRoots struct {
	open map[string]*os.Root
}

// maxOpenDirs bounds the directories held open per extraction.
const maxOpenDirs = 32

// at returns the open directory of p and p's last component.
func (d *dirRoots) at(root *os.Root, p string) (*os.Root, string, error) {
	dir, base := path.Split(p)
	if dir == "" {
		return root, base, nil
	}
	dir = strings.TrimSuffix(dir, "/")
	if r, ok := d.open[dir]; ok {
		return r, base, nil
	}
	if len(d.open) >= maxOpenDirs {
		d.close()
	}
	r, err := root.OpenRoot(dir)
	if err != nil {
		return nil, "", err
	}
	if d.open == nil {
		d.open = map[string]*os.Root{}
	}
	d.open[dir] = r
	return r, base, nil
}

func (d *dirRoots) mkdir(root *os.Root, p string) error {
	r, base, err := d.at(root, p)
	if err != nil {
		return err
	}
	return r.Mkdir(base, 0o755)
}

func (d *dirRoots) create(root *os.Root, p string, mode os.FileMode) (*os.File, error) {
	r, base, err := d.at(root, p)
	if err != nil {
		return nil, err
	}
	return r.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
}

func (d *dirRoots) symlink(root *os.Root, target, p string) error {
	r, base, err := d.at(root, p)
	if err != nil {
		return err
	}
	return r.Symlink(target, base)
}

func (d *dirRoots) close() {
	for _, r := range d.open {
		r.Close()
	}
	clear(d.open)
}

func typeName(f byte) string {
	switch f {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "FIFO"
	case tar.TypeCont:
		return "contiguous file"
	}
	return "unknown"
}
