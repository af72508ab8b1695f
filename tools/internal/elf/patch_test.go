package elf

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// arch describes one checked-in cross binary and how to run it here.
type arch struct {
	file    string
	machine Machine
	class   Class
	data    Data
	triple  string // Debian's cross directory /usr/<triple>
	loader  string // loader file name under /usr/<triple>/lib
	qemu    string // qemu-user binary; "" runs natively
	page    uint64 // largest page size the new segment must respect
}

var arches = []arch{
	{"hello-x86_64", EMX86_64, Class64, Data2LSB, "", "", "", 0x1000},
	{"hello-i386", EM386, Class32, Data2LSB, "i686-linux-gnu", "ld-linux.so.2", "qemu-i386", 0x1000},
	{"hello-aarch64", EMAARCH64, Class64, Data2LSB, "aarch64-linux-gnu", "ld-linux-aarch64.so.1", "qemu-aarch64", 0x10000},
	{"hello-arm", EMARM, Class32, Data2LSB, "arm-linux-gnueabihf", "ld-linux-armhf.so.3", "qemu-arm", 0x10000},
	{"hello-riscv64", EMRISCV, Class64, Data2LSB, "riscv64-linux-gnu", "ld-linux-riscv64-lp64d.so.1", "qemu-riscv64", 0x1000},
	{"hello-ppc64le", EMPPC64, Class64, Data2LSB, "powerpc64le-linux-gnu", "ld64.so.2", "qemu-ppc64le", 0x10000},
	{"hello-s390x", EMS390, Class64, Data2MSB, "s390x-linux-gnu", "ld64.so.1", "qemu-s390x", 0x1000},
	{"hello-mips", EMMIPS, Class32, Data2MSB, "mips-linux-gnu", "ld.so.1", "qemu-mips", 0x10000},
}

