package elf

import (
	"errors"
	"io"
	"sync"

	"golang.org/x/sys/unix"
)

// blockSize is the unit blockReader reads a file in.
const blockSize = 16 << 10

// blockReader serves the small reads of Parse (a header, a table, a
// string) from whole blocks of a file read once each: parsing costs a few
// reads, not one system call per header. Reads larger than a few blocks
// go straight to the file.
type blockReader struct {
	r      io.ReaderAt
	size   int64
	blocks map[int64][]byte
}

func newBlockReader(r io.ReaderAt, size int64) *blockReader {
	return &blockReader{r: r, size: size, blocks: map[int64][]byte{}}
}

// ReadAt implements io.ReaderAt.
func (b *blockReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if len(p) > 4*blockSize {
		return b.r.ReadAt(p, off)
	}
	n := 0
	for n < len(p) {
		o := off + int64(n)
		if o >= b.size {
			return n, io.EOF
		}
		blk, err := b.block(o / blockSize)
		if err != nil {
			return n, err
		}
		in := int(o % blockSize)
		if in >= len(blk) {
			return n, io.EOF // the file is shorter than it was
		}
		n += copy(p[n:], blk[in:])
	}
	return n, nil
}

// block returns block i, reading it on first use. A block the file ends
// inside is short.
func (b *blockReader) block(i int64) ([]byte, error) {
	if blk, ok := b.blocks[i]; ok {
		return blk, nil
	}
	blk := blockPool.Get().(*[blockSize]byte)[:min(blockSize, b.size-i*blockSize)]
	m, err := b.r.ReadAt(blk, i*blockSize)
	if m < len(blk) {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		blk = blk[:m]
	}
	b.blocks[i] = blk
	return blk, nil
}

// release gives the blocks back for the next file's parse; b must not be
// read again. Parse copies what it keeps.
func (b *blockReader) release() {
	for i, blk := range b.blocks {
		blockPool.Put((*[blockSize]byte)(blk[:blockSize]))
		delete(b.blocks, i)
	}
}

// blockPool recycles blocks: a run parses thousands of files, and fresh
// memory for each (page faults, then the scavenger's madvise) cost more
// than the reads.
var blockPool = sync.Pool{New: func() any { return new([blockSize]byte) }}

// FD reads an open file descriptor with pread(2): a file opened outside
// package os (no poller, no extra fstat) that Parse reads in blocks like
// an *os.File.
type FD int

// ReadAt implements io.ReaderAt.
func (fd FD) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Pread(int(fd), p[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}
