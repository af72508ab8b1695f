package elf

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzBlockReader: blockReader returns what the underlying reader does,
// for any read at any offset, also when the file is shorter than the size
// it was opened with.
func FuzzBlockReader(f *testing.F) {
	f.Add(100000, int64(0), 64, int64(16380), 10, 0)
	f.Add(blockSize*3, int64(blockSize-1), 2, int64(blockSize*3-1), 5, 7)
	f.Add(10, int64(0), 20, int64(5), 5, 3)
	f.Fuzz(func(t *testing.T, size int, off1 int64, n1 int, off2 int64, n2 int, short int) {
		if size < 0 || size > 1<<20 || n1 < 0 || n1 > 1<<18 || n2 < 0 || n2 > 1<<18 || short < 0 || short > size {
			return
		}
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + i>>8)
		}
		real := bytes.NewReader(data[:size-short]) // the file shrank
		br := newBlockReader(real, int64(size))
		for _, r := range [][2]int64{{off1, int64(n1)}, {off2, int64(n2)}, {off1, int64(n1)}} {
			if r[0] < 0 || r[0] > int64(size)+10 {
				continue
			}
			got := make([]byte, r[1])
			gn, gerr := br.ReadAt(got, r[0])
			want := make([]byte, r[1])
			wn, _ := real.ReadAt(want, r[0])
			if gn != wn || !bytes.Equal(got[:gn], want[:wn]) {
				t.Fatalf("ReadAt(%d bytes at %d) of %d (%d real): got %d bytes, want %d", r[1], r[0], size, size-short, gn, wn)
			}
			if gn < len(got) && gerr == nil {
				t.Fatalf("short read of %d at %d without an error", r[1], r[0])
			}
		}
	})
}

// TestParseFileEqualsParseBytes: parsing through the block reader (a file)
// and from memory give the same File, for the system's programs and
// libraries.
func TestParseFileEqualsParseBytes(t *testing.T) {
	paths, _ := filepath.Glob("/usr/bin/*")
	libs, _ := filepath.Glob("/usr/lib/x86_64-linux-gnu/*.so*")
	paths = append(paths, libs...)
	n := 0
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() || st.Size() > 64<<20 {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil || len(data) < 4 || string(data[:4]) != "\x7fELF" {
			continue
		}
		want, werr := Parse(bytes.NewReader(data), int64(len(data)))
		fd, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		got, gerr := Parse(fd, st.Size())
		fd.Close()
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("%s: error %v from a file, %v from memory", p, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: parsing the file and its bytes differ", p)
		}
		n++
	}
	if n < 100 {
		t.Fatalf("only %d ELF files found under /usr to compare", n)
	}
}
