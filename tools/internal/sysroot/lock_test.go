package sysroot

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
)

// validPackageName is Debian policy §5.6.1, written out again: lower case
// letters, digits, '+', '-' and '.', at least two characters, starting
// with a letter or digit.
func validPackageName(s string) bool {
	if len(s) < 2 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// FuzzParseRequests feeds -p values (one a line) to parseRequests. It
// never panics; it accepts a list only when every value is "name" or
// "name=version" with a policy-valid name and a version deb parses, and
// then gives one request per value that writes back to that value; a
// refusal quotes a value that is not.
func FuzzParseRequests(f *testing.F) {
	for _, s := range []string{
		"libc6", "libc6=2.36-9+deb12u4\nlibstdc++6", "libc6=", "Libc6", "a", "lib c6", "x=1:2.3-4=5",
		"libc6=1:2.36", "=2.36", "libc6=\n", "gcc-12-base=12.2.0-14\nzlib1g=1:1.2.13.dfsg-1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		ss := strings.Split(list, "\n")
		reqs, err := parseRequests(ss)
		// Which values the contract accepts, decided without deb.ParseRequest.
		var bad []string
		for _, s := range ss {
			name, ver, hasVer := strings.Cut(s, "=")
			ok := validPackageName(name)
			if hasVer {
				_, verr := deb.ParseVersion(ver)
				ok = ok && verr == nil
			}
			if !ok {
				bad = append(bad, s)
			}
		}
		if err != nil {
			if len(bad) == 0 {
				t.Fatalf("parseRequests(%q) refused a valid list: %v", ss, err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("package %q", bad[0])) {
				t.Fatalf("parseRequests(%q): %v; want it to name %q", ss, err, bad[0])
			}
			return
		}
		if len(bad) > 0 {
			t.Fatalf("parseRequests(%q) accepted %q", ss, bad)
		}
		if len(reqs) != len(ss) {
			t.Fatalf("parseRequests(%q) = %d requests", ss, len(reqs))
		}
		for i, r := range reqs {
			if !validPackageName(r.Name) || r.String() != ss[i] {
				t.Fatalf("parseRequests: %q gave %+v", ss[i], r)
			}
		}
	})
}
