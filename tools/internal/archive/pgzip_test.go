package archive

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"
)

// pgzipBytes compresses data with the parallel writer, writing it in
// chunks of chunk bytes (all at once when chunk <= 0).
func pgzipBytes(t testing.TB, data []byte, level, workers, chunk int) []byte {
	t.Helper()
	var out bytes.Buffer
	z, err := newParallelGzip(&out, level, workers)
	if err != nil {
		t.Fatal(err)
	}
	if chunk <= 0 {
		chunk = len(data) + 1
	}
	for p := data; len(p) > 0; {
		n := min(chunk, len(p))
		if _, err := z.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// gunzipStd decodes with the standard library's reader, which checks the
// CRC and the length in the trailer.
func gunzipStd(t testing.TB, z []byte) []byte {
	t.Helper()
	r, err := stdgzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	r.Multistream(false)
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// pgzipInputs are inputs around the segment size: empty, tiny, one byte
// either side of a boundary, several segments of text and of noise, and a
// repeat that only a dictionary across the boundary compresses well.
func pgzipInputs() map[string][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 2*gzipBlock+12345)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	var text bytes.Buffer
	for i := 0; text.Len() < 3*gzipBlock+7; i++ {
		text.WriteString("line ")
		text.WriteString(string(rune('a' + i%26)))
		text.WriteString(" of a tar stream, with some repetition\n")
	}
	chunk := noise[:40<<10]
	repeat := append(append(bytes.Repeat([]byte{0}, gzipBlock-len(chunk)/2), chunk...), chunk...)
	return map[string][]byte{
		"empty":         nil,
		"one byte":      {42},
		"block - 1":     text.Bytes()[:gzipBlock-1],
		"block":         text.Bytes()[:gzipBlock],
		"block + 1":     text.Bytes()[:gzipBlock+1],
		"text":          text.Bytes(),
		"noise":         noise,
		"cross-segment": repeat,
	}
}

// TestParallelGzipRoundTrip: every input decodes to itself with the
// standard library's reader (CRC and length checked).
func TestParallelGzipRoundTrip(t *testing.T) {
	for name, data := range pgzipInputs() {
		for _, level := range []int{flate.BestSpeed, 6, flate.BestCompression} {
			z := pgzipBytes(t, data, level, 4, 0)
			if got := gunzipStd(t, z); !bytes.Equal(got, data) {
				t.Errorf("%s, level %d: decoded %d bytes, want %d, equal=false", name, level, len(got), len(data))
			}
		}
	}
}

// TestParallelGzipDeterministic: the bytes do not depend on the number of
// workers or on how the input is split into writes.
func TestParallelGzipDeterministic(t *testing.T) {
	for name, data := range pgzipInputs() {
		want := pgzipBytes(t, data, 6, 1, 0)
		for _, c := range []struct{ workers, chunk int }{{2, 0}, {8, 0}, {3, 1000}, {2, gzipBlock - 1}, {5, 7919}} {
			if got := pgzipBytes(t, data, 6, c.workers, c.chunk); !bytes.Equal(got, want) {
				t.Errorf("%s: %d workers, writes of %d bytes: output differs from 1 worker, one write", name, c.workers, c.chunk)
			}
		}
	}
}

// TestParallelGzipHeaderAndSize: the header is the one compress/gzip writes
// with no name, no comment and mtime 0 (so tools that read it see no
// change), and the output is within 128 bytes per segment of a serial
// encoder's.
func TestParallelGzipHeaderAndSize(t *testing.T) {
	data := pgzipInputs()["text"]
	var serial bytes.Buffer
	zw, err := kgzip.NewWriterLevel(&serial, 6)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(data)
	zw.Close()
	par := pgzipBytes(t, data, 6, 2, 0)
	if !bytes.Equal(par[:10], serial.Bytes()[:10]) {
		t.Errorf("header % x, compress/gzip's % x", par[:10], serial.Bytes()[:10])
	}
	segments := len(data)/gzipBlock + 1
	if len(par) > serial.Len()+128*segments {
		t.Errorf("%d bytes, serial %d: more than 128 bytes per segment (%d) larger", len(par), serial.Len(), segments)
	}
	t.Logf("%d input bytes: parallel %d, serial %d", len(data), len(par), serial.Len())
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestParallelGzipWriteError: an error of the underlying writer comes back
// from Write or Close, never lost, and Close returns (no stuck worker).
func TestParallelGzipWriteError(t *testing.T) {
	data := pgzipInputs()["noise"]
	for _, limit := range []int{0, 5, 100, gzipBlock + 100} {
		z, err := newParallelGzip(&failWriter{n: limit}, 6, 2)
		if err != nil {
			if limit < 10 {
				continue // the header did not fit
			}
			t.Fatal(err)
		}
		_, werr := z.Write(data)
		cerr := z.Close()
		if werr == nil && cerr == nil {
			t.Errorf("limit %d: no error from Write or Close", limit)
		}
	}
}

// TestCompressGzipUsesParallel: archive.Compress(Gzip) writes what the
// parallel writer does, whatever GOMAXPROCS is.
func TestCompressGzipUsesParallel(t *testing.T) {
	data := pgzipInputs()["text"]
	var out bytes.Buffer
	zw, err := Compress(&out, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), pgzipBytes(t, data, 6, 1, 0)) {
		t.Error("Compress(Gzip) differs from the parallel writer with 1 worker")
	}
}

// FuzzParallelGzip: any input, split into writes of any size, decodes to
// itself and gives the same bytes with 1 and 3 workers.
func FuzzParallelGzip(f *testing.F) {
	f.Add([]byte("hello"), uint16(1))
	f.Add(bytes.Repeat([]byte("abc"), 1000), uint16(7))
	f.Add([]byte{}, uint16(0))
	f.Add([]byte(" grows past a segment"), uint16(4096))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		// Grow small inputs past a segment boundary now and then, so
		// that the fuzzer exercises more than one segment.
		if len(data) > 0 && data[0]%32 == 0 {
			data = bytes.Repeat(data, gzipBlock/len(data)+2)
		}
		a := pgzipBytes(t, data, 6, 1, int(chunk))
		b := pgzipBytes(t, data, 6, 3, 0)
		if !bytes.Equal(a, b) {
			t.Fatal("1 worker and 3 workers differ")
		}
		if got := gunzipStd(t, a); !bytes.Equal(got, data) {
			t.Fatal("round trip differs")
		}
	})
}

// BenchmarkGzip compresses a tar stream (PORTABLE_BENCH_TAR, else a
// generated text) with compress/gzip's serial encoder and with the
// parallel one.
func BenchmarkGzip(b *testing.B) {
	data := pgzipInputs()["text"]
	if p := os.Getenv("PORTABLE_BENCH_TAR"); p != "" {
		var err error
		if data, err = os.ReadFile(p); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			zw, _ := kgzip.NewWriterLevel(io.Discard, 6)
			zw.Write(data)
			zw.Close()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			z, _ := Compress(io.Discard, Gzip)
			z.Write(data)
			z.Close()
		}
	})
}
