// Package archive writes deterministic tar archives and reads them back
// safely.
//
// The same tree of files always gives the same bytes: entries are sorted
// by path (component by component in byte order, so a directory comes
// right before its contents), every mtime is one fixed instant (the Unix
// epoch unless the caller passes SOURCE_DATE_EPOCH), owners are uid/gid 0
// without names, modes are normalised (0755 for directories and for files
// with any execute bit, 0644 for other files), symlinks are kept as
// symlinks and hard links as tar hard-link entries, so identical files are
// stored once. Headers use the PAX format, which only adds extended records
// when a field does not fit the USTAR header, and so is itself a function
// of the entries.
//
// Compression is chosen by the output name: .tar, .tar.gz (or .tgz) and
// .tar.zst (or .tzst). Both compressors come from a pinned version of
// github.com/klauspost/compress with a fixed level and a single encoder
// goroutine; the gzip header carries no name, no mtime and a fixed OS byte.
//
// Create and CreateEntries write atomically: the archive goes to a temp
// file next to the destination and is renamed into place only when it is
// complete.
//
// Extract is the matching reader: it accepts plain, gzip or zstd tar
// streams, refuses names that leave the destination, links that point out
// of it and special files, and builds the tree in a temp directory that is
// renamed into place only on success.
package archive

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"archive/tar"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// Compression is the codec wrapped around the tar stream.
type Compression int

const (
	// None writes a plain tar.
	None Compression = iota
	// Gzip writes a gzip member with no name, no mtime and OS byte 255.
	Gzip
	// Zstd writes one zstd frame at a fixed level with one encoder goroutine.
	Zstd
)

func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// CompressionFor picks the compression from an output file name. It fails
// for names that are not a tar archive.
func CompressionFor(name string) (Compression, error) {
	base := strings.ToLower(filepath.Base(name))
	switch {
	case strings.HasSuffix(base, ".tar"):
		return None, nil
	case strings.HasSuffix(base, ".tar.gz"), strings.HasSuffix(base, ".tgz"):
		return Gzip, nil
	case strings.HasSuffix(base, ".tar.zst"), strings.HasSuffix(base, ".tzst"):
		return Zstd, nil
	}
	return None, fmt.Errorf("%s: not a tar archive name; use .tar, .tar.gz or .tar.zst", name)
}

// IsArchiveName reports whether name ends in one of the suffixes that
// CompressionFor accepts.
func IsArchiveName(name string) bool {
	_, err := CompressionFor(name)
	return err == nil
}

// Type is the kind of an archive entry.
type Type int

const (
	// TypeFile is a regular file.
	TypeFile Type = iota
	// TypeDir is a directory.
	TypeDir
	// TypeSymlink is a symbolic link; Linkname is its target, stored as is.
	TypeSymlink
	// TypeHardlink is another name for a regular file stored earlier in the
	// archive; Linkname is that file's entry name.
	TypeHardlink
)

