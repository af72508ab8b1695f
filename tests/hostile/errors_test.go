package hostile

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageErrors: a usage mistake is one line on stderr with one prefix,
// then where to find help; exit 2; stdout untouched; help only on --help.
func TestUsageErrors(t *testing.T) {
	dir := workDir(t)
	cases := []struct {
		args   []string
		stderr string
	}{
		{nil, "portable: no command given\nrun 'portable --help' for usage\n"},
		{[]string{"frobnicate"}, "portable: unknown command \"frobnicate\"\nrun 'portable --help' for usage\n"},
		{[]string{"bundle", "--bogus", "/bin/true"}, "portable: bundle: flag provided but not defined: -bogus\nrun 'portable bundle --help' for usage\n"},
		{[]string{"bundle"}, "portable: bundle: name at least one executable\nrun 'portable bundle --help' for usage\n"},
		{[]string{"sysroot", "lock", "--nope"}, "portable: sysroot lock: flag provided but not defined: -nope\nrun 'portable sysroot lock --help' for usage\n"},
		{[]string{"patch", "--set-interpreter", "", "/bin/true"}, "portable: patch: --set-interpreter is empty; give the absolute path of the new loader\nrun 'portable patch --help' for usage\n"},
		{[]string{"verify", "--as", "rel", "x"}, "portable: verify: --as \"rel\": want a clean absolute path in UTF-8\nrun 'portable verify --help' for usage\n"},
	}
	for _, c := range cases {
		r := cli(t, dir, nil, c.args...)
		if r.code != 2 || r.stdout != "" || r.stderr != c.stderr {
			t.Errorf("portable %q: %v\nwant exit 2, no stdout, stderr %q", c.args, r, c.stderr)
		}
	}
	r := cli(t, dir, nil, "bundle", "--help")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: portable bundle ") || r.stderr != "" {
		t.Errorf("bundle --help: %v", r)
	}
}

