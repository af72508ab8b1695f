package ldso

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hostLoaders are glibc loaders Debian puts on the test machine: the
// host's own and the cross libcs of tests/host-packages.txt.
var hostLoaders = []string{
	"/lib64/ld-linux-x86-64.so.2",
	"/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1",
	"/usr/riscv64-linux-gnu/lib/ld-linux-riscv64-lp64d.so.1",
	"/usr/s390x-linux-gnu/lib/ld64.so.1",
	"/usr/powerpc64le-linux-gnu/lib/ld64.so.2",
}

func TestCloseRealLoaders(t *testing.T) {
	for _, p := range hostLoaders {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("%v (install the Debian packages of tests/host-packages.txt)", err)
			}
			out, c, err := Close(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(data) || c.Already || !IsClosed(out) || IsClosed(data) {
				t.Fatalf("len %d -> %d, already %v, IsClosed %v (input %v)", len(data), len(out), c.Already, IsClosed(out), IsClosed(data))
			}
			for _, s := range []string{Cache + "\x00", Preload + "\x00", "\x00/usr/lib/\x00"} {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("closed loader still holds %q", s)
				}
			}
			if !strings.Contains(strings.Join(c.Dirs, " "), "/usr/lib/") {
				t.Errorf("dirs %q", c.Dirs)
			}
			// Only the strings changed: the bytes that differ are few.
			diff := 0
			for i := range data {
				if data[i] != out[i] {
					diff++
				}
			}
			if diff == 0 || diff > 400 {
				t.Errorf("%d bytes changed", diff)
			}
			again, c2, err := Close(out)
			if err != nil || !c2.Already || !bytes.Equal(again, out) {
				t.Errorf("closing twice: %v already=%v same=%v", err, c2.Already, bytes.Equal(again, out))
			}
		})
	}
}

// TestClosedLoaderRuns runs the host's closed loader as a program: it
// finds nothing on the host by itself, and finds it again when the user
// names a directory (--library-path works like LD_LIBRARY_PATH).
func TestClosedLoaderRuns(t *testing.T) {
	data, err := os.ReadFile(hostLoaders[0])
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := Close(data)
	if err != nil {
		t.Fatal(err)
	}
	ld := filepath.Join(t.TempDir(), "ld.so")
	if err := os.WriteFile(ld, out, 0o755); err != nil {
		t.Fatal(err)
	}
	msg, err := exec.Command(ld, "/bin/true").CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "libc.so.6: cannot open shared object file") {
		t.Errorf("closed loader running /bin/true: %v %s; want libc.so.6 not found", err, msg)
	}
	cmd := exec.Command(ld, "/bin/true")
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH=/lib/x86_64-linux-gnu")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("with LD_LIBRARY_PATH: %v %s", err, msg)
	}
	if msg, err := exec.Command(ld, "--library-path", "/lib/x86_64-linux-gnu", "/bin/true").CombinedOutput(); err != nil {
		t.Errorf("with --library-path: %v %s", err, msg)
	}
	// --list-diagnostics shows what the search uses now.
	diag, _ := exec.Command(ld, "--list-diagnostics").Output()
	if !bytes.Contains(diag, []byte(`path.system_dirs[0x1]="`+NoDir+`"`)) {
		t.Errorf("--list-diagnostics has no system dir %q:\n%s", NoDir, grepLines(diag, "path."))
	}
}

func grepLines(b []byte, sub string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestCloseRefuses(t *testing.T) {
	self, err := os.ReadFile("/bin/true") // a PIE program: ET_DYN, no loader strings
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"not ELF":          []byte("#!/bin/sh\n/etc/ld.so.cache\x00"),
		"empty":            nil,
		"program":          self,
		"strings twice":    synth(64, "/etc/ld.so.cache\x00/etc/ld.so.cache\x00"),
		"no dirs":          synthNoDirs(),
		"no lengths array": synthNoLengths(),
		"writable segment": synthWritable(),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Close(data)
			if !errors.Is(err, ErrNotLoader) {
				t.Fatalf("Close: %v, want ErrNotLoader", err)
			}
		})
	}
}