// crossPackages names the Debian packages the cross-architecture run tests
// need, for the error when one is missing.
const crossPackages = "qemu-user libc6-i386-cross libc6-arm64-cross libc6-armhf-cross libc6-riscv64-cross libc6-ppc64el-cross libc6-s390x-cross libc6-mips-cross"

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, b []byte) *File {
	t.Helper()
	f, err := Parse(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func mustPatch(t *testing.T, in []byte, opts PatchOptions) []byte {
	t.Helper()
	out, err := Patch(in, opts)
	if err != nil {
		t.Fatalf("Patch(%+v): %v", opts, err)
	}
	return out
}

// checkLayout verifies what the kernel and ld.so rely on: PT_LOADs sorted
// by address and not overlapping, each with vaddr ≡ offset modulo page,
// PT_PHDR at e_phoff and inside a PT_LOAD, one absolute PT_INTERP inside a
// PT_LOAD, and no problems reported.
func checkLayout(t *testing.T, b []byte, page uint64) *File {
	t.Helper()
	f := mustParse(t, b)
	if len(f.Problems) > 0 {
		t.Errorf("problems: %q", f.Problems)
	}
	var prevEnd uint64
	for i, p := range f.Progs {
		switch p.Type {
		case PTLoad:
			if p.Vaddr < prevEnd {
				t.Errorf("PT_LOAD %d at %#x overlaps or precedes the previous one (ends %#x)", i, p.Vaddr, prevEnd)
			}
			prevEnd = p.Vaddr + p.Memsz
			// Every segment must be congruent modulo the smallest page
			// (4 KiB); the last one, Patch's, modulo the largest.
			pg := uint64(0x1000)
			if i == f.ownSegment() {
				pg = page
			}
			if (p.Vaddr-p.Off)%pg != 0 {
				t.Errorf("PT_LOAD %d: vaddr %#x and offset %#x differ modulo %#x", i, p.Vaddr, p.Off, pg)
			}
		case PTPhdr:
			if p.Off != f.phoff || p.Filesz != uint64(len(f.Progs))*uint64(f.phentsize) {
				t.Errorf("PT_PHDR (%#x, %#x) does not describe the table at %#x", p.Off, p.Filesz, f.phoff)
			}
			if !f.inLoad(p.Off, p.Vaddr, p.Filesz) {
				t.Errorf("PT_PHDR is not inside a PT_LOAD")
			}
		}
	}
	if f.interpCount > 1 {
		t.Errorf("%d PT_INTERP", f.interpCount)
	}
	return f
}

// TestTestdataAgainstReadelf reads every checked-in binary and compares it
// with readelf.
func TestTestdataAgainstReadelf(t *testing.T) {
	for _, a := range arches {
		f, err := Open(filepath.Join("testdata", a.file))
		if err != nil {
			t.Fatal(err)
		}
		if f.Machine != a.machine || f.Class != a.class || f.Data != a.data || f.Linkage != Dynamic {
			t.Errorf("%s: %s %s %s %s", a.file, f.Machine, f.Class, f.Data, f.Linkage)
		}
		if !strings.HasPrefix(f.MaxVersion("GLIBC"), "GLIBC_2.") || len(f.Needed) != 1 || f.Needed[0] != "libc.so.6" {
			t.Errorf("%s: max %q needed %q", a.file, f.MaxVersion("GLIBC"), f.Needed)
		}
		want := readelf(t, f.Path)
		got := readelfView{interp: f.Interp, needed: f.Needed, rpath: f.RPath, runpath: f.RunPath, soname: f.SOName, versionNeeds: f.VersionNeeds}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %+v\n want %+v", a.file, got, want)
		}
	}
	for name, want := range map[string]Linkage{"nolibc-x86_64-static": Static, "nolibc-x86_64-static-pie": StaticPIE, "libhello-x86_64.so": Dynamic} {
		f, err := Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if f.Linkage != want {
			t.Errorf("%s: linkage %s, want %s", name, f.Linkage, want)
		}
	}
}

// TestPatchCrossArch patches each architecture's binary to a loader under a
// 150-byte path and a long RPATH, checks the layout and readelf, patches
// again for idempotence, and runs the result (under qemu-user for foreign
// machines) against the cross loader and libc Debian ships.
func TestPatchCrossArch(t *testing.T) {
	for _, a := range arches {
		t.Run(a.machine.String(), func(t *testing.T) {
			t.Parallel()
			in := readTestdata(t, a.file)
			dir := t.TempDir()
			longDir := filepath.Join(dir, strings.Repeat("d", 150))
			if err := os.MkdirAll(longDir, 0o755); err != nil {
				t.Fatal(err)
			}
			sysLoader, libDir := "/lib64/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu"
			if a.triple != "" {
				sysLoader = filepath.Join("/usr", a.triple, "lib", a.loader)
				libDir = filepath.Join("/usr", a.triple, "lib")
			}
			loader := filepath.Join(longDir, "ld.so")
			rpath := filepath.Join(dir, strings.Repeat("r", 120)) + ":" + libDir
			opts := PatchOptions{Interpreter: loader, SetRPath: true, RPath: rpath}
			out := mustPatch(t, in, opts)
			f := checkLayout(t, out, a.page)
			if f.Interp != loader || f.RPath != rpath || f.HasRunPath || f.Machine != a.machine {
				t.Errorf("patched file reads interp %q rpath %q", f.Interp, f.RPath)
			}
			last := f.Progs[f.ownSegment()]
			if last.Align != a.page || (last.Vaddr-last.Off)%a.page != 0 {
				t.Errorf("new segment align %#x vaddr %#x off %#x, want congruent modulo %#x", last.Align, last.Vaddr, last.Off, a.page)
			}
			if again := mustPatch(t, out, opts); !bytes.Equal(again, out) {
				t.Errorf("patching twice changed the file")
			}
			prog := filepath.Join(dir, "hello")
			writeExecutable(t, prog, out)
			gotInterp, paths := readelfInterpPath(t, prog)
			if gotInterp != loader || len(paths) != 1 || paths[0] != "RPATH="+rpath {
				t.Errorf("readelf: %q %q", gotInterp, paths)
			}

			ld, err := os.ReadFile(sysLoader)
			if err != nil {
				t.Fatalf("%v: install the Debian packages %s", err, crossPackages)
			}
			writeExecutable(t, loader, ld)
			cmd := exec.Command(prog, "patched", "x")
			if a.qemu != "" {
				q, err := exec.LookPath(a.qemu)
				if err != nil {
					t.Fatalf("%s not found: install the Debian packages %s", a.qemu, crossPackages)
				}
				cmd = exec.Command(q, prog, "patched", "x")
			}
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			outb, err := cmd.CombinedOutput()
			if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 3 || string(outb) != "hello from patched\n" {
				t.Errorf("running the patched %s: %v, output %q", a.file, err, outb)
			}
		})
	}
}

// writeExecutable writes a file this test then runs (as a program or its
// loader) while parallel subtests fork: it holds syscall.ForkLock for
// reading while the file is open for writing, so that no child forked
// meanwhile inherits the descriptor, which would make the exec fail with
// ETXTBSY until that child execs in turn.
func writeExecutable(t *testing.T, path string, data []byte) {
	t.Helper()
	syscall.ForkLock.RLock()
	err := os.WriteFile(path, data, 0o755)
	syscall.ForkLock.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
}

// fillDynSlack turns the spare DT_NULL entries of a real binary into
// DT_DEBUG entries (which ld.so tolerates), so that adding an entry forces
// the dynamic array to move.
func fillDynSlack(t *testing.T, in []byte) []byte {
	t.Helper()
	f := mustParse(t, in)
	out := bytes.Clone(in)
	dp := f.Progs[f.dynIdx]
	for i := len(f.Dynamic); i < f.dynCap-1; i++ {
		f.encodeDyn(out[dp.Off+uint64(i)*f.dynEntSize():], Dyn{Tag: DTDebug})
	}
	g := mustParse(t, out)
	if len(g.Dynamic) != f.dynCap-1 {
		t.Fatalf("slack not filled: %d of %d", len(g.Dynamic), f.dynCap)
	}
	return out
}

// runHello writes b to dir/name and runs it natively; it must print the
// greeting and exit 3.
func runHello(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	r := runProg(p, name, dir, "patched", "x")
	if r.status != "exit 3" || r.stdout != "hello from patched\n" {
		t.Errorf("%s: %v", name, r)
	}
}

// TestPatchModes covers each way Patch can write on x86_64 binaries and
// runs every result.
func TestPatchModes(t *testing.T) {
	dir := t.TempDir()
	ld, err := os.ReadFile("/lib64/ld-linux-x86-64.so.2")
	if err != nil {
		t.Fatal(err)
	}
	// A loader path shorter than the original one (in place) and a long one.
	short, err := os.MkdirTemp("", "l")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(short)
	shortLoader := filepath.Join(short, "ld")
	if len(shortLoader)+1 > 28 {
		t.Fatalf("temp dir %q too long for the in-place case", short)
	}
	longLoader := filepath.Join(dir, strings.Repeat("L", 200), "ld.so")
	for _, p := range []string{shortLoader, longLoader} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, ld, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	libs := "/usr/lib/x86_64-linux-gnu"
	longRPath := filepath.Join(dir, strings.Repeat("R", 300)) + ":" + libs
	pie := readTestdata(t, "hello-x86_64")
	nopie := readTestdata(t, "hello-x86_64-nopie")
	withRPath := readTestdata(t, "hello-x86_64-rpath")
	withRunPath := readTestdata(t, "hello-x86_64-runpath")

	t.Run("interp in place", func(t *testing.T) {
		out := mustPatch(t, pie, PatchOptions{Interpreter: shortLoader})
		if len(out) != len(pie) {
			t.Errorf("size changed %d -> %d", len(pie), len(out))
		}
		f := checkLayout(t, out, 0x1000)
		if _, size, _ := f.InterpSlot(); f.Interp != shortLoader || size != 28 {
			t.Errorf("interp %q slot %d", f.Interp, size)
		}
		runHello(t, dir, "inplace", out)
	})
	t.Run("rpath in place", func(t *testing.T) {
		out := mustPatch(t, withRPath, PatchOptions{SetRPath: true, RPath: "/usr/lib"})
		if len(out) != len(withRPath) {
			t.Errorf("size changed %d -> %d", len(withRPath), len(out))
		}
		if f := checkLayout(t, out, 0x1000); f.RPath != "/usr/lib" {
			t.Errorf("rpath %q", f.RPath)
		}
		runHello(t, dir, "rpathinplace", out)
	})
	for _, tc := range []struct {
		name string
		in   []byte
		opts PatchOptions
		want func(*File) bool
	}{
		{"grow PIE", pie, PatchOptions{Interpreter: longLoader, SetRPath: true, RPath: longRPath}, func(f *File) bool { return f.RPath == longRPath && !f.HasRunPath }},
		{"grow EXEC", nopie, PatchOptions{Interpreter: longLoader, SetRPath: true, RPath: longRPath}, func(f *File) bool { return f.RPath == longRPath }},
		{"grow EXEC moves .dynamic", fillDynSlack(t, nopie), PatchOptions{Interpreter: longLoader, SetRPath: true, RPath: longRPath}, func(f *File) bool { return f.RPath == longRPath }},
		{"grow PIE moves .dynamic", fillDynSlack(t, pie), PatchOptions{SetRunPath: true, RunPath: longRPath}, func(f *File) bool { return f.RunPath == longRPath && !f.HasRPath }},
		{"runpath to rpath", withRunPath, PatchOptions{SetRPath: true, RPath: libs}, func(f *File) bool { return f.RPath == libs && !f.HasRunPath }},
		{"rpath to runpath", withRPath, PatchOptions{SetRunPath: true, RunPath: libs}, func(f *File) bool { return f.RunPath == libs && !f.HasRPath }},
		{"force rpath", withRunPath, PatchOptions{SetRunPath: true, RunPath: longRPath, ForceRPath: true}, func(f *File) bool { return f.RPath == longRPath && !f.HasRunPath }},
		{"remove search path", withRPath, PatchOptions{SetRPath: true, RPath: ""}, func(f *File) bool { return !f.HasRPath && !f.HasRunPath }},
		{"audit", pie, PatchOptions{SetAudit: true, Audit: "$ORIGIN/../.portable/audit.so"}, func(f *File) bool { return f.Audit == "$ORIGIN/../.portable/audit.so" }},
		{"audit, rpath and slot", nopie, PatchOptions{InterpSlot: 4096, SetRPath: true, RPath: "$ORIGIN/../lib", SetAudit: true, Audit: "$ORIGIN/../../.portable/audit.so"},
			func(f *File) bool {
				return f.Audit == "$ORIGIN/../../.portable/audit.so" && f.RPath == "$ORIGIN/../lib"
			}},
		{"audit on a full .dynamic", fillDynSlack(t, pie), PatchOptions{SetAudit: true, Audit: "/" + strings.Repeat("a", 300)}, func(f *File) bool { return f.Audit == "/"+strings.Repeat("a", 300) }},
		{"slot", pie, PatchOptions{InterpSlot: 4096}, func(f *File) bool {
			_, size, _ := f.InterpSlot()
			return size == 4096 && f.Interp == "/lib64/ld-linux-x86-64.so.2"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := mustPatch(t, tc.in, tc.opts)
			f := checkLayout(t, out, 0x1000)
			if !tc.want(f) {
				t.Errorf("result: interp %q rpath %q/%v runpath %q/%v", f.Interp, f.RPath, f.HasRPath, f.RunPath, f.HasRunPath)
			}
			if again := mustPatch(t, out, tc.opts); !bytes.Equal(again, out) {
				t.Errorf("not idempotent")
			}
			runHello(t, dir, strings.ReplaceAll(tc.name, " ", "_"), out)
		})
	}
}

// TestPatchAuditSeenByLoader adds a DT_AUDIT naming a module that is not
// there: ld.so says it cannot load it (so it read the entry), and the
// program still runs. Removing the entry again leaves no trace of it.
func TestPatchAuditSeenByLoader(t *testing.T) {
	dir := t.TempDir()
	pie := readTestdata(t, "hello-x86_64")
	out := mustPatch(t, pie, PatchOptions{SetAudit: true, Audit: "$ORIGIN/no-such-audit.so"})
	prog := filepath.Join(dir, "hello")
	if err := os.WriteFile(prog, out, 0o755); err != nil {
		t.Fatal(err)
	}
	msg, err := exec.Command(prog).CombinedOutput()
	if err != nil || !strings.Contains(string(msg), "object '$ORIGIN/no-such-audit.so' cannot be loaded as audit interface") {
		t.Errorf("run: %v\n%s", err, msg)
	}
	if oracle, err := exec.Command("readelf", "-d", prog).Output(); err == nil && !strings.Contains(string(oracle), "Audit library: [$ORIGIN/no-such-audit.so]") {
		t.Errorf("readelf -d does not show the audit entry:\n%s", oracle)
	}
	back := mustPatch(t, out, PatchOptions{SetAudit: true})
	if f := checkLayout(t, back, 0x1000); f.Audit != "" {
		t.Errorf("audit %q after removal", f.Audit)
	}
	for _, d := range mustParse(t, back).Dynamic {
		if d.Tag == DTAudit {
			t.Error("DT_AUDIT entry left")
		}
	}
}

// TestInterpSlotRepoint reserves a slot, re-points it in place and checks
// that the normalised bytes stay the same and the program still runs.
func TestInterpSlotRepoint(t *testing.T) {
	dir := t.TempDir()
	ld, err := os.ReadFile("/lib64/ld-linux-x86-64.so.2")
	if err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "a", "ld.so")
	b := filepath.Join(dir, strings.Repeat(strings.Repeat("b", 200)+"/", 5)+"ld.so")
	for _, p := range []string{a, b} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, ld, 0o755)
	}
	in := readTestdata(t, "hello-x86_64")
	slotted := mustPatch(t, in, PatchOptions{Interpreter: a, InterpSlot: 4096, SetRPath: true, RPath: "$ORIGIN/../lib"})
	repointed := bytes.Clone(slotted)
	if err := SetInterpInPlace(repointed, b); err != nil {
		t.Fatal(err)
	}
	if len(repointed) != len(slotted) {
		t.Fatal("size changed")
	}
	f := checkLayout(t, repointed, 0x1000)
	if f.Interp != b {
		t.Errorf("interp %q", f.Interp)
	}
	n1, err := NormalizeInterpSlot(slotted)
	if err != nil {
		t.Fatal(err)
	}
	n2, _ := NormalizeInterpSlot(repointed)
	if !bytes.Equal(n1, n2) {
		t.Error("normalised bytes differ after re-pointing")
	}
	// Patch with the new value is a no-op on the re-pointed file.
	if again := mustPatch(t, repointed, PatchOptions{Interpreter: b, InterpSlot: 4096}); !bytes.Equal(again, repointed) {
		t.Error("Patch rewrote a file whose slot already held the value")
	}
	runHello(t, dir, "repointed", repointed)
	if err := SetInterpInPlace(bytes.Clone(in), b); err == nil || !strings.Contains(err.Error(), "slot has 28") {
		t.Errorf("SetInterpInPlace into a 28-byte slot: %v", err)
	}
	if err := SetInterpInPlace(repointed, "rel/ld.so"); err == nil {
		t.Error("relative interpreter accepted")
	}
}

