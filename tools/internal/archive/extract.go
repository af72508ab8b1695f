package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// ExtractOptions bounds what Extract accepts.
type ExtractOptions struct {
	// MaxBytes caps the total content size; 0 means no cap.
	MaxBytes int64
	// MaxEntries caps the number of entries; 0 means no cap.
	MaxEntries int
	// AllowEscapingSymlinks keeps symlinks whose target is absolute or
	// climbs out of the tree. By default they are refused, because nothing
	// a bundle holds needs one.
	AllowEscapingSymlinks bool
}

// maxZstdWindow bounds the decoder's memory on hostile input; our own
// encoder uses windows far smaller than this.
const maxZstdWindow = 64 << 20

// Decompress returns a reader of the tar stream inside r, which may be
// plain, gzip or zstd: the format is detected from the first bytes, not
// from a file name. Close the result when done.
func Decompress(r io.Reader) (io.ReadCloser, Compression, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, None, err
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, Gzip, fmt.Errorf("gzip header: %w", err)
		}
		zr.Multistream(false)
		return zr, Gzip, nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(maxZstdWindow),
			zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, Zstd, fmt.Errorf("zstd header: %w", err)
		}
		return zr.IOReadCloser(), Zstd, nil
	}
	return io.NopCloser(br), None, nil
}

// ExtractFile extracts the archive at archivePath into dest, which must not
// exist yet.
func ExtractFile(archivePath, dest string, opts ExtractOptions) error {
	f, _, err := fsutil.OpenInput("", archivePath, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := Extract(f, dest, opts); err != nil {
		return fmt.Errorf("%s: %w", archivePath, err)
	}
	return nil
}

// Extract reads a tar stream (plain, gzip or zstd) and creates its tree at
// dest, which must not exist yet. The tree is built in a temp directory
// next to dest and renamed into place only when every entry was written,
// so a bad archive leaves nothing behind. Names that are absolute or climb
// out with "..", entries below a symlink, hard links to anything but an
// earlier regular file of the same archive, duplicate names and special
// files are refused. Modes are normalised as on write (no setuid, no
// world-writable files).
func Extract(r io.Reader, dest string, opts ExtractOptions) (err error) {
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("%s: already exists; extract into a new path", dest)
	}
	zr, _, err := Decompress(r)
	if err != nil {
		return err
	}
	defer zr.Close()
	parent := filepath.Dir(dest)
	tmp, err := fsutil.MkdirTemp(parent, "."+filepath.Base(dest)+fsutil.TempInfix)
	if err != nil {
		return fmt.Errorf("%s: create temp dir: %w", dest, err)
	}
	defer func() {
		if err != nil {
			fsutil.RemoveTemp(tmp)
		}
		fsutil.ForgetTemp(tmp)
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	x := extractor{root: tmp, opts: opts, kinds: map[string]Type{}}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read tar after %d entries: %w", x.entries, err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return err
		}
	}
	// Drain the compressed stream so trailing garbage or a bad checksum at
	// the end is noticed.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("read archive trailer: %w", err)
	}
	if err := fsutil.RenameNoReplace(tmp, dest); err != nil {
		return err
	}
	return nil
}

type extractor struct {
	root    string
	opts    ExtractOptions
	kinds   map[string]Type
	entries int
	bytes   int64
}

func cleanEntryName(raw string) (string, error) {
	name := strings.TrimSuffix(raw, "/")
	name = strings.TrimPrefix(name, "./")
	if name == "" || name == "." {
		return ".", nil
	}
	if err := ValidName(name); err != nil {
		return "", fmt.Errorf("entry %q: %w", raw, err)
	}
	return name, nil
}

