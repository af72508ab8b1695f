package elf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runResult is what one run of a program did.
type runResult struct {
	stdout, stderr string
	status         string // "exit 0", "signal killed", "timeout"
}

func (r runResult) String() string {
	return fmt.Sprintf("%s\nstdout: %q\nstderr: %q", r.status, trunc(r.stdout), trunc(r.stderr))
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// runProg runs path with argv[0] set to argv0, stdin from /dev/null, a
// fixed small environment, in dir, killing its process group after 5s.
func runProg(path, argv0, dir string, args ...string) runResult {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Args = append([]string{argv0}, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LC_ALL=C", "TERM=dumb"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	// Another test goroutine may be forking while it holds a file of ours
	// open for writing; exec then fails with ETXTBSY until that child
	// has exec'd. Retry.
	for i := 0; i < 50 && errors.Is(err, syscall.ETXTBSY); i++ {
		time.Sleep(20 * time.Millisecond)
		return runProg(path, argv0, dir, args...)
	}
	r := runResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.status = "timeout"
	case err == nil:
		r.status = "exit 0"
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.status = "signal " + ws.Signal().String()
		} else {
			r.status = fmt.Sprintf("exit %d", ee.ExitCode())
		}
	default:
		r.status = "error " + err.Error()
	}
	return r
}

// neverRun lists programs of /usr/bin this test does not start at all,
// because running them as root with --version could change the machine.
var neverRun = map[string]string{
	"systemd":        "the init system",
	"xkill":          "kills an X client",
	"login":          "starts a login session",
	"su":             "starts a root shell",
	"newgrp":         "starts a shell",
	"sg":             "starts a shell",
	"kernel-install": "installs kernels",
}

var (
	reReadelfInterp = regexp.MustCompile(`\[Requesting program interpreter: (.*)\]`)
	reReadelfPath   = regexp.MustCompile(`\((RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[(.*)\]`)
)

// readelfInterpPath returns what readelf -lW -dW says the interpreter and
// the search path entries are.
func readelfInterpPath(t *testing.T, path string) (interp string, paths []string) {
	out, err := exec.Command("readelf", "-lW", "-dW", path).CombinedOutput()
	if err != nil {
		t.Errorf("readelf %s: %v\n%s", path, err, out)
		return "", nil
	}
	if strings.Contains(string(out), "Warning") || strings.Contains(string(out), "Error") {
		t.Errorf("readelf %s complains:\n%s", path, out)
	}
	if m := reReadelfInterp.FindStringSubmatch(string(out)); m != nil {
		interp = m[1]
	}
	for _, m := range reReadelfPath.FindAllStringSubmatch(string(out), -1) {
		paths = append(paths, m[1]+"="+m[2])
	}
	return interp, paths
}

