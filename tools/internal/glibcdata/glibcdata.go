// Package glibcdata closes libc.so.6 to the host's runtime data: the
// gconv modules iconv loads and the locales setlocale reads. glibc finds
// both only at paths fixed when it was built (/usr/lib/<triplet>/gconv,
// /usr/lib/locale and its locale-archive) or through GCONV_PATH and
// LOCPATH, which a bundle never sets. Bundled as it is, a libc therefore
// reads the host's files, built for the host's glibc, and in an empty
// root finds none.
//
// Patch rewrites those paths in a copy of libc.so.6, in place and of the
// same length:
//
//   - the locale directory and archive become paths under /proc where no
//     file can exist (ldso.NoDir's directory), so the host's locales are
//     never read: programs get the built-in C locale unless the bundle
//     carries an archive;
//   - the gconv-modules.cache path likewise, so the modules' text
//     configuration is read instead, from:
//   - the gconv directory, which becomes /proc/self/fd/GconvFD when the
//     bundle carries lib/gconv (its audit module opens that directory at
//     start-up as that descriptor, close-on-exec, so nothing reaches a
//     child), else a dead path too;
//   - the locale archive, likewise /proc/self/fd/LocaleFD when the bundle
//     carries lib/locale/locale-archive.
//
// The strings are found by content, exactly once each, in read-only
// bytes; a libc without them is an error, never a silently open bundle.
package glibcdata

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

// Descriptors the audit module opens the bundle's data at; high, where
// programs rarely have files open, and below the usual limit of 1024.
const (
	GconvFD  = 1021
	LocaleFD = 1022
)

// ErrNotLibc is wrapped by every error for a file Patch can't close.
var ErrNotLibc = errors.New("not a glibc libc.so.6 whose data paths can be closed")

// Anchors say which of the bundle's data the patched libc will use.
type Anchors struct {
	Gconv  bool // the bundle has lib/gconv
	Locale bool // the bundle has lib/locale/locale-archive
}

// dead paths: in /proc's root, where no name starts with a dot.
const (
	deadLocaleDir = "/proc/.none/loc" // exactly as long as /usr/lib/locale: glibc uses its size
	deadArchive   = "/proc/.none/locale-archive"
	deadGconv     = "/proc/.none/gconv"
	deadCache     = "/proc/.none/gconv-modules.cache"
)

var (
	gconvDir = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^/usr/lib(64)?(/[a-z0-9_]+-linux-[a-z0-9_]+)?/gconv$`)
	})
	gconvCache = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^/usr/lib(64)?(/[a-z0-9_]+-linux-[a-z0-9_]+)?/gconv/gconv-modules\.cache$`)
	})
)

// Patch returns a copy of libc with its data paths closed (see the
// package doc). A libc patched before is patched again to a.
func Patch(libc []byte, a Anchors) ([]byte, error) {
	out := bytes.Clone(libc)
	if err := PatchInPlace(out, a); err != nil {
		return nil, err
	}
	return out, nil
}

// PatchInPlace is Patch on libc itself, for a caller that owns the
// buffer (a 2 MB copy costs more than the search). On error libc is
// unchanged: every path is found before any is written.
func PatchInPlace(libc []byte, a Anchors) error {
	ro, err := readOnly(libc)
	if err != nil {
		return err
	}
	out := libc
	gconv := anchor(GconvFD)
	if !a.Gconv {
		gconv = deadGconv
	}
	archive := anchor(LocaleFD)
	if !a.Locale {
		archive = deadArchive
	}
	var edits []edit
	for _, r := range []struct {
		what string
		old  func(string) bool
		new  string
		pad  bool // the replacement must fill the old string exactly
	}{
		{"locale directory", oneOf("/usr/lib/locale", deadLocaleDir), deadLocaleDir, true},
		{"locale archive", oneOf("/usr/lib/locale/locale-archive", deadArchive, anchor(LocaleFD)), archive, false},
		{"gconv directory", func(s string) bool { return gconvDir().MatchString(s) || s == deadGconv || s == anchor(GconvFD) }, gconv, false},
		{"gconv cache", func(s string) bool { return gconvCache().MatchString(s) || s == deadCache }, deadCache, false},
	} {
		at := find(out, ro, r.old)
		if len(at) != 1 {
			return fmt.Errorf("%w: its %s path occurs %d times, want once", ErrNotLibc, r.what, len(at))
		}
		old := at[0]
		// A libc patched before: the NULs after a shorter string are the
		// rest of the original one.
		for old[0]+old[1]+1 < len(out) && out[old[0]+old[1]+1] == 0 && !r.pad {
			old[1]++
		}
		if len(r.new) > old[1] || (r.pad && len(r.new) != old[1]) {
			return fmt.Errorf("%w: its %s path is %d bytes, too short for %q", ErrNotLibc, r.what, old[1], r.new)
		}
		edits = append(edits, edit{old[0], old[1], r.new})
	}
	// The strings are distinct and no replacement is a later search's
	// target, so finding them all first changes nothing.
	for _, e := range edits {
		clear(out[e.off : e.off+e.n])
		copy(out[e.off:], e.s)
	}
	return nil
}

// edit replaces the n bytes at off with s, NUL-padded.
type edit struct {
	off, n int
	s      string
}

func anchor(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

func oneOf(names ...string) func(string) bool {
	return func(s string) bool {
		for _, n := range names {
			if s == n {
				return true
			}
		}
		return false
	}
}

// find returns [offset, length] of every NUL-terminated string in
// read-only bytes that starts after a NUL and matches.
func find(data []byte, ro [][2]int64, match func(string) bool) [][2]int {
	var out [][2]int
	for _, seg := range ro {
		b := data[seg[0]:seg[1]]
		for i := 0; i < len(b); {
			j := bytes.Index(b[i:], []byte("\x00/"))
			if j < 0 {
				break
			}
			start := i + j + 1
			n := bytes.IndexByte(b[start:], 0)
			if n < 0 {
				break
			}
			if match(string(b[start : start+n])) {
				out = append(out, [2]int{int(seg[0]) + start, n})
			}
			i = start
		}
	}
	return out
}

func readOnly(data []byte) ([][2]int64, error) {
	f, err := elf.Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotLibc, err)
	}
	if f.Type != elf.TypeDyn {
		return nil, fmt.Errorf("%w: ELF type %v, want a shared object", ErrNotLibc, f.Type)
	}
	r, err := f.ReadOnlyRanges(int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotLibc, err)
	}
	return r, nil
}
