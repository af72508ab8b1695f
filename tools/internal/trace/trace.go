// Package trace reads the record a bundle's audit module writes in record
// mode (PORTABLE_AUDIT_RECORD=FILE, see launcher/audit.c) and compares it
// with the bundle's static closure, the list of ELF objects its manifest
// holds: what 'portable diff-closure' prints and 'portable bundle --trace'
// acts on.
//
// A record is lines of "KIND PATH": search (a library asked for by bare
// name), object (an object mapped from inside the bundle), host (one
// mapped from outside), refused (one the policy kept out) and mapped (a
// file still mapped at exit, such as a gconv cache or a locale archive).
// Paths are absolute as the module writes them; Normalise makes those
// inside a bundle relative to it (the form .portable/trace keeps).
package trace

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/rules-portable/rules_portable/tools/internal/manifest"
)

// Kinds of record lines.
const (
	Search  = "search"
	Object  = "object"
	Host    = "host"
	Refused = "refused"
	Mapped  = "mapped"
)

var kinds = []string{Search, Object, Host, Refused, Mapped}

// BundlePath is where 'portable bundle --trace' keeps the normalised
// record of its sample run.
const BundlePath = ".portable/trace"

// MaxLine bounds a record line (a path of up to PATH_MAX and its kind).
const MaxLine = 4096 + 16

// Record is what one or more runs loaded, each path once, in order of
// first appearance.
type Record struct {
	Lines []Line
}

// Line is one record entry.
type Line struct {
	Kind string
	Path string
}

