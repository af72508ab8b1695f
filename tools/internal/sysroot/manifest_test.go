package sysroot

import (
	"bytes"
	"reflect"
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
		{`"type":"dir","mode":"0755"`, `"type":"symlink","mode":"0777"`, "usr/lib: symlink without a target"},
	} {
		if _, err := ParseManifest([]byte(strings.Replace(good, c.from, c.to, 1))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.to, err, c.want)
		}
	}
}

func TestManifestSymlinks(t *testing.T) {
	m := &Manifest{Files: []ManifestFile{
		{Path: "lib", Type: "symlink", Mode: "0777", Target: "usr/lib"},
		{Path: "usr", Type: "dir", Mode: "0755"},
		{Path: "usr/lib/x86_64-linux-gnu/libz.so.1", Type: "symlink", Mode: "0777", Target: "libz.so.1.2.13"},
		{Path: "usr/lib/x86_64-linux-gnu/libz.so.1.2.13", Type: "file", Mode: "0644", Size: 1, SHA256: "ab"},
	}}
	want := map[string]string{"/lib": "usr/lib", "/usr/lib/x86_64-linux-gnu/libz.so.1": "libz.so.1.2.13"}
	if got := m.Symlinks(); !reflect.DeepEqual(got, want) {
		t.Errorf("Symlinks() = %v, want %v", got, want)
	}
}

// FuzzParseManifest: whatever ParseManifest accepts, Marshal writes in a
// canonical form: it parses again, to the same manifest, and marshalling
// that gives the very same bytes.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"schema_version":1,"label":"v1","glibc":"2.36","files":[{"path":"a","type":"file","mode":"0644","size":1,"sha256":"x"}]}`))
	f.Add([]byte(`{"schema_version":1,"label":"v1","arch":"amd64","triplet":"x86_64-linux-gnu","glibc":"2.36","glibcxx":"3.4.30","loader":"lib64/ld-linux-x86-64.so.2","flavour":"dev","suite":"bookworm",` +
		`"indexes":[{"suite":"bookworm","codename":"bookworm","date":"Sat, 10 Feb 2024 09:24:31 UTC","not_automatic":true,"path":"main/binary-amd64/Packages.xz","size":8,"sha256":"ab"}],` +
		`"packages":[{"name":"libc6","version":"2.36-9","architecture":"amd64","sha256":"cd"}],` +
		`"files":[{"path":"usr/lib","type":"dir","mode":"0755"},{"path":"usr/lib/l","type":"symlink","mode":"0777","target":"../x"}]}`))
	// Spellings that decode to the same manifest: escapes, invalid UTF-8,
	// keys in another case, a repeated key, null lists, trailing text.
	f.Add([]byte("{\"Schema_Version\":1,\"label\":\"<a&b>\\u2028\xff\",\"label\":\"\\u00e9\\ud800\",\"glibc\":\"2.41\",\"files\":null,\"packages\":[]} trailing"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseManifest(out)
		if err != nil {
			t.Fatalf("marshalled manifest does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("manifest changed in a round trip:\n%+v\n%+v", m, m2)
		}
		out2, err := m2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("marshal, parse, marshal is not stable:\n%s\n%s", out, out2)
		}
	})
}
