package archive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// gzipBlock is how much input each deflate segment of a parallel gzip
// stream covers. The output depends on it, so it is fixed: changing it
// changes every .tar.gz this tool writes.
const gzipBlock = 1 << 20

// gzipDict is deflate's window: each segment starts with the previous
// segment's last gzipDict bytes as its dictionary, so matches reach back
// across a segment boundary as they would in one stream.
const gzipDict = 32 << 10

// parallelGzip is a gzip writer that deflates gzipBlock-sized segments of
// its input on several goroutines. Each segment is deflated by a fresh
// encoder primed with the previous segment's tail and ended by a sync
// flush (the last by the final block), and the segments are written in
// order: one valid deflate stream. The bytes depend only on the input and
// the level, never on the number of workers or on how the input was split
// into Write calls, so outputs stay deterministic across machines.
type parallelGzip struct {
	w     io.Writer
	level int
	crc   uint32
	size  uint32 // input length mod 2^32, for the trailer

	buf  []byte // input of the segment being filled
	dict []byte // the last gzipDict bytes before buf

	slots   chan struct{}  // bounds the segments in flight
	pending chan *segment  // segments in input order, for the writer
	mu      sync.Mutex     // guards err
	err     error          // the first error, sticky
	wg      sync.WaitGroup // the writer goroutine
	closed  bool
}

// segment is one deflated piece of the stream.
type segment struct {
	out   bytes.Buffer
	err   error
	ready chan struct{}
}

var segmentPool = sync.Pool{New: func() any { return new(segment) }}

// newParallelGzip returns a gzip writer of level to w using up to workers
// goroutines (at least 1). Its header names no file, has mtime 0 and OS
// 255 (unknown), as compress/gzip's does.
func newParallelGzip(w io.Writer, level, workers int) (*parallelGzip, error) {
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		return nil, errors.New("gzip: invalid compression level")
	}
	if workers < 1 {
		workers = 1
	}
	z := &parallelGzip{
		w:       w,
		level:   level,
		buf:     getBuf(&inputPool, gzipBlock),
		slots:   make(chan struct{}, workers),
		pending: make(chan *segment, 2*workers),
	}
	xfl := byte(0)
	switch level {
	case flate.BestCompression:
		xfl = 2
	case flate.BestSpeed:
		xfl = 4
	}
	header := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255}
	if _, err := w.Write(header); err != nil {
		return nil, err
	}
	z.wg.Add(1)
	go z.writeSegments()
	return z, nil
}

// writeSegments writes the segments to w in order as they finish.
func (z *parallelGzip) writeSegments() {
	defer z.wg.Done()
	for s := range z.pending {
		<-s.ready
		err := s.err
		if err == nil && z.firstErr() == nil {
			_, err = z.w.Write(s.out.Bytes())
		}
		if err != nil {
			z.setErr(err)
		}
		s.out.Reset()
		s.err = nil
		segmentPool.Put(s)
	}
}

func (z *parallelGzip) firstErr() error {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.err
}

func (z *parallelGzip) setErr(err error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.err == nil {
		z.err = err
	}
}

// Write buffers p, starting a segment's compression each time gzipBlock
// bytes are buffered.
func (z *parallelGzip) Write(p []byte) (int, error) {
	if z.closed {
		return 0, errors.New("gzip: write after close")
	}
	if err := z.firstErr(); err != nil {
		return 0, err
	}
	n := len(p)
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.size += uint32(n)
	for len(p) > 0 {
		m := copy(z.buf[len(z.buf):cap(z.buf)], p)
		z.buf = z.buf[:len(z.buf)+m]
		p = p[m:]
		if len(z.buf) == cap(z.buf) {
			z.start(false)
		}
	}
	return n, nil
}

// start hands the buffered input to a worker as the next segment (the
// final one when last) and begins a new buffer.
func (z *parallelGzip) start(last bool) {
	data, dict := z.buf, z.dict
	s := segmentPool.Get().(*segment)
	s.ready = make(chan struct{})
	z.slots <- struct{}{}
	z.pending <- s
	if !last {
		// Every segment but the last is a full gzipBlock, so the next
		// one's dictionary is this one's tail, copied: the buffers go back
		// to their pools when their own segment is done.
		z.dict = append(getBuf(&dictPool, gzipDict), data[len(data)-gzipDict:]...)
		z.buf = getBuf(&inputPool, gzipBlock)
	}
	go func() {
		defer func() { <-z.slots }()
		defer close(s.ready)
		defer putBuf(&inputPool, data)
		if dict != nil {
			defer putBuf(&dictPool, dict)
		}
		fw := getWriter(z.level)
		fw.ResetDict(&s.out, dict)
		_, err := fw.Write(data)
		if err == nil {
			if last {
				err = fw.Close()
			} else {
				err = fw.Flush()
			}
		}
		putWriter(z.level, fw)
		s.err = err
	}()
}

// The buffers and encoders of finished segments, for the next ones: a
// fresh 1 MiB buffer costs its page faults, a fresh encoder its tables.
var (
	inputPool, dictPool sync.Pool
	writerPools         [flate.BestCompression - flate.HuffmanOnly + 1]sync.Pool
)

// getBuf returns an empty buffer of capacity size from pool.
func getBuf(pool *sync.Pool, size int) []byte {
	if b, ok := pool.Get().(*[]byte); ok && cap(*b) == size {
		return (*b)[:0]
	}
	return make([]byte, 0, size)
}

func putBuf(pool *sync.Pool, b []byte) { pool.Put(&b) }

// getWriter returns a deflate encoder of level; the caller resets it.
func getWriter(level int) *flate.Writer {
	if w, ok := writerPools[level-flate.HuffmanOnly].Get().(*flate.Writer); ok {
		return w
	}
	w, err := flate.NewWriter(io.Discard, level)
	if err != nil {
		panic(err) // the level was checked by newParallelGzip
	}
	return w
}

func putWriter(level int, w *flate.Writer) { writerPools[level-flate.HuffmanOnly].Put(w) }

// Close compresses what is buffered as the final segment, waits for every
// segment to be written and writes the trailer. It does not close the
// underlying writer. It must be called, after an error too: it is what
// ends the writer's goroutines.
func (z *parallelGzip) Close() error {
	if z.closed {
		return z.firstErr()
	}
	z.closed = true
	z.start(true)
	close(z.pending)
	z.wg.Wait()
	if err := z.firstErr(); err != nil {
		return err
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[0:], z.crc)
	binary.LittleEndian.PutUint32(trailer[4:], z.size)
	if _, err := z.w.Write(trailer[:]); err != nil {
		z.setErr(err)
		return err
	}
	return nil
}
