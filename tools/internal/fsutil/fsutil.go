// Package fsutil holds the small file-system primitives that every
// rules_portable writer shares: atomic replacement of a file (write a temp
// file in the same directory, fsync when it replaces one, rename),
// advisory locks, no-replace renames and read-only detection.
//
// Nothing here ever leaves a half-written file at the destination path: a
// failure removes the temp file and leaves the old content untouched.
package fsutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// WriteFileAtomic writes the bytes produced by write to path. The content
// goes to a temp file next to path, which is renamed over path only when
// write returns nil (and synced first when it replaces a file). On error nothing at path changes. A file it
// replaces keeps its owner and group where the caller may give them (see
// WriteFileAtomicLike); a new file belongs to the caller.
func WriteFileAtomic(path string, mode os.FileMode, write func(w io.Writer) error) error {
	return WriteFileAtomicLike(path, mode, nil, write)
}

// WriteFileAtomicLike is WriteFileAtomic for a file made from another,
// like (the input of a patch; nil for none). A set-UID or set-GID bit in
// mode survives only when the written file's user (group) is like's, so
// no run turns a set-ID program of one user into one of another: root
// patching another user's set-UID program in place keeps it that user's
// (the file it replaces gives the owner), while a new copy (-o) belongs to
// the caller and loses the bit.
func WriteFileAtomicLike(path string, mode os.FileMode, like os.FileInfo, write func(w io.Writer) error) error {
	p, err := StageFile(path, mode, like, write)
	if err != nil {
		return err
	}
	return p.Commit()
}

// Pending is a file written and synced under a temp name next to its
// destination, waiting for Commit (rename into place) or Abort (remove),
// so that two outputs can appear together or not at all.
type Pending struct {
	tmp, path string
}

// StageFile does all of WriteFileAtomicLike but the rename. A regular
// file already at path, which the rename will replace, gives the new file
// its user and group (as far as the caller may: root always can), so a
// file rewritten in place keeps its owner; with like nil it also stands
// for like. A symlink at path is refused, never replaced. What a killed
// run left next to path (see RemoveStale) is removed first.
func StageFile(path string, mode os.FileMode, like os.FileInfo, write func(w io.Writer) error) (_ *Pending, err error) {
	return StageFileAt(path, mode, like, func(f *os.File) error { return write(f) })
}

// WriteFileAtomicAt is WriteFileAtomicLike for a writer that needs the
// temp file itself: to clone or copy ranges of another file into it
// (copy_file_range, FICLONE) or to write at offsets.
func WriteFileAtomicAt(path string, mode os.FileMode, like os.FileInfo, write func(f *os.File) error) error {
	p, err := StageFileAt(path, mode, like, write)
	if err != nil {
		return err
	}
	return p.Commit()
}

// StageFileAt is StageFile with the temp file handed to write.
func StageFileAt(path string, mode os.FileMode, like os.FileInfo, write func(f *os.File) error) (_ *Pending, err error) {
	var dest os.FileInfo
	if st, err := os.Lstat(path); err == nil {
		switch {
		case st.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			return nil, fmt.Errorf("%s: is a symlink (to %s), which the write would replace; give the path it names, or remove the link", path, target)
		case st.Mode().IsRegular():
			dest = st
		}
	}
	if like == nil {
		like = dest
	}
	RemoveStale(path)
	dir := filepath.Dir(path)
	tmp, err := CreateTempFile(dir, "."+filepath.Base(path)+TempInfix)
	if err != nil {
		return nil, fmt.Errorf("%s: create temp file: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			RemoveTemp(tmpName)
		}
	}()
	if err = write(tmp); err != nil {
		return nil, err
	}
	if dest != nil {
		chownLike(tmp, dest)
	}
	// Without like (a new file of the caller's, made from nothing), the
	// caller could have made it with this mode anyway.
	if like != nil {
		mode = dropSetID(tmp, like, mode)
	}
	if err = tmp.Chmod(mode); err != nil {
		return nil, fmt.Errorf("%s: chmod temp file: %w", path, err)
	}
	// A file that replaces another reaches the disk before the rename, so
	// that a crash leaves the old content or the new, never an empty
	// file. A new file is not synced, like cp's and the compiler's
	// outputs: after a crash it may be missing or empty, but no earlier
	// content is lost. Syncing every new output cost more than all the
	// rest of a patch (tests/bench/README.md).
	if dest != nil {
		if err = tmp.Sync(); err != nil {
			return nil, fmt.Errorf("%s: sync: %w", path, err)
		}
	}
	if err = tmp.Close(); err != nil {
		return nil, fmt.Errorf("%s: close: %w", path, err)
	}
	return &Pending{tmp: tmpName, path: path}, nil
}

