// Package testutil holds what the host-bound test suites (tests/e2e,
// tests/conformance, tests/hostile) share: building the portable CLI once
// per package and copying fixtures.
package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// cliPackage is the import path of the portable CLI.
const cliPackage = "github.com/rules-portable/rules_portable/tools/cmd/portable"

// MainWithCLI is a TestMain body: it builds the portable CLI into a fresh
// temp dir that anyone may read (suites run cases as nobody), sets
// *portable to its path, runs the tests, removes the dir and exits with
// their status.
func MainWithCLI(m *testing.M, portable *string) {
	dir, err := os.MkdirTemp("", "portable-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755)
	*portable = filepath.Join(dir, "portable")
	cmd := exec.Command("go", "build", "-o", *portable, cliPackage)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the portable CLI:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// CopyFile copies src to dst with mode (exactly: chmod after the write,
// so the umask does not apply).
func CopyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}
