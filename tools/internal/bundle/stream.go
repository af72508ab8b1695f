package bundle

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/deps"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
	"github.com/rules-portable/rules_portable/tools/internal/runfile"
	"golang.org/x/sys/unix"
)

// stageArchives makes archive and single-file outputs go through a
// staging directory, as a directory output does. Tests set it to check
// that both ways give the same bytes.
var stageArchives = false

// writeStream writes an archive or single-file output straight from the
// plan, without a staging directory: every file is read once to learn
// its hash (and, when patched, its parse), the manifest and the
// self-check are computed from the plan as the tree it describes, and
// the archive reads each file again as it writes it, checking that the
// bytes still hash to what the manifest says. The output is the same,
// byte for byte, as archiving the bundle's directory.
func (b *builder) writeStream(out string) (*Result, error) {
	items := b.plan.sorted()
	var files []*item
	for _, it := range items {
		if it.kind == kindFile {
			files = append(files, it)
		}
	}
	results, err := b.hashFiles(files)
	if err != nil {
		return nil, err
	}
	b.elfs = map[string]bool{}
	for i, it := range files {
		b.elfs[it.dest] = results[i].isELF
	}
	linkTo, nfiles, nbytes := contentLinks(files, results)

	// The manifest's entries, as manifest.Scan would find them in the
	// staged directory.
	so := b.scanOptions(files, results)
	index := map[string]int{}
	for i, it := range files {
		index[it.dest] = i
	}
	var entries []manifest.Entry
	hasPortableDir := false
	for _, it := range items {
		if it.dest == manifest.Path || manifest.IsRuntimeFile(it.dest) {
			continue
		}
		e := manifest.Entry{Path: it.dest, Mode: manifest.Mode(it.mode().Perm()), Source: so.Sources[it.dest]}
		switch it.kind {
		case kindDir:
			e.Type = manifest.Dir
			hasPortableDir = hasPortableDir || it.dest == ".portable"
		case kindSymlink:
			e.Type, e.Mode, e.Link = manifest.Symlink, 0o777, it.link
		case kindFile:
			e.Type = manifest.File
			if s, ok := so.Slots[it.dest]; ok {
				e.InterpSlot = &s
			}
			k := so.Known[it.dest]
			e.SHA256, e.Size = k.SHA256, k.Size
		}
		entries = append(entries, e)
	}
	if !hasPortableDir {
		entries = append(entries, manifest.Entry{Path: ".portable", Type: manifest.Dir, Mode: 0o755})
	}
	slices.SortFunc(entries, func(x, y manifest.Entry) int { return archive.ComparePaths(x.Path, y.Path) })
	m, records, err := b.manifestFor(entries)
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		if _, ok := b.plan.items[r.path]; ok {
			return nil, fmt.Errorf("internal error: bundle path %s is both planned and one of the bundle's records", r.path)
		}
	}

	if err := b.selfCheckTree(out, items, files, results, linkTo, records); err != nil {
		return nil, err
	}

	// The archive's entries: the plan and the records.
	var ae []archive.Entry
	for _, it := range items {
		switch it.kind {
		case kindDir:
			ae = append(ae, archive.Entry{Name: it.dest, Type: archive.TypeDir, Mode: 0o755})
		case kindSymlink:
			ae = append(ae, archive.Entry{Name: it.dest, Type: archive.TypeSymlink, Mode: 0o777, Linkname: it.link})
		case kindFile:
			i := index[it.dest]
			if j := linkTo[i]; j != i {
				ae = append(ae, archive.Entry{Name: it.dest, Type: archive.TypeHardlink, Mode: files[j].mode(), Linkname: files[j].dest})
				continue
			}
			it, w := it, results[i]
			ae = append(ae, archive.Entry{Name: it.dest, Type: archive.TypeFile, Mode: it.mode(), Size: w.size,
				Open: func() (io.ReadCloser, error) { return openChecked(it, w) }})
		}
	}
	if !hasPortableDir {
		ae = append(ae, archive.Entry{Name: ".portable", Type: archive.TypeDir, Mode: 0o755})
	}
	for _, r := range records {
		data := r.data
		ae = append(ae, archive.Entry{Name: r.path, Type: archive.TypeFile, Mode: 0o644, Size: int64(len(data)),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
	}
	res := &Result{Out: out, Manifest: m, Files: nfiles, Bytes: nbytes}
	if strings.HasSuffix(out, runfile.Ext) {
		rt, entry, err := b.runtimeFor(out)
		if err != nil {
			return nil, err
		}
		p, err := runfile.WritePendingEntries(out, rt, ae, entry, runfile.Options{Archive: archive.Options{MTime: b.opts.MTime}})
		if err != nil {
			return nil, err
		}
		if err := p.Commit(); err != nil {
			return nil, err
		}
		return res, nil
	}
	if err := archive.CreateEntries(out, ae, b.archiveOptions()); err != nil {
		return nil, err
	}
	return res, nil
}

// hashFiles learns what each file item holds, a few at a time, without
// writing it anywhere: its hash (with the slot holding the placeholder),
// size, whether it is ELF, its slot and its parse.
func (b *builder) hashFiles(files []*item) ([]written, error) {
	return b.eachFile(files, "read", b.hashFile)
}

// hashFile is writeFile without the write.
func (b *builder) hashFile(it *item, buf []byte) (written, error) {
	var w written
	switch {
	case it.data != nil:
		return dataResult(it), nil
	case it.patch == nil:
		in, _, err := fsutil.OpenFD("", it.src)
		if err != nil {
			return w, fmt.Errorf("%w (%s)", err, it.why)
		}
		defer unix.Close(in)
		if w, err = readHashed(in, buf, nil); err != nil {
			return w, fmt.Errorf("%s: %w", it.src, err)
		}
		if w.isELF {
			w.f = it.elf
		}
		return w, nil
	}
	pt, err := elf.OpenPatched(it.src, *it.patch)
	if err != nil {
		return w, fmt.Errorf("%w (%s)", err, it.why)
	}
	defer pt.Close()
	return patchedResult(it, pt)
}

// content opens a file item's bytes as the bundle holds them: the
// generated data, the source, or the source patched.
func content(it *item) (io.ReaderAt, int64, func() error, error) {
	switch {
	case it.data != nil:
		return bytes.NewReader(it.data), int64(len(it.data)), func() error { return nil }, nil
	case it.patch == nil:
		f, _, err := fsutil.OpenInput("", it.src, 0)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("%s: %w (%s)", it.src, unwrap(err), it.why)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, nil, err
		}
		return f, st.Size(), f.Close, nil
	}
	pt, err := elf.OpenPatched(it.src, *it.patch)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%w (%s)", err, it.why)
	}
	return pt.ReaderAt(), pt.Size(), pt.Close, nil
}

