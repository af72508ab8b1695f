package deps

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// treeOf reads the directory root into an in-memory tree.
func treeOf(t *testing.T, root string) map[string]TreeNode {
	t.Helper()
	out := map[string]TreeNode{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		key := "/" + filepath.ToSlash(rel)
		if rel == "." {
			key = "/"
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		n := TreeNode{Mode: st.Mode(), ID: FileID{Dev: TreeDev, Ino: st.Sys().(*syscall.Stat_t).Ino}}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			n.Link, _ = os.Readlink(p)
		case st.Mode().IsRegular():
			hp := p
			n.Open = func() (io.ReaderAt, int64, func() error, error) { return openDisk(hp) }
		}
		out[key] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTreeEqualsDisk resolves real programs in a root on disk and in the
// same root given in memory under a name that does not exist on disk:
// the closures agree, and a library taken out of the tree goes missing.
func TestTreeEqualsDisk(t *testing.T) {
	host, err := Resolve("/", []string{"/usr/bin/curl", "/usr/bin/git"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	withLoader(t, root)
	for _, p := range host.Programs {
		copyFile(t, p.Path, filepath.Join(root, p.Path))
		for _, l := range p.Libraries {
			copyFile(t, l.RealPath, filepath.Join(root, l.RealPath))
			if base := filepath.Base(l.RealPath); base != l.Name && !filepath.IsAbs(l.Name) {
				// The soname's link to the versioned file.
				link := filepath.Join(root, filepath.Dir(l.RealPath), l.Name)
				if _, err := os.Lstat(link); err != nil {
					must(t, os.Symlink(base, link))
				}
			}
		}
	}
	// The search path comes from etc/ld.so.conf, which the resolver
	// reads from the tree too.
	must(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "etc/ld.so.conf"), []byte("/lib/x86_64-linux-gnu\n"), 0o644))
	// Names reached through symlinks, as on a merged-/usr system.
	must(t, os.Symlink("usr/lib", filepath.Join(root, "lib")))
	// A file that is not ELF where ld.so looks first stops nothing here:
	// it is not in any search path, but readDir and the header read meet
	// it in the tree all the same.
	must(t, os.WriteFile(filepath.Join(root, "usr/lib/x86_64-linux-gnu/notes.txt"), []byte("not ELF"), 0o644))
	tr := treeOf(t, root)
	ghost := filepath.Join(t.TempDir(), "not-on-disk")
	for _, prog := range []string{"/usr/bin/curl", "/usr/bin/git"} {
		disk := resolveOne(t, root, filepath.Join(root, prog), Options{})
		mem := resolveOne(t, ghost, filepath.Join(ghost, prog), Options{Tree: tr})
		if a, b := mapString(closureMap(disk)), mapString(closureMap(mem)); a != b || len(disk.Libraries) < 3 {
			t.Errorf("%s: disk closure\n%s\nin-memory closure\n%s", prog, a, b)
		}
		if disk.Interpreter != mem.Interpreter {
			t.Errorf("%s: interpreter %q on disk, %q in memory", prog, disk.Interpreter, mem.Interpreter)
		}
	}
	// Without libz in the tree, curl misses it, though the disk has it.
	var libz string
	for p := range tr {
		if m, _ := filepath.Match("/usr/lib/x86_64-linux-gnu/libz.so.1*", p); m {
			libz = p
		}
	}
	if libz == "" {
		t.Fatal("no libz.so.1 in curl's closure")
	}
	delete(tr, libz)
	mem := resolveOne(t, ghost, filepath.Join(ghost, "/usr/bin/curl"), Options{Tree: tr})
	if got := closureMap(mem)["libz.so.1"]; got != "" || len(mem.Missing) == 0 {
		t.Errorf("libz.so.1 taken out of the tree resolves to %q (missing: %v)", got, mem.Missing)
	}
	if _, err := Resolve(ghost, []string{filepath.Join(ghost, "/usr/bin/none")}, Options{Tree: tr}); err == nil {
		t.Error("a program the tree lacks resolves")
	}
}
