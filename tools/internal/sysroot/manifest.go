package sysroot

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// ManifestSchemaVersion is the version of .sysroot/manifest.json this
// package writes and reads.
const ManifestSchemaVersion = 1

// ManifestPath is where a sysroot describes itself, relative to its root.
const ManifestPath = ".sysroot/manifest.json"

// Flavour says whether a sysroot is for running or also for linking.
type Flavour int

const (
	Runtime Flavour = iota
	Dev
)

func (f Flavour) String() string {
	switch f {
	case Runtime:
		return "runtime"
	case Dev:
		return "dev"
	}
	return fmt.Sprintf("Flavour(%d)", int(f))
}

// Manifest describes a built sysroot: where it came from and every file
// in it.
type Manifest struct {
	SchemaVersion int    `json:"schema_version"`
	Label         string `json:"label"`
	Arch          string `json:"arch"`
	Triplet       string `json:"triplet"`
	Glibc         string `json:"glibc"`
	// Glibcxx is the newest GLIBCXX_ version libstdc++.so.6 defines, or
	// "" when the sysroot has no libstdc++.
	Glibcxx string `json:"glibcxx,omitempty"`
	// Loader is the canonical loader path, relative to the root.
	Loader   string            `json:"loader"`
	Flavour  string            `json:"flavour"`
	Suite    string            `json:"suite"`
	Indexes  []deb.LockedIndex `json:"indexes"`
	Packages []ManifestPackage `json:"packages"`
	Files    []ManifestFile    `json:"files"`
}

// ManifestPackage is a source package of the sysroot.
type ManifestPackage struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	SHA256       string `json:"sha256"`
}

