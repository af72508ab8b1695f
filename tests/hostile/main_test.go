// Package hostile runs the portable CLI as a hostile or careless user
// would, one test per class of docs/security.md: special files given as
// inputs, set-ID programs patched as root, outputs interrupted by signals,
// bundles tampered with before verify, libraries under two names, and the
// shape of every error. Each case asserts the exact outcome: the exit
// status, the message naming the file and the cause, and that nothing was
// damaged or left behind.
//
// It needs root (set-ID ownership, running as nobody), gcc, and this
// machine's /bin/true, so it runs with `go test ./...` on the host
// (tests/run_all.sh), not in Bazel's sandbox.
package hostile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rules-portable/rules_portable/tests/testutil"
)

// portable is the CLI built once for the package's tests.
var portable string

func TestMain(m *testing.M) { testutil.MainWithCLI(m, &portable) }

// result is one run of the CLI.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
}

// hangLimit is how long a case may take before it counts as hung: every
// case here is a refusal that takes milliseconds.
const hangLimit = 60 * time.Second

// cli runs portable with args in dir; attr may set credentials.
func cli(t *testing.T, dir string, attr *syscall.SysProcAttr, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, portable, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = attr
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("portable %q hung (killed after %v)", args, hangLimit)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("portable %q: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// expectFail checks a refused run: the exit status, an empty stdout, and
// a stderr holding every want (in order) with the single "portable: "
// prefix.
func expectFail(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("want exit %d, got %v", code, r)
		return
	}
	if r.stdout != "" {
		t.Errorf("stdout must stay empty on failure: %v", r)
	}
	if strings.Contains(r.stderr, "portable: portable") || !strings.HasPrefix(r.stderr, "portable") {
		t.Errorf("want one \"portable: \" prefix: %v", r)
	}
	rest := r.stderr
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("stderr lacks %q (in order): %v", w, r)
			return
		}
		rest = rest[i+len(w):]
	}
}

// needRoot fails (never skips) the test when not run as root.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this suite needs root: run it as tests/run_all.sh does (sudo)")
	}
}

// nobody runs a child as uid/gid 65534.
var nobody = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}

// workDir is a temp dir that nobody can enter.
func workDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for p := d; p != "/" && strings.HasPrefix(p, os.TempDir()) && p != os.TempDir(); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// leftovers lists the temp files and staging directories under dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	return named(dir, ".portable-tmp-", ".portable-new-")
}

// staging lists the temps under dir that have their locked name (a run
// makes each under a ".portable-new-" name, locks it, then renames it).
func staging(t *testing.T, dir string) []string {
	t.Helper()
	return named(dir, ".portable-tmp-")
}

func named(dir string, infixes ...string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && slices.ContainsFunc(infixes, func(i string) bool { return strings.Contains(d.Name(), i) }) {
			out = append(out, p)
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
	return out
}

func mustNotExist(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists, want nothing there (err %v)", p, err)
		}
	}
}

func gcc(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("gcc", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc %v (Debian package gcc): %v\n%s", args, err, out)
	}
}

// bundleTrue makes a fresh bundle of /bin/true at dir/name.
func bundleTrue(t *testing.T, dir, name string) string {
	t.Helper()
	if r := cli(t, dir, nil, "bundle", "-o", name, "/bin/true"); r.code != 0 {
		t.Fatalf("bundle /bin/true: %v", r)
	}
	return filepath.Join(dir, name)
}
