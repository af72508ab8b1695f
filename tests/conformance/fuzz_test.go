package conformance

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// placeholderSlot is a slot path of exactly slotSize-1 bytes ending in the
// loader's basename.
func placeholderSlot() string {
	head, tail := "/.portable-unrelocated", "/lib/"+loaderName
	return head + strings.Repeat("/", slotSize-1-len(head)-len(tail)) + tail
}

// harness is the launcher's ELF code built with sanitizers
// (testdata/harness.c), running as a child that answers one request per
// input.
type harness struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *bytes.Buffer
}

// buildHarness compiles testdata/NAME.c, which includes code of
// launcher/, with libc and sanitizers and the macro define set; it returns
// the program.
func buildHarness(tb testing.TB, name, define string) string {
	tb.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		tb.Fatal("gcc not found: install the Debian package gcc")
	}
	bin := filepath.Join(tb.TempDir(), name)
	src, err := filepath.Abs(filepath.Join("testdata", name+".c"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("gcc", "-std=gnu11", "-g", "-O1", "-fsanitize=address,undefined",
		"-fno-sanitize-recover=all", "-fno-builtin", "-D"+define, "-I", "../../launcher", "-o", bin, src)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build %s: %v\n%s", src, err, b)
	}
	return bin
}

func startHarness(tb testing.TB) *harness {
	tb.Helper()
	h := &harness{cmd: exec.Command(buildHarness(tb, "harness", "LAUNCHER_HARNESS")), stderr: &bytes.Buffer{}}
	h.cmd.Stderr = h.stderr
	h.cmd.Env = append(os.Environ(), "ASAN_OPTIONS=detect_leaks=0")
	var err error
	if h.in, err = h.cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	h.out = bufio.NewReader(stdout)
	if err := h.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		h.in.Close()
		h.cmd.Wait()
	})
	return h
}

// harnessReply is what the launcher's code made of one input.
type harnessReply struct {
	read, interp int64
	slotSize     uint64
	slot         string
	mapped       int64
	check        int64
}

func (h *harness) do(data []byte) (harnessReply, error) {
	var r harnessReply
	req := binary.LittleEndian.AppendUint32(nil, uint32(len(data)))
	if _, err := h.in.Write(append(req, data...)); err != nil {
		return r, fmt.Errorf("write request: %w", err)
	}
	var head [28]byte
	if _, err := io.ReadFull(h.out, head[:]); err != nil {
		return r, fmt.Errorf("read reply: %w", err)
	}
	r.read = int64(binary.LittleEndian.Uint64(head[0:]))
	r.interp = int64(binary.LittleEndian.Uint64(head[8:]))
	r.slotSize = binary.LittleEndian.Uint64(head[16:])
	n := binary.LittleEndian.Uint32(head[24:])
	if n > 4096 {
		return r, fmt.Errorf("slot path of %d bytes", n)
	}
	slot := make([]byte, n)
	if _, err := io.ReadFull(h.out, slot); err != nil {
		return r, fmt.Errorf("read reply: %w", err)
	}
	r.slot = string(slot)
	var tail [16]byte
	if _, err := io.ReadFull(h.out, tail[:]); err != nil {
		return r, fmt.Errorf("read reply: %w", err)
	}
	r.mapped = int64(binary.LittleEndian.Uint64(tail[0:]))
	r.check = int64(binary.LittleEndian.Uint64(tail[8:]))
	return r, nil
}

// synthELF builds a small ELF64 x86_64 image: PT_PHDR, PT_INTERP holding
// slot (NUL-padded to slotLen), a read+exec PT_LOAD over the headers and a
// read+write PT_LOAD with bss.
func synthELF(typ uint16, base uint64, slot string, slotLen int) []byte {
	const ehsize, phsize, nph = 64, 56, 4
	slotOff := uint64(ehsize + phsize*nph)
	textEnd := slotOff + uint64(slotLen)
	dataOff := (textEnd + 0xfff) &^ 0xfff
	b := make([]byte, dataOff+64)
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le := binary.LittleEndian
	le.PutUint16(b[16:], typ)
	le.PutUint16(b[18:], 62)
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], base+0x40) // entry
	le.PutUint64(b[32:], ehsize)
	le.PutUint16(b[52:], ehsize)
	le.PutUint16(b[54:], phsize)
	le.PutUint16(b[56:], nph)
	ph := func(i int, typ, flags uint32, off, vaddr, filesz, memsz, align uint64) {
		p := b[ehsize+i*phsize:]
		le.PutUint32(p[0:], typ)
		le.PutUint32(p[4:], flags)
		le.PutUint64(p[8:], off)
		le.PutUint64(p[16:], vaddr)
		le.PutUint64(p[24:], vaddr)
		le.PutUint64(p[32:], filesz)
		le.PutUint64(p[40:], memsz)
		le.PutUint64(p[48:], align)
	}
	ph(0, 6, 4, ehsize, base+ehsize, phsize*nph, phsize*nph, 8)
	ph(1, 3, 4, slotOff, base+slotOff, uint64(slotLen), uint64(slotLen), 1)
	ph(2, 1, 5, 0, base, textEnd, textEnd, 0x1000)
	ph(3, 1, 6, dataOff, base+dataOff+0x1000, 64, 0x3000, 0x1000)
	copy(b[slotOff:], slot)
	for i := range b[dataOff:] {
		b[dataOff+uint64(i)] = byte(i + 1)
	}
	return b
}

