// Package debtest builds small .deb files for tests: an ar container with
// debian-binary, control.tar.gz and a data.tar compressed as asked, holding
// exactly the entries a test gives, including hostile ones that dpkg-deb
// would never write ("../" names, absolute paths, device nodes).
package debtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Entry is one member of the data tarball.
type Entry struct {
	Name     string
	Type     byte // tar.TypeReg, TypeDir, TypeSymlink, TypeLink, ...
	Mode     int64
	Linkname string
	Body     string
}

// File, Dir and Symlink are shorthands for the common entry kinds.
func File(name, body string) Entry {
	return Entry{Name: name, Type: tar.TypeReg, Mode: 0o644, Body: body}
}
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir, Mode: 0o755} }
func Symlink(name, to string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Mode: 0o777, Linkname: to}
}

// Tar writes entries as an uncompressed tar stream.
func Tar(entries []Entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Linkname: e.Linkname, ModTime: time.Unix(0, 0), Format: tar.FormatGNU}
		if e.Type == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(fmt.Sprintf("debtest: %s: %v", e.Name, err))
		}
		if e.Type == tar.TypeReg {
			tw.Write([]byte(e.Body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// Compress compresses data with the codec named by ext: "", "gz", "xz" or
// "zst".
func Compress(data []byte, ext string) []byte {
	var buf bytes.Buffer
	switch ext {
	case "":
		return data
	case "gz":
		w := gzip.NewWriter(&buf)
		w.Write(data)
		w.Close()
	case "xz":
		w, err := xz.NewWriter(&buf)
		if err != nil {
			panic(err)
		}
		w.Write(data)
		w.Close()
	case "zst":
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			panic(err)
		}
		w.Write(data)
		w.Close()
	default:
		panic("debtest: unknown compression " + ext)
	}
	return buf.Bytes()
}

// Member is one ar member.
type Member struct {
	Name string
	Data []byte
}

// Ar writes an ar archive.
func Ar(members []Member) []byte {
	var buf bytes.Buffer
	buf.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&buf, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.Name, 0, 0, 0, "100644", len(m.Data))
		buf.Write(m.Data)
		if len(m.Data)%2 == 1 {
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes()
}

// Deb builds a .deb for package name with the given data entries,
// data.tar compressed with ext ("", "gz", "xz" or "zst").
func Deb(name, version string, data []Entry, ext string) []byte {
	control := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: Test <test@example.invalid>\nDescription: test package\n", name, version)
	ctl := Compress(Tar([]Entry{Dir("./"), File("./control", control)}), "gz")
	dataName := "data.tar"
	if ext != "" {
		dataName += "." + ext
	}
	return Ar([]Member{
		M("debian-binary", []byte("2.0\n")),
		M("control.tar.gz", ctl),
		{dataName, Compress(Tar(data), ext)},
	})
}

// M is a shorthand for Member{Name: name, Data: data}.
func M(name string, data []byte) Member { return Member{Name: name, Data: data} }
