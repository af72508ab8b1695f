package bundle

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/deb/debtest"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

func TestParseAdd(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Add
		err  string
	}{
		{"/usr/lib/python3.11", Add{Src: "/usr/lib/python3.11"}, ""},
		{"/x/jdk/lib=lib", Add{Src: "/x/jdk/lib", Dest: "lib"}, ""},
		{"a=share/a/", Add{Src: "a", Dest: "share/a"}, ""},
		{"=lib", Add{}, "empty source"},
		{"a=/abs", Add{}, "absolute"},
		{"a=../up", Add{}, "leaves"},
		{"a=x//y", Add{}, "not clean"},
	}
	for _, c := range cases {
		got, err := ParseAdd(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseAdd(%q) err = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseAdd(%q) = %+v, %v", c.in, got, err)
		}
	}
}

func TestOriginTo(t *testing.T) {
	t.Parallel()
	cases := map[[2]string]string{
		{"libexec/app", "lib"}:                             "$ORIGIN/../lib",
		{"lib/libx.so", "lib"}:                             "$ORIGIN",
		{"lib/python3.11/lib-dynload/_ssl.so", "lib"}:      "$ORIGIN/../..",
		{"libexec/lib/gcc/x86_64-linux-gnu/12/cc1", "lib"}: "$ORIGIN/../../../../../lib",
		{"top", "lib"}:                                     "$ORIGIN/lib",
	}
	for in, want := range cases {
		if got := originTo(in[0], in[1]); got != want {
			t.Errorf("originTo(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
	if got := rpathFor("lib/gconv/EUC-JP.so", []string{"$ORIGIN", "$ORIGIN/"}); got != "$ORIGIN:$ORIGIN/.." {
		t.Errorf("rpathFor = %q", got)
	}
}

// FuzzOriginTo: the path originTo builds, taken from dest's directory,
// always lands on target.
func FuzzOriginTo(f *testing.F) {
	f.Add("libexec/a/b/c", "lib")
	f.Add("x", "lib/sub")
	f.Add("lib/x", "lib")
	f.Fuzz(func(t *testing.T, dest, target string) {
		if archive.ValidName(dest) != nil || archive.ValidName(target) != nil {
			return
		}
		o := originTo(dest, target)
		rel, ok := strings.CutPrefix(o, "$ORIGIN")
		if !ok {
			t.Fatalf("%q has no $ORIGIN", o)
		}
		if got := path.Join(path.Dir(dest), "./"+rel); got != target {
			t.Fatalf("originTo(%q, %q) = %q leads to %q", dest, target, o, got)
		}
	})
}

func TestAddTree(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	app := buildApp(t, work)
	// A tree like an interpreter's data directory: plain files, a helper
	// executable, a plugin with a RUNPATH, symlinks in and out, a dangling one.
	tree := filepath.Join(work, "usr/lib/tool")
	writeFile(t, filepath.Join(tree, "data/words.txt"), "words\n", 0o644)
	writeFile(t, filepath.Join(tree, "data/run.sh"), "#!/bin/sh\n", 0o755)
	writeFile(t, filepath.Join(work, "outside.txt"), "from outside\n", 0o644)
	os.Symlink("data/words.txt", filepath.Join(tree, "words"))
	os.Symlink(filepath.Join(tree, "data"), filepath.Join(tree, "abs-data"))
	os.Symlink(filepath.Join(work, "outside.txt"), filepath.Join(tree, "outside"))
	os.Symlink("nowhere", filepath.Join(tree, "dangling"))
	writeFile(t, filepath.Join(tree, "helper.c"), appSrc, 0o644)
	os.MkdirAll(filepath.Join(tree, "bin"), 0o755)
	os.MkdirAll(filepath.Join(tree, "plugins"), 0o755)
	gcc(t, tree, "-o", "bin/helper", "helper.c", "-L"+filepath.Join(work, "libs"), "-lgreet", "-Wl,--disable-new-dtags,-rpath,"+filepath.Join(work, "libs"))
	gcc(t, tree, "-shared", "-fPIC", "-o", "plugins/plug.so", "helper.c", "-L"+filepath.Join(work, "libs"), "-lgreet", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../private:/opt/nowhere:"+filepath.Join(work, "libs"))
	os.Remove(filepath.Join(tree, "helper.c"))
	// A single library: without a destination it goes to lib/.
	single := filepath.Join(work, "libs/libgreet.so.1")
	out := filepath.Join(work, "out")
	var warn bytes.Buffer
	_, err := Build(out, []string{app}, Options{
		Adds: []Add{{Src: tree, Dest: "lib/tool"}, {Src: single}, {Src: filepath.Join(work, "outside.txt"), Dest: "share/doc/o.txt"}},
		Warn: &warn,
	})
	if err != nil {
		t.Fatal(err)
	}
	b := func(p string) string { return filepath.Join(out, p) }
	checks := []struct {
		path, link, content string
	}{
		{"lib/tool/words", "data/words.txt", ""},
		{"lib/tool/abs-data", "data", ""},
		{"lib/tool/outside", "", "from outside\n"},
		{"lib/tool/data/words.txt", "", "words\n"},
		{"lib/tool/bin/helper", "../../../libexec/lib/tool/bin/helper", ""},
		{"share/doc/o.txt", "", "from outside\n"},
	}
	for _, c := range checks {
		if c.link != "" {
			if l, err := os.Readlink(b(c.path)); err != nil || l != c.link {
				t.Errorf("%s -> %q (%v), want %q", c.path, l, err, c.link)
			}
			continue
		}
		if got, err := os.ReadFile(b(c.path)); err != nil || string(got) != c.content {
			t.Errorf("%s = %q %v", c.path, got, err)
		}
	}
	if _, err := os.Lstat(b("lib/tool/dangling")); err == nil {
		t.Error("dangling symlink was copied")
	}
	if !strings.Contains(warn.String(), "dangling") {
		t.Errorf("no warning for the dangling symlink: %q", warn.String())
	}
	if st, _ := os.Stat(b("lib/tool/data/run.sh")); st == nil || st.Mode().Perm() != 0o755 {
		t.Errorf("run.sh mode %v", st)
	}
	// The helper executable: slotted under libexec, RPATH into lib/.
	helper := b("libexec/lib/tool/bin/helper")
	if s := readSlot(t, helper); s != Placeholder(loaderBase) {
		t.Errorf("helper slot %q", s)
	}
	hf, _ := elf.Open(helper)
	if hf == nil || hf.RPath != "$ORIGIN/../../../../lib" {
		t.Errorf("helper RPATH %+v", hf)
	}
	// The plugin: RUNPATH turned into RPATH, $ORIGIN entry kept, absolute dropped.
	pf, err := elf.Open(b("lib/tool/plugins/plug.so"))
	if err != nil || pf.HasRunPath || pf.RPath != "$ORIGIN/../private:$ORIGIN/../.." {
		t.Errorf("plugin RPATH %q RUNPATH %q %v", pf.RPath, pf.RunPath, err)
	}
	verifyOK(t, out)
	// The helper runs through its symlink once the bundle is relocated,
	// the way a program that spawns it would.
	if _, err := Relocate(out, RelocateOptions{}); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(work, "libs"))
	got, err := exec.Command(b("lib/tool/bin/helper"), "0").Output()
	if err != nil || !strings.Contains(string(got), "exe="+helper+" ") || !strings.Contains(string(got), "greet=hello") {
		t.Errorf("helper run: %q %v", got, err)
	}
	verifyOK(t, out)
}

func TestSidGlibcBundleRunsOnHost(t *testing.T) {
	t.Parallel()
	sid := debtest.SidRoot(t)
	if os.Getuid() != 0 {
		t.Fatal("compiling inside the sid root uses chroot and needs root")
	}
	dir, err := os.MkdirTemp(filepath.Join(sid, "tmp"), "bundle-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// strlcpy arrived in glibc 2.38 and gcc 15's C23 default makes strtol
	// __isoc23_strtol@GLIBC_2.38: bookworm's glibc 2.36 has neither.
	writeFile(t, filepath.Join(dir, "new.c"), `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnu/libc-version.h>
int main(int argc, char **argv) {
	char b[6];
	strlcpy(b, "glibc-new", sizeof b);
	printf("%s %s %ld\n", gnu_get_libc_version(), b, strtol(argc > 1 ? argv[1] : "0", 0, 10));
	return 0;
}
`, 0o644)
	inRoot := "/tmp/" + filepath.Base(dir)
	if out, err := exec.Command("/usr/sbin/chroot", sid, "gcc", "-O1", "-o", inRoot+"/new", inRoot+"/new.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc in the sid root: %v\n%s", err, out)
	}
	prog := filepath.Join(dir, "new")
	// Unbundled, the host's glibc 2.36 refuses it.
	out, err := exec.Command(prog).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "version `GLIBC_2.3") || !strings.Contains(string(out), "not found") {
		t.Fatalf("unbundled sid program on the host: %v %q; want a GLIBC version error", err, out)
	}
	// Bundled without the sysroot, the gate refuses it.
	_, err = Build(filepath.Join(t.TempDir(), "host"), []string{prog}, Options{})
	if err == nil || !strings.Contains(err.Error(), "needs GLIBC_2.38") || !strings.Contains(err.Error(), "glibc 2.36") {
		t.Errorf("bundling against the host: %v", err)
	}
	// Bundled with the sid root as the sysroot, it runs here.
	b := filepath.Join(t.TempDir(), "sid")
	res, err := Build(b, []string{prog}, Options{Root: sid})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Libc.Version != "2.43" && !strings.HasPrefix(res.Manifest.Libc.Version, "2.4") {
		t.Errorf("bundled glibc %q", res.Manifest.Libc.Version)
	}
	got, err := exec.Command(filepath.Join(b, "bin/new"), "42").CombinedOutput()
	if err != nil || string(got) != res.Manifest.Libc.Version+" glibc 42\n" {
		t.Errorf("bundled sid program: %q %v", got, err)
	}
}

func TestGconvPolicy(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "conv.c"), `#include <iconv.h>
#include <stdio.h>
#include <string.h>
int main(void) {
	iconv_t cd = iconv_open("EUC-JP", "UTF-8");
	if (cd == (iconv_t)-1) { perror("iconv_open"); return 1; }
	char in[] = "\xe6\x97\xa5", out[8], *ip = in, *op = out; size_t il = 3, ol = sizeof out;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) { perror("iconv"); return 1; }
	printf("%02x%02x\n", (unsigned char)out[0], (unsigned char)out[1]);
	return 0;
}
`, 0o644)
	gcc(t, work, "-o", "conv", "conv.c")
	out := filepath.Join(work, "out")
	if _, err := Build(out, []string{filepath.Join(work, "conv")}, Options{Gconv: GconvYes}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"lib/gconv/gconv-modules", "lib/gconv/EUC-JP.so", "lib/gconv/libJIS.so"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Error(err)
		}
	}
	// EUC-JP.so had DT_RUNPATH=$ORIGIN: now DT_RPATH, with the way to lib/.
	f, err := elf.Open(filepath.Join(out, "lib/gconv/EUC-JP.so"))
	if err != nil || f.HasRunPath || f.RPath != "$ORIGIN:$ORIGIN/.." {
		t.Errorf("EUC-JP.so: RPATH %q RUNPATH %q %v", f.RPath, f.RunPath, err)
	}
	verifyOK(t, out)
	// glibc finds the bundled modules when the user points GCONV_PATH at them.
	cmd := exec.Command(filepath.Join(out, "bin/conv"))
	cmd.Env = []string{"GCONV_PATH=" + filepath.Join(out, "lib/gconv")}
	got, err := cmd.CombinedOutput()
	if err != nil || string(got) != "c6fc\n" {
		t.Errorf("iconv through the bundled gconv modules: %q %v", got, err)
	}
}

// FuzzParseAdd: ParseAdd never panics, and what it accepts is a clean
// relative destination (or none).
func FuzzParseAdd(f *testing.F) {
	for _, s := range []string{"/usr/lib/python3.11", "a=b", "a=/b", "a=../b", "=x", "a=b=c", "a=b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAdd(s)
		if err != nil {
			return
		}
		if a.Src == "" || (a.Dest != "" && archive.ValidName(a.Dest) != nil) {
			t.Fatalf("ParseAdd(%q) = %+v", s, a)
		}
	})
}
