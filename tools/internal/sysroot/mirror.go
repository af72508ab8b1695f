package sysroot

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rules-portable/rules_portable/tools/internal/aptsrc"
	"github.com/rules-portable/rules_portable/tools/internal/deb"
)

// MirrorEnv names the environment variable that overrides the default
// mirror for lock and build.
const MirrorEnv = "PORTABLE_DEBIAN_MIRROR"

// SnapshotPlaceholder, in a mirror URL, stands for a state of a snapshot
// archive of Debian: lock replaces it with the time now, build with a
// time a little after the newest index Date the lock records, when every
// pool file the lock names was still in the archive. A snapshot archive
// keeps those files forever, so a lock keeps building after a plain
// mirror has dropped them. Example: PORTABLE_DEBIAN_MIRROR=
// https://SNAPSHOT-HOST/archive/debian/{snapshot}.
const SnapshotPlaceholder = "{snapshot}"

// aptFiles are the apt sources files the default mirror is read from; a
// variable so that tests can point it elsewhere.
var aptFiles = aptsrc.Files()

// Offline, as the value of $MirrorEnv, means no downloads: build takes
// every package from its cache (as with --offline), and Bazel's repository
// rule from the repository cache or --distdir. lock needs a real mirror.
const Offline = "offline"

// OfflineByEnv reports whether $MirrorEnv asks for no downloads.
func OfflineByEnv() bool { return os.Getenv(MirrorEnv) == Offline }

// mirror picks the mirror URL: the flag, then $MirrorEnv, then apt's.
func mirror(flag string) (string, error) {
	for _, m := range []string{flag, os.Getenv(MirrorEnv), aptsrc.Mirror(aptFiles)} {
		if m == Offline {
			return "", fmt.Errorf("%s=%s forbids downloads; pass --mirror URL to fetch from a mirror", MirrorEnv, Offline)
		}
		if m != "" {
			return m, nil
		}
	}
	return "", fmt.Errorf("no Debian mirror: pass --mirror URL, set %s, or configure apt (%s)", MirrorEnv, strings.Join(aptFiles, " or "))
}

// snapshotStamp formats a time the way snapshot archive URLs name states
// of the archive.
func snapshotStamp(t time.Time) string {
	return t.UTC().Format("20060102T150405Z")
}

// LockMirror picks the mirror to lock from (see mirror); a
// SnapshotPlaceholder in it becomes the time now.
func LockMirror(flag string, now time.Time) (string, error) {
	m, err := mirror(flag)
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(m, SnapshotPlaceholder, snapshotStamp(now)), nil
}

// snapshotDelay is added to the newest index Date of a lock to name a
// snapshot state that holds the lock's pool files: the index is published
// within a few hours of its Date, and the archive keeps replaced pool
// files for more than a day after that.
const snapshotDelay = 6 * time.Hour

// BuildMirror picks the mirror to fetch a lock's packages from (see
// mirror); a SnapshotPlaceholder in it becomes a time a little after the
// newest index Date the lock records.
func BuildMirror(flag string, lock *deb.Lockfile) (string, error) {
	m, err := mirror(flag)
	if err != nil || !strings.Contains(m, SnapshotPlaceholder) {
		return m, err
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
		return "", errors.New("lockfile records no index date to pick a snapshot from; pass a mirror without " + SnapshotPlaceholder)
	}
	return strings.ReplaceAll(m, SnapshotPlaceholder, snapshotStamp(newest.Add(snapshotDelay))), nil
}
