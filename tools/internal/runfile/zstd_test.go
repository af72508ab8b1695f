package runfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// driver runs testdata/zstd_driver.c, built against launcher/zstd.h with
// the address and undefined-behaviour sanitizers, and sends it inputs.
type driver struct {
	cmd *exec.Cmd
	in  *bufio.Writer
	out *bufio.Reader
	w   io.Closer
}

var buildDriver = sync.OnceValues(func() (string, error) {
	cc, err := exec.LookPath("gcc")
	if err != nil {
		return "", fmt.Errorf("gcc not found (Debian package gcc): it builds the zstd decoder's test driver")
	}
	dir, err := os.MkdirTemp("", "zstd-driver")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "driver")
	cmd := exec.Command(cc, "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
		"-fno-sanitize-recover=all", "-I", "../../../launcher", "-o", out, "testdata/zstd_driver.c")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the zstd test driver: %v\n%s", err, b)
	}
	return out, nil
})

func startDriver(t testing.TB) *driver {
	t.Helper()
	bin, err := buildDriver()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ASAN_OPTIONS=detect_leaks=0")
	cmd.Stderr = os.Stderr
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &driver{cmd: cmd, in: bufio.NewWriter(w), out: bufio.NewReader(r), w: w}
	t.Cleanup(func() {
		d.w.Close()
		if err := d.cmd.Wait(); err != nil {
			t.Errorf("zstd test driver: %v (a sanitizer report is above)", err)
		}
	})
	return d
}

// decode returns what the C decoder makes of src with cap bytes of room,
// and false where it reports an error.
func (d *driver) decode(t testing.TB, src []byte, cap int) ([]byte, bool) {
	t.Helper()
	var hdr [16]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(cap))
	binary.LittleEndian.PutUint64(hdr[8:], uint64(len(src)))
	d.in.Write(hdr[:])
	d.in.Write(src)
	if err := d.in.Flush(); err != nil {
		t.Fatalf("zstd test driver: %v (did it crash? see above)", err)
	}
	var res [8]byte
	if _, err := io.ReadFull(d.out, res[:]); err != nil {
		t.Fatalf("zstd test driver: %v (did it crash? see above)", err)
	}
	n := int64(binary.LittleEndian.Uint64(res[:]))
	if n < 0 {
		return nil, false
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(d.out, out); err != nil {
		t.Fatal(err)
	}
	return out, true
}

// corpus is what the decoder is tried on: real programs and libraries,
// text, nothing, one byte, runs, noise and mixtures.
func corpus(t testing.TB) map[string][]byte {
	c := map[string][]byte{
		"empty":  {},
		"one":    {'x'},
		"zeros":  make([]byte, 300<<10),
		"abab":   bytes.Repeat([]byte("ab"), 100000),
		"digits": []byte(fmt.Sprint(rand.New(rand.NewPCG(1, 2)).Perm(40000))),
	}
	r := rand.New(rand.NewPCG(3, 4))
	noise := make([]byte, 200<<10)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	c["noise"] = noise
	// Noise with repeats at every distance the offsets can take.
	mixed := append([]byte(nil), noise[:50000]...)
	for len(mixed) < 1<<20 {
		off := 1 + r.IntN(len(mixed))
		n := 3 + r.IntN(300)
		start := len(mixed) - off
		for i := 0; i < n; i++ {
			mixed = append(mixed, mixed[start+i])
		}
		mixed = append(mixed, byte(r.Uint32()))
	}
	c["mixed"] = mixed
	for _, p := range []string{"/usr/bin/git", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc/services", "/usr/share/common-licenses/GPL-3"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%s: %v (a file of Debian 12's base system)", p, err)
		}
		c[filepath.Base(p)] = b
	}
	return c
}

