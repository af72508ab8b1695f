package deb

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Cases in the style of rules_distroless's version_test: a plain table of
// pairs and the expected order. Many come from Debian policy's examples and
// from dpkg's own test suite behaviour.
func TestCompareVersionsTable(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.1", -1},
		{"1.10", "1.9", 1},
		{"1.0-1", "1.0-2", -1},
		{"1.0-10", "1.0-9", 1},
		{"1:1.0", "2.0", 1},
		{"0:1.0", "1.0", 0},
		{"1.0~rc1", "1.0", -1},
		{"1.0~~", "1.0~", -1},
		{"1.0~~a", "1.0~~", 1},
		{"1.0~", "1.0", -1},
		{"1.0", "1.0a", -1},
		{"1.0a", "1.0+", -1},
		{"1.0+", "1.0.", -1},
		{"1.0.", "1.0", 1},
		{"2.36-9+deb12u14", "2.36-9+deb12u9", 1},
		{"2.36-9+deb12u14", "2.36-9", 1},
		{"2.41-12+deb13u5", "2.41", 1},
		{"2.43-7", "2.44-3", -1},
		{"1:1.3.dfsg+really1.3.1-1+deb13u1", "1:1.2.13.dfsg-1", 1},
		{"3.5.9-1~deb13u1", "3.5.9-1", -1},
		{"12.2.0-14+deb12u1", "12-20211113-2~", 1},
		{"7.2.13-1", "6.12.117-1", 1},
		{"1.0-1", "1.0-1~bpo1", 1},
		{"0.0001", "0.1", 0},
		{"1.002", "1.2", 0},
		{"1.2.3", "1.2.3.0", -1},
		{"1.0-0", "1.0", 0},
		{"1.0-a", "1.0-0", 1},
		{"10", "9", 1},
		{"99999999999999999999999", "99999999999999999999998", 1},
		{"1:0", "0:99", 1},
		{"4.2-1", "4.2-1build1", -1},
		{"2.0~beta1", "2.0~alpha1", 1},
	}
	for _, c := range cases {
		va, erra := ParseVersion(c.a)
		vb, errb := ParseVersion(c.b)
		if erra != nil || errb != nil {
			t.Errorf("parse %q / %q: %v / %v", c.a, c.b, erra, errb)
			continue
		}
		if got := CompareVersions(va, vb); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := CompareVersions(vb, va); got != -c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestParseVersionErrors(t *testing.T) {
	for _, s := range []string{"", " 1.0", "1.0 ", ":1.0", "a:1.0", "1:", "1.0-", "x1.0", "1.0_1", "1.0-1:2", "1.0-a_b", "99999999999:1"} {
		if v, err := ParseVersion(s); err == nil {
			t.Errorf("ParseVersion(%q) = %+v, want error", s, v)
		}
	}
	v, err := ParseVersion("2:1.2-3-4")
	if err != nil || v.Epoch != 2 || v.Upstream != "1.2-3" || v.Revision != "4" {
		t.Fatalf("ParseVersion(2:1.2-3-4) = %+v, %v", v, err)
	}
	if v.String() != "2:1.2-3-4" {
		t.Fatalf("String() = %q", v.String())
	}
}

// TestCompareVersionsAgainstDpkg uses dpkg --compare-versions as an oracle
// over versions of the packages installed on this machine.
func TestCompareVersionsAgainstDpkg(t *testing.T) {
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Fatal("dpkg not found: install the dpkg package (it is essential on Debian)")
	}
	f, err := os.Open("/var/lib/dpkg/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vers []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Version: "); ok && !seen[v] {
			seen[v] = true
			vers = append(vers, v)
		}
	}
	vers = append(vers, "1.0~rc1", "1.0", "1.0+b1", "1:0.1", "2.36-9+deb12u14", "2.36-9+deb12u9", "1.0-1~bpo1")
	if len(vers) < 50 {
		t.Fatalf("only %d versions in /var/lib/dpkg/status", len(vers))
	}
	// Compare neighbours and a fixed stride: about 300 dpkg runs.
	n := 0
	for i := 0; i < len(vers) && n < 300; i += max(1, len(vers)/150) {
		for _, j := range []int{(i + 1) % len(vers), (i * 7) % len(vers)} {
			a, b := vers[i], vers[j]
			got, err := CompareVersionStrings(a, b)
			if err != nil {
				t.Errorf("%s vs %s: %v", a, b, err)
				continue
			}
			op := map[int]string{-1: "lt", 0: "eq", 1: "gt"}[got]
			if err := exec.Command(dpkg, "--compare-versions", a, op, b).Run(); err != nil {
				t.Errorf("we say %s %s %s; dpkg disagrees", a, op, b)
			}
			n++
		}
	}
	t.Logf("%d comparisons agree with dpkg", n)
}

func FuzzVersion(f *testing.F) {
	for _, s := range []string{"1.0", "1:2.36-9+deb12u14", "1.0~rc1-1", "0.0001", "2.0~beta1+dfsg-1~bpo12+1", "1.2.3a.4-5"} {
		f.Add(s, "1.0-1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err := ParseVersion(a)
		if err != nil {
			return
		}
		if CompareVersions(va, va) != 0 {
			t.Fatalf("%q != itself", a)
		}
		again, err := ParseVersion(va.String())
		if err != nil || CompareVersions(va, again) != 0 {
			t.Fatalf("%q: String() %q does not parse back equal: %v", a, va.String(), err)
		}
		vb, err := ParseVersion(b)
		if err != nil {
			return
		}
		if CompareVersions(va, vb) != -CompareVersions(vb, va) {
			t.Fatalf("compare(%q,%q) not antisymmetric", a, b)
		}
	})
}

func BenchmarkCompareVersions(b *testing.B) {
	a, _ := ParseVersion("1:1.3.dfsg+really1.3.1-1+deb13u1")
	c, _ := ParseVersion("1:1.3.dfsg+really1.3.1-1+deb13u2~rc1")
	for b.Loop() {
		CompareVersions(a, c)
	}
}