// TestPatchRunsSystemExecutables patches the dynamic executables of
// /usr/bin to use a copy of the system loader under a path of more than
// 120 bytes and a long RPATH, runs each with --version before and after,
// and compares output and exit status. Each result is also checked with
// readelf and against patchelf doing the same patch.
func TestPatchRunsSystemExecutables(t *testing.T) {
	if _, err := exec.LookPath("patchelf"); err != nil {
		t.Fatal("patchelf not found: install the Debian package patchelf (used as an oracle)")
	}
	if _, err := exec.LookPath("readelf"); err != nil {
		t.Fatal("readelf not found: install the Debian package binutils")
	}
	tmp := t.TempDir()
	loaderDir := filepath.Join(tmp, strings.Repeat("long-loader-dir-", 8))
	longEmpty := filepath.Join(tmp, strings.Repeat("long-rpath-dir-", 7))
	for _, d := range []string{loaderDir, longEmpty} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ld, err := os.ReadFile("/lib64/ld-linux-x86-64.so.2")
	if err != nil {
		t.Fatal(err)
	}
	loader := filepath.Join(loaderDir, "ld-linux-x86-64.so.2")
	if err := os.WriteFile(loader, ld, 0o755); err != nil {
		t.Fatal(err)
	}
	if len(loader) < 120 {
		t.Fatalf("loader path %q is shorter than 120 bytes", loader)
	}

	elfs, _ := systemELFs(t, "/usr/bin")
	type cand struct {
		path string
		f    *File
	}
	var cands []cand
	for _, p := range elfs {
		name := filepath.Base(p)
		if _, no := neverRun[name]; no {
			continue
		}
		f, err := Open(p)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if f.Linkage != Dynamic || f.Interp != "/lib64/ld-linux-x86-64.so.2" {
			continue
		}
		cands = append(cands, cand{p, f})
	}
	if len(cands) < 200 {
		t.Fatalf("only %d dynamic executables in /usr/bin; need 200", len(cands))
	}
	// Every k-th, to keep the test near 300 programs.
	if k := len(cands) / 300; k > 1 {
		var sample []cand
		for i := 0; i < len(cands); i += k {
			sample = append(sample, cands[i])
		}
		cands = sample
	}

	var (
		mu                   sync.Mutex
		compared             int
		excluded             = map[string]string{}
		ourSize, patchelfSz  int64
		ourTime, patchelfDur time.Duration
		larger               []string
		dynOurs, dynTheirs   int64
	)
	parallel(cands, func(c cand) {
		name := filepath.Base(c.path)
		dir, err := os.MkdirTemp(tmp, "run")
		if err != nil {
			t.Error(err)
			return
		}
		defer os.RemoveAll(dir)
		// The control: the unpatched program, once from /usr/bin and
		// once as a copy at the path the patched one will have. Programs
		// whose output differs between the two (they print their own
		// path, find data relative to themselves, print times or random
		// numbers) are excluded.
		orig := runProg(c.path, name, dir, "--version")
		copyPath := filepath.Join(dir, name)
		data, err := os.ReadFile(c.path)
		if err != nil {
			t.Error(err)
			return
		}
		if err := os.WriteFile(copyPath, data, 0o755); err != nil {
			t.Error(err)
			return
		}
		ctrl := runProg(copyPath, name, dir, "--version")
		// Keep an unpatched copy for reruns (see below).
		if err := os.WriteFile(copyPath+".ctrl", data, 0o755); err != nil {
			t.Error(err)
			return
		}
		var reason string
		switch {
		case orig.status == "timeout":
			reason = "does not finish within 5s with --version"
		case orig.status != ctrl.status || orig.stdout != ctrl.stdout || orig.stderr != ctrl.stderr:
			reason = "output differs when the unpatched program runs from a copy (location-dependent or non-deterministic)"
		}

		// The RPATH keeps the program's own search path, with $ORIGIN
		// spelled out, behind a long empty directory.
		rpath := longEmpty
		if old := c.f.RPath + c.f.RunPath; old != "" {
			real, _ := filepath.EvalSymlinks(c.path)
			rpath += ":" + strings.ReplaceAll(strings.ReplaceAll(old, "${ORIGIN}", "$ORIGIN"), "$ORIGIN", filepath.Dir(real))
		}
		opts := PatchOptions{Interpreter: loader, SetRPath: true, RPath: rpath}
		start := time.Now()
		if _, err := PatchFile(copyPath, "", opts); err != nil {
			mu.Lock()
			t.Errorf("patch: %v", err)
			mu.Unlock()
			return
		}
		ourDur := time.Since(start)
		pePath := copyPath + ".patchelf"
		if err := os.WriteFile(pePath, data, 0o755); err != nil {
			t.Error(err)
			return
		}
		start = time.Now()
		if out, err := exec.Command("patchelf", "--set-interpreter", loader, "--set-rpath", rpath, "--force-rpath", pePath).CombinedOutput(); err != nil {
			mu.Lock()
			t.Errorf("patchelf %s: %v\n%s", name, err, out)
			mu.Unlock()
			return
		}
		peDur := time.Since(start)

		interp, paths := readelfInterpPath(t, copyPath)
		peInterp, pePaths := readelfInterpPath(t, pePath)
		ours, _ := os.Stat(copyPath)
		theirs, _ := os.Stat(pePath)

		var patched runResult
		if reason == "" {
			patched = runProg(copyPath, name, dir, "--version")
		}
		mu.Lock()
		defer mu.Unlock()
		if interp != loader || len(paths) != 1 || paths[0] != "RPATH="+rpath {
			t.Errorf("%s: readelf reads interpreter %q and search path %q, want %q and RPATH=%q", name, interp, paths, loader, rpath)
		}
		if peInterp != interp || strings.Join(pePaths, ",") != strings.Join(paths, ",") {
			t.Errorf("%s: patchelf's result reads %q %q, ours %q %q", name, peInterp, pePaths, interp, paths)
		}
		// For non-PIE executables patchelf lays the start of the first
		// segment out anew, one page lower; we move the version table
		// after .dynstr to grow it in place, which for a program with
		// tens of thousands of symbols costs more than patchelf's page.
		// Over all PIE executables, and over all, ours must be no larger.
		if c.f.Type == TypeDyn {
			dynOurs += ours.Size()
			dynTheirs += theirs.Size()
		}
		if ours.Size() > theirs.Size() {
			larger = append(larger, fmt.Sprintf("%s %s (%+d bytes)", c.f.Type, name, ours.Size()-theirs.Size()))
		}
		ourSize += ours.Size()
		patchelfSz += theirs.Size()
		ourTime += ourDur
		patchelfDur += peDur
		if reason != "" {
			excluded[name] = reason
			return
		}
		compared++
		// A program whose output races between itself and the children it
		// spawns (groff --version) can differ from one run to the next;
		// the patched result must then still be one the unpatched copy
		// also gives, within a few more runs.
		// groff gives its rarer ordering about one run in seven: up to
		// ten more runs of each side make a false failure unlikely.
		for i := 0; i < 10 && patched != ctrl; i++ {
			if again := runProg(copyPath+".ctrl", name, dir, "--version"); again == patched {
				ctrl = again
			} else if again := runProg(copyPath, name, dir, "--version"); again == ctrl {
				patched = again
			}
		}
		if patched != ctrl {
			t.Errorf("%s: patched program behaves differently\nbefore: %v\nafter:  %v", name, ctrl, patched)
		}
	})
	var names []string
	for n := range excluded {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("excluded %s: %s", n, excluded[n])
	}
	for n, why := range neverRun {
		t.Logf("never run %s: %s", n, why)
	}
	sort.Strings(larger)
	t.Logf("files where our output is larger than patchelf's: %d: %s", len(larger), strings.Join(larger, ", "))
	t.Logf("PIE executables: output size ours/patchelf = %d/%d = %.4f", dynOurs, dynTheirs, float64(dynOurs)/float64(dynTheirs))
	if ourSize > patchelfSz {
		t.Errorf("over all executables our output is larger than patchelf's: %d > %d bytes", ourSize, patchelfSz)
	}
	if dynOurs > dynTheirs {
		t.Errorf("over all PIE executables our output is larger than patchelf's: %d > %d bytes", dynOurs, dynTheirs)
	}
	t.Logf("ran %d patched executables with identical output and status; %d excluded; checked %d with readelf and patchelf", compared, len(excluded), len(cands))
	t.Logf("output size ours/patchelf = %d/%d = %.4f; patch time ours/patchelf (patchelf including its process start) = %v/%v", ourSize, patchelfSz, float64(ourSize)/float64(patchelfSz), ourTime, patchelfDur)
	if compared < 200 {
		t.Errorf("only %d executables could be compared; need 200", compared)
	}
}
