package deps

import (
	"bytes"
	"errors"
	"os"
	"slices"
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
			flags := []int32{e.Flags, 3}
			accepted := func(f int32) bool { return f == flags[0] || f == flags[1] }
			// The first plain (not glibc-hwcaps) entry for the key with
			// accepted flags: what a query naming no hwcaps must give.
			firstPlain, havePlain := "", false
			for _, o := range c.Entries {
				if _, _, named := o.named(); o.Key == e.Key && accepted(o.Flags) && !named {
					firstPlain, havePlain = o.Value, true
					break
				}
			}
			for _, h := range [][]string{nil, {HWCapX86_64V2}, c.HWCaps} {
				got, ok := c.Lookup(e.Key, CacheQuery{Flags: flags, HWCaps: h, X86ISALevels: 0xf, Legacy: true})
				if ok && !slices.ContainsFunc(c.Entries, func(o CacheEntry) bool {
					return o.Key == e.Key && o.Value == got && accepted(o.Flags)
				}) {
					t.Fatalf("Lookup(%q, hwcaps %q) = %q, the value of no accepted entry for that key", e.Key, h, got)
				}
				if h == nil && (ok != havePlain || got != firstPlain) {
					t.Fatalf("Lookup(%q) without hwcaps = %q, %v; want the first plain entry %q, %v", e.Key, got, ok, firstPlain, havePlain)
				}
			}
			// A glibc-hwcaps entry for a subdirectory the query lists, at an
			// ISA level the CPU has, is always found (it or a better one).
			if idx, level, named := e.named(); named && int(idx) < len(c.HWCaps) && c.HWCaps[idx] != "" && level < 4 {
				if _, ok := c.Lookup(e.Key, CacheQuery{Flags: flags, HWCaps: c.HWCaps, X86ISALevels: 0xf}); !ok {
					t.Fatalf("Lookup(%q) misses the entry for glibc-hwcaps/%s", e.Key, c.HWCaps[idx])
				}
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

// FuzzParseHWCapsList checks the --hwcaps list parser: what it accepts
// are usable glibc-hwcaps subdirectory names, each once, taken from the
// input, and the list it gives, written back, parses to itself.
func FuzzParseHWCapsList(f *testing.F) {
	for _, s := range []string{"", "none", " none ", "x86-64-v3,x86-64-v2", "x86-64-v3, x86-64-v3 ,x86-64-v2", "a,,b", "..", "a/b", "a:b", ",", "none,x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseHWCapsList(s)
		if err != nil {
			if out != nil {
				t.Fatalf("ParseHWCapsList(%q) = %q with error %v", s, out, err)
			}
			return
		}
		if out == nil {
			t.Fatalf("ParseHWCapsList(%q) = nil without an error", s)
		}
		// "none" or "" (white space around it aside, as around every name)
		// is the empty list, and only they are.
		if ts := strings.TrimSpace(s); (ts == "" || ts == "none") != (len(out) == 0) {
			t.Fatalf("ParseHWCapsList(%q) = %q", s, out)
		}
		seen := map[string]bool{}
		for _, n := range out {
			if n == "" || n == "." || n == ".." || strings.ContainsAny(n, ",:/\x00") || strings.TrimSpace(n) != n {
				t.Fatalf("ParseHWCapsList(%q) gives the name %q", s, n)
			}
			if !strings.Contains(s, n) {
				t.Fatalf("ParseHWCapsList(%q) gives %q, not in its input", s, n)
			}
			if seen[n] {
				t.Fatalf("ParseHWCapsList(%q) gives %q twice", s, n)
			}
			seen[n] = true
		}
		again, err := ParseHWCapsList(strings.Join(out, ","))
		if err != nil || !slices.Equal(again, out) {
			t.Fatalf("ParseHWCapsList(%q) = %q, but its joined form parses to %q, %v", s, out, again, err)
		}
	})
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// FuzzWriteText builds a closure from text, one record a line: "P" path
// [TAB linkage] starts a program, "L" name [TAB path] is a library found
// ("L" name alone is the interpreter, name and path equal), "M" name
// [TAB reason] a missing one. Records of a program are numbered in the
// order given, found and missing interleaved, as Resolve numbers them.
// WriteText must print exactly one line per library in that order (one
// "statically linked" line for a program that is not dynamic), a "path:"
// header per program when there are several, the same bytes every time,
// and report a failing writer.
func FuzzWriteText(f *testing.F) {
	for _, s := range []string{
		"P/bin/a\nL/lib64/ld-linux-x86-64.so.2\nLlibc.so.6\t/lib/x86_64-linux-gnu/libc.so.6\nMlibfoo.so.1\nMlibbar.so\t/lib/libbar.so: invalid ELF header\nLlibm.so.6\t/lib/libm.so.6",
		"P/bin/a\nLlibc.so.6\t/lib/libc.so.6\nP/bin/static\tstatic\nLignored\t/x\nP/bin/b\nMlibz.so.1\tnot found",
		"Llibc.so.6\t/lib/libc.so.6",
		"P\nL\nM\n",
		"Mx\twrong ELF class: ELFCLASS32\nLx => y\tx => y\nP/p:\tstatic-pie",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		type prog struct {
			p     Program
			lines []string
		}
		var progs []*prog
		cur := func() *prog {
			if len(progs) == 0 {
				progs = append(progs, &prog{p: Program{Path: "/bin/p", Linkage: "dynamic"}})
			}
			return progs[len(progs)-1]
		}
		seq := 0
		for _, rec := range strings.Split(spec, "\n") {
			if rec == "" {
				continue
			}
			a, b, hasB := strings.Cut(rec[1:], "\t")
			switch rec[0] {
			case 'P':
				linkage := "dynamic"
				if hasB {
					linkage = b
				}
				progs = append(progs, &prog{p: Program{Path: a, Linkage: linkage}})
				seq = 0
			case 'L':
				p := cur()
				path := a
				if hasB {
					path = b
				}
				p.p.Libraries = append(p.p.Libraries, Library{Name: a, Path: path, seq: seq})
				if a == path {
					p.lines = append(p.lines, "\t"+path+"\n")
				} else {
					p.lines = append(p.lines, "\t"+a+" => "+path+"\n")
				}
				seq++
			case 'M':
				p := cur()
				reason := "not found"
				if hasB {
					reason = b
				}
				p.p.Missing = append(p.p.Missing, Missing{Name: a, Reason: reason, seq: seq})
				if reason == "not found" {
					p.lines = append(p.lines, "\t"+a+" => not found\n")
				} else {
					p.lines = append(p.lines, "\t"+a+" => error: "+reason+"\n")
				}
				seq++
			}
		}
		c := &Closure{Root: "/"}
		var want strings.Builder
		nlines := 0
		for _, p := range progs {
			c.Programs = append(c.Programs, p.p)
			if len(progs) > 1 {
				want.WriteString(p.p.Path + ":\n")
				nlines++
			}
			if p.p.Linkage != "dynamic" {
				want.WriteString("\tstatically linked (" + p.p.Linkage + ")\n")
				nlines++
				continue
			}
			for _, l := range p.lines {
				want.WriteString(l)
			}
			nlines += len(p.lines)
		}
		var b1, b2 bytes.Buffer
		if err := WriteText(&b1, c); err != nil {
			t.Fatal(err)
		}
		if err := WriteText(&b2, c); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
			t.Fatalf("two runs differ:\n%q\n%q", b1.Bytes(), b2.Bytes())
		}
		if b1.String() != want.String() {
			t.Fatalf("WriteText wrote\n%q\nwant\n%q", b1.String(), want.String())
		}
		if n := bytes.Count(b1.Bytes(), []byte("\n")); n != nlines || (n > 0 && !bytes.HasSuffix(b1.Bytes(), []byte("\n"))) {
			t.Fatalf("%d lines, want %d:\n%q", n, nlines, b1.String())
		}
		if err := WriteText(failWriter{}, c); (err == nil) != (b1.Len() == 0) {
			t.Fatalf("WriteText to a failing writer: %v after %d bytes", err, b1.Len())
		}
	})
}
