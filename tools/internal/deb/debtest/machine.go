package debtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/aptsrc"
)

// Mirror returns the Debian mirror of this machine's apt configuration,
// failing the test when there is none. Tests that need the real archive
// read it at run time; no mirror host is written in the repository.
func Mirror(t testing.TB) string {
	t.Helper()
	m := aptsrc.Mirror(aptsrc.Files())
	if m == "" {
		t.Fatalf("no Debian mirror in %s: configure apt", strings.Join(aptsrc.Files(), " or "))
	}
	return m
}

// CacheDir is the .deb download cache the tests share with the offline
// Bazel setup: $RULES_PORTABLE_CACHE/debs (default
// /var/cache/rules_portable/debs).
func CacheDir() string {
	base := os.Getenv("RULES_PORTABLE_CACHE")
	if base == "" {
		base = "/var/cache/rules_portable"
	}
	return filepath.Join(base, "debs")
}

// SidRoot returns the Debian sid root that tools/offline/sidroot.sh makes
// (glibc 2.43, gcc 15): $PORTABLE_SID_ROOT, else the finished root in the
// shared cache ($RULES_PORTABLE_CACHE/sid-root, which carries a stamp only
// once complete). Without one the test fails and says how to make it.
func SidRoot(t testing.TB) string {
	t.Helper()
	if root := os.Getenv("PORTABLE_SID_ROOT"); root != "" {
		return root
	}
	base := os.Getenv("RULES_PORTABLE_CACHE")
	if base == "" {
		base = "/var/cache/rules_portable"
	}
	root := filepath.Join(base, "sid-root")
	if _, err := os.Stat(filepath.Join(root, ".rules_portable-stamp")); err != nil {
		t.Fatalf("no Debian sid root at %s and PORTABLE_SID_ROOT is not set: run tools/offline/sidroot.sh ensure (it prints the path), as tests/run_all.sh does", root)
	}
	return root
}