// TestPatchConverges checks on the machine's files that patching twice is
// byte-identical, that re-patching a grown file with other values of the
// same length does not grow it, and that going back gives the first result.
func TestPatchConverges(t *testing.T) {
	elfs, _ := systemELFs(t, "/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/libexec")
	var sample []string
	for i, p := range elfs {
		if i%4 == 0 {
			sample = append(sample, p)
		}
	}
	v1 := PatchOptions{Interpreter: "/" + strings.Repeat("i", 150) + "/ld.so", SetRPath: true, RPath: "/" + strings.Repeat("r", 100)}
	v2 := PatchOptions{Interpreter: "/" + strings.Repeat("j", 150) + "/ld.so", SetRunPath: true, RunPath: "/" + strings.Repeat("s", 100)}
	n := 0
	for _, p := range sample {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f := mustParse(t, data)
		if f.Linkage != Dynamic {
			continue
		}
		o1, o2 := v1, v2
		if f.Interp == "" {
			o1.Interpreter, o2.Interpreter = "", ""
		}
		a := mustPatch(t, data, o1)
		if again := mustPatch(t, a, o1); !bytes.Equal(again, a) {
			t.Errorf("%s: patching twice differs", p)
		}
		b := mustPatch(t, a, o2)
		if len(b) != len(a) {
			t.Errorf("%s: re-patching a grown file changed its size %d -> %d", p, len(a), len(b))
		}
		if back := mustPatch(t, b, o1); !bytes.Equal(back, a) {
			t.Errorf("%s: patching back does not give the first result", p)
		}
		n++
	}
	t.Logf("%d files", n)
	if n < 300 {
		t.Errorf("only %d files", n)
	}
}

