package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hostLibDirs are where a Linux host keeps its libraries; a closed bundle
// loads nothing from them.
var hostLibDirs = []string{"/lib/", "/lib32/", "/lib64/", "/libx32/", "/usr/lib/", "/usr/lib32/", "/usr/lib64/", "/usr/libx32/", "/usr/local/lib/"}

// straceLine is one system call of `strace -f -qq -o FILE`: the pid, the
// call's name and its first quoted argument (the path of a file call).
var straceLine = regexp.MustCompile(`^(\d+) +(\w+)\((?:AT_FDCWD, |\d+, )?"([^"]*)"(.*)$`)

// runTraced runs argv like runIn, under `strace -f -e trace=%file`, and
// returns the file system calls made after the program itself started
// (the chroot(8) that enters an empty root comes first and is left out).
func runTraced(t *testing.T, w where, argv []string) (stdout, stderr string, calls []string, err error) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "strace.log")
	args := []string{"-f", "-qq", "-e", "trace=%file", "-o", log}
	if w.chroot != "" {
		// By path: the traced environment's PATH is the bundle's.
		chroot, err := exec.LookPath("chroot")
		if err != nil {
			t.Fatal("chroot not found: install the Debian package coreutils")
		}
		args = append(args, chroot, w.chroot)
	}
	cmd := exec.Command("strace", append(args, argv...)...)
	cmd.Env = []string{"PATH=" + w.bundle + "/bin", "HOME=" + w.tmp, "LC_ALL=C", "TMPDIR=" + w.tmp}
	if w.chroot == "" {
		cmd.Dir = w.tmp
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	data, rerr := os.ReadFile(log)
	if rerr != nil {
		t.Fatalf("strace wrote no log (install the Debian package strace): %v\n%s", rerr, e.String())
	}
	started := false
	for _, l := range strings.Split(string(data), "\n") {
		m := straceLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if !started {
			started = m[2] == "execve" && m[3] == argv[0]
			if !started {
				continue
			}
		}
		calls = append(calls, l)
	}
	if !started {
		t.Fatalf("strace log has no execve of %s:\n%s\nstderr: %s", argv[0], data, e.String())
	}
	return o.String(), e.String(), calls, err
}

// hostLibraryAccess returns the calls that reach into the host's library
// universe: any call naming /etc/ld.so.cache or /etc/ld.so.preload (an
// access() of the preload file counts), and any open of a shared object
// (a name with ".so") under the host's library directories, other than
// an O_PATH open (which reads nothing). bundle is the bundle's path as the
// program sees it; its own files are never counted.
func hostLibraryAccess(calls []string, bundle string) []string {
	var bad []string
	for _, l := range calls {
		m := straceLine.FindStringSubmatch(l)
		call, p, rest := m[2], m[3], m[4]
		if strings.HasPrefix(p, bundle+"/") {
			continue
		}
		if strings.HasPrefix(p, "/etc/ld.so.") {
			bad = append(bad, l)
			continue
		}
		if !strings.HasPrefix(call, "open") || strings.Contains(rest, "O_PATH") || !strings.Contains(filepath.Base(p), ".so") {
			continue
		}
		for _, d := range hostLibDirs {
			if strings.HasPrefix(p, d) {
				bad = append(bad, l)
				break
			}
		}
	}
	return bad
}

// checkClosed fails the test for every call of calls that reaches into
// the host's library universe.
func checkClosed(t *testing.T, what string, calls []string, bundle string) {
	t.Helper()
	if bad := hostLibraryAccess(calls, bundle); len(bad) > 0 {
		t.Errorf("%s: %d system calls reach the host's libraries (want none):\n%s", what, len(bad), strings.Join(bad, "\n"))
	}
}

func TestHostLibraryAccessSeesTheLoader(t *testing.T) {
	// The checker must fail on what an open bundle does.
	calls := []string{
		`7 access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)`,
		`7 openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3`,
		`7 openat(AT_FDCWD, "/lib/x86_64-linux-gnu/libz.so.1", O_RDONLY|O_CLOEXEC) = 3`,
		`7 openat(AT_FDCWD, "/usr/lib/x86_64-linux-gnu/sasl2/libplain.so", O_RDONLY|O_CLOEXEC|O_PATH) = 4`,
		`7 openat(AT_FDCWD, "/b/lib/libz.so.1", O_RDONLY|O_CLOEXEC) = 3`,
		`7 openat(AT_FDCWD, "/usr/lib/ssl/openssl.cnf", O_RDONLY) = 3`,
	}
	for i, l := range calls {
		if straceLine.FindStringSubmatch(l) == nil {
			t.Fatalf("line %d does not parse: %s", i, l)
		}
	}
	got := hostLibraryAccess(calls, "/b")
	if want := calls[:3]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hostLibraryAccess = %q, want %q", got, want)
	}
}
