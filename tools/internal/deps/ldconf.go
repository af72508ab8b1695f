package deps

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"syscall"
)

// ConfLine is one meaningful line of an ld.so.conf file: a library
// directory or an include of more files. Blank lines, comments and the
// obsolete "hwcap" directive produce no ConfLine.
type ConfLine struct {
	Line    int      // 1-based line number
	Dir     string   // a library directory, trailing slashes and "=TYPE" removed; "" for an include
	Include []string // glob patterns of an include line
}

// ParseLDConf parses the text of an ld.so.conf file the way glibc's
// ldconfig (parse_conf) reads it:
//
//   - everything from '#' to the end of the line is a comment, and a NUL
//     byte ends the line (ldconfig handles lines as C strings);
//   - leading white space is ignored;
//   - "include" followed by a space or tab names one or more glob patterns
//     separated by spaces or tabs;
//   - "hwcap" (any case) followed by a space or tab is ignored, as ldconfig
//     has done since glibc 2.33;
//   - any other line is a directory: an "=TYPE" suffix (libc5, libc6, ...)
//     is dropped, then trailing white space and trailing slashes, and a
//     line left empty (for example "/") is ignored.
//
// It accepts any input; ldconfig has no syntax errors either.
func ParseLDConf(data []byte) []ConfLine {
	var out []ConfLine
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, line := range lines {
		if j := strings.IndexByte(line, 0); j >= 0 {
			line = line[:j]
		}
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimLeft(line, " \t\n\v\f\r")
		if line == "" {
			continue
		}
		if len(line) > 7 && line[:7] == "include" && isBlank(line[7]) {
			var pats []string
			for _, w := range strings.FieldsFunc(line[8:], func(r rune) bool { return r == ' ' || r == '\t' }) {
				pats = append(pats, w)
			}
			if len(pats) > 0 {
				out = append(out, ConfLine{Line: i + 1, Include: pats})
			}
			continue
		}
		if len(line) > 5 && strings.EqualFold(line[:5], "hwcap") && isBlank(line[5]) {
			continue
		}
		dir := line
		if j := strings.IndexByte(dir, '='); j >= 0 {
			dir = dir[:j]
		}
		dir = strings.TrimRight(dir, " \t\n\v\f\r")
		dir = strings.TrimRight(dir, "/")
		if dir == "" {
			continue
		}
		out = append(out, ConfLine{Line: i + 1, Dir: dir})
	}
	return out
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// ConfDir is a library directory named by ld.so.conf, in the order ldconfig
// would scan it.
type ConfDir struct {
	Dir  string // in-root path as written (made absolute)
	From string // in-root path of the file that names it
	Line int
}

// maxConfFile bounds one configuration file (ld.so.conf files are tiny).
const maxConfFile = 1 << 20

// maxIncludeDepth bounds include nesting; a deeper chain is a cycle.
const maxIncludeDepth = 32

// readLDConf reads the in-root configuration file name (normally
// /etc/ld.so.conf) and every file it includes, and returns the library
// directories in ldconfig's order. Everything is looked up inside the
// root: absolute include patterns and directory lines are in-root paths,
// and a relative include pattern is taken relative to the directory of
// the file that contains it, as ldconfig does. Include patterns are
// expanded like glob(3): sorted, dot files only matched by a leading dot.
// A missing top-level file gives no directories, as with ldconfig.
func readLDConf(r *rootFS, name string) ([]ConfDir, error) {
	var dirs []ConfDir
	var walk func(file string, depth int, chain []string) error
	walk = func(file string, depth int, chain []string) error {
		for _, prev := range chain[:len(chain)-1] {
			if prev == file {
				return fmt.Errorf("%s: include cycle (%s); remove the include that leads back", chain[0], strings.Join(chain, " -> "))
			}
		}
		if depth > maxIncludeDepth {
			return fmt.Errorf("%s: includes nest more than %d deep; flatten them", chain[0], maxIncludeDepth)
		}
		data, err := r.readFile(file, maxConfFile)
		if err != nil {
			if errnoOf(err) == syscall.ENOENT && depth == 0 {
				return nil
			}
			return fmt.Errorf("%s: %w", file, unwrapPathError(err))
		}
		for _, cl := range ParseLDConf(data) {
			if cl.Dir != "" {
				d := cl.Dir
				if !strings.HasPrefix(d, "/") {
					d = "/" + d
				}
				dirs = append(dirs, ConfDir{Dir: d, From: file, Line: cl.Line})
				continue
			}
			for _, pat := range cl.Include {
				if !strings.HasPrefix(pat, "/") {
					pat = path.Join(path.Dir(file), pat)
				}
				matches, err := globInRoot(r, pat)
				if err != nil {
					return fmt.Errorf("%s:%d: include %s: %w", file, cl.Line, pat, err)
				}
				for _, m := range matches {
					if err := walk(m, depth+1, append(chain[:len(chain):len(chain)], m)); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if err := walk(name, 0, []string{name}); err != nil {
		return nil, err
	}
	return dirs, nil
}

// globInRoot expands the absolute in-root glob pattern pat like glob(3)
// without flags: only existing paths are returned, sorted byte-wise,
// wildcards never match a leading '.', and a pattern without matches
// gives none. Symlinks are followed inside the root.
func globInRoot(r *rootFS, pat string) ([]string, error) {
	comps := splitComponents(pat)
	cur := []string{"/"}
	for i, c := range comps {
		last := i == len(comps)-1
		var next []string
		if !hasMeta(c) {
			for _, p := range cur {
				next = append(next, path.Join(p, unescapeGlob(c)))
			}
		} else {
			if _, err := path.Match(c, ""); err != nil {
				return nil, fmt.Errorf("bad pattern %q: %w", c, err)
			}
			for _, p := range cur {
				names, err := r.readDir(p)
				if err != nil {
					continue // like glob(3) without GLOB_ERR
				}
				for _, n := range names {
					if strings.HasPrefix(n, ".") && !strings.HasPrefix(c, ".") {
						continue
					}
					if ok, _ := path.Match(c, n); ok {
						next = append(next, path.Join(p, n))
					}
				}
			}
		}
		var kept []string
		for _, p := range next {
			e, err := r.resolve(p)
			if err != nil {
				continue
			}
			if !last && !e.mode.IsDir() {
				continue
			}
			kept = append(kept, p)
		}
		cur = kept
		if len(cur) == 0 {
			return nil, nil
		}
	}
	if len(comps) == 0 {
		return nil, nil
	}
	sort.Strings(cur)
	return cur, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

func unescapeGlob(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// confSearchDirs turns ld.so.conf directories plus ldconfig's built-in
// directories into the directory list ldconfig would have scanned:
// missing directories are dropped and a directory already listed under
// another name (same device and inode, e.g. /usr/lib/x86_64-linux-gnu
// when /lib is a symlink to usr/lib) is kept only at its first position,
// under its first name.
func confSearchDirs(r *rootFS, conf []ConfDir, builtin []string) []string {
	var out []string
	seen := map[fileID]bool{}
	add := func(d string) {
		e, err := r.resolve(d)
		if err != nil || !e.mode.IsDir() {
			return
		}
		if seen[e.id] {
			return
		}
		seen[e.id] = true
		out = append(out, d)
	}
	for _, c := range conf {
		add(c.Dir)
	}
	for _, d := range builtin {
		add(d)
	}
	return out
}
