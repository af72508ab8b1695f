package deb

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Universe is the set of packages a resolution may choose from: one or
// more indexes of one architecture, plus "all".
type Universe struct {
	arch      string
	byName    map[string][]*Package // newest first
	providers map[string][]provision
	suites    []string
	notAuto   map[string]bool // suites marked NotAutomatic
}

type provision struct {
	pkg *Package
	rel Relation // the Provides entry: Op is OpAny or OpEq
}

// NewUniverse indexes the packages of arch (and of architecture "all")
// from the given indexes. Packages of other architectures are ignored.
func NewUniverse(arch string, indexes ...*Index) (*Universe, error) {
	u := &Universe{arch: arch, byName: map[string][]*Package{}, providers: map[string][]provision{}, notAuto: map[string]bool{}}
	for _, idx := range indexes {
		u.suites = append(u.suites, idx.Suite)
		if idx.NotAutomatic {
			u.notAuto[idx.Suite] = true
		}
		for _, p := range idx.Packages {
			if p.Architecture != arch && p.Architecture != "all" {
				continue
			}
			u.byName[p.Name] = append(u.byName[p.Name], p)
			if p.Provides == "" {
				continue
			}
			rels, err := ParseRelations(p.Provides)
			if err != nil {
				return nil, fmt.Errorf("%s (%s): Provides: %w", p.ID(), p.Suite, err)
			}
			for _, alts := range rels {
				for _, r := range alts {
					if r.Op != OpAny && r.Op != OpEq {
						return nil, fmt.Errorf("%s (%s): Provides %s: only '=' is allowed in Provides", p.ID(), p.Suite, r)
					}
					u.providers[r.Name] = append(u.providers[r.Name], provision{pkg: p, rel: r})
				}
			}
		}
	}
	for _, ps := range u.byName {
		slices.SortStableFunc(ps, func(a, b *Package) int { return CompareVersions(b.Version, a.Version) })
	}
	return u, nil
}

// Arch is the architecture the universe was built for.
func (u *Universe) Arch() string { return u.arch }

// Request asks for a package, at an exact version or at the newest one.
type Request struct {
	Name    string
	Version string // "" for the newest
}

func (r Request) String() string {
	if r.Version == "" {
		return r.Name
	}
	return r.Name + "=" + r.Version
}

// ParseRequest reads "name" or "name=version".
func ParseRequest(s string) (Request, error) {
	name, ver, _ := strings.Cut(s, "=")
	if err := checkPackageName(name); err != nil {
		return Request{}, err
	}
	if ver != "" {
		if _, err := ParseVersion(ver); err != nil {
			return Request{}, err
		}
	}
	return Request{Name: name, Version: ver}, nil
}

// ResolveOptions tunes Resolve.
type ResolveOptions struct {
	// Exclude names packages (real or virtual) left out of the closure:
	// a relation naming one counts as satisfied.
	Exclude []string
	// Base are packages chosen by an earlier resolution, kept as they are;
	// the new requests are resolved on top of them.
	Base []*Package
}

// NotFoundError is returned for a requested package or version that the
// indexes do not have.
type NotFoundError struct {
	Request   Request
	Suites    []string
	Arch      string
	Available []string // versions present, when only the version is wrong
}

func (e *NotFoundError) Error() string {
	where := fmt.Sprintf("the index of %s (%s)", strings.Join(e.Suites, "+"), e.Arch)
	if len(e.Available) == 0 {
		return fmt.Sprintf("package %s is not in %s; check the name, the suite and the architecture", e.Request.Name, where)
	}
	return fmt.Sprintf("package %s version %s is not in %s; available: %s", e.Request.Name, e.Request.Version, where, strings.Join(e.Available, ", "))
}

// UnsatisfiableError is returned when no alternative of a dependency can
// be met. Chain lists the packages from a requested one down to the one
// whose field holds the relation.
type UnsatisfiableError struct {
	Relation string
	Field    string
	Chain    []string
	Reasons  []string
}

func (e *UnsatisfiableError) Error() string {
	return fmt.Sprintf("%s (%s of %s) cannot be satisfied: %s", e.Relation, e.Field, strings.Join(e.Chain, " -> "), strings.Join(e.Reasons, "; "))
}

// ConflictError is returned when two chosen packages break or conflict
// with each other.
type ConflictError struct {
	Pkg, Field, Relation, Other string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s %s, but %s was chosen; pin another version or exclude one of them", e.Pkg, strings.ToLower(e.Field), e.Relation, e.Other)
}

type resolver struct {
	u       *Universe
	exclude map[string]bool
	chosen  map[string]*Package // by package name
	parent  map[string]string
}