// noSectionHeaders drops the section header table of a real binary (as
// sstrip does).
func noSectionHeaders(t *testing.T, in []byte) []byte {
	out := bytes.Clone(in)
	f := mustParse(t, in)
	if f.Class != Class64 {
		t.Fatal("64-bit only")
	}
	bo := f.bo
	bo.PutUint64(out[40:], 0)
	bo.PutUint16(out[58:], 0)
	bo.PutUint16(out[60:], 0)
	bo.PutUint16(out[62:], 0)
	if g := mustParse(t, out); g.Sections != nil {
		t.Fatal("sections still there")
	}
	return out
}

// TestPatchWithoutSectionHeaders patches and runs a binary that has none.
func TestPatchWithoutSectionHeaders(t *testing.T) {
	dir := t.TempDir()
	ld, _ := os.ReadFile("/lib64/ld-linux-x86-64.so.2")
	loader := filepath.Join(dir, strings.Repeat("n", 130), "ld.so")
	os.MkdirAll(filepath.Dir(loader), 0o755)
	os.WriteFile(loader, ld, 0o755)
	for _, name := range []string{"hello-x86_64", "hello-x86_64-nopie"} {
		in := noSectionHeaders(t, readTestdata(t, name))
		out := mustPatch(t, in, PatchOptions{Interpreter: loader, SetRPath: true, RPath: filepath.Join(dir, strings.Repeat("x", 100))})
		if f := checkLayout(t, out, 0x1000); f.Interp != loader {
			t.Errorf("interp %q", f.Interp)
		}
		runHello(t, dir, name+"-noshdr", out)
	}
}

