package sysroot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// published are the run-time packages of each published sysroot version,
// as the sha256 of their sorted "name version sha256" lines. A published
// version never changes: its run-time packages are what installs at
// /usr/sysroot/vN. Re-locking a version (for example to add dev packages,
// as on 2026-12-06 for libstdc++-N-dev) must leave this unchanged; a real
// change is a new version.
// The values were computed from the locks as first published (commit
// 9f73106).
var published = map[string]string{
	"v1": "50a1a97ca5f42d3c22b1434812fd839188466e064233fadc34437fb0af8e41b4",
	"v2": "d04dab749dd17fc7c04363b623f16c4c288dbd72cc9b730f49b216ea9e6886af",
	"v3": "8d3ef7d8a60488ee7e02d8c199e3773fcd5a819d82ce41974f140be5ecd05481",
	"v4": "aa6444f54d164187422532417c1debb6cb5456e1220acc23e0e694e8cddad113",
}

func runTimeDigest(t *testing.T, label string) (string, []string) {
	l := readLock(t, label)
	var lines []string
	for _, p := range l.Packages {
		if !p.Dev {
			lines = append(lines, fmt.Sprintf("%s %s %s", p.Name, p.Version, p.SHA256))
		}
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:]), lines
}

func TestPublishedRunTimeUnchanged(t *testing.T) {
	for label, want := range published {
		got, lines := runTimeDigest(t, label)
		if got != want {
			t.Errorf("sysroots/%s.lock.json: its run-time packages changed (digest %s, published %s), but a published version never changes: lock a new version instead. Run-time packages now:\n  %s",
				label, got, want, strings.Join(lines, "\n  "))
		}
	}
}
