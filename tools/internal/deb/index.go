package deb

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Package is one binary package as a Packages index lists it. Relationship
// fields stay raw strings until resolution needs them.
type Package struct {
	Name         string
	Version      Version
	Architecture string
	MultiArch    string
	Source       string
	Filename     string
	Size         int64
	SHA256       string
	Depends      string
	PreDepends   string
	Provides     string
	Breaks       string
	Conflicts    string
	Essential    bool
	// Suite is the suite of the index the package came from.
	Suite string
}

// ID is name=version/architecture, unique within a universe.
func (p *Package) ID() string {
	return p.Name + "=" + p.Version.String() + "/" + p.Architecture
}

var indexFields = []string{
	"Package", "Version", "Architecture", "Multi-Arch", "Source", "Filename",
	"Size", "SHA256", "Depends", "Pre-Depends", "Provides", "Breaks",
	"Conflicts", "Essential",
}

// Index is the parsed Packages file of one suite, component and
// architecture.
type Index struct {
	Suite string
	// NotAutomatic is copied from the suite's Release: packages of such an
	// index are taken only when asked for by name or when nothing else
	// satisfies a relation.
	NotAutomatic bool
	Packages     []*Package
}

// ParseIndex reads a Packages file. Every paragraph must name its package,
// version, architecture, file, size and sha256.
func ParseIndex(r io.Reader, suite string) (*Index, error) {
	idx := &Index{Suite: suite}
	err := ParseParagraphs(r, ParseOptions{Keep: indexFields}, func(p Paragraph) error {
		pkg, err := packageFromParagraph(p)
		if err != nil {
			return fmt.Errorf("line %d: %w", p.Line, err)
		}
		pkg.Suite = suite
		idx.Packages = append(idx.Packages, pkg)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("Packages index of %s: %w", suite, err)
	}
	return idx, nil
}

func packageFromParagraph(p Paragraph) (*Package, error) {
	pkg := &Package{
		Name:         p.Get("Package"),
		Architecture: p.Get("Architecture"),
		MultiArch:    p.Get("Multi-Arch"),
		Source:       p.Get("Source"),
		Filename:     p.Get("Filename"),
		SHA256:       strings.ToLower(p.Get("SHA256")),
		Depends:      p.Get("Depends"),
		PreDepends:   p.Get("Pre-Depends"),
		Provides:     p.Get("Provides"),
		Breaks:       p.Get("Breaks"),
		Conflicts:    p.Get("Conflicts"),
		Essential:    strings.EqualFold(p.Get("Essential"), "yes"),
	}
	if err := checkPackageName(pkg.Name); err != nil {
		return nil, err
	}
	v, err := ParseVersion(p.Get("Version"))
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", pkg.Name, err)
	}
	pkg.Version = v
	if pkg.Architecture == "" {
		return nil, fmt.Errorf("package %s: no Architecture", pkg.Name)
	}
	if pkg.Filename == "" {
		return nil, fmt.Errorf("package %s: no Filename", pkg.Name)
	}
	if err := CheckPoolPath(pkg.Filename); err != nil {
		return nil, fmt.Errorf("package %s: %w", pkg.Name, err)
	}
	if !isHexSHA256(pkg.SHA256) {
		return nil, fmt.Errorf("package %s: SHA256 %q is not 64 hex digits", pkg.Name, pkg.SHA256)
	}
	size, err := strconv.ParseInt(p.Get("Size"), 10, 64)
	if err != nil || size <= 0 {
		return nil, fmt.Errorf("package %s: bad Size %q", pkg.Name, p.Get("Size"))
	}
	pkg.Size = size
	return pkg, nil
}

// CheckPoolPath refuses a Filename that could leave the mirror's tree when
// appended to its URL: it must be relative, clean, free of ".." and under
// pool/, where Debian's archives keep every package.
func CheckPoolPath(p string) error {
	if err := checkRelPath(p); err != nil {
		return fmt.Errorf("pool %w", err)
	}
	if !strings.HasPrefix(p, "pool/") {
		return fmt.Errorf("pool path %q is not under pool/", p)
	}
	return nil
}

// checkRelPath refuses a path that is not plain, relative and clean: one
// that appended to a URL could add a query, an escape or a "..".
func checkRelPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsAny(p, "?#%") {
		return fmt.Errorf("path %q is not a plain relative path", p)
	}
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." {
			return fmt.Errorf("path %q has an empty, '.' or '..' component", p)
		}
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] >= 0x7f {
			return fmt.Errorf("path %q holds a blank or non-ASCII byte", p)
		}
	}
	return nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
