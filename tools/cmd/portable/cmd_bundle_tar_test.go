package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBundleDirAndTarInOneRun checks --tar: one run writes the directory and
// the same bundle as an archive under --prefix (what the Bazel rule asks),
// and two runs give the same archive bytes.
func TestBundleDirAndTarInOneRun(t *testing.T) {
	dir := t.TempDir()
	var tars [2][]byte
	for i := range tars {
		out := filepath.Join(dir, "b"+string(rune('0'+i)))
		tarPath := out + ".tar"
		if _, stderr, err := runCLI(t, "bundle", "-o", out, "--tar", tarPath, "--prefix", "true", "/bin/true"); err != nil {
			t.Fatalf("bundle: %v\n%s", err, stderr)
		}
		if _, err := os.Stat(filepath.Join(out, "bin", "true")); err != nil {
			t.Fatalf("directory bundle: %v", err)
		}
		names := tarNames(t, tarPath)
		for _, want := range []string{"true/bin/true", "true/libexec/true", "true/.portable/manifest.json"} {
			if !names[want] {
				t.Errorf("%s lacks %s", tarPath, want)
			}
		}
		for n := range names {
			if n != "true" && !strings.HasPrefix(n, "true/") {
				t.Errorf("%s: entry %s is outside the prefix", tarPath, n)
			}
		}
		b, err := os.ReadFile(tarPath)
		if err != nil {
			t.Fatal(err)
		}
		tars[i] = b
	}
	if string(tars[0]) != string(tars[1]) {
		t.Error("two runs gave different archives")
	}
	if _, _, err := runCLI(t, "bundle", "-o", filepath.Join(dir, "x.tar"), "--tar", filepath.Join(dir, "y.tar"), "/bin/true"); err == nil {
		t.Error("--tar with an archive -o was accepted")
	}
}
