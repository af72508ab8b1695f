package bundle

import (
	"bytes"
	"crypto/sha256"
	debugelf "debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/deps"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/glibcdata"
	"github.com/rules-portable/rules_portable/tools/internal/launcherbin"
	"github.com/rules-portable/rules_portable/tools/internal/locale"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
	"github.com/rules-portable/rules_portable/tools/internal/runfile"
	"github.com/rules-portable/rules_portable/tools/internal/trace"
	"golang.org/x/sys/unix"
)

// written is what writing one file produced.
type written struct {
	sum   [32]byte
	size  int64
	slot  *manifest.Slot
	isELF bool // starts with the ELF magic
	// id is the staged file's identity and f its parse when known without
	// reading it back: the patched output, or the copied source's parse
	// from the plan. The self-check's resolver takes them (deps.Options
	// Parsed).
	id deps.FileID
	f  *elf.File
}

// write materialises the plan in a staging directory next to out, checks
// it, and moves it (or an archive of it) into place.
func (b *builder) write(out string) (res *Result, err error) {
	if isFileOut(out) && !stageArchives {
		return b.writeStream(out)
	}
	staging, err := fsutil.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+fsutil.TempInfix)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot create a temp directory next to it: %w", out, unwrap(err))
	}
	defer func() {
		if err != nil || isFileOut(out) {
			os.RemoveAll(staging)
		}
		fsutil.ForgetTemp(staging)
	}()
	if err := os.Chmod(staging, 0o755); err != nil {
		return nil, err
	}
	items := b.plan.sorted()
	files := make([]*item, 0, len(items))
	for _, it := range items {
		full := filepath.Join(staging, filepath.FromSlash(it.dest))
		switch it.kind {
		case kindDir:
			if err := os.Mkdir(full, 0o755); err != nil {
				return nil, err
			}
		case kindSymlink:
			if err := os.Symlink(it.link, full); err != nil {
				return nil, err
			}
		case kindFile:
			files = append(files, it)
		}
	}
	results, err := b.writeFiles(staging, files)
	if err != nil {
		return nil, err
	}
	b.elfs = map[string]bool{}
	for i, it := range files {
		b.elfs[it.dest] = results[i].isELF
	}
	nfiles, nbytes, err := dedupe(staging, files, results)
	if err != nil {
		return nil, err
	}
	m, err := b.writeManifest(staging, files, results)
	if err != nil {
		return nil, err
	}
	if err := b.selfCheck(staging, files, results); err != nil {
		return nil, err
	}
	res = &Result{Out: out, Manifest: m, Files: nfiles, Bytes: nbytes}
	if strings.HasSuffix(out, runfile.Ext) {
		p, err := b.runFile(out, staging)
		if err != nil {
			return nil, err
		}
		if err := p.Commit(); err != nil {
			return nil, err
		}
		return res, nil
	}
	if archive.IsArchiveName(out) {
		if err := archive.Create(out, staging, b.archiveOptions()); err != nil {
			return nil, err
		}
		return res, nil
	}
	var tarOut *fsutil.Pending
	switch {
	case strings.HasSuffix(b.opts.Tar, runfile.Ext):
		if tarOut, err = b.runFile(b.opts.Tar, staging); err != nil {
			return nil, err
		}
	case b.opts.Tar != "":
		opts := archive.Options{MTime: b.opts.MTime, Prefix: b.opts.TarPrefix}
		if tarOut, err = archive.CreatePending(b.opts.Tar, staging, opts); err != nil {
			return nil, err
		}
	}
	// The directory is not synced before its rename: it is always new
	// (the rename never replaces anything), and like every new output
	// (fsutil.StageFileAt) a crash may lose it but no earlier data. An
	// fsync here wrote every file of the bundle out first (ext4's ordered
	// journal) and cost more than the rest of a small bundle.
	err = fsutil.Committing(func() error {
		if err := fsutil.RenameNoReplace(staging, out); err != nil {
			return fmt.Errorf("%s: move the finished bundle into place: %w", out, err)
		}
		if tarOut != nil {
			if err := tarOut.CommitHeld(); err != nil {
				// The directory was renamed in a moment ago: take it back.
				os.RemoveAll(out)
				return err
			}
		}
		return nil
	})
	if err != nil {
		if tarOut != nil {
			tarOut.Abort()
		}
		return nil, err
	}
	return res, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// writeFiles writes every file item, a few at a time.
