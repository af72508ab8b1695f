package elf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
)

// Patched is the result of patching a file, computed over a mapping of
// it: only the headers and tables a patch looks at are read, and the
// output is described as the input's first bytes with a few ranges
// changed, then a new tail. WriteTo writes it without passing the
// unchanged bytes through this process; Hash reads them once from the
// mapping. Close releases the mappings.
type Patched struct {
	path   string
	src    *os.File
	st     os.FileInfo
	in     *mapping
	priv   *mapping
	prefix []byte // the output's first bytes: in's, changed in edits
	tail   []byte
	edits  []span
	change bool
	small  bool // read into memory, not mapped
}

// smallFile is the size up to which a file is read rather than mapped
// and written whole rather than copied in the kernel: below it, the page
// faults and the munmap of a mapping cost more than the copy
// (tests/bench/patch.sh).
const smallFile = 1 << 20

// OpenPatched maps the ELF file at path and works out what applying opts
// changes. Errors name path. The input may change under the mapping (a
// concurrent writer): reading past a shrunk end is an error, never a
// crash.
func OpenPatched(path string, opts PatchOptions) (pt *Patched, err error) {
	fd, st, err := openInput(path)
	if err != nil {
		return nil, err
	}
	pt = &Patched{path: path, src: fd, st: st}
	defer func() {
		if err != nil {
			pt.Close()
			pt = nil
		}
	}()
	if st.Size() <= smallFile {
		// A small file costs less read than mapped: no page faults, no
		// munmap (a TLB shootdown on every thread).
		data := getBuf(int(st.Size()), int(st.Size()))
		n, err := io.ReadFull(fd, data)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return pt, fmt.Errorf("%s: read: %w", path, err)
		}
		pt.in, pt.small = &mapping{data: data[:n]}, true
	} else if pt.in, err = mapInput(fd, st.Size()); err != nil {
		return pt, fmt.Errorf("%s: %w", path, err)
	}
	err = pt.guard(func() error {
		in := pt.in.data
		if err := opts.validate(); err != nil {
			return err
		}
		f, err := Parse(bytes.NewReader(in), int64(len(in)))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		p, err := newPatch(f, in, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		pt.prefix = in
		if p.interpChange || p.pathChange || p.auditChange {
			p.alloc = func(base, extra uint64) []byte {
				if pt.small {
					out := getBuf(int(base), int(base+extra))
					copy(out, in)
					return out
				}
				m, err := mapPrivate(fd, base)
				if err != nil {
					// A file system that cannot map: a copy.
					return append([]byte(nil), in[:base]...)
				}
				pt.priv = m
				return m.data
			}
			if pt.prefix, pt.tail, err = p.build(); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if err := p.check(pt.ReaderAt(), pt.Size()); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		for _, sp := range p.dirtySpans(uint64(len(pt.prefix))) {
			if !bytes.Equal(pt.prefix[sp.lo:sp.hi], in[sp.lo:sp.hi]) {
				pt.edits = append(pt.edits, sp)
			}
		}
		base := uint64(len(pt.prefix))
		pt.change = len(pt.edits) > 0 || base+uint64(len(pt.tail)) != uint64(len(in)) || !bytes.Equal(pt.tail, in[base:])
		return nil
	})
	return pt, err
}

// guard runs fn with memory faults (a mapped file that shrank) turned
// into an error naming the file.
func (pt *Patched) guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			err = fmt.Errorf("%s: changed while being read (%v); patch it when nothing else is writing it", pt.path, r)
		}
	}()
	return fn()
}

// Changed reports whether the output differs from the input.
func (pt *Patched) Changed() bool { return pt.change }

// Stat returns the input's stat, taken on the descriptor that was mapped.
func (pt *Patched) Stat() os.FileInfo { return pt.st }

// Size is the output's size.
func (pt *Patched) Size() int64 { return int64(len(pt.prefix) + len(pt.tail)) }

// ReaderAt reads the output.
func (pt *Patched) ReaderAt() io.ReaderAt { return joined{pt.prefix, pt.tail} }

// Hash writes the output's bytes to h (a hash: its Write never fails).
func (pt *Patched) Hash(h io.Writer) error {
	return pt.guard(func() error {
		h.Write(pt.prefix)
		h.Write(pt.tail)
		return nil
	})
}

// WriteTo makes the empty file dst the output: a clone of the input (or a
// copy inside the kernel) with the changed ranges and the tail written
// over it.
func (pt *Patched) WriteTo(dst *os.File) error {
	base := int64(len(pt.prefix))
	if pt.small {
		// One write of the whole output.
		out := pt.prefix
		if len(pt.tail) > 0 {
			out = append(pt.prefix, pt.tail...)
		}
		_, err := dst.Write(out)
		return err
	}
	if err := copyPrefix(dst, pt.src, base); err != nil {
		return fmt.Errorf("%s: copy %s: %w", dst.Name(), pt.path, err)
	}
	return pt.guard(func() error {
		for _, sp := range pt.edits {
			if _, err := dst.WriteAt(pt.prefix[sp.lo:sp.hi], int64(sp.lo)); err != nil {
				return err
			}
		}
		if len(pt.tail) > 0 {
			if _, err := dst.WriteAt(pt.tail, base); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close releases the mappings and the input. The Patched must not be
// used after it: a small file's buffers go to the next file.
func (pt *Patched) Close() error {
	if pt.small {
		if len(pt.prefix) > 0 && len(pt.in.data) > 0 && &pt.prefix[0] != &pt.in.data[0] {
			putBuf(pt.prefix)
		}
		putBuf(pt.in.data)
		pt.prefix, pt.tail, pt.in.data = nil, nil, nil
	}
	pt.priv.close()
	pt.in.close()
	return pt.src.Close()
}

// scratch holds small files' buffers for the next file, so that a run
// patching many files (patch FILE..., a bundle) faults fresh memory in
// once, not per file: the page faults cost more than the copy.
var scratch sync.Pool // of *[]byte

// getBuf returns a zeroed buffer of length n and capacity c.
func getBuf(n, c int) []byte {
	if b, ok := scratch.Get().(*[]byte); ok && cap(*b) >= c {
		buf := (*b)[:c]
		clear(buf)
		return buf[:n]
	}
	return make([]byte, n, c)
}

// putBuf gives b back for getBuf.
func putBuf(b []byte) {
	if cap(b) > 0 && cap(b) <= 2*smallFile {
		scratch.Put(&b)
	}
}
