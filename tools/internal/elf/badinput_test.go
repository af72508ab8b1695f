package elf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// corrupt returns a copy of the x86_64 test binary changed by edit, which
// gets the parsed original to find offsets.
func corrupt(t *testing.T, edit func(f *File, b []byte)) []byte {
	t.Helper()
	b := readTestdata(t, "hello-x86_64")
	edit(mustParse(t, b), b)
	return b
}

func progOff(f *File, typ ProgType) uint64 {
	for i, p := range f.Progs {
		if p.Type == typ {
			return f.phoff + uint64(i)*uint64(f.phentsize)
		}
	}
	panic("no " + typ.String())
}

func TestOpenBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hello := readTestdata(t, "hello-x86_64")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop")
	os.Symlink(loop, loop)
	for _, tc := range []struct {
		name, path, want string
		notELF           bool
	}{
		{"text", write("text", []byte("hello world\n")), `not an ELF file (starts with "hell")`, true},
		{"empty", write("empty", nil), "is empty", true},
		{"script", write("script", []byte("#!/bin/sh -e\nexit 0\n")), "is a script (#!/bin/sh -e)", true},
		{"magic only", write("magic", []byte("\x7fELF")), "truncated ELF header", false},
		{"truncated header", write("trunc40", hello[:40]), "truncated ELF header", false},
		{"truncated phdrs", write("trunc100", hello[:100]), "runs past the end of the file", false},
		{"truncated body", write("trunc5000", hello[:5000]), "runs past the end of the file", false},
		{"directory", dir, "is a directory", false},
		{"fifo", fifo, "is a FIFO, not an ELF file", false},
		{"symlink loop", loop, "too many levels of symbolic links", false},
		{"missing", filepath.Join(dir, "nope"), "no such file or directory", false},
		{"bad class", write("class", corrupt(t, func(f *File, b []byte) { b[4] = 7 })), "unknown ELF class 7", false},
		{"bad data", write("data", corrupt(t, func(f *File, b []byte) { b[5] = 9 })), "unknown data encoding 9", false},
		{"phoff past EOF", write("phoff", corrupt(t, func(f *File, b []byte) { f.bo.PutUint64(b[32:], 1<<62) })), "program header table", false},
		{"phentsize too small", write("phent", corrupt(t, func(f *File, b []byte) { f.bo.PutUint16(b[54:], 8) })), "e_phentsize is 8, not the size of a program header", false},
		{"huge e_phnum", write("phnum", corrupt(t, func(f *File, b []byte) { f.bo.PutUint16(b[56:], 0xfffe) })), "program header table of 65534 entries of 56 bytes is over 64 KiB, which the kernel refuses to load (ENOEXEC)", false},
		{"e_phnum PN_XNUM", write("xnum", corrupt(t, func(f *File, b []byte) { f.bo.PutUint16(b[56:], 0xffff) })), "e_phnum is PN_XNUM (0xffff), which the kernel refuses to load (ENOEXEC)", false},
		{"e_phnum 0", write("phnum0", corrupt(t, func(f *File, b []byte) { f.bo.PutUint16(b[56:], 0) })), "no program headers (e_phnum 0)", false},
		{"phoff with the top bit set", write("phofftop", corrupt(t, func(f *File, b []byte) { f.bo.PutUint64(b[32:], 0xffffffffffffff00) })), "malformed ELF at offset 0xffffffffffffff00", false},
		{"huge e_shnum", write("shnum", corrupt(t, func(f *File, b []byte) { f.bo.PutUint16(b[60:], 0xfffe) })), "section header table", false},
		{"section size 0xFFFF...", write("shsize", corrupt(t, func(f *File, b []byte) {
			f.bo.PutUint64(b[f.shoff+5*uint64(f.shentsize)+32:], ^uint64(0))
		})), "section 5 runs past the end of the file", false},
		{"segment size 0xFFFF...", write("phsize", corrupt(t, func(f *File, b []byte) {
			f.bo.PutUint64(b[progOff(f, PTDynamic)+32:], ^uint64(0))
		})), "runs past the end of the file", false},
		{"DT_STRSZ huge", write("strsz", corrupt(t, func(f *File, b []byte) {
			dp := f.Progs[f.dynIdx]
			for i, d := range f.Dynamic {
				if d.Tag == DTStrsz {
					f.bo.PutUint64(b[dp.Off+uint64(i)*16+8:], 1<<40)
				}
			}
		})), "dynamic string table", false},
		{"DT_VERNEEDNUM huge", write("verneednum", corrupt(t, func(f *File, b []byte) {
			dp := f.Progs[f.dynIdx]
			for i, d := range f.Dynamic {
				if d.Tag == DTVerneedNum {
					f.bo.PutUint64(b[dp.Off+uint64(i)*16+8:], 1<<40)
				}
			}
		})), "DT_VERNEEDNUM", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.path+": ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line starting with the path and containing %q", msg, tc.want)
			}
			if errors.Is(err, ErrNotELF) != tc.notELF {
				t.Errorf("errors.Is(ErrNotELF) = %v", !tc.notELF)
			}
		})
	}
}

