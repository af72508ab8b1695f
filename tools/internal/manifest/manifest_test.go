package manifest

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/testcc"
)

const loaderBase = "ld-linux-x86-64.so.2"

// slotInterp is a 4095-byte absolute path to the host loader: gcc writes
// it with its NUL as a 4096-byte PT_INTERP, the same slot size the bundler
// gives executables. The leading slashes are harmless to the kernel.
var slotInterp = strings.Repeat("/", 4095-len("/lib64/"+loaderBase)) + "/lib64/" + loaderBase

// buildSlotted compiles a tiny C program whose PT_INTERP is a 4096-byte slot.
func buildSlotted(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "hello.c")
	if err := os.WriteFile(src, []byte("#include <stdio.h>\nint main(void){puts(\"hello\");return 0;}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.Command(testcc.Path(t), "-O1", "-o", out, src, "-Wl,--dynamic-linker="+slotInterp)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	return out
}

type fixture struct {
	dir  string
	m    *Manifest
	slot Slot
}

// newBundle lays out a small bundle-shaped tree around a real slotted ELF
// and writes its manifest.
func newBundle(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	work := t.TempDir()
	bin := buildSlotted(t, work)
	for _, d := range []string{"bin", "libexec", "lib", ".portable", "share/empty"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "libexec/hello"), data, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "bin/hello"), []byte("launcher bytes"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "lib/libx.so.1"), []byte("library"), 0o644))
	must(t, os.Symlink("libx.so.1", filepath.Join(dir, "lib/libx.so")))
	f, err := elf.Open(filepath.Join(dir, "libexec/hello"))
	if err != nil {
		t.Fatal(err)
	}
	off, size, ok := f.InterpSlot()
	if !ok || size != 4096 {
		t.Fatalf("test binary slot: %d %d %v", off, size, ok)
	}
	slot := Slot{Offset: off, Size: size}
	files, err := Scan(dir, ScanOptions{Slots: map[string]Slot{"libexec/hello": slot}, Placeholder: slotInterp, Sources: map[string]string{"libexec/hello": "/work/hello"}})
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{
		SchemaVersion: SchemaVersion, Generator: "rules_portable", Arch: "x86_64",
		Loader: "lib/" + loaderBase, InterpPlaceholder: slotInterp,
		Libc:        Libc{Version: "2.36", Root: "host"},
		EntryPoints: []EntryPoint{{Name: "hello", Launcher: "bin/hello", Target: "libexec/hello"}},
		Files:       files,
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, Path), b, 0o644))
	return fixture{dir: dir, m: m, slot: slot}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeSlot(t *testing.T, p string, s Slot, content []byte) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(content, s.Offset); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyCleanAndRelocated(t *testing.T) {
	t.Parallel()
	fx := newBundle(t)
	m, err := Read(fx.dir)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := Verify(fx.dir, m)
	if err != nil || len(probs) != 0 {
		t.Fatalf("fresh bundle: %v %v", probs, err)
	}
	// The fresh slot hashes exactly like sha256sum of the file.
	e, _ := m.Lookup("libexec/hello")
	plain, _, err := HashFile(filepath.Join(fx.dir, "libexec/hello"), nil, "")
	if err != nil || plain != e.SHA256 {
		t.Errorf("normalised hash %s != plain hash %s", e.SHA256, plain)
	}
	// Relocated where it is: the bundle's own loader, NUL padded.
	slot, err := SlotBytes(filepath.Join(fx.dir, m.Loader), fx.slot.Size)
	must(t, err)
	writeSlot(t, filepath.Join(fx.dir, "libexec/hello"), fx.slot, slot)
	// The lock the launcher creates is not an extra file.
	must(t, os.WriteFile(filepath.Join(fx.dir, LockPath), nil, 0o644))
	probs, err = Verify(fx.dir, m)
	if err != nil || len(probs) != 0 {
		t.Fatalf("relocated bundle: %v %v", probs, err)
	}
	// Pointed at a loader elsewhere: refused, unless that is where the
	// bundle is seen (--as) or where relocate --as recorded.
	slot, err = SlotBytes("/opt/apps/hello/lib/"+loaderBase, fx.slot.Size)
	must(t, err)
	writeSlot(t, filepath.Join(fx.dir, "libexec/hello"), fx.slot, slot)
	probs, err = Verify(fx.dir, m)
	if err != nil || len(probs) != 1 || !strings.Contains(probs[0].String(), "libexec/hello: changed: interp slot names /opt/apps/hello/lib/"+loaderBase+", which is not this bundle's loader") {
		t.Fatalf("slot naming another loader: %v %v", probs, err)
	}
	if probs, err = Verify(fx.dir, m, "/opt/apps/hello"); err != nil || len(probs) != 0 {
		t.Fatalf("seen as /opt/apps/hello: %v %v", probs, err)
	}
	recorded := *m
	recorded.RelocatedAs = "/opt/apps/hello"
	if probs, err = Verify(fx.dir, &recorded); err != nil || len(probs) != 0 {
		t.Fatalf("relocated --as /opt/apps/hello: %v %v", probs, err)
	}
	// And the relocated program still runs (the path is a real loader).
	hostSlot, _ := SlotBytes("/lib64/"+loaderBase, fx.slot.Size)
	writeSlot(t, filepath.Join(fx.dir, "libexec/hello"), fx.slot, hostSlot)
	out, err := exec.Command(filepath.Join(fx.dir, "libexec/hello")).Output()
	if err != nil || string(out) != "hello\n" {
		t.Fatalf("run relocated: %q %v", out, err)
	}
}