// TestPatchGoBinary builds a dynamically linked Go program (cgo resolver of
// package net), patches it, with and without section headers, and runs it.
func TestPatchGoBinary(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	os.WriteFile(src, []byte("package main\n\nimport (\n\t\"fmt\"\n\t\"net\"\n\t\"os\"\n)\n\nfunc main() {\n\tfmt.Println(\"hello from\", os.Args[1], net.IPv4len)\n\tos.Exit(3)\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.22\n"), 0o644)
	bin := filepath.Join(dir, "gohello")
	cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	in, _ := os.ReadFile(bin)
	if f := mustParse(t, in); f.Interp == "" {
		t.Fatalf("Go binary is not dynamically linked (%s)", f.Linkage)
	}
	ld, _ := os.ReadFile("/lib64/ld-linux-x86-64.so.2")
	loader := filepath.Join(dir, strings.Repeat("g", 140), "ld.so")
	os.MkdirAll(filepath.Dir(loader), 0o755)
	os.WriteFile(loader, ld, 0o755)
	for name, b := range map[string][]byte{"go": in, "go-noshdr": noSectionHeaders(t, in)} {
		out := mustPatch(t, b, PatchOptions{Interpreter: loader, SetRPath: true, RPath: "/usr/lib/x86_64-linux-gnu"})
		checkLayout(t, out, 0x1000)
		p := filepath.Join(dir, name)
		os.WriteFile(p, out, 0o755)
		r := runProg(p, name, dir, "patched")
		if r.status != "exit 3" || r.stdout != "hello from patched 4\n" {
			t.Errorf("%s: %v", name, r)
		}
	}
}

