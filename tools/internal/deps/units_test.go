package deps

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
)

func TestExpandDST(t *testing.T) {
	v := dstValues{Origin: "/opt/app/bin", Platform: "x86_64", Lib: "lib/x86_64-linux-gnu"}
	for _, tc := range []struct {
		in, out    string
		usedOrigin bool
		ok         bool
	}{
		{"/usr/lib", "/usr/lib", false, true},
		{"$ORIGIN/../lib", "/opt/app/bin/../lib", true, true},
		{"${ORIGIN}/../lib", "/opt/app/bin/../lib", true, true},
		{"$ORIGIN", "/opt/app/bin", true, true},
		{"/a/$LIB/b", "/a/lib/x86_64-linux-gnu/b", false, true},
		{"/a/${PLATFORM}/b", "/a/x86_64/b", false, true},
		{"$PLATFORM$LIB", "x86_64lib/x86_64-linux-gnu", false, true},
		// not tokens: followed by an identifier character, unclosed brace,
		// unknown name; the '$' stays
		{"$ORIGINAL/x", "$ORIGINAL/x", false, true},
		{"$ORIGIN_x", "$ORIGIN_x", false, true},
		{"${ORIGIN/x", "${ORIGIN/x", false, true},
		{"$HOME/lib", "$HOME/lib", false, true},
		{"$", "$", false, true},
		{"a$$ORIGIN", "a$/opt/app/bin", true, true},
	} {
		out, used, ok := expandDST(tc.in, v)
		if out != tc.out || used != tc.usedOrigin || ok != tc.ok {
			t.Errorf("expandDST(%q) = %q, %v, %v; want %q, %v, %v", tc.in, out, used, ok, tc.out, tc.usedOrigin, tc.ok)
		}
	}
	// An unknown value drops the element, as ld.so does.
	if _, _, ok := expandDST("/x/$PLATFORM", dstValues{}); ok {
		t.Error("unknown $PLATFORM must drop the element")
	}
}

