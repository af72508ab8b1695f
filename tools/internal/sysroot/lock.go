package sysroot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ulikunitz/xz"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// LockOptions says what to resolve and how to trust the index.
type LockOptions struct {
	// Suite is the suite to resolve in. "experimental" is resolved on top
	// of "unstable", as apt does: experimental is NotAutomatic, so only the
	// requested packages (and what nothing else satisfies) come from it.
	Suite string
	// ExtraSuites are resolved along with Suite, at lower priority.
	ExtraSuites []string
	Arch        string
	Packages    []string // name or name=version
	// DevPackages are added for the dev flavour and marked Dev in the lock
	// unless the runtime closure already has them.
	DevPackages []string
	Exclude     []string
	Component   string // "" means main
	// Keyring is the OpenPGP keyring file the InRelease signature is
	// checked against.
	Keyring string
	// AllowExpired accepts a Release past its Valid-Until; the signature
	// is still checked, and a line on Progress says so.
	AllowExpired bool
	Now          time.Time
}

// suitesFor lists the suites to read for a lock, highest priority first.
func suitesFor(opts LockOptions) []string {
	s := []string{opts.Suite}
	if opts.Suite == "experimental" || opts.Suite == "rc-buggy" {
		s = append(s, "unstable")
	}
	for _, x := range opts.ExtraSuites {
		if !slices.Contains(s, x) {
			s = append(s, x)
		}
	}
	return s
}

// Lock reads the signed index of each suite and resolves the requested
// packages into a lockfile.
func Lock(ctx context.Context, f *Fetcher, opts LockOptions) (*deb.Lockfile, error) {
	u, indexes, err := loadUniverse(ctx, f, opts)
	if err != nil {
		return nil, err
	}
	return resolveLock(f.Progress, u, indexes, opts)
}

// loadUniverse checks the options, then fetches, verifies and parses the
// indexes of the suites opts names.
func loadUniverse(ctx context.Context, f *Fetcher, opts LockOptions) (*deb.Universe, []deb.LockedIndex, error) {
	if opts.Suite == "" {
		return nil, nil, errors.New("no suite given")
	}
	if len(opts.Packages) == 0 {
		return nil, nil, errors.New("no packages given; pass -p PKG at least once")
	}
	if _, err := LookupArch(opts.Arch); err != nil {
		return nil, nil, err
	}
	component := opts.Component
	if component == "" {
		component = "main"
	}
	kf, _, err := fsutil.OpenInput("--keyring", opts.Keyring, fsutil.MaxSmallFileSize)
	if err != nil {
		return nil, nil, fmt.Errorf("%w; install debian-archive-keyring or pass --keyring", err)
	}
	keyring, err := deb.ReadKeyring(kf)
	kf.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("keyring %s: %w", opts.Keyring, err)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	var (
		indexes []*deb.Index
		locked  []deb.LockedIndex
	)
	for _, suite := range suitesFor(opts) {
		idx, li, err := fetchIndex(ctx, f, suite, component, opts, keyring, now)
		if err != nil {
			return nil, nil, err
		}
		indexes = append(indexes, idx)
		locked = append(locked, li)
	}
	u, err := deb.NewUniverse(opts.Arch, indexes...)
	if err != nil {
		return nil, nil, err
	}
	return u, locked, nil
}

// resolveLock resolves the run-time closure, then the dev closure on top
// of it, into a lockfile.
func resolveLock(pr *Progress, u *deb.Universe, indexes []deb.LockedIndex, opts LockOptions) (*deb.Lockfile, error) {
	lock := &deb.Lockfile{
		SchemaVersion: deb.LockSchemaVersion,
		Suite:         opts.Suite,
		Arch:          opts.Arch,
		Requested:     slices.Clone(opts.Packages),
		DevRequested:  slices.Clone(opts.DevPackages),
		Exclude:       slices.Clone(opts.Exclude),
		Indexes:       indexes,
	}
	reqs, err := parseRequests(opts.Packages)
	if err != nil {
		return nil, err
	}
	pr.Phasef("resolving %s", strings.Join(opts.Packages, " "))
	runtime, err := u.Resolve(reqs, deb.ResolveOptions{Exclude: opts.Exclude})
	if err != nil {
		return nil, err
	}
	for _, p := range runtime {
		lock.Packages = append(lock.Packages, deb.Lock(p, false))
	}
	if len(opts.DevPackages) > 0 {
		dreqs, err := parseRequests(opts.DevPackages)
		if err != nil {
			return nil, err
		}
		all, err := u.Resolve(dreqs, deb.ResolveOptions{Exclude: opts.Exclude, Base: runtime})
		if err != nil {
			return nil, fmt.Errorf("dev flavour: %w", err)
		}
		for _, p := range all {
			if !slices.Contains(runtime, p) {
				lock.Packages = append(lock.Packages, deb.Lock(p, true))
			}
		}
	}
	slices.SortFunc(lock.Packages, func(a, b deb.LockedPackage) int { return strings.Compare(a.Name, b.Name) })
	return lock, nil
}

