package deb

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ulikunitz "github.com/ulikunitz/xz"

	"github.com/rules-portable/rules_portable/tools/internal/deb/debtest"
)

// xzMember is the compressed bytes of one .tar.xz member of a cached .deb.
type xzMember struct {
	name string // <sha256 of the .deb>/<member>
	data []byte
}

// cachedXZMembers reads the .tar.xz members of every .deb in the shared
// package cache (the files under sha256/ that are ar archives), skipping
// the test when there are none.
func cachedXZMembers(tb testing.TB) []xzMember {
	tb.Helper()
	paths, _ := filepath.Glob(filepath.Join(debtest.CacheDir(), "sha256", "*"))
	var out []xzMember
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		ar, err := NewArReader(bufio.NewReader(f))
		if err != nil {
			f.Close() // not a .deb: a data.tar or an index
			continue
		}
		for err == nil {
			var h *ArHeader
			if h, err = ar.Next(); err != nil {
				break
			}
			if !strings.HasSuffix(h.Name, ".tar.xz") {
				continue
			}
			var b []byte
			if b, err = io.ReadAll(ar); err == nil {
				out = append(out, xzMember{filepath.Base(p) + "/" + h.Name, b})
			}
		}
		f.Close()
		if !errors.Is(err, io.EOF) {
			tb.Fatalf("%s: %v", p, err)
		}
	}
	if len(out) == 0 {
		tb.Skipf("no cached .deb with an xz member in %s; build a sysroot first (portable sysroot build)", debtest.CacheDir())
	}
	return out
}

// xzDecoders are the decoder in use and the one it replaced.
var xzDecoders = []struct {
	name string
	open func(io.Reader) (io.Reader, func(), error)
}{
	{"therootcompany", newXZReader},
	{"ulikunitz", func(r io.Reader) (io.Reader, func(), error) {
		zr, err := ulikunitz.NewReader(bufio.NewReaderSize(r, 64<<10))
		return zr, func() {}, err
	}},
}

// xzAgreeBudget caps the compressed bytes TestXZDecodersAgree decodes by
// default: the cache of a machine that built every sysroot holds over a
// gigabyte, which the slower decoder takes more than a minute to read.
// PORTABLE_XZ_ALL=1 checks every member.
const xzAgreeBudget = 48 << 20

// TestXZDecodersAgree checks that the decoder in use gives the same
// bytes as github.com/ulikunitz/xz on the cache's xz members: all of them
// with PORTABLE_XZ_ALL=1, else a sample of up to xzAgreeBudget compressed
// bytes that always includes the largest member.
func TestXZDecodersAgree(t *testing.T) {
	members := cachedXZMembers(t)
	if os.Getenv("PORTABLE_XZ_ALL") == "" {
		members = sampleXZMembers(members, xzAgreeBudget)
	}
	n := 0
	for _, m := range members {
		n += len(m.data)
	}
	t.Logf("%d xz members, %d compressed bytes", len(members), n)
	for _, m := range members {
		var sums [][32]byte
		for _, d := range xzDecoders {
			r, done, err := d.open(bytes.NewReader(m.data))
			if err != nil {
				t.Fatalf("%s: %s: %v", m.name, d.name, err)
			}
			h := sha256.New()
			if _, err := io.Copy(h, r); err != nil {
				t.Fatalf("%s: %s: %v", m.name, d.name, err)
			}
			done()
			sums = append(sums, [32]byte(h.Sum(nil)))
		}
		if sums[0] != sums[1] {
			t.Errorf("%s: %s and %s decode to different bytes", m.name, xzDecoders[0].name, xzDecoders[1].name)
		}
	}
}

// sampleXZMembers returns the largest member and then, in name order (the
// .deb's sha256, so a fixed pseudo-random order), the members that fit in
// budget compressed bytes.
func sampleXZMembers(members []xzMember, budget int) []xzMember {
	if len(members) == 0 {
		return nil
	}
	largest := 0
	for i, m := range members {
		if len(m.data) > len(members[largest].data) {
			largest = i
		}
	}
	out := []xzMember{members[largest]}
	budget -= len(members[largest].data)
	for i, m := range members {
		if i != largest && len(m.data) <= budget {
			out = append(out, m)
			budget -= len(m.data)
		}
	}
	return out
}

// BenchmarkXZDecode decodes every cached xz member with each decoder.
func BenchmarkXZDecode(b *testing.B) {
	members := cachedXZMembers(b)
	for _, d := range xzDecoders {
		b.Run(d.name, func(b *testing.B) {
			var n int64
			for b.Loop() {
				n = 0
				for _, m := range members {
					r, done, err := d.open(bytes.NewReader(m.data))
					if err != nil {
						b.Fatal(err)
					}
					c, err := io.Copy(io.Discard, r)
					if err != nil {
						b.Fatal(err)
					}
					done()
					n += c
				}
			}
			b.SetBytes(n)
		})
	}
}