// Commit renames the file into place (see Committing).
func (p *Pending) Commit() error {
	return Committing(p.CommitHeld)
}

// CommitHeld is Commit for a caller already inside Committing.
func (p *Pending) CommitHeld() error {
	defer ForgetTemp(p.tmp)
	if err := os.Rename(p.tmp, p.path); err != nil {
		os.Remove(p.tmp)
		return fmt.Errorf("%s: rename into place: %w", p.path, err)
	}
	return nil
}

// Abort removes the temp file; nothing at the destination changed.
func (p *Pending) Abort() {
	RemoveTemp(p.tmp)
}

// MatchOwner gives the open file f the user and group of like, as far as
// the caller may, and returns mode without the set-ID bits whose user or
// group f did not get (see chownLike and dropSetID). Call it before the
// final chmod: chown(2) clears set-ID bits itself.
func MatchOwner(f *os.File, like os.FileInfo, mode os.FileMode) os.FileMode {
	chownLike(f, like)
	return dropSetID(f, like, mode)
}

// chownLike gives f the user and group of like where permitted:
// fchown(2) to another user fails with EPERM unless the caller is root,
// and that is not an error; the group alone may still be allowed.
func chownLike(f *os.File, like os.FileInfo) {
	want, ok := like.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	st, err := f.Stat()
	if err != nil {
		return
	}
	if have := st.Sys().(*syscall.Stat_t); have.Uid == want.Uid && have.Gid == want.Gid {
		return
	}
	if f.Chown(int(want.Uid), int(want.Gid)) != nil {
		_ = f.Chown(-1, int(want.Gid))
	}
}

// dropSetID returns mode without the set-UID bit unless f's user is
// like's, and without the set-GID bit unless f's group is like's.
func dropSetID(f *os.File, like os.FileInfo, mode os.FileMode) os.FileMode {
	want, ok := like.Sys().(*syscall.Stat_t)
	st, err := f.Stat()
	if !ok || err != nil {
		return mode &^ (os.ModeSetuid | os.ModeSetgid)
	}
	have := st.Sys().(*syscall.Stat_t)
	if have.Uid != want.Uid {
		mode &^= os.ModeSetuid
	}
	if have.Gid != want.Gid {
		mode &^= os.ModeSetgid
	}
	return mode
}

// WriteBytesAtomic is WriteFileAtomic for content already in memory.
func WriteBytesAtomic(path string, mode os.FileMode, data []byte) error {
	return WriteFileAtomic(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// RenameNoReplace renames oldpath to newpath, failing with an error that
// wraps os.ErrExist if newpath already exists. It uses renameat2(2) with
// RENAME_NOREPLACE, so the check and the rename are one atomic step.
func RenameNoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	if err == nil {
		return nil
	}
	if errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("%s: already exists: %w", newpath, os.ErrExist)
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// File systems without RENAME_NOREPLACE: fall back to link+unlink,
		// which is also atomic with respect to an existing newpath. A
		// directory cannot be linked: it is checked, then renamed, which
		// leaves a race only with a writer of the same new name.
		if st, serr := os.Lstat(oldpath); serr == nil && st.IsDir() {
			if _, lerr := os.Lstat(newpath); lerr == nil {
				return fmt.Errorf("%s: already exists: %w", newpath, os.ErrExist)
			}
			return os.Rename(oldpath, newpath)
		}
		if lerr := os.Link(oldpath, newpath); lerr != nil {
			return fmt.Errorf("rename %s to %s: %w", oldpath, newpath, lerr)
		}
		return os.Remove(oldpath)
	}
	return fmt.Errorf("rename %s to %s: %w", oldpath, newpath, err)
}

// Lock is an exclusive advisory lock held on an open file.
type Lock struct{ f *os.File }

// LockFile takes an exclusive flock(2) on path, creating it if needed, and
// blocks until the lock is granted.
func LockFile(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: open lock file: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: lock: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last fd releases the flock
	l.f = nil
	return err
}

// IsReadOnly reports whether path lives on a file system mounted read-only.
func IsReadOnly(path string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false, fmt.Errorf("%s: statfs: %w", path, err)
	}
	return st.Flags&unix.ST_RDONLY != 0, nil
}

// RemoveEmptyDir removes path when it is an empty directory, so that a
// directory built elsewhere can be renamed into its place (Bazel creates a
// tree artifact's directory before the action runs). A missing path, a file
// or a non-empty directory is left alone without error: the caller's own
// checks judge those.
func RemoveEmptyDir(path string) error {
	if st, err := os.Lstat(path); err != nil || !st.IsDir() {
		return nil // a symlink to an empty directory is the user's: never removed
	}
	ents, err := os.ReadDir(path)
	if err != nil || len(ents) != 0 {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: replace the empty output directory: %w", path, err)
	}
	return nil
}
