package deps

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseLDConf checks that any ld.so.conf text parses without panic
// and that every result keeps the parser's promises.
func FuzzParseLDConf(f *testing.F) {
	for _, s := range []string{
		"include /etc/ld.so.conf.d/*.conf\n",
		"# libc default configuration\n/usr/local/lib\n",
		"/usr/lib/x86_64-linux-gnu/libfakeroot\n",
		"include\ta.conf b.conf\n/x=libc6\nhwcap 0 nosegneg\n/\n",
		"  /opt/a///  # c\n\x00/\n\r\n",
	} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile("/etc/ld.so.conf"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := ParseLDConf(data)
		prev := 0
		for _, l := range lines {
			if l.Line <= prev {
				t.Fatalf("line numbers not increasing: %+v", lines)
			}
			prev = l.Line
			if (l.Dir == "") == (len(l.Include) == 0) {
				t.Fatalf("line %d is neither a directory nor an include: %+v", l.Line, l)
			}
			if l.Dir != "" {
				// Like ldconfig: no trailing slash, no leading white space;
				// white space before a trailing slash stays.
				if strings.HasSuffix(l.Dir, "/") || strings.ContainsAny(l.Dir, "#=\n\x00") || strings.TrimLeft(l.Dir, " \t\v\f\r") != l.Dir {
					t.Fatalf("directory %q not cleaned", l.Dir)
				}
			}
			for _, p := range l.Include {
				if p == "" || strings.ContainsAny(p, " \t#\n\x00") {
					t.Fatalf("include pattern %q", p)
				}
			}
		}
		if len(lines) > strings.Count(string(data), "\n")+1 {
			t.Fatalf("%d lines from %d newlines", len(lines), strings.Count(string(data), "\n"))
		}
	})
}

// FuzzParseCache checks that any bytes give a cache or an error, never a
// panic, and that lookups on a parsed cache are safe.
func FuzzParseCache(f *testing.F) {
	if data, err := os.ReadFile("/etc/ld.so.cache"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("glibc-ld.so.cache1.1"))
	f.Add([]byte("ld.so-1.7.0\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCache(data)
		if err != nil {
			return
		}
		if len(c.Entries) > len(data) {
			t.Fatalf("%d entries from %d bytes", len(c.Entries), len(data))
		}
		for _, e := range c.Entries {
			if strings.Contains(e.Key+e.Value, "\x00") {
				t.Fatalf("NUL inside %q / %q", e.Key, e.Value)
			}
			for _, h := range [][]string{nil, {HWCapX86_64V2}, c.HWCaps} {
				c.Lookup(e.Key, CacheQuery{Flags: []int32{e.Flags, 3}, HWCaps: h, X86ISALevels: 0xf, Legacy: true})
			}
			if idx, _, ok := e.named(); ok && int(idx) < len(c.HWCaps) {
				_ = c.HWCaps[idx]
			}
		}
	})
}

// FuzzSplitSearchPath checks the DT_RPATH decomposition: every directory
// ends in one slash (or is "" for the current directory), none repeats,
// and no known token survives expansion.
func FuzzSplitSearchPath(f *testing.F) {
	for _, s := range []string{"$ORIGIN/../lib", "/a::/b/", "${ORIGIN}:$LIB:$PLATFORM", "$ORIGINAL:${LIB", "/x/$PLATFORM;/y"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, list string, platformKnown bool) {
		v := dstValues{Origin: "/o", Lib: "lib/x86_64-linux-gnu"}
		if platformKnown {
			v.Platform = "x86_64"
		}
		seen := map[searchDir]bool{}
		for _, d := range splitSearchPath(list, ":;", v, false) {
			if seen[d] {
				t.Fatalf("%q repeated", d.name)
			}
			seen[d] = true
			if d.name == "" {
				continue
			}
			if !strings.HasSuffix(d.name, "/") || (len(d.name) > 1 && strings.HasSuffix(d.name, "//")) {
				t.Fatalf("directory %q from %q", d.name, list)
			}
		}
	})
}
