package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// TempInfix is in the name of every temp file and staging directory the
// helper writes next to an output: "." + base name of the output +
// TempInfix + random digits. RemoveStale recognises leftovers by it.
const TempInfix = ".portable-tmp-"

// temps holds the temp files and directories this process has made and
// not yet renamed into place or removed, each with the descriptor whose
// flock(2) marks it live.
var temps = struct {
	sync.Mutex
	m       map[string]*os.File
	removed bool
}{m: map[string]*os.File{}}

// newInfix names a temp in the instant between its creation and its
// lock: a temp is made as "." + base + newInfix + digits, locked, and only
// then renamed to its TempInfix name, so that RemoveStale never sees an
// unlocked temp of a live run. What a run killed in that instant leaves
// is removed once it is older than newGrace.
const newInfix = ".portable-new-"

// newGrace is how old a newInfix leftover must be before RemoveStale
// takes it for a killed run's: a live one keeps that name for the
// microseconds between mkdir and flock.
var newGrace = time.Minute

// CreateTempFile creates a file in dir named pattern + random digits
// (pattern should end in TempInfix so RemoveStale knows it), like
// os.CreateTemp. Until ForgetTemp, the file is registered for RemoveTemps
// and holds an exclusive flock that tells RemoveStale it is live; it
// holds it from the moment the name exists.
func CreateTempFile(dir, pattern string) (*os.File, error) {
	p, lf, err := createLocked(dir, pattern, false)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Dup(int(lf.Fd()))
	if err != nil {
		RemoveTemp(p)
		return nil, err
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), p), nil
}

// MkdirTemp is os.MkdirTemp for staging directories, registered and
// locked like CreateTempFile's files.
func MkdirTemp(dir, pattern string) (string, error) {
	p, _, err := createLocked(dir, pattern, true)
	return p, err
}