// parentOK makes sure every parent directory of name exists as a real
// directory created by this archive (or implicitly here), never a symlink.
func (x *extractor) parentOK(name string) error {
	dir := path.Dir(name)
	if dir == "." {
		return nil
	}
	var missing []string
	for d := dir; d != "."; d = path.Dir(d) {
		t, ok := x.kinds[d]
		if ok {
			if t != TypeDir {
				return fmt.Errorf("entry %q: parent %s is a %v, not a directory", name, d, t)
			}
			break
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(filepath.Join(x.root, missing[i]), 0o755); err != nil {
			return fmt.Errorf("entry %q: %w", name, err)
		}
		x.kinds[missing[i]] = TypeDir
	}
	return nil
}

func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	x.entries++
	if x.opts.MaxEntries > 0 && x.entries > x.opts.MaxEntries {
		return fmt.Errorf("archive has more than %d entries", x.opts.MaxEntries)
	}
	name, err := cleanEntryName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "." {
		if hdr.Typeflag == tar.TypeDir {
			return nil
		}
		return fmt.Errorf("entry %q: root of the archive is not a directory", hdr.Name)
	}
	if t, dup := x.kinds[name]; dup {
		if t == TypeDir && hdr.Typeflag == tar.TypeDir {
			return nil // a directory named twice is harmless
		}
		return fmt.Errorf("entry %q: listed twice", name)
	}
	if err := x.parentOK(name); err != nil {
		return err
	}
	full := filepath.Join(x.root, name)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(full, 0o755); err != nil {
			return fmt.Errorf("entry %q: %w", name, err)
		}
		x.kinds[name] = TypeDir
	case tar.TypeReg, tar.TypeRegA:
		if hdr.Size < 0 {
			return fmt.Errorf("entry %q: negative size", name)
		}
		x.bytes += hdr.Size
		if x.opts.MaxBytes > 0 && x.bytes > x.opts.MaxBytes {
			return fmt.Errorf("entry %q: archive content exceeds %d bytes", name, x.opts.MaxBytes)
		}
		mode := NormalMode(TypeFile, os.FileMode(hdr.Mode))
		f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, mode)
		if err != nil {
			return fmt.Errorf("entry %q: %w", name, err)
		}
		n, cerr := io.Copy(f, io.LimitReader(r, hdr.Size))
		if err := f.Close(); err != nil && cerr == nil {
			cerr = err
		}
		if cerr != nil {
			return fmt.Errorf("entry %q: %w", name, cerr)
		}
		if n != hdr.Size {
			return fmt.Errorf("entry %q: truncated: %d of %d bytes", name, n, hdr.Size)
		}
		if err := os.Chmod(full, mode); err != nil { // umask may have cut bits
			return err
		}
		x.kinds[name] = TypeFile
	case tar.TypeSymlink:
		if hdr.Linkname == "" {
			return fmt.Errorf("entry %q: symlink with empty target", name)
		}
		if !x.opts.AllowEscapingSymlinks {
			if path.IsAbs(hdr.Linkname) {
				return fmt.Errorf("entry %q: symlink to absolute path %q", name, hdr.Linkname)
			}
			resolved := path.Join(path.Dir(name), hdr.Linkname)
			if resolved == ".." || strings.HasPrefix(resolved, "../") {
				return fmt.Errorf("entry %q: symlink %q leaves the archive root", name, hdr.Linkname)
			}
		}
		if err := os.Symlink(hdr.Linkname, full); err != nil {
			return fmt.Errorf("entry %q: %w", name, err)
		}
		x.kinds[name] = TypeSymlink
	case tar.TypeLink:
		target, err := cleanEntryName(hdr.Linkname)
		if err != nil || target == "." {
			return fmt.Errorf("entry %q: bad hard link target %q", name, hdr.Linkname)
		}
		if t, ok := x.kinds[target]; !ok || t != TypeFile {
			return fmt.Errorf("entry %q: hard link target %q is not an earlier regular file of this archive", name, target)
		}
		if err := os.Link(filepath.Join(x.root, target), full); err != nil {
			return fmt.Errorf("entry %q: %w", name, err)
		}
		x.kinds[name] = TypeFile
	default:
		return fmt.Errorf("entry %q: unsupported tar entry type %q (devices, FIFOs and sparse files are refused)", name, hdr.Typeflag)
	}
	return nil
}
