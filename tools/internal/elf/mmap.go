package elf

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// mapping is a memory mapping of a file, or a copy of it where the file
// system cannot map.
type mapping struct {
	data   []byte
	mapped bool
}

// mapInput maps the size bytes of f read-only.
func mapInput(f *os.File, size int64) (*mapping, error) {
	if size == 0 {
		return &mapping{}, nil
	}
	if int64(int(size)) != size {
		return nil, errors.New("too large to map")
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err == nil {
		return &mapping{data: data, mapped: true}, nil
	}
	// A file system without mmap: read it.
	data = make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, err
	}
	return &mapping{data: data}, nil
}

// mapPrivate maps the first n bytes of f copy-on-write: writes change this
// process's pages, never the file, and only the pages written are copied.
func mapPrivate(f *os.File, n uint64) (*mapping, error) {
	if n == 0 || uint64(int(n)) != n {
		return nil, errors.New("cannot map")
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		return nil, err
	}
	return &mapping{data: data, mapped: true}, nil
}

func (m *mapping) close() {
	if m != nil && m.mapped {
		unix.Munmap(m.data)
		m.data, m.mapped = nil, false
	}
}

// copyPrefix makes dst's content the first n bytes of src: a clone of src
// cut to n where the file system shares extents (btrfs, XFS, bcachefs),
// else a copy inside the kernel (copy_file_range, splice).
func copyPrefix(dst, src *os.File, n int64) error {
	if unix.IoctlFileClone(int(dst.Fd()), int(src.Fd())) == nil {
		return dst.Truncate(n)
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// *os.File's ReadFrom of a LimitedReader over an *os.File uses
	// copy_file_range, falling back to splice or a plain copy.
	got, err := dst.ReadFrom(io.LimitReader(src, n))
	if err != nil {
		return err
	}
	if got != n {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// joined reads two byte slices as one.
type joined [2][]byte

func (j joined) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for _, b := range j {
		if off >= int64(len(b)) {
			off -= int64(len(b))
			continue
		}
		c := copy(p[n:], b[off:])
		n += c
		off = 0
		if n == len(p) {
			return n, nil
		}
	}
	return n, io.EOF
}
