package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// bundleDlopen builds testdata/dlopen.c and bundles it with flags into
// work/NAME; it returns the bundle directory.
func bundleDlopen(t *testing.T, work, name string, flags ...string) string {
	t.Helper()
	prog := filepath.Join(work, "dlopen")
	if _, err := os.Stat(prog); err != nil {
		mustRun(t, "gcc", "-O2", "-o", prog, "testdata/dlopen.c")
	}
	out := filepath.Join(work, name)
	mustRun(t, portable, append(append([]string{"bundle", "-o", out}, flags...), prog)...)
	return out
}

// modes gives a bundle's three places: moved (a copy elsewhere), a
// read-only bind mount at another path (stale slots: the launcher's
// userland exec), and an empty root with /proc only.
func modes(t *testing.T, work, src string) []where {
	t.Helper()
	moved := filepath.Join(work, "moved-"+filepath.Base(src))
	mustRun(t, "cp", "-a", src, moved)
	ro := filepath.Join(work, "ro-"+filepath.Base(src))
	mount(t, src, ro, "", syscall.MS_BIND|syscall.MS_RDONLY, "")
	root := filepath.Join(work, "root-"+filepath.Base(src))
	mount(t, src, filepath.Join(root, "b"), "", syscall.MS_BIND|syscall.MS_RDONLY, "")
	mount(t, "proc", filepath.Join(root, "proc"), "proc", 0, "")
	os.MkdirAll(filepath.Join(root, "tmp"), 0o777)
	return []where{
		{mode: "moved", bundle: moved, tmp: work},
		{mode: "read-only", bundle: ro, tmp: work},
		{mode: "chroot", bundle: "/b", chroot: root, tmp: "/tmp"},
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestClosedUniverse: a bundled program that dlopen()s a library its
// bundle lacks (libz.so.1) does not get the host's copy, in any mode, and
// the loader touches nothing of the host's library universe; the same
// program loads the bundled copy when it is added; --host-lib and
// --host-libs fallback let the host's in, and the strace check sees it.
func TestClosedUniverse(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root for bind mounts and chroot (CI runs as root)")
	}
	need(t, "/lib/x86_64-linux-gnu/libz.so.1", "zlib1g")
	need(t, "/lib/x86_64-linux-gnu/libbz2.so.1.0", "libbz2-1.0")
	work := t.TempDir()

	closed := bundleDlopen(t, work, "closed")
	for _, w := range modes(t, work, closed) {
		stdout, stderr, calls, err := runTraced(t, w, []string{w.bundle + "/bin/dlopen"})
		if exitCode(err) != 3 || stdout != "dlopen failed: libz.so.1: cannot open shared object file: No such file or directory\n" {
			t.Errorf("%s: dlopen(libz.so.1) in a bundle without it: exit %d, %q %q; want exit 3 and not found", w.mode, exitCode(err), stdout, stderr)
		}
		checkClosed(t, w.mode+": dlopen(libz.so.1)", calls, w.bundle)
		// By its absolute host path: refused by the audit module.
		stdout, _, calls, err = runTraced(t, w, []string{w.bundle + "/bin/dlopen", "/lib/x86_64-linux-gnu/libz.so.1"})
		if w.mode != "chroot" && (exitCode(err) != 3 || !strings.HasPrefix(stdout, "dlopen failed: ")) {
			t.Errorf("%s: dlopen(/lib/x86_64-linux-gnu/libz.so.1): exit %d, %q; want it refused", w.mode, exitCode(err), stdout)
		}
		checkClosed(t, w.mode+": dlopen(/lib/.../libz.so.1)", calls, w.bundle)
	}

	withZ := bundleDlopen(t, work, "withz", "--add", "/lib/x86_64-linux-gnu/libz.so.1")
	for _, w := range modes(t, work, withZ) {
		stdout, _, calls, err := runTraced(t, w, []string{w.bundle + "/bin/dlopen"})
		if err != nil || stdout != "dlopen ok\n" {
			t.Errorf("%s: dlopen(libz.so.1) with it bundled: %v %q", w.mode, err, stdout)
		}
		checkClosed(t, w.mode+": dlopen(bundled libz.so.1)", calls, w.bundle)
		if !opened(calls, w.bundle+"/lib/libz.so.1") {
			t.Errorf("%s: the bundled lib/libz.so.1 was not opened:\n%s", w.mode, strings.Join(calls, "\n"))
		}
	}

	// The escape hatches: named host libraries, or all of them.
	listed := bundleDlopen(t, work, "listed", "--host-lib", "libz.so.1")
	w := where{mode: "listed", bundle: listed, tmp: work}
	if stdout, _, _, err := runTraced(t, w, []string{listed + "/bin/dlopen"}); err != nil || stdout != "dlopen ok\n" {
		t.Errorf("--host-lib libz.so.1: dlopen(libz.so.1): %v %q", err, stdout)
	}
	if stdout, _, _, err := runTraced(t, w, []string{listed + "/bin/dlopen", "libbz2.so.1.0"}); exitCode(err) != 3 {
		t.Errorf("--host-lib libz.so.1: dlopen(libbz2.so.1.0), not listed: %v %q; want refused", err, stdout)
	}
	fallback := bundleDlopen(t, work, "fallback", "--host-libs", "fallback")
	w = where{mode: "fallback", bundle: fallback, tmp: work}
	stdout, _, calls, err := runTraced(t, w, []string{fallback + "/bin/dlopen"})
	if err != nil || stdout != "dlopen ok\n" {
		t.Errorf("--host-libs fallback: %v %q", err, stdout)
	}
	if len(hostLibraryAccess(calls, fallback)) == 0 {
		t.Errorf("--host-libs fallback: the strace check saw no host library access:\n%s", strings.Join(calls, "\n"))
	}
}

// TestEnforcedChecksums: a bundle built with --enforce-checksums runs,
// remembers what it verified, and refuses to start, naming the file and
// both sha256s, once a byte of a bundled library is flipped; read-only
// (no stamp can be written) it hashes every time and refuses the same way.
func TestEnforcedChecksums(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root for bind mounts and chroot (CI runs as root)")
	}
	work := t.TempDir()
	b := bundleDlopen(t, work, "enforced", "--enforce-checksums", "--add", "/lib/x86_64-linux-gnu/libz.so.1")
	for i := 0; i < 2; i++ {
		if out, err := exec.Command(b + "/bin/dlopen").CombinedOutput(); err != nil || string(out) != "dlopen ok\n" {
			t.Fatalf("run %d: %v %q", i, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(b, ".portable/verified")); err != nil {
		t.Errorf("no stamp after a run of a writable bundle: %v", err)
	}
	mustRun(t, portable, "verify", b)

	// A flipped byte, written in place (an attacker or a bad disk).
	for _, lib := range []string{"lib/libz.so.1", "lib/libc.so.6"} {
		c := filepath.Join(work, "flipped-"+filepath.Base(lib))
		mustRun(t, "cp", "-a", b, c)
		target := filepath.Join(c, lib)
		f, err := os.OpenFile(target, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		var one [1]byte
		f.ReadAt(one[:], 4000)
		one[0] ^= 0x40
		f.WriteAt(one[:], 4000)
		f.Close()
		for _, w := range modes(t, work, c) {
			out, err := exec.Command("chroot", append(chrootArgs(w), w.bundle+"/bin/dlopen")...).CombinedOutput()
			msg := string(out)
			if exitCode(err) != 127 || !strings.Contains(msg, "portable-audit: "+w.bundle+"/"+lib+": sha256 ") ||
				!strings.Contains(msg, ", the manifest says ") || strings.Contains(msg, "dlopen ok") {
				t.Errorf("%s, %s flipped: exit %d\n%s\nwant exit 127 and portable-audit naming %s/%s with both sha256s", w.mode, lib, exitCode(err), msg, w.bundle, lib)
			}
		}
	}
}

// chrootArgs makes `chroot ARGS PROGRAM` run in w: in its root for the
// chroot mode, in / otherwise.
func chrootArgs(w where) []string {
	if w.chroot != "" {
		return []string{w.chroot}
	}
	return []string{"/"}
}

// opened reports whether calls hold a successful open of path (compared
// in clean form: a read-only run names lib/ as bin/../lib).
func opened(calls []string, path string) bool {
	for _, l := range calls {
		m := straceLine.FindStringSubmatch(l)
		if strings.HasPrefix(m[2], "open") && filepath.Clean(m[3]) == path && !strings.Contains(m[4], "= -1 ") {
			return true
		}
	}
	return false
}

// TestIconvInEmptyRoot: a program that converts UTF-8 to EUC-JP gets
// glibc's gconv modules by policy and uses the bundle's own, in every
// mode (an empty root included), with nothing set in its environment and
// nothing of the host's gconv or locale data read.
func TestIconvInEmptyRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root for bind mounts and chroot (CI runs as root)")
	}
	work := t.TempDir()
	prog := filepath.Join(work, "iconv")
	mustRun(t, "gcc", "-O2", "-o", prog, "testdata/iconv.c")
	b := filepath.Join(work, "iconv-bundle")
	out := mustRun(t, portable, "bundle", "-o", b, prog)
	if !strings.Contains(out, "adding glibc's gconv modules as lib/gconv") {
		t.Errorf("portable bundle did not say it added the gconv modules:\n%s", out)
	}
	for _, w := range modes(t, work, b) {
		stdout, stderr, calls, err := runTraced(t, w, []string{w.bundle + "/bin/iconv"})
		// 日 (U+65E5) is 0xC6FC in EUC-JP.
		if err != nil || stdout != "c6fc\n" {
			t.Errorf("%s: iconv UTF-8 -> EUC-JP: %v %q %q", w.mode, err, stdout, stderr)
		}
		checkClosed(t, w.mode+": iconv", calls, w.bundle)
		for _, l := range calls {
			m := straceLine.FindStringSubmatch(l)
			if p := m[3]; !strings.HasPrefix(p, w.bundle+"/") && (strings.Contains(p, "/gconv") || strings.Contains(p, "/locale")) && !strings.HasPrefix(p, "/proc/") {
				t.Errorf("%s: reads host runtime data: %s", w.mode, l)
			}
		}
	}
}

// TestRecordMatchesClosure: the record of a curl run in an empty root
// names nothing outside its bundle (portable diff-closure passes), while
// on this host, whose libsasl2 plugins curl opens by absolute path, the
// record shows them refused and diff-closure fails. --trace adds a
// library a sample run asked for by name.
func TestRecordMatchesClosure(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root for bind mounts and chroot (CI runs as root)")
	}
	need(t, "/usr/bin/curl", "curl")
	work := t.TempDir()
	b := filepath.Join(work, "curl")
	mustRun(t, portable, "bundle", "-o", b, "/usr/bin/curl")
	for _, w := range modes(t, work, b) {
		rec := filepath.Join(work, "curl-"+w.mode+".rec")
		runRec, hostRec := rec, rec
		if w.chroot != "" {
			runRec, hostRec = "/tmp/curl.rec", filepath.Join(w.chroot, "tmp/curl.rec")
		}
		cmd := exec.Command("chroot", append(chrootArgs(w), w.bundle+"/bin/curl", "--version")...)
		cmd.Env = []string{"PORTABLE_AUDIT_RECORD=" + runRec, "LC_ALL=C"}
		if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "curl ") {
			t.Fatalf("%s: curl --version: %v\n%s", w.mode, err, out)
		}
		out, err := exec.Command(portable, "diff-closure", "--record", hostRec, "--as", w.bundle, b).CombinedOutput()
		sasl := "/usr/lib/x86_64-linux-gnu/sasl2"
		_, hostHasSasl := os.Stat(sasl)
		if w.chroot != "" || hostHasSasl != nil {
			if err != nil || !strings.Contains(string(out), ": ok (the run loaded ") {
				t.Errorf("%s: diff-closure of a curl run: %v\n%s", w.mode, err, out)
			}
		} else if exitCode(err) != 1 || !strings.Contains(string(out), "refused: "+sasl+"/") {
			t.Errorf("%s: diff-closure of a curl run on a host with %s: exit %d\n%s\nwant the plugins refused", w.mode, sasl, exitCode(err), out)
		}
	}

	// --trace: a sample run that dlopen()s libz.so.1 brings it in.
	prog := filepath.Join(work, "dlopen")
	mustRun(t, "gcc", "-O2", "-o", prog, "testdata/dlopen.c")
	traced := filepath.Join(work, "traced")
	out := mustRun(t, portable, "bundle", "-o", traced, prog, "--trace", "--", "libz.so.1")
	if !strings.Contains(out, "adding /lib/x86_64-linux-gnu/libz.so.1 as lib/libz.so.1") && !strings.Contains(out, "adding /usr/lib/x86_64-linux-gnu/libz.so.1 as lib/libz.so.1") {
		t.Errorf("--trace did not add libz.so.1:\n%s", out)
	}
	mustRun(t, portable, "verify", traced)
	mustRun(t, portable, "diff-closure", traced)
	for _, w := range modes(t, work, traced) {
		if stdout, _, calls, err := runTraced(t, w, []string{w.bundle + "/bin/dlopen"}); err != nil || stdout != "dlopen ok\n" {
			t.Errorf("%s: the traced bundle: %v %q", w.mode, err, stdout)
		} else {
			checkClosed(t, w.mode+": traced bundle", calls, w.bundle)
		}
	}
}