// TestOpenEveryTruncation cuts the test binaries at many lengths: each cut
// is an error, never a panic.
func TestOpenEveryTruncation(t *testing.T) {
	for _, a := range arches {
		b := readTestdata(t, a.file)
		for n := 0; n < len(b); n += 1 + n/50 {
			if _, err := Parse(bytes.NewReader(b[:n]), int64(n)); err == nil {
				t.Errorf("%s cut to %d bytes parses", a.file, n)
			}
		}
	}
}

// TestOpenUnreadable drops the file-system capabilities of root for one
// thread (setfsuid to nobody) so that a mode-000 file cannot be opened.
func TestOpenUnreadable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, readTestdata(t, "hello-x86_64"), 0o000); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Dir(p), 0o755)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	prev, _ := unix.SetfsuidRetUid(65534)
	_, err := Open(p)
	unix.Setfsuid(prev)
	if err == nil || !strings.Contains(err.Error(), p+": cannot open: permission denied") {
		t.Fatalf("got %v", err)
	}
}

// TestProblemsAndRefusals covers the PT_INTERP oddities: inspect reports
// them, Patch refuses to keep them and fixes them when given an absolute
// interpreter.
func TestProblemsAndRefusals(t *testing.T) {
	relative := corrupt(t, func(f *File, b []byte) {
		ip := f.Progs[f.interpIdx]
		copy(b[ip.Off:], "lib64/ld-linux-x86-64.so.2\x00\x00")
	})
	twoInterp := corrupt(t, func(f *File, b []byte) {
		f.bo.PutUint32(b[progOff(f, PTNote):], uint32(PTInterp))
	})
	outside := corrupt(t, func(f *File, b []byte) {
		o := f.phoff + uint64(f.interpIdx)*uint64(f.phentsize)
		f.bo.PutUint64(b[o+16:], 0x7fff0000)
		f.bo.PutUint64(b[o+24:], 0x7fff0000)
	})
	static := readTestdata(t, "nolibc-x86_64-static")
	staticPIE := readTestdata(t, "nolibc-x86_64-static-pie")
	good := "/lib64/ld-linux-x86-64.so.2"
	for _, tc := range []struct {
		name    string
		in      []byte
		problem string // in File.Problems
		opts    PatchOptions
		refusal string // Patch error, "" if it must succeed
	}{
		{"relative kept", relative, "is a relative path", PatchOptions{SetRPath: true, RPath: "/x"}, "broken PT_INTERP"},
		{"relative fixed", relative, "is a relative path", PatchOptions{Interpreter: good}, ""},
		{"two PT_INTERP", twoInterp, "2 PT_INTERP headers", PatchOptions{Interpreter: good}, "2 PT_INTERP headers"},
		{"outside PT_LOAD kept", outside, "outside every PT_LOAD", PatchOptions{SetRPath: true, RPath: "/x"}, "broken PT_INTERP"},
		{"outside PT_LOAD fixed", outside, "outside every PT_LOAD", PatchOptions{Interpreter: good}, ""},
		{"static", static, "", PatchOptions{Interpreter: good}, "is statically linked (static, no PT_INTERP)"},
		{"static rpath", static, "", PatchOptions{SetRPath: true, RPath: "/x"}, "no dynamic section"},
		{"static-pie", staticPIE, "", PatchOptions{Interpreter: good}, "is statically linked (static-pie"},
		{"relative interpreter", readTestdata(t, "hello-x86_64"), "", PatchOptions{Interpreter: "ld.so"}, "not an absolute path"},
		{"slot too big", readTestdata(t, "hello-x86_64"), "", PatchOptions{InterpSlot: 4097}, "4096"},
		{"slot too small", readTestdata(t, "hello-x86_64"), "", PatchOptions{Interpreter: "/" + strings.Repeat("a", 100), InterpSlot: 50}, "needs 102 bytes but the interpreter slot is 50"},
		{"path too long", readTestdata(t, "hello-x86_64"), "", PatchOptions{Interpreter: "/" + strings.Repeat("a", 4096)}, "at most 4095"},
		{"both paths", readTestdata(t, "hello-x86_64"), "", PatchOptions{SetRPath: true, SetRunPath: true}, "not both"},
		{"not ELF", []byte("#!/bin/sh\n"), "", PatchOptions{Interpreter: good}, "is a script"},
		{"object file", corrupt(t, func(f *File, b []byte) { f.bo.PutUint16(b[16:], uint16(TypeRel)) }), "", PatchOptions{Interpreter: good}, "is a REL file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.problem != "" {
				f := mustParse(t, tc.in)
				if !strings.Contains(strings.Join(f.Problems, "\n"), tc.problem) {
					t.Errorf("problems %q, want %q", f.Problems, tc.problem)
				}
			}
			out, err := Patch(tc.in, tc.opts)
			if tc.refusal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refusal) {
					t.Errorf("Patch: %v, want %q", err, tc.refusal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := checkLayout(t, out, 0x1000); g.Interp != good {
				t.Errorf("interp %q", g.Interp)
			}
		})
	}
}

