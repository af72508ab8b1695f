package runfile_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/bundle"
	"github.com/rules-portable/rules_portable/tools/internal/runfile"
)

// program is a real program bundled as a .run file, and how to check it:
// args make it print something that starts with want.
type program struct {
	name string
	path string
	adds []bundle.Add
	args []string
	want string
}

var programs = []program{
	{"curl", "/usr/bin/curl", nil, []string{"--version"}, "curl "},
	// python3 with its standard library: it finds its prefix from argv[0],
	// and imports C extensions (ssl) from the bundle.
	{"python3", "/usr/bin/python3", []bundle.Add{{Src: "/usr/lib/python3.11"}},
		[]string{"-c", "import ssl, json, sys; print('python', sys.version_info[0], sys.prefix != '/usr')"}, "python 3 True"},
}

// makeRun bundles p as a .run file in a fresh directory.
func makeRun(t *testing.T, p program) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), p.name+".run")
	if _, err := bundle.Build(out, []string{p.path}, bundle.Options{Adds: p.adds}); err != nil {
		t.Fatal(err)
	}
	return out
}

// shared holds the .run file of each program, built once per test process
// by sharedRun (bundling python3 and its library takes seconds).
var shared struct {
	sync.Mutex
	dir   string
	built map[string]string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// sharedRun returns p's .run file, built on first use and shared by the
// tests of this process: a caller only reads it (or copies it).
func sharedRun(t *testing.T, p program) string {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if run, ok := shared.built[p.name]; ok {
		return run
	}
	if shared.dir == "" {
		dir, err := os.MkdirTemp("", "runfile-test-shared")
		if err != nil {
			t.Fatal(err)
		}
		shared.dir, shared.built = dir, map[string]string{}
	}
	run := filepath.Join(shared.dir, p.name+".run")
	if _, err := bundle.Build(run, []string{p.path}, bundle.Options{Adds: p.adds}); err != nil {
		t.Fatal(err)
	}
	shared.built[p.name] = run
	return run
}

// shellArgs quotes p's arguments for sh -c.
func shellArgs(p program) string {
	var b strings.Builder
	for _, a := range p.args {
		b.WriteString(" '" + strings.ReplaceAll(a, "'", `'\''`) + "'")
	}
	return b.String()
}

// runIt runs the .run file with a private cache and returns its output.
func runIt(t *testing.T, run, cache string, args ...string) (string, error) {
	cmd := exec.Command(run, args...)
	cmd.Env = []string{"XDG_CACHE_HOME=" + cache, "HOME=/nonexistent", "PATH=/usr/bin:/bin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestRunFileRuns: each program's .run file runs moved, from a fresh
// cache and a warm one, and 50 concurrent first runs all succeed with one
// unpacked copy and no leftovers.
func TestRunFileRuns(t *testing.T) {
	for _, p := range programs {
		t.Run(p.name, func(t *testing.T) {
			b, err := os.ReadFile(sharedRun(t, p))
			if err != nil {
				t.Fatal(err)
			}
			moved := filepath.Join(t.TempDir(), "elsewhere", "x.run")
			os.MkdirAll(filepath.Dir(moved), 0o755)
			if err := os.WriteFile(moved, b, 0o755); err != nil {
				t.Fatal(err)
			}
			cache := t.TempDir()
			for i := 0; i < 2; i++ {
				out, err := runIt(t, moved, cache, p.args...)
				if err != nil || !strings.HasPrefix(out, p.want) {
					t.Fatalf("run %d: %v\n%s", i, err, out)
				}
			}

			cache = t.TempDir()
			var wg sync.WaitGroup
			errs := make([]error, 50)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := runIt(t, moved, cache, p.args...)
					if err == nil && !strings.HasPrefix(out, p.want) {
						err = fmt.Errorf("output %q", out)
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("concurrent first run %d: %v", i, err)
				}
			}
			ents, _ := os.ReadDir(filepath.Join(cache, "portable-run"))
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			if len(ents) != 2 || !strings.HasSuffix(names[0]+names[1], ".lock") {
				t.Errorf("cache holds %v; want the unpacked bundle and its lock, no leftovers", names)
			}
		})
	}
}

// TestRunFileExtractAndVerify: --portable-extract unpacks a bundle equal
// to what runfile.Extract gives, refuses an existing DIR, and a damaged
// payload is refused before anything is unpacked.
func TestRunFileExtractAndVerify(t *testing.T) {
	run := sharedRun(t, programs[0])
	dir := t.TempDir()
	c, g := filepath.Join(dir, "c"), filepath.Join(dir, "g")
	if out, err := runIt(t, run, t.TempDir(), "--portable-extract", c); err != nil {
		t.Fatalf("--portable-extract: %v\n%s", err, out)
	}
	if _, err := runfile.Extract(run, g); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("diff", "-r", "--no-dereference", c, g).CombinedOutput(); err != nil {
		t.Errorf("the runtime's and the Go reader's unpacked bundles differ: %v\n%s", err, out)
	}
	if out, err := runIt(t, run, t.TempDir(), "--portable-extract", c); err == nil {
		t.Errorf("--portable-extract into an existing directory succeeded:\n%s", out)
	}

	b, err := os.ReadFile(run)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	bad := filepath.Join(dir, "bad.run")
	if err := os.WriteFile(bad, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	out, err := runIt(t, bad, cache, "--version")
	if err == nil || !strings.Contains(out, "sha256 does not match") {
		t.Errorf("a damaged .run file: %v\n%s", err, out)
	}
	if ents, _ := os.ReadDir(filepath.Join(cache, "portable-run")); len(ents) > 1 {
		t.Errorf("a damaged .run file left %d entries in the cache", len(ents))
	}
	if _, err := runfile.Extract(bad, filepath.Join(dir, "x")); err == nil {
		t.Error("runfile.Extract of a damaged file succeeded")
	}
}

// TestRunFileDeterministic: two builds give the same bytes.
func TestRunFileDeterministic(t *testing.T) {
	a, b := sharedRun(t, programs[0]), makeRun(t, programs[0])
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if !bytes.Equal(x, y) {
		t.Error("two builds of the same .run file differ")
	}
}

// TestRunFileWithoutWritableCache: with nothing writable (the whole root
// remounted read-only in a mount namespace of the test's own), the .run
// file still runs, as root and as nobody (a private tmpfs), and in an
// empty chroot with only /proc (a tmpfs root); nothing is left in the
// chroot. Needs root, like the conformance tests.
func TestRunFileWithoutWritableCache(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root (mount namespaces, chroot, su nobody): run go test as root, as tests/run_all.sh does")
	}
	for _, p := range programs {
		t.Run(p.name, func(t *testing.T) {
			built := sharedRun(t, p)
			// Where nobody may reach it (t.TempDir's parent is 0700).
			shared, err := os.MkdirTemp("", "runfile-test")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(shared)
			if err := os.Chmod(shared, 0o755); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(built)
			if err != nil {
				t.Fatal(err)
			}
			run := filepath.Join(shared, "x.run")
			if err := os.WriteFile(run, b, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := run + shellArgs(p)
			for _, c := range []struct{ name, cmd string }{
				{"root", "env -u XDG_CACHE_HOME HOME=/nonexistent " + cmd},
				{"nobody", "su -s /bin/sh nobody -c \"env -u XDG_CACHE_HOME HOME=/nonexistent " + strings.ReplaceAll(cmd, `"`, `\"`) + "\""},
			} {
				out, err := exec.Command("unshare", "-m", "sh", "-c",
					"mount --make-rprivate / && mount -o remount,bind,ro / && "+c.cmd).CombinedOutput()
				if err != nil || !strings.HasPrefix(string(out), p.want) {
					t.Errorf("read-only root, as %s: %v\n%s", c.name, err, out)
				}
			}

			root := t.TempDir()
			if err := os.Mkdir(filepath.Join(root, "proc"), 0o555); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "x.run"), b, 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("unshare", "-m", "sh", "-c",
				"mount --make-rprivate / && mount -t proc proc "+root+"/proc && env -i /usr/sbin/chroot "+root+" /x.run"+shellArgs(p)).CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), p.want) {
				t.Errorf("empty chroot with /proc only: %v\n%s", err, out)
			}
			ents, _ := os.ReadDir(root)
			if len(ents) != 2 {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Errorf("the chroot holds %v afterwards; want only x.run and proc", names)
			}
		})
	}
}
