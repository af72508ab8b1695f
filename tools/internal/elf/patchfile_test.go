package elf

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPatchFileMatchesPatch: PatchFile (mapped input, cloned or
// kernel-copied output with the changed ranges written over it) gives
// the bytes Patch gives in memory, for new segments, in-place changes,
// repatching and no change at all, in place and with -o.
func TestPatchFileMatchesPatch(t *testing.T) {
	long := "/" + strings.Repeat("long-loader-dir/", 10) + "ld-linux-x86-64.so.2"
	cases := []struct {
		name string
		opts PatchOptions
	}{
		{"long interpreter and rpath", PatchOptions{Interpreter: long, SetRPath: true, RPath: strings.Repeat("/r", 70)}},
		{"short rpath", PatchOptions{SetRPath: true, RPath: "$ORIGIN"}},
		{"runpath removed", PatchOptions{SetRunPath: true}},
		{"interp slot", PatchOptions{InterpSlot: 4096}},
		{"audit", PatchOptions{SetAudit: true, Audit: "$ORIGIN/../a.so"}},
		{"nothing changes", PatchOptions{Interpreter: "/lib64/ld-linux-x86-64.so.2"}},
	}
	inputs := []string{"/bin/true", "/usr/bin/gdb", "/usr/lib/x86_64-linux-gnu/libz.so.1"}
	dir := t.TempDir()
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatalf("%s: %v (tests/host-packages.txt installs gdb)", in, err)
		}
		for _, c := range cases {
			if (c.opts.Interpreter != "" || c.opts.InterpSlot > 0) && strings.Contains(in, ".so") {
				continue
			}
			want, err := Patch(data, c.opts)
			if err != nil {
				t.Fatalf("%s, %s: Patch: %v", in, c.name, err)
			}
			out := filepath.Join(dir, "out")
			changed, err := PatchFile(in, out, c.opts)
			if err != nil {
				t.Fatalf("%s, %s: PatchFile: %v", in, c.name, err)
			}
			if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
				t.Errorf("%s, %s: PatchFile's -o output (%d bytes) differs from Patch's (%d bytes)", in, c.name, len(got), len(want))
			}
			if changed != !bytes.Equal(want, data) {
				t.Errorf("%s, %s: changed = %v", in, c.name, changed)
			}
			// Again, in place on the patched copy, with other values:
			// the segment of the first patch is rebuilt.
			again := PatchOptions{Interpreter: long + "x", SetRPath: true, RPath: "/x"}
			if strings.Contains(in, ".so") {
				again = PatchOptions{SetRPath: true, RPath: strings.Repeat("/y", 100)}
			}
			want2, err := Patch(want, again)
			if err != nil {
				t.Fatalf("%s, %s: Patch again: %v", in, c.name, err)
			}
			if _, err := PatchFile(out, "", again); err != nil {
				t.Fatalf("%s, %s: PatchFile in place: %v", in, c.name, err)
			}
			if got, _ := os.ReadFile(out); !bytes.Equal(got, want2) {
				t.Errorf("%s, %s: PatchFile in place (%d bytes) differs from Patch (%d bytes)", in, c.name, len(got), len(want2))
			}
		}
	}
}
