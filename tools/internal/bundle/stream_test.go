package bundle

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

// streamCase is one bundle built both ways by checkStreamEqualsStaged.
type streamCase struct {
	name   string
	inputs []string
	opts   Options
	ext    string
}

// TestStreamEqualsStaged builds archives and single files both ways,
// straight from the plan (the default) and through a staging directory
// archived afterwards, and wants the same bytes: the in-memory manifest,
// hard links, records and self-check agree with the directory's. Its
// programs are built here, so it runs wherever the package's tests do
// (Bazel's remote workers have no Python, git or perl).
func TestStreamEqualsStaged(t *testing.T) {
	work := t.TempDir()
	app := buildApp(t, work)
	other := filepath.Join(work, "other")
	gcc(t, work, "-o", other, "app.c", "-Llibs", "-lgreet", "-Wl,-rpath,"+filepath.Join(work, "libs"))
	checkStreamEqualsStaged(t, []streamCase{
		{"app", []string{app}, Options{HostLibs: HostLibsFallback}, ".tar"},
		{"app-prefix", []string{app}, Options{Prefix: "app", MTime: time.Unix(1700000000, 0)}, ".tar.gz"},
		{"app-run", []string{app}, Options{}, ".run"},
		// Two programs: their launchers are one file, hard-linked.
		{"two", []string{app, other}, Options{}, ".tar"},
		{"app-closed", []string{app}, Options{EnforceChecksums: true, TraceRecord: []byte("trace\n")}, ".tar.zst"},
	})
}

// TestStreamEqualsStagedHostPrograms is TestStreamEqualsStaged for this
// machine's git, python3 and perl, with locales and Python's own modules.
// It runs with `go test` on the host (tests/run_all.sh); the Bazel target
// skips it, since remote workers have none of these programs.
func TestStreamEqualsStagedHostPrograms(t *testing.T) {
	checkStreamEqualsStaged(t, []streamCase{
		{"git", []string{"/usr/bin/git", "/usr/bin/git-shell"}, Options{}, ".tar"},
		{"git-closed", []string{"/usr/bin/git"}, Options{EnforceChecksums: true, TraceRecord: []byte("trace\n"), Locales: []string{"C.UTF-8"}}, ".tar.zst"},
		// Python's own modules, whichever Python this machine has.
		{"python3-stdlib", []string{"/usr/bin/python3"}, Options{Adds: []Add{{Src: pythonLib(t, "json")}, {Src: pythonLib(t, "lib-dynload")}}}, ".tar"},
		{"perl", []string{"/usr/bin/perl"}, Options{}, ".tar.gz"},
	})
}

func checkStreamEqualsStaged(t *testing.T, cases []streamCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			streamed := filepath.Join(dir, "streamed"+c.ext)
			staged := filepath.Join(dir, "staged"+c.ext)
			rs, err := Build(streamed, c.inputs, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			stageArchives = true
			rd, err := Build(staged, c.inputs, c.opts)
			stageArchives = false
			if err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(streamed)
			b, _ := os.ReadFile(staged)
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("streamed %s (%d bytes) differs from staged (%d bytes)", c.ext, len(a), len(b))
			}
			if rs.Files != rd.Files || rs.Bytes != rd.Bytes {
				t.Errorf("streamed counts %d files, %d bytes; staged %d, %d", rs.Files, rs.Bytes, rd.Files, rd.Bytes)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// pythonLib returns the directory name of this machine's Python 3
// library, failing the test when there is not exactly one.
func pythonLib(t *testing.T, name string) string {
	t.Helper()
	m, _ := filepath.Glob("/usr/lib/python3.*/" + name)
	if len(m) != 1 {
		t.Fatalf("want one /usr/lib/python3.*/%s on this machine, found %v", name, m)
	}
	return m[0]
}

// TestStreamSourceChanged: a source that changes between the read that
// hashed it and the read that archives it fails the build, and no
// archive appears.
func TestStreamSourceChanged(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "data.txt")
	writeFile(t, src, strings.Repeat("a", 100000), 0o644)
	it := &item{dest: "share/data.txt", kind: kindFile, src: src, size: 100000, why: "test"}
	b := &builder{}
	w, err := b.hashFile(it, make([]byte, 4096))
	if err != nil {
		t.Fatal(err)
	}
	read := func() error {
		rc, err := openChecked(it, w)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(io.Discard, rc)
		return err
	}
	if err := read(); err != nil {
		t.Fatalf("unchanged source: %v", err)
	}
	// Same size, other bytes: caught by the hash on the last read.
	writeFile(t, src, strings.Repeat("a", 99999)+"b", 0o644)
	if err := read(); err == nil || !strings.Contains(err.Error(), "changed while bundling") {
		t.Errorf("same size, other bytes: got %v", err)
	}
	// Another size: caught on open.
	writeFile(t, src, "short", 0o644)
	if err := read(); err == nil || !strings.Contains(err.Error(), "changed while bundling") {
		t.Errorf("other size: got %v", err)
	}
	// A patched ELF whose source changes after hashing.
	prog := filepath.Join(dir, "true")
	data, err := os.ReadFile("/usr/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, prog, string(data), 0o755)
	it = &item{dest: "libexec/true", kind: kindFile, src: prog, size: int64(len(data)), exec: true, why: "test",
		patch: &elf.PatchOptions{Interpreter: "/x/ld.so", InterpSlot: SlotSize}}
	if w, err = b.hashFile(it, nil); err != nil {
		t.Fatal(err)
	}
	if err := read(); err != nil {
		t.Fatalf("unchanged ELF: %v", err)
	}
	data[len(data)-1] ^= 1
	writeFile(t, prog, string(data), 0o755)
	if err := read(); err == nil || !strings.Contains(err.Error(), "changed while bundling") {
		t.Errorf("changed ELF: got %v", err)
	}
}