func TestSplitSearchPath(t *testing.T) {
	v := dstValues{Origin: "/o", Platform: "x86_64", Lib: "lib64"}
	got := splitSearchPath("/a//:$ORIGIN/b:/a:::/:$PLATFORM-x:/p/$UNKNOWN", ":", v, true)
	want := []searchDir{
		{name: "/a/"},
		{name: "/o/b/", outside: true},
		{name: ""}, // the empty element is the current directory, once
		{name: "/"},
		{name: "x86_64-x/"},
		{name: "/p/$UNKNOWN/"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if got := splitSearchPath("/a;/b:/c", ":;", v, false); len(got) != 3 {
		t.Errorf("LD_LIBRARY_PATH splits on ';' too: %+v", got)
	}
	if got := splitSearchPath("/x/$PLATFORM", ":", dstValues{}, false); len(got) != 0 {
		t.Errorf("element with an unknown token kept: %+v", got)
	}
}

func TestParseLDConf(t *testing.T) {
	in := "# comment\n" +
		"/usr/local/lib\n" +
		"   /opt/a///   \n" +
		"include /etc/a/*.conf\t b.conf  # trailing comment\n" +
		"include\n" + // no blank after "include": a directory named "include"
		"includex /x\n" +
		"HWCAP 1 nosegneg\n" +
		"/old=libc5\n" +
		"/\n" +
		"/nul\x00ignored\n" +
		"\r\n" +
		"/last"
	want := []ConfLine{
		{Line: 2, Dir: "/usr/local/lib"},
		{Line: 3, Dir: "/opt/a"},
		{Line: 4, Include: []string{"/etc/a/*.conf", "b.conf"}},
		{Line: 5, Dir: "include"},
		{Line: 6, Dir: "includex /x"},
		{Line: 8, Dir: "/old"},
		{Line: 10, Dir: "/nul"},
		{Line: 12, Dir: "/last"},
	}
	if got := ParseLDConf([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestGlobInRoot(t *testing.T) {
	root := t.TempDir()
	tree(t, root, map[string]string{
		"etc/d/b.conf":       "",
		"etc/d/a.conf":       "",
		"etc/d/.h.conf":      "",
		"etc/d/c.txt":        "",
		"etc/d-x/z.conf":     "",
		"etc/link@":          "/etc/d",
		"etc/d/sub/in.conf":  "",
		"etc/e/sub/in.conf":  "",
		"etc/lit[1].conf":    "",
		"etc/dangling.conf@": "/nope",
	})
	r, err := newRootFS(root)
	must(t, err)
	for pat, want := range map[string][]string{
		"/etc/d/*.conf":       {"/etc/d/a.conf", "/etc/d/b.conf"},
		"/etc/link/?.conf":    {"/etc/link/a.conf", "/etc/link/b.conf"},
		"/etc/d/.*.conf":      {"/etc/d/.h.conf"},
		"/etc/*/sub/*.conf":   {"/etc/d/sub/in.conf", "/etc/e/sub/in.conf", "/etc/link/sub/in.conf"},
		"/etc/d*/*.conf":      {"/etc/d-x/z.conf", "/etc/d/a.conf", "/etc/d/b.conf"},
		"/etc/nothing/*.conf": nil,
		"/etc/lit\\[1].conf":  {"/etc/lit[1].conf"},
		"/etc/dangling.conf":  nil,
	} {
		got, err := globInRoot(r, pat)
		must(t, err)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("glob %s = %q, want %q", pat, got, want)
		}
	}
}

func TestRootFSResolve(t *testing.T) {
	root := t.TempDir()
	tree(t, root, map[string]string{
		"usr/lib/x/libz.so.1.2": "z",
		"usr/lib/x/libz.so.1@":  "libz.so.1.2",
		"lib@":                  "usr/lib",
		"abs@":                  "/usr/lib/x/libz.so.1",
		"escape@":               "../../../../../../usr/lib/x/libz.so.1",
		"dotdot@":               "lib/x/../x/libz.so.1",
		"hostonly@":             "/etc/passwd",
		"loop1@":                "loop2",
		"loop2@":                "loop1",
		"file":                  "f",
		"dir/":                  "",
		"dirlink@":              "/usr/lib/x",
	})
	r, err := newRootFS(root)
	must(t, err)
	for _, tc := range []struct {
		path, real string
		errno      syscall.Errno
	}{
		{"/lib/x/libz.so.1", "/usr/lib/x/libz.so.1.2", 0},
		{"/abs", "/usr/lib/x/libz.so.1.2", 0},
		{"/escape", "/usr/lib/x/libz.so.1.2", 0},
		{"/dotdot", "/usr/lib/x/libz.so.1.2", 0},
		{"/../../lib/./x//libz.so.1", "/usr/lib/x/libz.so.1.2", 0},
		// ".." after a symlinked directory leaves the link's target
		{"/dirlink/../x/libz.so.1", "/usr/lib/x/libz.so.1.2", 0},
		{"/hostonly", "", syscall.ENOENT},
		{"/loop1", "", syscall.ELOOP},
		{"/file/x", "", syscall.ENOTDIR},
		{"/file/..", "", syscall.ENOTDIR},
		{"/file/", "", syscall.ENOTDIR},
		{"/nope", "", syscall.ENOENT},
		{"/", "/", 0},
	} {
		e, err := r.resolve(tc.path)
		if tc.errno != 0 {
			if !errors.Is(err, tc.errno) {
				t.Errorf("resolve(%s) = %v, %v; want %v", tc.path, e.real, err, tc.errno)
			}
			continue
		}
		if err != nil || e.real != tc.real {
			t.Errorf("resolve(%s) = %q, %v; want %q", tc.path, e.real, err, tc.real)
		}
	}
	if in, ok := r.inRoot(filepath.Join(root, "usr/lib")); !ok || in != "/usr/lib" {
		t.Errorf("inRoot = %q, %v", in, ok)
	}
	if _, ok := r.inRoot("/etc/passwd"); ok && root != "/" {
		t.Error("/etc/passwd is not inside the fixture root")
	}
}

func TestLegacyHWCapDirs(t *testing.T) {
	// What LD_DEBUG=libs shows for glibc 2.36 on x86_64 (see hwcaps.go).
	want := []string{"tls/x86_64/x86_64", "tls/x86_64", "tls/x86_64", "tls", "x86_64/x86_64", "x86_64", "x86_64"}
	if got := LegacyHWCapDirs([]string{"x86_64"}, "x86_64"); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	if got := LegacyHWCapDirs(nil, ""); !reflect.DeepEqual(got, []string{"tls"}) {
		t.Errorf("no hwcap, no platform: %q", got)
	}
	got := LegacyHWCapDirs([]string{"x86_64", "avx512_1"}, "haswell")
	if len(got) != 15 || got[0] != "tls/haswell/avx512_1/x86_64" || got[14] != "x86_64" {
		t.Errorf("four components: %q", got)
	}
}

func TestCPUFromCPUInfo(t *testing.T) {
	base := "cmov cx8 fpu fxsr mmx sse sse2"
	v2 := base + " cx16 lahf_lm popcnt pni ssse3 sse4_1 sse4_2"
	v3 := v2 + " avx avx2 f16c fma abm movbe bmi1 bmi2"
	v4 := v3 + " avx512f avx512bw avx512cd avx512dq avx512vl"
	for _, tc := range []struct {
		vendor, flags string
		want          CPU
	}{
		{"AuthenticAMD", base, CPU{}},
		{"AuthenticAMD", v2, CPU{HWCaps: []string{HWCapX86_64V2}}},
		{"AuthenticAMD", v4, CPU{HWCaps: []string{HWCapX86_64V4, HWCapX86_64V3, HWCapX86_64V2}}},
		{"AuthenticAMD", strings.Replace(v3, " pni", "", 1), CPU{}}, // no SSE3: baseline only
		{"GenuineIntel", v3, CPU{HWCaps: []string{HWCapX86_64V3, HWCapX86_64V2}, Platform: "haswell", LegacyHWCap: []string{"x86_64"}}},
		{"GenuineIntel", v4, CPU{HWCaps: []string{HWCapX86_64V4, HWCapX86_64V3, HWCapX86_64V2}, Platform: "haswell", LegacyHWCap: []string{"x86_64", "avx512_1"}}},
		{"GenuineIntel", v4 + " avx512er avx512pf", CPU{HWCaps: []string{HWCapX86_64V4, HWCapX86_64V3, HWCapX86_64V2}, Platform: "xeon_phi", LegacyHWCap: []string{"x86_64"}}},
	} {
		info := "processor\t: 0\nvendor_id\t: " + tc.vendor + "\nflags\t\t: " + tc.flags + "\n\nprocessor\t: 1\nflags\t\t: fpu\n"
		got, err := CPUFromCPUInfo([]byte(info))
		must(t, err)
		if len(got.HWCaps) == 0 {
			got.HWCaps = nil
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %q:\n got %+v\nwant %+v", tc.vendor, tc.flags, got, tc.want)
		}
	}
	if c, err := CPUFromCPUInfo([]byte("processor : 0\nisa : rv64imafdc\n")); err != nil || !reflect.DeepEqual(c, CPU{}) {
		t.Errorf("non-x86 cpuinfo: %+v, %v", c, err)
	}
}

var ldconfigLine = regexp.MustCompile(`^\t(\S+) \(([^)]*)\) => (.*)$`)

// TestParseCacheMatchesLdconfig reads this machine's /etc/ld.so.cache and
// one with glibc-hwcaps entries written by ldconfig itself, and compares
// every entry with what `ldconfig -p` prints for the same file.
func TestParseCacheMatchesLdconfig(t *testing.T) {
	needTool(t, "ldconfig", "libc-bin")
	root := fixtureRoot(t)
	tree(t, root, map[string]string{"etc/ld.so.conf": "/opt/c\n"})
	buildLib(t, filepath.Join(root, "opt/c/libhw.so.1"), spec{soname: "libhw.so.1"})
	buildLib(t, filepath.Join(root, "opt/c/glibc-hwcaps/x86-64-v3/libhw.so.1"), spec{soname: "libhw.so.1"})
	buildLib(t, filepath.Join(root, "opt/c/glibc-hwcaps/x86-64-v2/libhw.so.1"), spec{soname: "libhw.so.1"})
	run(t, "ldconfig", "-r", root)
	for _, file := range []string{"/etc/ld.so.cache", filepath.Join(root, "etc/ld.so.cache")} {
		data, err := os.ReadFile(file)
		must(t, err)
		c, err := ParseCache(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out, err := exec.Command("ldconfig", "-p", "-C", file).Output()
		must(t, err)
		var want []string
		for _, line := range strings.Split(string(out), "\n") {
			m := ldconfigLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			hw := ""
			if i := strings.Index(m[2], `hwcap: "`); i >= 0 {
				hw = strings.TrimSuffix(m[2][i+len(`hwcap: "`):], `"`)
			}
			want = append(want, m[1]+" "+m[3]+" "+hw)
		}
		var got []string
		for _, e := range c.Entries {
			hw := ""
			if idx, _, ok := e.named(); ok {
				hw = c.HWCaps[idx]
			}
			got = append(got, e.Key+" "+e.Value+" "+hw)
		}
		sort.Strings(got)
		sort.Strings(want)
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d entries parsed, ldconfig -p lists %d\nparsed: %q\nldconfig: %q", file, len(got), len(want), got, want)
		}
		if strings.HasPrefix(file, root) {
			if len(c.HWCaps) < 2 {
				t.Errorf("%s: glibc-hwcaps names %q", file, c.HWCaps)
			}
			q := CacheQuery{Flags: []int32{0x303}, X86ISALevels: 0xf}
			for _, tc := range []struct {
				hwcaps []string
				want   string
			}{
				{nil, "/opt/c/libhw.so.1"},
				{[]string{HWCapX86_64V2}, "/opt/c/glibc-hwcaps/x86-64-v2/libhw.so.1"},
				{[]string{HWCapX86_64V3, HWCapX86_64V2}, "/opt/c/glibc-hwcaps/x86-64-v3/libhw.so.1"},
			} {
				q.HWCaps = tc.hwcaps
				if got, ok := c.Lookup("libhw.so.1", q); !ok || got != tc.want {
					t.Errorf("lookup with %v = %q, %v; want %q", tc.hwcaps, got, ok, tc.want)
				}
			}
			if _, ok := c.Lookup("libhw.so.1", CacheQuery{Flags: []int32{0x0a03}}); ok {
				t.Error("an aarch64 ld.so must not accept x86_64 entries")
			}
		}
	}
}

func TestParseCacheRejectsCorruption(t *testing.T) {
	data, err := os.ReadFile("/etc/ld.so.cache")
	must(t, err)
	for name, mut := range map[string]func([]byte) []byte{
		"truncated header": func(b []byte) []byte { return b[:30] },
		"huge count":       func(b []byte) []byte { b[20], b[21], b[22], b[23] = 0xff, 0xff, 0xff, 0x7f; return b },
		"bad string":       func(b []byte) []byte { b[48+4], b[48+5], b[48+6], b[48+7] = 0xff, 0xff, 0xff, 0xff; return b },
		"bad magic":        func(b []byte) []byte { b[0] = 'X'; return b },
		"big endian":       func(b []byte) []byte { b[28] = 3; return b },
	} {
		b := mut(append([]byte(nil), data...))
		if _, err := ParseCache(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestParseCacheFormats reads the three formats ldconfig writes (-c new,
// compat and old), made by glibc 2.36's ldconfig -r from a root with
// /opt/c/libhw.so.1 plus glibc-hwcaps/x86-64-v2 and -v3 variants,
// /opt/c/liba.so.2 and the i386 /lib/libold.so.1 (see testdata/README).
func TestParseCacheFormats(t *testing.T) {
	parse := func(name string) *Cache {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		must(t, err)
		c, err := ParseCache(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c
	}
	newc, compat, old := parse("ld.so.cache.new"), parse("ld.so.cache.compat"), parse("ld.so.cache.old")
	if !reflect.DeepEqual(newc.Entries, compat.Entries) {
		t.Errorf("compat format entries differ from new:\n%+v\n%+v", newc.Entries, compat.Entries)
	}
	if !reflect.DeepEqual(newc.HWCaps, []string{HWCapX86_64V2, HWCapX86_64V3}) {
		t.Errorf("new format hwcaps %q", newc.HWCaps)
	}
	if !strings.Contains(newc.Generator, "release version 2.36") {
		t.Errorf("generator %q", newc.Generator)
	}
	if len(old.Entries) != 5 || len(old.HWCaps) != 0 {
		t.Errorf("old format: %+v", old)
	}
	x86 := CacheQuery{Flags: []int32{0x303}, X86ISALevels: 0xf}
	i386 := CacheQuery{Flags: []int32{3, 1}}
	for _, tc := range []struct {
		c      *Cache
		name   string
		q      CacheQuery
		hwcaps []string
		want   string
	}{
		{newc, "libhw.so.1", x86, nil, "/opt/c/libhw.so.1"},
		{newc, "libhw.so.1", x86, []string{HWCapX86_64V4, HWCapX86_64V3, HWCapX86_64V2}, "/opt/c/glibc-hwcaps/x86-64-v3/libhw.so.1"},
		// glibc 2.36 misreads the hwcaps names of a compat cache (see
		// parseNew) and so never picks those entries
		{compat, "libhw.so.1", x86, []string{HWCapX86_64V4, HWCapX86_64V3, HWCapX86_64V2}, "/opt/c/libhw.so.1"},
		// the old format cannot say hwcaps: ld.so takes the first entry
		{old, "libhw.so.1", x86, []string{HWCapX86_64V3}, "/opt/c/glibc-hwcaps/x86-64-v2/libhw.so.1"},
		{newc, "liba.so.2", x86, nil, "/opt/c/liba.so.2"},
		{newc, "libold.so.1", x86, nil, ""},
		{newc, "libold.so.1", i386, nil, "/lib/libold.so.1"},
		{newc, "libmissing.so.1", x86, nil, ""},
	} {
		q := tc.q
		q.HWCaps = tc.hwcaps
		got, ok := tc.c.Lookup(tc.name, q)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("lookup %s with %v = %q, %v; want %q", tc.name, tc.hwcaps, got, ok, tc.want)
		}
	}
}
