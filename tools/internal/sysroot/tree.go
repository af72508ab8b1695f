package sysroot

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// FileType is the kind of a sysroot entry.
type FileType int

const (
	TypeFile FileType = iota
	TypeDir
	TypeSymlink
)

func (t FileType) String() string {
	switch t {
	case TypeFile:
		return "file"
	case TypeDir:
		return "dir"
	case TypeSymlink:
		return "symlink"
	}
	return fmt.Sprintf("FileType(%d)", int(t))
}

// ParseFileType reads the names String returns.
func ParseFileType(s string) (FileType, error) {
	for _, t := range []FileType{TypeFile, TypeDir, TypeSymlink} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown file type %q (want file, dir or symlink)", s)
}

// node is one entry of an assembled tree.
type node struct {
	Path   string // slash-separated, relative to the root
	Type   FileType
	Mode   fs.FileMode // permission bits, normalised
	Size   int64
	SHA256 string
	Target string // symlink target, relative
	Pkg    string // package that shipped it
}

// normalMode maps tar permission bits to the sysroot's: 0755 for
// directories and for files with any execute bit, 0644 for other files,
// 0777 for symlinks. Set-id and sticky bits are dropped: a sysroot holds
// no privileged programs.
func normalMode(t FileType, m int64) fs.FileMode {
	switch t {
	case TypeDir:
		return 0o755
	case TypeSymlink:
		return 0o777
	}
	if m&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// mergedDirs are the top-level directories that merged-/usr turns into
// symlinks into /usr, as Debian's usrmerge does.
func mergedDirs() []string {
	return []string{"bin", "lib", "lib32", "lib64", "libo32", "libx32", "sbin"}
}

func isMergedDir(name string) bool {
	switch name {
	case "bin", "sbin", "lib", "lib32", "lib64", "libx32", "libo32":
		return true
	}
	return false
}

// mergeUsr maps a clean relative path to its place on a merged-/usr
// system: lib/x86_64-linux-gnu/libc.so.6 becomes
// usr/lib/x86_64-linux-gnu/libc.so.6.
func mergeUsr(p string) string {
	first, _, _ := strings.Cut(p, "/")
	if isMergedDir(first) {
		return "usr/" + p
	}
	return p
}

// cleanEntryName checks a tar entry name and returns it relative and
// clean, or "" for the root directory itself. Absolute names and names
// with "..", "." or empty components in the middle are refused.
func cleanEntryName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("entry name %q holds a NUL byte", name)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("entry %q: absolute path refused", name)
	}
	n := strings.TrimPrefix(name, "./")
	n = strings.TrimSuffix(n, "/")
	if n == "" || n == "." {
		return "", nil
	}
	for _, c := range strings.Split(n, "/") {
		switch c {
		case "..":
			return "", fmt.Errorf("entry %q: path traversal (\"..\") refused", name)
		case "", ".":
			return "", fmt.Errorf("entry %q: empty or '.' path component", name)
		}
	}
	for i := 0; i < len(n); i++ {
		if n[i] < ' ' || n[i] == 0x7f {
			return "", fmt.Errorf("entry %q: control character in name", name)
		}
	}
	return n, nil
}

// normalLinkTarget rewrites a symlink target for a sysroot: the target is
// read as it would be on the Debian system the package was made for (a
// relative target from the entry's original directory, an absolute one
// from /), moved by mergeUsr, and written relative to the link's new
// place. ".." never climbs above the root, as on a real root.
func normalLinkTarget(origPath, mappedPath, target string) (string, error) {
	if target == "" {
		return "", fmt.Errorf("symlink %s: empty target", origPath)
	}
	if strings.IndexByte(target, 0) >= 0 {
		return "", fmt.Errorf("symlink %s: target holds a NUL byte", origPath)
	}
	var abs string
	if strings.HasPrefix(target, "/") {
		abs = path.Clean(target)
	} else {
		abs = path.Join("/", path.Dir(origPath), target)
	}
	rel := strings.TrimPrefix(abs, "/")
	if rel != "" {
		rel = mergeUsr(rel)
	}
	return relPath(path.Dir(mappedPath), rel), nil
}

// relPath returns the relative path from directory from to to, both clean
// and relative to the same root ("." is the root).
func relPath(from, to string) string {
	if from == "." {
		from = ""
	}
	var fp, tp []string
	if from != "" {
		fp = strings.Split(from, "/")
	}
	if to != "" {
		tp = strings.Split(to, "/")
	}
	i := 0
	for i < len(fp) && i < len(tp) && fp[i] == tp[i] {
		i++
	}
	var parts []string
	for range fp[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, tp[i:]...)
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

// dropDoc reports whether a path is documentation a sysroot does not
// need: manual pages, info pages, lintian overrides and changelogs. The
// copyright files stay: they are the licences of what is shipped.
func dropDoc(p string) bool {
	for _, pre := range []string{"usr/share/man/", "usr/share/info/", "usr/share/lintian/"} {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	for _, d := range []string{"usr/share/man", "usr/share/info", "usr/share/lintian"} {
		if p == d {
			return true
		}
	}
	if rest, ok := strings.CutPrefix(p, "usr/share/doc/"); ok {
		_, file, nested := strings.Cut(rest, "/")
		if nested && file != "copyright" && !strings.Contains(file, "/") {
			return true
		}
		if nested && strings.Contains(file, "/") {
			return true
		}
	}
	return false
}