func (t Type) String() string {
	switch t {
	case TypeFile:
		return "file"
	case TypeDir:
		return "dir"
	case TypeSymlink:
		return "symlink"
	case TypeHardlink:
		return "hardlink"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Entry is one member of an archive.
type Entry struct {
	// Name is the slash-separated path relative to the archive root, clean,
	// without a leading slash or a trailing slash.
	Name string
	Type Type
	// Mode carries the permission bits; only whether any execute bit is set
	// matters, because modes are normalised on write.
	Mode fs.FileMode
	// Linkname is the target of a symlink or the Name of the regular file
	// that a hard link shares content with.
	Linkname string
	// Size is the content length of a regular file.
	Size int64
	// Open returns the content of a regular file; it must yield exactly
	// Size bytes.
	Open func() (io.ReadCloser, error)
}

// Options controls how an archive is written.
type Options struct {
	// MTime is stamped on every entry. The zero value means the Unix epoch.
	// Callers that honour SOURCE_DATE_EPOCH parse it and pass it here.
	MTime time.Time
	// Prefix, when not empty, is a directory that every entry is put under,
	// e.g. "curl" gives curl/bin/curl.
	Prefix string
	// Progress, when set, is called after each regular file with the number
	// of content bytes written so far and the total.
	Progress func(done, total int64)
}

// NormalMode is the mode an entry of type t with permission bits m gets in
// the archive.
func NormalMode(t Type, m fs.FileMode) fs.FileMode {
	switch t {
	case TypeDir:
		return 0o755
	case TypeSymlink:
		return 0o777
	}
	if m&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// ComparePaths orders slash-separated paths component by component, each
// compared as bytes. A directory therefore sorts right before everything
// inside it.
func ComparePaths(a, b string) int {
	for {
		ai := strings.IndexByte(a, '/')
		bi := strings.IndexByte(b, '/')
		ac, bc := a, b
		if ai >= 0 {
			ac = a[:ai]
		}
		if bi >= 0 {
			bc = b[:bi]
		}
		if c := strings.Compare(ac, bc); c != 0 {
			return c
		}
		switch {
		case ai < 0 && bi < 0:
			return 0
		case ai < 0:
			return -1
		case bi < 0:
			return 1
		}
		a, b = a[ai+1:], b[bi+1:]
	}
}

// ValidName reports whether name is an acceptable entry name: relative,
// clean, not empty, no "..", no NUL.
func ValidName(name string) error {
	switch {
	case name == "" || name == ".":
		return errors.New("empty name")
	case strings.IndexByte(name, 0) >= 0:
		return errors.New("name contains NUL")
	case strings.HasPrefix(name, "/"):
		return errors.New("absolute name")
	case path.Clean(name) != name:
		return errors.New("name is not clean (has //, ./, ../ or a trailing slash)")
	case name == ".." || strings.HasPrefix(name, "../"):
		return errors.New("name leaves the archive root")
	}
	return nil
}

// normalise validates entries, adds missing parent directories and returns
// them in archive order. It never modifies the caller's slice.
func normalise(entries []Entry) ([]Entry, error) {
	byName := make(map[string]int, len(entries))
	out := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if err := ValidName(e.Name); err != nil {
			return nil, fmt.Errorf("%q: %w", e.Name, err)
		}
		if _, dup := byName[e.Name]; dup {
			return nil, fmt.Errorf("%s: listed twice", e.Name)
		}
		switch e.Type {
		case TypeFile:
			if e.Size < 0 {
				return nil, fmt.Errorf("%s: negative size %d", e.Name, e.Size)
			}
			if e.Open == nil && e.Size != 0 {
				return nil, fmt.Errorf("%s: regular file without content", e.Name)
			}
		case TypeDir:
		case TypeSymlink:
			if e.Linkname == "" || strings.IndexByte(e.Linkname, 0) >= 0 {
				return nil, fmt.Errorf("%s: symlink with empty or NUL target", e.Name)
			}
		case TypeHardlink:
			if err := ValidName(e.Linkname); err != nil {
				return nil, fmt.Errorf("%s: hard link target %q: %w", e.Name, e.Linkname, err)
			}
		default:
			return nil, fmt.Errorf("%s: unknown entry type %v", e.Name, e.Type)
		}
		byName[e.Name] = len(out)
		out = append(out, e)
	}
	// Implicit parents.
	for i := 0; i < len(out); i++ {
		for dir := path.Dir(out[i].Name); dir != "."; dir = path.Dir(dir) {
			j, ok := byName[dir]
			if ok {
				if out[j].Type != TypeDir {
					return nil, fmt.Errorf("%s: parent %s is a %v, not a directory", out[i].Name, dir, out[j].Type)
				}
				break
			}
			byName[dir] = len(out)
			out = append(out, Entry{Name: dir, Type: TypeDir, Mode: 0o755})
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return ComparePaths(a.Name, b.Name) })
	// Hard links must point at a regular file that sorts earlier.
	pos := make(map[string]int, len(out))
	for i, e := range out {
		pos[e.Name] = i
	}
	for i, e := range out {
		if e.Type != TypeHardlink {
			continue
		}
		j, ok := pos[e.Linkname]
		if !ok {
			return nil, fmt.Errorf("%s: hard link target %s is not in the archive", e.Name, e.Linkname)
		}
		if out[j].Type != TypeFile {
			return nil, fmt.Errorf("%s: hard link target %s is a %v, not a regular file", e.Name, e.Linkname, out[j].Type)
		}
		if j > i {
			return nil, fmt.Errorf("%s: hard link target %s sorts after the link; link the other way round", e.Name, e.Linkname)
		}
		out[i].Mode = out[j].Mode
	}
	return out, nil
}

// WriteEntries writes entries as a plain tar stream to w.
func WriteEntries(w io.Writer, entries []Entry, opts Options) error {
	sorted, err := normalise(entries)
	if err != nil {
		return err
	}
	prefix := ""
	if opts.Prefix != "" {
		if err := ValidName(opts.Prefix); err != nil {
			return fmt.Errorf("prefix %q: %w", opts.Prefix, err)
		}
		prefix = opts.Prefix + "/"
	}
	mtime := time.Unix(0, 0).UTC()
	if !opts.MTime.IsZero() {
		mtime = opts.MTime.UTC().Truncate(time.Second)
	}
	var total, done int64
	for _, e := range sorted {
		if e.Type == TypeFile {
			total += e.Size
		}
	}
	tw := tar.NewWriter(w)
	hdr := func(e Entry) *tar.Header {
		h := &tar.Header{
			Name:    prefix + e.Name,
			Mode:    int64(NormalMode(e.Type, e.Mode)),
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		switch e.Type {
		case TypeDir:
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		case TypeFile:
			h.Typeflag = tar.TypeReg
			h.Size = e.Size
		case TypeSymlink:
			h.Typeflag = tar.TypeSymlink
			h.Linkname = e.Linkname
		case TypeHardlink:
			h.Typeflag = tar.TypeLink
			h.Linkname = prefix + e.Linkname
		}
		return h
	}
	if prefix != "" {
		h := hdr(Entry{Type: TypeDir})
		h.Name = prefix
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %w", opts.Prefix, err)
		}
	}
	for _, e := range sorted {
		if err := tw.WriteHeader(hdr(e)); err != nil {
			return fmt.Errorf("%s: write tar header: %w", e.Name, err)
		}
		if e.Type != TypeFile || e.Size == 0 {
			continue
		}
		if err := copyContent(tw, e); err != nil {
			return err
		}
		done += e.Size
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finish tar: %w", err)
	}
	return nil
}

func copyContent(tw *tar.Writer, e Entry) error {
	rc, err := e.Open()
	if err != nil {
		return fmt.Errorf("%s: open: %w", e.Name, err)
	}
	defer rc.Close()
	n, err := io.Copy(tw, io.LimitReader(rc, e.Size))
	if err != nil {
		return fmt.Errorf("%s: copy content: %w", e.Name, err)
	}
	if n != e.Size {
		return fmt.Errorf("%s: content is %d bytes, expected %d (file changed while archiving?)", e.Name, n, e.Size)
	}
	// A file that grew while we read it would make the archive lie.
	var probe [1]byte
	if m, _ := rc.Read(probe[:]); m != 0 {
		return fmt.Errorf("%s: content is longer than %d bytes (file changed while archiving?)", e.Name, e.Size)
	}
	return nil
}

// Compress wraps w in the encoder for c. Closing the result flushes the
// encoder but does not close w.
func Compress(w io.Writer, c Compression) (io.WriteCloser, error) {
	switch c {
	case None:
		return nopCloser{w}, nil
	case Gzip:
		// Deflated in parallel, in fixed 1 MiB segments: the bytes are
		// the same whatever the number of cores (pgzip.go). Header fields
		// left zero: no name, no comment, mtime 0; OS byte 255 (unknown)
		// whatever the host.
		return newParallelGzip(w, 6, runtime.GOMAXPROCS(0))
	case Zstd:
		return zstd.NewWriter(w,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderCRC(true),
		)
	}
	return nil, fmt.Errorf("unknown compression %v", c)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// WriteDir writes the tree under dir as a plain tar stream to w. dir itself
// is the archive root and has no entry of its own (unless opts.Prefix is set).
func WriteDir(w io.Writer, dir string, opts Options) error {
	entries, err := Scan(dir)
	if err != nil {
		return err
	}
	return WriteEntries(w, entries, opts)
}

// Create writes the tree under dir to the archive file path, compressed as
// its name says, atomically.
func Create(path, dir string, opts Options) error {
	entries, err := Scan(dir)
	if err != nil {
		return err
	}
	return CreateEntries(path, entries, opts)
}

// CreatePending is Create up to the rename: the archive waits under a temp
// name for Commit or Abort, so that it can appear together with another
// output or not at all.
func CreatePending(path, dir string, opts Options) (*fsutil.Pending, error) {
	entries, err := Scan(dir)
	if err != nil {
		return nil, err
	}
	return stageEntries(path, entries, opts)
}

// CreateEntries writes entries to the archive file path, compressed as its
// name says, atomically: on any error nothing at path changes.
func CreateEntries(path string, entries []Entry, opts Options) error {
	p, err := stageEntries(path, entries, opts)
	if err != nil {
		return err
	}
	return p.Commit()
}

func stageEntries(path string, entries []Entry, opts Options) (*fsutil.Pending, error) {
	c, err := CompressionFor(path)
	if err != nil {
		return nil, err
	}
	return fsutil.StageFile(path, 0o644, nil, func(f io.Writer) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		cw, err := Compress(bw, c)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := WriteEntries(cw, entries, opts); err != nil {
			cw.Close() // ends the encoder's workers; the file is dropped
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := cw.Close(); err != nil {
			return fmt.Errorf("%s: finish %v stream: %w", path, c, err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("%s: write: %w", path, err)
		}
		return nil
	})
}

// Scan walks the tree under dir (without following symlinks) and returns
// one entry per file, directory and symlink, dir itself excluded. Regular
// files that share an inode become one TypeFile entry (the first name in
// archive order) and TypeHardlink entries for the others. Device nodes,
// FIFOs and sockets are refused.
func Scan(dir string) ([]Entry, error) {
	type inode struct{ dev, ino uint64 }
	var entries []Entry
	inodes := map[inode][]int{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return &fs.PathError{Op: "lstat", Path: p, Err: err}
		}
		mode := fs.FileMode(st.Mode & 0o7777)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			entries = append(entries, Entry{Name: name, Type: TypeDir, Mode: mode})
		case unix.S_IFLNK:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			entries = append(entries, Entry{Name: name, Type: TypeSymlink, Linkname: target, Mode: mode})
		case unix.S_IFREG:
			fp := p
			e := Entry{Name: name, Type: TypeFile, Mode: mode, Size: st.Size,
				Open: func() (io.ReadCloser, error) { return os.Open(fp) }}
			if st.Nlink > 1 {
				k := inode{uint64(st.Dev), st.Ino}
				inodes[k] = append(inodes[k], len(entries))
			}
			entries = append(entries, e)
		default:
			return fmt.Errorf("%s: unsupported file type (device, FIFO or socket); remove it from the tree", p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", dir, err)
	}
	for _, idx := range inodes {
		if len(idx) < 2 {
			continue
		}
		first := idx[0]
		for _, i := range idx[1:] {
			if ComparePaths(entries[i].Name, entries[first].Name) < 0 {
				first = i
			}
		}
		for _, i := range idx {
			if i == first {
				continue
			}
			entries[i] = Entry{Name: entries[i].Name, Type: TypeHardlink, Linkname: entries[first].Name, Mode: entries[first].Mode}
		}
	}
	return entries, nil
}
