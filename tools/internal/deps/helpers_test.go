package deps

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// This file builds real ELF fixtures with gcc inside the test's temporary
// directory. Libraries are built with -nostdlib so a fixture root needs
// no libc; executables get the normal PT_INTERP of gcc
// (/lib64/ld-linux-x86-64.so.2). DT_NEEDED names are set by linking
// against stub libraries whose SONAME is the wanted name, so the files
// placed in the search directories can differ from what was linked.

func needTool(t testing.TB, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s not found; install the Debian package %s", tool, pkg)
	}
}

// spec describes one fixture object.
type spec struct {
	soname  string   // DT_SONAME ("" for none)
	needed  []string // DT_NEEDED, in order
	rpath   string   // DT_RPATH
	runpath string   // DT_RUNPATH
	m32     bool     // build for i386 (ELFCLASS32)
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// stubDir returns a directory of stub libraries, one per name, each with
// that name as SONAME, to link DT_NEEDED entries against.
func stubDir(t testing.TB, names []string, m32 bool) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "stub.c")
	if err := os.WriteFile(src, []byte("void portable_stub(void) {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		args := []string{"-nostdlib", "-shared", "-fPIC", "-o", filepath.Join(dir, fmt.Sprintf("stub%d.so", i)), "-Wl,-soname," + n, src}
		if m32 {
			args = append([]string{"-m32"}, args...)
		}
		run(t, "gcc", args...)
	}
	return dir
}

func linkArgs(t testing.TB, s spec) []string {
	var args []string
	if s.m32 {
		args = append(args, "-m32")
	}
	if s.soname != "" {
		args = append(args, "-Wl,-soname,"+s.soname)
	}
	if s.rpath != "" {
		args = append(args, "-Wl,--disable-new-dtags", "-Wl,-rpath,"+s.rpath)
	}
	if s.runpath != "" {
		args = append(args, "-Wl,--enable-new-dtags", "-Wl,-rpath,"+s.runpath)
	}
	if len(s.needed) > 0 {
		stubs := stubDir(t, s.needed, s.m32)
		args = append(args, "-Wl,--no-as-needed", "-L"+stubs)
		for i := range s.needed {
			args = append(args, fmt.Sprintf("-l:stub%d.so", i))
		}
	}
	return args
}