func (b *builder) writeFiles(staging string, files []*item) ([]written, error) {
	return b.eachFile(files, "copy", func(it *item, buf []byte) (written, error) { return b.writeFile(staging, it, buf) })
}

// eachFile runs do on every file item, a few at a time, largest first,
// reporting progress as stage, and returns what each gave.
func (b *builder) eachFile(files []*item, stage string, do func(it *item, buf []byte) (written, error)) ([]written, error) {
	results := make([]written, len(files))
	errs := make([]error, len(files))
	jobs := b.opts.Jobs
	if jobs <= 0 {
		jobs = max(2, runtime.GOMAXPROCS(0))
	}
	// Largest first, so that a big program is not the last job left while
	// the other worker idles.
	order := make([]int, len(files))
	size := make([]int64, len(files))
	for i, it := range files {
		order[i] = i
		size[i] = int64(len(it.data))
		if it.src != "" {
			size[i] = it.size
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return size[order[a]] > size[order[b]] })
	var next, done atomic.Int64
	var wg sync.WaitGroup
	total := int64(len(files))
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20) // one copy buffer per worker
			for {
				k := int(next.Add(1) - 1)
				if k >= len(files) {
					return
				}
				i := order[k]
				results[i], errs[i] = do(files[i], buf)
				b.progress(stage, done.Add(1), total)
				if errs[i] != nil {
					next.Store(int64(len(files))) // stop early
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, nil
}

// writeFile writes one item into staging, copying through buf.
func (b *builder) writeFile(staging string, it *item, buf []byte) (written, error) {
	full := filepath.Join(staging, filepath.FromSlash(it.dest))
	var w written
	if it.patch == nil {
		if it.data != nil {
			if err := writeNew(full, it.mode(), it.data); err != nil {
				return w, err
			}
			return dataResult(it), nil
		}
		return copyHashed(it, full, buf)
	}
	pt, err := elf.OpenPatched(it.src, *it.patch)
	if err != nil {
		return w, fmt.Errorf("%w (%s)", err, it.why)
	}
	defer pt.Close()
	if w, err = patchedResult(it, pt); err != nil {
		return w, err
	}
	out, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL, it.mode())
	if err != nil {
		return w, err
	}
	err = pt.WriteTo(out)
	if err == nil {
		err = out.Chmod(it.mode())
	}
	if err == nil {
		var st unix.Stat_t
		if err = unix.Fstat(int(out.Fd()), &st); err == nil {
			w.id = deps.FileID{Dev: st.Dev, Ino: st.Ino}
		}
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return w, fmt.Errorf("%s: patch for %s: %w", it.src, it.dest, err)
	}
	return w, nil
}

// dataResult is what the manifest learns of a generated file.
func dataResult(it *item) written {
	return written{sum: sha256.Sum256(it.data), size: int64(len(it.data)), isELF: bytes.HasPrefix(it.data, []byte("\x7fELF"))}
}

// patchedResult is what the manifest and the self-check learn of a
// patched file: its parse, slot, hash and size.
func patchedResult(it *item, pt *elf.Patched) (written, error) {
	var w written
	f, err := elf.Parse(pt.ReaderAt(), pt.Size())
	if err != nil {
		return w, fmt.Errorf("%s: patched file does not read back: %w", it.src, err)
	}
	w.f = f
	if it.slot {
		off, size, ok := f.InterpSlot()
		if !ok || size != SlotSize {
			return w, fmt.Errorf("%s: patched file has no %d-byte interpreter slot", it.src, SlotSize)
		}
		w.slot = &manifest.Slot{Offset: off, Size: size}
	}
	h := sha256.New()
	if err := pt.Hash(h); err != nil {
		return w, err
	}
	copy(w.sum[:], h.Sum(nil))
	w.size = pt.Size()
	w.isELF = true
	return w, nil
}

