package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree writes empty files (and the given contents) under a new root.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func gcc16() map[string]string {
	return map[string]string{
		"usr/bin/x86_64-linux-gnu-gcc-16":                          "",
		"usr/bin/x86_64-linux-gnu-g++-16":                          "",
		"usr/bin/x86_64-linux-gnu-as":                              "",
		"usr/bin/x86_64-linux-gnu-ld.bfd":                          "",
		"usr/bin/x86_64-linux-gnu-ld":                              "",
		"usr/bin/x86_64-linux-gnu-ar":                              "",
		"usr/libexec/gcc/x86_64-linux-gnu/16/cc1":                  "",
		"usr/libexec/gcc/x86_64-linux-gnu/16/cc1plus":              "",
		"usr/libexec/gcc/x86_64-linux-gnu/16/collect2":             "",
		"usr/libexec/gcc/x86_64-linux-gnu/16/liblto_plugin.so":     "\x7fELF",
		"usr/lib/gcc/x86_64-linux-gnu/16/include/stddef.h":         "",
		"usr/lib/gcc/x86_64-linux-gnu/16/libgcc_s_asneeded.so":     "/* GNU ld script */\nINPUT ( AS_NEEDED ( -lgcc_s ) )\n",
		"usr/lib/gcc/x86_64-linux-gnu/16/libasan.so":               "\x7fELF",
		"usr/lib/gcc/x86_64-linux-gnu/16/libatomic.a":              "!<arch>\n",
		"usr/lib/gcc/x86_64-linux-gnu/16/crtbegin.o":               "\x7fELF",
		"usr/lib/gcc/x86_64-linux-gnu/16/libfake_asneeded.so":      "\x7fELF not a script",
		"usr/lib/gcc/x86_64-linux-gnu/16/include-fixed/limits.h":   "",
		"usr/lib/gcc/x86_64-linux-gnu/16/plugin/include/tree.h":    "",
		"usr/share/doc/gcc-16/README":                              "",
		"usr/bin/x86_64-linux-gnu-gcov-16":                         "",
		"usr/libexec/gcc/x86_64-linux-gnu/16/g++-mapper-server":    "",
		"usr/lib/x86_64-linux-gnu/libc.so.6":                       "\x7fELF",
		"usr/lib/gcc/x86_64-linux-gnu/16/libgcc_s_asneeded.so.bak": "",
	}
}

func TestFind(t *testing.T) {
	root := tree(t, gcc16())
	if err := os.Symlink("libatomic.a", filepath.Join(root, "usr/lib/gcc/x86_64-linux-gnu/16/libatomic_asneeded.a")); err != nil {
		t.Fatal(err)
	}
	tc, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	if tc.Triplet != "x86_64-linux-gnu" || tc.Major != "16" {
		t.Errorf("got %s gcc %s", tc.Triplet, tc.Major)
	}
	if got, want := strings.Join(tc.Names(), " "), "gcc g++ cc1 cc1plus collect2 as ld ld.bfd ar"; got != want {
		t.Errorf("programs %q, want %q (optional ones absent from the tree are left out)", got, want)
	}
	for _, p := range tc.Programs {
		if p.Name == "ld.bfd" && !strings.HasSuffix(p.Path, "-ld.bfd") {
			t.Errorf("ld.bfd is %s", p.Path)
		}
	}
	var data []string
	for _, a := range tc.Data {
		rel, _ := filepath.Rel(root, a.Src)
		data = append(data, rel+"="+a.Dest)
	}
	want := []string{
		"usr/lib/gcc/x86_64-linux-gnu/16/include=lib/gcc/x86_64-linux-gnu/16/include",
		"usr/lib/gcc/x86_64-linux-gnu/16/include-fixed=lib/gcc/x86_64-linux-gnu/16/include-fixed",
		"usr/lib/gcc/x86_64-linux-gnu/16/libgcc_s_asneeded.so=lib/gcc/x86_64-linux-gnu/16/libgcc_s_asneeded.so",
		"usr/lib/gcc/x86_64-linux-gnu/16/libatomic.a=lib/gcc/x86_64-linux-gnu/16/libatomic_asneeded.a",
		"usr/libexec/gcc/x86_64-linux-gnu/16/liblto_plugin.so=bin/liblto_plugin.so",
	}
	if strings.Join(data, "\n") != strings.Join(want, "\n") {
		t.Errorf("data:\n%s\nwant (no crt objects, libraries or ELF files posing as ld scripts):\n%s", strings.Join(data, "\n"), strings.Join(want, "\n"))
	}
	if got := tc.BuiltinIncludeDir(); got != "lib/gcc/x86_64-linux-gnu/16/include" {
		t.Errorf("BuiltinIncludeDir = %s", got)
	}
}

// Bookworm's gcc 12 keeps its programs under usr/lib/gcc.
func TestFindLibDirLayout(t *testing.T) {
	root := tree(t, map[string]string{
		"usr/bin/aarch64-linux-gnu-gcc-12":                  "",
		"usr/bin/aarch64-linux-gnu-as":                      "",
		"usr/bin/aarch64-linux-gnu-ld":                      "",
		"usr/bin/aarch64-linux-gnu-ar":                      "",
		"usr/lib/gcc/aarch64-linux-gnu/12/cc1":              "",
		"usr/lib/gcc/aarch64-linux-gnu/12/collect2":         "",
		"usr/lib/gcc/aarch64-linux-gnu/12/include/stddef.h": "",
	})
	tc, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	if tc.Triplet != "aarch64-linux-gnu" || tc.Major != "12" || strings.Join(tc.Names(), " ") != "gcc cc1 collect2 as ld ar" {
		t.Errorf("got %s gcc %s: %v", tc.Triplet, tc.Major, tc.Names())
	}
}

func TestFindErrors(t *testing.T) {
	without := func(drop ...string) map[string]string {
		m := gcc16()
		for _, d := range drop {
			delete(m, d)
		}
		return m
	}
	twoGCCs := gcc16()
	twoGCCs["usr/bin/x86_64-linux-gnu-gcc-14"] = ""
	for name, c := range map[string]struct {
		files map[string]string
		want  []string
	}{
		"no usr/bin":  {map[string]string{"etc/x": ""}, []string{"no usr/bin", "portable sysroot build"}},
		"no gcc":      {without("usr/bin/x86_64-linux-gnu-gcc-16"), []string{"no gcc driver", "portable sysroot lock -p gcc-16"}},
		"two gccs":    {twoGCCs, []string{"several gcc drivers", "x86_64-linux-gnu-gcc-14", "x86_64-linux-gnu-gcc-16"}},
		"no cc1":      {without("usr/libexec/gcc/x86_64-linux-gnu/16/cc1"), []string{"has no cc1", "gcc-16"}},
		"no as":       {without("usr/bin/x86_64-linux-gnu-as"), []string{"has no as", "binutils-x86-64-linux-gnu"}},
		"no stddef.h": {without("usr/lib/gcc/x86_64-linux-gnu/16/include/stddef.h"), []string{"no builtin headers", "libgcc-16-dev"}},
	} {
		t.Run(name, func(t *testing.T) {
			root := tree(t, c.files)
			_, err := Find(root)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(c.want, root) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
