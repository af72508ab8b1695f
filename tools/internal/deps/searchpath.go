package deps

import "strings"

// dstValues are the values ld.so substitutes for dynamic string tokens.
// An empty value means "unknown": a path element that uses it is dropped,
// as ld.so drops it.
type dstValues struct {
	Origin   string // directory of the object whose string is expanded
	Platform string // $PLATFORM (AT_PLATFORM, e.g. x86_64)
	Lib      string // $LIB (e.g. lib/x86_64-linux-gnu on Debian)
}

// isDST reports whether s (the text right after a '$') starts with the
// token ref, either bare ($ORIGIN, not followed by an identifier
// character) or braced (${ORIGIN}), and returns the length consumed.
func isDST(s, ref string) int {
	curly := strings.HasPrefix(s, "{")
	if curly {
		s = s[1:]
	}
	if !strings.HasPrefix(s, ref) {
		return 0
	}
	next := byte(0)
	if len(s) > len(ref) {
		next = s[len(ref)]
	}
	if curly {
		if next != '}' {
			return 0
		}
		return len(ref) + 2
	}
	if next == '_' || next >= '0' && next <= '9' || next >= 'a' && next <= 'z' || next >= 'A' && next <= 'Z' {
		return 0
	}
	return len(ref)
}

// expandDST replaces $ORIGIN, $PLATFORM and $LIB (bare or braced) in s the
// way glibc's _dl_dst_substitute does for a process that is not setuid.
// A '$' that starts no known token is kept. ok is false when s uses a
// token whose value is unknown, in which case ld.so discards the whole
// element. usedOrigin reports whether $ORIGIN was substituted.
func expandDST(s string, v dstValues) (out string, usedOrigin, ok bool) {
	if !strings.Contains(s, "$") {
		return s, false, true
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		rest := s[i+1:]
		var repl string
		n := 0
		if n = isDST(rest, "ORIGIN"); n != 0 {
			repl = v.Origin
			usedOrigin = true
		} else if n = isDST(rest, "PLATFORM"); n != 0 {
			repl = v.Platform
		} else if n = isDST(rest, "LIB"); n != 0 {
			repl = v.Lib
		}
		switch {
		case n == 0:
			b.WriteByte('$')
			i++
		case repl == "":
			return "", usedOrigin, false
		default:
			b.WriteString(repl)
			i += 1 + n
		}
	}
	return b.String(), usedOrigin, true
}

// searchDir is one directory of a search list, spelled the way ld.so
// keeps it: with exactly one trailing slash, or "" for the current
// directory (an empty element of the list).
type searchDir struct {
	name    string
	outside bool // came from $ORIGIN of an object outside the root
}

// splitSearchPath decomposes a DT_RPATH, DT_RUNPATH or LD_LIBRARY_PATH
// value into directories like glibc's fillin_rpath: split at any of seps,
// expand tokens in each non-empty element, drop elements that expand to
// nothing or use an unknown token, strip trailing slashes (keeping "/"),
// add one slash, and drop repeats. An empty element stays as "" (the
// current directory). outsideOrigin marks elements that used $ORIGIN of
// an object lying outside the root.
func splitSearchPath(list, seps string, v dstValues, outsideOrigin bool) []searchDir {
	var out []searchDir
	seen := map[searchDir]bool{}
	start := 0
	for i := 0; i <= len(list); i++ {
		if i < len(list) && !strings.ContainsRune(seps, rune(list[i])) {
			continue
		}
		el := list[start:i]
		start = i + 1
		d := searchDir{}
		if el != "" {
			exp, usedOrigin, ok := expandDST(el, v)
			if !ok || exp == "" {
				continue
			}
			for len(exp) > 1 && exp[len(exp)-1] == '/' {
				exp = exp[:len(exp)-1]
			}
			if exp[len(exp)-1] != '/' {
				exp += "/"
			}
			d = searchDir{name: exp, outside: usedOrigin && outsideOrigin}
		}
		if seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}
