package bundle

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestStagedInputsNamedAsGiven bundles the same program twice: once from
// its exec root, and once from a sandbox that stages every input as an
// absolute symlink into that exec root (Bazel's processwrapper sandbox).
// The manifest names the program, its $ORIGIN library and an added file by
// their exec-root paths both times, so the archives are byte-identical
// wherever the exec root and the sandbox are.
func TestStagedInputsNamedAsGiven(t *testing.T) {
	work := t.TempDir()
	exec := filepath.Join(work, "output_base", "execroot", "_main")
	out := filepath.Join(exec, "bazel-out", "bin", "app")
	writeFile(t, filepath.Join(out, "greet.c"), "const char *greet(void) { return \"hi\"; }\n", 0o644)
	writeFile(t, filepath.Join(out, "app.c"), "#include <stdio.h>\nconst char *greet(void);\nint main(void) { puts(greet()); return 0; }\n", 0o644)
	gcc(t, out, "-shared", "-fPIC", "-o", "libgreet.so", "greet.c")
	gcc(t, out, "-o", "app", "app.c", "-L.", "-lgreet", "-Wl,--enable-new-dtags,-rpath,$ORIGIN")
	writeFile(t, filepath.Join(exec, "app", "greeting.txt"), "hello\n", 0o644)

	sandbox := filepath.Join(work, "sandbox", "7", "execroot", "_main")
	for _, rel := range []string{"bazel-out/bin/app/app", "app/greeting.txt"} {
		link := filepath.Join(sandbox, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(exec, filepath.FromSlash(rel)), link); err != nil {
			t.Fatal(err)
		}
	}

	var tars [2][]byte
	for i, dir := range []string{exec, sandbox} {
		t.Chdir(dir)
		dest := filepath.Join(work, "b"+string(rune('0'+i))+".tar")
		opts := Options{Adds: []Add{{Src: "app/greeting.txt", Dest: "share/app/greeting.txt"}}}
		res, err := Build(dest, []string{"bazel-out/bin/app/app"}, opts)
		if err != nil {
			t.Fatalf("bundle from %s: %v", dir, err)
		}
		sources := map[string]string{}
		for _, e := range res.Manifest.Files {
			sources[e.Path] = e.Source
		}
		for path, want := range map[string]string{
			"libexec/app":            "bazel-out/bin/app/app",
			"lib/libgreet.so":        "bazel-out/bin/app/libgreet.so",
			"share/app/greeting.txt": "app/greeting.txt",
		} {
			if got := sources[path]; got != want {
				t.Errorf("from %s: %s has source %q, want %q", dir, path, got, want)
			}
		}
		if res.Manifest.EntryPoints[0].Source != "bazel-out/bin/app/app" {
			t.Errorf("from %s: entry point source %q", dir, res.Manifest.EntryPoints[0].Source)
		}
		if tars[i], err = os.ReadFile(dest); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(tars[0], tars[1]) {
		t.Error("the bundle made in the sandbox differs from the one made in the exec root")
	}
}
