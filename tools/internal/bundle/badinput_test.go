package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// listTree names everything under dir, for "nothing was left behind".
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func TestBadInputsLeaveNothing(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	app := buildApp(t, work)
	// A program whose library is gone.
	lonely := filepath.Join(work, "lonely")
	os.MkdirAll(lonely, 0o755)
	writeFile(t, filepath.Join(lonely, "greet.c"), greetSrc, 0o644)
	writeFile(t, filepath.Join(lonely, "app.c"), appSrc, 0o644)
	gcc(t, lonely, "-shared", "-fPIC", "-o", "libgreet.so", "greet.c")
	gcc(t, lonely, "-o", "needy", "app.c", "-L.", "-lgreet")
	os.Remove(filepath.Join(lonely, "libgreet.so"))
	// A script.
	script := filepath.Join(work, "tool.sh")
	writeFile(t, script, "#!/bin/sh\necho hi\n", 0o755)
	// Another program called app.
	other := filepath.Join(work, "other")
	os.MkdirAll(other, 0o755)
	writeFile(t, filepath.Join(other, "app.c"), "int main(void){return 0;}\n", 0o644)
	gcc(t, other, "-o", "app", "app.c")
	// A file where the output's parent should be a directory.
	notDir := filepath.Join(work, "plainfile")
	writeFile(t, notDir, "x", 0o644)
	// A text file with the ELF magic but nothing else.
	fakeELF := filepath.Join(work, "fake")
	writeFile(t, fakeELF, "\x7fELF\x02\x01\x01", 0o755)
	// An existing directory bundle is never overwritten.
	existing := filepath.Join(work, "existing")
	os.Mkdir(existing, 0o755)
	writeFile(t, filepath.Join(existing, "keep"), "precious", 0o644)

	cases := []struct {
		name  string
		out   string
		progs []string
		opts  Options
		want  []string
	}{
		{"script", "o1.tar.gz", []string{script}, Options{}, []string{"tool.sh", "script", "#!/bin/sh", "--add"}},
		{"not ELF text", "o2", []string{filepath.Join(work, "app.c")}, Options{}, []string{"app.c", "not an ELF program", "--add"}},
		{"truncated ELF", "o3", []string{fakeELF}, Options{}, []string{"fake", "ELF"}},
		{"missing library", "o4.tar", []string{filepath.Join(lonely, "needy")}, Options{}, []string{"libgreet.so", "needed by " + filepath.Join(lonely, "needy"), "not found"}},
		{"missing program", "o5", []string{filepath.Join(work, "nope")}, Options{}, []string{"nope", "no such file"}},
		{"directory as program", "o6", []string{lonely}, Options{}, []string{"lonely", "is a directory, not a program"}},
		{"name clash between programs", "o7", []string{app, filepath.Join(other, "app")}, Options{}, []string{"name clash", "two programs are named app", app, filepath.Join(other, "app")}},
		{"name clash with --add", "o8.tar.zst", []string{app}, Options{Adds: []Add{{Src: script, Dest: "lib/libc.so.6"}}}, []string{"name clash", "lib/libc.so.6", "tool.sh", "libc.so.6"}},
		{"add dir over a file", "o9", []string{app}, Options{Adds: []Add{{Src: other, Dest: "lib/libc.so.6"}}}, []string{"name clash", "lib/libc.so.6"}},
		{"add missing", "o10", []string{app}, Options{Adds: []Add{{Src: filepath.Join(work, "nope")}}}, []string{"--add", "nope", "no such file"}},
		{"add reserved", "o11", []string{app}, Options{Adds: []Add{{Src: script, Dest: ".portable/x"}}}, []string{"reserved"}},
		{"output parent is a file", filepath.Join("plainfile", "o12"), []string{app}, Options{}, []string{"plainfile", "not a directory"}},
		{"output parent missing", filepath.Join("nodir", "o13.tar"), []string{app}, Options{}, []string{"nodir", "no such file"}},
		{"existing directory", "existing", []string{app}, Options{}, []string{"existing", "already exists"}},
		{"bad sysroot", "o14", []string{app}, Options{Root: filepath.Join(work, "nosysroot")}, []string{"sysroot", "nosysroot"}},
		{"gconv without a glibc", "o15", []string{filepath.Join(work, "static")}, Options{Gconv: GconvYes}, []string{"--gconv"}},
	}
	writeFile(t, filepath.Join(work, "static.c"), "int main(void){return 0;}\n", 0o644)
	gcc(t, work, "-static", "-o", "static", "static.c")
	before := listTree(t, work)
	for _, c := range cases {
		out := filepath.Join(work, c.out)
		_, err := Build(out, c.progs, c.opts)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		msg := err.Error()
		for _, w := range c.want {
			if !strings.Contains(strings.ToLower(msg), strings.ToLower(w)) {
				t.Errorf("%s: error %q does not mention %q", c.name, msg, w)
			}
		}
		if msg != strings.TrimSpace(msg) || strings.Contains(msg, "\n") {
			t.Errorf("%s: error is not one line: %q", c.name, msg)
		}
	}
	if after := listTree(t, work); !slices.Equal(before, after) {
		t.Errorf("bad inputs left files behind or changed the tree:\nbefore %v\nafter  %v", before, after)
	}
	if got, _ := os.ReadFile(filepath.Join(existing, "keep")); string(got) != "precious" {
		t.Error("existing bundle directory was touched")
	}
}

func TestUnwritableOutputLeavesNothing(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Fatal("needs root to mount a read-only tmpfs (CI runs as root)")
	}
	work := t.TempDir()
	app := buildApp(t, work)
	ro := filepath.Join(work, "ro")
	os.Mkdir(ro, 0o755)
	if err := syscall.Mount("tmpfs", ro, "tmpfs", syscall.MS_RDONLY, "size=1m"); err != nil {
		t.Fatal(err)
	}
	defer syscall.Unmount(ro, syscall.MNT_DETACH)
	for _, out := range []string{"b", "b.tar.gz"} {
		_, err := Build(filepath.Join(ro, out), []string{app}, Options{})
		if err == nil || !errors.Is(err, syscall.EROFS) && !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%s: err = %v", out, err)
		}
	}
	if ents, _ := os.ReadDir(ro); len(ents) != 0 {
		t.Errorf("left %v", ents)
	}
	// A full disk mid-way: the archive does not fit, and nothing is left.
	small := filepath.Join(work, "small")
	os.Mkdir(small, 0o755)
	if err := syscall.Mount("tmpfs", small, "tmpfs", 0, "size=256k"); err != nil {
		t.Fatal(err)
	}
	defer syscall.Unmount(small, syscall.MNT_DETACH)
	for _, out := range []string{"b", "b.tar"} {
		if _, err := Build(filepath.Join(small, out), []string{app}, Options{}); err == nil || !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("%s on a full disk: err = %v", out, err)
		}
		if ents, _ := os.ReadDir(small); len(ents) != 0 {
			t.Errorf("%s: left %v", out, ents)
		}
	}
}
