package deb

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// pkgs builds a Packages index from "name version arch ; Field: value ; ..."
// lines, filling in pool path, size and hash.
func pkgs(t *testing.T, suite string, lines ...string) *Index {
	t.Helper()
	var b strings.Builder
	for i, l := range lines {
		parts := strings.Split(l, ";")
		head := strings.Fields(parts[0])
		fmt.Fprintf(&b, "Package: %s\nVersion: %s\nArchitecture: %s\nFilename: pool/main/%s_%d.deb\nSize: 100\nSHA256: %064x\n", head[0], head[1], head[2], head[0], i, i+1)
		for _, f := range parts[1:] {
			b.WriteString(strings.TrimSpace(f) + "\n")
		}
		b.WriteString("\n")
	}
	idx, err := ParseIndex(strings.NewReader(b.String()), suite)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func names(ps []*Package) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Name+"="+p.Version.String())
	}
	return strings.Join(s, " ")
}

func resolve(t *testing.T, u *Universe, opts ResolveOptions, reqs ...string) ([]*Package, error) {
	t.Helper()
	var rs []Request
	for _, r := range reqs {
		q, err := ParseRequest(r)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, q)
	}
	return u.Resolve(rs, opts)
}

func TestResolve(t *testing.T) {
	idx := pkgs(t, "sid",
		"libc6 2.43-7 amd64 ; Depends: libgcc-s1, libc-gconv-modules-extra (= 2.43-7)",
		"libc6 2.41-1 amd64 ; Depends: libgcc-s1",
		"libc-gconv-modules-extra 2.43-7 amd64",
		"libgcc-s1 16.2.0-4 amd64 ; Depends: gcc-16-base (= 16.2.0-4), libc6 (>= 2.35) ; Provides: libgcc1 (= 1:16.2.0-4)",
		"gcc-16-base 16.2.0-4 amd64",
		"app 1.0 amd64 ; Pre-Depends: libgcc1 (>= 1:16) ; Depends: nosuch | libc6 (>= 2.40), python3:any, mta, tool:amd64",
		"python3 3.13 amd64 ; Multi-Arch: allowed",
		"exim4 4.98 amd64 ; Provides: mta",
		"postfix 3.9 amd64 ; Provides: mta",
		"tool 1 all",
		"armonly 1 arm64",
	)
	u, err := NewUniverse("amd64", idx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := resolve(t, u, ResolveOptions{}, "app")
	if err != nil {
		t.Fatal(err)
	}
	want := "app=1.0 exim4=4.98 gcc-16-base=16.2.0-4 libc-gconv-modules-extra=2.43-7 libc6=2.43-7 libgcc-s1=16.2.0-4 python3=3.13 tool=1"
	if names(got) != want {
		t.Fatalf("got  %s\nwant %s", names(got), want)
	}
	// An exact version request.
	got, err = resolve(t, u, ResolveOptions{}, "libc6=2.41-1")
	if err != nil || names(got) != "gcc-16-base=16.2.0-4 libc6=2.41-1 libgcc-s1=16.2.0-4" {
		t.Fatalf("pinned: %s %v", names(got), err)
	}
	// Excluding a package satisfies relations on it.
	got, err = resolve(t, u, ResolveOptions{Exclude: []string{"libgcc-s1"}}, "libc6")
	if err != nil || names(got) != "libc-gconv-modules-extra=2.43-7 libc6=2.43-7" {
		t.Fatalf("exclude: %s %v", names(got), err)
	}
	// Base packages stay as chosen.
	base, _ := resolve(t, u, ResolveOptions{}, "libc6=2.41-1")
	got, err = resolve(t, u, ResolveOptions{Base: base}, "libgcc-s1")
	if err != nil || names(got) != "gcc-16-base=16.2.0-4 libc6=2.41-1 libgcc-s1=16.2.0-4" {
		t.Fatalf("base: %s %v", names(got), err)
	}
}

func TestResolveErrors(t *testing.T) {
	idx := pkgs(t, "bookworm",
		"aa 1 amd64 ; Depends: bb (>= 2)",
		"bb 1 amd64",
		"cc 1 amd64 ; Depends: dd",
		"dd 1 amd64 ; Depends: ee",
		"ee 1 amd64 ; Depends: ff (>> 3) | gg",
		"cyc1 1 amd64 ; Depends: cyc2",
		"cyc2 1 amd64 ; Depends: cyc3 (>= 1)",
		"cyc3 1 amd64 ; Pre-Depends: cyc1",
		"hh 1 amd64 ; Depends: virt (>= 2)",
		"pp 1 amd64 ; Provides: virt",
		"br 1 amd64 ; Depends: bb ; Breaks: bb (<< 2)",
		"cf 1 amd64 ; Depends: pp ; Conflicts: virt",
		"arm 1 amd64 ; Depends: bb:arm64",
	)
	u, err := NewUniverse("amd64", idx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		req  string
		want string
	}{
		{"nosuch", "package nosuch is not in the index of bookworm (amd64)"},
		{"aa=9", "package aa version 9 is not in the index of bookworm (amd64); available: 1 (bookworm)"},
		{"aa", "bb (>= 2) (Depends of aa 1) cannot be satisfied: bb has only 1 (bookworm)"},
		{"cc", "ff (>> 3) | gg (Depends of cc 1 -> dd 1 -> ee 1) cannot be satisfied: no package ff"},
		{"hh", "virt (>= 2) (Depends of hh 1) cannot be satisfied: no provider fits (pp 1 provides virt)"},
		{"br", "br 1 breaks bb (<< 2), but bb 1 was chosen"},
		{"cf", "cf 1 conflicts virt, but pp 1 (provides virt) was chosen"},
		{"arm", "bb:arm64 (Depends of arm 1) cannot be satisfied"},
	} {
		_, err := resolve(t, u, ResolveOptions{}, c.req)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v\nwant %q", c.req, err, c.want)
		}
	}
	var nf *NotFoundError
	if _, err := resolve(t, u, ResolveOptions{}, "nosuch"); !errors.As(err, &nf) {
		t.Errorf("not a NotFoundError: %v", err)
	}
	// A cycle ends.
	done := make(chan error, 1)
	go func() {
		got, err := resolve(t, u, ResolveOptions{}, "cyc1")
		if err == nil && names(got) != "cyc1=1 cyc2=1 cyc3=1" {
			err = fmt.Errorf("got %s", names(got))
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Depends cycle: resolution did not end")
	}
	if _, err := resolve(t, u, ResolveOptions{Exclude: []string{"aa"}}, "aa"); err == nil {
		t.Error("requested and excluded accepted")
	}
}

// TestResolveNotAutomatic: experimental on top of sid takes requested
// packages from experimental, dependencies from sid unless only
// experimental satisfies them.
func TestResolveNotAutomatic(t *testing.T) {
	exp := pkgs(t, "experimental",
		"libc6 2.44-3 amd64 ; Depends: libgcc-s1, libc-gconv-modules-extra (= 2.44-3)",
		"libc-gconv-modules-extra 2.44-3 amd64",
		"libgcc-s1 17-1 amd64",
		"legacy 4.0 amd64 ; Depends: libssl4",
	)
	exp.NotAutomatic = true
	sid := pkgs(t, "unstable",
		"libc6 2.43-7 amd64 ; Depends: libgcc-s1",
		"libc-gconv-modules-extra 2.43-7 amd64",
		"libgcc-s1 16.2.0-4 amd64",
		"libssl3t64 3.6.5-1 amd64 ; Depends: legacy",
		"legacy 3.6.5-1 amd64 ; Depends: libssl3t64 (>= 3.6.0)",
	)
	u, err := NewUniverse("amd64", exp, sid)
	if err != nil {
		t.Fatal(err)
	}
	got, err := resolve(t, u, ResolveOptions{}, "libc6", "libssl3t64")
	if err != nil {
		t.Fatal(err)
	}
	want := "legacy=3.6.5-1 libc-gconv-modules-extra=2.44-3 libc6=2.44-3 libgcc-s1=16.2.0-4 libssl3t64=3.6.5-1"
	if names(got) != want {
		t.Fatalf("got  %s\nwant %s", names(got), want)
	}
	for _, p := range got {
		if wantSuite := map[bool]string{true: "experimental", false: "unstable"}[strings.HasPrefix(p.Version.String(), "2.44")]; p.Suite != wantSuite {
			t.Errorf("%s from %s", p.ID(), p.Suite)
		}
	}
}

func TestParseIndexErrors(t *testing.T) {
	base := "Package: aa\nVersion: 1\nArchitecture: amd64\nFilename: pool/a.deb\nSize: 10\nSHA256: " + strings.Repeat("a", 64) + "\n"
	if _, err := ParseIndex(strings.NewReader(base), "s"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, to string }{
		{"Version: 1", "Version: x"},
		{"Filename: pool/a.deb", "Filename: ../../etc/passwd"},
		{"Filename: pool/a.deb", "Filename: /etc/passwd"},
		{"Size: 10", "Size: -1"},
		{"SHA256: a", "SHA256: z"},
		{"Architecture: amd64\n", ""},
		{"Package: aa", "Package: Aa"},
	} {
		in := strings.Replace(base, c.from, c.to, 1)
		if _, err := ParseIndex(strings.NewReader(in), "s"); err == nil {
			t.Errorf("%q -> %q accepted", c.from, c.to)
		}
	}
}

// isDebianName is an independent check of policy §5.6.1: at least two of
// [a-z0-9+.-], starting with a letter or digit.
func isDebianName(s string) bool {
	if len(s) < 2 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func FuzzParseIndex(f *testing.F) {
	f.Add("Package: aa\nVersion: 1:2.0-1\nArchitecture: amd64\nFilename: pool/a.deb\nSize: 10\nSHA256: " + strings.Repeat("A", 64) + "\nDepends: b\n\n" +
		"Package: bb\nVersion: 1\nArchitecture: all\nFilename: pool/main/b/bb.deb\nSize: 1\nSHA256: " + strings.Repeat("0", 64) + "\nEssential: yes\n")
	f.Add("Package: aa\nVersion: 1\nArchitecture: amd64\nFilename: ../a.deb\nSize: 10\nSHA256: " + strings.Repeat("a", 64) + "\n")
	f.Add("Package: aa\nVersion: 1\nArchitecture: amd64\nFilename: pool/a.deb\nSize: 0\nSHA256: " + strings.Repeat("a", 64) + "\n")
	f.Fuzz(func(t *testing.T, in string) {
		idx, err := ParseIndex(strings.NewReader(in), "s")
		if err != nil {
			if idx != nil {
				t.Fatalf("%q: an index and an error: %v", in, err)
			}
			return
		}
		// Each package takes six fields, each at least "X:".
		if len(idx.Packages) > strings.Count(in, ":")/6 {
			t.Fatalf("%q: %d packages", in, len(idx.Packages))
		}
		for _, p := range idx.Packages {
			if !isDebianName(p.Name) {
				t.Fatalf("%q: package name %q", in, p.Name)
			}
			vs := p.Version.String()
			if v, err := ParseVersion(vs); vs == "" || err != nil || CompareVersions(v, p.Version) != 0 {
				t.Fatalf("%q: %s: version %q (%v)", in, p.Name, vs, err)
			}
			if p.Architecture == "" || p.Suite != "s" || p.Size <= 0 {
				t.Fatalf("%q: package %+v", in, p)
			}
			if err := CheckPoolPath(p.Filename); err != nil || !isPlainRelPath(p.Filename) || !strings.Contains(in, p.Filename) {
				t.Fatalf("%q: %s: filename %q (%v)", in, p.Name, p.Filename, err)
			}
			if !isLowerHex64(p.SHA256) || !strings.Contains(strings.ToLower(in), p.SHA256) {
				t.Fatalf("%q: %s: sha256 %q", in, p.Name, p.SHA256)
			}
		}
	})
}

func FuzzCheckPoolPath(f *testing.F) {
	for _, s := range []string{"pool/main/g/glibc/libc6_2.41-12_amd64.deb", "pool/a..b.deb", "pool/../x", "/pool/x", "pool//x", "pool/./x", "pool\\x", "pool/x\x00", "pool/x?y", "dists/sid/InRelease", "pool"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if CheckPoolPath(p) != nil {
			return
		}
		if !isPlainRelPath(p) || !strings.HasPrefix(p, "pool/") {
			t.Fatalf("accepted %q", p)
		}
		// Appended to a mirror URL it names a file below the mirror, as is.
		u, err := url.Parse("http://mirror.invalid/debian/" + p)
		if err != nil || u.Path != "/debian/"+p || u.RawQuery != "" || u.Fragment != "" || u.Host != "mirror.invalid" {
			t.Fatalf("accepted %q, which is URL %+v (%v)", p, u, err)
		}
	})
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"libc6", "libc6=2.41-12", "a", "aa=", "aa==1", "Aa", "g++-14=1:14.2.0-19", "aa=1=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRequest(s)
		if err != nil {
			if r != (Request{}) {
				t.Fatalf("%q: request %+v and an error: %v", s, r, err)
			}
			return
		}
		if !isDebianName(r.Name) {
			t.Fatalf("%q: name %q", s, r.Name)
		}
		if r.Version != "" {
			if _, err := ParseVersion(r.Version); err != nil {
				t.Fatalf("%q: version %q: %v", s, r.Version, err)
			}
		}
		if r.String() != strings.TrimSuffix(s, "=") {
			t.Fatalf("%q printed as %q", s, r.String())
		}
		again, err := ParseRequest(r.String())
		if err != nil || again != r {
			t.Fatalf("%q printed as %q, which parses as %+v (%v)", s, r.String(), again, err)
		}
	})
}
