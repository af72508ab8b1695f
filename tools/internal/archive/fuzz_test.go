package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzEntries turns fuzz input into an entry list: names are the lines of
// names; bit 2i..2i+1 of kinds picks file, dir, symlink or hard link (to
// the previous file); each file takes the next chunk of content.
func fuzzEntries(names string, kinds uint64, content []byte) ([]Entry, map[string][]byte) {
	var entries []Entry
	want := map[string][]byte{}
	lastFile := ""
	for i, name := range strings.Split(names, "\n") {
		if i >= 32 {
			break
		}
		switch (kinds >> (2 * (i % 32))) & 3 {
		case 0:
			n := 0
			if len(content) > 0 {
				n = int(content[0]) % (len(content))
			}
			data := append([]byte(nil), content[:n]...)
			content = content[n:]
			entries = append(entries, Entry{Name: name, Type: TypeFile, Mode: fs.FileMode(kinds >> 40 & 0o777), Size: int64(len(data)),
				Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
			want[name] = data
			lastFile = name
		case 1:
			entries = append(entries, Entry{Name: name, Type: TypeDir})
		case 2:
			entries = append(entries, Entry{Name: name, Type: TypeSymlink, Linkname: "t/" + name})
		case 3:
			entries = append(entries, Entry{Name: name, Type: TypeHardlink, Linkname: lastFile})
		}
	}
	return entries, want
}

func FuzzWriteRead(f *testing.F) {
	f.Add("bin/a\nbin\nlib/x.so\nlib/y", uint64(0b00_10_01_00), []byte("\x05hello\x03abc"))
	f.Add("a\nb\na/c", uint64(0b11_00_00), []byte("\x02xyz"))
	f.Add(strings.Repeat("n", 200)+"\nd/"+strings.Repeat("m", 150), uint64(0), []byte("\x01\x01"))
	f.Add("../x\n/abs\na//b", uint64(0), []byte{})
	f.Fuzz(func(t *testing.T, names string, kinds uint64, content []byte) {
		entries, want := fuzzEntries(names, kinds, content)
		var buf bytes.Buffer
		if err := WriteEntries(&buf, entries, Options{}); err != nil {
			return // refused input is fine; a panic is not
		}
		var again bytes.Buffer
		if err := WriteEntries(&again, entries, Options{}); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
			t.Fatalf("second write differs or fails: %v", err)
		}
		tr := tar.NewReader(&buf)
		seen := map[string]bool{}
		prev := ""
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			name := strings.TrimSuffix(h.Name, "/")
			if prev != "" && ComparePaths(prev, name) >= 0 {
				t.Fatalf("order: %q before %q", prev, name)
			}
			prev = name
			seen[name] = true
			if h.Uid != 0 || h.Gid != 0 || h.ModTime.Unix() != 0 {
				t.Fatalf("%s: owner/mtime not normalised", name)
			}
			switch h.Typeflag {
			case tar.TypeReg:
				got, err := io.ReadAll(tr)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want[name]) {
					t.Fatalf("%s: content %q, want %q", name, got, want[name])
				}
				if h.Mode != 0o644 && h.Mode != 0o755 {
					t.Fatalf("%s: mode %o", name, h.Mode)
				}
			case tar.TypeDir:
				if h.Mode != 0o755 {
					t.Fatalf("%s: dir mode %o", name, h.Mode)
				}
			case tar.TypeLink:
				if !seen[h.Linkname] {
					t.Fatalf("%s: hard link to %q before it", name, h.Linkname)
				}
			}
		}
		for _, e := range entries {
			if !seen[e.Name] {
				t.Fatalf("%s missing from archive", e.Name)
			}
		}
	})
}

func FuzzExtract(f *testing.F) {
	src := f.TempDir()
	writeTree(f, src, sampleOrder(false), sampleTree)
	for _, c := range []Compression{None, Gzip, Zstd} {
		var buf bytes.Buffer
		cw, _ := Compress(&buf, c)
		if err := WriteDir(cw, src, Options{}); err != nil {
			f.Fatal(err)
		}
		cw.Close()
		f.Add(buf.Bytes())
	}
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dst := filepath.Join(parent, "out")
		err := Extract(bytes.NewReader(data), dst, ExtractOptions{MaxBytes: 1 << 20, MaxEntries: 1000})
		ents, _ := os.ReadDir(parent)
		if err != nil {
			if len(ents) != 0 {
				t.Fatalf("failed extract left %v", ents)
			}
			return
		}
		// Everything extracted stays inside dst: no symlink resolves out.
		filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			if d.Type()&fs.ModeSymlink != 0 {
				target, _ := os.Readlink(p)
				if filepath.IsAbs(target) {
					t.Fatalf("%s: absolute symlink %q", p, target)
				}
				rel, _ := filepath.Rel(dst, filepath.Join(filepath.Dir(p), target))
				if rel == ".." || strings.HasPrefix(rel, "../") {
					t.Fatalf("%s: symlink %q escapes", p, target)
				}
			}
			if info, _ := d.Info(); info != nil && d.Type()&fs.ModeSymlink == 0 && info.Mode()&(fs.ModeSetuid|fs.ModeSetgid|0o002) != 0 {
				t.Fatalf("%s: mode %v", p, info.Mode())
			}
			return nil
		})
	})
}
