package conformance

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// callerEnv is the environment every case passes: odd bytes, an empty value,
// a user's own LD_LIBRARY_PATH and (outside chroot) LD_PRELOAD. The probe
// must see exactly this, in this order.
func callerEnv(preload string) []string {
	env := []string{
		"PATH=/usr/bin:/bin",
		"LD_LIBRARY_PATH=/nonexistent/portable-conformance",
		"PORTABLE_CONFORMANCE=spaces and\ttabs = % signs",
		"PORTABLE_BYTES=\xff\xfe\x01end",
		"PORTABLE_EMPTY=",
		"zzz_last=1",
	}
	if preload != "" {
		env = append(env, "LD_PRELOAD="+preload)
	}
	return env
}

var nobody = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}

func TestLauncher(t *testing.T) {
	f := newFixture(t)
	env := callerEnv(f.preload)
	a := filepath.Join(f.dir, "a")
	f.bundle(t, a)

	t.Run("first run re-points every slot", func(t *testing.T) {
		o := run(command(filepath.Join(a, "bin", "probe"), []string{"first", "report"}, env))
		expectReport(t, "first run", o, want{
			exe: filepath.Join(a, "libexec", "probe"), argv0: "first",
			execfn: filepath.Join(a, "libexec", "probe"), env: env, preload: true,
		})
		f.checkSlots(t, a, a)
		f.verify(t, a)
		if l := leftovers(t, a); len(l) > 0 {
			t.Errorf("fix-up left temp files: %v", l)
		}
		if _, err := os.Stat(filepath.Join(a, ".portable", "lock")); err != nil {
			t.Errorf("no lock file: %v", err)
		}
	})

	t.Run("fast path writes nothing", func(t *testing.T) {
		before := snapshot(t, a)
		o := run(command(filepath.Join(a, "bin", "probe"), []string{"again", "report"}, env))
		expectReport(t, "fast path", o, want{
			exe: filepath.Join(a, "libexec", "probe"), argv0: "again",
			execfn: filepath.Join(a, "libexec", "probe"), env: env, preload: true,
		})
		sameSnapshot(t, "a fast-path run", before, snapshot(t, a))
		f.verify(t, a)
	})

	t.Run("invocations", func(t *testing.T) {
		real := filepath.Join(a, "libexec", "probe")
		other := filepath.Join(f.dir, "elsewhere")
		if err := os.MkdirAll(other, 0o755); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(other, "different-name")
		if err := os.Symlink(filepath.Join(a, "bin", "probe"), link); err != nil {
			t.Fatal(err)
		}
		chain := filepath.Join(other, "chain")
		if err := os.Symlink("different-name", chain); err != nil {
			t.Fatal(err)
		}
		// env(1) drops the caller's PATH and appends its own: that is what
		// the program must see.
		pathEnv := append(append([]string{}, env[1:]...), "PATH="+filepath.Join(a, "bin"))

		cases := []struct {
			name   string
			cmd    *exec.Cmd
			exe    string
			argv0  string
			env    []string
			execfn string
		}{
			{"symlink with another name outside the bundle", command(link, []string{link, "report"}, env), real, link, env, real},
			{"relative symlink chain", command(chain, []string{"chain", "report"}, env), real, "chain", env, real},
			{"hardlink in bin", command(filepath.Join(a, "bin", "probe-b"), []string{"probe-b", "report"}, env),
				filepath.Join(a, "libexec", "probe-b"), "probe-b", env, filepath.Join(a, "libexec", "probe-b")},
			{"relative path", func() *exec.Cmd {
				c := command("./bin/probe", []string{"./bin/probe", "report"}, env)
				c.Dir = a
				return c
			}(), real, "./bin/probe", env, real},
			{"PATH lookup", command("/usr/bin/env", []string{"env", "PATH=" + filepath.Join(a, "bin"), "probe", "report"}, env[1:]),
				real, "probe", pathEnv, real},
			{"odd argv[0]", command(filepath.Join(a, "bin", "probe"), []string{"multi call \xff name", "report"}, env),
				real, "multi call \xff name", env, real},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				expectReport(t, c.name, run(c.cmd), want{exe: c.exe, argv0: c.argv0, execfn: c.execfn, env: c.env, preload: true})
			})
		}
		t.Run("re-exec through /proc/self/exe", func(t *testing.T) {
			o := run(command(filepath.Join(a, "bin", "probe"), []string{"re", "reexec"}, env))
			expectReport(t, "reexec", o, want{exe: real, argv0: "re", execfn: "/proc/self/exe", env: env, preload: true})
		})
		t.Run("helper spawned directly", func(t *testing.T) {
			// tools/helper -> ../libexec/tools/helper: no launcher, its
			// own slot was re-pointed by the first run of another program.
			link := filepath.Join(a, helperLink)
			o := run(command(link, []string{"helper", "report"}, env))
			expectReport(t, "helper", o, want{exe: filepath.Join(a, "libexec", helperLink), argv0: "helper", execfn: link, env: env, preload: true})
		})
		passThrough(t, filepath.Join(a, "bin", "probe"), env, nil)
	})

	t.Run("hardlink outside the bundle fails cleanly", func(t *testing.T) {
		hl := filepath.Join(f.dir, "hardlinked")
		if err := os.Link(filepath.Join(a, "bin", "probe"), hl); err != nil {
			t.Fatal(err)
		}
		o := run(command(hl, []string{"hl"}, env))
		expectFailure(t, "hardlink outside", o, 127, "portable-launcher: "+filepath.Join(filepath.Dir(f.dir), "libexec", "hardlinked")+
			": open: No such file or directory (errno 2)")
	})

	// Move the bundle while its real program is running, then start 50
	// copies at once: the first fixes the slots under the lock, none may see
	// ETXTBSY or a half-written file.
	m := filepath.Join(f.dir, "moved")
	t.Run("moved: 50 concurrent first runs", func(t *testing.T) {
		wait := command(filepath.Join(a, "bin", "probe"), []string{"waiter", "wait"}, env)
		stdin, err := wait.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var wout, werr bytes.Buffer
		wait.Stdout, wait.Stderr = &wout, &werr
		if err := wait.Start(); err != nil {
			t.Fatal(err)
		}
		waitForExe(t, wait.Process.Pid, filepath.Join(a, "libexec", "probe"))
		// Running, not still starting: a bundle renamed while a program in
		// it is still loading its libraries leaves that program's loader
		// looking in the old place, and a closed loader has nowhere else
		// to look (the old open loader took the host's libc instead).
		waitForBlockedRead(t, wait.Process.Pid)
		if err := os.Rename(a, m); err != nil {
			t.Fatal(err)
		}

		const n = 50
		cmds := make([]*exec.Cmd, n)
		outs := make([][2]bytes.Buffer, n)
		for i := range cmds {
			name := names[i%len(names)]
			cmds[i] = command(filepath.Join(m, "bin", name), []string{fmt.Sprintf("runner-%d", i), "report"}, env)
			cmds[i].Stdout, cmds[i].Stderr = &outs[i][0], &outs[i][1]
		}
		for i, c := range cmds {
			if err := c.Start(); err != nil {
				t.Fatalf("start runner %d: %v", i, err)
			}
		}
		for i, c := range cmds {
			err := c.Wait()
			name := names[i%len(names)]
			expectReport(t, fmt.Sprintf("runner %d", i), result(c, err, &outs[i][0], &outs[i][1]), want{
				exe: filepath.Join(m, "libexec", name), argv0: fmt.Sprintf("runner-%d", i),
				execfn: filepath.Join(m, "libexec", name), env: env, preload: true,
			})
		}
		f.checkSlots(t, m, m)
		f.verify(t, m)
		if l := leftovers(t, m); len(l) > 0 {
			t.Errorf("fix-up left temp files: %v", l)
		}

		stdin.Close()
		if err := wait.Wait(); err != nil {
			t.Errorf("the program running across the move and fix-up: %v, stderr %q", err, werr.String())
		} else if _, err := parseReport(wout.String()); err != nil {
			t.Errorf("the program running across the move: %v", err)
		}
	})

	t.Run("read-only bind mount of a moved copy", func(t *testing.T) {
		c := filepath.Join(f.dir, "copy-ro")
		copyTree(t, m, c)
		before := snapshot(t, c)
		ro := filepath.Join(f.dir, "ro")
		mountReadOnly(t, c, ro)
		self := filepath.Join(ro, "bin", "probe")
		o := run(command(self, []string{"ro", "report"}, env))
		expectReport(t, "read-only", o, want{exe: self, argv0: "ro", execfn: self, env: env, preload: true})
		rel := command("./bin/probe-b", []string{"rel", "report"}, env)
		rel.Dir = ro
		expectReport(t, "read-only, relative, second name", run(rel), want{
			exe: filepath.Join(ro, "bin", "probe-b"), argv0: "rel", execfn: "./bin/probe-b", env: env, preload: true})
		o = run(command(self, []string{"re", "reexec"}, env))
		expectReport(t, "read-only reexec", o, want{exe: self, argv0: "re", execfn: "/proc/self/exe", env: env, preload: true})
		passThrough(t, self, env, nil)
		sameSnapshot(t, "read-only runs", before, snapshot(t, c))
		// The launcher ran it without re-pointing, but a program run
		// directly would load the first copy's loader: verify says so.
		f.verifyStale(t, ro, m)
	})

	t.Run("read-only by permission (run as nobody)", func(t *testing.T) {
		c := filepath.Join(f.dir, "copy-perm")
		copyTree(t, m, c)
		before := snapshot(t, c)
		self := filepath.Join(c, "bin", "probe")
		cmd := command(self, []string{"nobody", "report"}, env)
		cmd.SysProcAttr = nobody
		expectReport(t, "as nobody", run(cmd), want{exe: self, argv0: "nobody", execfn: self, env: env, preload: true})
		sameSnapshot(t, "runs as nobody", before, snapshot(t, c))
	})

	t.Run("read-only by intent (libexec without write bits, as root)", func(t *testing.T) {
		// Bazel leaves its output trees without write bits; root could still
		// write them, but the launcher must not.
		c := filepath.Join(f.dir, "copy-nowrite")
		copyTree(t, m, c)
		libexec := filepath.Join(c, "libexec")
		if err := os.Chmod(libexec, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(libexec, 0o755)
		before := snapshot(t, c)
		self := filepath.Join(c, "bin", "probe")
		expectReport(t, "no write bits", run(command(self, []string{"nw", "report"}, env)), want{exe: self, argv0: "nw", execfn: self, env: env, preload: true})
		sameSnapshot(t, "runs with libexec 0555", before, snapshot(t, c))
	})

	t.Run("empty root via chroot", func(t *testing.T) {
		chEnv := callerEnv("")
		root := filepath.Join(f.dir, "root-rw")
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		copyTree(t, m, filepath.Join(root, "b"))
		mountProc(t, root)
		inRoot := func(argv ...string) *exec.Cmd {
			c := command("/b/bin/probe", argv, chEnv)
			c.Dir = "/"
			c.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
			return c
		}
		expectReport(t, "chroot, writable", run(inRoot("scratch", "report")), want{
			exe: "/b/libexec/probe", argv0: "scratch", execfn: "/b/libexec/probe", env: chEnv})
		f.checkSlots(t, filepath.Join(root, "b"), "/b")
		// Seen from here the slots name /b, which is this bundle only
		// inside the chroot: verify --as says where that is.
		f.verifyStale(t, filepath.Join(root, "b"), "/b")
		f.verify(t, filepath.Join(root, "b"), "--as", "/b")
		expectReport(t, "chroot reexec", run(inRoot("re", "reexec")), want{
			exe: "/b/libexec/probe", argv0: "re", execfn: "/proc/self/exe", env: chEnv})
		passThrough(t, "/b/bin/probe", chEnv, &syscall.SysProcAttr{Chroot: root})

		// The same root with the bundle read-only and stale.
		roRoot := filepath.Join(f.dir, "root-ro")
		c := filepath.Join(f.dir, "copy-chroot-ro")
		copyTree(t, m, c)
		before := snapshot(t, c)
		mountReadOnly(t, c, filepath.Join(roRoot, "b"))
		mountProc(t, roRoot)
		cmd := command("/b/bin/probe", []string{"scratch-ro", "report"}, chEnv)
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: roRoot}
		expectReport(t, "chroot, read-only", run(cmd), want{
			exe: "/b/bin/probe", argv0: "scratch-ro", execfn: "/b/bin/probe", env: chEnv})
		passThrough(t, "/b/bin/probe", chEnv, &syscall.SysProcAttr{Chroot: roRoot})
		sameSnapshot(t, "read-only runs in a chroot", before, snapshot(t, c))
	})

	t.Run("closed and checksum-enforced: the same contract", func(t *testing.T) {
		// Every bundle carries the audit module (closed by default); with
		// --enforce-checksums it also hashes what it maps. Neither changes
		// what the program sees: argv, environment (the caller's
		// LD_PRELOAD still loads), /proc/self/exe, AT_EXECFN.
		e := filepath.Join(f.dir, "enforced")
		f.bundle(t, e, "--enforce-checksums")
		for _, b := range []string{m, e} {
			m, err := os.ReadFile(filepath.Join(b, ".portable", "manifest.json"))
			if err != nil || !strings.Contains(string(m), `"policy": "never"`) {
				t.Errorf("%s: manifest has no host_libs policy never: %v", b, err)
			}
		}
		self := filepath.Join(e, "bin", "probe")
		for i := 0; i < 2; i++ {
			expectReport(t, "enforced", run(command(self, []string{"enf", "report"}, env)), want{
				exe: filepath.Join(e, "libexec", "probe"), argv0: "enf",
				execfn: filepath.Join(e, "libexec", "probe"), env: env, preload: true,
			})
		}
		if _, err := os.Stat(filepath.Join(e, ".portable", "verified")); err != nil {
			t.Errorf("no stamp after the enforced runs: %v", err)
		}
		f.verify(t, e)
		ro := filepath.Join(f.dir, "enforced-ro")
		mountReadOnly(t, e, ro)
		roSelf := filepath.Join(ro, "bin", "probe")
		// Stale slots, nothing writable: the launcher's userland exec, and
		// the module hashes every object (no stamp can be written).
		expectReport(t, "enforced, read-only", run(command(roSelf, []string{"enf-ro", "report"}, env)), want{
			exe: roSelf, argv0: "enf-ro", execfn: roSelf, env: env, preload: true,
		})
	})

	t.Run("no /proc fails closed", func(t *testing.T) {
		root := filepath.Join(f.dir, "root-noproc")
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		copyTree(t, m, filepath.Join(root, "b"))
		before := snapshot(t, root)
		cmd := command("/b/bin/probe", []string{"noproc", "report"}, callerEnv(""))
		cmd.Dir = "/b/bin" // a cwd and argv[0] that would find the bundle: must not be used
		cmd.Args[0] = "./probe"
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
		expectFailure(t, "no /proc", run(cmd), 127, "portable-launcher: /proc/self/exe: readlink: No such file or directory (errno 2); "+
			"the launcher finds its bundle through /proc, which is not mounted here")
		sameSnapshot(t, "a run without /proc", before, snapshot(t, root))
	})

	t.Run("set-ID launcher refused", func(t *testing.T) {
		c := filepath.Join(f.dir, "copy-setid")
		copyTree(t, m, c)
		self := filepath.Join(c, "bin", "probe")
		line := "portable-launcher: " + self + ": refusing to run set-user-ID or set-group-ID: Operation not permitted (errno 1)"
		for _, mode := range []os.FileMode{0o755 | os.ModeSetuid, 0o755 | os.ModeSetgid} {
			if err := os.Chmod(self, mode); err != nil {
				t.Fatal(err)
			}
			expectFailure(t, fmt.Sprintf("root, mode %v", mode), run(command(self, []string{"s"}, env)), 126,
				line+"; remove the set-ID bit from the launcher")
			// Run by nobody, the kernel itself marks the process secure.
			cmd := command(self, []string{"s"}, env)
			cmd.SysProcAttr = nobody
			expectFailure(t, fmt.Sprintf("nobody, mode %v", mode), run(cmd), 126, line)
		}
	})

	t.Run("broken bundles fail with one line", func(t *testing.T) {
		c := filepath.Join(f.dir, "copy-broken")
		copyTree(t, m, c)
		cases := []struct {
			name  string
			argv0 string
			setup func()
			line  string
		}{
			{"real program missing", "probe", func() { os.Remove(filepath.Join(c, "libexec", "probe")) },
				filepath.Join(c, "libexec", "probe") + ": open: No such file or directory (errno 2)"},
			{"real program is a script", "probe-b", func() {
				p := filepath.Join(c, "libexec", "probe-b")
				os.Remove(p) // it may be a hardlink of libexec/probe
				os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755)
			}, filepath.Join(c, "libexec", "probe-b") + ": read ELF headers: Exec format error (errno 8); expected an ELF executable for x86_64"},
		}
		for _, cs := range cases {
			cs.setup()
			expectFailure(t, cs.name, run(command(filepath.Join(c, "bin", cs.argv0), []string{cs.argv0}, env)), 127, "portable-launcher: "+cs.line)
		}

		// Fresh slots but no loader: the error names the loader.
		d := filepath.Join(f.dir, "copy-noloader")
		copyTree(t, m, d)
		os.Remove(filepath.Join(d, "lib", loaderName))
		expectFailure(t, "loader missing (fast path)", run(command(filepath.Join(d, "bin", "probe"), []string{"p"}, env)), 127,
			"portable-launcher: "+filepath.Join(d, "lib", loaderName)+": open loader: No such file or directory (errno 2); it is the interpreter of the bundled program")
		e := filepath.Join(f.dir, "copy-noloader-ro")
		copyTree(t, d, e)
		ro := filepath.Join(f.dir, "ro-noloader")
		mountReadOnly(t, e, ro)
		expectFailure(t, "loader missing (read-only)", run(command(filepath.Join(ro, "bin", "probe"), []string{"p"}, env)), 127,
			"portable-launcher: "+filepath.Join(ro, "lib", loaderName)+": open loader: No such file or directory (errno 2)")
	})
}

// passThrough checks exit statuses and signals reach the caller unchanged.
func passThrough(t *testing.T, self string, env []string, attr *syscall.SysProcAttr) {
	t.Helper()
	for _, code := range []int{0, 1, 42, 255} {
		c := command(self, []string{"x", "exit", fmt.Sprint(code)}, env)
		c.SysProcAttr = attr
		if attr != nil {
			c.Dir = "/"
		}
		if o := run(c); o.code != code || o.stderr != "" {
			t.Errorf("%s exit %d: %v", self, code, o)
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL, syscall.SIGUSR1} {
		c := command(self, []string{"x", "kill", fmt.Sprint(int(sig))}, env)
		c.SysProcAttr = attr
		if attr != nil {
			c.Dir = "/"
		}
		if o := run(c); o.signal != sig {
			t.Errorf("%s kill %v: %v", self, sig, o)
		}
	}
}
