package sysroot

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Unstaged returns the sysroot directory that dir stands for.
//
// Build systems may hand an action a directory input as a copy made of one
// absolute symlink per file, each pointing at the same file in the
// original tree: that is how Bazel's sandbox stages a tree artifact. Such a
// copy has lost the sysroot's own relative links (lib -> usr/lib,
// libc.so -> libc.so.6) and its absolute links point out of it, so paths
// cannot be resolved inside it the way ld.so would. When dir/.sysroot/
// manifest.json is a symlink whose absolute target ends in that same
// relative path, and the target's tree is a sysroot whose manifest is a
// regular file, Unstaged returns that original tree. Any other dir,
// including a real sysroot and a copy made of real files, is returned
// unchanged.
func Unstaged(dir string) (string, error) {
	link := filepath.Join(dir, ManifestPath)
	st, err := os.Lstat(link)
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		return dir, nil
	}
	target, err := os.Readlink(link)
	if err != nil {
		return "", fmt.Errorf("sysroot %s: %w", dir, err)
	}
	suffix := "/" + ManifestPath
	if !filepath.IsAbs(target) || !strings.HasSuffix(target, suffix) {
		return dir, nil
	}
	orig := strings.TrimSuffix(target, suffix)
	ost, err := os.Lstat(filepath.Join(orig, ManifestPath))
	if err != nil {
		return "", fmt.Errorf("sysroot %s: staged copy of %s, which can't be read: %w", dir, orig, err)
	}
	if !ost.Mode().IsRegular() {
		return "", fmt.Errorf("sysroot %s: staged copy of %s, whose %s is not a regular file; pass the sysroot directory itself", dir, orig, ManifestPath)
	}
	return orig, nil
}