// TestPatchSharedLibrary sets the RPATH of a shared library and loads it
// through a program that needs it.
func TestPatchSharedLibrary(t *testing.T) {
	in := readTestdata(t, "libhello-x86_64.so")
	out := mustPatch(t, in, PatchOptions{SetRPath: true, RPath: "$ORIGIN/" + strings.Repeat("l", 200)})
	f := checkLayout(t, out, 0x1000)
	if f.SOName != "libhello.so.1" || f.RPath != "$ORIGIN/"+strings.Repeat("l", 200) {
		t.Errorf("soname %q rpath %q", f.SOName, f.RPath)
	}
	if _, err := Patch(in, PatchOptions{Interpreter: "/lib64/ld-linux-x86-64.so.2"}); err == nil || !strings.Contains(err.Error(), "no PT_INTERP") {
		t.Errorf("setting the interpreter of a library: %v", err)
	}
	// ld.so loads the patched library (it runs no code of it here: main
	// is called only for executables, so dlopen via the loader's --list).
	dir := t.TempDir()
	p := filepath.Join(dir, "libhello.so.1")
	os.WriteFile(p, out, 0o755)
	res, err := exec.Command("/lib64/ld-linux-x86-64.so.2", "--list", p).CombinedOutput()
	if err != nil || !strings.Contains(string(res), "libc.so.6 =>") {
		t.Errorf("ld.so --list of the patched library: %v\n%s", err, res)
	}
}

