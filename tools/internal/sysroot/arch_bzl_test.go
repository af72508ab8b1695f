package sysroot

import (
	"os"
	"regexp"
	"testing"
)

// TestArchTableMatchesRules keeps the Bazel rules' table of architectures
// (rules/private/arch.bzl, which gives SysrootInfo its loader path and
// library directories) equal to the one the helper builds sysroots with.
func TestArchTableMatchesRules(t *testing.T) {
	const bzl = "../../../rules/private/arch.bzl"
	data, err := os.ReadFile(bzl)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`"([a-z0-9]+)": struct\(triplet = "([^"]+)", loader = "([^"]+)", cpu = "[a-z0-9_]+"\)`)
	var got []Arch
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		got = append(got, Arch{Name: m[1], Triplet: m[2], Loader: m[3]})
	}
	want := Arches()
	if len(got) != len(want) {
		t.Fatalf("%s lists %d architectures, Arches() %d:\n%v\n%v", bzl, len(got), len(want), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s entry %d is %+v, Arches() has %+v", bzl, i, got[i], want[i])
		}
	}
}