// parseRequests reads -p values, each "name" or "name=version".
func parseRequests(ss []string) ([]deb.Request, error) {
	var out []deb.Request
	for _, s := range ss {
		r, err := deb.ParseRequest(s)
		if err != nil {
			return nil, fmt.Errorf("package %q: %w", s, err)
		}
		if r.String() != s {
			// "name=" would silently lock the newest version.
			return nil, fmt.Errorf("package %q: empty version after '='", s)
		}
		out = append(out, r)
	}
	return out, nil
}

// fetchIndex downloads and checks InRelease, then the Packages index it
// lists, and parses it.
func fetchIndex(ctx context.Context, f *Fetcher, suite, component string, opts LockOptions, keyring openpgp.EntityList, now time.Time) (*deb.Index, deb.LockedIndex, error) {
	var li deb.LockedIndex
	data, err := f.FetchBytes(ctx, "dists/"+suite+"/InRelease")
	if err != nil {
		return nil, li, fmt.Errorf("suite %s: %w", suite, err)
	}
	rel, err := deb.ParseInRelease(data, deb.VerifyOptions{Keyring: keyring, Now: now, AllowExpired: opts.AllowExpired})
	if err != nil {
		return nil, li, fmt.Errorf("suite %s: InRelease: %w", suite, err)
	}
	if rel.Expired(now) {
		f.Progress.Phasef("warning: suite %s: Release expired on %s; accepted because of --allow-expired-release (signature by %q checked)",
			suite, rel.ValidUntil.Format(time.RFC1123), rel.Signer)
	}
	if !slices.Contains(rel.Architectures, opts.Arch) {
		return nil, li, fmt.Errorf("suite %s: unknown architecture %q; the suite has: %s", suite, opts.Arch, strings.Join(rel.Architectures, " "))
	}
	if !slices.Contains(rel.Components, component) {
		return nil, li, fmt.Errorf("suite %s: no component %q; the suite has: %s", suite, component, strings.Join(rel.Components, " "))
	}
	path := component + "/binary-" + opts.Arch + "/Packages.xz"
	file, ok := rel.Files[path]
	if !ok {
		return nil, li, fmt.Errorf("suite %s: Release lists no %s", suite, path)
	}
	f.Progress.Phasef("reading index %s/%s (%s, %s)", suite, path, rel.Date.Format(time.RFC1123), humanSize(file.Size))
	fetchPath := "dists/" + suite + "/" + path
	if rel.AcquireByHash {
		// The by-hash name cannot change under us between the Release
		// and the index, whatever the mirror does meanwhile.
		byHash := "dists/" + suite + "/" + component + "/binary-" + opts.Arch + "/by-hash/SHA256/" + file.SHA256
		if p, err := f.Fetch(ctx, byHash, file.Size, file.SHA256); err == nil {
			return parseIndexFile(p, suite, rel, file, path)
		} else if !errors.Is(err, errNotFound) {
			return nil, li, fmt.Errorf("suite %s: %w", suite, err)
		}
	}
	p, err := f.Fetch(ctx, fetchPath, file.Size, file.SHA256)
	if err != nil {
		return nil, li, fmt.Errorf("suite %s: %w", suite, err)
	}
	return parseIndexFile(p, suite, rel, file, path)
}

func parseIndexFile(p, suite string, rel *deb.Release, file deb.IndexFile, path string) (*deb.Index, deb.LockedIndex, error) {
	li := deb.LockedIndex{
		Suite: rel.Suite, Codename: rel.Codename,
		Date:         rel.Date.UTC().Format(time.RFC1123),
		NotAutomatic: rel.NotAutomatic,
		Path:         path, Size: file.Size, SHA256: file.SHA256,
	}
	fh, err := os.Open(p)
	if err != nil {
		return nil, li, err
	}
	defer fh.Close()
	zr, err := xz.NewReader(bufio.NewReaderSize(fh, 1<<16))
	if err != nil {
		return nil, li, fmt.Errorf("suite %s: %s: %w", suite, path, err)
	}
	idx, err := deb.ParseIndex(zr, suite)
	if err != nil {
		return nil, li, err
	}
	idx.NotAutomatic = rel.NotAutomatic
	return idx, li, nil
}
