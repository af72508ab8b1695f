package deb

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/deb/debtest"
)

// dpkgDeb builds a real package with dpkg-deb, compressed with comp.
func dpkgDeb(t *testing.T, comp string) []byte {
	t.Helper()
	tool, err := exec.LookPath("dpkg-deb")
	if err != nil {
		t.Fatal("dpkg-deb not found: install the dpkg package")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	for _, p := range []string{"DEBIAN", "usr/lib/x86_64-linux-gnu", "lib64"} {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "DEBIAN/control"), []byte("Package: demo\nVersion: 1:2.0-1\nArchitecture: amd64\nMaintainer: T <t@example.invalid>\nDepends: libc6 (>= 2.36)\nDescription: demo\n long line\n"), 0o644)
	os.WriteFile(filepath.Join(root, "usr/lib/x86_64-linux-gnu/libdemo.so.1"), bytes.Repeat([]byte("demo"), 5000), 0o644)
	os.Symlink("/usr/lib/x86_64-linux-gnu/libdemo.so.1", filepath.Join(root, "lib64/libdemo.so"))
	out := filepath.Join(dir, "demo.deb")
	cmd := exec.Command(tool, "--root-owner-group", "-Z"+comp, "--build", root, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// eachEntry reads every entry of tr to its end and calls fn with its
// header and the number of content bytes read.
func eachEntry(tr *tar.Reader, fn func(h *tar.Header, n int64)) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, tr)
		if err != nil {
			return err
		}
		fn(h, n)
	}
}

func listData(data []byte) (map[string]*tar.Header, error) {
	got := map[string]*tar.Header{}
	err := Walk(bytes.NewReader(data), func(m Member, tr *tar.Reader) error {
		if m != DataMember {
			return nil
		}
		return eachEntry(tr, func(h *tar.Header, _ int64) { got[h.Name] = h })
	})
	return got, err
}