// TestPatchMovesPhdrTableWhenNoRoom makes the program header table
// impossible to grow in place (no section headers, notes hidden as
// PT_NULL, so the bytes after the table are of unknown use) and checks the
// fallback: the table moves into the new segment, which keeps the first
// PT_LOAD's address-minus-offset so that AT_PHDR computed the pre-5.18
// way (as qemu-user still does) is right. The result runs natively and
// under qemu-aarch64.
func TestPatchMovesPhdrTableWhenNoRoom(t *testing.T) {
	dir := t.TempDir()
	for _, a := range []arch{arches[0], arches[2]} {
		in := noSectionHeaders(t, readTestdata(t, a.file))
		f := mustParse(t, in)
		for i, p := range f.Progs {
			if p.Type == PTNote || p.Type == PTGNUProperty {
				f.bo.PutUint32(in[f.phoff+uint64(i)*uint64(f.phentsize):], uint32(PTNull))
			}
		}
		sysLoader := "/lib64/ld-linux-x86-64.so.2"
		rpath := "/usr/lib/x86_64-linux-gnu"
		if a.triple != "" {
			sysLoader = filepath.Join("/usr", a.triple, "lib", a.loader)
			rpath = filepath.Join("/usr", a.triple, "lib")
		}
		loader := filepath.Join(dir, a.file, strings.Repeat("m", 150), "ld.so")
		os.MkdirAll(filepath.Dir(loader), 0o755)
		ld, err := os.ReadFile(sysLoader)
		if err != nil {
			t.Fatalf("%v: install the Debian packages %s", err, crossPackages)
		}
		os.WriteFile(loader, ld, 0o755)
		out := mustPatch(t, in, PatchOptions{Interpreter: loader, SetRPath: true, RPath: rpath})
		g := checkLayout(t, out, a.page)
		own := g.Progs[g.ownSegment()]
		var first Prog
		for _, p := range g.Progs {
			if p.Type == PTLoad {
				first = p
				break
			}
		}
		if g.phoff != own.Off || own.Vaddr-own.Off != first.Vaddr-first.Off {
			t.Errorf("%s: table at %#x, new segment off %#x vaddr %#x, first PT_LOAD delta %#x", a.file, g.phoff, own.Off, own.Vaddr, first.Vaddr-first.Off)
		}
		if again := mustPatch(t, out, PatchOptions{Interpreter: loader, SetRPath: true, RPath: rpath}); !bytes.Equal(again, out) {
			t.Errorf("%s: not idempotent", a.file)
		}
		p := filepath.Join(dir, a.file+".bin")
		os.WriteFile(p, out, 0o755)
		cmd := exec.Command(p, "patched", "x")
		if a.qemu != "" {
			q, err := exec.LookPath(a.qemu)
			if err != nil {
				t.Fatalf("%s not found: install the Debian packages %s", a.qemu, crossPackages)
			}
			cmd = exec.Command(q, p, "patched", "x")
		}
		res, err := cmd.CombinedOutput()
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 3 || string(res) != "hello from patched\n" {
			t.Errorf("%s: %v %q", a.file, err, res)
		}
	}
}

