package manifest

import (
	"bytes"
	"strings"
	"testing"
)

const fuzzSeed = `{
  "schema_version": 1,
  "generator": "rules_portable",
  "arch": "x86_64",
  "loader": "lib/ld-linux-x86-64.so.2",
  "interp_placeholder": "/.portable-unrelocated/lib/ld-linux-x86-64.so.2",
  "libc": {"version": "2.36", "root": "host", "max_needed": "GLIBC_2.34"},
  "entry_points": [{"name": "a", "launcher": "bin/a", "target": "libexec/a"}],
  "files": [
    {"path": "bin", "type": "dir", "mode": "0755"},
    {"path": "bin/a", "type": "file", "mode": "0755", "size": 3, "sha256": "` + "0000000000000000000000000000000000000000000000000000000000000000" + `"},
    {"path": "libexec/a", "type": "file", "mode": "0755", "size": 9000, "sha256": "` + "1111111111111111111111111111111111111111111111111111111111111111" + `", "interp_slot": {"offset": 680, "size": 4096}},
    {"path": "lib/x", "type": "symlink", "mode": "0777", "link": "y"}
  ]
}
`

// FuzzParse: Parse never panics, and whatever it accepts survives a
// Marshal/Parse round trip unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(fuzzSeed))
	f.Add([]byte(strings.Replace(fuzzSeed, `"bin/a"`, `"../a"`, 1)))
	f.Add([]byte(strings.Replace(fuzzSeed, `"arch": "x86_64",`, `"arch": "x86_64", "relocated_as": "/opt/app",`, 1)))
	f.Add([]byte(strings.Replace(fuzzSeed, `"arch": "x86_64",`, `"arch": "x86_64", "relocated_as": "opt//app/",`, 1)))
	f.Add([]byte(strings.Replace(fuzzSeed, `"mode": "0755", "size": 3`, `"mode": "4755", "size": 3`, 1)))
	f.Add([]byte(strings.Replace(fuzzSeed, `"link": "y"`, `"link": "\udcff"`, 1)))
	f.Add([]byte(`{"schema_version": 2}`))
	f.Add([]byte(`{"schema_version": 1, "files": [{"path": "a", "type": "file", "mode": "99999"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("accepted manifest does not marshal: %v", err)
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		out2, err := m2.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("round trip differs: %v", err)
		}
	})
}
