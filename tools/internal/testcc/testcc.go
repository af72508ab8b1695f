// Package testcc names the C compiler that tests build their fixtures with.
//
// Under `go test` it is the machine's gcc. Under Bazel the tests get the
// project's own: tools/internal/testcc/gcc.sh, which runs the gcc bundled
// from pinned packages against sysroot v1's dev flavour (glibc 2.36), both
// in the test's runfiles, so a remote worker without a compiler runs these
// tests too. The BUILD file names them in PORTABLE_TEST_CC,
// PORTABLE_TEST_GCC and PORTABLE_TEST_SYSROOT.
package testcc

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once sync.Once
	cc   string
	err  error
)

// Path returns the compiler to run; it fails the test (never skips) when
// there is none.
func Path(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if w := os.Getenv("PORTABLE_TEST_CC"); w != "" {
			// $(rootpath) values are relative to the workspace's runfiles
			// directory (rules_go runs a test in its package's), and
			// fixtures compile in others: make the three absolute.
			base := filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"))
			for _, k := range []string{"PORTABLE_TEST_CC", "PORTABLE_TEST_GCC", "PORTABLE_TEST_SYSROOT"} {
				if v := os.Getenv(k); v != "" && !filepath.IsAbs(v) {
					os.Setenv(k, filepath.Join(base, v))
				}
			}
			cc = os.Getenv("PORTABLE_TEST_CC")
			return
		}
		cc, err = exec.LookPath("gcc")
	})
	if err != nil || cc == "" {
		t.Fatal("gcc not found: install the Debian package gcc")
	}
	return cc
}
