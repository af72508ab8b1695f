// Package e2e bundles real programs of this machine with the portable CLI
// and runs them where a bundle must work: moved to another directory
// (writable: the launcher re-points the slots), from a read-only bind
// mount whose slots are stale (the launcher's userland exec), and inside
// an empty root that holds only the bundle, /proc and a tmpfs work
// directory and /dev/null ("FROM scratch"). It needs root (mounts, chroot) and the
// Debian packages named in the failures; it never skips.
//
//	go test ./tests/e2e/ -v            # about 15 s on 2 cores
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rules-portable/rules_portable/tests/testutil"
)

// portable is the CLI built once for the package's tests.
var portable string

func TestMain(m *testing.M) { testutil.MainWithCLI(m, &portable) }

// need fails the test when a file of a Debian package is missing.
func need(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s not found: install the Debian package %s", path, pkg)
	}
}

// where a bundle is run from in one mode.
type where struct {
	mode    string // moved, read-only, chroot
	bundle  string // the bundle's path as the program sees it
	host    string // the bundle's path on the host
	chroot  string // root directory for chroot mode
	tmp     string // a writable directory as the program sees it
	hostTmp string
}

// program is one real program to bundle and run.
type program struct {
	name  string
	pkgs  map[string]string // file -> Debian package, checked first
	entry []string          // programs to bundle (the first is run)
	adds  func(t *testing.T, work string) []string
	// before runs on the bundle before a mode (e.g. relocate --as).
	before func(t *testing.T, w where)
	cmds   func(w where) [][]string
	check  func(t *testing.T, w where, i int, stdout, stderr string)
}