// createLocked makes the temp under its newInfix name, locks it, renames
// it to pattern + digits and registers it, all under the temps lock so
// that the signal handler finds it registered or not yet made.
func createLocked(dir, pattern string, isDir bool) (string, *os.File, error) {
	temps.Lock()
	defer temps.Unlock()
	if temps.removed {
		return "", nil, ErrInterrupted // a signal arrived: nothing new may start
	}
	if dir == "" {
		dir = os.TempDir()
	}
	pre, final := pattern, strings.HasSuffix(pattern, TempInfix)
	if final {
		pre = strings.TrimSuffix(pattern, TempInfix) + newInfix
	}
	var p string
	var lf *os.File
	if isDir {
		d, err := os.MkdirTemp(dir, pre+"*")
		if err != nil {
			return "", nil, err
		}
		// Directories are locked through a read-only descriptor.
		if lf, err = os.OpenFile(d, os.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_DIRECTORY, 0); err != nil {
			os.Remove(d)
			return "", nil, err
		}
		p = d
	} else {
		// Files through a read-write one (NFS grants LOCK_EX only on one).
		f, err := os.CreateTemp(dir, pre+"*")
		if err != nil {
			return "", nil, err
		}
		p, lf = f.Name(), f
	}
	// A file system without flock (or one that refuses it) leaves the
	// temp unlocked: RemoveStale then cannot tell it is live and leaves
	// it alone, and the signal handler still removes it.
	_ = unix.Flock(int(lf.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if final {
		np := filepath.Join(filepath.Dir(p), pattern+strings.TrimPrefix(filepath.Base(p), pre))
		if err := RenameNoReplace(p, np); err != nil {
			lf.Close()
			os.Remove(p)
			return "", nil, err
		}
		p = np
	}
	temps.m[p] = lf
	return p, lf, nil
}

// track registers and locks a temp made elsewhere, as createLocked does.
func track(p string) error {
	flags := os.O_RDWR
	if st, err := os.Lstat(p); err == nil && st.IsDir() {
		flags = os.O_RDONLY
	}
	lf, err := os.OpenFile(p, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	_ = unix.Flock(int(lf.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	temps.Lock()
	defer temps.Unlock()
	if temps.removed {
		// A signal arrived: nothing new may start.
		lf.Close()
		os.RemoveAll(p)
		return ErrInterrupted
	}
	temps.m[p] = lf
	return nil
}

// TrackTemp registers a temp file or directory made some other way (with
// a fixed name, say) so that the signal handler removes it; ForgetTemp
// when it has been renamed or removed.
func TrackTemp(p string) error { return track(p) }

// Interrupted reports whether a signal started RemoveTemps. main then
// waits for the handler to exit instead of reporting the failures the
// removal causes.
func Interrupted() bool {
	temps.Lock()
	defer temps.Unlock()
	return temps.removed
}

// commit holds off the signal handler while finished outputs are renamed
// into place, so that a signal finds either no output or all of them.
var commit struct {
	sync.Mutex
	done bool // some output was committed
}

// ErrInterrupted is returned by Committing after a signal: nothing more
// may be put in place.
var ErrInterrupted = errors.New("interrupted")

// Committing runs fn, the step that moves finished outputs into place,
// with RemoveTemps (the signal handler) held off until it returns.
func Committing(fn func() error) error {
	commit.Lock()
	defer commit.Unlock()
	temps.Lock()
	stopped := temps.removed
	temps.Unlock()
	if stopped {
		return ErrInterrupted
	}
	err := fn()
	if err == nil {
		commit.done = true
	}
	return err
}

// ForgetTemp says that p was renamed into place or removed: RemoveTemps
// no longer touches it, and its lock is released.
func ForgetTemp(p string) {
	temps.Lock()
	defer temps.Unlock()
	if lf, ok := temps.m[p]; ok {
		lf.Close()
		delete(temps.m, p)
	}
}

// RemoveTemps removes every temp file and directory still registered. The
// CLI's SIGINT/SIGTERM handler calls it before exiting; it waits for a
// commit in progress, and none can start afterwards, nor can a new temp be
// registered. Writers may still be adding files to a staging directory, so
// each removal is retried a few times. It reports whether any output had
// already been committed.
func RemoveTemps() (committed bool) {
	commit.Lock()
	defer commit.Unlock()
	temps.Lock()
	defer temps.Unlock()
	temps.removed = true
	for p, lf := range temps.m {
		for i := 0; i < 20; i++ {
			if err := os.RemoveAll(p); err == nil {
				if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
					break
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		lf.Close()
		delete(temps.m, p)
	}
	return commit.done
}

// RemoveStale removes what a killed run (SIGKILL, power loss) left next to
// the output path out: files and directories named "." + base(out) +
// TempInfix + anything, owned by the caller, whose lock no live process
// holds. A temp of a run still going holds its lock and is left alone, and
// so is anything another user put there (in a shared /tmp, say) or that
// cannot be removed. A temp is locked before it gets its TempInfix name,
// so a live run's is never taken for stale. It returns what it removed.
func RemoveStale(out string) []string {
	dir, base := filepath.Split(out)
	if dir == "" {
		dir = "."
	}
	return RemoveStaleIn(dir, "."+base+TempInfix)
}

// RemoveStaleIn is RemoveStale for the entries of dir whose names start
// with prefix.
//
// A directory is read once per process: later calls for it look only at
// the temps it held then (a run writing many outputs into one directory,
// like patch -o DIR FILE..., would otherwise read it once per output).
func RemoveStaleIn(dir, prefix string) []string {
	stale.Lock()
	defer stale.Unlock()
	dir = filepath.Clean(dir)
	names, ok := stale.dirs[dir]
	if !ok {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil // the caller's own checks report a missing directory
		}
		for _, e := range ents {
			n := e.Name()
			if (strings.Contains(n, TempInfix) || strings.Contains(n, newInfix)) && (e.Type().IsRegular() || e.IsDir()) {
				names = append(names, n)
			}
		}
		stale.dirs[dir] = names
	}
	uid := uint32(os.Geteuid())
	newPrefix := ""
	if strings.HasSuffix(prefix, TempInfix) {
		newPrefix = strings.TrimSuffix(prefix, TempInfix) + newInfix
	}
	var removed []string
	kept := names[:0]
	defer func() { stale.dirs[dir] = kept }()
	for _, name := range names {
		isNew := newPrefix != "" && strings.HasPrefix(name, newPrefix)
		if !strings.HasPrefix(name, prefix) && !isNew {
			kept = append(kept, name)
			continue
		}
		p := filepath.Join(dir, name)
		if rm := removeIfStale(p, uid, isNew); rm {
			removed = append(removed, p)
		} else {
			kept = append(kept, name)
		}
	}
	return removed
}

// stale holds, per directory RemoveStaleIn has read, the names of the
// temps it found there and has not removed.
var stale = struct {
	sync.Mutex
	dirs map[string][]string
}{dirs: map[string][]string{}}

// removeIfStale removes p if it is a killed run's temp (see RemoveStale)
// and reports whether it did.
func removeIfStale(p string, uid uint32, isNew bool) bool {
	st, err := os.Lstat(p)
	if err != nil {
		return false
	}
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok || s.Uid != uid || !st.Mode().IsRegular() && !st.IsDir() {
		return false
	}
	if isNew && time.Since(time.Unix(s.Ctim.Unix())) < newGrace {
		return false // possibly a live run between its mkdir and its lock
	}
	flags := os.O_RDWR
	if st.IsDir() {
		flags = os.O_RDONLY
	}
	lf, err := os.OpenFile(p, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer lf.Close()
	if unix.Flock(int(lf.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return false // live, or a file system without locks: leave it
	}
	return os.RemoveAll(p) == nil
}

// RemoveTemp removes the temp file or directory p and forgets it.
func RemoveTemp(p string) error {
	err := os.RemoveAll(p)
	ForgetTemp(p)
	return err
}
