package runfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzReadTrailer: any bytes give a trailer within the file or an error,
// never a panic; a trailer that MarshalBinary wrote reads back the same.
func FuzzReadTrailer(f *testing.F) {
	t := Trailer{PayloadOffset: 4096, PayloadSize: 10, TarSize: 512, Entry: "curl"}
	good, _ := t.MarshalBinary()
	f.Add(append(make([]byte, 4106), good...))
	f.Add(good)
	f.Add([]byte("PORTABLE-RUN"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ReadTrailer(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		end := uint64(len(b)) - TrailerSize
		if tr.PayloadOffset > end || tr.PayloadSize > end-tr.PayloadOffset {
			t.Fatalf("trailer %+v points outside a file of %d bytes", tr, len(b))
		}
		if tr.Entry == "" || strings.ContainsAny(tr.Entry, "/\x00") {
			t.Fatalf("entry %q accepted", tr.Entry)
		}
		again, err := tr.MarshalBinary()
		if err != nil {
			t.Fatalf("a trailer that read does not write: %v", err)
		}
		back, err := ReadTrailer(bytes.NewReader(append(b[:len(b)-TrailerSize:len(b)-TrailerSize], again...)), int64(len(b)))
		if err != nil || back != tr {
			t.Fatalf("round trip: %+v, %v; want %+v", back, err, tr)
		}
	})
}

func TestReadTrailerRefusesOtherFiles(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("short"), bytes.Repeat([]byte{0}, 4096)} {
		if _, err := ReadTrailer(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrNotRun) {
			t.Errorf("%d bytes: %v, want ErrNotRun", len(b), err)
		}
	}
}
