package deb

import (
	"errors"
	"strings"
	"testing"
)

func parseAll(t *testing.T, in string, opts ParseOptions) ([]Paragraph, error) {
	t.Helper()
	var ps []Paragraph
	err := ParseParagraphs(strings.NewReader(in), opts, func(p Paragraph) error {
		ps = append(ps, p)
		return nil
	})
	return ps, err
}

func TestParseParagraphs(t *testing.T) {
	in := "Package: libc6\nVersion: 2.36-9\nDescription: GNU C Library\n shared libraries\n .\n more\n\n\n  \nPackage: zlib1g\r\nDepends: libc6 (>= 2.14)\n"
	ps, err := parseAll(t, in, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("got %d paragraphs", len(ps))
	}
	if got := ps[0].Get("description"); got != "GNU C Library\nshared libraries\n.\nmore" {
		t.Errorf("Description = %q", got)
	}
	if ps[1].Get("Package") != "zlib1g" || ps[1].Get("DEPENDS") != "libc6 (>= 2.14)" || ps[1].Line != 10 {
		t.Errorf("second paragraph = %+v", ps[1])
	}
	if _, ok := ps[1].Lookup("Version"); ok {
		t.Error("Lookup found an absent field")
	}
	kept, err := parseAll(t, in, ParseOptions{Keep: []string{"package"}})
	if err != nil || len(kept[0].Fields) != 1 || kept[0].Get("Package") != "libc6" {
		t.Fatalf("Keep: %+v %v", kept, err)
	}
}

func TestParseParagraphsErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{" continuation first\n", "line 1: continuation line outside a field"},
		{"Package: a\nPackage: b\n", "line 2: duplicate field"},
		{"Package: a\npackage: b\n", "line 2: duplicate field"},
		{"no colon here\n", "line 1: \"no colon here\" is not a field"},
		{"-Bad: x\n", "may not start with"},
		{": x\n", "is not a field"},
		{"Bad Name: x\n", "blank or non-ASCII"},
		{"A: " + strings.Repeat("x", maxLineLen+10) + "\n", "longer than"},
	} {
		_, err := parseAll(t, c.in, ParseOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.30q: got %v, want %q", c.in, err, c.want)
		}
	}
	// Comments only where allowed.
	if _, err := parseAll(t, "# c\nA: b\n", ParseOptions{}); err == nil {
		t.Error("comment accepted in a Packages-style file")
	}
	if ps, err := parseAll(t, "# c\nA: b\n", ParseOptions{AllowComments: true}); err != nil || ps[0].Get("A") != "b" {
		t.Errorf("comment: %v %v", ps, err)
	}
	// An error from the callback stops the parse and comes back as is.
	stop := errors.New("stop")
	err := ParseParagraphs(strings.NewReader("A: 1\n\nA: 2\n"), ParseOptions{}, func(Paragraph) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("callback error = %v", err)
	}
}

func TestParseControl(t *testing.T) {
	p, err := ParseControl([]byte("Package: x\nVersion: 1\n"))
	if err != nil || p.Get("Version") != "1" {
		t.Fatal(p, err)
	}
	if _, err := ParseControl([]byte("A: 1\n\nA: 2\n")); err == nil {
		t.Error("two paragraphs accepted")
	}
	if _, err := ParseControl([]byte("\n\n")); err == nil {
		t.Error("empty control accepted")
	}
}

func FuzzParseParagraphs(f *testing.F) {
	f.Add("Package: libc6\nVersion: 2.36-9\nDescription: x\n y\n\nPackage: b\n")
	f.Add("A: b\r\n c\r\n\r\n")
	f.Add("#c\nA:\n")
	f.Fuzz(func(t *testing.T, in string) {
		var n int
		err := ParseParagraphs(strings.NewReader(in), ParseOptions{AllowComments: true}, func(p Paragraph) error {
			n++
			if len(p.Fields) == 0 {
				t.Fatal("empty paragraph delivered")
			}
			seen := map[string]bool{}
			for _, f := range p.Fields {
				k := strings.ToLower(f.Name)
				if seen[k] || f.Name == "" || strings.ContainsAny(f.Name, ": \t\n") {
					t.Fatalf("bad field name %q", f.Name)
				}
				seen[k] = true
			}
			return nil
		})
		if err == nil && n > len(in) {
			t.Fatal("more paragraphs than bytes")
		}
	})
}