func TestWalkRealDebs(t *testing.T) {
	for _, comp := range []string{"xz", "zstd", "gzip", "none"} {
		t.Run(comp, func(t *testing.T) {
			t.Parallel()
			data := dpkgDeb(t, comp)
			p, err := ReadControl(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if p.Get("Package") != "demo" || p.Get("Version") != "1:2.0-1" || p.Get("Depends") != "libc6 (>= 2.36)" {
				t.Fatalf("control = %+v", p)
			}
			got, err := listData(data)
			if err != nil {
				t.Fatal(err)
			}
			h := got["./usr/lib/x86_64-linux-gnu/libdemo.so.1"]
			if h == nil || h.Size != 20000 {
				t.Fatalf("data entries: %v", got)
			}
			if l := got["./lib64/libdemo.so"]; l == nil || l.Linkname != "/usr/lib/x86_64-linux-gnu/libdemo.so.1" {
				t.Fatalf("symlink: %+v", l)
			}
		})
	}
}

// TestTruncatedDebs cuts a real .deb at many offsets: each must give an
// error (never a panic, never a silent success).
func TestTruncatedDebs(t *testing.T) {
	data := dpkgDeb(t, "xz")
	for cut := 0; cut < len(data)-1; cut += max(1, len(data)/97) {
		if _, err := listData(data[:cut]); err == nil {
			t.Errorf("truncated at %d of %d: no error", cut, len(data))
		}
	}
	// A flipped byte inside the compressed data is caught too.
	bad := bytes.Clone(data)
	bad[len(bad)-40] ^= 0xff
	if _, err := listData(bad); err == nil {
		t.Error("corrupt data.tar.xz: no error")
	}
}

func TestWalkErrors(t *testing.T) {
	ctl := debtest.Compress(debtest.Tar([]debtest.Entry{debtest.File("./control", "Package: x\nVersion: 1\n")}), "gz")
	data := debtest.Compress(debtest.Tar(nil), "gz")
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"not ar", []byte("hello world, not an archive"), "bad magic"},
		{"no members", []byte("!<arch>\n"), "no debian-binary"},
		{"wrong first", debtest.Ar([]debtest.Member{debtest.M("control.tar.gz", ctl)}), "want debian-binary"},
		{"format 3", debtest.Ar([]debtest.Member{debtest.M("debian-binary", []byte("3.0\n"))}), "unsupported package format"},
		{"no control", debtest.Ar([]debtest.Member{debtest.M("debian-binary", []byte("2.0\n"))}), "no control.tar member"},
		{"data first", debtest.Ar([]debtest.Member{debtest.M("debian-binary", []byte("2.0\n")), debtest.M("data.tar.gz", data)}), "where control.tar was expected"},
		{"bz3", debtest.Ar([]debtest.Member{debtest.M("debian-binary", []byte("2.0\n")), debtest.M("control.tar.bz3", ctl)}), "unknown compression"},
		{"bad gzip", debtest.Ar([]debtest.Member{debtest.M("debian-binary", []byte("2.0\n")), debtest.M("control.tar.gz", []byte("nope"))}), "gzip"},
		{"no data", debtest.Ar([]debtest.Member{debtest.M("debian-binary", []byte("2.0\n")), debtest.M("control.tar.gz", ctl)}), "no data.tar member"},
		{"bad size", append([]byte("!<arch>\ndebian-binary   0           0     0     100644  12x4      `\n"), "2.0\n"...), "not a decimal number"},
		{"bad terminator", append([]byte("!<arch>\ndebian-binary   0           0     0     100644  4         X\n"), "2.0\n"...), "terminator"},
		{"huge size", []byte("!<arch>\ndebian-binary   0           0     0     100644  9999999999`\n2.0\n"), "truncated"},
	} {
		_, err := listData(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	// Members starting with '_' are skipped; trailing members are ignored.
	ok := debtest.Ar([]debtest.Member{debtest.M("debian-binary", []byte("2.0\n")), debtest.M("_gpgorigin", []byte("sig")), debtest.M("control.tar.gz", ctl), debtest.M("data.tar.gz", data)})
	if _, err := listData(ok); err != nil {
		t.Errorf("_member: %v", err)
	}
}

func FuzzArReader(f *testing.F) {
	f.Add(debtest.Ar([]debtest.Member{debtest.M("debian-binary", []byte("2.0\n")), debtest.M("odd", []byte("abc"))}))
	f.Add([]byte("!<arch>\n"))
	f.Add([]byte("!<arch>\na/              0           0     0     644     3         `\nabc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ar, err := NewArReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		var total int64
		for i := 0; i < 1000; i++ {
			h, err := ar.Next()
			if err != nil {
				return
			}
			if h.Size < 0 || h.Name == "" || strings.Contains(h.Name, "/") {
				t.Fatalf("bad header %+v", h)
			}
			n, _ := io.Copy(io.Discard, ar)
			total += n
			if total > int64(len(data)) {
				t.Fatalf("read %d bytes out of a %d-byte archive", total, len(data))
			}
		}
	})
}

func FuzzWalk(f *testing.F) {
	f.Add(debtest.Deb("xy", "1.0", []debtest.Entry{debtest.File("./a", "b")}, "gz"))
	f.Add(debtest.Deb("xy", "1.0", []debtest.Entry{debtest.Symlink("./l", "/a")}, ""))
	f.Add(debtest.Deb("xy", "1.0", []debtest.Entry{debtest.File("./a", "b")}, "xz"))
	f.Add(debtest.Ar([]debtest.Member{debtest.M("debian-binary", []byte("2.0\n")),
		debtest.M("control.tar", debtest.Tar([]debtest.Entry{debtest.File("./control", "Version: 1\n")})), debtest.M("data.tar", debtest.Tar(nil))}))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Walk hands over control.tar, then data.tar, each once, and reads
		// every entry to exactly its declared size.
		var seen []Member
		err := Walk(bytes.NewReader(data), func(m Member, tr *tar.Reader) error {
			seen = append(seen, m)
			if len(seen) > 2 || seen[len(seen)-1] != Member(len(seen)-1) {
				t.Fatalf("members handed over in the order %v", seen)
			}
			return eachEntry(tr, func(h *tar.Header, n int64) {
				// Regular files hold their size; links, directories and
				// devices hold nothing, whatever their header says.
				switch h.Typeflag {
				case tar.TypeReg:
					if n != h.Size {
						t.Fatalf("%s entry %q: read %d bytes, header says %d", m, h.Name, n, h.Size)
					}
				case tar.TypeLink, tar.TypeSymlink, tar.TypeDir, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
					if n != 0 {
						t.Fatalf("%s entry %q of type %q: read %d bytes", m, h.Name, h.Typeflag, n)
					}
				}
			})
		})
		if err == nil && len(seen) != 2 {
			t.Fatalf("walk succeeded after handing over %v", seen)
		}
		p, err := ReadControl(bytes.NewReader(data))
		if err != nil {
			return
		}
		if name := p.Get("Package"); !isDebianName(name) {
			t.Fatalf("control accepted with Package %q: %+v", name, p)
		}
	})
}
