package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeTree creates files under dir from a map of name -> content; a
// content starting with "->" makes a symlink, "=>" a hard link to the
// named file, "/" a directory. Names ending in "*" get mode 0750 (an x bit).
func writeTree(t testing.TB, dir string, order []string, tree map[string]string) {
	t.Helper()
	for _, name := range order {
		content := tree[name]
		exec := strings.HasSuffix(name, "*")
		name = strings.TrimSuffix(name, "*")
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		switch {
		case content == "/":
			if err := os.MkdirAll(p, 0o711); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(content, "->"):
			if err := os.Symlink(content[2:], p); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(content, "=>"):
			if err := os.Link(filepath.Join(dir, content[2:]), p); err != nil {
				t.Fatal(err)
			}
		default:
			mode := os.FileMode(0o600)
			if exec {
				mode = 0o750
			}
			if err := os.WriteFile(p, []byte(content), mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
}

var sampleTree = map[string]string{
	"bin/tool*":          "#!launcher",
	"bin/alias":          "->tool",
	"bin/tool2":          "=>bin/tool",
	"lib/libc.so.6":      strings.Repeat("libc", 5000),
	"lib/libz.so.1":      "zlib",
	"lib/a-b":            "dash sorts before slash",
	"lib/a/x":            "in a dir named a",
	"share/empty":        "/",
	".portable/manifest": "{}",
	strings.Repeat("d", 120) + "/long-name-file": "needs PAX",
}

func sampleOrder(reverse bool) []string {
	order := []string{"bin/tool*", "bin/alias", "bin/tool2", "lib/libc.so.6", "lib/libz.so.1", "lib/a-b", "lib/a/x", "share/empty", ".portable/manifest", strings.Repeat("d", 120) + "/long-name-file"}
	if reverse {
		// Hard link needs its target first; keep that pair in order.
		return []string{strings.Repeat("d", 120) + "/long-name-file", ".portable/manifest", "share/empty", "lib/a/x", "lib/a-b", "lib/libz.so.1", "lib/libc.so.6", "bin/tool*", "bin/tool2", "bin/alias"}
	}
	return order
}

func TestCreateDeterministic(t *testing.T) {
	t.Parallel()
	a, b := t.TempDir(), t.TempDir()
	writeTree(t, a, sampleOrder(false), sampleTree)
	writeTree(t, b, sampleOrder(true), sampleTree)
	// Different mtimes on the two copies must not matter.
	old := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	if err := os.Chtimes(filepath.Join(b, "lib/libz.so.1"), old, old); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".tar", ".tar.gz", ".tar.zst"} {
		out := t.TempDir()
		pa, pb := filepath.Join(out, "a"+ext), filepath.Join(out, "b"+ext)
		if err := Create(pa, a, Options{}); err != nil {
			t.Fatal(err)
		}
		if err := Create(pb, b, Options{}); err != nil {
			t.Fatal(err)
		}
		da, _ := os.ReadFile(pa)
		db, _ := os.ReadFile(pb)
		if !bytes.Equal(da, db) || len(da) == 0 {
			t.Errorf("%s: archives of the same tree differ (%d vs %d bytes)", ext, len(da), len(db))
		}
		// A second run over the same tree is also identical.
		if err := Create(pb, a, Options{}); err != nil {
			t.Fatal(err)
		}
		db, _ = os.ReadFile(pb)
		if !bytes.Equal(da, db) {
			t.Errorf("%s: two runs differ", ext)
		}
		// No temp files left next to the output.
		ents, _ := os.ReadDir(out)
		if len(ents) != 2 {
			t.Errorf("%s: output dir has %d entries, want 2", ext, len(ents))
		}
	}
}

func readTar(t *testing.T, data []byte) []*tar.Header {
	t.Helper()
	zr, _, err := Decompress(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var hdrs []*tar.Header
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, h)
	}
	return hdrs
}

func TestHeadersNormalised(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, sampleOrder(false), sampleTree)
	var buf bytes.Buffer
	if err := WriteDir(&buf, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	hdrs := readTar(t, buf.Bytes())
	var names []string
	byName := map[string]*tar.Header{}
	for _, h := range hdrs {
		names = append(names, h.Name)
		byName[h.Name] = h
		if !h.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: mtime %v", h.Name, h.ModTime)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d/%d %q/%q", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: atime/ctime stored", h.Name)
		}
	}
	want := []string{".portable/", ".portable/manifest", "bin/", "bin/alias", "bin/tool", "bin/tool2",
		strings.Repeat("d", 120) + "/", strings.Repeat("d", 120) + "/long-name-file",
		"lib/", "lib/a/", "lib/a/x", "lib/a-b", "lib/libc.so.6", "lib/libz.so.1", "share/", "share/empty/"}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	checks := []struct {
		name string
		typ  byte
		mode int64
		link string
	}{
		{"bin/", tar.TypeDir, 0o755, ""},
		{"share/empty/", tar.TypeDir, 0o755, ""},
		{"bin/tool", tar.TypeReg, 0o755, ""},
		{"bin/tool2", tar.TypeLink, 0o755, "bin/tool"},
		{"bin/alias", tar.TypeSymlink, 0o777, "tool"},
		{"lib/libz.so.1", tar.TypeReg, 0o644, ""},
	}
	for _, c := range checks {
		h := byName[c.name]
		if h == nil {
			t.Errorf("%s missing", c.name)
			continue
		}
		if h.Typeflag != c.typ || h.Mode != c.mode || h.Linkname != c.link {
			t.Errorf("%s: type %q mode %o link %q; want %q %o %q", c.name, h.Typeflag, h.Mode, h.Linkname, c.typ, c.mode, c.link)
		}
	}
	if byName["bin/tool2"].Size != 0 {
		t.Errorf("hard link stores content")
	}
}