// buildLib writes a shared library to out.
func buildLib(t testing.TB, out string, s spec) {
	t.Helper()
	needTool(t, "gcc", "gcc")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	src := out + ".c"
	sym := strings.NewReplacer(".", "_", "-", "_", "+", "_").Replace(filepath.Base(out))
	if err := os.WriteFile(src, []byte(fmt.Sprintf("void portable_%s(void) {}\n", sym)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-nostdlib", "-shared", "-fPIC", "-o", out, src}, linkArgs(t, s)...)
	run(t, "gcc", args...)
	os.Remove(src)
}

// buildExe writes a dynamically linked executable (no libc) to out.
func buildExe(t testing.TB, out string, s spec) {
	t.Helper()
	needTool(t, "gcc", "gcc")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	src := out + ".c"
	if err := os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-nostdlib", "-o", out, src, "-Wl,-e,main"}, linkArgs(t, s)...)
	run(t, "gcc", args...)
	os.Remove(src)
}

// tree creates files in root: "path" -> content, "path@" -> symlink
// target, "path/" -> directory.
func tree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := files[k]
		switch {
		case strings.HasSuffix(k, "@"):
			p := filepath.Join(root, strings.TrimSuffix(k, "@"))
			must(t, os.MkdirAll(filepath.Dir(p), 0o755))
			must(t, os.Symlink(v, p))
		case strings.HasSuffix(k, "/"):
			must(t, os.MkdirAll(filepath.Join(root, k), 0o755))
		default:
			p := filepath.Join(root, k)
			must(t, os.MkdirAll(filepath.Dir(p), 0o755))
			must(t, os.WriteFile(p, []byte(v), 0o644))
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// copyFile copies a real file from the host into a fixture root.
func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.MkdirAll(filepath.Dir(to), 0o755))
	must(t, os.WriteFile(to, data, 0o755))
}

// withLoader copies this machine's x86_64 loader into root at the
// PT_INTERP path gcc writes, so fixture programs have their interpreter.
func withLoader(t testing.TB, root string) {
	t.Helper()
	real, err := filepath.EvalSymlinks("/lib64/ld-linux-x86-64.so.2")
	if err != nil {
		t.Fatalf("this test needs the x86_64 loader (Debian package libc6): %v", err)
	}
	copyFile(t, real, filepath.Join(root, "lib64/ld-linux-x86-64.so.2"))
}

// closureMap is name -> real path ("" for missing) of one program,
// leaving out the interpreter unless some library needs it (ldd does not
// list a loader nothing has as DT_NEEDED).
func closureMap(p Program) map[string]string {
	got := map[string]string{}
	for _, l := range p.Libraries {
		if l.Interpreter && len(l.NeededBy) == 1 && l.NeededBy[0] == p.Path {
			continue
		}
		got[l.Name] = l.RealPath
	}
	for _, m := range p.Missing {
		got[m.Name] = ""
	}
	return got
}

// mapString prints a closure map sorted, for messages and comparisons.
func mapString(m map[string]string) string {
	var lines []string
	for k, v := range m {
		if v == "" {
			v = "not found"
		}
		lines = append(lines, k+" => "+v)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// resolveOne resolves one program and fails the test on error.
func resolveOne(t testing.TB, root, file string, opts Options) Program {
	t.Helper()
	c, err := Resolve(root, []string{file}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c.Programs[0]
}

// checkLdd compares the resolver (root "/") with ldd on a fixture the
// test itself built.
func checkLdd(t *testing.T, exe string, p Program) {
	t.Helper()
	want, err := lddClosure(exe)
	if err != nil {
		t.Fatal(err)
	}
	if got := closureMap(p); mapString(got) != mapString(want) {
		t.Errorf("%s: resolver and ldd differ\nresolver:\n%s\nldd:\n%s", exe, mapString(got), mapString(want))
	}
}

// chrootClosure runs a root's own loader on prog inside the root with
// LD_TRACE_LOADED_OBJECTS=1, as ldd does, and returns name -> canonical
// in-root path ("" for not found). The loader runs chrooted directly (not
// through chroot(8), which the tracing variable would trace instead). It
// needs root privileges, as CI has.
func chrootClosure(root, prog string) (map[string]string, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("the chroot oracle needs root privileges (CI runs the tests as root)")
	}
	cmd := exec.Command("/lib64/ld-linux-x86-64.so.2", prog)
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	cmd.Dir = "/"
	cmd.Env = []string{"LC_ALL=C", "LD_TRACE_LOADED_OBJECTS=1"}
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(string(out), "not found") {
		return nil, fmt.Errorf("chroot %s ld.so %s (tracing): %v\n%s", root, prog, err, out)
	}
	r, err := newRootFS(root)
	if err != nil {
		return nil, err
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		m := lddLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("ld.so tracing %s: unexpected line %q", prog, line)
		}
		name, target := m[1], m[2]
		switch {
		case strings.HasPrefix(name, "linux-vdso.so"):
			continue
		case target == "not found":
			want[name] = ""
			continue
		case target == "":
			target = name
		}
		e, err := r.resolve(target)
		if err != nil {
			return nil, err
		}
		want[name] = e.real
	}
	return want, nil
}

// checkChroot compares the resolver's closure of prog with the root's
// own loader (see chrootClosure).
func checkChroot(t *testing.T, root, prog string, p Program) {
	t.Helper()
	want, err := chrootClosure(root, prog)
	if err != nil {
		t.Fatal(err)
	}
	if got := closureMap(p); mapString(got) != mapString(want) {
		t.Errorf("%s in %s: resolver and the root's ld.so differ\nresolver:\n%s\nld.so:\n%s", prog, root, mapString(got), mapString(want))
	}
}

// ldconfigInRoot runs this machine's ldconfig (statically linked on
// Debian) chrooted in root, so that it reads the root's ld.so.conf and
// its includes exactly as a system booted from that root would, and
// writes the root's /etc/ld.so.cache.
func ldconfigInRoot(t *testing.T, root string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("running ldconfig in a chroot needs root privileges (CI runs the tests as root)")
	}
	copyFile(t, "/sbin/ldconfig", filepath.Join(root, "sbin/ldconfig"))
	cmd := exec.Command("/sbin/ldconfig", "-X")
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	cmd.Dir = "/"
	cmd.Env = []string{"LC_ALL=C"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ldconfig in %s (Debian package libc-bin): %v\n%s", root, err, out)
	}
}