// encodings are the ways the payload's encoder may write a frame.
func encodings(t testing.TB) map[string]func([]byte) []byte {
	all := func(opts ...zstd.EOption) func([]byte) []byte {
		e, err := zstd.NewWriter(nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return func(b []byte) []byte { return e.EncodeAll(b, nil) }
	}
	stream := func(opts ...zstd.EOption) func([]byte) []byte {
		return func(b []byte) []byte {
			var buf bytes.Buffer
			e, err := zstd.NewWriter(&buf, opts...)
			if err != nil {
				t.Fatal(err)
			}
			// Written in pieces: several blocks, no content size.
			for len(b) > 0 {
				n := min(len(b), 70000)
				e.Write(b[:n])
				b = b[n:]
			}
			e.Close()
			return buf.Bytes()
		}
	}
	m := map[string]func([]byte) []byte{}
	for _, l := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression} {
		m["all-"+l.String()] = all(zstd.WithEncoderLevel(l))
		m["all-nocrc-"+l.String()] = all(zstd.WithEncoderLevel(l), zstd.WithEncoderCRC(false))
		m["stream-"+l.String()] = stream(zstd.WithEncoderLevel(l), zstd.WithEncoderConcurrency(1))
	}
	m["small-window"] = stream(zstd.WithWindowSize(1<<16), zstd.WithEncoderConcurrency(1))
	m["no-entropy"] = all(zstd.WithNoEntropyCompression(true))
	m["single-segment"] = all(zstd.WithSingleSegment(true))
	m["two-frames"] = func(b []byte) []byte {
		f := all()
		h := len(b) / 2
		return append(f(b[:h]), f(b[h:])...)
	}
	m["skippable-first"] = func(b []byte) []byte {
		skip := []byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'}
		return append(skip, all()(b)...)
	}
	return m
}

// TestZstdDecodesEncoderOutput: launcher/zstd.h gives back every input the
// encoder compressed, in every way it compresses, and refuses an output
// buffer one byte too small.
func TestZstdDecodesEncoderOutput(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Fatalf("the runtime is built for x86_64 and aarch64, not %s", runtime.GOARCH)
	}
	d := startDriver(t)
	data := corpus(t)
	for ename, enc := range encodings(t) {
		for name, b := range data {
			z := enc(b)
			got, ok := d.decode(t, z, len(b))
			if !ok || !bytes.Equal(got, b) {
				t.Errorf("%s, %s (%d bytes, %d compressed): decoded ok=%v, %d bytes, equal=%v", name, ename, len(b), len(z), ok, len(got), bytes.Equal(got, b))
				continue
			}
			if len(b) > 0 {
				if _, ok := d.decode(t, z, len(b)-1); ok {
					t.Errorf("%s, %s: decoded into a buffer one byte too small", name, ename)
				}
			}
		}
	}
}

// TestZstdRefusesBrokenFrames: flipped bytes and cut-off frames give an
// error or, where the damage is undetectable, the same output as the
// reference decoder, and never a sanitizer report (the driver would exit
// non-zero). The mutations are seeded, so this is a fixed regression set.
func TestZstdRefusesBrokenFrames(t *testing.T) {
	d := startDriver(t)
	data := corpus(t)
	encs := encodings(t)
	ref, err := zstd.NewReader(nil, zstd.IgnoreChecksum(true))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	inputs := []string{"git", "services", "mixed", "abab", "one", "GPL-3"}
	ences := []string{"all-fastest", "all-default", "all-best", "stream-better", "no-entropy", "two-frames"}
	n := 0
	for _, in := range inputs {
		for _, en := range ences {
			z := encs[en](data[in])
			if len(z) > 64<<10 {
				z = z[:64<<10] // the first blocks carry every kind of table
			}
			for i := 0; i < 40; i++ {
				bad := append([]byte(nil), z...)
				for k := 0; k < 1+r.IntN(4); k++ {
					bad[r.IntN(len(bad))] ^= byte(1 + r.IntN(255))
				}
				if r.IntN(4) == 0 {
					bad = bad[:r.IntN(len(bad))]
				}
				got, ok := d.decode(t, bad, 2<<20)
				n++
				if !ok {
					continue
				}
				want, err := ref.DecodeAll(bad, nil)
				if err == nil && !bytes.Equal(got, want) {
					t.Errorf("%s, %s, mutation %d: decoded %d bytes that differ from the reference decoder's %d", in, en, i, len(got), len(want))
				}
			}
		}
	}
	t.Logf("%d broken frames tried", n)
}

// FuzzZstdDecode: any input, through the sanitized driver.
func FuzzZstdDecode(f *testing.F) {
	encs := encodings(f)
	for _, s := range []string{"", "x", "hello, hello, hello, hello", string(bytes.Repeat([]byte("abc"), 5000))} {
		for _, en := range []string{"all-fastest", "all-best", "stream-default", "no-entropy"} {
			f.Add(encs[en]([]byte(s)))
		}
	}
	ref, err := zstd.NewReader(nil, zstd.IgnoreChecksum(true))
	if err != nil {
		f.Fatal(err)
	}
	d := startDriver(f)
	f.Fuzz(func(t *testing.T, z []byte) {
		got, ok := d.decode(t, z, 1<<20)
		if !ok {
			return
		}
		if want, err := ref.DecodeAll(z, nil); err == nil && !bytes.Equal(got, want) {
			t.Fatalf("decoded %d bytes that differ from the reference decoder's %d", len(got), len(want))
		}
	})
}
