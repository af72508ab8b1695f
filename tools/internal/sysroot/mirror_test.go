package sysroot

import (
	"testing"
	"time"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
)

func TestMirrors(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	lock := &deb.Lockfile{Indexes: []deb.LockedIndex{{Date: "Fri, 30 Oct 2026 08:08:01 UTC"}, {Date: "Sat, 31 Oct 2026 20:00:00 UTC"}}}

	t.Setenv(MirrorEnv, "")
	if got := LockMirror("", now); got != SnapshotBase+"20261125T100000Z" {
		t.Errorf("default lock mirror %q", got)
	}
	if got, err := BuildMirror("", lock); err != nil || got != SnapshotBase+"20261101T020000Z" {
		t.Errorf("default build mirror %q %v (want the newest index date + 6h)", got, err)
	}
	if _, err := BuildMirror("", &deb.Lockfile{}); err == nil {
		t.Error("lock without dates: no error")
	}
	if _, err := BuildMirror("", &deb.Lockfile{Indexes: []deb.LockedIndex{{Date: "yesterday"}}}); err == nil {
		t.Error("bad date: no error")
	}

	t.Setenv(MirrorEnv, "http://env.example.invalid/debian")
	if LockMirror("", now) != "http://env.example.invalid/debian" {
		t.Error("env not used for lock")
	}
	if got, _ := BuildMirror("", lock); got != "http://env.example.invalid/debian" {
		t.Error("env not used for build")
	}
	if LockMirror("http://flag.example.invalid/d", now) != "http://flag.example.invalid/d" {
		t.Error("flag does not win")
	}
	if got, _ := BuildMirror("http://flag.example.invalid/d", lock); got != "http://flag.example.invalid/d" {
		t.Error("flag does not win for build")
	}
}
