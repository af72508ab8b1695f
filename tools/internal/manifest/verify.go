package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// SlotBytes returns the slot content for interpreter path p: p, then NULs
// up to size bytes. It fails when p does not fit with its NUL.
func SlotBytes(p string, size int64) ([]byte, error) {
	if int64(len(p))+1 > size {
		return nil, fmt.Errorf("interpreter path %q (%d bytes) does not fit a %d-byte slot", p, len(p), size)
	}
	b := make([]byte, size)
	copy(b, p)
	return b, nil
}

// CheckSlot checks slot content: an absolute path whose base name is
// loaderBase, a NUL, and only NULs after it. It returns the path.
func CheckSlot(b []byte, loaderBase string) (string, error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", errors.New("interp slot has no NUL terminator")
	}
	p := string(b[:i])
	if !path.IsAbs(p) {
		return "", fmt.Errorf("interp slot holds %q, not an absolute path", p)
	}
	if path.Base(p) != loaderBase {
		return "", fmt.Errorf("interp slot holds %q, which does not name the bundled loader %s", p, loaderBase)
	}
	if bytes.ContainsFunc(b[i:], func(r rune) bool { return r != 0 }) {
		return "", fmt.Errorf("interp slot holds %q followed by non-NUL bytes", p)
	}
	return p, nil
}

// slotReader yields r's bytes with [off, off+len(repl)) replaced by repl,
// keeping the bytes it replaced in seen: what the slot held in this very
// read, so that verify judges the bytes it hashed.
type slotReader struct {
	r    io.Reader
	pos  int64
	off  int64
	repl []byte
	seen []byte
}

func (s *slotReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	start, end := s.pos, s.pos+int64(n)
	s.pos = end
	lo, hi := max(start, s.off), min(end, s.off+int64(len(s.repl)))
	if lo < hi {
		if len(s.seen) != len(s.repl) {
			s.seen = make([]byte, len(s.repl))
		}
		copy(s.seen[lo-s.off:hi-s.off], p[lo-start:hi-start])
		copy(p[lo-start:hi-start], s.repl[lo-s.off:hi-s.off])
	}
	return n, err
}

// HashFile returns the sha256 (hex) and size of the file at p. When slot is
// not nil the slot bytes are hashed as if they held placeholder.
func HashFile(p string, slot *Slot, placeholder string) (string, int64, error) {
	sum, n, _, err := hashFile(p, slot, placeholder)
	return sum, n, err
}

// hashFile is HashFile that also returns what the slot held in the read
// it hashed.
func hashFile(p string, slot *Slot, placeholder string) (string, int64, []byte, error) {
	f, _, err := fsutil.OpenInput("", p, 0)
	if err != nil {
		return "", 0, nil, err
	}
	defer f.Close()
	var r io.Reader = f
	var sr *slotReader
	if slot != nil {
		repl, err := SlotBytes(placeholder, slot.Size)
		if err != nil {
			return "", 0, nil, fmt.Errorf("%s: %w", p, err)
		}
		sr = &slotReader{r: f, off: slot.Offset, repl: repl, seen: make([]byte, len(repl))}
		r = sr
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", 0, nil, fmt.Errorf("%s: read: %w", p, err)
	}
	var seen []byte
	if sr != nil {
		seen = sr.seen
	}
	return hex.EncodeToString(h.Sum(nil)), n, seen, nil
}

// ProblemKind classifies a verify finding.
type ProblemKind int

const (
	// Changed is a file whose content (or symlink target, or interp slot)
	// differs from the manifest.
	Changed ProblemKind = iota
	// Missing is a listed path that does not exist.
	Missing
	// Extra is a path that exists but is not listed.
	Extra
	// ModeChanged is a path whose permission bits differ.
	ModeChanged
	// TypeChanged is a path of another kind than listed (a file became a
	// symlink, ...).
	TypeChanged
)

func (k ProblemKind) String() string {
	switch k {
	case Changed:
		return "changed"
	case Missing:
		return "missing"
	case Extra:
		return "extra"
	case ModeChanged:
		return "mode"
	case TypeChanged:
		return "type"
	}
	return fmt.Sprintf("ProblemKind(%d)", int(k))
}

// Problem is one difference between a bundle and its manifest.
type Problem struct {
	Path   string
	Kind   ProblemKind
	Detail string
}

func (p Problem) String() string {
	if p.Detail == "" {
		return fmt.Sprintf("%s: %v", p.Path, p.Kind)
	}
	return fmt.Sprintf("%s: %v: %s", p.Path, p.Kind, p.Detail)
}

