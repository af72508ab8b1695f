package sysroot

import (
	"strings"
	"testing"
)

func TestParseManifestErrors(t *testing.T) {
	good := `{"schema_version":1,"label":"v1","arch":"amd64","triplet":"x86_64-linux-gnu","glibc":"2.36","loader":"lib64/ld-linux-x86-64.so.2","flavour":"runtime","suite":"bookworm","indexes":[],"packages":[],"files":[{"path":"usr/lib","type":"dir","mode":"0755"}]}`
	m, err := ParseManifest([]byte(good))
	if err != nil || m.Compat().Glibc != "2.36" || m.Compat().Label != "v1" {
		t.Fatal(m, err)
	}
	for _, c := range []struct{ from, to, want string }{
		{`"schema_version":1`, `"schema_version":2`, "schema_version 2"},
		{`"glibc":"2.36"`, `"glibc":"two"`, "is not a version"},
		{`"path":"usr/lib"`, `"path":"../etc"`, "not clean and relative"},
		{`"path":"usr/lib"`, `"path":"/etc"`, "not clean and relative"},
		{`"type":"dir"`, `"type":"fifo"`, "unknown file type"},
		{`"mode":"0755"`, `"mode":"rwx"`, "not octal"},
		{`"suite":"bookworm"`, `"suite":"bookworm","extra":1`, "unknown field"},
	} {
		if _, err := ParseManifest([]byte(strings.Replace(good, c.from, c.to, 1))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.to, err, c.want)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"schema_version":1,"label":"v1","glibc":"2.36","files":[{"path":"a","type":"file","mode":"0644","size":1,"sha256":"x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest(out); err != nil {
			t.Fatalf("marshalled manifest does not parse: %v", err)
		}
	})
}
