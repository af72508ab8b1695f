package sysroot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
)

func TestMirrors(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	lock := &deb.Lockfile{Indexes: []deb.LockedIndex{{Date: "Fri, 30 Oct 2026 08:08:01 UTC"}, {Date: "Sat, 31 Oct 2026 20:00:00 UTC"}}}
	const snap = "http://snap.example.invalid/archive/debian/" + SnapshotPlaceholder

	t.Setenv(MirrorEnv, snap)
	if got, err := LockMirror("", now); err != nil || got != "http://snap.example.invalid/archive/debian/20261125T100000Z" {
		t.Errorf("lock mirror %q %v (want the time now)", got, err)
	}
	if got, err := BuildMirror("", lock); err != nil || got != "http://snap.example.invalid/archive/debian/20261101T020000Z" {
		t.Errorf("build mirror %q %v (want the newest index date + 6h)", got, err)
	}
	if _, err := BuildMirror("", &deb.Lockfile{}); err == nil {
		t.Error("snapshot mirror, lock without dates: no error")
	}
	if _, err := BuildMirror("", &deb.Lockfile{Indexes: []deb.LockedIndex{{Date: "yesterday"}}}); err == nil {
		t.Error("snapshot mirror, bad date: no error")
	}

	t.Setenv(MirrorEnv, "http://env.example.invalid/debian")
	if got, _ := LockMirror("", now); got != "http://env.example.invalid/debian" {
		t.Error("env not used for lock")
	}
	if got, _ := BuildMirror("", &deb.Lockfile{}); got != "http://env.example.invalid/debian" {
		t.Error("env not used for build (a plain mirror needs no index date)")
	}
	if got, _ := LockMirror("http://flag.example.invalid/d", now); got != "http://flag.example.invalid/d" {
		t.Error("flag does not win")
	}
	if got, _ := BuildMirror("http://flag.example.invalid/d", lock); got != "http://flag.example.invalid/d" {
		t.Error("flag does not win for build")
	}

	// Without flag or env: apt's configuration.
	t.Setenv(MirrorEnv, "")
	sources := filepath.Join(t.TempDir(), "debian.sources")
	if err := os.WriteFile(sources, []byte("Types: deb\nURIs: http://apt.example.invalid/debian\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func(old []string) { aptFiles = old }(aptFiles)
	aptFiles = []string{sources}
	if got, err := BuildMirror("", lock); err != nil || got != "http://apt.example.invalid/debian" {
		t.Errorf("default build mirror %q %v, want apt's http://apt.example.invalid/debian", got, err)
	}
	// "offline" is no mirror to fetch from.
	t.Setenv(MirrorEnv, Offline)
	if _, err := LockMirror("", time.Now()); err == nil || !strings.Contains(err.Error(), "forbids downloads") {
		t.Errorf("lock with %s=%s: err = %v, want a refusal", MirrorEnv, Offline, err)
	}
	if !OfflineByEnv() {
		t.Errorf("OfflineByEnv() is false with %s=%s", MirrorEnv, Offline)
	}
	if got, err := BuildMirror("http://flag.example.invalid/d", lock); err != nil || got != "http://flag.example.invalid/d" {
		t.Errorf("a --mirror flag must still win over %s=%s: %q %v", MirrorEnv, Offline, got, err)
	}
	t.Setenv(MirrorEnv, "")
	// None of the three: an error that names all three.
	aptFiles = []string{filepath.Join(t.TempDir(), "missing")}
	if _, err := BuildMirror("", lock); err == nil || !strings.Contains(err.Error(), "--mirror") ||
		!strings.Contains(err.Error(), MirrorEnv) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("no mirror anywhere: err = %v, want one naming --mirror, %s and the apt file", err, MirrorEnv)
	}
}
