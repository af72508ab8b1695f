package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSysrootBuildForBazel exercises what the sysroot rule asks of the
// helper in one action: an offline build from a cache of .debs into the
// (empty) tree-artifact directory, a tar under usr/sysroot/<label>, a copy of
// the loader, and a check against the tar with a stamp.
func TestSysrootBuildForBazel(t *testing.T) {
	cache := sysrootTestEnv(t)
	// Fill the cache online first; the build under test then runs offline.
	warm := t.TempDir()
	if _, stderr, err := runCLI(t, "sysroot", "build", "--lock", "../../../sysroots/v1.lock.json", "--label", "v1", "--cache", cache, "-o", filepath.Join(warm, "v1")); err != nil {
		t.Fatalf("warm the cache: %v\n%s", err, stderr)
	}
	dir := t.TempDir()
	tree := filepath.Join(dir, "v1")
	if err := os.Mkdir(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	tarPath, loader := filepath.Join(dir, "v1.tar"), filepath.Join(dir, "v1.ld.so")
	t.Setenv("PORTABLE_DEBIAN_MIRROR", "http://127.0.0.1:9/unreachable")
	if _, stderr, err := runCLI(t, "sysroot", "build", "--lock", "../../../sysroots/v1.lock.json", "--label", "v1",
		"--cache", cache, "--offline", "--tar", tarPath, "--tar-prefix", "usr/sysroot/v1", "--loader-out", loader, "-o", tree); err != nil {
		t.Fatalf("offline build: %v\n%s", err, stderr)
	}
	want, err := os.ReadFile(filepath.Join(tree, "lib64/ld-linux-x86-64.so.2"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(loader)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("--loader-out is not the sysroot's loader (err %v)", err)
	}
	if b, err := exec.Command(loader, "--version").CombinedOutput(); err != nil || !strings.Contains(string(b), "2.36") {
		t.Fatalf("loader --version: %v %q", err, b)
	}
	names := tarNames(t, tarPath)
	for _, n := range []string{"usr/sysroot/v1/.sysroot/manifest.json", "usr/sysroot/v1/lib64", "usr/sysroot/v1/usr/lib64/ld-linux-x86-64.so.2", "usr/sysroot/v1/usr/lib/x86_64-linux-gnu/libc.so.6"} {
		if !names[n] {
			t.Errorf("tar lacks %s", n)
		}
	}
	for n := range names {
		if !strings.HasPrefix(n, "usr/sysroot/v1/") && !strings.HasPrefix("usr/sysroot/v1/", n) {
			t.Errorf("tar entry %s is outside usr/sysroot/v1", n)
		}
	}

	// The check reads the manifest from the tar; a stamp appears on success only.
	stamp := filepath.Join(dir, "ok.stamp")
	if out, _, err := runCLI(t, "sysroot", "check", "--sysroot", tarPath, "--stamp", stamp, "/usr/bin/true"); err != nil || !strings.Contains(out, "sysroot v1 has glibc 2.36") {
		t.Fatalf("check against the tar: %v %q", err, out)
	}
	if _, err := os.Stat(stamp); err != nil {
		t.Fatalf("no stamp after a passing check: %v", err)
	}
	bad := filepath.Join(dir, "bad.stamp")
	if _, _, err := runCLI(t, "sysroot", "check", "--sysroot", filepath.Join(dir, "missing.tar"), "--stamp", bad, "/usr/bin/true"); err == nil {
		t.Fatal("check against a missing sysroot passed")
	}
	if _, err := os.Stat(bad); err == nil {
		t.Fatal("a failing check left a stamp")
	}

	// Bazel's sandbox stages the tree as one absolute symlink per file. The
	// bundle and the check read through such a copy to the tree itself, and
	// the bundle is byte-identical to one made from the tree directly.
	staged := filepath.Join(dir, "staged")
	stageLikeBazel(t, tree, staged)
	if _, err := os.Lstat(filepath.Join(staged, "lib64")); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCLI(t, "sysroot", "check", "--sysroot", staged, "/usr/bin/true"); err != nil || !strings.Contains(out, "sysroot v1 has glibc 2.36") {
		t.Fatalf("check against the staged tree: %v %q", err, out)
	}
	// Remote execution stages it with every symlink replaced by a copy of
	// what it points to (lib a copy of usr/lib): the bundle follows the
	// links the manifest records, so it is the same bytes again.
	copied := filepath.Join(dir, "copied")
	copyLikeRemote(t, tree, copied)
	if st, err := os.Lstat(filepath.Join(copied, "lib")); err != nil || !st.IsDir() {
		t.Fatalf("%s/lib: want a directory copy (%v)", copied, err)
	}
	var bundles [3][]byte
	for i, root := range []string{tree, staged, copied} {
		out := filepath.Join(dir, fmt.Sprintf("b%d.tar", i))
		if _, stderr, err := runCLI(t, "bundle", "--sysroot", root, "-o", out, "/usr/bin/true"); err != nil {
			t.Fatalf("bundle against %s: %v\n%s", root, err, stderr)
		}
		if bundles[i], err = os.ReadFile(out); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(bundles[0], bundles[1]) {
		t.Error("the bundle made from the staged copy differs from the one made from the tree")
	}
	if !bytes.Equal(bundles[0], bundles[2]) {
		t.Error("the bundle made from the copy without symlinks differs from the one made from the tree")
	}
	// A staged copy whose tree has gone is an error that names both.
	gone := filepath.Join(dir, "gone")
	stageLikeBazel(t, tree, gone)
	moved := tree + ".moved"
	if err := os.Rename(tree, moved); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCLI(t, "bundle", "--sysroot", gone, "-o", filepath.Join(dir, "gone.tar"), "/usr/bin/true")
	if err == nil || !strings.Contains(err.Error(), "staged copy of "+tree) {
		t.Fatalf("bundle against a staged copy of a missing tree: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gone.tar")); err == nil {
		t.Fatal("a failed bundle left its output")
	}
	if err := os.Rename(moved, tree); err != nil {
		t.Fatal(err)
	}

	// Offline with an empty cache: a clear error, and no output directory.
	empty := filepath.Join(dir, "empty")
	_, _, err = runCLI(t, "sysroot", "build", "--lock", "../../../sysroots/v1.lock.json", "--label", "v1", "--cache", t.TempDir(), "--offline", "-o", empty)
	if err == nil || !strings.Contains(err.Error(), "downloads are off (--offline)") {
		t.Fatalf("offline build with an empty cache: %v", err)
	}
	if _, err := os.Stat(empty); err == nil {
		t.Fatal("a failed build left its output directory")
	}
	// PORTABLE_DEBIAN_MIRROR=offline does the same as --offline.
	t.Setenv("PORTABLE_DEBIAN_MIRROR", "offline")
	_, _, err = runCLI(t, "sysroot", "build", "--lock", "../../../sysroots/v1.lock.json", "--label", "v1", "--cache", t.TempDir(), "-o", empty)
	if err == nil || !strings.Contains(err.Error(), "downloads are off") {
		t.Fatalf("build with PORTABLE_DEBIAN_MIRROR=offline and an empty cache: %v", err)
	}
}

// stageLikeBazel copies the tree src to dst the way Bazel's sandbox stages
// a tree artifact input: directories (symlinked ones too) become real
// directories, and every other file an absolute symlink to its path in src.
func stageLikeBazel(t *testing.T, src, dst string) {
	t.Helper()
	var walk func(from, to string)
	walk = func(from, to string) {
		if err := os.MkdirAll(to, 0o755); err != nil {
			t.Fatal(err)
		}
		ents, err := os.ReadDir(from)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			p := filepath.Join(from, e.Name())
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if st.IsDir() {
				walk(p, filepath.Join(to, e.Name()))
				continue
			}
			if err := os.Symlink(p, filepath.Join(to, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	walk(src, dst)
}

// copyLikeRemote copies the tree src to dst the way Bazel's remote
// execution stages a tree artifact input: every symlink is replaced by a
// copy of what it points to, a directory copied whole.
func copyLikeRemote(t *testing.T, src, dst string) {
	t.Helper()
	st, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsDir() {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		copyLikeRemote(t, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
	}
}

func tarNames(t *testing.T, p string) map[string]bool {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names[strings.TrimSuffix(h.Name, "/")] = true
	}
}
