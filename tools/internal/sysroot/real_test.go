package sysroot

// Tests against real Debian packages from the machine's mirror (read from
// apt's configuration at run time). Downloads are cached by sha256 in
// ${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}/debs, so only the first
// run pays for the network.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
	"github.com/rules-portable/rules_portable/tools/internal/deb/debtest"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

var wantGlibc = map[string]string{"v1": "2.36", "v2": "2.41", "v3": "2.43", "v4": "2.44"}

func realFetcher(t testing.TB) *Fetcher {
	return &Fetcher{Mirror: debtest.Mirror(t), Cache: &Cache{Dir: debtest.CacheDir()}}
}

func readLock(t testing.TB, label string) *deb.Lockfile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "sysroots", label+".lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := deb.ParseLockfile(data)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// built memoises sysroot directories across the tests of one run.
var built struct {
	sync.Mutex
	dirs map[string]string
	root string
}

func buildOnce(t *testing.T, label string, dev bool) string {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	key := fmt.Sprint(label, dev)
	if d, ok := built.dirs[key]; ok {
		return d
	}
	if built.dirs == nil {
		built.dirs = map[string]string{}
		d, err := os.MkdirTemp("", "sysroot-test-")
		if err != nil {
			t.Fatal(err)
		}
		built.root = d
	}
	name := label
	if dev {
		name += "-dev"
	}
	out := filepath.Join(built.root, name)
	m, err := Build(context.Background(), realFetcher(t), BuildOptions{Lock: readLock(t, label), Label: label, Dev: dev, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if m.Glibc != wantGlibc[label] {
		t.Fatalf("%s: manifest says glibc %s, want %s", label, m.Glibc, wantGlibc[label])
	}
	built.dirs[key] = out
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.root != "" {
		os.RemoveAll(built.root)
	}
	os.Exit(code)
}

func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: install the Debian package %s", name, pkg)
	}
	return p
}

const helloC = `#include <stdio.h>
#include <gnu/libc-version.h>
int main(void) { printf("glibc %s\n", gnu_get_libc_version()); return 0; }
`

func compileHost(t *testing.T, src, name string, args ...string) string {
	t.Helper()
	gcc := needTool(t, "gcc", "gcc")
	dir := t.TempDir()
	c := filepath.Join(dir, name+".c")
	os.WriteFile(c, []byte(src), 0o644)
	out := filepath.Join(dir, name)
	cmd := exec.Command(gcc, append(append([]string{"-O2"}, args...), "-o", out, c)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, b)
	}
	return out
}

func runOut(t *testing.T, prog string, args ...string) string {
	t.Helper()
	b, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", prog, args, err, b)
	}
	return strings.TrimSpace(string(b))
}

// TestHelloAgainstSysroots builds v1-v4 and runs a hello world compiled on
// this host (glibc 2.36) against each: through the sysroot's loader, and
// patched (PT_INTERP + DT_RPATH) to it. Both print the glibc they loaded.
func TestHelloAgainstSysroots(t *testing.T) {
	hello := compileHost(t, helloC, "hello")
	for _, label := range []string{"v1", "v2", "v3", "v4"} {
		t.Run(label, func(t *testing.T) {
			dir := buildOnce(t, label, false)
			libdir := filepath.Join(dir, "usr/lib/x86_64-linux-gnu")
			loader := filepath.Join(dir, "lib64/ld-linux-x86-64.so.2")
			want := "glibc " + wantGlibc[label]
			if got := runOut(t, loader, "--library-path", libdir, hello); got != want {
				t.Errorf("via loader: %q, want %q", got, want)
			}
			patched := filepath.Join(t.TempDir(), "hello."+label)
			if _, err := elf.PatchFile(hello, patched, elf.PatchOptions{Interpreter: loader, SetRPath: true, RPath: libdir}); err != nil {
				t.Fatal(err)
			}
			if got := runOut(t, patched); got != want {
				t.Errorf("patched: %q, want %q", got, want)
			}
			if _, err := Verify(dir); err != nil {
				t.Error(err)
			}
			// Merged /usr: the top-level directories are links into usr.
			for _, d := range []string{"lib", "lib64"} {
				if target, err := os.Readlink(filepath.Join(dir, d)); err != nil || target != "usr/"+d {
					t.Errorf("%s -> %q, %v", d, target, err)
				}
			}
		})
	}
}

