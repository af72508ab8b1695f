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

	// Without flag or env: apt's configuration. This machine has one.
	t.Setenv(MirrorEnv, "")
	got, err := BuildMirror("", lock)
	if err != nil || got == "" || got != AptMirror(AptSources()) {
		t.Errorf("default build mirror %q %v, want apt's %q", got, err, AptMirror(AptSources()))
	}
}

func TestAptMirror(t *testing.T) {
	dir := t.TempDir()
	deb822 := filepath.Join(dir, "debian.sources")
	oneLine := filepath.Join(dir, "sources.list")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(deb822, "Types: deb\nURIs: http://a.example.invalid/debian\nSuites: bookworm\n")
	write(oneLine, "# comment\ndeb [signed-by=/k.gpg arch=amd64] http://b.example.invalid/debian sid main\n")
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		files []string
		want  string
	}{
		{[]string{deb822, oneLine}, "http://a.example.invalid/debian"},
		{[]string{missing, oneLine}, "http://b.example.invalid/debian"},
		{[]string{missing}, ""},
	} {
		if got := AptMirror(c.files); got != c.want {
			t.Errorf("AptMirror(%s) = %q, want %q", strings.Join(c.files, ", "), got, c.want)
		}
	}
}
