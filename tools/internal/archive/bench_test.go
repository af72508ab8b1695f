package archive

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// benchEntries is 64 files of 256 KiB of half-compressible bytes (16 MiB),
// roughly the shape of a shared-library closure.
func benchEntries() ([]Entry, int64) {
	r := rand.New(rand.NewPCG(1, 2))
	var entries []Entry
	var total int64
	for i := range 64 {
		data := make([]byte, 256<<10)
		for j := range data {
			if j%2 == 0 {
				data[j] = byte(r.Uint32())
			}
		}
		entries = append(entries, Entry{Name: "lib/f" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Type: TypeFile, Size: int64(len(data)),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
		total += int64(len(data))
	}
	return entries, total
}

func benchmarkWrite(b *testing.B, c Compression) {
	entries, total := benchEntries()
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		cw, err := Compress(io.Discard, c)
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteEntries(cw, entries, Options{}); err != nil {
			b.Fatal(err)
		}
		cw.Close()
	}
}

func BenchmarkWriteTar(b *testing.B)     { benchmarkWrite(b, None) }
func BenchmarkWriteTarGzip(b *testing.B) { benchmarkWrite(b, Gzip) }
func BenchmarkWriteTarZstd(b *testing.B) { benchmarkWrite(b, Zstd) }