// TestPatchKeepOrigin: the $ORIGIN entries of a program's search path (a
// Bazel build's _solib_<cpu> directories, say) survive a new RPATH, ahead of
// it and once each; other entries are replaced; a second patch changes
// nothing.
func TestPatchKeepOrigin(t *testing.T) {
	in, err := os.ReadFile("testdata/hello-x86_64-runpath")
	if err != nil {
		t.Fatal(err)
	}
	bazelish, err := Patch(in, PatchOptions{SetRunPath: true, RunPath: "$ORIGIN/../_solib_k8/_U_S_Sapp:/opt/old/lib:${ORIGIN}/plugins:$ORIGIN/../_solib_k8/_U_S_Sapp"})
	if err != nil {
		t.Fatal(err)
	}
	const sysroot = "/usr/sysroot/v2/lib/x86_64-linux-gnu"
	opts := PatchOptions{SetRPath: true, RPath: sysroot, KeepOrigin: true}
	out, err := Patch(bazelish, opts)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "$ORIGIN/../_solib_k8/_U_S_Sapp:${ORIGIN}/plugins:" + sysroot; f.RPath != want || f.HasRunPath {
		t.Errorf("RPATH %q (RUNPATH present: %v), want %q and no RUNPATH", f.RPath, f.HasRunPath, want)
	}
	again, err := Patch(out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, out) {
		t.Error("patching again with the same options changed the file")
	}
	// Without KeepOrigin the new path replaces everything.
	plain, err := Patch(bazelish, PatchOptions{SetRPath: true, RPath: sysroot})
	if err != nil {
		t.Fatal(err)
	}
	if g, err := Parse(bytes.NewReader(plain), int64(len(plain))); err != nil || g.RPath != sysroot {
		t.Errorf("without KeepOrigin: RPATH %q (%v), want %q", g.RPath, err, sysroot)
	}
	if _, err := Patch(bazelish, PatchOptions{Interpreter: "/x/ld.so", KeepOrigin: true}); err == nil {
		t.Error("KeepOrigin without a new search path was accepted")
	}
}