// moveHeadersToEnd appends a copy of b's program headers and interp slot
// after padding past the launcher's first 8 KiB read, and points e_phoff
// and PT_INTERP at the copies, the way a patcher that grew the file lays it
// out.
func moveHeadersToEnd(b []byte) []byte {
	le := binary.LittleEndian
	phoff, phnum := le.Uint64(b[32:]), int(le.Uint16(b[56:]))
	ph := append([]byte{}, b[phoff:phoff+uint64(phnum)*56]...)
	out := append(append([]byte{}, b...), make([]byte, 12288-len(b))...)
	newPhoff := uint64(len(out))
	out = append(out, ph...)
	for i := 0; i < phnum; i++ {
		p := out[newPhoff+uint64(i)*56:]
		if le.Uint32(p) == 3 { // PT_INTERP: copy the slot too
			off, size := le.Uint64(p[8:]), le.Uint64(p[32:])
			le.PutUint64(p[8:], uint64(len(out)))
			out = append(out, b[off:off+size]...)
			p = out[newPhoff+uint64(i)*56:]
		}
	}
	le.PutUint64(out[32:], newPhoff)
	return out
}

// interpBytes independently reads what PT_INTERP number i of data holds, up
// to its first NUL within 4096 bytes and within the file. (A slot that runs
// past the end of the file but has its NUL inside it is read as the launcher
// reads it; the kernel refuses such a file at execve, which the launcher
// then reports.)
func interpBytes(data []byte, i int64) (string, bool) {
	le := binary.LittleEndian
	phoff := le.Uint64(data[32:])
	p := phoff + uint64(i)*56
	if p+56 > uint64(len(data)) {
		return "", false
	}
	off, filesz := le.Uint64(data[p+8:]), le.Uint64(data[p+32:])
	take := min(filesz, 4096)
	if off >= uint64(len(data)) {
		return "", false
	}
	raw := data[off : off+min(take, uint64(len(data))-off)]
	if j := bytes.IndexByte(raw, 0); j >= 0 {
		return string(raw[:j]), true
	}
	return "", false
}

// FuzzLauncherHeaders feeds arbitrary files to the launcher's ELF reader and
// its read-only-mode segment mapper, built with ASan and UBSan. Neither may
// crash; an accepted slot must be exactly the bytes PT_INTERP points at; a
// mapping must hold the file's bytes and zeroed bss.
func FuzzLauncherHeaders(f *testing.F) {
	slot := placeholderSlot()
	f.Add(synthELF(3, 0, slot, len(slot)+1))
	f.Add(synthELF(3, 0, "/lib64/ld-linux-x86-64.so.2", 28))
	f.Add(synthELF(2, 0x400000, "/x/lib/ld-linux-x86-64.so.2", 64))
	f.Add(synthELF(3, 0, "no-nul-in-slot", 14))
	f.Add(moveHeadersToEnd(synthELF(3, 0, slot, len(slot)+1)))
	f.Add([]byte("#!/bin/sh\necho not an ELF\n"))
	f.Add([]byte{})
	// The head of a real program (big inputs slow the fuzzer down; the whole
	// loader is mapped in TestHarnessMapsRealPrograms).
	if b, err := os.ReadFile("/usr/bin/true"); err == nil && len(b) > 8192 {
		f.Add(b[:8192])
	}
	h := startHarness(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4<<20 {
			return
		}
		r, err := h.do(data)
		if err != nil {
			t.Fatalf("the launcher's ELF code crashed on this input: %v\n%s", err, h.stderr.String())
		}
		if r.read > 0 || r.read < -4095 {
			t.Fatalf("read_image returned %d", r.read)
		}
		if r.read == 0 && r.interp >= 0 {
			want, ok := interpBytes(data, r.interp)
			if !ok || want != r.slot {
				t.Fatalf("slot read as %q, the file holds %q (ok=%v)", r.slot, want, ok)
			}
			if r.slotSize == 0 {
				t.Fatal("accepted an empty PT_INTERP")
			}
		}
		if r.check != 0 {
			t.Fatalf("PT_LOAD %d is mapped with bytes that differ from the file", r.check-1)
		}
	})
}

// TestHarnessMapsRealPrograms pins that the fuzz harness really maps: the
// host's loader and a synthetic image map and check clean.
func TestHarnessMapsRealPrograms(t *testing.T) {
	h := startHarness(t)
	ld, err := os.ReadFile("/lib64/ld-linux-x86-64.so.2")
	if err != nil {
		t.Fatal(err)
	}
	slot := placeholderSlot()
	for name, data := range map[string][]byte{
		"loader":         ld,
		"synthetic PIE":  synthELF(3, 0, slot, len(slot)+1),
		"synthetic EXEC": synthELF(2, 0x400000, "/x/lib/ld-linux-x86-64.so.2", 64),
		"headers at end": moveHeadersToEnd(synthELF(3, 0, slot, len(slot)+1)),
	} {
		r, err := h.do(data)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, h.stderr.String())
		}
		if r.read != 0 || r.mapped != 0 || r.check != 0 {
			t.Errorf("%s: read=%d mapped=%d check=%d", name, r.read, r.mapped, r.check)
		}
	}
	for _, data := range [][]byte{synthELF(3, 0, slot, len(slot)+1), moveHeadersToEnd(synthELF(3, 0, slot, len(slot)+1))} {
		r, _ := h.do(data)
		if r.slot != slot || r.slotSize != uint64(len(slot)+1) {
			t.Errorf("synthetic slot read as %q (%d bytes)", r.slot, r.slotSize)
		}
	}
	trunc := synthELF(3, 0, slot, len(slot)+1)
	r, _ := h.do(trunc[:len(trunc)-1]) // the data segment now ends past EOF
	if r.read != 0 || r.mapped != -8 {
		t.Errorf("truncated image: read=%d mapped=%d, want mapping refused with ENOEXEC (-8)", r.read, r.mapped)
	}
}