// writeNew creates the file full (which must not exist) with data and
// mode, whatever the umask.
func writeNew(full string, mode os.FileMode, data []byte) error {
	fd, err := unix.Open(full, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, uint32(mode.Perm()))
	if err != nil {
		return &fs.PathError{Op: "create", Path: full, Err: err}
	}
	err = writeAll(fd, data)
	if err == nil {
		err = unix.Fchmod(fd, uint32(mode.Perm()))
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return &fs.PathError{Op: "write", Path: full, Err: err}
	}
	return nil
}

// copyHashed copies it.src to full through buf, hashing what it copies:
// one open, one fstat and, for a file that fits in buf, one read and one
// write, on raw descriptors. The source is read once; the manifest takes
// its hash from here.
func copyHashed(it *item, full string, buf []byte) (w written, err error) {
	// Non-blocking and checked on the descriptor: a source swapped for a
	// FIFO or a device since it was planned is refused.
	in, _, err := fsutil.OpenFD("", it.src)
	if err != nil {
		return w, fmt.Errorf("%w (%s)", err, it.why)
	}
	defer unix.Close(in)
	mode := uint32(it.mode().Perm())
	out, err := unix.Open(full, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, mode)
	if err != nil {
		return w, &fs.PathError{Op: "create", Path: full, Err: err}
	}
	defer func() {
		if cerr := unix.Close(out); err == nil && cerr != nil {
			err = fmt.Errorf("%s: copy to %s: %w", it.src, it.dest, cerr)
		}
	}()
	if w, err = readHashed(in, buf, func(b []byte) error { return writeAll(out, b) }); err != nil {
		return w, fmt.Errorf("%s: copy to %s: %w", it.src, it.dest, err)
	}
	if err := unix.Fchmod(out, mode); err != nil {
		return w, fmt.Errorf("%s: chmod: %w", full, err)
	}
	if w.isELF && it.elf != nil {
		var st unix.Stat_t
		if err := unix.Fstat(out, &st); err != nil {
			return w, fmt.Errorf("%s: stat: %w", full, err)
		}
		w.id, w.f = deps.FileID{Dev: st.Dev, Ino: st.Ino}, it.elf
	}
	return w, nil
}

// readHashed reads the source descriptor in through buf to its end,
// hashing what it reads and handing each block to sink (when set): the
// file's hash, size and whether it starts with the ELF magic.
func readHashed(in int, buf []byte, sink func([]byte) error) (w written, err error) {
	h := sha256.New()
	for {
		n, err := unix.Read(in, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return w, fmt.Errorf("read: %w", err)
		}
		if n == 0 {
			break
		}
		if w.size == 0 && n >= 4 {
			w.isELF = string(buf[:4]) == "\x7fELF"
		}
		h.Write(buf[:n])
		if sink != nil {
			if err := sink(buf[:n]); err != nil {
				return w, err
			}
		}
		w.size += int64(n)
	}
	copy(w.sum[:], h.Sum(nil))
	return w, nil
}

// writeAll writes all of data to the raw descriptor fd.
func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// contentLinks finds the files whose content and mode equal an earlier
// one's (in archive order): linkTo[i] is the file that i becomes a hard
// link to, or i itself. It also counts the distinct files and their
// bytes.
func contentLinks(files []*item, results []written) (linkTo []int, n int, size int64) {
	type key struct {
		sum  [32]byte
		exec bool
	}
	first := map[key]int{}
	linkTo = make([]int, len(files))
	for i, it := range files {
		k := key{results[i].sum, it.exec}
		j, ok := first[k]
		if !ok {
			j = i
			first[k] = i
			n++
			size += results[i].size
		}
		linkTo[i] = j
	}
	return linkTo, n, size
}