func fileSum(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))
}

// TestDeterministicTars builds each sysroot twice as .tar.zst (and v2 as a
// plain .tar) and compares the bytes.
func TestDeterministicTars(t *testing.T) {
	f := realFetcher(t)
	for _, c := range []struct{ label, ext string }{{"v1", ".tar.zst"}, {"v2", ".tar.zst"}, {"v3", ".tar.zst"}, {"v2", ".tar"}} {
		t.Run(c.label+c.ext, func(t *testing.T) {
			var sums []string
			for i := 0; i < 2; i++ {
				out := filepath.Join(t.TempDir(), c.label+c.ext)
				if _, err := Build(context.Background(), f, BuildOptions{Lock: readLock(t, c.label), Label: c.label, Out: out}); err != nil {
					t.Fatal(err)
				}
				sums = append(sums, fileSum(t, out))
				if st, _ := os.Stat(out); st != nil {
					t.Logf("%s: %d bytes, sha256 %s", c.label+c.ext, st.Size(), sums[i])
				}
			}
			if sums[0] != sums[1] {
				t.Fatalf("two builds differ: %s vs %s", sums[0], sums[1])
			}
		})
	}
}

func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if b, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, b)
	}
	return dst
}

func TestVerifyCatchesTampering(t *testing.T) {
	orig := buildOnce(t, "v2", false)
	lib := "usr/lib/x86_64-linux-gnu/"
	for _, c := range []struct {
		name   string
		tamper func(dir string) error
		want   string
	}{
		{"flipped byte", func(d string) error {
			p := filepath.Join(d, lib, "libc.so.6")
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 1
			return os.WriteFile(p, b, 0o755)
		}, lib + "libc.so.6: sha256"},
		{"removed file", func(d string) error {
			return os.Remove(filepath.Join(d, lib, "libstdc++.so.6"))
		}, lib + "libstdc++.so.6: missing"},
		{"added file", func(d string) error {
			return os.WriteFile(filepath.Join(d, lib, "libevil.so"), []byte("x"), 0o644)
		}, lib + "libevil.so: not in the manifest"},
		{"changed mode", func(d string) error {
			return os.Chmod(filepath.Join(d, "usr/share/doc/libc6/copyright"), 0o600)
		}, "usr/share/doc/libc6/copyright: mode 0600, manifest says 0644"},
		{"retargeted symlink", func(d string) error {
			p := filepath.Join(d, "lib64")
			os.Remove(p)
			return os.Symlink("/lib64", p)
		}, `lib64: symlink to "/lib64", manifest says "usr/lib64"`},
		{"truncated file", func(d string) error {
			return os.Truncate(filepath.Join(d, lib, "libc.so.6"), 100)
		}, lib + "libc.so.6: 100 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyTree(t, orig)
			if _, err := Verify(dir); err != nil {
				t.Fatalf("untouched copy: %v", err)
			}
			if err := c.tamper(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Verify(dir)
			var ve *VerifyError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

const c23Source = `#include <stdio.h>
#include <stdlib.h>
#include <gnu/libc-version.h>
int main(int argc, char **argv) {
	long v = strtol(argc > 1 ? argv[1] : "0b101", NULL, 0);
	printf("glibc %s strtol=%ld\n", gnu_get_libc_version(), v);
	return 0;
}
`

// TestNeedsGlibc238 compiles on this host, against the v3 dev sysroot, a
// C2X program whose strtol the glibc 2.38+ headers redirect to
// __isoc23_strtol@GLIBC_2.38. It runs against v3; the symbol-version gate
// refuses it for v1, naming both versions.
func TestNeedsGlibc238(t *testing.T) {
	dev := buildOnce(t, "v3", true)
	v1 := buildOnce(t, "v1", false)
	v3 := buildOnce(t, "v3", false)
	libdir := filepath.Join(dev, "usr/lib/x86_64-linux-gnu")
	// Debian's native gcc searches its own ../../../x86_64-linux-gnu before
	// the sysroot's library directories, so -B/-L point it at the sysroot.
	bin := compileHost(t, c23Source, "c23", "-std=c2x", "--sysroot="+dev, "-B"+libdir+"/", "-L"+libdir)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.MaxVersion("GLIBC_"); got != "GLIBC_2.38" {
		t.Fatalf("max GLIBC_ need = %q, want GLIBC_2.38", got)
	}
	out := runOut(t, filepath.Join(v3, "lib64/ld-linux-x86-64.so.2"), "--library-path", filepath.Join(v3, "usr/lib/x86_64-linux-gnu"), bin)
	if out != "glibc 2.43 strtol=5" {
		t.Fatalf("against v3: %q", out)
	}
	m3, err := ReadManifest(v3)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckCompat("c23", f, m3.Compat()); err != nil {
		t.Errorf("v3 refused: %v", err)
	}
	m1, err := ReadManifest(v1)
	if err != nil {
		t.Fatal(err)
	}
	err = CheckCompat("c23", f, m1.Compat())
	var tn *TooNewError
	if !errors.As(err, &tn) || !strings.HasPrefix(err.Error(), "c23: needs GLIBC_2.38 but sysroot v1 has glibc 2.36") {
		t.Fatalf("v1: %v", err)
	}
	// The dev flavour's linker scripts stay inside the sysroot.
	script, err := os.ReadFile(filepath.Join(libdir, "libc.so"))
	if err != nil || !strings.Contains(string(script), "=/usr/lib/x86_64-linux-gnu/libc.so.6") {
		t.Fatalf("libc.so: %s %v", script, err)
	}
	// ...and so do the static ones (libm.a is a script naming libm-2.N.a).
	script, err = os.ReadFile(filepath.Join(libdir, "libm.a"))
	if err != nil || !strings.Contains(string(script), "GROUP ( =/usr/lib/x86_64-linux-gnu/libm-2.") {
		t.Fatalf("libm.a: %.200s %v", script, err)
	}
	if _, err := Verify(dev); err != nil {
		t.Error(err)
	}
}

func TestDetectGlibc(t *testing.T) {
	if v, err := DetectGlibc("/lib/x86_64-linux-gnu/libc.so.6"); err != nil || v != "2.36" {
		t.Fatalf("host libc: %q, %v (this host is Debian 12, glibc 2.36)", v, err)
	}
	for _, p := range []string{"/bin/true", "/etc/passwd", "/nonexistent"} {
		if v, err := DetectGlibc(p); err == nil {
			t.Errorf("DetectGlibc(%s) = %s", p, v)
		}
	}
	if v, err := DetectGlibcxx("/usr/lib/x86_64-linux-gnu/libstdc++.so.6"); err != nil || !strings.HasPrefix(v, "3.4.") {
		t.Errorf("host libstdc++: %q %v", v, err)
	}
}

// TestLockReal resolves against the real signed experimental and unstable
// indexes of the machine's mirror.
func TestLockReal(t *testing.T) {
	f := realFetcher(t)
	opts := LockOptions{Suite: "experimental", Arch: "amd64", Packages: []string{"libc6"}, DevPackages: []string{"libc6-dev"}, Keyring: deb.DefaultKeyring, AllowExpired: true}
	u, indexes, err := loadUniverse(context.Background(), f, opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := resolveLock(nil, u, indexes, opts)
	if err != nil {
		t.Fatal(err)
	}
	var libc *deb.LockedPackage
	for i, p := range l.Packages {
		if p.Name == "libc6" {
			libc = &l.Packages[i]
		}
		if p.Name == "libc6-dev" && !p.Dev {
			t.Error("libc6-dev not marked dev")
		}
	}
	if libc == nil || libc.Suite != "experimental" || !strings.HasPrefix(libc.Version, "2.44") || libc.Dev {
		t.Fatalf("libc6 = %+v", libc)
	}
	if len(l.Indexes) != 2 || l.Indexes[0].Suite != "experimental" || !l.Indexes[0].NotAutomatic || l.Indexes[1].Codename != "sid" {
		t.Fatalf("indexes = %+v", l.Indexes)
	}
	data, _ := l.Marshal()
	if host := strings.TrimPrefix(strings.TrimPrefix(f.Mirror, "http://"), "https://"); strings.Contains(string(data), strings.Split(host, "/")[0]) {
		t.Fatal("the lock names the mirror host")
	}

	for _, c := range []struct {
		name string
		edit func(*LockOptions)
		want string
	}{
		{"expired", func(o *LockOptions) { o.AllowExpired = false }, "--allow-expired-release"},
		{"unknown arch in suite", func(o *LockOptions) { o.Arch = "armel" }, `unknown architecture "armel"`},
		{"unknown arch", func(o *LockOptions) { o.Arch = "vax" }, `unknown architecture "vax"`},
		{"no keyring", func(o *LockOptions) { o.Keyring = "/nonexistent.gpg" }, "install debian-archive-keyring or pass --keyring"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := opts
			c.edit(&o)
			_, err := Lock(context.Background(), f, o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	// Resolution errors against the real index already loaded.
	for _, c := range []struct {
		name string
		edit func(*LockOptions)
		want string
	}{
		{"not in index", func(o *LockOptions) { o.Packages = []string{"no-such-package-here"} }, "package no-such-package-here is not in the index of experimental+unstable (amd64)"},
		{"version not in index", func(o *LockOptions) { o.Packages = []string{"libc6=1.0-1"} }, "package libc6 version 1.0-1 is not in"},
		{"unsatisfiable after exclude", func(o *LockOptions) {
			o.Packages = []string{"libc6-dev"}
			o.DevPackages = nil
			o.Exclude = []string{"nothing"}
			o.Packages = []string{"libc6-dev=2.43-7", "libc6=2.44-3"}
		}, "libc6 (= 2.43-7) (Depends of libc6-dev 2.43-7) cannot be satisfied: libc6 2.44-3 is already chosen"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := opts
			c.edit(&o)
			_, err := resolveLock(nil, u, indexes, o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

// BenchmarkBuildV2Tar builds sysroot v2 as a plain .tar from the shared
// cache (warm after the first iteration).
func BenchmarkBuildV2Tar(b *testing.B) {
	f := realFetcher(b)
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "sysroots", "v2.lock.json"))
	if err != nil {
		b.Fatal(err)
	}
	lock, err := deb.ParseLockfile(data)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		out := filepath.Join(dir, fmt.Sprintf("v2-%d.tar", i))
		if _, err := Build(context.Background(), f, BuildOptions{Lock: lock, Label: "v2", Out: out}); err != nil {
			b.Fatal(err)
		}
		os.Remove(out)
	}
}

// BenchmarkBuildV2TarCold builds sysroot v2 as a plain .tar from a private
// cache that holds only the lock's .debs (hard links into the shared
// cache), so every iteration decompresses every data.tar.
func BenchmarkBuildV2TarCold(b *testing.B) {
	f := realFetcher(b)
	lock := readLock(b, "v2")
	// Make sure the shared cache has the .debs.
	if _, err := Build(context.Background(), f, BuildOptions{Lock: lock, Label: "v2", Out: filepath.Join(b.TempDir(), "warm.tar")}); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		cold := &Cache{Dir: filepath.Join(dir, fmt.Sprint("cache-", i))}
		if err := os.MkdirAll(filepath.Join(cold.Dir, "sha256"), 0o755); err != nil {
			b.Fatal(err)
		}
		for _, p := range lock.Packages {
			if p.Dev {
				continue
			}
			if err := os.Link(f.Cache.Path(p.SHA256), cold.Path(p.SHA256)); err != nil {
				b.Fatal(err)
			}
		}
		out := filepath.Join(dir, fmt.Sprintf("v2-%d.tar", i))
		b.StartTimer()
		cf := &Fetcher{Mirror: f.Mirror, Cache: cold, Offline: true}
		if _, err := Build(context.Background(), cf, BuildOptions{Lock: lock, Label: "v2", Out: out}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.Remove(out)
		os.RemoveAll(cold.Dir)
		b.StartTimer()
	}
}