// ManifestFile is one entry of the sysroot. Mode is octal text ("0755").
type ManifestFile struct {
	Path   string `json:"path"`
	Type   string `json:"type"`
	Mode   string `json:"mode"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Target string `json:"target,omitempty"`
}

// Compat returns what the symbol-version gate needs from m.
func (m *Manifest) Compat() Compat {
	return Compat{Label: m.Label, Glibc: m.Glibc, Glibcxx: m.Glibcxx}
}

// Symlinks returns the sysroot's symbolic links as it was built: each
// link's target by its path inside the sysroot ("/lib" -> "usr/lib"). A
// tool that copies the tree may turn links into copies of what they point
// to (Bazel stages a directory output that way for remote execution); a
// lookup that follows these instead of the disk finds the same files under
// the same names either way.
func (m *Manifest) Symlinks() map[string]string {
	links := map[string]string{}
	for _, f := range m.Files {
		if f.Type == TypeSymlink.String() {
			links["/"+f.Path] = f.Target
		}
	}
	return links
}

// Marshal writes m as indented JSON ending in a newline.
func (m *Manifest) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadManifest reads DIR/.sysroot/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	p := filepath.Join(dir, ManifestPath)
	if _, err := os.Lstat(p); err != nil {
		return nil, fmt.Errorf("%s: not a sysroot built by portable: %w", dir, err)
	}
	data, err := fsutil.ReadInput("sysroot manifest", p, fsutil.MaxSmallFileSize)
	if err != nil {
		return nil, err
	}
	return ParseManifest(data)
}

// ParseManifest reads and checks a manifest.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestPath, err)
	}
	if m.SchemaVersion != ManifestSchemaVersion {
		return nil, fmt.Errorf("%s: schema_version %d, this tool reads %d", ManifestPath, m.SchemaVersion, ManifestSchemaVersion)
	}
	if m.Glibc == "" || !isDotted(m.Glibc) {
		return nil, fmt.Errorf("%s: glibc %q is not a version", ManifestPath, m.Glibc)
	}
	for _, f := range m.Files {
		if _, err := ParseFileType(f.Type); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", ManifestPath, f.Path, err)
		}
		if c, err := cleanEntryName(f.Path); err != nil || c != f.Path || c == "" {
			return nil, fmt.Errorf("%s: file path %q is not clean and relative", ManifestPath, f.Path)
		}
		if _, err := strconv.ParseUint(f.Mode, 8, 32); err != nil {
			return nil, fmt.Errorf("%s: %s: mode %q is not octal", ManifestPath, f.Path, f.Mode)
		}
		if f.Type == TypeSymlink.String() && f.Target == "" {
			return nil, fmt.Errorf("%s: %s: symlink without a target", ManifestPath, f.Path)
		}
	}
	return &m, nil
}

func manifestFile(n *node) ManifestFile {
	mf := ManifestFile{Path: n.Path, Type: n.Type.String(), Mode: fmt.Sprintf("%04o", uint32(n.Mode.Perm()))}
	switch n.Type {
	case TypeFile:
		mf.Size, mf.SHA256 = n.Size, n.SHA256
	case TypeSymlink:
		mf.Target = n.Target
	}
	return mf
}

// VerifyError lists every way a sysroot differs from its manifest.
type VerifyError struct {
	Dir      string
	Problems []string
}

func (e *VerifyError) Error() string {
	const show = 20
	p := e.Problems
	more := ""
	if len(p) > show {
		more = fmt.Sprintf("\n  ... and %d more", len(p)-show)
		p = p[:show]
	}
	return fmt.Sprintf("%s: %d difference(s) from %s; the sysroot was changed after it was built, rebuild or reinstall it:\n  %s%s",
		e.Dir, len(e.Problems), ManifestPath, strings.Join(p, "\n  "), more)
}

// Verify checks every entry under dir against its manifest: missing and
// extra entries, type, mode, size, sha256 and symlink targets.
func Verify(dir string) (*Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	want := map[string]ManifestFile{}
	for _, f := range m.Files {
		want[f.Path] = f
	}
	var problems []string
	seen := map[string]bool{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." || rel == ".sysroot" || rel == ManifestPath {
			return nil
		}
		seen[rel] = true
		w, ok := want[rel]
		if !ok {
			problems = append(problems, rel+": not in the manifest")
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var t FileType
		switch {
		case info.Mode().IsRegular():
			t = TypeFile
		case info.IsDir():
			t = TypeDir
		case info.Mode()&fs.ModeSymlink != 0:
			t = TypeSymlink
		default:
			problems = append(problems, rel+": is a special file")
			return nil
		}
		if t.String() != w.Type {
			problems = append(problems, fmt.Sprintf("%s: is a %s, manifest says %s", rel, t, w.Type))
			if t == TypeDir {
				return fs.SkipDir
			}
			return nil
		}
		if t != TypeSymlink {
			if mode := fmt.Sprintf("%04o", uint32(info.Mode().Perm())); mode != w.Mode {
				problems = append(problems, fmt.Sprintf("%s: mode %s, manifest says %s", rel, mode, w.Mode))
			}
		}
		switch t {
		case TypeSymlink:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if target != w.Target {
				problems = append(problems, fmt.Sprintf("%s: symlink to %q, manifest says %q", rel, target, w.Target))
			}
		case TypeFile:
			if info.Size() != w.Size {
				problems = append(problems, fmt.Sprintf("%s: %d bytes, manifest says %d", rel, info.Size(), w.Size))
				return nil
			}
			sum, err := fileSHA256(p)
			if err != nil {
				return err
			}
			if sum != w.SHA256 {
				problems = append(problems, fmt.Sprintf("%s: sha256 %s, manifest says %s", rel, sum, w.SHA256))
			}
		}
		return nil
	})
	if err != nil {
		return m, fmt.Errorf("%s: %w", dir, err)
	}
	for _, f := range m.Files {
		if !seen[f.Path] {
			problems = append(problems, f.Path+": missing")
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return m, &VerifyError{Dir: dir, Problems: problems}
	}
	return m, nil
}

func fileSHA256(p string) (string, error) {
	f, _, err := fsutil.OpenInput("", p, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// errNoLoader is wrapped when the packages do not ship a loader.
var errNoLoader = errors.New("no dynamic loader")