// dedupe replaces every file whose content and mode equal an earlier one
// (in archive order) with a hard link to it. It returns the number of
// distinct files and their bytes.
func dedupe(staging string, files []*item, results []written) (int, int64, error) {
	linkTo, n, size := contentLinks(files, results)
	for i, it := range files {
		j := linkTo[i]
		if j == i {
			continue
		}
		full := filepath.Join(staging, filepath.FromSlash(it.dest))
		if err := os.Remove(full); err != nil {
			return 0, 0, err
		}
		if err := os.Link(filepath.Join(staging, filepath.FromSlash(files[j].dest)), full); err != nil {
			return 0, 0, err
		}
		// The same file now; its old inode is gone and may be reused.
		results[i].id, results[i].f = results[j].id, results[j].f
	}
	return n, size, nil
}

func (b *builder) writeManifest(staging string, files []*item, results []written) (*manifest.Manifest, error) {
	if err := os.MkdirAll(filepath.Join(staging, ".portable"), 0o755); err != nil {
		return nil, err
	}
	so := b.scanOptions(files, results)
	entries, err := manifest.Scan(staging, so)
	if err != nil {
		return nil, err
	}
	m, records, err := b.manifestFor(entries)
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		full := filepath.Join(staging, filepath.FromSlash(r.path))
		if err := os.WriteFile(full, r.data, 0o644); err != nil {
			return nil, err
		}
		if err := os.Chmod(full, 0o644); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// scanOptions are what the manifest learns from writing the files: their
// slots, sources and hashes.
func (b *builder) scanOptions(files []*item, results []written) manifest.ScanOptions {
	slots := map[string]manifest.Slot{}
	sources := map[string]string{}
	known := map[string]manifest.Known{}
	for i, it := range files {
		if results[i].slot != nil {
			slots[it.dest] = *results[i].slot
		}
		if it.source != "" {
			sources[it.dest] = it.source
		}
		// Written with the placeholder in the slot: the normalised hash.
		known[it.dest] = manifest.Known{SHA256: hex.EncodeToString(results[i].sum[:]), Size: results[i].size}
	}
	return manifest.ScanOptions{Slots: slots, Placeholder: b.placeholder(), Sources: sources, Known: known}
}

func (b *builder) placeholder() string {
	if b.loader == "" {
		return ""
	}
	return Placeholder(path.Base(b.loader))
}

// record is one of the bundle's own files under .portable, written after
// the manifest's scan: the audit list, the trace record, the manifest.
type record struct {
	path string
	data []byte
}

// manifestFor builds the manifest of a bundle whose tree holds entries
// (every path but the records), and returns it with the records to
// write, the manifest last.
func (b *builder) manifestFor(entries []manifest.Entry) (*manifest.Manifest, []record, error) {
	m := &manifest.Manifest{
		SchemaVersion:     manifest.SchemaVersion,
		Generator:         "rules_portable",
		Arch:              archName(b.machine),
		Loader:            b.loader,
		InterpPlaceholder: b.placeholder(),
		EntryPoints:       b.entries,
		Files:             entries,
	}
	if b.loader != "" {
		m.HostLibs = &manifest.HostLibs{Policy: b.hostLibs()}
		if m.HostLibs.Policy == HostLibsListed {
			m.HostLibs.Names = slices.Sorted(slices.Values(slices.Compact(slices.Sorted(slices.Values(b.opts.HostLib)))))
		}
	}
	m.EnforceChecksums = b.opts.EnforceChecksums
	if _, ok := b.plan.items["lib/locale/locale-archive"]; ok {
		for _, n := range b.opts.Locales {
			m.Locales = append(m.Locales, locale.Normalize(n))
		}
		m.Locales = slices.Compact(slices.Sorted(slices.Values(m.Locales)))
	}
	var records []record
	add := func(rel string, data []byte) {
		records = append(records, record{rel, data})
		m.Files = append(m.Files, recordEntry(rel, data))
	}
	if b.needsAudit() && b.loader != "" {
		data, err := b.auditList(m)
		if err != nil {
			return nil, nil, err
		}
		add(manifest.AuditPath, data)
	}
	if b.opts.TraceRecord != nil {
		add(trace.BundlePath, b.opts.TraceRecord)
	}
	slices.SortFunc(m.Files, func(x, y manifest.Entry) int { return archive.ComparePaths(x.Path, y.Path) })
	if b.libc != nil {
		// versionGate already read it successfully.
		m.Libc.Version = b.glibc
		m.Libc.Root = b.label
		m.Libc.MaxNeeded = b.maxNeeded()
	}
	data, err := m.Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("internal error: manifest: %w", err)
	}
	records = append(records, record{manifest.Path, data})
	return m, records, nil
}