func TestSourceDateEpochAndPrefix(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, []string{"a*"}, map[string]string{"a*": "x"})
	epoch := time.Unix(1700000000, 0)
	var buf bytes.Buffer
	if err := WriteDir(&buf, dir, Options{MTime: epoch, Prefix: "app"}); err != nil {
		t.Fatal(err)
	}
	hdrs := readTar(t, buf.Bytes())
	if len(hdrs) != 2 || hdrs[0].Name != "app/" || hdrs[1].Name != "app/a" {
		t.Fatalf("entries %d: %q %q", len(hdrs), hdrs[0].Name, hdrs[len(hdrs)-1].Name)
	}
	for _, h := range hdrs {
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, epoch)
		}
	}
}

func TestGzipHeaderFixed(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	cw, err := Compress(&buf, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	cw.Write([]byte("hello"))
	cw.Close()
	b := buf.Bytes()
	// ID1 ID2 CM FLG MTIME(4) XFL OS
	if b[3] != 0 {
		t.Errorf("FLG = %#x: name/comment/extra present", b[3])
	}
	if !bytes.Equal(b[4:8], []byte{0, 0, 0, 0}) {
		t.Errorf("MTIME = %x", b[4:8])
	}
	if b[9] != 255 {
		t.Errorf("OS = %d, want 255", b[9])
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if string(got) != "hello" {
		t.Errorf("round trip %q", got)
	}
}

func TestCompressionFor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		want Compression
		ok   bool
	}{
		{"x.tar", None, true}, {"a/b.TAR.GZ", Gzip, true}, {"x.tgz", Gzip, true},
		{"x.tar.zst", Zstd, true}, {"x.tzst", Zstd, true}, {"x", None, false}, {"x.zip", None, false}, {"dir/", None, false},
	}
	for _, c := range cases {
		got, err := CompressionFor(c.name)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("CompressionFor(%q) = %v, %v", c.name, got, err)
		}
	}
}

