package debtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// AptSources is where this machine's apt configuration names its Debian
// mirror. Tests that need the real archive read the mirror from it at run
// time; no mirror host is written in the repository.
const AptSources = "/etc/apt/sources.list.d/debian.sources"

// Mirror returns the first URIs: entry of AptSources, failing the test
// when there is none.
func Mirror(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(AptSources)
	if err != nil {
		t.Fatalf("no apt sources to take the Debian mirror from: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "URIs:"); ok && len(strings.Fields(v)) > 0 {
			return strings.Fields(v)[0]
		}
	}
	t.Fatalf("no URIs: line in %s", AptSources)
	return ""
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