func (b *builder) maxNeeded() string {
	best := ""
	for _, f := range b.objects {
		if f == nil {
			continue
		}
		if v := f.MaxVersion("GLIBC"); v != "" && (best == "" || elf.CompareVersions(v, best) > 0) {
			best = v
		}
	}
	return best
}

func archName(m elf.Machine) string {
	switch m {
	case elf.EMX86_64:
		return "x86_64"
	case elf.EMAARCH64:
		return "aarch64"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

// selfCheck resolves the bundled ELF files again with the bundle as the
// root: everything they need must be found inside it, through the search
// paths the bundler wrote, and nowhere else. Executables are resolved as
// they are; libraries and plugins that --add or the glibc policy brought
// in are resolved as if a bundled program loaded them, that is with lib/
// searched as its DT_RPATH would. Interpreters are left out: the slots
// hold the placeholder until relocation.
//
// The files are not read back: each is known by its staged inode with the
// parse of what was written into it (a patched output's own bytes, a
// copy's source as planned).
func (b *builder) selfCheck(staging string, files []*item, results []written) error {
	parsed := map[deps.FileID]*elf.File{}
	for i := range files {
		if results[i].f != nil {
			parsed[results[i].id] = results[i].f
		}
	}
	return b.checkClosure(staging, files, deps.Options{Parsed: parsed})
}

// checkClosure is the self-check of the bundle at root, on disk or, with
// base.Tree, in memory; base also carries the parses.
func (b *builder) checkClosure(root string, files []*item, base deps.Options) error {
	var progs, libs []string
	for _, it := range files {
		full := filepath.Join(root, filepath.FromSlash(it.dest))
		switch {
		case it.slot:
			progs = append(progs, full)
		case it.src != "" && slices.Contains(b.inputs, it.src):
			libs = append(libs, full)
		}
	}
	progOpts, libOpts := base, base
	progOpts.Cache = deps.CacheNone
	libOpts.Cache, libOpts.LibraryPath = deps.CacheNone, "/lib"
	var bad []string
	for _, run := range []struct {
		inputs []string
		opts   deps.Options
	}{
		{progs, progOpts},
		{libs, libOpts},
	} {
		if len(run.inputs) == 0 {
			continue
		}
		sort.Strings(run.inputs)
		c, err := deps.Resolve(root, run.inputs, run.opts)
		if err != nil {
			return fmt.Errorf("internal error: bundle self-check: %w", err)
		}
		for _, m := range c.Missing {
			if strings.HasPrefix(m.Reason, "interpreter ") || run.opts.LibraryPath != "" {
				// Plugins may rely on what the process loaded before them
				// (checked, and warned about, at resolve time).
				continue
			}
			bad = append(bad, fmt.Sprintf("%s (needed by %s): %s", m.Name, strings.Join(m.NeededBy, ", "), m.Reason))
		}
		for _, l := range c.Libraries {
			if l.Outside {
				bad = append(bad, fmt.Sprintf("%s resolves outside the bundle to %s", l.Name, l.HostPath))
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("bundle self-check failed, the bundle would not find its own libraries (please report): %s", strings.Join(bad, "; "))
	}
	return nil
}

// sameContent reports whether two file items hold the same bytes.
func sameContent(a, b *item) (bool, error) {
	ha, err := contentHash(a)
	if err != nil {
		return false, err
	}
	hb, err := contentHash(b)
	if err != nil {
		return false, err
	}
	return ha == hb, nil
}

func contentHash(it *item) ([32]byte, error) {
	if it.data != nil {
		return sha256.Sum256(it.data), nil
	}
	f, _, err := fsutil.OpenInput("", it.src, 0)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%s: cannot read: %w (%s)", it.src, unwrap(err), it.why)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, fmt.Errorf("%s: %w", it.src, err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s, nil
}

// auditList is .portable/audit, the audit module's list (see
// launcher/audit.c): the policy, then every ELF object of the bundle
// that ld.so may map, with its sha256 as the manifest has it.
func (b *builder) auditList(m *manifest.Manifest) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("portable-audit 1\n")
	if m.EnforceChecksums {
		buf.WriteString("enforce\n")
	}
	fmt.Fprintf(&buf, "hostlibs %s\n", m.HostLibs.Policy)
	for _, n := range m.HostLibs.Names {
		fmt.Fprintf(&buf, "hostlib %s\n", n)
	}
	fmt.Fprintf(&buf, "placeholder %s\n", m.InterpPlaceholder)
	for _, a := range []struct {
		fd   int
		path string
	}{{glibcdata.GconvFD, "lib/gconv"}, {glibcdata.LocaleFD, "lib/locale/locale-archive"}} {
		if _, ok := b.plan.items[a.path]; ok && b.plan.items["lib/libc.so.6"] != nil && b.plan.items["lib/libc.so.6"].data != nil {
			fmt.Fprintf(&buf, "anchor %d %s\n", a.fd, a.path)
		}
	}
	for _, e := range m.Files {
		if e.Type != manifest.File || strings.HasPrefix(e.Path, "bin/") || e.Path == manifest.AuditModulePath {
			continue
		}
		if !b.elfs[e.Path] {
			continue
		}
		if strings.ContainsAny(e.Path, "\n") {
			return nil, fmt.Errorf("bundle path %q: a newline in a file name can't be written to the audit list; rename it", e.Path)
		}
		var off, size int64
		if e.InterpSlot != nil {
			off, size = e.InterpSlot.Offset, e.InterpSlot.Size
		}
		fmt.Fprintf(&buf, "object %s %d %d %d %s\n", e.SHA256, e.Size, off, size, e.Path)
	}
	return buf.Bytes(), nil
}

// recordEntry is the manifest entry of one of the bundle's own records
// (mode 0644) holding data.
func recordEntry(rel string, data []byte) manifest.Entry {
	sum := sha256.Sum256(data)
	return manifest.Entry{Path: rel, Type: manifest.File, Mode: 0o644, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
}

// runFile stages the single-file executable out (see package runfile)
// of the bundle in staging; it runs the first program.
func (b *builder) runFile(out, staging string) (*fsutil.Pending, error) {
	rt, entry, err := b.runtimeFor(out)
	if err != nil {
		return nil, err
	}
	return runfile.WritePending(out, rt, staging, entry, runfile.Options{Archive: archive.Options{MTime: b.opts.MTime}})
}

// archiveOptions are the options of an archive output.
func (b *builder) archiveOptions() archive.Options {
	opts := archive.Options{MTime: b.opts.MTime, Prefix: b.opts.Prefix}
	if b.opts.Progress != nil {
		opts.Progress = func(done, total int64) { b.progress("archive", done, total) }
	}
	return opts
}

// runtimeFor returns the single-file runtime for the bundle's machine
// and the program it runs, the first.
func (b *builder) runtimeFor(out string) ([]byte, string, error) {
	rt, err := launcherbin.RunForMachine(debugelf.Machine(b.machine))
	if err != nil {
		return nil, "", err
	}
	if len(b.entries) == 0 {
		return nil, "", fmt.Errorf("%s: a single-file executable needs a program to run", out)
	}
	return rt, b.entries[0].Name, nil
}

// isFileOut reports whether out is written as one file (an archive or a
// single-file executable) rather than a bundle directory.
func isFileOut(out string) bool {
	return archive.IsArchiveName(out) || strings.HasSuffix(out, runfile.Ext)
}
