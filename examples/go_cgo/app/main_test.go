package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestGlibc reports the glibc the test runs on and checks it: against
// WANT_GLIBC when set (the sysroot_test targets set it), else that glibc
// reports a version at all.
func TestGlibc(t *testing.T) {
	got := glibcVersion()
	t.Logf("running on glibc %s, compiled against glibc %s headers", got, glibcHeaders())
	// sysroot_test compiles the test against the sysroot it runs on.
	if os.Getenv("PORTABLE_SYSROOT_GLIBC") != "" && glibcHeaders() != got {
		t.Errorf("compiled against glibc %s headers but running on %s", glibcHeaders(), got)
	}
	want := os.Getenv("WANT_GLIBC")
	switch {
	case want != "" && got != want:
		t.Fatalf("glibc %s, want %s", got, want)
	case want == "" && !strings.HasPrefix(got, "2."):
		t.Fatalf("gnu_get_libc_version() = %q, not a glibc 2.x version", got)
	}
}

// TestReexec re-executes the test binary through os.Executable(), as Go
// tests commonly do, and checks the child runs on the same glibc.
func TestReexec(t *testing.T) {
	if os.Getenv("GO_CGO_CHILD") == "1" {
		os.Stdout.WriteString("child glibc " + glibcVersion() + "\n")
		os.Exit(0)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestReexec$")
	cmd.Env = append(os.Environ(), "GO_CGO_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("re-exec of %s: %v\n%s", exe, err, out)
	}
	if want := "child glibc " + glibcVersion(); !strings.Contains(string(out), want) {
		t.Fatalf("child said %q, want %q", out, want)
	}
	t.Logf("re-exec through %s: %s", exe, strings.TrimSpace(string(out)))
}

// TestTestEnv checks that Bazel's test environment reaches the test.
func TestTestEnv(t *testing.T) {
	for _, k := range []string{"TEST_TMPDIR", "XML_OUTPUT_FILE"} {
		if os.Getenv(k) == "" {
			t.Errorf("%s is not set", k)
		}
	}
}