func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func mount(t *testing.T, src, dst, fstype string, flags uintptr, data string) {
	t.Helper()
	if _, err := os.Lstat(dst); err != nil {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mount(src, dst, fstype, flags, data); err != nil {
		t.Fatalf("mount %s on %s: %v", src, dst, err)
	}
	t.Cleanup(func() { syscall.Unmount(dst, syscall.MNT_DETACH) })
	if flags&syscall.MS_BIND != 0 && flags&syscall.MS_RDONLY != 0 {
		// A bind mount takes MS_RDONLY only on a remount.
		if err := syscall.Mount("", dst, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			t.Fatalf("remount %s read-only: %v", dst, err)
		}
	}
}

// runIn runs argv (argv[0] is a path as the program sees it) with a clean
// environment, in the chroot when w has one.
func runIn(w where, argv []string) (string, string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=" + w.bundle + "/bin", "HOME=" + w.tmp, "LC_ALL=C", "TMPDIR=" + w.tmp}
	cmd.Dir = w.tmp
	if w.chroot != "" {
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: w.chroot}
		cmd.Path = argv[0] // no lookup on the host
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func programs() []program {
	gccDir := "/usr/lib/gcc/x86_64-linux-gnu/12"
	jdk := "/usr/lib/jvm/java-17-openjdk-amd64"
	return []program{
		{
			name:  "python3",
			pkgs:  map[string]string{"/usr/bin/python3": "python3", "/usr/lib/python3.11/ssl.py": "libpython3.11-stdlib"},
			entry: []string{"/usr/bin/python3"},
			adds:  func(*testing.T, string) []string { return []string{"/usr/lib/python3.11"} },
			cmds: func(w where) [][]string {
				return [][]string{{w.bundle + "/bin/python3", "-c", "import sys,ssl,json; print(sys.executable)"}}
			},
			check: func(t *testing.T, w where, _ int, stdout, _ string) {
				if stdout != w.bundle+"/bin/python3\n" {
					t.Errorf("sys.executable = %q", stdout)
				}
			},
		},
		{
			name:  "git",
			pkgs:  map[string]string{"/usr/bin/git": "git"},
			entry: []string{"/usr/bin/git"},
			cmds: func(w where) [][]string {
				return [][]string{{w.bundle + "/bin/git", "--version"}, {w.bundle + "/bin/git", "init", "-q", w.tmp + "/repo"}}
			},
			check: func(t *testing.T, w where, i int, stdout, _ string) {
				if i == 0 && !strings.HasPrefix(stdout, "git version 2.") {
					t.Errorf("git --version: %q", stdout)
				}
				if i == 1 {
					if _, err := os.Stat(filepath.Join(w.hostTmp, "repo/.git/HEAD")); err != nil {
						t.Errorf("git init made no repository: %v", err)
					}
				}
			},
		},
		{
			name:  "perl",
			pkgs:  map[string]string{"/usr/bin/perl": "perl"},
			entry: []string{"/usr/bin/perl"},
			cmds:  func(w where) [][]string { return [][]string{{w.bundle + "/bin/perl", "-e", `print "ok\n"`}} },
			check: func(t *testing.T, _ where, _ int, stdout, _ string) {
				if stdout != "ok\n" {
					t.Errorf("perl: %q", stdout)
				}
			},
		},
		{
			// gdb embeds Python (libpython3.11): the bundler adds its
			// standard library by policy; share/gdb holds gdb's own
			// Python modules, found relative to the program.
			name:  "gdb",
			pkgs:  map[string]string{"/usr/bin/gdb": "gdb", "/usr/share/gdb/python/gdb/__init__.py": "gdb"},
			entry: []string{"/usr/bin/gdb"},
			adds:  func(*testing.T, string) []string { return []string{"/usr/share/gdb"} },
			cmds: func(w where) [][]string {
				return [][]string{{w.bundle + "/bin/gdb", "-nx", "--batch", "-ex", "python import gdb, json, os; print(json.dumps([gdb.VERSION[:2], os.sep]))"}}
			},
			check: func(t *testing.T, _ where, _ int, stdout, stderr string) {
				if !strings.HasPrefix(stdout, `["1`) || !strings.HasSuffix(stdout, `", "/"]`+"\n") || stderr != "" {
					t.Errorf("gdb python: %q %q", stdout, stderr)
				}
			},
		},
		{
			name:  "curl",
			pkgs:  map[string]string{"/usr/bin/curl": "curl"},
			entry: []string{"/usr/bin/curl"},
			cmds:  func(w where) [][]string { return [][]string{{w.bundle + "/bin/curl", "--version"}} },
			check: func(t *testing.T, _ where, _ int, stdout, _ string) {
				if !strings.HasPrefix(stdout, "curl ") || !strings.Contains(stdout, "OpenSSL") {
					t.Errorf("curl --version: %q", stdout)
				}
			},
		},
		{
			// java finds its home (lib/, conf/) from /proc/self/exe or from
			// libjli.so: both are the bundle root here.
			name:  "java",
			pkgs:  map[string]string{jdk + "/bin/java": "openjdk-17-jre-headless"},
			entry: []string{jdk + "/bin/java"},
			adds: func(*testing.T, string) []string {
				return []string{jdk + "/lib=lib", jdk + "/conf=conf"}
			},
			cmds: func(w where) [][]string { return [][]string{{w.bundle + "/bin/java", "-Xshare:auto", "-version"}} },
			check: func(t *testing.T, _ where, _ int, _, stderr string) {
				if !strings.Contains(stderr, "openjdk version \"17") || !strings.Contains(stderr, "Server VM") {
					t.Errorf("java -version: %q", stderr)
				}
			},
		},
		{
			// gcc runs cc1, as and collect2 -> ld directly, by paths
			// relative to itself; with --sysroot=BUNDLE it takes headers,
			// crt files and libc from the bundle too.
			name: "gcc",
			pkgs: map[string]string{"/usr/bin/gcc": "gcc", gccDir + "/cc1": "cpp-12",
				"/usr/bin/x86_64-linux-gnu-as": "binutils-x86-64-linux-gnu", "/usr/lib/x86_64-linux-gnu/crt1.o": "libc6-dev"},
			entry: []string{"/usr/bin/gcc"},
			adds: func(t *testing.T, work string) []string {
				src := filepath.Join(work, "hello.c")
				os.WriteFile(src, []byte("#include <stdio.h>\nint main(void) { puts(\"hello, world\"); return 0; }\n"), 0o644)
				var adds []string
				for _, f := range []string{"cc1", "collect2", "lto-wrapper", "liblto_plugin.so", "crtbegin.o", "crtbeginS.o",
					"crtend.o", "crtendS.o", "libgcc.a", "libgcc_eh.a", "libgcc_s.so", "include"} {
					adds = append(adds, gccDir+"/"+f+"=lib/gcc/x86_64-linux-gnu/12/"+f)
				}
				for _, f := range []string{"crt1.o", "Scrt1.o", "crti.o", "crtn.o", "libc.so", "libc_nonshared.a"} {
					adds = append(adds, "/usr/lib/x86_64-linux-gnu/"+f+"=usr/lib/x86_64-linux-gnu/"+f)
				}
				adds = append(adds,
					"/usr/bin/x86_64-linux-gnu-as=x86_64-linux-gnu/bin/as",
					"/usr/bin/x86_64-linux-gnu-ld.bfd=x86_64-linux-gnu/bin/ld",
					"/lib/x86_64-linux-gnu/libc.so.6=lib/x86_64-linux-gnu/libc.so.6",
					"/lib/x86_64-linux-gnu/libgcc_s.so.1=lib/x86_64-linux-gnu/libgcc_s.so.1",
					"/lib64/ld-linux-x86-64.so.2=lib64/ld-linux-x86-64.so.2")
				// The headers hello.c includes, as the host's cpp lists them
				// (the host gcc is a test oracle here, not the product).
				deps := mustRun(t, "gcc", "-M", src)
				seen := map[string]bool{}
				for _, f := range strings.Fields(strings.ReplaceAll(deps, "\\\n", " ")) {
					if strings.HasPrefix(f, "/usr/include/") && !seen[f] {
						seen[f] = true
						adds = append(adds, f+"="+strings.TrimPrefix(f, "/"))
					}
				}
				sort.Strings(adds)
				return adds
			},
			// Helpers run directly (cc1, as, ld) need their slots fresh
			// where the bundle is seen; a read-only bundle can't be
			// fixed up at run time, so it is relocated for that place
			// first, as the launcher README says.
			before: func(t *testing.T, w where) {
				if w.mode != "moved" {
					mustRun(t, portable, "relocate", "--as", w.bundle, w.host)
				}
			},
			cmds: func(w where) [][]string {
				return [][]string{{w.bundle + "/bin/gcc", "--sysroot=" + w.bundle, "-o", w.tmp + "/hello", w.tmp + "/hello.c"}}
			},
			check: func(t *testing.T, w where, _ int, _, _ string) {
				out, err := exec.Command(filepath.Join(w.hostTmp, "hello")).Output()
				if err != nil || string(out) != "hello, world\n" {
					t.Errorf("the program gcc built: %q %v", out, err)
				}
			},
		},
	}
}

func TestRealPrograms(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root for bind mounts and chroot (CI runs as root)")
	}
	if _, err := exec.LookPath("tar"); err != nil {
		t.Fatal("tar not found: install the Debian package tar")
	}
	var summary []string
	for _, p := range programs() {
		t.Run(p.name, func(t *testing.T) {
			for f, pkg := range p.pkgs {
				need(t, f, pkg)
			}
			work := t.TempDir()
			arc := filepath.Join(work, p.name+".tar.gz")
			args := []string{"bundle", "-o", arc}
			var adds []string
			if p.adds != nil {
				adds = p.adds(t, work)
			}
			for _, a := range adds {
				args = append(args, "--add", a)
			}
			args = append(args, p.entry...)
			start := time.Now()
			if out, err := exec.Command(portable, args...).CombinedOutput(); err != nil {
				t.Fatalf("portable %v: %v\n%s", args, err, out)
			}
			took := time.Since(start)
			st, err := os.Stat(arc)
			if err != nil {
				t.Fatal(err)
			}
			// Unpack it somewhere else, as a user would: the bundle has moved.
			src := filepath.Join(work, "moved", p.name)
			os.MkdirAll(src, 0o755)
			mustRun(t, "tar", "-xzf", arc, "-C", src)
			mustRun(t, portable, "verify", src)

			root := filepath.Join(work, "root")
			modes := []where{
				{mode: "moved", bundle: src, tmp: filepath.Join(work, "tmp-moved")},
				{mode: "read-only", bundle: filepath.Join(work, "ro", p.name), tmp: filepath.Join(work, "tmp-ro")},
				{mode: "chroot", bundle: "/b", chroot: root, tmp: "/tmp"},
			}
			var results []string
			for _, w := range modes {
				w.host = src
				w.hostTmp = w.tmp
				switch w.mode {
				case "moved", "read-only":
					os.MkdirAll(w.tmp, 0o777)
				case "chroot":
					w.hostTmp = filepath.Join(root, "tmp")
				}
				if p.before != nil {
					p.before(t, w)
				}
				switch w.mode {
				case "read-only":
					// A read-only view at another path; the writable
					// original is renamed away so nothing is found through it.
					mount(t, src, w.bundle, "", syscall.MS_BIND|syscall.MS_RDONLY, "")
					away := src + ".away"
					if err := os.Rename(src, away); err != nil {
						t.Fatal(err)
					}
					src = away
				case "chroot":
					mount(t, src, filepath.Join(root, "b"), "", syscall.MS_BIND|syscall.MS_RDONLY, "")
					mount(t, "proc", filepath.Join(root, "proc"), "proc", 0, "")
					mount(t, "tmpfs", w.hostTmp, "tmpfs", 0, "size=64m")
					// git and perl open /dev/null, as a container runtime
					// provides it even FROM scratch.
					os.MkdirAll(filepath.Join(root, "dev"), 0o755)
					os.WriteFile(filepath.Join(root, "dev/null"), nil, 0o666)
					mount(t, "/dev/null", filepath.Join(root, "dev/null"), "", syscall.MS_BIND, "")
				}
				copyHello(work, w.hostTmp)
				failedBefore := t.Failed()
				for i, argv := range p.cmds(w) {
					// Under strace: the bundle is closed, nothing of the
					// host's library universe is touched (strace_test.go).
					stdout, stderr, calls, err := runTraced(t, w, argv)
					if err != nil {
						t.Errorf("%s: %v: %v\nstdout: %s\nstderr: %s", w.mode, argv, err, stdout, stderr)
						continue
					}
					checkClosed(t, w.mode+": "+strings.Join(argv, " "), calls, w.bundle)
					p.check(t, w, i, stdout, stderr)
				}
				result := "ok"
				if t.Failed() && !failedBefore {
					result = "FAIL"
				}
				results = append(results, w.mode+"="+result)
			}
			// The bundle is as it was made, except that Python (in gdb too) rewrote the
			// bytecode caches of the modules it imported while the bundle
			// was writable: archives carry a fixed mtime, so the sources
			// look newer than the caches Debian compiled. Where the
			// package ships no caches (gdb's own modules, unless gdb ran on
			// the host before), Python writes new ones: extra __pycache__
			// directories and .pyc files.
			// Its slots name where the launcher last re-pointed them,
			// before the rename to .away.
			out, err := exec.Command(portable, "verify", "--as", filepath.Join(work, "moved", p.name), src).CombinedOutput()
			if err != nil {
				for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					if (p.name == "python3" || p.name == "gdb") && (pycache(line) || strings.HasPrefix(line, "portable: ")) {
						continue
					}
					t.Errorf("verify after the runs: %s", line)
				}
			}
			summary = append(summary, fmt.Sprintf("%-8s bundle %5.2fs %6.1f MiB (tar.gz), %2d --add: %s",
				p.name, took.Seconds(), float64(st.Size())/(1<<20), len(adds), strings.Join(results, " ")))
		})
	}
	t.Logf("\n%s", strings.Join(summary, "\n"))
}

func copyHello(work, dir string) {
	if data, err := os.ReadFile(filepath.Join(work, "hello.c")); err == nil {
		os.WriteFile(filepath.Join(dir, "hello.c"), data, 0o644)
	}
}

// pycache reports whether a line of `portable verify` is about a Python
// bytecode cache that a run rewrote (FILE.pyc: changed) or wrote anew
// (DIR/__pycache__ or FILE.pyc under it: extra).
func pycache(line string) bool {
	p, what, ok := strings.Cut(line, ": ")
	if !ok {
		return false
	}
	what, _, _ = strings.Cut(what, ":") // "changed: DETAIL"
	switch what {
	case "changed":
		return strings.Contains(p, "/__pycache__/") && strings.HasSuffix(p, ".pyc")
	case "extra":
		return strings.HasSuffix(p, "/__pycache__") || strings.Contains(p, "/__pycache__/") && strings.HasSuffix(p, ".pyc")
	}
	return false
}
