package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompilerUsage(t *testing.T) {
	for _, args := range [][]string{
		{"compiler"},
		{"compiler", "frob"},
		{"compiler", "bundle", "-o", "x"},
		{"compiler", "bundle", "--lock", "a.json", "--root", "r", "-o", "x"},
		{"compiler", "bundle", "--root", "r"},
		{"compiler", "bundle", "--root", "r", "-o", "x.tar", "--tar", "y.tar"},
		{"compiler", "bundle", "--root", "r", "-o", "x", "extra"},
	} {
		_, _, err := runCLI(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: got %v, want a usage error", args, err)
		}
	}
	out, _, err := runCLI(t, "compiler", "bundle", "--help")
	if !errors.Is(err, errHelpShown) || !strings.Contains(out, "Usage: portable compiler bundle") || !strings.Contains(out, "Example") {
		t.Errorf("compiler bundle --help: %v\n%s", err, out)
	}
}

// A tree that is no compiler gets an error naming it and the fix, and no
// output.
func TestCompilerBundleNotACompiler(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	_, _, err := runCLI(t, "compiler", "bundle", "--root", root, "-o", out)
	if err == nil || !strings.Contains(err.Error(), root) || !strings.Contains(err.Error(), "portable sysroot lock -p gcc-") {
		t.Fatalf("got %v, want an error naming %s and how to lock a compiler", err, root)
	}
	if _, err := os.Lstat(out); !os.IsNotExist(err) {
		t.Errorf("%s exists after a failed bundle", out)
	}
}

// TestCompilerBundleEndToEnd bundles the project's gcc 16 lock, then, from
// a moved read-only copy and with relative paths only, compiles and links
// C and C++ against sysroot v1's dev flavour on this machine (whatever its
// glibc: the compiler runs on its own), runs the programs, and checks that
// the dependency files name no absolute path and that a second bundle is
// byte-identical.
func TestCompilerBundleEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("fetches and unpacks about 60 MB of packages")
	}
	cache := sysrootTestEnv(t)
	dir := t.TempDir()
	lock := "../../../sysroots/gcc16.lock.json"
	if err := os.Mkdir(filepath.Join(dir, "gcc"), 0o755); err != nil {
		t.Fatal(err)
	}
	var tars [2][]byte
	for i := range tars {
		out, stderr, err := runCLI(t, "compiler", "bundle", "--lock", lock, "--cache", cache, "-o", filepath.Join(dir, "gcc", string(rune('a'+i))), "--tar", filepath.Join(dir, "gcc.tar"))
		if err != nil {
			t.Fatalf("compiler bundle: %v\n%s", err, stderr)
		}
		if !strings.Contains(out, "gcc 16 for x86_64-linux-gnu (gcc g++ cpp cc1 cc1plus collect2 lto-wrapper lto1 as ld ld.bfd ar") {
			t.Fatalf("compiler bundle said %q", out)
		}
		data, err := os.ReadFile(filepath.Join(dir, "gcc.tar"))
		if err != nil {
			t.Fatal(err)
		}
		tars[i] = data
		os.Remove(filepath.Join(dir, "gcc.tar"))
	}
	if !bytes.Equal(tars[0], tars[1]) {
		t.Fatal("two bundles of one lock differ")
	}
	ws := filepath.Join(dir, "ws")
	if _, stderr, err := runCLI(t, "sysroot", "build", "--lock", "../../../sysroots/v1.lock.json", "--label", "v1", "--dev", "--cache", cache, "-o", filepath.Join(ws, "sysroot")); err != nil {
		t.Fatalf("sysroot build: %v\n%s", err, stderr)
	}
	// Moved and read-only, as a remote worker gets it.
	if err := os.Rename(filepath.Join(dir, "gcc", "a"), filepath.Join(ws, "tc")); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("chmod", "-R", "a-w", filepath.Join(ws, "tc")).Run(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("chmod", "-R", "u+w", filepath.Join(ws, "tc")).Run() })
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(ws, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("hello.c", "#include <stdio.h>\n#include <stddef.h>\nint main(void) { printf(\"hello %zu\\n\", sizeof(size_t)); return 0; }\n")
	write("hello.cc", "#include <iostream>\n#include <map>\n#include <string>\nint main() { std::map<std::string, int> m{{\"a\", 1}}; std::cout << \"hello \" << m.size() << std::endl; }\n")
	s := "sysroot"
	common := []string{"-Btc/bin/", "-no-canonical-prefixes", "--sysroot=" + s}
	cflags := []string{"-nostdinc", "-isystem", "tc/lib/gcc/x86_64-linux-gnu/16/include", "-isystem", s + "/usr/include/x86_64-linux-gnu", "-isystem", s + "/usr/include", "-fno-canonical-system-headers"}
	cxxflags := []string{"-nostdinc++", "-isystem", s + "/usr/include/c++/12", "-isystem", s + "/usr/include/x86_64-linux-gnu/c++/12"}
	ldflags := []string{"-B" + s + "/usr/lib/gcc/x86_64-linux-gnu/12/", "-B" + s + "/usr/lib/x86_64-linux-gnu/", "-L=/usr/lib/gcc/x86_64-linux-gnu/12", "-L=/usr/lib/x86_64-linux-gnu", "-L=/lib/x86_64-linux-gnu"}
	run := func(prog string, args ...string) string {
		t.Helper()
		cmd := exec.Command(prog, args...)
		cmd.Dir = ws
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	run("tc/bin/gcc", cat(common, cflags, []string{"-MD", "-MF", "c.d", "-c", "-o", "c.o", "hello.c"})...)
	run("tc/bin/gcc", cat(common, ldflags, []string{"-o", "c", "c.o"})...)
	run("tc/bin/g++", cat(common, cxxflags, cflags, []string{"-O2", "-MD", "-MF", "cc.d", "-c", "-o", "cc.o", "hello.cc"})...)
	run("tc/bin/g++", cat(common, ldflags, []string{"-o", "cc", "cc.o", "-lstdc++"})...)
	run("tc/bin/gcc", cat(common, cflags, ldflags, []string{"-flto", "-O2", "-o", "lto", "hello.c"})...)
	run("tc/bin/ar", "rcs", "c.a", "c.o")
	for prog, want := range map[string]string{"c": "hello 8\n", "cc": "hello 1\n", "lto": "hello 8\n"} {
		if got := run("./" + prog); got != want {
			t.Errorf("%s said %q, want %q", prog, got, want)
		}
	}
	for _, d := range []string{"c.d", "cc.d"} {
		data, err := os.ReadFile(filepath.Join(ws, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range strings.Fields(string(data)) {
			if strings.HasPrefix(f, "/") {
				t.Errorf("%s names an absolute path: %s", d, f)
			}
		}
		if !strings.Contains(string(data), "tc/lib/gcc/x86_64-linux-gnu/16/include/stddef.h") {
			t.Errorf("%s does not name the bundled stddef.h:\n%s", d, data)
		}
	}
}