type actual struct {
	typ  Type
	mode fs.FileMode
	size int64
}

// UnixMode returns m's permission bits with set-UID, set-GID and sticky
// as chmod(1) writes them (04000, 02000, 01000): the manifest's "mode".
func UnixMode(m fs.FileMode) fs.FileMode {
	u := m.Perm()
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// scanTree lists every path under dir without following symlinks.
func scanTree(dir string) (map[string]actual, error) {
	out := map[string]actual{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var t Type
		switch {
		case info.Mode().IsRegular():
			t = File
		case info.IsDir():
			t = Dir
		case info.Mode()&fs.ModeSymlink != 0:
			t = Symlink
		default:
			t = -1 // special file: always a problem
		}
		out[filepath.ToSlash(rel)] = actual{typ: t, mode: UnixMode(info.Mode()), size: info.Size()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return out, nil
}

// Verify compares the bundle at dir with m and returns every difference,
// sorted by path. The error is for failures to look at all (dir unreadable).
//
// seenAs lists other absolute paths at which the bundle is seen by the
// programs it runs (a chroot, a container, a mount point): a slot may name
// the loader there too.
func Verify(dir string, m *Manifest, seenAs ...string) ([]Problem, error) {
	tree, err := scanTree(dir)
	if err != nil {
		return nil, err
	}
	var probs []Problem
	add := func(p string, k ProblemKind, format string, args ...any) {
		probs = append(probs, Problem{Path: p, Kind: k, Detail: fmt.Sprintf(format, args...)})
	}
	loaderBase := path.Base(m.Loader)
	loaders := Loaders(dir, m)
	for _, as := range seenAs {
		if p := path.Join(as, m.Loader); !slices.Contains(loaders, p) {
			loaders = append(loaders, p)
		}
	}
	listed := make(map[string]bool, len(m.Files))
	for _, e := range m.Files {
		listed[e.Path] = true
		a, ok := tree[e.Path]
		if !ok {
			add(e.Path, Missing, "")
			continue
		}
		if a.typ != e.Type {
			want := e.Type.String()
			got := "special file"
			if a.typ >= 0 {
				got = a.typ.String()
			}
			add(e.Path, TypeChanged, "is a %s, manifest says %s", got, want)
			continue
		}
		full := filepath.Join(dir, filepath.FromSlash(e.Path))
		if e.Type != Symlink && a.mode != fs.FileMode(e.Mode) {
			detail := fmt.Sprintf("%04o, manifest says %04o", a.mode, e.Mode)
			if a.mode&0o6000 != 0 && fs.FileMode(e.Mode)&0o6000 == 0 {
				detail += " (a set-ID bit was added)"
			}
			add(e.Path, ModeChanged, "%s", detail)
		}
		switch e.Type {
		case Symlink:
			target, err := os.Readlink(full)
			if err != nil {
				add(e.Path, Changed, "readlink: %v", err)
			} else if target != e.Link {
				add(e.Path, Changed, "points to %q, manifest says %q", target, e.Link)
			}
		case File:
			// The size first: a file of the wrong size is never hashed.
			if a.size != e.Size {
				add(e.Path, Changed, "size %d, manifest says %d", a.size, e.Size)
				continue
			}
			if e.InterpSlot != nil {
				if detail := checkSlotOf(full, *e.InterpSlot, loaderBase, loaders); detail != "" {
					add(e.Path, Changed, "%s", detail)
					continue
				}
			}
			sum, size, seen, err := hashFile(full, e.InterpSlot, m.InterpPlaceholder)
			switch {
			case err != nil:
				add(e.Path, Changed, "%v", err)
			case size != e.Size:
				add(e.Path, Changed, "size %d, manifest says %d", size, e.Size)
			case sum != e.SHA256:
				add(e.Path, Changed, "sha256 %s, manifest says %s", sum, e.SHA256)
			case seen != nil:
				// The slot as it was in the read just hashed: a writer
				// racing the check above gains nothing.
				if detail := slotProblem(seen, loaderBase, loaders); detail != "" {
					add(e.Path, Changed, "%s", detail)
				}
			}
		}
	}
	for p, a := range tree {
		switch {
		case listed[p] || p == Path:
		case p == LockPath:
			// The launcher and relocate create it empty, 0644 less the
			// umask: anything else there is not theirs.
			if a.typ != File || a.size != 0 || a.mode&0o7111 != 0 {
				got := "special file"
				if a.typ >= 0 {
					got = a.typ.String()
				}
				add(p, Changed, "the launcher's lock must be an empty regular file without execute or set-ID bits; it is a %s of %d bytes, mode %04o", got, a.size, a.mode)
			}
		case p == StampPath || strings.HasPrefix(p, StampPath+".portable-tmp-"):
			// The audit module's record of what it verified: a hint that
			// saves hashing, never trusted beyond the list it names.
			if a.typ != File || a.mode&0o7111 != 0 {
				add(p, Changed, "the audit module's stamp must be a regular file without execute or set-ID bits; it is mode %04o", a.mode)
			}
		case p == path.Dir(Path) && a.typ == Dir:
			if a.mode&0o7002 != 0 {
				add(p, ModeChanged, "%04o: world-writable or with set-ID/sticky bits, so anyone could replace the manifest", a.mode)
			}
		default:
			add(p, Extra, "")
		}
	}
	// The root is not listed (it may be any name, made by whoever unpacked
	// the bundle), but one that anyone may write is no bundle to trust.
	if st, err := os.Stat(dir); err == nil {
		if m := UnixMode(st.Mode()); m&0o7002 != 0 {
			add(".", ModeChanged, "%04o: the bundle's root directory is world-writable or has set-ID/sticky bits, so anyone could replace its files", m)
		}
	}
	slices.SortFunc(probs, func(a, b Problem) int {
		if c := archive.ComparePaths(a.Path, b.Path); c != 0 {
			return c
		}
		return int(a.Kind) - int(b.Kind)
	})
	return probs, nil
}

// checkSlotOf re-reads the ELF's own PT_INTERP location (it must still be
// where the manifest says) and checks the slot's content. It returns "" when
// all is well, else what is wrong.
func checkSlotOf(full string, s Slot, loaderBase string, loaders []string) string {
	f, err := elf.Open(full)
	if err != nil {
		return fmt.Sprintf("not a readable ELF any more: %v", err)
	}
	off, size, ok := f.InterpSlot()
	if !ok || off != s.Offset || size != s.Size {
		return fmt.Sprintf("PT_INTERP moved or resized (now %d+%d, manifest says %d+%d)", off, size, s.Offset, s.Size)
	}
	fd, _, err := fsutil.OpenInput("", full, 0)
	if err != nil {
		return err.Error()
	}
	defer fd.Close()
	b := make([]byte, size)
	if _, err := fd.ReadAt(b, off); err != nil {
		return fmt.Sprintf("read interp slot: %v", err)
	}
	return slotProblem(b, loaderBase, loaders)
}

// slotProblem checks slot content: a NUL-padded absolute path to one of
// loaders. It returns "" when all is well, else what is wrong.
func slotProblem(b []byte, loaderBase string, loaders []string) string {
	p, err := CheckSlot(b, loaderBase)
	if err != nil {
		return err.Error()
	}
	if !slices.Contains(loaders, p) {
		shown := make([]string, len(loaders))
		for i, l := range loaders {
			shown[i] = path.Clean(l) // a padded placeholder starts with many slashes
		}
		return fmt.Sprintf("interp slot names %s, which is not this bundle's loader (%s); run directly, the program would load it. If the bundle moved, run 'portable relocate' on it", path.Clean(p), strings.Join(shown, " or "))
	}
	return ""
}

// Loaders lists the interpreter paths a slot of the bundle at dir may
// hold: the placeholder the bundler wrote, the bundled loader where dir
// is (as given and with symlinks resolved: the launcher writes the
// latter), and where 'portable relocate --as' said the bundle would be.
func Loaders(dir string, m *Manifest) []string {
	out := []string{m.InterpPlaceholder}
	add := func(root string) {
		p := path.Join(filepath.ToSlash(root), m.Loader)
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if abs, err := filepath.Abs(dir); err == nil {
		add(abs)
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			add(real)
		}
	}
	if m.RelocatedAs != "" {
		add(m.RelocatedAs)
	}
	return out
}

// Summary is a one-line count of problems by kind, e.g.
// "2 changed, 1 missing".
func Summary(probs []Problem) string {
	counts := map[ProblemKind]int{}
	for _, p := range probs {
		counts[p.Kind]++
	}
	var parts []string
	for k := Changed; k <= TypeChanged; k++ {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %v", counts[k], k))
		}
	}
	return strings.Join(parts, ", ")
}