// Resolve returns the closure of reqs under Pre-Depends and Depends,
// sorted by name. Each package is chosen once, so cycles end. For each
// group of alternatives the first satisfiable one wins, preferring what is
// already chosen, then real packages over virtual ones, then indexes that
// are not NotAutomatic, then the newest version. A requested package takes
// its newest version from any index, as "apt install pkg/suite" would.
// Breaks and Conflicts among the chosen packages are errors.
func (u *Universe) Resolve(reqs []Request, opts ResolveOptions) ([]*Package, error) {
	r := &resolver{u: u, exclude: map[string]bool{}, chosen: map[string]*Package{}, parent: map[string]string{}}
	for _, x := range opts.Exclude {
		r.exclude[x] = true
	}
	for _, p := range opts.Base {
		r.chosen[p.Name] = p
	}
	var queue []*Package
	for _, req := range reqs {
		if r.exclude[req.Name] {
			return nil, fmt.Errorf("package %s is both requested and excluded", req.Name)
		}
		p, err := u.pick(req)
		if err != nil {
			return nil, err
		}
		if prev, ok := r.chosen[p.Name]; ok {
			if prev != p {
				return nil, fmt.Errorf("package %s requested as %s but %s is already chosen", req.Name, p.Version, prev.Version)
			}
			continue
		}
		r.add(p, "")
		queue = append(queue, p)
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, field := range []struct{ name, value string }{{"Pre-Depends", p.PreDepends}, {"Depends", p.Depends}} {
			rels, err := ParseRelations(field.value)
			if err != nil {
				return nil, fmt.Errorf("%s (%s): %s: %w", p.ID(), p.Suite, field.name, err)
			}
			for _, alts := range rels {
				next, err := r.satisfy(p, field.name, alts)
				if err != nil {
					return nil, err
				}
				if next != nil {
					queue = append(queue, next)
				}
			}
		}
	}
	if err := r.checkConflicts(); err != nil {
		return nil, err
	}
	out := make([]*Package, 0, len(r.chosen))
	for _, p := range r.chosen {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Package) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// pick finds the package a top-level request names.
func (u *Universe) pick(req Request) (*Package, error) {
	cands := u.byName[req.Name]
	if req.Version == "" {
		if len(cands) > 0 {
			return cands[0], nil
		}
		return nil, &NotFoundError{Request: req, Suites: u.suites, Arch: u.arch}
	}
	want, err := ParseVersion(req.Version)
	if err != nil {
		return nil, err
	}
	var avail []string
	for _, p := range cands {
		if CompareVersions(p.Version, want) == 0 {
			return p, nil
		}
		avail = append(avail, p.Version.String()+" ("+p.Suite+")")
	}
	if len(avail) == 0 {
		return nil, &NotFoundError{Request: Request{Name: req.Name}, Suites: u.suites, Arch: u.arch}
	}
	return nil, &NotFoundError{Request: req, Suites: u.suites, Arch: u.arch, Available: avail}
}

func (r *resolver) add(p *Package, parent string) {
	r.chosen[p.Name] = p
	r.parent[p.Name] = parent
}

func (r *resolver) chain(name string) []string {
	var c []string
	seen := map[string]bool{}
	for name != "" && !seen[name] {
		seen[name] = true
		if p, ok := r.chosen[name]; ok {
			c = append(c, p.Name+" "+p.Version.String())
		} else {
			c = append(c, name)
		}
		name = r.parent[name]
	}
	slices.Reverse(c)
	return c
}

// archOK applies an architecture qualifier to a candidate.
func (r *resolver) archOK(rel Relation, p *Package) bool {
	switch rel.ArchQual {
	case "", "any", "native":
		return true
	}
	return rel.ArchQual == r.u.arch || p.Architecture == "all"
}

func versionOK(rel Relation, v Version) bool {
	if rel.Op == OpAny {
		return true
	}
	return rel.Op.Satisfied(CompareVersions(v, rel.Version))
}

// providesOK reports whether a Provides entry meets rel: an unversioned
// Provides meets only unversioned relations.
func providesOK(rel Relation, pv provision) bool {
	if rel.Op == OpAny {
		return true
	}
	if pv.rel.Op != OpEq {
		return false
	}
	return rel.Op.Satisfied(CompareVersions(pv.rel.Version, rel.Version))
}

// satisfy meets one group of alternatives for p, returning the newly
// chosen package, or nil when the group was already met.
func (r *resolver) satisfy(p *Package, field string, alts Alternatives) (*Package, error) {
	var live Alternatives
	for _, rel := range alts {
		if !rel.AppliesTo(r.u.arch) {
			continue
		}
		if r.exclude[rel.Name] {
			return nil, nil
		}
		live = append(live, rel)
	}
	if len(live) == 0 {
		return nil, nil
	}
	// Already met by a chosen package?
	for _, rel := range live {
		if q, ok := r.chosen[rel.Name]; ok && versionOK(rel, q.Version) && r.archOK(rel, q) {
			return nil, nil
		}
		for _, pv := range r.u.providers[rel.Name] {
			if q, ok := r.chosen[pv.pkg.Name]; ok && q == pv.pkg && providesOK(rel, pv) {
				return nil, nil
			}
		}
	}
	var reasons []string
	for _, rel := range live {
		q, why := r.candidate(rel)
		if q != nil {
			r.add(q, p.Name)
			return q, nil
		}
		reasons = append(reasons, why)
	}
	return nil, &UnsatisfiableError{Relation: alts.String(), Field: field, Chain: r.chain(p.Name), Reasons: reasons}
}

// candidate picks a package for one relation, or says why there is none.
func (r *resolver) candidate(rel Relation) (*Package, string) {
	if q, ok := r.chosen[rel.Name]; ok {
		return nil, fmt.Sprintf("%s %s is already chosen", q.Name, q.Version)
	}
	var fallback *Package
	var seen []string
	for _, q := range r.u.byName[rel.Name] {
		seen = append(seen, q.Version.String()+" ("+q.Suite+")")
		if !versionOK(rel, q.Version) || !r.archOK(rel, q) {
			continue
		}
		if !r.notAutomatic(q) {
			return q, ""
		}
		if fallback == nil {
			fallback = q
		}
	}
	if fallback != nil {
		return fallback, ""
	}
	if len(seen) > 0 {
		return nil, fmt.Sprintf("%s has only %s", rel.Name, strings.Join(seen, ", "))
	}
	// Virtual package: collect providers not yet chosen under another version.
	var provs []provision
	for _, pv := range r.u.providers[rel.Name] {
		if !providesOK(rel, pv) || !r.archOK(rel, pv.pkg) {
			continue
		}
		if q, ok := r.chosen[pv.pkg.Name]; ok && q != pv.pkg {
			continue
		}
		provs = append(provs, pv)
	}
	if len(provs) == 0 {
		if len(r.u.providers[rel.Name]) > 0 {
			var names []string
			for _, pv := range r.u.providers[rel.Name] {
				names = append(names, pv.pkg.Name+" "+pv.pkg.Version.String()+" provides "+pv.rel.String())
			}
			return nil, fmt.Sprintf("no provider fits (%s)", strings.Join(names, ", "))
		}
		return nil, fmt.Sprintf("no package %s or provider of it in %s (%s)", rel.Name, strings.Join(r.u.suites, "+"), r.u.arch)
	}
	slices.SortStableFunc(provs, func(a, b provision) int {
		if na, nb := r.notAutomatic(a.pkg), r.notAutomatic(b.pkg); na != nb {
			if na {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(a.pkg.Name, b.pkg.Name); c != 0 {
			return c
		}
		return CompareVersions(b.pkg.Version, a.pkg.Version)
	})
	return provs[0].pkg, ""
}

func (r *resolver) notAutomatic(p *Package) bool {
	return r.u.notAuto[p.Suite]
}

func (r *resolver) checkConflicts() error {
	names := make([]string, 0, len(r.chosen))
	for n := range r.chosen {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := r.chosen[n]
		for _, field := range []struct{ name, value string }{{"Breaks", p.Breaks}, {"Conflicts", p.Conflicts}} {
			rels, err := ParseRelations(field.value)
			if err != nil {
				return fmt.Errorf("%s (%s): %s: %w", p.ID(), p.Suite, field.name, err)
			}
			for _, alts := range rels {
				for _, rel := range alts {
					if !rel.AppliesTo(r.u.arch) {
						continue
					}
					if q, ok := r.chosen[rel.Name]; ok && q != p && versionOK(rel, q.Version) {
						return &ConflictError{Pkg: p.Name + " " + p.Version.String(), Field: field.name, Relation: rel.String(), Other: q.Name + " " + q.Version.String()}
					}
					for _, pv := range r.u.providers[rel.Name] {
						if q, ok := r.chosen[pv.pkg.Name]; ok && q == pv.pkg && q != p && providesOK(rel, pv) {
							return &ConflictError{Pkg: p.Name + " " + p.Version.String(), Field: field.name, Relation: rel.String(), Other: q.Name + " " + q.Version.String() + " (provides " + pv.rel.String() + ")"}
						}
					}
				}
			}
		}
	}
	return nil
}
