package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/glibcdata"
	"github.com/rules-portable/rules_portable/tools/internal/launcherbin"
	"github.com/rules-portable/rules_portable/tools/internal/ldso"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
	"github.com/rules-portable/rules_portable/tools/internal/testcc"
)

const loaderBase = "ld-linux-x86-64.so.2"

// appSrc reports where it runs from and what it was called as, greets via
// a shared library, and exits with the status given as its first argument.
const appSrc = `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
const char *greet(void);
int main(int argc, char **argv) {
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	printf("exe=%s argv0=%s greet=%s\n", exe, argv[0], greet());
	return argc > 1 ? atoi(argv[1]) : 0;
}
`

const greetSrc = `const char *greet(void) { return "hello"; }
`

// gcc compiles in dir; it fails the test (never skips) without gcc.
func gcc(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(testcc.Path(t), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, out)
	}
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// buildApp makes dir/app linked to dir/libs/libgreet.so.1, which the app
// finds through an absolute DT_RUNPATH and which itself has
// DT_RUNPATH=$ORIGIN: both must be rewritten for the bundle.
func buildApp(t *testing.T, dir string) string {
	t.Helper()
	writeFile(t, filepath.Join(dir, "greet.c"), greetSrc, 0o644)
	writeFile(t, filepath.Join(dir, "app.c"), appSrc, 0o644)
	libs := filepath.Join(dir, "libs")
	os.MkdirAll(libs, 0o755)
	gcc(t, dir, "-shared", "-fPIC", "-o", "libs/libgreet.so.1", "greet.c", "-Wl,-soname,libgreet.so.1", "-Wl,--enable-new-dtags,-rpath,$ORIGIN")
	if err := os.Symlink("libgreet.so.1", filepath.Join(libs, "libgreet.so")); err != nil {
		t.Fatal(err)
	}
	gcc(t, dir, "-o", "app", "app.c", "-Llibs", "-lgreet", "-Wl,--enable-new-dtags,-rpath,"+libs)
	return filepath.Join(dir, "app")
}

func run(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if stderr.Len() > 0 {
		t.Logf("%s stderr: %s", name, stderr.String())
	}
	return string(out), code
}

func readSlot(t *testing.T, p string) string {
	t.Helper()
	f, err := elf.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	_, size, ok := f.InterpSlot()
	if !ok || size != SlotSize {
		t.Fatalf("%s: slot size %d ok=%v, want %d", p, size, ok, SlotSize)
	}
	return f.Interp
}

func verifyOK(t *testing.T, dir string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := manifest.Verify(dir, m)
	if err != nil || len(probs) != 0 {
		t.Fatalf("verify %s: %v %v", dir, probs, err)
	}
	return m
}

func TestBundleDirectoryLayoutAndRun(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	app := buildApp(t, work)
	out := filepath.Join(work, "out")
	res, err := Build(out, []string{app}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The launcher.
	want, _ := launcherbin.ForMachine(62)
	got, _ := os.ReadFile(filepath.Join(out, "bin/app"))
	if !bytes.Equal(got, want) {
		t.Error("bin/app is not the embedded launcher")
	}
	// The real program: slot with the placeholder, RPATH, no RUNPATH.
	real := filepath.Join(out, "libexec/app")
	if s := readSlot(t, real); s != Placeholder(loaderBase) {
		t.Errorf("slot holds %q", s)
	}
	f, err := elf.Open(real)
	if err != nil {
		t.Fatal(err)
	}
	if f.RPath != "$ORIGIN/../lib" || f.HasRunPath {
		t.Errorf("libexec/app: RPATH %q RUNPATH %q", f.RPath, f.RunPath)
	}
	g, err := elf.Open(filepath.Join(out, "lib/libgreet.so.1"))
	if err != nil {
		t.Fatal(err)
	}
	if g.RPath != "$ORIGIN" || g.HasRunPath {
		t.Errorf("lib/libgreet.so.1: RPATH %q RUNPATH %q", g.RPath, g.RunPath)
	}
	for _, p := range []string{"lib/" + loaderBase, "lib/libc.so.6", "lib/libgcc_s.so.1", ".portable/manifest.json"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Error(err)
		}
	}
	// glibc's loader and libc are the closed copies (packages ldso and
	// glibcdata), the same bytes they give.
	for _, p := range []string{"lib/" + loaderBase, "lib/libc.so.6"} {
		src := res.Manifest.Files[slicesIndex(res.Manifest.Files, p)].Source
		a, _ := os.ReadFile(src)
		var err error
		if p == "lib/libc.so.6" {
			a, err = glibcdata.Patch(a, glibcdata.Anchors{})
		} else {
			a, _, err = ldso.Close(a)
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(out, p))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s", p, src)
		}
	}
	if h := res.Manifest.HostLibs; h == nil || h.Policy != HostLibsNever {
		t.Errorf("manifest host_libs = %+v, want policy never", h)
	}
	m := verifyOK(t, out)
	if len(m.EntryPoints) != 1 || m.EntryPoints[0].Name != "app" || m.Libc.Version == "" || m.Libc.Root != "host" {
		t.Errorf("manifest: %+v %+v", m.EntryPoints, m.Libc)
	}
	// Runs in place: the launcher re-points the slot, /proc/self/exe is the real ELF.
	stdout, code := run(t, filepath.Join(out, "bin/app"), "7")
	if code != 7 || stdout != "exe="+real+" argv0="+filepath.Join(out, "bin/app")+" greet=hello\n" {
		t.Errorf("run: %d %q", code, stdout)
	}
	if s := readSlot(t, real); s != filepath.Join(out, "lib", loaderBase) {
		t.Errorf("after first run slot = %q", s)
	}
	verifyOK(t, out)
	// Moved, it still runs, and the libraries come from the bundle: the
	// original library directory is gone.
	if err := os.RemoveAll(filepath.Join(work, "libs")); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(work, "moved")
	if err := os.Rename(out, moved); err != nil {
		t.Fatal(err)
	}
	stdout, code = run(t, filepath.Join(moved, "bin/app"))
	if code != 0 || !strings.Contains(stdout, "exe="+filepath.Join(moved, "libexec/app")) {
		t.Errorf("moved run: %d %q", code, stdout)
	}
	verifyOK(t, moved)
}

