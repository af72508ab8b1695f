package sysroot

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/deb"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// BuildOptions says what to build and where.
type BuildOptions struct {
	Lock  *deb.Lockfile
	Label string
	// Dev builds the dev flavour: the lock's dev packages too, with linker
	// scripts made sysroot-relative.
	Dev bool
	// Out is a directory (which must not exist yet) or a file ending in
	// .tar, .tar.gz or .tar.zst.
	Out string
	// MTime is stamped on every tar entry; zero means the Unix epoch.
	MTime time.Time
	// Jobs bounds parallel downloads and extractions; 0 means GOMAXPROCS.
	Jobs int
}

var labelRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`) })

// Build fetches the lock's packages and assembles the sysroot at
// opts.Out. On any error nothing is left at opts.Out.
func Build(ctx context.Context, f *Fetcher, opts BuildOptions) (*Manifest, error) {
	lock := opts.Lock
	if !labelRE().MatchString(opts.Label) {
		return nil, fmt.Errorf("label %q: want letters, digits, '.', '_' or '-', e.g. v2", opts.Label)
	}
	arch, err := LookupArch(lock.Arch)
	if err != nil {
		return nil, err
	}
	if opts.Dev && !lock.HasDev() {
		return nil, fmt.Errorf("the lock has no dev packages; make it with `portable sysroot lock --dev` to build the dev flavour")
	}
	var pkgs []deb.LockedPackage
	for _, p := range lock.Packages {
		if !p.Dev || opts.Dev {
			pkgs = append(pkgs, p)
		}
	}
	slices.SortFunc(pkgs, func(a, b deb.LockedPackage) int { return strings.Compare(a.Name, b.Name) })
	toDir := !archive.IsArchiveName(opts.Out)
	if toDir {
		if _, err := os.Lstat(opts.Out); err == nil {
			return nil, fmt.Errorf("%s: already exists; a sysroot is immutable, so remove it or pick another output", opts.Out)
		}
	}
	parent := filepath.Dir(opts.Out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}

	if err := fetchAll(ctx, f, pkgs, max(jobs, 4)); err != nil {
		return nil, err
	}

	staging, err := fsutil.MkdirTemp(parent, "."+filepath.Base(opts.Out)+fsutil.TempInfix)
	if err != nil {
		return nil, err
	}
	defer fsutil.RemoveTemp(staging)
	rootDir := filepath.Join(staging, "root")
	if err := os.Mkdir(rootDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chmod(rootDir, 0o755); err != nil {
		return nil, err
	}

	f.Progress.Phasef("extracting %d packages", len(pkgs))
	trees, err := extractAll(ctx, f, pkgs, staging, jobs)
	if err != nil {
		return nil, err
	}
	a := &assembly{root: rootDir, nodes: map[string]*node{}, arch: arch}
	for _, t := range trees {
		if err := a.merge(t); err != nil {
			return nil, err
		}
	}
	if err := a.placeLoader(); err != nil {
		return nil, err
	}
	if err := a.linkMergedDirs(); err != nil {
		return nil, err
	}
	if opts.Dev {
		if err := a.fixLinkerScripts(); err != nil {
			return nil, err
		}
	}
	m := &Manifest{
		SchemaVersion: ManifestSchemaVersion,
		Label:         opts.Label,
		Arch:          arch.Name,
		Triplet:       arch.Triplet,
		Loader:        arch.Loader,
		Flavour:       Runtime.String(),
		Suite:         lock.Suite,
		Indexes:       lock.Indexes,
	}
	if opts.Dev {
		m.Flavour = Dev.String()
	}
	libc, err := a.resolve("usr/lib/" + arch.Triplet + "/libc.so.6")
	if err != nil {
		return nil, fmt.Errorf("libc.so.6 not found in the sysroot (%w); add libc6 to the sysroot lock", err)
	}
	if m.Glibc, err = DetectGlibc(filepath.Join(rootDir, libc)); err != nil {
		return nil, err
	}
	if cxx, err := a.resolve("usr/lib/" + arch.Triplet + "/libstdc++.so.6"); err == nil {
		if m.Glibcxx, err = DetectGlibcxx(filepath.Join(rootDir, cxx)); err != nil {
			return nil, err
		}
	}
	for _, p := range pkgs {
		m.Packages = append(m.Packages, ManifestPackage{Name: p.Name, Version: p.Version, Architecture: p.Architecture, SHA256: p.SHA256})
	}
	paths := make([]string, 0, len(a.nodes))
	for p := range a.nodes {
		paths = append(paths, p)
	}
	slices.SortFunc(paths, archive.ComparePaths)
	for _, p := range paths {
		m.Files = append(m.Files, manifestFile(a.nodes[p]))
	}
	data, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(filepath.Join(rootDir, ".sysroot"), 0o755); err != nil {
		return nil, err
	}
	if err := fsutil.WriteBytesAtomic(filepath.Join(rootDir, ManifestPath), 0o644, data); err != nil {
		return nil, err
	}
	f.Progress.Phasef("assembled sysroot %s: glibc %s, %d packages, %d entries", opts.Label, m.Glibc, len(pkgs), len(m.Files))
	if toDir {
		err := fsutil.Committing(func() error { return fsutil.RenameNoReplace(rootDir, opts.Out) })
		if err != nil {
			return nil, err
		}
	} else {
		if err := archive.Create(opts.Out, rootDir, archive.Options{MTime: opts.MTime}); err != nil {
			return nil, err
		}
	}
	f.Progress.Phasef("wrote %s", opts.Out)
	return m, nil
}

// fetchAll makes sure every package is in the cache, a few downloads at
// a time. A package whose data.tar the cache already holds needs no .deb.
func fetchAll(ctx context.Context, f *Fetcher, pkgs []deb.LockedPackage, jobs int) error {
	var total int64
	for _, p := range pkgs {
		total += p.Size
	}
	f.Progress.Phasef("fetching %d packages (%s)", len(pkgs), humanSize(total))
	errs := make([]error, len(pkgs))
	var downloaded int
	var mu sync.Mutex
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, p := range pkgs {
		if _, _, ok := f.Cache.cachedDataTar(p.SHA256); ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_, dl, err := f.FetchStatus(ctx, p.Filename, p.Size, p.SHA256)
			if err != nil {
				errs[i] = fmt.Errorf("%s %s: %w", p.Name, p.Version, err)
				return
			}
			if dl {
				mu.Lock()
				downloaded++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	f.Progress.Phasef("fetched %d packages: %d downloaded, %d from the cache", len(pkgs), downloaded, len(pkgs)-downloaded)
	return nil
}

// extractAll unpacks each package into its own directory under staging,
// jobs at a time, the largest .debs first: one package (libc6) is about
// half of a sysroot, and starting it last would leave the other workers
// idle while it finishes. The trees come back in the order of pkgs.
func extractAll(ctx context.Context, f *Fetcher, pkgs []deb.LockedPackage, staging string, jobs int) ([]*pkgTree, error) {
	trees := make([]*pkgTree, len(pkgs))
	errs := make([]error, len(pkgs))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	order := make([]int, len(pkgs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(pkgs[b].Size, pkgs[a].Size) })
	for _, i := range order {
		p := pkgs[i]
		wg.Add(1)
		sem <- struct{}{} // here, not in the goroutine, to keep the order
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return
			}
			dir := filepath.Join(staging, "pkg", fmt.Sprint(i))
			t, err := extractPackage(ctx, f, p, dir)
			if err != nil {
				errs[i] = err
				return
			}
			f.Progress.Itemf("extracted %s %s (%d entries)", p.Name, p.Version, len(t.order))
			trees[i] = t
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return trees, nil
}

// assembly is the merged tree under construction.
type assembly struct {
	root  string
	nodes map[string]*node
	arch  Arch
}

// merge moves one package's tree into the root. A path shipped by two
// packages must be the same directory, the same file (content and mode)
// or the same symlink.
func (a *assembly) merge(t *pkgTree) error {
	for _, p := range t.order {
		n := t.nodes[p]
		if g, ok := a.nodes[p]; ok {
			same := g.Type == n.Type && (n.Type == TypeDir ||
				(n.Type == TypeFile && g.SHA256 == n.SHA256 && g.Mode == n.Mode) ||
				(n.Type == TypeSymlink && g.Target == n.Target))
			if !same {
				return fmt.Errorf("%s: shipped by both %s (%s) and %s (%s) with different content; exclude one of them from the lock", p, g.Pkg, g.Type, n.Pkg, n.Type)
			}
			continue
		}
		dst := filepath.Join(a.root, filepath.FromSlash(p))
		if n.Type == TypeDir {
			if err := os.Mkdir(dst, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(dst, 0o755); err != nil {
				return err
			}
		} else if err := os.Rename(filepath.Join(t.dir, filepath.FromSlash(p)), dst); err != nil {
			return err
		}
		a.nodes[p] = n
	}
	return nil
}

// resolve follows symlinks inside the tree, as the kernel would with the
// sysroot as "/", and returns the path of the regular file p names.
func (a *assembly) resolve(p string) (string, error) {
	hops := 0
	parts := strings.Split(p, "/")
	cur := ""
	for len(parts) > 0 {
		c := parts[0]
		parts = parts[1:]
		next := c
		if cur != "" {
			next = cur + "/" + c
		}
		n, ok := a.nodes[next]
		if !ok {
			return "", fmt.Errorf("%s: %s does not exist", p, next)
		}
		if n.Type == TypeSymlink {
			hops++
			if hops > 40 {
				return "", fmt.Errorf("%s: too many levels of symlinks", p)
			}
			t := strings.TrimPrefix(path.Join("/", path.Dir(next), n.Target), "/")
			var tp []string
			if t != "" {
				tp = strings.Split(t, "/")
			}
			parts = append(tp, parts...)
			cur = ""
			continue
		}
		if len(parts) > 0 && n.Type != TypeDir {
			return "", fmt.Errorf("%s: %s is not a directory", p, next)
		}
		cur = next
	}
	if n := a.nodes[cur]; n == nil || n.Type != TypeFile {
		return "", fmt.Errorf("%s: not a regular file", p)
	}
	return cur, nil
}

// mkdirs creates the directories of p that are missing.
func (a *assembly) mkdirs(dir string) error {
	parts := strings.Split(dir, "/")
	for i := range parts {
		d := strings.Join(parts[:i+1], "/")
		if n, ok := a.nodes[d]; ok {
			if n.Type != TypeDir {
				return fmt.Errorf("%s: is a %s, want a directory", d, n.Type)
			}
			continue
		}
		dst := filepath.Join(a.root, filepath.FromSlash(d))
		if err := os.Mkdir(dst, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(dst, 0o755); err != nil {
			return err
		}
		a.nodes[d] = &node{Path: d, Type: TypeDir, Mode: 0o755, Pkg: "(sysroot)"}
	}
	return nil
}

func (a *assembly) symlink(p, target string) error {
	if err := os.Symlink(target, filepath.Join(a.root, filepath.FromSlash(p))); err != nil {
		return err
	}
	a.nodes[p] = &node{Path: p, Type: TypeSymlink, Mode: 0o777, Target: target, Pkg: "(sysroot)"}
	return nil
}

// placeLoader makes sure the architecture's canonical loader path leads
// to the loader. Debian's libc6 ships it on most architectures; when it
// does not, a relative symlink to the multiarch copy is added.
func (a *assembly) placeLoader() error {
	canon := mergeUsr(a.arch.Loader) // usr/lib64/ld-linux-x86-64.so.2
	if _, err := a.resolve(canon); err == nil {
		return nil
	}
	if _, ok := a.nodes[canon]; ok {
		return fmt.Errorf("%s: exists but does not lead to the loader", canon)
	}
	multi := "usr/lib/" + a.arch.Triplet + "/" + path.Base(a.arch.Loader)
	if _, err := a.resolve(multi); err != nil {
		return fmt.Errorf("%w for %s: neither %s nor %s is in the packages; add libc6 to the sysroot lock", errNoLoader, a.arch.Name, a.arch.Loader, multi)
	}
	if err := a.mkdirs(path.Dir(canon)); err != nil {
		return err
	}
	return a.symlink(canon, relPath(path.Dir(canon), multi))
}

// linkMergedDirs adds /bin -> usr/bin, /lib -> usr/lib and so on for each
// of those directories that exists under usr, as on a merged-/usr system.
func (a *assembly) linkMergedDirs() error {
	for _, d := range mergedDirs() {
		if n, ok := a.nodes["usr/"+d]; ok && n.Type == TypeDir {
			if _, ok := a.nodes[d]; ok {
				continue
			}
			if err := a.symlink(d, "usr/"+d); err != nil {
				return err
			}
		}
	}
	return nil
}

// ldScriptPath matches an absolute path in a linker script's GROUP or
// INPUT: after a blank or '(' and up to a blank or ')'.
var ldScriptPath = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(^|[\s(])(/[^\s()]+)`) })

