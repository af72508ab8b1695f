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
