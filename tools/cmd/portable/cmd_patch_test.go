package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestPatchCLI(t *testing.T) {
	dir := t.TempDir()
	ls := filepath.Join(dir, "ls")
	copyFile(t, "/usr/bin/ls", ls)
	loader := filepath.Join(dir, strings.Repeat("l", 130), "ld-linux-x86-64.so.2")
	os.MkdirAll(filepath.Dir(loader), 0o755)
	copyFile(t, "/lib64/ld-linux-x86-64.so.2", loader)
	out := filepath.Join(dir, "ls.patched")
	args := []string{"patch", "--set-interpreter", loader, "--set-rpath", "$ORIGIN/../lib:/usr/lib/x86_64-linux-gnu", "--interp-slot", "4096", "-o", out, ls}
	if _, stderr, err := runCLI(t, args...); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, size, _ := f.InterpSlot(); f.Interp != loader || f.RPath != "$ORIGIN/../lib:/usr/lib/x86_64-linux-gnu" || size != 4096 {
		t.Errorf("interp %q slot %d rpath %q", f.Interp, size, f.RPath)
	}
	res, err := exec.Command(out, "--version").Output()
	if err != nil || !strings.Contains(string(res), "coreutils") {
		t.Errorf("patched ls: %v %q", err, res)
	}
	// Again, in place on the output: nothing changes.
	before, _ := os.ReadFile(out)
	if _, _, err := runCLI(t, append(args[:len(args)-3], out)...); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Error("second patch changed the file")
	}
	// --set-runpath and removal.
	if _, _, err := runCLI(t, "patch", "--set-runpath", "/opt/x", ls); err != nil {
		t.Fatal(err)
	}
	if f, _ := elf.Open(ls); f.RunPath != "/opt/x" || f.HasRPath {
		t.Errorf("runpath %q rpath %v", f.RunPath, f.HasRPath)
	}
	if _, _, err := runCLI(t, "patch", "--set-rpath", "", ls); err != nil {
		t.Fatal(err)
	}
	if f, _ := elf.Open(ls); f.HasRunPath || f.HasRPath {
		t.Error("search path not removed")
	}
	// --keep-origin: the $ORIGIN entries stay, ahead of the new path.
	if _, _, err := runCLI(t, "patch", "--set-runpath", "$ORIGIN/../_solib_k8/x:/opt/old", ls); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, "patch", "--set-rpath", "/usr/sysroot/v2/lib", "--keep-origin", ls); err != nil {
		t.Fatal(err)
	}
	if f, _ := elf.Open(ls); f.RPath != "$ORIGIN/../_solib_k8/x:/usr/sysroot/v2/lib" || f.HasRunPath {
		t.Errorf("--keep-origin: rpath %q (runpath present %v)", f.RPath, f.HasRunPath)
	}
}

func TestPatchCLIErrors(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	for _, tc := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"patch", "/usr/bin/ls"}, true, "nothing to do"},
		{[]string{"patch", "--set-rpath", "/a", "--set-runpath", "/b", "/usr/bin/ls"}, true, "exclusive"},
		{[]string{"patch", "--force-rpath", "--set-rpath", "/a", "/usr/bin/ls"}, true, "--force-rpath"},
		{[]string{"patch", "--interp-slot", "5000", "/usr/bin/ls"}, true, "4096"},
		{[]string{"patch", "--keep-origin", "--set-interpreter", "/lib/ld.so", "/usr/bin/ls"}, true, "--keep-origin only applies"},
		{[]string{"patch", "--set-rpath", "/a"}, true, "no FILE given"},
		{[]string{"patch", "--set-rpath", "/a", "-o", script, "/usr/bin/ls", "/usr/bin/true"}, true, "must name an existing directory"},
		{[]string{"patch", "--set-rpath", "/a", "-o", dir, "/usr/bin/ls", "/bin/ls"}, true, "would both be written to"},
		{[]string{"patch", "--set-interpreter", "ld.so", "-o", filepath.Join(dir, "o"), "/usr/bin/ls"}, false, "not an absolute path"},
		{[]string{"patch", "--set-interpreter", "/lib/ld.so", script}, false, script + ": is a script"},
		{[]string{"patch", "--set-interpreter", "/lib/ld.so", dir}, false, dir + ": is a directory"},
	} {
		_, _, err := runCLI(t, tc.args...)
		var ue usageError
		if err == nil || errors.As(err, &ue) != tc.usage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v (usage error %v), want %q", tc.args, err, errors.As(err, &ue), tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); err == nil {
		t.Error("a failed patch wrote its output")
	}
}

// TestPatchSeveralFiles: several FILEs are patched in one run, in place or
// into -o DIR; a failure names the file and says which were patched.
func TestPatchSeveralFiles(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, n := range []string{"true", "false", "ls"} {
		data, err := os.ReadFile("/usr/bin/" + n)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, n)
		if err := os.WriteFile(f, data, 0o755); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	outDir := filepath.Join(dir, "out")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"patch", "--set-rpath", "/opt/x", "-o", outDir}, files...)
	if _, _, err := runCLI(t, args...); err != nil {
		t.Fatal(err)
	}
	args = append([]string{"patch", "--set-rpath", "/opt/x"}, files...)
	if _, _, err := runCLI(t, args...); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		inPlace, _ := os.ReadFile(f)
		copied, _ := os.ReadFile(filepath.Join(outDir, filepath.Base(f)))
		if len(inPlace) == 0 || !bytes.Equal(inPlace, copied) {
			t.Errorf("%s: in place and -o DIR differ", f)
		}
		if ef, err := elf.Open(f); err != nil || ef.RPath != "/opt/x" {
			t.Errorf("%s: RPATH not set (%v)", f, err)
		}
	}
	// A script second of three: the first is patched, the rest are not.
	script := filepath.Join(dir, "s")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	before, _ := os.ReadFile(files[2])
	_, _, err := runCLI(t, "patch", "--set-rpath", "/opt/y", files[0], script, files[2])
	if err == nil || !strings.Contains(err.Error(), script+": is a script") || !strings.Contains(err.Error(), "patched: the 1 FILE(s) before it") {
		t.Errorf("batch with a script: %v", err)
	}
	if ef, _ := elf.Open(files[0]); ef == nil || ef.RPath != "/opt/y" {
		t.Errorf("the file before the failure was not patched")
	}
	if after, _ := os.ReadFile(files[2]); !bytes.Equal(before, after) {
		t.Errorf("the file after the failure was changed")
	}
}
