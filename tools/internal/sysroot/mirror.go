package sysroot

import (
	"fmt"
	"os"
	"time"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
)

// snapshotStamp formats a time the way snapshot archive URLs name states
// of the archive.
func snapshotStamp(t time.Time) string {
	return t.UTC().Format("20060102T150405Z")
}

// LockMirror picks the mirror to lock from: the flag, then $MirrorEnv,
// then the snapshot archive as of now (its newest state).
func LockMirror(flag string, now time.Time) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv(MirrorEnv); env != "" {
		return env
	}
	return SnapshotBase + snapshotStamp(now)
}

// snapshotDelay is added to the newest index Date of a lock to name a
// snapshot state that holds the lock's pool files: the index is published
// within a few hours of its Date, and the archive keeps replaced pool
// files for more than a day after that.
const snapshotDelay = 6 * time.Hour

// BuildMirror picks the mirror to fetch a lock's packages from: the flag,
// then $MirrorEnv, then the snapshot archive a little after the newest
// index Date the lock records.
func BuildMirror(flag string, lock *deb.Lockfile) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv(MirrorEnv); env != "" {
		return env, nil
	}
	var newest time.Time
	for _, idx := range lock.Indexes {
		t, err := time.Parse(time.RFC1123, idx.Date)
		if err != nil {
			return "", fmt.Errorf("lockfile: index %s: date %q: %w", idx.Suite, idx.Date, err)
		}
		if t.After(newest) {
			newest = t
		}
	}
	if newest.IsZero() {
		return "", fmt.Errorf("lockfile records no index date to pick a snapshot from; pass --mirror or set %s", MirrorEnv)
	}
	return SnapshotBase + snapshotStamp(newest.Add(snapshotDelay)), nil
}