// Parse reads a record. It fails, naming the line, on an unknown kind, a
// path that is not absolute (a bare name for search), a line too long, or
// bytes that are not UTF-8.
func Parse(r io.Reader) (*Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	rec := &Record{}
	seen := map[Line]bool{}
	for n := 1; sc.Scan(); n++ {
		l, err := parseLine(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("record line %d: %w", n, err)
		}
		if !seen[l] {
			seen[l] = true
			rec.Lines = append(rec.Lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, fmt.Errorf("record: a line is longer than %d bytes; is this a record written by a bundle's audit module?", MaxLine)
		}
		return nil, fmt.Errorf("record: %w", err)
	}
	return rec, nil
}

func parseLine(b []byte) (Line, error) {
	if !utf8.Valid(b) {
		return Line{}, fmt.Errorf("not UTF-8: %q", b)
	}
	kind, p, ok := bytes.Cut(b, []byte(" "))
	if !ok || !slices.Contains(kinds, string(kind)) {
		return Line{}, fmt.Errorf("%q: want KIND PATH with KIND one of %s", b, strings.Join(kinds, ", "))
	}
	l := Line{Kind: string(kind), Path: string(p)}
	switch {
	case l.Path == "" || strings.ContainsRune(l.Path, 0):
		return Line{}, fmt.Errorf("%s: empty path or a NUL byte", kind)
	case l.Kind == Search && strings.Contains(l.Path, "/"):
		return Line{}, fmt.Errorf("search %q: want a bare library name", l.Path)
	case l.Kind != Search && !path.IsAbs(l.Path) && (path.Clean(l.Path) != l.Path || l.Path == ".." || strings.HasPrefix(l.Path, "../")):
		return Line{}, fmt.Errorf("%s %q: want an absolute path, or a clean one inside the bundle", kind, l.Path)
	}
	return l, nil
}

// Normalise rewrites the paths inside root (an absolute, clean directory
// the record's bundle was at) as bundle-relative paths, so records of one
// bundle from different places compare equal. Others stay absolute.
func (r *Record) Normalise(root string) {
	root = path.Clean(root)
	seen := map[Line]bool{}
	out := r.Lines[:0]
	for _, l := range r.Lines {
		if l.Kind != Search {
			if rel, ok := strings.CutPrefix(path.Clean(l.Path), root+"/"); ok {
				l.Path = rel
			}
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	r.Lines = out
}

// Format writes the record back, one line each.
func (r *Record) Format(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, l := range r.Lines {
		fmt.Fprintf(bw, "%s %s\n", l.Kind, l.Path)
	}
	return bw.Flush()
}

// Diff is how a record differs from a bundle's static closure.
type Diff struct {
	// Host are objects mapped from outside the bundle.
	Host []string
	// Refused are objects the bundle's policy kept out (the program
	// asked for them by a path outside the bundle).
	Refused []string
	// Missing are library names asked for that nothing in the bundle
	// answered (a dlopen of a library the bundle lacks).
	Missing []string
	// Unlisted are objects mapped from inside the bundle that its
	// manifest does not list.
	Unlisted []string
	// HostData are glibc's runtime data files (locale archive and
	// files, gconv caches) mapped from outside the bundle.
	HostData []string
	// Unused are ELF objects of the closure the run never mapped
	// (informational: a library for a code path the run did not take).
	Unused []string
	// Loaded counts the bundle's objects the run mapped.
	Loaded int
}

// Drift reports whether the run needed anything the static closure does
// not give (everything but Unused).
func (d Diff) Drift() bool {
	return len(d.Host)+len(d.Refused)+len(d.Missing)+len(d.Unlisted)+len(d.HostData) > 0
}

// Compare sets a normalised record against the manifest of its bundle.
// objects says which manifest paths are ELF objects (the closure).
func Compare(m *manifest.Manifest, objects map[string]bool, r *Record) Diff {
	var d Diff
	listed := map[string]bool{}
	libNames := map[string]bool{}
	for _, e := range m.Files {
		listed[e.Path] = true
		if dir, name := path.Split(e.Path); dir == "lib/" {
			libNames[name] = true
		}
	}
	loaded := map[string]bool{}
	loadedNames := map[string]bool{}
	for _, l := range r.Lines {
		switch l.Kind {
		case Object:
			switch {
			case path.IsAbs(l.Path):
				d.Host = append(d.Host, l.Path) // inside another copy: not this bundle
			case !listed[l.Path]:
				d.Unlisted = append(d.Unlisted, l.Path)
			default:
				loaded[l.Path] = true
			}
			loadedNames[path.Base(l.Path)] = true
		case Host:
			d.Host = append(d.Host, l.Path)
			loadedNames[path.Base(l.Path)] = true
		case Refused:
			d.Refused = append(d.Refused, l.Path)
		}
	}
	for _, l := range r.Lines {
		switch l.Kind {
		case Search:
			if !loadedNames[l.Path] && !libNames[l.Path] && !slices.Contains(d.Missing, l.Path) {
				d.Missing = append(d.Missing, l.Path)
			}
		case Mapped:
			if path.IsAbs(l.Path) && IsGlibcData(l.Path) && !isObjectPath(r, l.Path) {
				d.HostData = append(d.HostData, l.Path)
			}
		}
	}
	for p := range objects {
		if loaded[p] {
			d.Loaded++
		} else {
			d.Unused = append(d.Unused, p)
		}
	}
	for _, s := range [][]string{d.Host, d.Refused, d.Missing, d.Unlisted, d.HostData, d.Unused} {
		slices.Sort(s)
	}
	return d
}

// isObjectPath reports whether p was recorded as a mapped object.
func isObjectPath(r *Record, p string) bool {
	for _, l := range r.Lines {
		if (l.Kind == Object || l.Kind == Host) && l.Path == p {
			return true
		}
	}
	return false
}

// IsGlibcData reports whether p looks like glibc runtime data: a locale
// archive or locale file, or a gconv module cache or configuration. Other
// files a program maps (its own data) are not the closure's business.
func IsGlibcData(p string) bool {
	return strings.Contains(p, "/locale/") || strings.HasSuffix(p, "/locale-archive") ||
		strings.Contains(p, "/gconv/") || strings.HasSuffix(p, "/gconv-modules.cache")
}
