package conformance

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
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

	"golang.org/x/sys/unix"

	"github.com/rules-portable/rules_portable/tests/testutil"
)

const (
	loaderName = "ld-linux-x86-64.so.2"
	slotSize   = 4096
)

// The bundle every case starts from: two programs sharing one launcher
// (hardlinks in bin/), a helper in a subdirectory of libexec/ reached by a
// symlink, and a script under libexec/ that the fix-up must leave alone.
var (
	names      = []string{"probe", "probe-b"}
	helperLink = "tools/helper"
	slotRels   = []string{"libexec/probe", "libexec/probe-b", "libexec/tools/helper"}
	scriptRel  = "libexec/tool.sh"
)

// fixture holds what every case shares: the portable CLI, the built probe
// and preload library, and the bytes of a fresh bundle's slotted files.
type fixture struct {
	dir      string
	portable string
	src      string // what gets bundled
	preload  string
	fresh    map[string][]byte // slotRels of a bundle that never ran
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the conformance suite needs root: it bind-mounts read-only copies, mounts /proc and chroots")
	}
	for _, tool := range []struct{ cmd, pkg string }{{"gcc", "gcc"}, {"cp", "coreutils"}, {"go", "the Go toolchain"}} {
		if _, err := exec.LookPath(tool.cmd); err != nil {
			t.Fatalf("%s not found: install %s", tool.cmd, tool.pkg)
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
	f := &fixture{dir: dir, src: filepath.Join(dir, "src"), fresh: map[string][]byte{}}
	f.portable = filepath.Join(dir, "portable")
	mustRun(t, exec.Command("go", "build", "-o", f.portable, "../../tools/cmd/portable"))
	if err := os.MkdirAll(filepath.Join(f.src, "tools"), 0o755); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(f.src, "probe")
	mustRun(t, exec.Command("gcc", "-O2", "-Wall", "-o", probe, "testdata/probe.c"))
	testutil.CopyFile(t, probe, filepath.Join(f.src, "probe-b"), 0o755)
	testutil.CopyFile(t, probe, filepath.Join(f.src, helperLink), 0o755)
	if err := os.WriteFile(filepath.Join(f.src, "tool.sh"), []byte("#!/bin/sh\necho tool\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.preload = filepath.Join(dir, "libpreload.so")
	mustRun(t, exec.Command("gcc", "-O2", "-shared", "-fPIC", "-o", f.preload, "testdata/preload.c"))

	ref := filepath.Join(dir, "reference")
	f.bundle(t, ref)
	for _, rel := range append([]string{scriptRel}, slotRels...) {
		b, err := os.ReadFile(filepath.Join(ref, rel))
		if err != nil {
			t.Fatal(err)
		}
		f.fresh[rel] = b
	}
	for _, rel := range slotRels {
		if _, raw := readSlot(t, filepath.Join(ref, rel)); len(raw) != slotSize {
			t.Fatalf("portable bundle gave %s a %d-byte slot, want %d", rel, len(raw), slotSize)
		}
	}
	return f
}

// bundle makes the test bundle at out with `portable bundle` and the
// extra flags given.
func (f *fixture) bundle(t *testing.T, out string, flags ...string) {
	t.Helper()
	cmd := exec.Command(f.portable, append([]string{"bundle", "-o", out, "probe", "probe-b",
		"--add", "tools=tools", "--add", "tool.sh=" + scriptRel}, flags...)...)
	cmd.Dir = f.src
	mustRun(t, cmd)
}

// verify runs `portable verify` on a bundle, which must pass.
func (f *fixture) verify(t *testing.T, dir string, flags ...string) {
	t.Helper()
	out, err := exec.Command(f.portable, append(append([]string{"verify"}, flags...), dir)...).CombinedOutput()
	if err != nil {
		t.Errorf("portable verify %s: %v\n%s", dir, err, out)
	}
}

// verifyStale checks that verify refuses a bundle whose slots name the
// loader of another copy (stale), naming each slotted file and the path.
func (f *fixture) verifyStale(t *testing.T, dir, staleRoot string) {
	t.Helper()
	out, err := exec.Command(f.portable, "verify", dir).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("portable verify %s of a stale bundle: %v, want exit 1\n%s", dir, err, out)
	}
	for _, rel := range slotRels {
		want := fmt.Sprintf("%s: changed: interp slot names %s/lib/", rel, staleRoot)
		if !strings.Contains(string(out), want) {
			t.Errorf("portable verify %s: no line %q in\n%s", dir, want, out)
		}
	}
}

func slotFiles(root string) []string {
	var out []string
	for _, rel := range slotRels {
		out = append(out, filepath.Join(root, rel))
	}
	return out
}

func mustRun(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
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

// checkSlots asserts every slotted file under root holds exactly
// prefix/lib/<loader>, NUL-padded to slotSize, and is otherwise
// byte-identical to the same file in a bundle that never ran.
func (f *fixture) checkSlots(t *testing.T, root, prefix string) {
	t.Helper()
	want := make([]byte, slotSize)
	copy(want, prefix+"/lib/"+loaderName)
	for _, rel := range slotRels {
		p := filepath.Join(root, rel)
		off, raw := readSlot(t, p)
		if !bytes.Equal(raw, want) {
			t.Errorf("%s: slot holds %q, want %q NUL-padded to %d bytes", p, slotPath(raw), prefix+"/lib/"+loaderName, slotSize)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		orig := f.fresh[rel]
		if len(got) != len(orig) || !bytes.Equal(got[:off], orig[:off]) || !bytes.Equal(got[off+slotSize:], orig[off+slotSize:]) {
			t.Errorf("%s: bytes outside the slot changed", p)
		}
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v (%v), want 0755", p, st.Mode(), err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, scriptRel)); err != nil || !bytes.Equal(b, f.fresh[scriptRel]) {
		t.Errorf("%s: the script under libexec changed (%v)", scriptRel, err)
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

// waitForBlockedRead polls until pid sits in read(0, ...) (x86_64's
// system call 0 on descriptor 0, from /proc/PID/syscall): a probe in
// "wait" mode has then loaded its libraries and reached main.
func waitForBlockedRead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid)); err == nil && strings.HasPrefix(string(b), "0 0x0 ") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("pid %d never blocked reading its stdin", pid)
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
