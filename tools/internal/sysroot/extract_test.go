package sysroot

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/deb/debtest"
)

// extractEntries extracts a data.tar with these entries into a fresh
// directory under a parent that must stay otherwise empty.
func extractEntries(t *testing.T, entries []debtest.Entry) (*pkgTree, string, error) {
	t.Helper()
	parent := t.TempDir()
	dir := filepath.Join(parent, "root")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tree, err := extractTar(bytes.NewReader(debtest.Tar(entries)), "pkg", dir)
	// Nothing may appear next to the extraction directory.
	ents, rerr := os.ReadDir(parent)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if len(ents) != 1 {
		t.Fatalf("extraction wrote outside its directory: %v", ents)
	}
	return tree, dir, err
}

func TestExtractLayout(t *testing.T) {
	tree, dir, err := extractEntries(t, []debtest.Entry{
		debtest.Dir("./"),
		debtest.Dir("./lib/"),
		debtest.Dir("./lib/x86_64-linux-gnu/"),
		{Name: "./lib/x86_64-linux-gnu/libc.so.6", Type: tar.TypeReg, Mode: 0o4755, Body: "ELF"},
		debtest.Symlink("./lib64", "usr/lib64"), // a package shipping the merge link itself
		debtest.Dir("./lib64/"),
		debtest.Symlink("./lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
		{Name: "./usr/lib/x86_64-linux-gnu/hard", Type: tar.TypeLink, Linkname: "./lib/x86_64-linux-gnu/libc.so.6"},
		debtest.File("./usr/share/doc/pkg/copyright", "GPL"),
		debtest.File("./usr/share/doc/pkg/changelog.gz", "x"),
		debtest.File("./usr/share/man/man1/x.1", "x"),
		debtest.File("./usr/include/stdio.h", "int x;"), // implicit parents
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"usr/lib/x86_64-linux-gnu/libc.so.6": "file 0755",
		"usr/lib64/ld-linux-x86-64.so.2":     "symlink ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		"usr/lib/x86_64-linux-gnu/hard":      "file 0755",
		"usr/share/doc/pkg/copyright":        "file 0644",
		"usr/include":                        "dir 0755",
		"usr/include/stdio.h":                "file 0644",
	}
	for p, w := range want {
		n := tree.nodes[p]
		if n == nil {
			t.Errorf("%s missing", p)
			continue
		}
		got := fmt.Sprintf("%s %04o", n.Type, uint32(n.Mode.Perm()))
		if n.Type == TypeSymlink {
			got = "symlink " + n.Target
		}
		if got != w {
			t.Errorf("%s: %s, want %s", p, got, w)
		}
	}
	for _, p := range []string{"lib", "lib64", "usr/share/doc/pkg/changelog.gz", "usr/share/man"} {
		if _, ok := tree.nodes[p]; ok {
			t.Errorf("%s should not be in the tree", p)
		}
		if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s should not be on disk", p)
		}
	}
	a, _ := os.Stat(filepath.Join(dir, "usr/lib/x86_64-linux-gnu/libc.so.6"))
	b, _ := os.Stat(filepath.Join(dir, "usr/lib/x86_64-linux-gnu/hard"))
	if !os.SameFile(a, b) || a.Mode().Perm() != 0o755 || a.Mode()&os.ModeSetuid != 0 {
		t.Errorf("hard link or mode: %v %v", a.Mode(), b.Mode())
	}
}

func TestExtractRefuses(t *testing.T) {
	for _, c := range []struct {
		name    string
		entries []debtest.Entry
		want    string
	}{
		{"dotdot", []debtest.Entry{debtest.File("./../../etc/evil", "x")}, "path traversal"},
		{"dotdot inside", []debtest.Entry{debtest.File("./usr/../../evil", "x")}, "path traversal"},
		{"absolute", []debtest.Entry{debtest.File("/etc/evil", "x")}, "absolute path refused"},
		{"through symlink", []debtest.Entry{debtest.Symlink("./usr/lib/l", "/etc"), debtest.File("./usr/lib/l/passwd", "x")}, "is a symlink"},
		{"through relative symlink", []debtest.Entry{debtest.Symlink("./usr/x", "../../../.."), debtest.File("./usr/x/tmp/evil", "x")}, "is a symlink"},
		{"hardlink out", []debtest.Entry{{Name: "./usr/h", Type: tar.TypeLink, Linkname: "../../etc/passwd"}}, "hard link target"},
		{"hardlink absent", []debtest.Entry{{Name: "./usr/h", Type: tar.TypeLink, Linkname: "./usr/nothing"}}, "not an earlier regular file"},
		{"char device", []debtest.Entry{{Name: "./dev/null", Type: tar.TypeChar, Mode: 0o666}}, "character device"},
		{"fifo", []debtest.Entry{{Name: "./usr/f", Type: tar.TypeFifo, Mode: 0o666}}, "FIFO"},
		{"twice", []debtest.Entry{debtest.File("./usr/a", "1"), debtest.File("./usr/a", "2")}, "appears twice"},
		{"file then dir", []debtest.Entry{debtest.File("./usr/a", "1"), debtest.File("./usr/a/b", "2")}, "parent usr/a is a file"},
		{"empty symlink", []debtest.Entry{debtest.Symlink("./usr/l", "")}, "empty target"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := extractEntries(t, c.entries)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

// FuzzExtract feeds arbitrary tar streams through the entry handling. The
// property: whatever the input, nothing is created, changed or linked
// outside the extraction directory, which sits several levels deep in a
// private temporary directory with a sentinel file at every level, and
// every symlink made is clean and relative and stays inside it.
func FuzzExtract(f *testing.F) {
	f.Add(debtest.Tar([]debtest.Entry{debtest.Dir("./usr/"), debtest.File("./usr/a", "x"), debtest.Symlink("./lib/l", "/usr/a")}))
	f.Add(debtest.Tar([]debtest.Entry{debtest.File("./../x", "x")}))
	f.Add(debtest.Tar([]debtest.Entry{debtest.File("../../../s", "x")}))
	f.Add(debtest.Tar([]debtest.Entry{debtest.File("/abs", "x")}))
	f.Add(debtest.Tar([]debtest.Entry{debtest.Symlink("./usr/l", "/etc"), debtest.File("./usr/l/x", "x")}))
	f.Add(debtest.Tar([]debtest.Entry{debtest.Symlink("./usr/l", "../../.."), debtest.File("./usr/l/s", "x")}))
	f.Add(debtest.Tar([]debtest.Entry{debtest.Symlink("./usr/l", "../../../s"), debtest.File("./usr/l", "x")}))
	f.Add(debtest.Tar([]debtest.Entry{debtest.File("./usr/a", "x"), {Name: "./usr/b", Type: tar.TypeLink, Linkname: "./usr/a"}}))
	f.Add(debtest.Tar([]debtest.Entry{{Name: "./usr/h", Type: tar.TypeLink, Linkname: "../../../s"}}))
	f.Add(debtest.Tar([]debtest.Entry{{Name: "./usr/h", Type: tar.TypeLink, Linkname: "/etc/passwd"}}))
	f.Add(debtest.Tar([]debtest.Entry{debtest.Symlink("./usr/l", "../../../s"), {Name: "./usr/h", Type: tar.TypeLink, Linkname: "./usr/l"}}))
	f.Fuzz(func(t *testing.T, tarData []byte) {
		priv := t.TempDir()
		// The sentinels: priv/s, priv/a/s, ... next to every directory on
		// the way down to the root.
		levels := []string{priv, filepath.Join(priv, "a"), filepath.Join(priv, "a", "b"), filepath.Join(priv, "a", "b", "c")}
		dir := filepath.Join(levels[len(levels)-1], "root")
		allowed := map[string]bool{dir: true}
		for i, l := range levels {
			if i > 0 {
				if err := os.Mkdir(l, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			allowed[l] = true
			allowed[filepath.Join(l, "s")] = true
			if err := os.WriteFile(filepath.Join(l, "s"), []byte("sentinel"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		tree, xerr := extractTar(bytes.NewReader(tarData), "x", dir)
		// Whether or not extraction failed: nothing new outside dir, and
		// every symlink inside it points inside it.
		err := filepath.WalkDir(priv, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !allowed[p] && !strings.HasPrefix(p, dir+"/") {
				t.Fatalf("extraction created %s outside %s", p, dir)
			}
			if d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if !localLinkTarget(dir, p, target) {
				t.Fatalf("symlink %s -> %s leaves %s or is not clean", p, target, dir)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// No sentinel was written to, re-moded or hard linked.
		for _, l := range levels {
			s := filepath.Join(l, "s")
			fi, err := os.Lstat(s)
			if err != nil {
				t.Fatal(err)
			}
			body, err := os.ReadFile(s)
			if err != nil {
				t.Fatal(err)
			}
			st, ok := fi.Sys().(*syscall.Stat_t)
			if !ok || string(body) != "sentinel" || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 || st.Nlink != 1 {
				t.Fatalf("%s was touched: %v, %d links, %q", s, fi.Mode(), st.Nlink, body)
			}
		}
		if xerr != nil {
			if tree != nil {
				t.Fatalf("extractTar gave a tree and the error %v", xerr)
			}
			return
		}
		for p, n := range tree.nodes {
			if n.Type != TypeSymlink {
				continue
			}
			full := filepath.Join(dir, p)
			if !localLinkTarget(dir, full, n.Target) {
				t.Fatalf("symlink %s -> %s in the tree leaves the root", p, n.Target)
			}
			if got, err := os.Readlink(full); err != nil || got != n.Target {
				t.Fatalf("symlink %s: tree says %q, disk %q, %v", p, n.Target, got, err)
			}
		}
	})
}

// localLinkTarget reports whether the symlink at link (inside dir) with
// this target stays in dir: the target is relative and clean (so ".."
// comes only in front and climbs through real directories, not through
// other links) and, read from the link's directory, lands in dir.
func localLinkTarget(dir, link, target string) bool {
	if target == "" || filepath.IsAbs(target) || filepath.Clean(target) != target {
		return false
	}
	full := filepath.Join(filepath.Dir(link), target)
	return full == dir || strings.HasPrefix(full, dir+"/")
}

func TestExtractRefusesHuge(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "./usr/big", Typeflag: tar.TypeReg, Size: maxEntrySize + 1, Mode: 0o644})
	dir := t.TempDir()
	if _, err := extractTar(&buf, "pkg", dir); err == nil || !strings.Contains(err.Error(), "more than a package") {
		t.Fatalf("got %v", err)
	}
	// Sparse files, as GNU tar writes them in both of its formats.
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "sparse"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(src, "sparse"), 1<<30); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"gnu", "posix"} {
		out := filepath.Join(t.TempDir(), "s.tar")
		if b, err := exec.Command("tar", "--sparse", "--format="+format, "-C", src, "-cf", out, "./sparse").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v %s", err, b)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		_, err = extractTar(f, "pkg", t.TempDir())
		f.Close()
		if err == nil || !(strings.Contains(err.Error(), "sparse") || strings.Contains(err.Error(), "not allowed")) {
			t.Fatalf("%s sparse entry: %v", format, err)
		}
	}
}
