package conformance

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	loaderName = "ld-linux-x86-64.so.2"
	slotSize   = 4096
)

// placeholderSlot is the path a freshly made bundle's slots hold: exactly
// slotSize-1 bytes (so PT_INTERP is slotSize with its NUL), ending in the
// loader's basename as the launcher contract asks.
func placeholderSlot() string {
	head, tail := "/.portable-unrelocated", "/lib/"+loaderName
	return head + strings.Repeat("/", slotSize-1-len(head)-len(tail)) + tail
}

// fixture holds what every case shares: built probe, preload library,
// launcher bytes and the host loader and libc to bundle.
type fixture struct {
	dir      string
	launcher []byte
	patched  string // the probe with a placeholder slot and DT_RPATH=$ORIGIN/../lib
	preload  string
	loader   string
	libc     string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the conformance suite needs root: it bind-mounts read-only copies, mounts /proc and chroots")
	}
	for _, tool := range []struct{ cmd, pkg string }{{"gcc", "gcc"}, {"patchelf", "patchelf"}, {"cp", "coreutils"}} {
		if _, err := exec.LookPath(tool.cmd); err != nil {
			t.Fatalf("%s not found: install the Debian package %s", tool.cmd, tool.pkg)
		}
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Cases run as nobody need to reach everything under dir.
	for d := dir; d != "/" && strings.HasPrefix(d, os.TempDir()) && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{dir: dir}
	// The launcher built from source with the pinned flags; the launcherbin
	// test proves the CLI embeds these same bytes.
	launcher := filepath.Join(dir, "launcher")
	mustRun(t, exec.Command("../../launcher/build.sh", "--arch", "x86_64", "--cc", "gcc", "-o", launcher))
	if f.launcher, err = os.ReadFile(launcher); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "probe")
	mustRun(t, exec.Command("gcc", "-O2", "-Wall", "-o", probe, "testdata/probe.c"))
	f.preload = filepath.Join(dir, "libpreload.so")
	mustRun(t, exec.Command("gcc", "-O2", "-shared", "-fPIC", "-o", f.preload, "testdata/preload.c"))
	ef, err := elf.Open(probe)
	if err != nil {
		t.Fatal(err)
	}
	libs, err := ef.ImportedLibraries()
	ef.Close()
	if err != nil || len(libs) != 1 || libs[0] != "libc.so.6" {
		t.Fatalf("probe needs %v (%v); the hand-made bundle only carries libc.so.6", libs, err)
	}
	if f.loader, err = filepath.EvalSymlinks("/lib64/" + loaderName); err != nil {
		t.Fatal(err)
	}
	if f.libc, err = filepath.EvalSymlinks("/lib/x86_64-linux-gnu/libc.so.6"); err != nil {
		t.Fatal(err)
	}
	// Test-only oracle: patchelf gives the probe a slot-sized PT_INTERP and
	// DT_RPATH, as the bundler does.
	f.patched = filepath.Join(dir, "probe.patched")
	copyFile(t, probe, f.patched, 0o755)
	mustRun(t, exec.Command("patchelf", "--set-interpreter", placeholderSlot(),
		"--set-rpath", "$ORIGIN/../lib", "--force-rpath", f.patched))
	if _, raw := readSlot(t, f.patched); len(raw) != slotSize || slotPath(raw) != placeholderSlot() {
		t.Fatalf("patchelf gave a %d-byte slot holding %q", len(raw), slotPath(raw))
	}
	return f
}

// bundle lays out a bundle at root by hand, the way the launcher contract in
// launcher/README.md describes: bin/NAME launchers (the second and later
// names hardlinks of the first), libexec/NAME real programs, a helper in a
// subdirectory of libexec, a script that must stay untouched, the loader and
// libc in lib/.
func (f *fixture) bundle(t *testing.T, root string, names ...string) {
	t.Helper()
	for _, d := range []string{"bin", "libexec/sub", "lib", ".portable"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	first := filepath.Join(root, "bin", names[0])
	if err := os.WriteFile(first, f.launcher, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		if i > 0 {
			if err := os.Link(first, filepath.Join(root, "bin", n)); err != nil {
				t.Fatal(err)
			}
		}
		copyFile(t, f.patched, filepath.Join(root, "libexec", n), 0o755)
	}
	copyFile(t, f.patched, filepath.Join(root, "libexec", "sub", "helper"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "libexec", "tool.sh"), []byte("#!/bin/sh\necho tool\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, f.loader, filepath.Join(root, "lib", loaderName), 0o755)
	copyFile(t, f.libc, filepath.Join(root, "lib", "libc.so.6"), 0o644)
}

// slotFiles are the bundle's files that carry an interp slot.
func slotFiles(root string, names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, filepath.Join(root, "libexec", n))
	}
	return append(out, filepath.Join(root, "libexec", "sub", "helper"))
}

func mustRun(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies a bundle with cp -a, which keeps modes and hardlinks.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	mustRun(t, exec.Command("cp", "-a", src, dst))
}

// readSlot returns the offset and raw bytes of path's PT_INTERP.
func readSlot(t *testing.T, path string) (int64, []byte) {
	t.Helper()
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			raw := make([]byte, p.Filesz)
			if _, err := p.ReadAt(raw, 0); err != nil {
				t.Fatalf("%s: read PT_INTERP: %v", path, err)
			}
			return int64(p.Off), raw
		}
	}
	t.Fatalf("%s: no PT_INTERP", path)
	return 0, nil
}

func slotPath(raw []byte) string {
	if i := bytes.IndexByte(raw, 0); i >= 0 {
		return string(raw[:i])
	}
	return string(raw)
}