// TestLocales: a closed bundle never reads the host's locales (the host's
// C.utf8 belongs to the host's glibc): setlocale(LC_ALL, "") with
// LC_ALL=C.UTF-8 fails, in every mode. With --locale C.UTF-8 the bundle
// carries it in lib/locale/locale-archive and it works, an empty root
// included.
func TestLocales(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root for bind mounts and chroot (CI runs as root)")
	}
	need(t, "/usr/lib/locale/C.utf8/LC_CTYPE", "libc-bin")
	work := t.TempDir()
	prog := filepath.Join(work, "locale")
	mustRun(t, "gcc", "-O2", "-o", prog, "testdata/locale.c")
	for _, c := range []struct {
		name, want string
		flags      []string
	}{
		{"without", "setlocale failed\n", nil},
		{"with", "C.UTF-8 UTF-8 1 65e5\n", []string{"--locale", "C.UTF-8"}},
	} {
		b := filepath.Join(work, c.name)
		mustRun(t, portable, append(append([]string{"bundle", "-o", b}, c.flags...), prog)...)
		for _, w := range modes(t, work, b) {
			cmd := exec.Command("chroot", append(chrootArgs(w), w.bundle+"/bin/locale")...)
			cmd.Env = []string{"LC_ALL=C.UTF-8"}
			out, _ := cmd.CombinedOutput()
			if string(out) != c.want {
				t.Errorf("%s --locale, %s: %q, want %q", c.name, w.mode, out, c.want)
			}
		}
	}
}