// TestPatchFileFailureLeavesNothing checks that a failed patch leaves the
// input untouched and writes no output or temp file, and that a no-op in
// place does not rewrite the file.
func TestPatchFileFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "static")
	orig := readTestdata(t, "nolibc-x86_64-static")
	os.WriteFile(in, orig, 0o751)
	out := filepath.Join(dir, "out")
	if _, err := PatchFile(in, out, PatchOptions{Interpreter: "/lib64/ld-linux-x86-64.so.2"}); err == nil || !strings.HasPrefix(err.Error(), in+": ") {
		t.Fatalf("got %v", err)
	}
	if _, err := PatchFile(in, "", PatchOptions{Interpreter: "/lib64/ld-linux-x86-64.so.2"}); err == nil {
		t.Fatal("in-place patch of a static binary succeeded")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the input", len(ents))
	}
	if b, _ := os.ReadFile(in); !bytes.Equal(b, orig) {
		t.Error("input changed")
	}
	// Output mode follows the input; a no-op in place keeps the inode.
	hello := filepath.Join(dir, "hello")
	os.WriteFile(hello, readTestdata(t, "hello-x86_64"), 0o751)
	if _, err := PatchFile(hello, out, PatchOptions{SetRPath: true, RPath: "$ORIGIN"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o751 {
		t.Errorf("output mode %v", st.Mode())
	}
	before, _ := os.Stat(out)
	changed, err := PatchFile(out, "", PatchOptions{SetRPath: true, RPath: "$ORIGIN"})
	after, _ := os.Stat(out)
	if err != nil || changed || !os.SameFile(before, after) {
		t.Errorf("no-op in place: changed=%v err=%v same inode=%v", changed, err, os.SameFile(before, after))
	}
}