// checkSlots asserts every slot file holds exactly root/lib/<loader>, NUL
// padded to slotSize, and is otherwise byte-identical to the patched probe.
func (f *fixture) checkSlots(t *testing.T, prefix string, files []string) {
	t.Helper()
	orig, err := os.ReadFile(f.patched)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, slotSize)
	copy(want, prefix+"/lib/"+loaderName)
	for _, p := range files {
		off, raw := readSlot(t, p)
		if !bytes.Equal(raw, want) {
			t.Errorf("%s: slot holds %q, want %q NUL-padded to %d bytes", p, slotPath(raw), prefix+"/lib/"+loaderName, slotSize)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(orig) || !bytes.Equal(got[:off], orig[:off]) || !bytes.Equal(got[off+slotSize:], orig[off+slotSize:]) {
			t.Errorf("%s: bytes outside the slot changed", p)
		}
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v (%v), want 0755", p, st.Mode(), err)
		}
	}
}

// snapshot records every path under root with its type, mode and content
// hash, to prove a run wrote nothing.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v ino=%d mtime=%d", info.Mode(), st.Ino, info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			desc += " " + hex.EncodeToString(sum[:])
		}
		out[p] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameSnapshot(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	var diffs []string
	for p, d := range before {
		if after[p] != d {
			diffs = append(diffs, fmt.Sprintf("%s: %q -> %q", p, d, after[p]))
		}
	}
	for p, d := range after {
		if _, ok := before[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: new %q", p, d))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s changed the bundle:\n%s", what, strings.Join(diffs, "\n"))
	}
}

// mountReadOnly bind-mounts src read-only at dst until the test ends.
func mountReadOnly(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind mount %s at %s: %v", src, dst, err)
	}
	t.Cleanup(func() { unix.Unmount(dst, unix.MNT_DETACH) })
	if err := unix.Mount("", dst, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount %s read-only: %v", dst, err)
	}
	if err := os.WriteFile(filepath.Join(dst, ".probe-write"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("%s is not read-only: writing gave %v", dst, err)
	}
}

func mountProc(t *testing.T, root string) {
	t.Helper()
	p := filepath.Join(root, "proc")
	if err := os.MkdirAll(p, 0o555); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("proc", p, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		t.Fatalf("mount proc at %s: %v", p, err)
	}
	t.Cleanup(func() { unix.Unmount(p, unix.MNT_DETACH) })
}

// outcome is how one run ended.
type outcome struct {
	stdout, stderr string
	code           int            // exit status, -1 when killed
	signal         syscall.Signal // the signal that killed it, or 0
	err            error          // start failure
}

func (o outcome) String() string {
	return fmt.Sprintf("code=%d signal=%v err=%v stderr=%q", o.code, o.signal, o.err, o.stderr)
}

// command runs path with argv (argv[0] included) and env.
func command(path string, argv []string, env []string) *exec.Cmd {
	return &exec.Cmd{Path: path, Args: argv, Env: env}
}

func result(cmd *exec.Cmd, err error, stdout, stderr *bytes.Buffer) outcome {
	o := outcome{stdout: stdout.String(), stderr: stderr.String()}
	if cmd.ProcessState == nil {
		o.err = err
		o.code = -1
		return o
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	o.code = ws.ExitStatus()
	if ws.Signaled() {
		o.signal = ws.Signal()
	}
	return o
}

func run(cmd *exec.Cmd) outcome {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return result(cmd, err, &stdout, &stderr)
}

// report is the probe's view of itself.
type report struct {
	fields map[string]string
	env    []string
}

func parseReport(s string) (report, error) {
	r := report{fields: map[string]string{}}
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return r, fmt.Errorf("report line %q has no '='", line)
		}
		val, err := unescape(v)
		if err != nil {
			return r, fmt.Errorf("report line %q: %w", line, err)
		}
		if k == "env" {
			r.env = append(r.env, val)
		} else {
			r.fields[k] = val
		}
	}
	if r.fields["end"] != "ok" {
		return r, fmt.Errorf("report is cut short: %q", s)
	}
	return r, nil
}

func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("truncated escape at %d", i)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", err
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}

// want is what a case expects the probe to report.
type want struct {
	exe, argv0, execfn string
	env                []string
	preload            bool
}

func expectReport(t *testing.T, what string, o outcome, w want) {
	t.Helper()
	if o.err != nil || o.code != 0 || o.stderr != "" {
		t.Errorf("%s: %v", what, o)
		return
	}
	r, err := parseReport(o.stdout)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	check := func(key, want string) {
		if got := r.fields[key]; got != want {
			t.Errorf("%s: %s = %q, want %q", what, key, got, want)
		}
	}
	check("exe", w.exe)
	check("argv0", w.argv0)
	check("execfn", w.execfn)
	check("dladdr", w.argv0) // glibc names the main program by argv[0]
	if w.preload {
		check("preload", "yes")
	} else {
		check("preload", "no")
	}
	if strings.Join(r.env, "\x00") != strings.Join(w.env, "\x00") {
		t.Errorf("%s: environment differs from the caller's:\n got %q\nwant %q", what, r.env, w.env)
	}
}

// expectFailure asserts a clean failure: the exit code and exactly one
// stderr line equal to line.
func expectFailure(t *testing.T, what string, o outcome, code int, line string) {
	t.Helper()
	if o.code != code || o.stdout != "" {
		t.Errorf("%s: %v stdout=%q, want exit %d", what, o, o.stdout, code)
	}
	if o.stderr != line+"\n" {
		t.Errorf("%s: stderr = %q, want the one line %q", what, o.stderr, line)
	}
}

// waitForExe polls until pid's /proc/PID/exe is path.
func waitForExe(t *testing.T, pid int, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && got == path {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("pid %d never became %s", pid, path)
}

// leftovers lists temp files a fix-up left behind.
func leftovers(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".portable-tmp-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}