// synth builds a minimal 64-bit little-endian ET_DYN file with one
// read-only PT_LOAD over rodata, which holds what a loader holds: the
// lengths of the default directories, the directories, the cache and
// preload paths (extra is appended).
func synth(flags uint32, extra string) []byte {
	dirs := []string{"/lib/x86_64-linux-gnu/", "/usr/lib/x86_64-linux-gnu/", "/lib/", "/usr/lib/"}
	var ro bytes.Buffer
	for _, d := range dirs {
		binary.Write(&ro, binary.LittleEndian, uint64(len(d)))
	}
	for _, d := range dirs {
		ro.WriteString(d + "\x00")
	}
	ro.WriteString("\x00" + Cache + "\x00glibc-ld.so.cache1.1\x00" + Preload + "\x00")
	ro.WriteString(extra)
	return elfWith(flags, ro.Bytes())
}

func elfWith(flags uint32, ro []byte) []byte {
	const ehsize, phsize = 64, 56
	off := ehsize + phsize
	b := make([]byte, off, off+len(ro))
	copy(b, "\x7fELF\x02\x01\x01")
	le := binary.LittleEndian
	le.PutUint16(b[16:], 3)  // ET_DYN
	le.PutUint16(b[18:], 62) // EM_X86_64
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[32:], ehsize) // e_phoff
	le.PutUint16(b[52:], ehsize)
	le.PutUint16(b[54:], phsize)
	le.PutUint16(b[56:], 1) // e_phnum
	ph := b[ehsize:]
	le.PutUint32(ph[0:], 1) // PT_LOAD
	le.PutUint32(ph[4:], 4|flags)
	le.PutUint64(ph[8:], 0)                    // p_offset
	le.PutUint64(ph[32:], uint64(off+len(ro))) // p_filesz
	le.PutUint64(ph[40:], uint64(off+len(ro))) // p_memsz
	le.PutUint64(ph[48:], 0x1000)              // p_align
	return append(b, ro...)
}

func synthNoDirs() []byte {
	return elfWith(0, []byte("\x00"+Cache+"\x00"+Preload+"\x00"))
}

func synthNoLengths() []byte {
	return elfWith(0, []byte("\x00/lib/x86_64-linux-gnu/\x00/usr/lib/x86_64-linux-gnu/\x00/lib/\x00/usr/lib/\x00"+Cache+"\x00"+Preload+"\x00"))
}

func synthWritable() []byte { return synth(2, "") }

func TestCloseSynthetic(t *testing.T) {
	in := synth(0, "")
	out, c, err := Close(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Dirs) != 4 || !IsClosed(out) {
		t.Fatalf("dirs %q closed %v", c.Dirs, IsClosed(out))
	}
	// The first directory keeps its length (22); the others are NoDir's.
	ro := out[64+56:]
	le := binary.LittleEndian
	for i, want := range []uint64{22, uint64(len(NoDir)), uint64(len(NoDir)), uint64(len(NoDir))} {
		if got := le.Uint64(ro[8*i:]); got != want {
			t.Errorf("length %d = %d, want %d", i, got, want)
		}
	}
	strs := ro[32:]
	if want := NoDir + strings.Repeat("\x00", 22-len(NoDir)) + "\x00" + NoDir + "\x00" + NoDir + "\x00" + NoDir + "\x00"; !bytes.HasPrefix(strs, []byte(want)) {
		t.Errorf("directories became %q", strs[:70])
	}
}

// FuzzClose: Close never panics, never changes a file's length, and what
// it returns is closed and closes to itself.
func FuzzClose(f *testing.F) {
	f.Add(synth(0, ""))
	f.Add(synthNoDirs())
	f.Add(synthNoLengths())
	f.Add(synthWritable())
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, c, err := Close(data)
		if err != nil {
			if !errors.Is(err, ErrNotLoader) {
				t.Fatalf("error %v does not wrap ErrNotLoader", err)
			}
			return
		}
		if len(out) != len(data) || !IsClosed(out) {
			t.Fatalf("len %d -> %d, closed %v", len(data), len(out), IsClosed(out))
		}
		again, c2, err := Close(out)
		if err != nil || !bytes.Equal(again, out) || (!c.Already && !c2.Already) {
			t.Fatalf("second Close: %v %v", err, c2)
		}
	})
}
