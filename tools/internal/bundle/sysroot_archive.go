package bundle

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/sysroot"
)

// sysrootArchiveLimit bounds what an archived sysroot may unpack to.
const sysrootArchiveLimit = 8 << 30

// unpackSysroot extracts an archived sysroot (a .tar, .tar.gz or .tar.zst
// written by `portable sysroot build`, possibly under a prefix such as
// usr/sysroot/v2/) into a temp dir and returns the directory that holds its
// .sysroot/manifest.json, plus the temp dir to remove afterwards.
// Unpacking costs a write of the whole sysroot; a directory, even one a
// build sandbox staged as symlinks (see sysroot.Unstaged), is read in place.
func unpackSysroot(path string) (root, tmpDir string, err error) {
	// Archives unpacked by runs that were killed (SIGKILL, power loss)
	// and are no longer locked go first: each can be gigabytes.
	fsutil.RemoveStaleIn(os.TempDir(), "portable-sysroot"+fsutil.TempInfix)
	tmp, err := fsutil.MkdirTemp("", "portable-sysroot"+fsutil.TempInfix)
	if err != nil {
		return "", "", fmt.Errorf("sysroot %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			fsutil.RemoveTemp(tmp)
		}
	}()
	top := filepath.Join(tmp, "root")
	if err = archive.ExtractFile(path, top, archive.ExtractOptions{MaxBytes: sysrootArchiveLimit}); err != nil {
		return "", "", fmt.Errorf("sysroot: %w", err)
	}
	var found []string
	err = filepath.WalkDir(top, func(p string, d fs.DirEntry, werr error) error {
		if werr != nil {
			return werr
		}
		rel, _ := filepath.Rel(top, p)
		if d.IsDir() && strings.Count(rel, string(filepath.Separator)) >= 4 {
			return filepath.SkipDir
		}
		if filepath.ToSlash(rel) == sysroot.ManifestPath || strings.HasSuffix(filepath.ToSlash(rel), "/"+sysroot.ManifestPath) {
			found = append(found, filepath.Dir(filepath.Dir(p)))
		}
		return nil
	})
	if err != nil {
		return "", "", fmt.Errorf("sysroot %s: %w", path, err)
	}
	switch len(found) {
	case 0:
		return "", "", fmt.Errorf("sysroot %s: no %s in the archive; pass a sysroot built by 'portable sysroot build'", path, sysroot.ManifestPath)
	case 1:
		return found[0], tmp, nil
	}
	return "", "", fmt.Errorf("sysroot %s: the archive holds %d sysroots; pass one", path, len(found))
}

// isArchiveFile reports whether p is a regular file named like an archive.
func isArchiveFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && archive.IsArchiveName(p)
}

// prepareOut removes what an interrupted run left next to out (its
// staging directory or temp archive), and lets a bundle directory be
// written where an empty directory already stands. Anything else at out is
// left for checkOut to refuse.
func (b *builder) prepareOut(out string) error {
	for _, p := range fsutil.RemoveStale(out) {
		b.warnf("removed %s, left by an interrupted run", p)
	}
	if archive.IsArchiveName(out) {
		return nil
	}
	return fsutil.RemoveEmptyDir(out)
}
