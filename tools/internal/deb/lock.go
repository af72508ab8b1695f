package deb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// LockSchemaVersion is the version of the lockfile format this package
// writes and reads.
const LockSchemaVersion = 1

// Lockfile pins the packages of a sysroot. It names no mirror: pool paths
// are relative, so the same lock builds from any mirror of the archive.
type Lockfile struct {
	SchemaVersion int `json:"schema_version"`
	// Suite is the suite asked for, e.g. "trixie" or "experimental".
	Suite string `json:"suite"`
	Arch  string `json:"arch"`
	// Requested are the packages asked for with -p, as given.
	Requested []string `json:"requested"`
	// DevRequested are the extra packages of the dev flavour.
	DevRequested []string `json:"dev_requested,omitempty"`
	Exclude      []string `json:"exclude,omitempty"`
	// Indexes are the Packages indexes resolution read, in priority order:
	// the snapshot of the archive the lock came from.
	Indexes  []LockedIndex   `json:"indexes"`
	Packages []LockedPackage `json:"packages"`
}

// LockedIndex identifies one Packages index by the Release that listed it.
type LockedIndex struct {
	Suite    string `json:"suite"`
	Codename string `json:"codename"`
	// Date is the Date field of the signed Release, RFC 1123 in UTC.
	Date         string `json:"date"`
	NotAutomatic bool   `json:"not_automatic,omitempty"`
	Path         string `json:"path"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
}

// LockedPackage is one resolved package.
type LockedPackage struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	// Filename is the pool path relative to the mirror's root.
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	Suite    string `json:"suite"`
	// Dev marks packages only the dev flavour needs.
	Dev bool `json:"dev,omitempty"`
}

// Lock turns a resolved package into its lock entry.
func Lock(p *Package, dev bool) LockedPackage {
	return LockedPackage{
		Name: p.Name, Version: p.Version.String(), Architecture: p.Architecture,
		Filename: p.Filename, Size: p.Size, SHA256: p.SHA256, Suite: p.Suite, Dev: dev,
	}
}

// Marshal writes l as indented JSON with packages sorted by name, ending
// in a newline. The same lock always gives the same bytes.
func (l *Lockfile) Marshal() ([]byte, error) {
	c := *l
	c.Packages = slices.Clone(l.Packages)
	slices.SortFunc(c.Packages, func(a, b LockedPackage) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ParseLockfile reads and checks a lockfile: known schema, plain pool
// paths, well-formed hashes and versions, no package twice.
func ParseLockfile(data []byte) (*Lockfile, error) {
	var l Lockfile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("lockfile: %w", err)
	}
	if l.SchemaVersion != LockSchemaVersion {
		return nil, fmt.Errorf("lockfile: schema_version %d, this tool reads %d", l.SchemaVersion, LockSchemaVersion)
	}
	if l.Arch == "" {
		return nil, fmt.Errorf("lockfile: no arch")
	}
	if len(l.Packages) == 0 {
		return nil, fmt.Errorf("lockfile: no packages")
	}
	seen := map[string]bool{}
	for i, p := range l.Packages {
		where := fmt.Sprintf("lockfile: packages[%d] (%s)", i, p.Name)
		if err := checkPackageName(p.Name); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("%s: listed twice", where)
		}
		seen[p.Name] = true
		if _, err := ParseVersion(p.Version); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if p.Architecture != l.Arch && p.Architecture != "all" {
			return nil, fmt.Errorf("%s: architecture %q in a lock for %q", where, p.Architecture, l.Arch)
		}
		if err := CheckPoolPath(p.Filename); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if !isHexSHA256(p.SHA256) {
			return nil, fmt.Errorf("%s: sha256 %q is not 64 lower-case hex digits", where, p.SHA256)
		}
		if p.Size <= 0 {
			return nil, fmt.Errorf("%s: size %d", where, p.Size)
		}
	}
	return &l, nil
}

// HasDev reports whether the lock carries dev-flavour packages.
func (l *Lockfile) HasDev() bool {
	for _, p := range l.Packages {
		if p.Dev {
			return true
		}
	}
	return false
}
