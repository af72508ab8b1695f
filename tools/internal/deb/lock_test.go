package deb

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestLockfileRoundTrip(t *testing.T) {
	l := &Lockfile{
		SchemaVersion: LockSchemaVersion, Suite: "trixie", Arch: "amd64", Requested: []string{"libc6"},
		Indexes: []LockedIndex{{Suite: "stable", Codename: "trixie", Date: "Sat, 21 Nov 2026 09:15:44 UTC", Path: "main/binary-amd64/Packages.xz", Size: 1, SHA256: strings.Repeat("b", 64)}},
		Packages: []LockedPackage{
			{Name: "zlib1g", Version: "1:1.3-1", Architecture: "amd64", Filename: "pool/main/z/zlib/z.deb", Size: 3, SHA256: strings.Repeat("c", 64), Suite: "trixie"},
			{Name: "libc6", Version: "2.41-12", Architecture: "amd64", Filename: "pool/main/g/glibc/l.deb", Size: 2, SHA256: strings.Repeat("d", 64), Suite: "trixie", Dev: true},
		},
	}
	a, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseLockfile(a)
	if err != nil {
		t.Fatal(err)
	}
	if back.Packages[0].Name != "libc6" || !back.HasDev() {
		t.Fatalf("not sorted or lost dev: %+v", back.Packages)
	}
	b, _ := back.Marshal()
	if !bytes.Equal(a, b) {
		t.Fatalf("not stable:\n%s\n%s", a, b)
	}
	if bytes.Contains(a, []byte("http")) {
		t.Fatal("lock names a URL")
	}
	good := string(a)
	for _, c := range []struct{ from, to, want string }{
		{`"schema_version": 1`, `"schema_version": 9`, "schema_version 9"},
		{`"filename": "pool/main/z/zlib/z.deb"`, `"filename": "pool/../../x.deb"`, "pool path"},
		{`"version": "2.41-12"`, `"version": "x"`, "must start with a digit"},
		{strings.Repeat("c", 64), strings.Repeat("C", 64), "not 64 lower-case hex"},
		{`"name": "zlib1g"`, `"name": "libc6"`, "listed twice"},
		{`"size": 3`, `"size": 0`, "size 0"},
		{`"arch": "amd64"`, `"arch": "arm64"`, "architecture \"amd64\" in a lock for \"arm64\""},
		{`"suite": "trixie",`, `"suite": "trixie", "mirror": "x",`, "unknown field"},
	} {
		in := strings.Replace(good, c.from, c.to, 1)
		if _, err := ParseLockfile([]byte(in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.to, err, c.want)
		}
	}
}

func FuzzParseLockfile(f *testing.F) {
	f.Add([]byte(`{"schema_version":1,"suite":"s","arch":"amd64","requested":["a"],"indexes":[],"packages":[{"name":"aa","version":"1","architecture":"amd64","filename":"pool/a.deb","size":1,"sha256":"` + strings.Repeat("a", 64) + `","suite":"s"}]}`))
	f.Add([]byte(`{"schema_version":1,"arch":"amd64","requested":null,"indexes":null,"packages":[` +
		`{"name":"bb","version":"1:2-3","architecture":"all","filename":"pool/b.deb","size":2,"sha256":"` + strings.Repeat("b", 64) + `","dev":true},` +
		`{"name":"aa","version":"1","architecture":"amd64","filename":"pool/a.deb","size":1,"sha256":"` + strings.Repeat("a", 64) + `"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLockfile(data)
		if err != nil {
			return
		}
		out, err := l.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseLockfile(out)
		if err != nil {
			t.Fatalf("marshalled lock does not parse: %v\n%s", err, out)
		}
		// Marshal gives the canonical form: writing what it wrote, read
		// back, gives the same bytes.
		again, err := back.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("not canonical:\n%s\nthen\n%s", out, again)
		}
		sorted := slices.IsSortedFunc(back.Packages, func(a, b LockedPackage) int { return strings.Compare(a.Name, b.Name) })
		if !sorted || len(back.Packages) != len(l.Packages) || back.HasDev() != l.HasDev() {
			t.Fatalf("round trip changed the packages:\n%s", out)
		}
	})
}
