package sysroot

import (
	"strings"
	"testing"
)

func TestCleanEntryName(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"./usr/lib/x", "usr/lib/x", ""},
		{"usr/lib/", "usr/lib", ""},
		{"./", "", ""},
		{".", "", ""},
		{"/etc/passwd", "", "absolute path refused"},
		{"../etc/passwd", "", "path traversal"},
		{"./usr/../../etc", "", "path traversal"},
		{"./usr//lib", "", "empty or '.'"},
		{"./usr/./lib", "", "empty or '.'"},
		{"./a\x00b", "", "NUL"},
		{"./a\nb", "", "control character"},
	} {
		got, err := cleanEntryName(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("cleanEntryName(%q) = %q, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("cleanEntryName(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestMergeUsrAndLinks(t *testing.T) {
	for _, c := range []struct{ orig, target, wantPath, wantTarget string }{
		// bookworm's libc6 ships the loader link in /lib64.
		{"lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
		{"lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13", "usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13"},
		{"usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc-2.36.so", "usr/lib/x86_64-linux-gnu/libc.so.6", "libc-2.36.so"},
		{"usr/share/doc/libgcc-s1", "gcc-12-base", "usr/share/doc/libgcc-s1", "gcc-12-base"},
		{"usr/lib/x", "../../../../../etc/passwd", "usr/lib/x", "../../etc/passwd"},
		{"usr/lib/x", "/", "usr/lib/x", "../.."},
		{"usr/lib/x", ".", "usr/lib/x", "."},
		{"bin/sh", "/usr/bin/dash", "usr/bin/sh", "dash"},
		{"usr/bin/a", "../../lib/b", "usr/bin/a", "../lib/b"},
	} {
		p := mergeUsr(c.orig)
		if p != c.wantPath {
			t.Errorf("mergeUsr(%q) = %q, want %q", c.orig, p, c.wantPath)
		}
		got, err := normalLinkTarget(c.orig, p, c.target)
		if err != nil || got != c.wantTarget {
			t.Errorf("normalLinkTarget(%q, %q) = %q, %v; want %q", c.orig, c.target, got, err, c.wantTarget)
		}
	}
	if _, err := normalLinkTarget("a", "a", ""); err == nil {
		t.Error("empty target accepted")
	}
}

func TestDropDoc(t *testing.T) {
	for p, want := range map[string]bool{
		"usr/share/man/man3/x.3.gz":                  true,
		"usr/share/man":                              true,
		"usr/share/info/libc.info.gz":                true,
		"usr/share/lintian/overrides/libc6":          true,
		"usr/share/doc/libc6/changelog.Debian.gz":    true,
		"usr/share/doc/libc6/NEWS.gz":                true,
		"usr/share/doc/libc6/examples/a.c":           true,
		"usr/share/doc/libc6/copyright":              false,
		"usr/share/doc/libc6":                        false,
		"usr/share/doc/libgcc-s1":                    false,
		"usr/lib/x86_64-linux-gnu/libc.so.6":         false,
		"usr/share/manpages-are-not-here/whatever.1": false,
	} {
		if got := dropDoc(p); got != want {
			t.Errorf("dropDoc(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestRelPath(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"usr/lib64", "usr/lib/x86_64-linux-gnu/ld.so", "../lib/x86_64-linux-gnu/ld.so"},
		{".", "usr/lib", "usr/lib"},
		{"usr/lib", "usr/lib", "."},
		{"usr/lib", "", "../.."},
		{"a/b/c", "a/d", "../../d"},
	} {
		if got := relPath(c.from, c.to); got != c.want {
			t.Errorf("relPath(%q, %q) = %q, want %q", c.from, c.to, got, c.want)
		}
	}
}

func FuzzCleanEntryName(f *testing.F) {
	for _, s := range []string{"./usr/lib/x", "../x", "/abs", "./a//b", "a/./b", "./"} {
		f.Add(s, "../target")
	}
	f.Fuzz(func(t *testing.T, name, target string) {
		c, err := cleanEntryName(name)
		if err != nil || c == "" {
			return
		}
		for _, part := range strings.Split(c, "/") {
			if part == ".." || part == "." || part == "" {
				t.Fatalf("cleanEntryName(%q) = %q", name, c)
			}
		}
		p := mergeUsr(c)
		l, err := normalLinkTarget(c, p, target)
		if err != nil {
			return
		}
		if strings.HasPrefix(l, "/") {
			t.Fatalf("absolute link target %q from %q", l, target)
		}
		// The target, read from the link's directory, stays in the root.
		depth := strings.Count(p, "/")
		up := 0
		for _, part := range strings.Split(l, "/") {
			if part == ".." {
				up++
			} else {
				break
			}
		}
		if up > depth {
			t.Fatalf("link %s -> %s climbs out of the root", p, l)
		}
	})
}
