package hostile

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bigInput writes a file of n random bytes (random so that no file system
// or compressor shortcut makes the copy cheap).
func bigInput(t *testing.T, p string, n int) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := 0; i < n; i += len(buf) {
		rand.Read(buf)
		if _, err := f.Write(buf[:min(len(buf), n-i)]); err != nil {
			t.Fatal(err)
		}
	}
}

// start runs portable in dir without waiting.
func start(t *testing.T, dir string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(portable, args...)
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &errb
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestSignalsLeaveNothing interrupts a large bundle (a directory and an
// archive in one run) at several points. Each run either finishes (exit
// 0, both outputs complete and verified) or dies of the signal (exit
// 130/143) with neither output and no staging directory or temp file left.
func TestSignalsLeaveNothing(t *testing.T) {
	dir := workDir(t)
	bigInput(t, filepath.Join(dir, "big"), 300<<20)
	delays := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1500 * time.Millisecond}
	interrupted := 0
	for i, d := range delays {
		sig := syscall.SIGINT
		if i%2 == 1 {
			sig = syscall.SIGTERM
		}
		out, tar := filepath.Join(dir, "b"), filepath.Join(dir, "b.tar.gz")
		os.RemoveAll(out)
		os.Remove(tar)
		cmd, stderr := start(t, dir, "bundle", "-o", "b", "--tar", "b.tar.gz", "--add", "big", "/bin/true")
		time.Sleep(d)
		cmd.Process.Signal(sig)
		code := exitCode(cmd.Wait())
		switch code {
		case 0:
			if r := cli(t, dir, nil, "verify", "b"); r.code != 0 {
				t.Errorf("%v after %v: finished, but verify: %v", sig, d, r)
			}
			if _, err := os.Stat(tar); err != nil {
				t.Errorf("%v after %v: finished without the archive: %v", sig, d, err)
			}
		case 128 + int(sig):
			interrupted++
			mustNotExist(t, out, tar)
			if !strings.Contains(stderr.String(), "portable: interrupted by "+sig.String()+"; removed its temp files, wrote nothing") {
				t.Errorf("%v after %v: stderr %q", sig, d, stderr)
			}
		default:
			t.Errorf("%v after %v: exit %d, want 0 or %d; stderr %q", sig, d, code, 128+int(sig), stderr)
		}
		if l := leftovers(t, dir); len(l) > 0 {
			t.Errorf("%v after %v (exit %d): left behind %v", sig, d, code, l)
		}
	}
	if interrupted < 2 {
		t.Errorf("only %d of %d runs were interrupted before finishing: the input is too small to test anything", interrupted, len(delays))
	}
}

// TestStaleStagingRemoved kills a bundle with SIGKILL (no handler runs)
// while its staging directory exists; the next run on the same output
// recognises the leftovers by name and lock, removes them and says so.
// A staging directory of a run still going is left alone.
func TestStaleStagingRemoved(t *testing.T) {
	dir := workDir(t)
	bigInput(t, filepath.Join(dir, "big"), 300<<20)
	cmd, _ := start(t, dir, "bundle", "-o", "b", "--tar", "b.tar", "--add", "big", "/bin/true")
	deadline := time.Now().Add(hangLimit)
	for len(staging(t, dir)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no staging directory appeared")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	stale := staging(t, dir)
	if len(stale) == 0 {
		t.Fatal("SIGKILL left nothing: the test did not test anything")
	}

	r := cli(t, dir, nil, "bundle", "-o", "b", "--tar", "b.tar", "/bin/true")
	if r.code != 0 {
		t.Fatalf("the next run: %v", r)
	}
	for _, p := range stale {
		if !strings.Contains(r.stderr, "removed "+filepath.Base(p)+", left by an interrupted run") {
			t.Errorf("the next run did not say it removed %s: %v", p, r)
		}
		mustNotExist(t, p)
	}
	if r := cli(t, dir, nil, "verify", "b"); r.code != 0 {
		t.Errorf("verify: %v", r)
	}

	// A staging directory of a run still going (stopped, holding its
	// lock) next to the same output survives another run.
	os.RemoveAll(filepath.Join(dir, "b"))
	live, _ := start(t, dir, "bundle", "-o", "b", "--add", "big", "/bin/true")
	defer func() { live.Process.Kill(); live.Wait() }()
	for len(staging(t, dir)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the live run's staging directory never appeared")
		}
		time.Sleep(5 * time.Millisecond)
	}
	live.Process.Signal(syscall.SIGSTOP)
	liveStaging := staging(t, dir)
	r = cli(t, dir, nil, "bundle", "-o", "b2", "/bin/true") // another output: not its business
	if r.code != 0 {
		t.Fatalf("bundle b2: %v", r)
	}
	r = cli(t, dir, nil, "bundle", "-o", "b", "/bin/true")
	if r.code != 0 || strings.Contains(r.stderr, "removed") {
		t.Errorf("a run next to a live one: %v", r)
	}
	for _, p := range liveStaging {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("the live run's staging directory %s was removed: %v", p, err)
		}
	}
	live.Process.Signal(syscall.SIGCONT)
}

// TestFailingTarLeavesNeither makes the archive of -o DIR --tar X fail
// (RLIMIT_FSIZE below its size, above every single file's): the run
// fails and leaves neither the directory nor the archive.
func TestFailingTarLeavesNeither(t *testing.T) {
	dir := workDir(t)
	bigInput(t, filepath.Join(dir, "r1"), 1500<<10)
	bigInput(t, filepath.Join(dir, "r2"), 1500<<10)
	cmd := exec.Command("bash", "-c", `ulimit -f 3000 && exec "$0" "$@"`, portable, // 3000 KiB
		"bundle", "-o", "b", "--tar", "b.tar", "--add", "r1", "--add", "r2", "/bin/true")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "b.tar: ") || !strings.Contains(string(out), "file too large") {
		t.Errorf("exit %d, want 1 and a message naming b.tar and the cause:\n%s", code, out)
	}
	mustNotExist(t, filepath.Join(dir, "b"), filepath.Join(dir, "b.tar"))
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}