// openChecked opens a file item for the archive: a reader of exactly
// w.size bytes that fails on its last read if they do not hash to w.sum,
// the hash the manifest took, so a source changed since it was read
// fails the bundle instead of making its manifest lie.
func openChecked(it *item, w written) (io.ReadCloser, error) {
	ra, size, closeFn, err := content(it)
	if err != nil {
		return nil, err
	}
	if size != w.size {
		closeFn()
		return nil, fmt.Errorf("%s: changed while bundling (%d bytes, was %d); run the bundle again", it.src, size, w.size)
	}
	return &checkedReader{r: io.NewSectionReader(ra, 0, size), left: size, h: sha256.New(), want: w.sum, it: it, close: closeFn}, nil
}

type checkedReader struct {
	r     io.Reader
	left  int64
	h     hash.Hash
	want  [32]byte
	it    *item
	close func() error
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.left -= int64(n)
	if c.left == 0 {
		var got [32]byte
		copy(got[:], c.h.Sum(nil))
		if got != c.want {
			return n, fmt.Errorf("%s: changed while bundling (its sha256 is not the one the manifest took); run the bundle again", c.it.src)
		}
		return n, nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (c *checkedReader) Close() error { return c.close() }

// selfCheckTree is selfCheck over the tree the plan describes, given to
// the resolver in memory (deps.Options.Tree) under the name out.
func (b *builder) selfCheckTree(out string, items, files []*item, results []written, linkTo []int, records []record) error {
	tree := map[string]deps.TreeNode{"/": {Mode: fs.ModeDir | 0o755, ID: deps.FileID{Dev: deps.TreeDev}}}
	index := map[string]int{}
	for i, it := range files {
		index[it.dest] = i
	}
	parsed := map[deps.FileID]*elf.File{}
	// Files are numbered by their index (a hard link shares its target's),
	// records after them, directories and symlinks after those.
	other := uint64(len(files) + len(records))
	nextID := func() deps.FileID {
		other++
		return deps.FileID{Dev: deps.TreeDev, Ino: other}
	}
	for _, it := range items {
		p := "/" + it.dest
		switch it.kind {
		case kindDir:
			tree[p] = deps.TreeNode{Mode: fs.ModeDir | 0o755, ID: nextID()}
		case kindSymlink:
			tree[p] = deps.TreeNode{Mode: fs.ModeSymlink | 0o777, Link: it.link, ID: nextID()}
		case kindFile:
			i := index[it.dest]
			j := linkTo[i]
			id := deps.FileID{Dev: deps.TreeDev, Ino: uint64(j) + 1}
			src := files[j]
			tree[p] = deps.TreeNode{Mode: it.mode(), ID: id,
				Open: func() (io.ReaderAt, int64, func() error, error) { return content(src) }}
			if results[j].f != nil {
				parsed[id] = results[j].f
			}
		}
	}
	if _, ok := tree["/.portable"]; !ok {
		tree["/.portable"] = deps.TreeNode{Mode: fs.ModeDir | 0o755, ID: nextID()}
	}
	for k, r := range records {
		data := r.data
		tree["/"+r.path] = deps.TreeNode{Mode: 0o644, ID: deps.FileID{Dev: deps.TreeDev, Ino: uint64(len(files) + k + 1)},
			Open: func() (io.ReaderAt, int64, func() error, error) {
				return bytes.NewReader(data), int64(len(data)), func() error { return nil }, nil
			}}
	}
	return b.checkClosure(out, files, deps.Options{Parsed: parsed, Tree: tree})
}
