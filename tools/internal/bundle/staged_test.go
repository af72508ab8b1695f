package bundle

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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

// TestSourcePrefixMap bundles one program from two Bazel output
// directories (two configurations of the same build): with the output
// directories mapped away, the manifests, and so the archives, are the
// same bytes; without, they name the configuration.
func TestSourcePrefixMap(t *testing.T) {
	work := t.TempDir()
	t.Chdir(work)
	var tars [2][]byte
	for i, config := range []string{"k8-fastbuild", "k8-fastbuild-ST-892ca95ceff1"} {
		out := filepath.Join("bazel-out", config, "bin", "app")
		writeFile(t, filepath.Join(out, "app.c"), "int main(void) { return 0; }\n", 0o644)
		gcc(t, out, "-o", "app", "app.c")
		root := "bazel-out/" + config + "/bin/"
		opts := Options{SourcePrefixMap: []PrefixMap{{Old: "elsewhere/", New: "x/"}, {Old: root, New: ""}, {Old: "bazel-out/", New: "never/"}}}
		dest := filepath.Join(work, config+".tar")
		res, err := Build(dest, []string{root + "app/app"}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Manifest.EntryPoints[0].Source; got != "app/app" {
			t.Errorf("%s: entry point source %q, want app/app (the first matching pair applies)", config, got)
		}
		for _, e := range res.Manifest.Files {
			if e.Path == "libexec/app" && e.Source != "app/app" {
				t.Errorf("%s: libexec/app has source %q, want app/app", config, e.Source)
			}
		}
		if tars[i], err = os.ReadFile(dest); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(tars[0], tars[1]) {
		t.Error("with the output directories mapped, the bundles of two configurations differ")
	}
}

func TestParsePrefixMap(t *testing.T) {
	for in, want := range map[string]PrefixMap{
		"bazel-out/k8/bin/=": {Old: "bazel-out/k8/bin/"},
		"/a=/b":              {Old: "/a", New: "/b"},
		"a=b=c":              {Old: "a", New: "b=c"},
	} {
		got, err := ParsePrefixMap(in)
		if err != nil || got != want {
			t.Errorf("ParsePrefixMap(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "=x", "noequals"} {
		if _, err := ParsePrefixMap(in); err == nil || !strings.Contains(err.Error(), "OLD=NEW") {
			t.Errorf("ParsePrefixMap(%q): error %v, want one naming OLD=NEW", in, err)
		}
	}
}