// fixLinkerScripts rewrites the absolute paths in the dev flavour's
// linker scripts (libc.so, libm.so, and libm.a, which glibc makes a script
// too) with ld's "=" prefix, which means "inside the sysroot", so gcc
// --sysroot=DIR never reaches the host's libraries, dynamic or static.
func (a *assembly) fixLinkerScripts() error {
	var paths []string
	for p, n := range a.nodes {
		if n.Type == TypeFile && strings.HasPrefix(p, "usr/lib/") && (strings.HasSuffix(p, ".so") || strings.HasSuffix(p, ".a")) && n.Size < 64<<10 {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		n := a.nodes[p]
		full := filepath.Join(a.root, filepath.FromSlash(p))
		data, err := os.ReadFile(full)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(data, []byte("\x7fELF")) || bytes.HasPrefix(data, []byte("!<arch>\n")) || !(bytes.Contains(data, []byte("GROUP")) || bytes.Contains(data, []byte("INPUT"))) {
			continue
		}
		var out bytes.Buffer
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "/*") || !(strings.Contains(line, "GROUP") || strings.Contains(line, "INPUT")) {
				out.WriteString(line)
				continue
			}
			out.WriteString(ldScriptPath().ReplaceAllString(line, "$1=$2"))
		}
		if bytes.Equal(out.Bytes(), data) {
			continue
		}
		// A package file may be a hard link shared with another name:
		// write a new file rather than through the link.
		if err := fsutil.WriteBytesAtomic(full, n.Mode, out.Bytes()); err != nil {
			return err
		}
		sum := sha256.Sum256(out.Bytes())
		c := *n
		c.Size, c.SHA256 = int64(out.Len()), hex.EncodeToString(sum[:])
		a.nodes[p] = &c
	}
	return nil
}
