package deb

import (
	"strings"
	"testing"
)

func TestParseRelations(t *testing.T) {
	rels, err := ParseRelations("libc6 (>= 2.36), libgcc-s1 | libgcc1 (<< 1:4), python3:any, foo:native (= 1.0-1) [amd64 i386] <!nocheck>, bar [!amd64], baz (>2), qux (<1),")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range rels {
		got = append(got, a.String())
	}
	want := []string{
		"libc6 (>= 2.36)",
		"libgcc-s1 | libgcc1 (<< 1:4)",
		"python3:any",
		"foo:native (= 1.0-1) [amd64 i386]",
		"bar [!amd64]",
		"baz (>= 2)",
		"qux (<= 1)",
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if rels[4][0].AppliesTo("amd64") || !rels[4][0].AppliesTo("arm64") {
		t.Error("negated arch list")
	}
	if !rels[3][0].AppliesTo("i386") || rels[3][0].AppliesTo("arm64") {
		t.Error("arch list")
	}
}

func TestParseRelationsErrors(t *testing.T) {
	for _, in := range []string{
		"libc6 (>= )", "libc6 (~ 1)", "libc6 (>= 1", "A", "x", "libc6 [amd64", "libc6 [amd64 !i386]",
		"libc6 []", "libc6:", "libc6 trailing", "libc6 <nocheck", "lib_c",
	} {
		if r, err := ParseRelations(in); err == nil {
			t.Errorf("ParseRelations(%q) = %v, want error", in, r)
		}
	}
}

func TestOpSatisfied(t *testing.T) {
	for _, c := range []struct {
		op         Op
		lt, eq, gt bool
	}{
		{OpAny, true, true, true},
		{OpLess, true, false, false},
		{OpLessEq, true, true, false},
		{OpEq, false, true, false},
		{OpGreaterEq, false, true, true},
		{OpGreater, false, false, true},
	} {
		if c.op.Satisfied(-1) != c.lt || c.op.Satisfied(0) != c.eq || c.op.Satisfied(1) != c.gt {
			t.Errorf("%v", c.op)
		}
	}
}

func FuzzParseRelations(f *testing.F) {
	f.Add("libc6 (>= 2.36), libgcc-s1 | libgcc1, python3:any [amd64] <!nocheck>")
	f.Add("a (<< 1:2~3-4)")
	f.Fuzz(func(t *testing.T, in string) {
		rels, err := ParseRelations(in)
		if err != nil {
			return
		}
		// What we print must parse back to the same thing.
		var parts []string
		for _, a := range rels {
			parts = append(parts, a.String())
		}
		again, err := ParseRelations(strings.Join(parts, ", "))
		if err != nil {
			t.Fatalf("%q printed as %q which does not parse: %v", in, strings.Join(parts, ", "), err)
		}
		if len(again) != len(rels) {
			t.Fatalf("%q: round trip changed the group count", in)
		}
	})
}
