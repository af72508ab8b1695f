package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
)

// SlotSize is the size of every executable's PT_INTERP slot (PATH_MAX).
const SlotSize = 4096

// MaxLibexecDepth is how many directories below libexec/ the launcher's
// fix-up descends to find executables to re-point; the bundler refuses to
// put one deeper.
const MaxLibexecDepth = 8

// Placeholder is the path a fresh slot holds: absolute, unlikely to exist,
// and ending in the loader's name so the launcher learns that name from it.
func Placeholder(loaderBase string) string {
	return "/.portable-unrelocated/lib/" + loaderBase
}

// itemKind is what an item of the plan becomes in the bundle.
type itemKind int

const (
	kindFile itemKind = iota
	kindDir
	kindSymlink
)

func (k itemKind) String() string {
	switch k {
	case kindFile:
		return "file"
	case kindDir:
		return "directory"
	case kindSymlink:
		return "symlink"
	}
	return fmt.Sprintf("itemKind(%d)", int(k))
}

// item is one path of the bundle to be: where its content comes from and
// how it is changed on the way.
type item struct {
	dest string // bundle path
	kind itemKind
	// src is the host path of a file's content; data holds it instead for
	// generated files (the launcher).
	src  string
	data []byte
	// source is src as seen inside the root, for the manifest.
	source string
	exec   bool   // mode 0755 (else 0644)
	link   string // symlink target
	// patch is applied to ELF files; nil copies the bytes as they are.
	patch *elf.PatchOptions
	// slot marks executables whose PT_INTERP becomes a re-pointable slot.
	slot bool
	// size is src's size when planned, for the copy order; isELF says src
	// starts with the ELF magic.
	size  int64
	isELF bool
	// elf is src parsed when planned (nil for other files).
	elf *elf.File
	// why says where the item came from, for error messages.
	why string
}

// plan collects the items of a bundle by path and catches clashes.
type plan struct {
	items map[string]*item
}

func newPlan() *plan { return &plan{items: map[string]*item{}} }

// errClash is wrapped by every name-clash error.
var errClash = errors.New("name clash")

func (it *item) describe() string {
	switch {
	case it.kind == kindSymlink:
		return fmt.Sprintf("symlink to %s (%s)", it.link, it.why)
	case it.src != "":
		return fmt.Sprintf("%s (%s)", it.src, it.why)
	}
	return it.why
}

func samePatch(a, b *elf.PatchOptions) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// put adds it, merging it with an equal item already planned at the same
// path and failing on a different one.
func (p *plan) put(it *item) error {
	if err := archive.ValidName(it.dest); err != nil {
		return fmt.Errorf("bundle path %q (%s): %w", it.dest, it.why, err)
	}
	if err := manifest.ValidUTF8(it.dest); err != nil {
		return fmt.Errorf("bundle path %q (%s): %w", it.dest, it.describe(), err)
	}
	if err := manifest.ValidUTF8(it.link); it.kind == kindSymlink && err != nil {
		return fmt.Errorf("bundle path %s (%s): symlink target %q: %w", it.dest, it.describe(), it.link, err)
	}
	// Parents must be (or become) directories.
	for d := path.Dir(it.dest); d != "."; d = path.Dir(d) {
		if old, ok := p.items[d]; ok {
			if old.kind != kindDir {
				return fmt.Errorf("%w: %s is a %v from %s, but %s needs it to be a directory", errClash, d, old.kind, old.describe(), it.describe())
			}
			break
		}
		p.items[d] = &item{dest: d, kind: kindDir, why: it.why}
	}
	old, ok := p.items[it.dest]
	if !ok {
		p.items[it.dest] = it
		return nil
	}
	same := old.kind == it.kind
	switch {
	case !same:
	case it.kind == kindDir:
		return nil
	case it.kind == kindSymlink:
		same = old.link == it.link
	default:
		same = old.exec == it.exec && old.slot == it.slot && samePatch(old.patch, it.patch) &&
			((old.src != "" && old.src == it.src) || (old.data != nil && string(old.data) == string(it.data)))
	}
	if same {
		return nil
	}
	if old.kind == kindFile && it.kind == kindFile && old.exec == it.exec && old.slot == it.slot && samePatch(old.patch, it.patch) {
		// Different source paths may still hold the same bytes (a file and
		// its copy in another directory); compare content before failing.
		if eq, err := sameContent(old, it); err != nil {
			return err
		} else if eq {
			return nil
		}
	}
	return fmt.Errorf("%w: %s would be both %s and %s; rename one (pass it with --add SRC=DEST) or drop one", errClash, it.dest, old.describe(), it.describe())
}

// sorted returns the items in archive order.
func (p *plan) sorted() []*item {
	out := make([]*item, 0, len(p.items))
	for _, it := range p.items {
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b *item) int { return archive.ComparePaths(a.dest, b.dest) })
	return out
}

// modeOf is the normalised mode of an item.
func (it *item) mode() fs.FileMode {
	switch {
	case it.kind == kindDir:
		return 0o755
	case it.exec:
		return 0o755
	}
	return 0o644
}

// originTo returns "$ORIGIN/<relative way from dir(dest) to target dir>"
// for bundle paths, e.g. libexec/x -> lib gives "$ORIGIN/../lib".
func originTo(dest, target string) string {
	from := strings.Split(path.Dir(dest), "/")
	if path.Dir(dest) == "." {
		from = nil
	}
	to := strings.Split(target, "/")
	i := 0
	for i < len(from) && i < len(to) && from[i] == to[i] {
		i++
	}
	parts := []string{"$ORIGIN"}
	for range from[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, to[i:]...)
	return strings.Join(parts, "/")
}

// hasSearchPath reports whether an ELF file carries DT_RPATH or
// DT_RUNPATH. Only such libraries are patched: ld.so looks up the
// dependencies of a library without DT_RUNPATH through the DT_RPATH of
// its loaders up to the executable, and every bundled executable has
// DT_RPATH=$ORIGIN/../lib, so they find lib/ unchanged. A DT_RUNPATH
// would switch that off (and search the host), and any old search path
// names places outside the bundle, so those are rewritten.
func hasSearchPath(f *elf.File) bool {
	return f.HasRPath || f.HasRunPath
}

// keptOrigins returns the $ORIGIN-relative entries of an ELF file's
// current DT_RPATH or DT_RUNPATH: inside an added tree the relative layout
// is kept, so they still point where they did.
func keptOrigins(f *elf.File) []string {
	sp := f.RPath
	if f.HasRunPath {
		sp = f.RunPath
	}
	var out []string
	for _, e := range strings.Split(sp, ":") {
		if strings.HasPrefix(e, "$ORIGIN") || strings.HasPrefix(e, "${ORIGIN}") {
			out = append(out, e)
		}
	}
	return out
}

// rpathFor builds the DT_RPATH of an ELF placed at dest: kept entries,
// then the way to lib/, each once.
func rpathFor(dest string, kept []string) string {
	var parts []string
	for _, e := range append(slices.Clone(kept), originTo(dest, "lib")) {
		e = strings.TrimSuffix(strings.TrimSuffix(e, "/"), "/.")
		if !slices.Contains(parts, e) {
			parts = append(parts, e)
		}
	}
	return strings.Join(parts, ":")
}