func TestWriteEntriesRefusesBadInput(t *testing.T) {
	t.Parallel()
	file := func(name string) Entry {
		return Entry{Name: name, Type: TypeFile, Size: 1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }}
	}
	cases := []struct {
		name    string
		entries []Entry
		want    string
	}{
		{"abs", []Entry{file("/etc/passwd")}, "absolute"},
		{"dotdot", []Entry{file("../x")}, "leaves the archive root"},
		{"unclean", []Entry{file("a//b")}, "not clean"},
		{"dup", []Entry{file("a"), file("a")}, "listed twice"},
		{"parent is file", []Entry{file("a"), file("a/b")}, "not a directory"},
		{"dangling hardlink", []Entry{{Name: "b", Type: TypeHardlink, Linkname: "a"}}, "not in the archive"},
		{"hardlink to dir", []Entry{{Name: "d", Type: TypeDir}, {Name: "e", Type: TypeHardlink, Linkname: "d"}}, "not a regular file"},
		{"hardlink order", []Entry{file("b"), {Name: "a", Type: TypeHardlink, Linkname: "b"}}, "sorts after"},
		{"short content", []Entry{{Name: "s", Type: TypeFile, Size: 5, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }}}, "expected 5"},
		{"long content", []Entry{{Name: "s", Type: TypeFile, Size: 1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("xy")), nil }}}, "longer than"},
	}
	for _, c := range cases {
		err := WriteEntries(io.Discard, c.entries, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	dst := filepath.Join(out, "x.tar.zst")
	if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := []Entry{{Name: "s", Type: TypeFile, Size: 5, Open: func() (io.ReadCloser, error) { return nil, errors.New("boom") }}}
	if err := CreateEntries(dst, bad, Options{}); err == nil {
		t.Fatal("no error")
	}
	got, _ := os.ReadFile(dst)
	if string(got) != "old" {
		t.Errorf("old content replaced: %q", got)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 1 {
		t.Errorf("temp files left: %v", ents)
	}
}

func TestScanRefusesFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Scan(dir); err == nil || !strings.Contains(err.Error(), "unsupported file type") {
		t.Fatalf("err = %v", err)
	}
}

func TestExtractRoundTrip(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	writeTree(t, src, sampleOrder(false), sampleTree)
	for _, ext := range []string{".tar", ".tar.gz", ".tar.zst"} {
		out := t.TempDir()
		arc := filepath.Join(out, "b"+ext)
		if err := Create(arc, src, Options{}); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(out, "x")
		if err := ExtractFile(arc, dst, ExtractOptions{}); err != nil {
			t.Fatal(err)
		}
		// Re-archiving the extracted tree gives the same bytes.
		arc2 := filepath.Join(out, "c"+ext)
		if err := Create(arc2, dst, Options{}); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(arc)
		b, _ := os.ReadFile(arc2)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: extract + re-create differs", ext)
		}
		var s1, s2 syscall.Stat_t
		syscall.Stat(filepath.Join(dst, "bin/tool"), &s1)
		syscall.Stat(filepath.Join(dst, "bin/tool2"), &s2)
		if s1.Ino != s2.Ino {
			t.Errorf("%s: hard link not restored", ext)
		}
		if s1.Mode&0o777 != 0o755 {
			t.Errorf("%s: mode %o", ext, s1.Mode&0o777)
		}
	}
}

// rawTar builds a tar with hand-written headers, bypassing our writer.
func rawTar(t *testing.T, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func TestExtractRefusesHostileArchives(t *testing.T) {
	t.Parallel()
	reg := func(name string) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Size: 1, Mode: 0o644}
	}
	cases := []struct {
		name string
		hdrs []*tar.Header
		want string
	}{
		{"dotdot", []*tar.Header{reg("../evil")}, "leaves the archive root"},
		{"abs", []*tar.Header{reg("/etc/evil")}, "absolute"},
		{"through symlink", []*tar.Header{{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "sub"}, reg("l/x")}, "not a directory"},
		{"escaping symlink", []*tar.Header{{Name: "a/l", Typeflag: tar.TypeSymlink, Linkname: "../../etc"}}, "leaves the archive root"},
		{"absolute symlink", []*tar.Header{{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}, "absolute path"},
		{"hardlink outside", []*tar.Header{{Name: "h", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}}, "bad hard link"},
		{"hardlink missing", []*tar.Header{{Name: "h", Typeflag: tar.TypeLink, Linkname: "nope"}}, "not an earlier regular file"},
		{"hardlink to symlink", []*tar.Header{{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "x"}, {Name: "h", Typeflag: tar.TypeLink, Linkname: "l"}}, "not an earlier regular file"},
		{"duplicate", []*tar.Header{reg("a"), reg("a")}, "listed twice"},
		{"device", []*tar.Header{{Name: "null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}}, "unsupported"},
	}
	for _, c := range cases {
		parent := t.TempDir()
		dst := filepath.Join(parent, "out")
		err := Extract(bytes.NewReader(rawTar(t, c.hdrs...)), dst, ExtractOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
		if ents, _ := os.ReadDir(parent); len(ents) != 0 {
			t.Errorf("%s: left %v behind", c.name, ents)
		}
	}
	// Limits.
	parent := t.TempDir()
	data := rawTar(t, reg("a"), reg("b"))
	if err := Extract(bytes.NewReader(data), filepath.Join(parent, "o"), ExtractOptions{MaxEntries: 1}); err == nil {
		t.Error("MaxEntries not enforced")
	}
	if err := Extract(bytes.NewReader(data), filepath.Join(parent, "o"), ExtractOptions{MaxBytes: 1}); err == nil {
		t.Error("MaxBytes not enforced")
	}
	// An existing destination is never touched.
	if err := Extract(bytes.NewReader(data), parent, ExtractOptions{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("existing dest: %v", err)
	}
}
