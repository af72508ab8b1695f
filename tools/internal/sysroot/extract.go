package sysroot

import (
	"archive/tar"
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

// pkgTree is what one package's data.tar put into its own directory.
type pkgTree struct {
	name  string
	dir   string
	nodes map[string]*node
	order []string // paths in archive order
}

// extractDeb unpacks the data tree of the .deb at debPath into the empty
// directory dir, applying mergeUsr, dropping documentation and normalising
// modes and symlink targets. It refuses names that are absolute or climb
// with "..", entries that would be written through a symlink, and special
// files.
func extractDeb(debPath, pkgName, dir string) (*pkgTree, error) {
	f, err := os.Open(debPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	t := &pkgTree{name: pkgName, dir: dir, nodes: map[string]*node{}}
	sawData := false
	err = deb.Walk(f, func(m deb.Member, tr *tar.Reader) error {
		if m != deb.DataMember {
			return nil
		}
		sawData = true
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("data.tar: %w", err)
			}
			if err := t.add(root, h, tr); err != nil {
				return fmt.Errorf("data.tar: %w", err)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", pkgName, debPath, err)
	}
	if !sawData {
		return nil, fmt.Errorf("%s (%s): no data.tar", pkgName, debPath)
	}
	return t, nil
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
		if err := root.Mkdir(p, 0o755); err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		t.put(&node{Path: p, Type: TypeDir, Mode: 0o755, Pkg: t.name})
	case tar.TypeReg:
		if h.Size < 0 {
			return fmt.Errorf("entry %q: negative size", h.Name)
		}
		mode := normalMode(TypeFile, h.Mode)
		out, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		hs := sha256.New()
		n, err := io.Copy(io.MultiWriter(out, hs), body)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		if n != h.Size {
			return fmt.Errorf("entry %q: %d bytes, header says %d", h.Name, n, h.Size)
		}
		if err := root.Chmod(p, mode); err != nil {
			return err
		}
		t.put(&node{Path: p, Type: TypeFile, Mode: mode, Size: n, SHA256: hex.EncodeToString(hs.Sum(nil)), Pkg: t.name})
	case tar.TypeSymlink:
		target, err := normalLinkTarget(orig, p, h.Linkname)
		if err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		if err := root.Symlink(target, p); err != nil {
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
			if err := root.Mkdir(d, 0o755); err != nil {
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