func slicesIndex(files []manifest.Entry, p string) int {
	for i, f := range files {
		if f.Path == p {
			return i
		}
	}
	return -1
}

func TestBundleArchivesDeterministic(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	app := buildApp(t, work)
	for _, ext := range []string{".tar", ".tar.gz", ".tar.zst"} {
		a, b := filepath.Join(work, "a"+ext), filepath.Join(work, "b"+ext)
		if _, err := Build(a, []string{app}, Options{}); err != nil {
			t.Fatal(err)
		}
		// Touch the inputs between runs: mtimes must not matter.
		now := time.Now().Add(time.Hour)
		os.Chtimes(app, now, now)
		if _, err := Build(b, []string{app}, Options{}); err != nil {
			t.Fatal(err)
		}
		da, _ := os.ReadFile(a)
		db, _ := os.ReadFile(b)
		if len(da) == 0 || !bytes.Equal(da, db) {
			t.Errorf("%s: two runs differ", ext)
		}
		c := filepath.Join(work, "c"+ext)
		if _, err := Build(c, []string{app}, Options{MTime: time.Unix(1700000000, 0)}); err != nil {
			t.Fatal(err)
		}
		if dc, _ := os.ReadFile(c); bytes.Equal(da, dc) {
			t.Errorf("%s: SOURCE_DATE_EPOCH did not change the archive", ext)
		}
	}
	// No staging directory is left next to the outputs.
	ents, _ := os.ReadDir(work)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestRelocateAndDirect(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	app := buildApp(t, work)
	first := filepath.Join(work, "first")
	if _, err := Build(first, []string{app}, Options{}); err != nil {
		t.Fatal(err)
	}
	// A path with a symlink in it: the slots must name the canonical path,
	// which is what the launcher reads from /proc/self/exe.
	canon := filepath.Join(work, "canon")
	os.Mkdir(canon, 0o755)
	dir := filepath.Join(canon, "b")
	if err := os.Rename(first, dir); err != nil {
		t.Fatal(err)
	}
	alias := filepath.Join(work, "alias")
	os.Symlink(canon, alias)
	res, err := Relocate(filepath.Join(alias, "b"), RelocateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Repointed) != 1 || res.Repointed[0] != "libexec/app" || res.Root != dir {
		t.Errorf("relocate: %+v", res)
	}
	if s := readSlot(t, filepath.Join(dir, "libexec/app")); s != filepath.Join(dir, "lib", loaderBase) {
		t.Errorf("slot %q", s)
	}
	// The relocated program runs directly, without the launcher.
	if stdout, code := run(t, filepath.Join(dir, "libexec/app"), "3"); code != 3 || !strings.Contains(stdout, "greet=hello") {
		t.Errorf("direct run: %d %q", code, stdout)
	}
	// A second relocate changes nothing.
	if res, err := Relocate(dir, RelocateOptions{}); err != nil || len(res.Repointed) != 0 {
		t.Errorf("second relocate: %+v %v", res, err)
	}
	verifyOK(t, dir)
	// Relocating while the program runs: the running file is replaced by
	// rename, never written, so there is no ETXTBSY.
	moved := filepath.Join(work, "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(work, "pause.c"), []byte("#include <unistd.h>\nint main(void){pause();return 0;}\n"), 0o644)
	gcc(t, work, "-o", "pause", "pause.c")
	pb := filepath.Join(work, "pb")
	if _, err := Build(pb, []string{filepath.Join(work, "pause")}, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Relocate(pb, RelocateOptions{}); err != nil {
		t.Fatal(err)
	}
	proc := exec.Command(filepath.Join(pb, "libexec/pause"))
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { proc.Process.Kill(); proc.Wait() }()
	time.Sleep(50 * time.Millisecond)
	pb2 := filepath.Join(work, "pb2")
	if err := os.Rename(pb, pb2); err != nil {
		t.Fatal(err)
	}
	if res, err := Relocate(pb2, RelocateOptions{}); err != nil || len(res.Repointed) != 1 {
		t.Fatalf("relocate with the program running: %+v %v", res, err)
	}
	// --direct: bin/app becomes a symlink, the manifest follows.
	res, err = Relocate(moved, RelocateOptions{Direct: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Direct) != 1 {
		t.Errorf("direct: %+v", res)
	}
	if l, err := os.Readlink(filepath.Join(moved, "bin/app")); err != nil || l != "../libexec/app" {
		t.Errorf("bin/app -> %q %v", l, err)
	}
	stdout, code := run(t, filepath.Join(moved, "bin/app"))
	if code != 0 || !strings.Contains(stdout, "exe="+filepath.Join(moved, "libexec/app")) {
		t.Errorf("direct-mode run: %d %q", code, stdout)
	}
	verifyOK(t, moved)
	ents, _ := os.ReadDir(filepath.Join(moved, "bin"))
	if len(ents) != 1 {
		t.Errorf("bin/ has %d entries, temp files left?", len(ents))
	}
}

func TestRelocateReadOnly(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Fatal("this test mounts a read-only bind mount and needs root (CI runs as root)")
	}
	work := t.TempDir()
	app := buildApp(t, work)
	out := filepath.Join(work, "out")
	if _, err := Build(out, []string{app}, Options{}); err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(work, "ro")
	os.Mkdir(ro, 0o755)
	if err := syscall.Mount(out, ro, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer syscall.Unmount(ro, syscall.MNT_DETACH)
	if err := syscall.Mount("", ro, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	_, err := Relocate(ro, RelocateOptions{})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("err = %v", err)
	}
	// The launcher still runs it read-only (userland exec), writing nothing.
	stdout, code := run(t, filepath.Join(ro, "bin/app"), "5")
	if code != 5 || !strings.Contains(stdout, "greet=hello") {
		t.Errorf("read-only run: %d %q", code, stdout)
	}
}

func TestStaticProgram(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "st.c"), "int main(int c, char **v) { return c + 3; }\n", 0o644)
	gcc(t, work, "-static", "-o", "st", "st.c")
	out := filepath.Join(work, "out")
	res, err := Build(out, []string{filepath.Join(work, "st")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Loader != "" || res.Manifest.InterpPlaceholder != "" {
		t.Errorf("static bundle has a loader: %+v", res.Manifest)
	}
	if _, err := os.Stat(filepath.Join(out, "lib")); err == nil {
		t.Error("static bundle has a lib/ directory")
	}
	verifyOK(t, out)
	if _, code := run(t, filepath.Join(out, "bin/st"), "x"); code != 5 {
		t.Errorf("exit %d, want 5", code)
	}
}

// TestConcurrentRelocateAndLaunch: right after a move, relocations and
// first runs through the launcher race; all take the same lock and replace
// files by rename, so every one succeeds.
func TestConcurrentRelocateAndLaunch(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	app := buildApp(t, work)
	out := filepath.Join(work, "out")
	if _, err := Build(out, []string{app}, Options{}); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(work, "moved")
	if err := os.Rename(out, moved); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			if i%2 == 0 {
				_, err := Relocate(moved, RelocateOptions{})
				errs <- err
				return
			}
			got, err := exec.Command(filepath.Join(moved, "bin/app"), "9").CombinedOutput()
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() == 9 && strings.Contains(string(got), "greet=hello") {
				err = nil
			} else if err == nil {
				err = errors.New("exit 0, want 9")
			}
			if err != nil {
				err = fmt.Errorf("launch: %v: %s", err, got)
			}
			errs <- err
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	verifyOK(t, moved)
	if s := readSlot(t, filepath.Join(moved, "libexec/app")); s != filepath.Join(moved, "lib", loaderBase) {
		t.Errorf("slot %q", s)
	}
}
