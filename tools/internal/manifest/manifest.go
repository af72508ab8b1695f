// Package manifest reads, writes and checks .portable/manifest.json, the
// record a bundle keeps of itself: every file, directory and symlink with
// its mode, size and sha256, the entry points (bin/NAME -> libexec/NAME),
// the bundled loader and the glibc it came from.
//
// Executables carry an interpreter slot: PT_INTERP padded to 4096 bytes,
// which the launcher and `portable relocate` rewrite when the bundle moves.
// Their sha256 is computed with the slot normalised to the placeholder the
// bundler first wrote there (the path, then NULs), so a relocated bundle
// still verifies and a fresh one hashes exactly like `sha256sum`. The slot
// itself is checked separately: it must hold an absolute path to a file
// named like the bundled loader, NUL-padded.
//
// The JSON is deterministic (files sorted in archive order, fixed field
// order, two-space indent, trailing newline) and versioned by
// schema_version; a reader refuses a version it does not know rather than
// guess.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// SchemaVersion is the manifest format this package writes and reads.
const SchemaVersion = 1

// Path is where a bundle keeps its manifest, relative to the bundle root.
const Path = ".portable/manifest.json"

// LockPath is the lock file the launcher and relocate create on demand;
// verify does not count it as an extra file.
const LockPath = ".portable/lock"

// StampPath is where the audit module of a checksum-enforced bundle
// remembers which files it verified (rewritten at run time, through temp
// files named StampPath + ".portable-tmp-PID"); verify does not count it,
// or its temp files, as extra files.
const StampPath = ".portable/verified"

// AuditPath and AuditModulePath are the rtld-audit module's list and the
// module itself, in bundles that have it (listed in the manifest).
const (
	AuditPath       = ".portable/audit"
	AuditModulePath = ".portable/audit.so"
)

// IsRuntimeFile reports whether p is a file the bundle's launcher or audit
// module may create at run time: the lock, the stamp and its temp files.
func IsRuntimeFile(p string) bool {
	return p == LockPath || p == StampPath || strings.HasPrefix(p, StampPath+".portable-tmp-")
}

// maxManifestSize bounds how much Read loads.
const maxManifestSize = 256 << 20

// Type is the kind of a bundle entry.
type Type int

const (
	// File is a regular file.
	File Type = iota
	// Dir is a directory.
	Dir
	// Symlink is a symbolic link.
	Symlink
)