func TestVerifyReportsEveryProblem(t *testing.T) {
	t.Parallel()
	fx := newBundle(t)
	d := fx.dir
	p := func(s string) string { return filepath.Join(d, s) }
	// changed content outside the slot
	data, _ := os.ReadFile(p("libexec/hello"))
	data[len(data)-1] ^= 0xff
	must(t, os.WriteFile(p("libexec/hello"), data, 0o755))
	// changed file of the same size
	must(t, os.WriteFile(p("lib/libx.so.1"), []byte("LIBRARY"), 0o644))
	// missing
	must(t, os.Remove(p("bin/hello")))
	// extra
	must(t, os.WriteFile(p("lib/intruder"), []byte("x"), 0o644))
	// mode
	must(t, os.Chmod(p("share/empty"), 0o700))
	// type: symlink replaced by a file
	must(t, os.Remove(p("lib/libx.so")))
	must(t, os.WriteFile(p("lib/libx.so"), []byte("x"), 0o644))
	probs, err := Verify(d, fx.m)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pr := range probs {
		got = append(got, pr.Path+" "+pr.Kind.String())
	}
	want := []string{"bin/hello missing", "lib/intruder extra", "lib/libx.so type", "lib/libx.so.1 changed", "libexec/hello changed", "share/empty mode"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := Summary(probs); s != "2 changed, 1 missing, 1 extra, 1 mode, 1 type" {
		t.Errorf("summary %q", s)
	}
}

func TestVerifyChecksSlotContent(t *testing.T) {
	t.Parallel()
	cases := map[string][]byte{
		"relative":       []byte("lib/" + loaderBase + "\x00"),
		"other loader":   []byte("/lib/ld-musl-x86_64.so.1\x00"),
		"garbage after":  []byte("/x/lib/" + loaderBase + "\x00junk"),
		"no terminator!": bytes.Repeat([]byte("/"), 4096),
	}
	for name, content := range cases {
		fx := newBundle(t)
		slot := make([]byte, fx.slot.Size)
		copy(slot, content)
		writeSlot(t, filepath.Join(fx.dir, "libexec/hello"), fx.slot, slot)
		probs, err := Verify(fx.dir, fx.m)
		if err != nil || len(probs) != 1 || probs[0].Kind != Changed || !strings.Contains(probs[0].Detail, "interp slot") {
			t.Errorf("%s: %v %v", name, probs, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	fx := newBundle(t)
	good, err := fx.m.Marshal()
	must(t, err)
	cases := []struct {
		name, from, to, want string
	}{
		{"newer schema", `"schema_version": 1`, `"schema_version": 7`, "newer than this portable"},
		{"unknown field", `"arch": "x86_64"`, `"arch": "x86_64", "colour": "red"`, "unknown field"},
		{"escaping path", `"path": "lib/libx.so.1"`, `"path": "../../etc/shadow"`, "leaves the archive root"},
		{"absolute path", `"path": "lib/libx.so.1"`, `"path": "/etc/shadow"`, "absolute"},
		{"bad mode", `"mode": "0644"`, `"mode": "rw-r--r--"`, "bad mode"},
		{"bad type", `"type": "symlink"`, `"type": "fifo"`, "unknown entry type"},
		{"reserved", `"path": "lib/libx.so.1"`, `"path": ".portable/manifest.json"`, "reserved"},
		{"entry point target", `"target": "libexec/hello"`, `"target": "libexec/nope"`, "not in the file list"},
		{"placeholder", `"interp_placeholder": "/`, `"interp_placeholder": "x/`, "interp_placeholder"},
	}
	for _, c := range cases {
		bad := strings.Replace(string(good), c.from, c.to, 1)
		if bad == string(good) {
			t.Fatalf("%s: pattern %q not in manifest:\n%s", c.name, c.from, good)
		}
		if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := Parse([]byte(`{}`)); err == nil || !strings.Contains(err.Error(), "no schema_version") {
		t.Errorf("empty object: %v", err)
	}
	// A round trip is byte-identical.
	m, err := Parse(good)
	must(t, err)
	again, err := m.Marshal()
	must(t, err)
	if !bytes.Equal(good, again) {
		t.Error("Marshal(Parse(x)) != x")
	}
}

func TestReadMissing(t *testing.T) {
	t.Parallel()
	if _, err := Read(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a portable bundle") {
		t.Errorf("err = %v", err)
	}
}

func TestSlotReaderSpansReads(t *testing.T) {
	t.Parallel()
	data := []byte("0123456789abcdef")
	for off := int64(0); off < 16; off++ {
		for n := 1; off+int64(n) <= 16; n++ {
			repl := bytes.Repeat([]byte("X"), n)
			want := append([]byte(nil), data...)
			copy(want[off:], repl)
			// 3-byte reads cross the slot boundaries at every alignment.
			r := &slotReader{r: &chunked{b: data, n: 3}, off: off, repl: repl}
			var got bytes.Buffer
			got.ReadFrom(r)
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("off %d n %d: %q want %q", off, n, got.Bytes(), want)
			}
		}
	}
}

type chunked struct {
	b []byte
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := min(c.n, len(p), len(c.b))
	copy(p, c.b[:k])
	c.b = c.b[k:]
	return k, nil
}
