package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
	"github.com/rules-portable/rules_portable/tools/internal/deb/debtest"
	"github.com/rules-portable/rules_portable/tools/internal/sysroot"
)

// linksProgSrc needs libstdc++ and zlib besides libc: each is reached in
// the sysroot through a symlink (libstdc++.so.6 -> libstdc++.so.6.0.N,
// libz.so.1 -> libz.so.1.N, lib -> usr/lib).
const linksProgSrc = `#include <iostream>
extern "C" const char *zlibVersion(void);
int main() { std::cout << "zlib " << zlibVersion() << std::endl; return 0; }
`

// sysrootWithLinks returns a real sysroot directory, with its symlinks, and
// a program to bundle against it. Under Bazel (ARM64_SYSROOT set) it is the
// arm64 sysroot the build made, unpacked, and hello-aarch64. With go test
// on the host it is sysroot v1 built from the locked packages (cached in
// debtest.CacheDir), and a C++ program that also needs zlib, built here.
func sysrootWithLinks(t *testing.T) (root, prog string) {
	t.Helper()
	if os.Getenv("ARM64_SYSROOT") != "" {
		tar, prog := arm64Inputs(t)
		root, tmp, err := unpackSysroot(tar)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(tmp) })
		return root, prog
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "sysroots", "v1.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err := deb.ParseLockfile(data)
	if err != nil {
		t.Fatal(err)
	}
	root = filepath.Join(t.TempDir(), "v1")
	f := &sysroot.Fetcher{Mirror: debtest.Mirror(t), Cache: &sysroot.Cache{Dir: debtest.CacheDir()}}
	if _, err := sysroot.Build(context.Background(), f, sysroot.BuildOptions{Lock: lock, Label: "v1", Out: root}); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "prog.cc"), linksProgSrc, 0o644)
	gcc(t, work, "-x", "c++", "-o", "prog", "prog.cc", "-lstdc++", "-lz")
	return root, filepath.Join(work, "prog")
}

// copyDereferenced copies the tree src to dst with every symlink replaced
// by a copy of what it points to (directories copied whole), as a build
// tool that uploads a directory's symlinks resolved delivers it.
func copyDereferenced(t *testing.T, src, dst string) {
	t.Helper()
	var walk func(src, dst string)
	walk = func(src, dst string) {
		st, err := os.Stat(src) // follows symlinks
		if err != nil {
			t.Fatal(err)
		}
		if !st.IsDir() {
			in, err := os.Open(src)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(out, in); err != nil {
				t.Fatal(err)
			}
			if err := out.Close(); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err := os.Mkdir(dst, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
		ents, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			walk(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
		}
	}
	walk(src, dst)
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			t.Fatalf("%s: still a symlink in the copy", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSysrootSymlinksCopied: a sysroot delivered with its symlinks
// materialised as copies (lib a copy of usr/lib, libz.so.1 a copy of
// libz.so.1.N), as Bazel's remote execution stages a tree artifact, gives
// the same bundle, byte for byte, as the sysroot with its symlinks: library
// paths are resolved, and trees of the sysroot added, by the links the
// sysroot's manifest records.
func TestSysrootSymlinksCopied(t *testing.T) {
	t.Parallel()
	linked, prog := sysrootWithLinks(t)
	if fi, err := os.Lstat(filepath.Join(linked, "lib")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("%s/lib: want the usrmerge symlink (%v)", linked, err)
	}
	copied := filepath.Join(t.TempDir(), filepath.Base(linked))
	copyDereferenced(t, linked, copied)

	work := t.TempDir()
	var tars [][]byte
	var manifests [][]byte
	for i, root := range []string{linked, copied} {
		out := filepath.Join(work, fmt.Sprintf("bundle%d.tar", i))
		// usr/share/doc holds links (libgcc-s1 -> gcc-N-base): an added
		// tree of the sysroot keeps them as links in the bundle.
		adds := []Add{{Src: filepath.Join(root, "usr/share/doc"), Dest: "share/doc"}}
		res, err := Build(out, []string{prog}, Options{Root: root, Adds: adds})
		if err != nil {
			t.Fatalf("bundle against %s: %v", root, err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		m, err := json.MarshalIndent(res.Manifest, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		tars, manifests = append(tars, data), append(manifests, m)
	}
	if !bytes.Equal(manifests[0], manifests[1]) {
		t.Errorf("manifests differ; lines only with symlinks:\n%s\nlines only with copies:\n%s",
			onlyIn(manifests[0], manifests[1]), onlyIn(manifests[1], manifests[0]))
	}
	if !bytes.Equal(tars[0], tars[1]) {
		t.Errorf("bundle tars differ (%d and %d bytes)", len(tars[0]), len(tars[1]))
	}
}

// onlyIn returns the lines of a that b lacks, for a readable failure.
func onlyIn(a, b []byte) string {
	have := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		have[l] = true
	}
	var out []string
	for _, l := range strings.Split(string(a), "\n") {
		if !have[l] {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