func (t Type) String() string {
	switch t {
	case File:
		return "file"
	case Dir:
		return "dir"
	case Symlink:
		return "symlink"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// MarshalText writes the type as its name.
func (t Type) MarshalText() ([]byte, error) {
	switch t {
	case File, Dir, Symlink:
		return []byte(t.String()), nil
	}
	return nil, fmt.Errorf("unknown entry type %d", int(t))
}

// UnmarshalText reads a type name.
func (t *Type) UnmarshalText(b []byte) error {
	switch string(b) {
	case "file":
		*t = File
	case "dir":
		*t = Dir
	case "symlink":
		*t = Symlink
	default:
		return fmt.Errorf("unknown entry type %q", b)
	}
	return nil
}

// Mode is a permission mode written as an octal string ("0755").
type Mode fs.FileMode

// MarshalText writes the mode in octal.
func (m Mode) MarshalText() ([]byte, error) {
	return []byte(fmt.Sprintf("%04o", uint32(m))), nil
}

// UnmarshalText reads an octal mode.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := strconv.ParseUint(string(b), 8, 32)
	if err != nil || v > 0o7777 {
		return fmt.Errorf("bad mode %q: want octal like \"0755\"", b)
	}
	*m = Mode(v)
	return nil
}

// Slot locates an executable's PT_INTERP contents in the file.
type Slot struct {
	Offset int64 `json:"offset"`
	Size   int64 `json:"size"`
}

// Entry is one path of the bundle.
type Entry struct {
	Path string `json:"path"`
	Type Type   `json:"type"`
	Mode Mode   `json:"mode"`
	// Size and SHA256 are set for files. SHA256 is of the content with the
	// interpreter slot, if any, holding the placeholder.
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// Link is a symlink's target.
	Link string `json:"link,omitempty"`
	// InterpSlot is set for executables whose PT_INTERP is re-pointable.
	InterpSlot *Slot `json:"interp_slot,omitempty"`
	// Source is where the file came from, relative to the root it was
	// resolved in (e.g. "/usr/lib/x86_64-linux-gnu/libc.so.6"); for the
	// reader's information only.
	Source string `json:"source,omitempty"`
}

// EntryPoint is one program users run.
type EntryPoint struct {
	Name     string `json:"name"`
	Launcher string `json:"launcher"` // bin/NAME
	Target   string `json:"target"`   // libexec/NAME
	Source   string `json:"source,omitempty"`
}

// Libc records the C library a bundle carries.
type Libc struct {
	// Version is glibc's version, e.g. "2.36", from the highest GLIBC_x.y
	// that the bundled libc.so.6 defines.
	Version string `json:"version"`
	// Root says where the closure was resolved: "host" or the sysroot's
	// label (e.g. "v2").
	Root string `json:"root"`
	// MaxNeeded is the highest GLIBC_x.y any bundled file needs.
	MaxNeeded string `json:"max_needed,omitempty"`
}

// HostLibs records which of the host's libraries the bundled loader may
// load.
type HostLibs struct {
	// Policy is "never" (the loader is closed: no /etc/ld.so.cache, no
	// /etc/ld.so.preload, no default directories) or "fallback" (the
	// loader as its package shipped it: the host's libraries stand in for
	// what the bundle lacks). A manifest without host_libs was written
	// before the policy existed and behaves like "fallback".
	Policy string `json:"policy"`
	// Names are, with policy "listed", the host libraries the bundle may
	// load (and what they need), by file name, e.g. libGL.so.1.
	Names []string `json:"names,omitempty"`
}

// HostLibsPolicies are the values HostLibs.Policy may take. "listed"
// closes the loader and lets the audit module admit the named host
// libraries.
var HostLibsPolicies = []string{"never", "listed", "fallback"}

// Manifest is the whole of .portable/manifest.json.
type Manifest struct {
	SchemaVersion int    `json:"schema_version"`
	Generator     string `json:"generator"`
	Arch          string `json:"arch"`
	// Loader is the bundled dynamic loader, relative to the root.
	Loader string `json:"loader"`
	// InterpPlaceholder is what each slot held when the bundle was built.
	InterpPlaceholder string `json:"interp_placeholder"`
	// RelocatedAs is the absolute path 'portable relocate --as' pointed
	// the slots at (where the bundle will be mounted); verify accepts
	// slots naming the loader there.
	RelocatedAs string `json:"relocated_as,omitempty"`
	// HostLibs is set in bundles with a loader.
	HostLibs *HostLibs `json:"host_libs,omitempty"`
	// EnforceChecksums says the bundle's audit module checks every object
	// against its sha256 before it runs (portable bundle
	// --enforce-checksums).
	EnforceChecksums bool `json:"enforce_checksums,omitempty"`
	// Locales are the locales lib/locale/locale-archive holds (portable
	// bundle --locale), by their normalised names (C.utf8).
	Locales     []string     `json:"locales,omitempty"`
	Libc        Libc         `json:"libc"`
	EntryPoints []EntryPoint `json:"entry_points"`
	Files       []Entry      `json:"files"`
}

// Validate checks that every path is a clean relative name, that nothing
// is listed twice and that entry points and slots make sense. Read calls
// it; the bundler calls it before writing.
func (m *Manifest) Validate() error {
	if m.SchemaVersion != SchemaVersion {
		if m.SchemaVersion > SchemaVersion {
			return fmt.Errorf("schema_version %d is newer than this portable understands (%d); use a newer portable", m.SchemaVersion, SchemaVersion)
		}
		return fmt.Errorf("schema_version %d is not supported (want %d)", m.SchemaVersion, SchemaVersion)
	}
	// A bundle of static programs has no loader and no slots.
	if m.RelocatedAs != "" {
		if !path.IsAbs(m.RelocatedAs) || path.Clean(m.RelocatedAs) != m.RelocatedAs {
			return fmt.Errorf("relocated_as %q: want a clean absolute path", m.RelocatedAs)
		}
		if err := ValidUTF8(m.RelocatedAs); err != nil {
			return fmt.Errorf("relocated_as %q: %w", m.RelocatedAs, err)
		}
	}
	if m.Loader != "" || m.InterpPlaceholder != "" {
		if err := archive.ValidName(m.Loader); err != nil {
			return fmt.Errorf("loader %q: %w", m.Loader, err)
		}
		if !path.IsAbs(m.InterpPlaceholder) || path.Base(m.InterpPlaceholder) != path.Base(m.Loader) {
			return fmt.Errorf("interp_placeholder %q: must be an absolute path ending in the loader's name %s", m.InterpPlaceholder, path.Base(m.Loader))
		}
	}
	if h := m.HostLibs; h != nil {
		if m.Loader == "" {
			return errors.New("host_libs: set, but the bundle has no loader")
		}
		if !slices.Contains(HostLibsPolicies, h.Policy) {
			return fmt.Errorf("host_libs: policy %q: want one of %s", h.Policy, strings.Join(HostLibsPolicies, ", "))
		}
		if (h.Policy == "listed") != (len(h.Names) > 0) {
			return fmt.Errorf("host_libs: policy %q with %d names: names go with \"listed\" only, and it needs at least one", h.Policy, len(h.Names))
		}
		for _, n := range h.Names {
			if n == "" || strings.ContainsAny(n, "/\n\x00") {
				return fmt.Errorf("host_libs: name %q: want a library file name like libGL.so.1", n)
			}
		}
	}
	seen := make(map[string]Type, len(m.Files))
	for _, e := range m.Files {
		if err := archive.ValidName(e.Path); err != nil {
			return fmt.Errorf("file %q: %w", e.Path, err)
		}
		if err := ValidUTF8(e.Path); err != nil {
			return fmt.Errorf("file %q: %w", e.Path, err)
		}
		if e.Path == Path || IsRuntimeFile(e.Path) {
			return fmt.Errorf("file %q: reserved path listed", e.Path)
		}
		if _, dup := seen[e.Path]; dup {
			return fmt.Errorf("file %s: listed twice", e.Path)
		}
		seen[e.Path] = e.Type
		switch e.Type {
		case File:
			if e.Size < 0 || len(e.SHA256) != 64 {
				return fmt.Errorf("file %s: needs a size and a 64-digit sha256", e.Path)
			}
			if s := e.InterpSlot; s != nil {
				if m.Loader == "" {
					return fmt.Errorf("file %s: has an interp slot but the bundle has no loader", e.Path)
				}
				if s.Offset < 0 || s.Size < int64(len(m.InterpPlaceholder))+1 || s.Offset+s.Size > e.Size {
					return fmt.Errorf("file %s: interp slot %d+%d does not fit the file or the placeholder", e.Path, s.Offset, s.Size)
				}
			}
		case Symlink:
			if e.Link == "" {
				return fmt.Errorf("file %s: symlink without a target", e.Path)
			}
			if err := ValidUTF8(e.Link); err != nil {
				return fmt.Errorf("file %s: symlink target %q: %w", e.Path, e.Link, err)
			}
		case Dir:
		default:
			return fmt.Errorf("file %s: unknown type %v", e.Path, e.Type)
		}
	}
	for _, ep := range m.EntryPoints {
		for _, p := range []string{ep.Launcher, ep.Target} {
			if _, ok := seen[p]; !ok {
				return fmt.Errorf("entry point %s: %s is not in the file list", ep.Name, p)
			}
		}
	}
	return nil
}

// ValidUTF8 refuses a bundle path that is not valid UTF-8: JSON strings
// are Unicode, so such a name could not be recorded as it is (encoding
// would turn each bad byte into U+FFFD, and verify and relocate would then
// look for a file that does not exist). Bundles refuse such names up
// front.
func ValidUTF8(p string) error {
	if utf8.ValidString(p) {
		return nil
	}
	return errors.New("not valid UTF-8; bundles record names as UTF-8 text, so rename the file or give it a UTF-8 destination with --add SRC=DEST")
}

// Marshal returns the manifest as deterministic JSON: files and entry
// points sorted, two-space indent, trailing newline.
func (m *Manifest) Marshal() ([]byte, error) {
	c := *m
	c.Files = slices.Clone(m.Files)
	slices.SortFunc(c.Files, func(a, b Entry) int { return archive.ComparePaths(a.Path, b.Path) })
	c.EntryPoints = slices.Clone(m.EntryPoints)
	slices.SortFunc(c.EntryPoints, func(a, b EntryPoint) int { return strings.Compare(a.Name, b.Name) })
	if c.EntryPoints == nil {
		c.EntryPoints = []EntryPoint{}
	}
	if c.Files == nil {
		c.Files = []Entry{}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Parse decodes and validates a manifest. Unknown fields are refused, so a
// typo or a newer writer is noticed.
func Parse(data []byte) (*Manifest, error) {
	var probe struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if probe.SchemaVersion == nil {
		return nil, errors.New("no schema_version: not a portable bundle manifest")
	}
	if *probe.SchemaVersion != SchemaVersion {
		m := Manifest{SchemaVersion: *probe.SchemaVersion}
		return nil, m.Validate()
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the manifest object")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Read loads and validates the manifest of the bundle at dir.
func Read(dir string) (*Manifest, error) {
	if _, err := fsutil.StatInput("bundle", dir, fsutil.Directory); err != nil {
		return nil, err
	}
	p := filepath.Join(dir, Path)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s: not a portable bundle", dir, Path)
	}
	data, err := fsutil.ReadInput("manifest", p, maxManifestSize)
	if err != nil {
		return nil, err
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return m, nil
}

// Lookup returns the entry for path, if listed.
func (m *Manifest) Lookup(p string) (Entry, bool) {
	for _, e := range m.Files {
		if e.Path == p {
			return e, true
		}
	}
	return Entry{}, false
}

// ScanOptions says what Scan needs to know beyond the tree itself.
type ScanOptions struct {
	// Slots gives the interpreter slot of the executables that have one,
	// by path; their hashes are computed with the slot holding
	// Placeholder.
	Slots       map[string]Slot
	Placeholder string
	// Sources fills each entry's Source, by path.
	Sources map[string]string
	// Known holds hashes the caller computed while writing the files (as
	// Scan would: slots holding the placeholder), by path. A file whose
	// size still matches is not read again.
	Known map[string]Known
}

// Known is a file hash computed earlier.
type Known struct {
	SHA256 string
	Size   int64
}

// Scan builds the file list of the tree at dir: every directory, file and
// symlink except the manifest itself and the lock.
func Scan(dir string, opts ScanOptions) ([]Entry, error) {
	tree, err := scanTree(dir)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for p, a := range tree {
		if p == Path || IsRuntimeFile(p) {
			continue
		}
		e := Entry{Path: p, Type: a.typ, Mode: Mode(a.mode), Source: opts.Sources[p]}
		full := filepath.Join(dir, filepath.FromSlash(p))
		switch a.typ {
		case Dir:
		case Symlink:
			e.Mode = 0o777
			if e.Link, err = os.Readlink(full); err != nil {
				return nil, err
			}
		case File:
			if s, ok := opts.Slots[p]; ok {
				e.InterpSlot = &s
			}
			if k, ok := opts.Known[p]; ok && k.Size == a.size {
				e.SHA256, e.Size = k.SHA256, k.Size
				break
			}
			if e.SHA256, e.Size, err = HashFile(full, e.InterpSlot, opts.Placeholder); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: special file (device, FIFO or socket) in a bundle", full)
		}
		out = append(out, e)
	}
	for p := range opts.Slots {
		if a, ok := tree[p]; !ok || a.typ != File {
			return nil, fmt.Errorf("%s: interp slot given for a path that is not a regular file", p)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return archive.ComparePaths(a.Path, b.Path) })
	return out, nil
}