// TestManyMissingLibraries: 2000 missing libraries give a bounded message
// that names the first ones, counts the rest and says the advice once.
func TestManyMissingLibraries(t *testing.T) {
	dir := workDir(t)
	if err := os.WriteFile(filepath.Join(dir, "stub.c"), []byte("int stub;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.c"), []byte("int main(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// One stub without a DT_SONAME, under 2000 names: each link records
	// the name it was given.
	gcc(t, dir, "-shared", "-fPIC", "-o", "stub.so", "stub.c")
	stub, err := os.ReadFile(filepath.Join(dir, "stub.so"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "libs"), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-o", "app", "main.c", "-Llibs", "-Wl,--no-as-needed"}
	for i := 0; i < 2000; i++ {
		name := fmt.Sprintf("libgone%04d.so", i)
		if err := os.WriteFile(filepath.Join(dir, "libs", name), stub, 0o755); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-l:"+name)
	}
	gcc(t, dir, args...)
	os.RemoveAll(filepath.Join(dir, "libs"))

	for _, cmd := range [][]string{{"deps", "app"}, {"bundle", "-o", "out", "app"}} {
		r := cli(t, dir, nil, cmd...)
		if r.code != 1 {
			t.Fatalf("%v: %v", cmd, r)
		}
		if len(r.stderr) > 8<<10 {
			t.Errorf("%v: %d bytes of error, want a bounded message", cmd, len(r.stderr))
		}
		for _, w := range []string{"2000 libraries", "libgone0000.so (needed by ", "libgone0019.so", "and 1980 more"} {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v: stderr lacks %q: %v", cmd, w, r)
			}
		}
		if strings.Contains(r.stderr, "libgone0020.so") {
			t.Errorf("%v: lists more than 20 names: %v", cmd, r)
		}
		if n := strings.Count(r.stderr, "ship"); n != 1 {
			t.Errorf("%v: the advice is said %d times, want once: %v", cmd, n, r)
		}
		if n := strings.Count(r.stderr, "\n"); n != 1 {
			t.Errorf("%v: %d lines, want one: %v", cmd, n, r)
		}
	}
	mustNotExist(t, filepath.Join(dir, "out"))
}

// corrupt writes a copy of /bin/true with one header field changed.
func corrupt(t *testing.T, dir, name string, off int, val uint64, width int) string {
	t.Helper()
	data, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	switch width {
	case 2:
		binary.LittleEndian.PutUint16(data[off:], uint16(val))
	case 8:
		binary.LittleEndian.PutUint64(data[off:], val)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestBadHeaders: headers the kernel refuses are errors naming the file
// and the cause, never "static"; offsets print unsigned.
func TestBadHeaders(t *testing.T) {
	dir := workDir(t)
	cases := []struct {
		name, file string
		want       string
	}{
		{"PN_XNUM", corrupt(t, dir, "xnum", 56, 0xffff, 2), "xnum: malformed ELF at offset 0x38: e_phnum is PN_XNUM (0xffff), which the kernel refuses to load (ENOEXEC)"},
		{"no program headers", corrupt(t, dir, "phnum0", 56, 0, 2), "phnum0: malformed ELF at offset 0x38: no program headers (e_phnum 0)"},
		{"table over 64 KiB", corrupt(t, dir, "phnum2000", 56, 2000, 2), "phnum2000: malformed ELF at offset 0x38: program header table of 2000 entries of 56 bytes is over 64 KiB"},
		{"offset with the top bit set", corrupt(t, dir, "phoff", 32, 0xffffffffffffff00, 8), "phoff: malformed ELF at offset 0xffffffffffffff00: program header table"},
	}
	for _, c := range cases {
		for _, cmd := range [][]string{{"inspect", c.file}, {"deps", c.file}, {"bundle", "-o", "out", c.file}, {"patch", "--set-rpath", "/x", "-o", "out", c.file}} {
			r := cli(t, dir, nil, cmd...)
			expectFail(t, r, 1, c.want)
			if strings.Contains(r.stderr, "-0x") || strings.Contains(r.stderr, "static") {
				t.Errorf("%s %v: %v", c.name, cmd, r)
			}
			mustNotExist(t, filepath.Join(dir, "out"))
		}
	}
}

// TestAliasedLibrary: a program needs libfoo.so.1 and libalias.so.1,
// the second a compat symlink to the first. ld.so loads the file once;
// the bundle carries it under both names, passes its self-check and runs
// moved.
func TestAliasedLibrary(t *testing.T) {
	dir := workDir(t)
	for name, src := range map[string]string{
		"foo.c":   "int foo(void) { return 42; }\n",
		"alias.c": "int alias_stub;\n",
		"main.c":  "#include <stdio.h>\nint foo(void);\nint main(void) { printf(\"%d\\n\", foo()); return 0; }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lib := filepath.Join(dir, "lib")
	os.Mkdir(lib, 0o755)
	gcc(t, dir, "-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-o", "lib/libfoo.so.1", "foo.c")
	gcc(t, dir, "-shared", "-fPIC", "-Wl,-soname,libalias.so.1", "-o", "lib/libalias.so.1", "alias.c")
	os.Symlink("libfoo.so.1", filepath.Join(lib, "libfoo.so"))
	os.Symlink("libalias.so.1", filepath.Join(lib, "libalias.so"))
	gcc(t, dir, "-o", "app", "main.c", "-Llib", "-Wl,--no-as-needed", "-lfoo", "-lalias", "-Wl,-rpath,"+lib)
	// Now the distribution's compat link: libalias.so.1 -> libfoo.so.1.
	os.Remove(filepath.Join(lib, "libalias.so.1"))
	if err := os.Symlink("libfoo.so.1", filepath.Join(lib, "libalias.so.1")); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(filepath.Join(dir, "app")).CombinedOutput(); err != nil || string(out) != "42\n" {
		t.Fatalf("the program on the host: %q %v", out, err)
	}
	r := cli(t, dir, nil, "bundle", "-o", "b", "app")
	if r.code != 0 {
		t.Fatalf("bundle: %v", r)
	}
	foo, err1 := os.Stat(filepath.Join(dir, "b/lib/libfoo.so.1"))
	alias, err2 := os.Stat(filepath.Join(dir, "b/lib/libalias.so.1"))
	if err1 != nil || err2 != nil || !os.SameFile(foo, alias) {
		t.Errorf("want lib/libfoo.so.1 and lib/libalias.so.1 as one file (hard link): %v %v", err1, err2)
	}
	moved := filepath.Join(dir, "moved")
	if err := os.Rename(filepath.Join(dir, "b"), moved); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(lib) // nothing can come from the build tree
	if out, err := exec.Command(filepath.Join(moved, "bin/app")).CombinedOutput(); err != nil || string(out) != "42\n" {
		t.Errorf("the bundle, moved: %q %v", out, err)
	}
	if r := cli(t, dir, nil, "verify", "moved"); r.code != 0 {
		t.Errorf("verify: %v", r)
	}
}

// TestLauncherPathTooLong runs a launcher whose path is longer than
// PATH_MAX: the kernel cannot give /proc/self/exe, and the message says
// that, not that /proc is missing.
func TestLauncherPathTooLong(t *testing.T) {
	dir := workDir(t)
	bundleTrue(t, dir, "b")
	comp := strings.Repeat("d", 200)
	script := `set -e
for i in $(seq 1 22); do mkdir "$1"; cd "$1"; done
mv "$2" b
./b/bin/true`
	cmd := exec.Command("bash", "-c", script, "bash", comp, filepath.Join(dir, "b"))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	want := "portable-launcher: /proc/self/exe: readlink: File name too long (errno 36); the launcher's own path is longer than PATH_MAX (4096 bytes); move the bundle to a shorter path\n"
	if exitCode(err) != 127 || string(out) != want {
		t.Errorf("exit %d, output %.300q; want 127 and %q", exitCode(err), out, want)
	}
	os.RemoveAll(filepath.Join(dir, comp))
}
