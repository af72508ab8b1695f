package bundle

import (
	"bytes"
	debugelf "debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/launcherbin"
)

// arm64Inputs returns an aarch64 root to resolve in and an aarch64 program.
// Under Bazel they come from the environment: the arm64 sysroot v2 that the
// build made from Debian's packages, as a tar. With go test on the host, the
// root is Debian's arm64 glibc for cross builds (libc6-arm64-cross), a real
// aarch64 loader and libc laid out as a root.
func arm64Inputs(t *testing.T) (root, prog string) {
	t.Helper()
	root, prog = os.Getenv("ARM64_SYSROOT"), os.Getenv("HELLO_AARCH64")
	// Bazel's $(rootpath) is relative to the workspace's runfiles directory;
	// the test runs in its package's directory.
	inRunfiles := func(p string) string {
		if p == "" || filepath.IsAbs(p) || os.Getenv("TEST_SRCDIR") == "" {
			return p
		}
		return filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), p)
	}
	root, prog = inRunfiles(root), inRunfiles(prog)
	if root == "" {
		root = "/usr/aarch64-linux-gnu"
		if _, err := os.Stat(filepath.Join(root, "lib/ld-linux-aarch64.so.1")); err != nil {
			t.Fatalf("%v: install the Debian package libc6-arm64-cross", err)
		}
	}
	if prog == "" {
		prog = "../elf/testdata/hello-aarch64"
	}
	return root, prog
}

// TestBundleOtherArchitecture bundles an aarch64 program on this x86_64
// machine: the closure comes from an aarch64 root, bin/ gets the embedded
// aarch64 launcher, and the manifest says aarch64. tests/e2e/arm64.sh runs
// such a bundle (built by Bazel) under qemu-aarch64.
func TestBundleOtherArchitecture(t *testing.T) {
	t.Parallel()
	root, src := arm64Inputs(t)
	work := t.TempDir()
	prog := filepath.Join(work, "hello")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prog, b, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, "out")
	res, err := Build(out, []string{prog}, Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	want, err := launcherbin.ForMachine(debugelf.EM_AARCH64)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "bin/hello"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("bin/hello is not the embedded aarch64 launcher")
	}
	real := filepath.Join(out, "libexec/hello")
	if s := readSlot(t, real); s != Placeholder("ld-linux-aarch64.so.1") {
		t.Errorf("slot holds %q", s)
	}
	for _, p := range []string{"lib/ld-linux-aarch64.so.1", "lib/libc.so.6"} {
		f, err := elf.Open(filepath.Join(out, p))
		if err != nil {
			t.Fatal(err)
		}
		if debugelf.Machine(f.Machine) != debugelf.EM_AARCH64 {
			t.Errorf("%s is %v, not aarch64", p, f.Machine)
		}
	}
	if res.Manifest.Arch != "aarch64" {
		t.Errorf("manifest arch = %q, want aarch64", res.Manifest.Arch)
	}
	verifyOK(t, out)
}

// TestLauncherOfWrongMachine: an x86_64 launcher given for an aarch64
// program is refused by name, and nothing is written.
func TestLauncherOfWrongMachine(t *testing.T) {
	t.Parallel()
	root, prog := arm64Inputs(t)
	work := t.TempDir()
	x86, err := launcherbin.ForMachine(debugelf.EM_X86_64)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, "out")
	_, err = Build(out, []string{prog}, Options{Root: root, Launcher: x86})
	if err == nil || !strings.Contains(err.Error(), "hello-aarch64") || !strings.Contains(err.Error(), "pass a launcher built for") {
		t.Fatalf("err = %v, want a refusal naming the program and the fix", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused bundle left %s (%v)", out, err)
	}
}
