package deb

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a Debian package version, [epoch:]upstream[-revision], as
// Debian policy §5.6.12 defines it.
type Version struct {
	Epoch    uint32
	Upstream string
	Revision string
}

// ParseVersion splits s into epoch, upstream version and revision and
// checks the characters each part may hold.
func ParseVersion(s string) (Version, error) {
	var v Version
	if s == "" {
		return v, fmt.Errorf("version %q: empty", s)
	}
	if strings.TrimSpace(s) != s {
		return v, fmt.Errorf("version %q: leading or trailing white space", s)
	}
	rest := s
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		e := rest[:i]
		if e == "" {
			return v, fmt.Errorf("version %q: empty epoch", s)
		}
		for _, c := range []byte(e) {
			if c < '0' || c > '9' {
				return v, fmt.Errorf("version %q: epoch %q is not a number", s, e)
			}
		}
		n, err := strconv.ParseUint(e, 10, 32)
		if err != nil {
			return v, fmt.Errorf("version %q: epoch %q: %w", s, e, err)
		}
		v.Epoch = uint32(n)
		rest = rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		v.Revision = rest[i+1:]
		rest = rest[:i]
		if v.Revision == "" {
			return v, fmt.Errorf("version %q: empty revision after '-'", s)
		}
	}
	v.Upstream = rest
	if v.Upstream == "" {
		return v, fmt.Errorf("version %q: empty upstream version", s)
	}
	if c := v.Upstream[0]; c < '0' || c > '9' {
		return v, fmt.Errorf("version %q: upstream version must start with a digit", s)
	}
	for _, c := range []byte(v.Upstream) {
		if !isAlnum(c) && !strings.ContainsRune(".+~-:", rune(c)) {
			return v, fmt.Errorf("version %q: invalid character %q in upstream version", s, c)
		}
	}
	for _, c := range []byte(v.Revision) {
		if !isAlnum(c) && !strings.ContainsRune(".+~", rune(c)) {
			return v, fmt.Errorf("version %q: invalid character %q in revision", s, c)
		}
	}
	return v, nil
}

// String formats v the way Debian writes it, omitting a zero epoch (unless
// the upstream version holds a ':', which needs one) and an empty
// revision.
func (v Version) String() string {
	var b strings.Builder
	if v.Epoch != 0 || strings.Contains(v.Upstream, ":") {
		b.WriteString(strconv.FormatUint(uint64(v.Epoch), 10))
		b.WriteByte(':')
	}
	b.WriteString(v.Upstream)
	if v.Revision != "" {
		b.WriteByte('-')
		b.WriteString(v.Revision)
	}
	return b.String()
}

// CompareVersions orders a and b: negative if a is older, zero if they are
// equal, positive if a is newer. Epochs compare numerically; the upstream
// version and then the revision compare by the policy's algorithm.
func CompareVersions(a, b Version) int {
	if a.Epoch != b.Epoch {
		if a.Epoch < b.Epoch {
			return -1
		}
		return 1
	}
	if c := comparePart(a.Upstream, b.Upstream); c != 0 {
		return c
	}
	return comparePart(a.Revision, b.Revision)
}

// CompareVersionStrings parses and compares two version strings.
func CompareVersionStrings(a, b string) (int, error) {
	va, err := ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(b)
	if err != nil {
		return 0, err
	}
	return CompareVersions(va, vb), nil
}

// comparePart compares an upstream version or a revision: alternately the
// longest non-digit prefixes, character by character with letters before
// non-letters and '~' before everything (even the end), then the longest
// digit prefixes as numbers.
func comparePart(a, b string) int {
	for a != "" || b != "" {
		// Non-digit run.
		for (a != "" && !isDigit(a[0])) || (b != "" && !isDigit(b[0])) {
			ca, cb := charOrder(a), charOrder(b)
			if ca != cb {
				return sign(ca - cb)
			}
			a, b = a[1:], b[1:]
		}
		// Digit run, compared as numbers of any length.
		a = strings.TrimLeft(a, "0")
		b = strings.TrimLeft(b, "0")
		firstDiff := 0
		for a != "" && b != "" && isDigit(a[0]) && isDigit(b[0]) {
			if firstDiff == 0 {
				firstDiff = int(a[0]) - int(b[0])
			}
			a, b = a[1:], b[1:]
		}
		if a != "" && isDigit(a[0]) {
			return 1
		}
		if b != "" && isDigit(b[0]) {
			return -1
		}
		if firstDiff != 0 {
			return sign(firstDiff)
		}
	}
	return 0
}

// charOrder weighs the first character of s within a non-digit run. The
// end of the string (or a digit, which ends the run) weighs 0, '~' weighs
// less, letters weigh their code and everything else weighs more.
func charOrder(s string) int {
	if s == "" {
		return 0
	}
	c := s[0]
	switch {
	case isDigit(c):
		return 0
	case c == '~':
		return -1
	case isAlpha(c):
		return int(c)
	default:
		return int(c) + 256
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
